/* --persist (policy/persist.c): the guest's statement edited in place or
 * one added before the block's '}', comments and layout kept, the result
 * checked before anything is written, the file replaced only on commit.
 * Host: the asym fixture (RUNTIME_FIXTURE; CPUs 0-7, node 1 = CPUs 4-5,
 * node 2 CPU-only, node 3 memory-only). */
#include "cgplace_policy.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], path[300];
static cgp_ctx *ctx;
static cgp_topology *topo;

static void setup(void)
{
    const char *fx = getenv("RUNTIME_FIXTURE");
    cr_assert(fx, "RUNTIME_FIXTURE: the asym fixture");
    cr_assert_eq(cgp_ctx_new(fx, NULL, &ctx), 0);
    cr_assert_eq(cgp_topology_read(ctx, &topo), 0);
    snprintf(dir, sizeof dir, "%s/cgp-persist-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/policy.conf", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    cgp_topology_free(topo);
    cgp_ctx_free(ctx);
}

TestSuite(persist, .init = setup, .fini = teardown);

static void put(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *p)
{
    FILE *f = fopen(p, "r");
    cr_assert(f, "%s", p);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

static size_t entries(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    closedir(d);
    return n;
}

/* Prepare and commit change (what, vcpu, iothread, set); the file after. */
static char *persist(const char *guest, struct cgp_runtime_change chg, const char *set, int want)
{
    cgp_bitmap *b = NULL;
    cr_assert_eq(cgp_bitmap_parse(set, 0, &b, NULL), 0);
    chg.set = b;
    cgp_diags *d = cgp_diags_new();
    cgp_persist *ps = NULL;
    size_t before = entries();
    int r = cgp_persist_prepare(path, guest, &chg, topo, d, &ps);
    for (size_t i = 0; i < cgp_diags_count(d); i++)
        fprintf(stderr, "  diag: %s\n", cgp_diags_get(d, i)->msg);
    cr_assert_eq(r, want, "prepare: %d, want %d", r, want);
    if (r == 0) {
        cr_assert_eq(entries(), before + 1, "the temporary file is there");
        cr_assert_eq(cgp_persist_commit(ps), 0);
    }
    cgp_persist_free(ps);
    cr_assert_eq(entries(), before, "no temporary file left");
    cgp_diags_free(d);
    cgp_bitmap_free(b);
    return get(path);
}

static const char *POL =
    "# the walkthrough\n"
    "host {\n    reserve cpus 0;\n}\n\n"
    "guest rhel5xen {\n"
    "    vcpus 4;\n"
    "    cpus 4-7;             # the seed's cpuset\n"
    "    memory 512M nodes 1;\n"
    "    vcpupin 0 4;          # virsh vcpupin rhel5xen 0 4\n"
    "    vcpupin 1 5;\n"
    "}\n";

Test(persist, a_pin_edited_in_place_comments_kept)
{
    put(path, POL);
    char *t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 0 }, "6-7", 0);
    const char *at = strstr(POL, "vcpupin 0 4;");
    char want[1024];
    snprintf(want, sizeof want, "%.*svcpupin 0 6-7;%s", (int)(at - POL), POL, at + strlen("vcpupin 0 4;"));
    cr_assert_str_eq(t, want);
    free(t);
}

Test(persist, a_new_pin_added_before_the_closing_brace)
{
    put(path, POL);
    char *t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 3 }, "7", 0);
    cr_assert(strstr(t, "    vcpupin 1 5;\n    vcpupin 3 7;\n}\n"), "%s", t);
    free(t);
    put(path, "guest g { vcpus 2; cpus 4-7; memory 64M; }\n");
    t = persist("g", (struct cgp_runtime_change){ .what = CGP_CHANGE_IOTHREAD, .iothread = "io1" }, "5", 0);
    cr_assert_str_eq(t, "guest g { vcpus 2; cpus 4-7; memory 64M; iothreadpin io1 5; }\n");
    free(t);
    t = persist("g", (struct cgp_runtime_change){ .what = CGP_CHANGE_EMULATOR }, "4-5", 0);
    cr_assert_str_eq(t, "guest g { vcpus 2; cpus 4-7; memory 64M; iothreadpin io1 5; emulatorpin 4-5; }\n");
    free(t);
    t = persist("g", (struct cgp_runtime_change){ .what = CGP_CHANGE_EMULATOR }, "6", 0);
    cr_assert_str_eq(t, "guest g { vcpus 2; cpus 4-7; memory 64M; iothreadpin io1 5; emulatorpin 6; }\n");
    free(t);
}

Test(persist, memory_nodes_and_mode)
{
    put(path, POL);
    char *t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_MEMS }, "3", 0);
    cr_assert(strstr(t, "    memory 512M nodes 3;\n"), "%s", t);
    free(t);
    t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_MEMS, .set_mode = true,
                                                         .mode = CGP_MODE_RESTRICTIVE }, "1,3", 0);
    cr_assert(strstr(t, "    memory 512M nodes 1,3 mode restrictive;\n"), "%s", t);
    free(t);
    put(path, "guest g { vcpus 1; cpus 4; memory 64M mode strict; }\n");
    t = persist("g", (struct cgp_runtime_change){ .what = CGP_CHANGE_MEMS }, "3", 0);
    cr_assert_str_eq(t, "guest g { vcpus 1; cpus 4; memory 64M nodes 3 mode strict; }\n");
    free(t);
}

Test(persist, an_invalid_result_writes_nothing)
{
    put(path, POL);
    /* a pin outside the guest's cpus, a node without memory, a reserved CPU */
    char *t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 0 }, "1", -EINVAL);
    cr_assert_str_eq(t, POL);
    free(t);
    t = persist("rhel5xen", (struct cgp_runtime_change){ .what = CGP_CHANGE_MEMS }, "2", -EINVAL);
    cr_assert_str_eq(t, POL);
    free(t);
    t = persist("nosuch", (struct cgp_runtime_change){ .what = CGP_CHANGE_EMULATOR }, "4", -ENOENT);
    cr_assert_str_eq(t, POL);
    free(t);
}

Test(persist, the_block_in_an_included_file_is_rewritten_there)
{
    char inc[400];
    snprintf(inc, sizeof inc, "%s/guests.d", dir);
    cr_assert_eq(mkdir(inc, 0755), 0);
    snprintf(inc, sizeof inc, "%s/guests.d/web.conf", dir);
    put(path, "host { reserve cpus 0; }\ninclude \"guests.d/*.conf\";\n");
    put(inc, "guest web {\n\tvcpus 2;\n\tcpus 4-5;\n\tmemory 64M nodes 1;\n}\n");
    cgp_bitmap *b = NULL;
    cgp_bitmap_parse("5", 0, &b, NULL);
    struct cgp_runtime_change chg = { .what = CGP_CHANGE_VCPU, .vcpu = 1, .set = b };
    cgp_diags *d = cgp_diags_new();
    cgp_persist *ps = NULL;
    cr_assert_eq(cgp_persist_prepare(path, "web", &chg, topo, d, &ps), 0);
    cr_assert_str_eq(cgp_persist_file(ps), inc);
    cr_assert_eq(cgp_persist_commit(ps), 0);
    cgp_persist_free(ps);
    char *t = get(inc);
    cr_assert_str_eq(t, "guest web {\n\tvcpus 2;\n\tcpus 4-5;\n\tmemory 64M nodes 1;\n\tvcpupin 1 5;\n}\n");
    free(t);
    t = get(path);
    cr_assert_str_eq(t, "host { reserve cpus 0; }\ninclude \"guests.d/*.conf\";\n");
    free(t);
    cgp_diags_free(d);
    cgp_bitmap_free(b);
}
