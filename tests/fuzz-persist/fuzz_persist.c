/* libFuzzer target: --persist's text edit of a policy (policy/persist.c) on
 * the asym fixture host (FUZZ_POLICY_SYSROOT). The input is written as a
 * policy file; for every guest block it compiles to, and for a name that is
 * not there, each kind of change is prepared. Invariants: a prepared file
 * parses and compiles (it was checked) and holds the new list; a refusal
 * leaves no temporary file; the policy file itself never changes before a
 * commit; no leak, no overflow, no hang. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgplace_policy.h"
#include "../fuzz/fuzz_host.h"

static cgp_topology *topo;
static char dir[64], path[96];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    topo = fuzz_host();
    snprintf(dir, sizeof dir, "/tmp/cgp-fuzz-persist-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/p.conf", dir);
    atexit(cleanup);
    return 0;
}

static char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    *n = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (b)
        b[*n] = '\0';
    return b;
}

static bool tmp_left(void)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/.p.conf.cgplace-%d", dir, (int)getpid());
    return access(tmp, F_OK) == 0;
}

static void one(const char *name, const unsigned char *data, size_t size, enum cgp_change_kind what)
{
    cgp_bitmap *set = NULL;
    if (cgp_bitmap_parse(what == CGP_CHANGE_MEMS ? "0" : "1-2", 0, &set, NULL) < 0)
        return;
    struct cgp_runtime_change chg = { .what = what, .vcpu = 0, .iothread = "io1", .set = set,
                                      .set_mode = what == CGP_CHANGE_MEMS, .mode = CGP_MODE_STRICT };
    cgp_diags *d = cgp_diags_new();
    cgp_persist *ps = NULL;
    int r = d ? cgp_persist_prepare(path, name, &chg, topo, d, &ps) : -ENOMEM;
    size_t n = 0;
    char *now = slurp(path, &n);
    if (now && (n != size || memcmp(now, data, size)))
        abort();   /* the policy changed before a commit */
    free(now);
    if (r == 0) {
        char tmp[160];
        snprintf(tmp, sizeof tmp, "%s/.p.conf.cgplace-%d", dir, (int)getpid());
        char *t = slurp(tmp, &n);
        cgp_policy *p = NULL;
        cgp_placement *pl = NULL;
        cgp_diags *d2 = cgp_diags_new();
        if (!t || !d2 || cgp_policy_parse_buffer(path, t, n, d2, &p) < 0 || cgp_policy_compile(p, topo, d2, &pl) < 0)
            abort();   /* prepared, yet invalid */
        if (!strstr(t, what == CGP_CHANGE_MEMS ? "nodes 0" : "1-2"))
            abort();
        cgp_placement_free(pl);
        cgp_policy_free(p);
        cgp_diags_free(d2);
        free(t);
    }
    cgp_persist_free(ps);
    if (tmp_left())
        abort();   /* a temporary file left behind */
    cgp_diags_free(d);
    cgp_bitmap_free(set);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!topo)
        abort();   /* FUZZ_POLICY_SYSROOT must name the fixture host */
    if (memchr(data, 0, size))
        return 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cgp_placement *pl = NULL;
    if (d && cgp_policy_parse_buffer(path, (const char *)data, size, d, &p) == 0 &&
        cgp_policy_compile(p, topo, d, &pl) == 0) {
        for (size_t i = 0; i < cgp_placement_n_guests(pl) && i < 4; i++)
            for (int w = CGP_CHANGE_VCPU; w <= CGP_CHANGE_MEMS; w++)
                one(cgp_placement_guest(pl, i)->name, data, size, (enum cgp_change_kind)w);
    }
    one("nosuch", data, size, CGP_CHANGE_EMULATOR);
    cgp_placement_free(pl);
    cgp_policy_free(p);
    cgp_diags_free(d);
    return 0;
}
