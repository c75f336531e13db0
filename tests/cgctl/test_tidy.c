/* The removal of stale groups (cgctl/tidy.c) on the fake cgroup tree: a
 * guest that needs fewer groups than before loses the empty ones, after
 * every move and read-back; a stopped guest's group goes when the kernel
 * says it is empty; a group something still runs in stays, with a warning
 * and the run's success; plan shows the removals, verify counts none as
 * drift, and a second apply writes nothing. */
#include "fakecg.h"
#include "cgctl-int.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *POL_FULL =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; vcpupin 3 3;"
    " emulatorpin 0-1; iothreadpin io1 2-3; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 1; vcpupin 0 4; vcpupin 1 5; vcpupin 2 6; vcpupin 3 7;"
    " emulatorpin 4-5; iothreadpin io1 6-7; }\n";
/* web: no I/O thread pin any more, so no iothread-io1 group */
static const char *POL_NO_IO =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; vcpupin 3 3;"
    " emulatorpin 0-1; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 1; vcpupin 0 4; vcpupin 1 5; vcpupin 2 6; vcpupin 3 7;"
    " emulatorpin 4-5; iothreadpin io1 6-7; }\n";
/* web with 2 vCPUs */
static const char *POL_TWO =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 2; cpus 0-1; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; emulatorpin 0-1;"
    " iothreadpin io1 0-1; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 1; vcpupin 0 4; vcpupin 1 5; vcpupin 2 6; vcpupin 3 7;"
    " emulatorpin 4-5; iothreadpin io1 6-7; }\n";

static struct cgp_guest_thread TH_WEB[FAKE_QEMU_THREADS], TH_DB[FAKE_QEMU_THREADS];
static struct cgp_guest G_WEB, G_DB;
static const struct cgp_guest *BOTH[2] = { &G_WEB, &G_DB };
static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G_WEB, TH_WEB, 1000, "web");
    fake_qemu(&F, &G_DB, TH_DB, 2000, "db");
}

static cgp_placement *PL[16];
static size_t N_PL;

static void teardown(void)
{
    while (N_PL)
        cgp_placement_free(PL[--N_PL]);
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

TestSuite(tidy, .init = setup, .fini = teardown);

static cgp_enforce *run(const char *policy, const struct cgp_guest *const *g, size_t n, unsigned flags)
{
    cgp_placement *pl = fake_compile(TOPO, policy);
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(CTX, pl, g, n, flags, &e);
    cr_assert(r == 0, "cgp_enforce_run: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    cr_assert_lt(N_PL, sizeof PL / sizeof *PL);
    PL[N_PL++] = pl;   /* the report borrows from the placement */
    return e;
}

static bool exists(const char *rel)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", F.root, rel);
    return access(p, F_OK) == 0;
}

/* The ops of kind RMDIR, as "path path ..." in order. */
static void rmdirs(const cgp_enforce *e, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++) {
        const struct cgp_op *o = cgp_enforce_op(e, i);
        if (o->kind == CGP_OP_RMDIR)
            snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? " " : "", o->path);
    }
}

static bool has_msg(const cgp_enforce *e, enum cgp_msg_level lv, const char *needle)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        if (cgp_enforce_msg(e, i)->level == lv && strstr(cgp_enforce_msg(e, i)->text, needle))
            return true;
    return false;
}

static int log_line(const char *pat)
{
    int i = 0;
    for (const char *s = F.log; *s; i++) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (memmem(s, len, pat, strlen(pat)))
            return i;
        s = nl ? nl + 1 : s + len;
    }
    return -1;
}

static int last_line(const char *pat)
{
    int i = 0, last = -1;
    for (const char *s = F.log; *s; i++) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (memmem(s, len, pat, strlen(pat)))
            last = i;
        s = nl ? nl + 1 : s + len;
    }
    return last;
}

Test(tidy, a_group_no_longer_wanted_is_removed_after_the_moves)
{
    cgp_enforce *e = run(POL_FULL, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    cr_assert(exists("cgplace/web/iothread-io1"));

    /* plan: the I/O thread moves to the emulator's group, then its group goes */
    char got[512];
    e = run(POL_NO_IO, BOTH, 2, CGP_ENFORCE_DRY_RUN);
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/web/iothread-io1");
    size_t n_plan = cgp_enforce_n_ops(e);
    cgp_enforce_free(e);
    cr_assert(exists("cgplace/web/iothread-io1"), "a dry run removes nothing");

    F.log[0] = '\0';
    e = run(POL_NO_IO, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/web/iothread-io1");
    cr_assert_eq(cgp_enforce_n_ops(e), n_plan, "apply did what plan showed");
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cgp_enforce_free(e);
    cr_assert(!exists("cgplace/web/iothread-io1"));
    cr_assert_str_eq(fake_task_cg(&F, 1006), "cgplace/web/emulator");
    cr_assert_gt(log_line("rmdir cgplace/web/iothread-io1"), last_line("cgroup.threads"),
                 "removed after the last move:\n%s", F.log);
    cr_assert(exists("cgplace/db/iothread-io1"), "the other guest's group stays");

    /* nothing left to do */
    e = run(POL_NO_IO, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cgp_enforce_free(e);
}

Test(tidy, a_guest_restarted_with_fewer_vcpus_loses_their_groups)
{
    cgp_enforce *e = run(POL_FULL, BOTH, 2, 0);
    cgp_enforce_free(e);
    /* web restarts with 2 vCPUs (a new process in user.slice) under a policy that says so */
    fake_remove_process(&F, 1000);
    int tids[] = { 1000, 1001, 1002, 1003, 1006 };
    fake_add_process(&F, 1000, tids, 5, "user.slice");
    struct cgp_guest_thread th[5] = { TH_WEB[0], TH_WEB[1], TH_WEB[2], TH_WEB[3], TH_WEB[6] };
    struct cgp_guest web2 = G_WEB;
    web2.threads = th;
    web2.n_threads = 5;
    const struct cgp_guest *g[2] = { &web2, &G_DB };
    F.log[0] = '\0';
    e = run(POL_TWO, g, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/web/vcpu2 cgplace/web/vcpu3");
    cgp_enforce_free(e);
    cr_assert(!exists("cgplace/web/vcpu2") && !exists("cgplace/web/vcpu3") && exists("cgplace/web/vcpu1"));
    cr_assert_str_eq(fake_task_cg(&F, 1003), "cgplace/web/vcpu1");
    fake_expect_allowed(&F, 1000, 1003, "1", "0");
    cr_assert(exists("cgplace/db/vcpu3"), "the other guest keeps its groups");
    cr_assert_gt(log_line("rmdir cgplace/web/vcpu2"), last_line("cgroup.threads"), "after the last move:\n%s", F.log);
    e = run(POL_TWO, g, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cgp_enforce_free(e);
}

Test(tidy, verify_counts_a_stale_group_as_no_drift)
{
    cgp_enforce *e = run(POL_FULL, BOTH, 2, 0);
    cgp_enforce_free(e);
    fake_mkcg(&F, "cgplace/web/vcpu7");   /* left by a policy with 8 vCPUs */
    cgp_placement *pl = fake_compile(TOPO, POL_FULL);
    cgp_verify *v = NULL;
    cr_assert_eq(cgp_verify_run(CTX, pl, BOTH, 2, &v), 0);
    cr_assert(!cgp_verify_drift(v));
    cgp_verify_free(v);
    cgp_placement_free(pl);
    e = run(POL_FULL, BOTH, 2, CGP_ENFORCE_DRY_RUN);
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/web/vcpu7");
    cgp_enforce_free(e);
}

/* Both guests placed, then db's QEMU gone; its group's cgroup.events says
 * populated (the fake does not keep that file): the path of that file. */
static void db_stopped(const char *populated, char *events, size_t size)
{
    cgp_enforce *e = run(POL_FULL, BOTH, 2, 0);
    cgp_enforce_free(e);
    fake_remove_process(&F, 2000);
    snprintf(events, size, "%s/cgplace/db/cgroup.events", F.root);
    fake_wfile(events, populated);
}

Test(tidy, a_stopped_guests_group_goes_when_empty)
{
    const struct cgp_guest *web[1] = { &G_WEB };
    char p[600];
    /* the kernel still counts a task in it: nothing removed */
    db_stopped("populated 1\nfrozen 0\n", p, sizeof p);
    cgp_enforce *e = run(POL_FULL, web, 1, 0);
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "");
    cgp_enforce_free(e);
    cr_assert(exists("cgplace/db/vcpu0"));

    fake_wfile(p, "populated 0\nfrozen 0\n");
    e = run(POL_FULL, web, 1, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_NOT_RUNNING);
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/db/emulator cgplace/db/iothread-io1 cgplace/db/vcpu0 cgplace/db/vcpu1 "
                          "cgplace/db/vcpu2 cgplace/db/vcpu3 cgplace/db",
                     "children first, then the guest's group: %s", got);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 7);
    cgp_enforce_free(e);
    cr_assert(!exists("cgplace/db") && exists("cgplace/web/vcpu0"));
}

Test(tidy, a_group_something_runs_in_stays_with_a_warning)
{
    cgp_enforce *e = run(POL_FULL, BOTH, 2, 0);
    cgp_enforce_free(e);
    /* a thread the plan does not know of sits in web's I/O thread group: the
     * removal is refused by the kernel (EBUSY); the run stands */
    int stranger = 3000;
    fake_add_process(&F, stranger, &stranger, 1, "cgplace/web/iothread-io1");
    e = run(POL_NO_IO, BOTH, 2, 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(s->n_undone, 0);
    cr_assert(has_msg(e, CGP_MSG_WARNING, "/cgplace/web/iothread-io1 is no longer used: something runs in it"));
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "", "a removal that failed is not reported as made");
    cgp_enforce_free(e);
    cr_assert(exists("cgplace/web/iothread-io1"));
    cr_assert_str_eq(fake_task_cg(&F, 1006), "cgplace/web/emulator", "the placement itself holds");

    /* once the kernel lists it in cgroup.threads, plan no longer offers the removal */
    char p[600];
    snprintf(p, sizeof p, "%s/cgplace/web/iothread-io1/cgroup.threads", F.root);
    fake_wfile(p, "3000\n");
    e = run(POL_NO_IO, BOTH, 2, CGP_ENFORCE_DRY_RUN);
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "");
    cgp_enforce_free(e);
}

Test(tidy, a_failed_removal_leaves_the_groups_above_and_fails_nothing)
{
    char p[600];
    db_stopped("populated 0\n", p, sizeof p);
    const struct cgp_guest *web[1] = { &G_WEB };
    /* the third removal (cgplace/db/vcpu0) fails: db's group stays, the others go */
    F.fail_at = F.n_forward + 3;
    cgp_enforce *e = run(POL_FULL, web, 1, 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    cr_assert(has_msg(e, CGP_MSG_WARNING, "/cgplace/db/vcpu0 is no longer used"));
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/db/emulator cgplace/db/iothread-io1 cgplace/db/vcpu1 cgplace/db/vcpu2 "
                          "cgplace/db/vcpu3", "got %s", got);
    cgp_enforce_free(e);
    cr_assert(exists("cgplace/db/vcpu0") && exists("cgplace/db") && !exists("cgplace/db/vcpu1"));
}

Test(tidy, a_renamed_guest_leaves_no_group_behind)
{
    static const char *POL_OLD =
        "host { parent \"cgplace\"; }\n"
        "guest old { match name web; vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1;"
        " vcpupin 2 2; vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n";
    static const char *POL_NEW =
        "host { parent \"cgplace\"; }\n"
        "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1;"
        " vcpupin 2 2; vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n";
    const struct cgp_guest *web[1] = { &G_WEB };
    cgp_enforce *e = run(POL_OLD, web, 1, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    cr_assert_str_eq(fake_task_cg(&F, 1002), "cgplace/old/vcpu0");
    fake_mkcg(&F, "cgplace/admin");   /* named for no guest, nobody's process left it: stays */
    e = run(POL_NEW, web, 1, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    char got[512];
    rmdirs(e, got, sizeof got);
    cr_assert_str_eq(got, "cgplace/old/emulator cgplace/old/iothread-io1 cgplace/old/vcpu0 cgplace/old/vcpu1 "
                          "cgplace/old/vcpu2 cgplace/old/vcpu3 cgplace/old", "got %s", got);
    cgp_enforce_free(e);
    cr_assert_str_eq(fake_task_cg(&F, 1002), "cgplace/web/vcpu0");
    cr_assert(!exists("cgplace/old") && exists("cgplace/admin"));

    /* the old name back, while "web" is still a guest of the policy: its group is that guest's, left */
    static const char *POL_BOTH =
        "host { parent \"cgplace\"; }\n"
        "guest old { match name web; vcpus 4; cpus 0-3; memory 1G nodes 0; }\n"
        "guest web { match name nosuch; vcpus 4; cpus 0-3; memory 1G nodes 0; }\n";
    e = run(POL_BOTH, web, 1, CGP_ENFORCE_DRY_RUN);
    rmdirs(e, got, sizeof got);
    cr_assert(!strstr(got, "cgplace/web"), "got %s", got);
    cgp_enforce_free(e);
}
