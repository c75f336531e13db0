/* Unit tests of the enforcement engine on a fake cgroup tree (fakecg.c):
 * diffing, write ordering, idempotence, rollback under fault injection,
 * vanishing guests, read-back failures, verify. The expected placements are
 * written out literally from the policies below (not taken from the engine). */
#include "fakecg.h"
#include "cgctl-int.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- policies (on the two-socket-smt fixture: 16 CPUs, nodes 0 and 1) ---- */
static const char *POL_A =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; vcpupin 3 3;"
    " emulatorpin 0-1; iothreadpin io1 2-3; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 1; vcpupin 0 4; vcpupin 1 5; vcpupin 2 6; vcpupin 3 7;"
    " emulatorpin 4-5; iothreadpin io1 6-7; }\n";
/* web moves to disjoint CPUs; db re-pins within its set and widens its nodes */
static const char *POL_B =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 8-11; memory 1G nodes 0; vcpupin 0 8; vcpupin 1 9; vcpupin 2 10; vcpupin 3 11;"
    " emulatorpin 8-9; iothreadpin io1 10-11; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 0-1; vcpupin 0 7; vcpupin 1 6; vcpupin 2 5; vcpupin 3 4;"
    " emulatorpin 4-7; iothreadpin io1 4-5; }\n";
static const char *POL_WHOLE =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; }\n";

/* expected thread placement: tid -> cgroup, cpus, mems */
struct want { int tid; const char *cg, *cpus, *mems; };
static const struct want WANT_A[] = {
    { 1000, "cgplace/web/emulator", "0-1", "0" }, { 1001, "cgplace/web/emulator", "0-1", "0" },
    { 1002, "cgplace/web/vcpu0", "0", "0" },      { 1003, "cgplace/web/vcpu1", "1", "0" },
    { 1004, "cgplace/web/vcpu2", "2", "0" },      { 1005, "cgplace/web/vcpu3", "3", "0" },
    { 1006, "cgplace/web/iothread-io1", "2-3", "0" },
    { 2000, "cgplace/db/emulator", "4-5", "1" },  { 2001, "cgplace/db/emulator", "4-5", "1" },
    { 2002, "cgplace/db/vcpu0", "4", "1" },       { 2003, "cgplace/db/vcpu1", "5", "1" },
    { 2004, "cgplace/db/vcpu2", "6", "1" },       { 2005, "cgplace/db/vcpu3", "7", "1" },
    { 2006, "cgplace/db/iothread-io1", "6-7", "1" },
};
static const struct want WANT_B[] = {
    { 1000, "cgplace/web/emulator", "8-9", "0" }, { 1001, "cgplace/web/emulator", "8-9", "0" },
    { 1002, "cgplace/web/vcpu0", "8", "0" },      { 1003, "cgplace/web/vcpu1", "9", "0" },
    { 1004, "cgplace/web/vcpu2", "10", "0" },     { 1005, "cgplace/web/vcpu3", "11", "0" },
    { 1006, "cgplace/web/iothread-io1", "10-11", "0" },
    { 2000, "cgplace/db/emulator", "4-7", "0-1" }, { 2001, "cgplace/db/emulator", "4-7", "0-1" },
    { 2002, "cgplace/db/vcpu0", "7", "0-1" },     { 2003, "cgplace/db/vcpu1", "6", "0-1" },
    { 2004, "cgplace/db/vcpu2", "5", "0-1" },     { 2005, "cgplace/db/vcpu3", "4", "0-1" },
    { 2006, "cgplace/db/iothread-io1", "4-5", "0-1" },
};
#define NW(a) (sizeof(a) / sizeof *(a))

/* ---- guests, built by hand (the discovery layer is tested elsewhere) ---- */
static struct cgp_guest_thread TH_WEB[FAKE_QEMU_THREADS], TH_DB[FAKE_QEMU_THREADS];
static struct cgp_guest G_WEB, G_DB;

static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G_WEB, TH_WEB, 1000, "web");
    fake_qemu(&F, &G_DB, TH_DB, 2000, "db");
    unsetenv("CGPLACE_FAULT_WRITE");
}

static void teardown(void)
{
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

static cgp_placement *compile(const char *text)
{
    return fake_compile(TOPO, text);
}

static cgp_enforce *run(const cgp_placement *pl, const struct cgp_guest *const *g, size_t n, unsigned flags)
{
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(CTX, pl, g, n, flags, &e);
    cr_assert(r == 0, "cgp_enforce_run: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return e;
}

static void dump_msgs(const cgp_enforce *e)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        fprintf(stderr, "  msg: %s\n", cgp_enforce_msg(e, i)->text);
}

static void assert_placed(const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *cg = fake_task_cg(&F, w[i].tid);
        cr_assert(cg && !strcmp(cg, w[i].cg), "thread %d in /%s, want /%s", w[i].tid, cg ? cg : "?", w[i].cg);
        char p[512];
        int pid = w[i].tid / 1000 * 1000;
        snprintf(p, sizeof p, "%s/proc/%d/task/%d/status", F.sys, pid, w[i].tid);
        FILE *fp = fopen(p, "r");
        cr_assert(fp);
        char line[256], want_c[128], want_m[128];
        snprintf(want_c, sizeof want_c, "Cpus_allowed_list:\t%s\n", w[i].cpus);
        snprintf(want_m, sizeof want_m, "Mems_allowed_list:\t%s\n", w[i].mems);
        bool okc = false, okm = false;
        while (fgets(line, sizeof line, fp)) {
            okc |= !strcmp(line, want_c);
            okm |= !strcmp(line, want_m);
        }
        fclose(fp);
        cr_assert(okc && okm, "thread %d: affinity is not cpus %s mems %s", w[i].tid, w[i].cpus, w[i].mems);
    }
}

static const struct cgp_guest *BOTH[2] = { &G_WEB, &G_DB };

TestSuite(cgctl, .init = setup, .fini = teardown);

/* index of the first line of F.log matching pattern (substring), from `from` */
static int log_find(const char *pat, int from)
{
    int i = 0;
    for (const char *s = F.log; *s; i++) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (i >= from && memmem(s, len, pat, strlen(pat)))
            return i;
        s = nl ? nl + 1 : s + len;
    }
    return -1;
}

static int log_count(const char *pat)
{
    int n = 0;
    for (int i = log_find(pat, 0); i >= 0; i = log_find(pat, i + 1))
        n++;
    return n;
}

Test(cgctl, new_tree_placed_in_order)
{
    cgp_placement *pl = compile(POL_A);
    F.record = true;
    fake_record(&F);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    dump_msgs(e);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    assert_placed(WANT_A, NW(WANT_A));
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_CHANGED);
    const char *why = fake_check_transients(&F);
    cr_assert(!why, "%s", why);
    /* writes counted by the fake = writes reported */
    cr_assert_eq(s->n_writes, F.n_forward);
    cr_assert_eq(s->n_writes, cgp_enforce_n_ops(e));
    /* minimum: root +cpuset, mkdir cgplace, +cpuset; per guest mkdir G, 6 children
     * (mkdir + threaded), +cpuset, 2 sets on G, 2 per child, procs, 7 threads */
    size_t per_guest = 1 + 6 * 2 + 1 + 2 + 6 * 2 + 1 + 7;
    cr_assert_eq(s->n_writes, 3 + 2 * per_guest, "writes %zu", s->n_writes);
    /* ordering: root cpuset before the parent exists; subtree_control of the
     * guest after its children are threaded; cpusets before memberships; procs once */
    cr_assert_lt(log_find("write /cgroup.subtree_control +cpuset", 0), log_find("mkdir cgplace", 0));
    cr_assert_lt(log_find("cgplace/web/iothread-io1/cgroup.type", 0), log_find("write cgplace/web/cgroup.subtree_control", 0));
    cr_assert_lt(log_find("cgplace/web/vcpu3/cpuset.mems", 0), log_find("cgplace/web/cgroup.procs", 0));
    cr_assert_lt(log_find("cgplace/web/cgroup.procs", 0), log_find("cgroup.threads 1002", 0));
    cr_assert_eq(log_count("cgroup.procs"), 2);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, second_apply_writes_nothing)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    char *before = fake_snapshot(&F);
    unsigned n0 = F.n_forward;
    e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cr_assert_eq(F.n_forward, n0, "a second apply wrote %u times", F.n_forward - n0);
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_UNCHANGED);
    char *after = fake_snapshot(&F);
    cr_assert_str_eq(after, before);
    cgp_enforce_free(e);
    /* plan is empty too */
    e = run(pl, BOTH, 2, CGP_ENFORCE_DRY_RUN);
    cr_assert_eq(cgp_enforce_n_ops(e), 0);
    cgp_enforce_free(e);
    free(before);
    free(after);
    cgp_placement_free(pl);
}

Test(cgctl, sets_compared_as_sets_not_strings)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cgp_enforce_free(e);
    /* the same sets spelled differently by someone else */
    fake_write(&F, "cgplace/web", "cpuset.cpus", "0,1,2-3\n");
    fake_write(&F, "cgplace/web/iothread-io1", "cpuset.cpus", "3,2\n");
    unsigned n0 = F.n_forward;
    e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cr_assert_eq(F.n_forward, n0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, plan_matches_apply)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *d = run(pl, BOTH, 2, CGP_ENFORCE_DRY_RUN);
    cr_assert_eq(F.n_forward, 0, "dry run wrote");
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_n_ops(d), cgp_enforce_n_ops(e));
    for (size_t i = 0; i < cgp_enforce_n_ops(d); i++) {
        const struct cgp_op *a = cgp_enforce_op(d, i), *b = cgp_enforce_op(e, i);
        cr_assert_eq(a->kind, b->kind);
        cr_assert_str_eq(a->path, b->path);
        cr_assert((!a->value && !b->value) || !strcmp(a->value, b->value));
    }
    cgp_enforce_free(d);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* ---- plan and apply share one plan: the ops a dry run lists are the ops
 * apply then makes, field by field ---- */
static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void assert_same_op(const struct cgp_op *a, const struct cgp_op *b, const char *what, size_t i)
{
    cr_assert_eq(a->kind, b->kind, "%s: op %zu kind", what, i);
    cr_assert(same_str(a->path, b->path), "%s: op %zu path %s / %s", what, i, a->path, b->path);
    cr_assert(same_str(a->file, b->file), "%s: op %zu file %s / %s", what, i, a->file, b->file);
    cr_assert(same_str(a->value, b->value), "%s: op %zu value %s / %s", what, i, a->value, b->value);
    cr_assert(same_str(a->guest, b->guest), "%s: op %zu guest", what, i);
    cr_assert(same_str(a->note, b->note), "%s: op %zu note", what, i);
}

/* Dry run, then apply, on the same tree: the same ops (old values too), and
 * the fake kernel saw exactly those writes. Returns the number of ops. */
static size_t plan_then_apply(const cgp_placement *pl, const struct cgp_guest *const *g, size_t n, const char *what)
{
    char *before = fake_snapshot(&F);
    unsigned n0 = F.n_forward;
    cgp_enforce *d = run(pl, g, n, CGP_ENFORCE_DRY_RUN);
    char *after = fake_snapshot(&F);
    cr_assert(F.n_forward == n0 && !strcmp(before, after), "%s: the dry run wrote", what);
    cgp_enforce *e = run(pl, g, n, 0);
    dump_msgs(e);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK, "%s", what);
    size_t nops = cgp_enforce_n_ops(d);
    cr_assert_eq(nops, cgp_enforce_n_ops(e), "%s: %zu planned, %zu made", what, nops, cgp_enforce_n_ops(e));
    cr_assert_eq(F.n_forward - n0, nops, "%s: the kernel saw %u writes", what, F.n_forward - n0);
    for (size_t i = 0; i < nops; i++) {
        const struct cgp_op *a = cgp_enforce_op(d, i), *b = cgp_enforce_op(e, i);
        assert_same_op(a, b, what, i);
        cr_assert(same_str(a->old_value, b->old_value), "%s: op %zu old %s / %s", what, i, a->old_value, b->old_value);
    }
    for (size_t i = 0; i < cgp_enforce_n_guests(d); i++)
        cr_assert_eq(cgp_enforce_guest(d, i)->n_ops, cgp_enforce_guest(e, i)->n_ops, "%s: guest %zu", what, i);
    cgp_enforce_free(d);
    cgp_enforce_free(e);
    free(before);
    free(after);
    return nops;
}

static const char *POL_EXEC =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0-1 mode interleave; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2;"
    " vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n"
    "guest db { vcpus 4; cpus 4-7; memory 1G nodes 1; }\n";

Test(cgctl, plan_equals_apply_field_by_field)
{
    cgp_placement *pa = compile(POL_A), *pb = compile(POL_B), *px = compile(POL_EXEC);
    const struct cgp_guest *web[1] = { &G_WEB };
    /* a fresh tree, one per-vCPU split guest */
    cr_assert_gt(plan_then_apply(pa, web, 1, "fresh tree"), 20);
    /* partly applied: web is placed, db is new */
    cr_assert_gt(plan_then_apply(pa, BOTH, 2, "partly applied"), 20);
    /* every guest already complies */
    cr_assert_eq(plan_then_apply(pa, BOTH, 2, "compliant"), 0);
    /* a changed policy: widen, narrow, re-pin */
    cr_assert_gt(plan_then_apply(pb, BOTH, 2, "changed policy"), 5);
    /* a tree someone half-made (and a moved thread); a mode only exec sets (notes) */
    fake_write(&F, "cgplace/db/vcpu2", "cpuset.cpus", "4-7\n");
    for (size_t i = 0; i < F.n_tasks; i++)
        if (F.t[i].tid == 1003)
            snprintf(F.t[i].cg, sizeof F.t[i].cg, "cgplace/web/vcpu0");
    fake_recompute(&F);
    cr_assert_gt(plan_then_apply(px, BOTH, 2, "exec-only mode"), 5);
    cgp_placement_free(pa);
    cgp_placement_free(pb);
    cgp_placement_free(px);
}

/* `plan` without a cgroup v2 hierarchy is the same engine on its empty
 * backend: the ops of cgp_plan_from_empty are apply's on a fresh tree, but
 * for the memberships (no process there) and the old values (nothing there). */
Test(cgctl, empty_plan_is_apply_on_a_fresh_tree)
{
    cgp_placement *pl = compile(POL_EXEC);
    cgp_plan *plan = NULL;
    cr_assert_eq(cgp_plan_from_empty(pl, &plan), 0);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    size_t j = 0;
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++) {
        const struct cgp_op *b = cgp_enforce_op(e, i);
        if (b->file && (!strcmp(b->file, "cgroup.procs") || !strcmp(b->file, "cgroup.threads")))
            continue;
        cr_assert_lt(j, cgp_plan_n_ops(plan), "apply made more ops than the empty plan");
        const struct cgp_op *a = cgp_plan_op(plan, j++);
        assert_same_op(a, b, "empty plan", i);
        cr_assert_null(a->old_value);
    }
    cr_assert_eq(j, cgp_plan_n_ops(plan));
    /* the desired tree: PARENT, then each guest and its children */
    cr_assert_eq(cgp_plan_n_cgroups(plan), 1 + 7 + 6);   /* db: no iothread in its block */
    cr_assert_str_eq(cgp_plan_cgroup(plan, 0)->path, "cgplace");
    cr_assert_str_eq(cgp_plan_cgroup(plan, 3)->path, "cgplace/web/vcpu0");
    cr_assert(cgp_plan_cgroup(plan, 3)->threaded);
    cgp_plan_free(plan);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, changed_tree_widen_then_narrow)
{
    cgp_placement *pa = compile(POL_A), *pb = compile(POL_B);
    cgp_enforce *e = run(pa, BOTH, 2, 0);
    cgp_enforce_free(e);
    F.log[0] = '\0';
    F.record = true;
    fake_record(&F);
    e = run(pb, BOTH, 2, 0);
    dump_msgs(e);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    assert_placed(WANT_B, NW(WANT_B));
    const char *why = fake_check_transients(&F);
    cr_assert(!why, "%s", why);
    /* already placed processes are never written to cgroup.procs again */
    cr_assert_eq(log_count("cgroup.procs"), 0);
    /* web: 0-3 -> 8-11: the union first, then the children, then the final set */
    int wide = log_find("write cgplace/web/cpuset.cpus 0-3,8-11", 0);
    int child = log_find("write cgplace/web/vcpu0/cpuset.cpus 8", 0);
    int narrow = log_find("write cgplace/web/cpuset.cpus 8-11", 0);
    cr_assert(wide >= 0 && child > wide && narrow > child, "order %d %d %d\n%s", wide, child, narrow, F.log);
    /* db mems 1 -> 0-1: the parent widened before the children, no narrowing step */
    int dbm = log_find("write cgplace/db/cpuset.mems 0-1", 0);
    int dbc = log_find("write cgplace/db/vcpu0/cpuset.mems 0-1", 0);
    cr_assert(dbm >= 0 && dbc > dbm);
    cr_assert_eq(log_count("write cgplace/db/cpuset.mems"), 1);
    /* db's CPUs did not change: no write to its cpuset.cpus */
    cr_assert_eq(log_count("write cgplace/db/cpuset.cpus"), 0);
    /* vCPU threads moved only where the policy changed (web's all stay in their child) */
    cr_assert_eq(log_count("cgroup.threads"), 0);
    cgp_enforce_free(e);
    cgp_placement_free(pa);
    cgp_placement_free(pb);
}

Test(cgctl, thread_in_wrong_child_is_moved_back)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cgp_enforce_free(e);
    /* someone moved vCPU 1 of web into vcpu0 */
    for (size_t i = 0; i < F.n_tasks; i++)
        if (F.t[i].tid == 1003)
            snprintf(F.t[i].cg, sizeof F.t[i].cg, "cgplace/web/vcpu0");
    fake_recompute(&F);
    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(cgp_verify_drift(v));
    bool seen = false;
    const struct cgp_verify_guest *vg = cgp_verify_guest(v, 0);
    for (size_t i = 0; i < vg->n_threads; i++)
        if (vg->threads[i].tid == 1003) {
            seen = vg->threads[i].drift;
            cr_assert_str_eq(vg->threads[i].cgroup_have, "cgplace/web/vcpu0");
        }
    cr_assert(seen);
    cr_assert(!cgp_verify_guest(v, 1)->drift);
    cgp_verify_free(v);
    unsigned n0 = F.n_forward;
    e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 1);
    cr_assert_eq(F.n_forward - n0, 1);
    cr_assert_str_eq(cgp_enforce_op(e, 0)->file, "cgroup.threads");
    cr_assert_str_eq(cgp_enforce_op(e, 0)->value, "1003");
    cgp_enforce_free(e);
    assert_placed(WANT_A, NW(WANT_A));
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(!cgp_verify_drift(v));
    cgp_verify_free(v);
    cgp_placement_free(pl);
}

Test(cgctl, verify_reports_changed_vcpu_set)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cgp_enforce_free(e);
    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(!cgp_verify_drift(v));
    const struct cgp_verify_guest *vg = cgp_verify_guest(v, 1);
    cr_assert_eq(vg->n_threads, 7);
    cr_assert_eq(vg->n_cgroups, 7);
    cgp_verify_free(v);
    fake_write(&F, "cgplace/db/vcpu2", "cpuset.cpus", "4-7\n");
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(cgp_verify_drift(v));
    cr_assert(cgp_verify_guest(v, 1)->drift);
    cr_assert(!cgp_verify_guest(v, 0)->drift);
    cgp_verify_free(v);
    e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 1);
    cgp_enforce_free(e);
    assert_placed(WANT_A, NW(WANT_A));
    cgp_placement_free(pl);
}

/* Every k of a realistic apply: the k-th write fails, the tree and the
 * memberships are exactly as before. */
static int count_fds(void);

/* Every k in make check; CGCTL_SWEEP_STEP=n (make check-fast) tries every
 * n-th write and the last one, so the developers' tier stays quick. */
static unsigned sweep_step(void)
{
    const char *s = getenv("CGCTL_SWEEP_STEP");
    unsigned long v = s && *s ? strtoul(s, NULL, 10) : 1;
    return v >= 1 && v < 1000 ? (unsigned)v : 1;
}

static void fault_sweep(bool changed)
{
    cgp_placement *pa = compile(POL_A), *pb = compile(POL_B);
    const cgp_placement *target = changed ? pb : pa;
    /* count the writes of the run */
    if (changed) {
        cgp_enforce *e = run(pa, BOTH, 2, 0);
        cgp_enforce_free(e);
    }
    char *base = fake_snapshot(&F);
    unsigned n0 = F.n_forward;
    cgp_enforce *e = run(target, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    unsigned total = F.n_forward - n0;
    cgp_enforce_free(e);
    cr_assert_gt(total, changed ? 20u : 60u, "only %u writes", total);
    unsigned step = sweep_step();
    for (unsigned k = 1; k <= total; k = (k < total && k + step > total) ? total : k + step) {
        teardown();
        setup();
        if (changed) {
            e = run(pa, BOTH, 2, 0);
            cgp_enforce_free(e);
        }
        char *before = fake_snapshot(&F);
        cr_assert_str_eq(before, base);
        F.fail_at = F.n_forward + k;
        int fds0 = count_fds();
        e = run(target, BOTH, 2, 0);
        const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
        cr_assert_eq(s->outcome, CGP_ENFORCE_FAILED, "k=%u: outcome %d", k, s->outcome);
        cr_assert_eq(s->error, -EIO);
        cr_assert(!s->rollback_incomplete, "k=%u: rollback incomplete", k);
        cr_assert_eq(s->n_writes, 0);
        cr_assert_eq(s->n_undone, k - 1, "k=%u: undone %zu", k, s->n_undone);
        char *after = fake_snapshot(&F);
        cr_assert_str_eq(after, before, "k=%u: tree not restored", k);
        free(before);
        free(after);
        cgp_enforce_free(e);
        cr_assert_eq(count_fds(), fds0, "k=%u: file descriptors leaked", k);
    }
    free(base);
    cgp_placement_free(pa);
    cgp_placement_free(pb);
}

Test(cgctl, fault_injection_new_tree) { fault_sweep(false); }
Test(cgctl, fault_injection_changed_tree) { fault_sweep(true); }

Test(cgctl, guest_exiting_mid_apply_fails_only_itself)
{
    cgp_placement *pl = compile(POL_A);
    char *before = fake_snapshot(&F);
    /* db's first write is after the 3 shared ones and web's 36; let db vanish after its 5th */
    F.vanish_pid = 2000;
    F.vanish_after = 3 + 36 + 5;
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    dump_msgs(e);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_VANISHED);
    cr_assert_eq(s->n_undone, 5);
    assert_placed(WANT_A, 7);
    /* db's cgroups are gone again */
    char p[512];
    snprintf(p, sizeof p, "%s/cgplace/db", F.root);
    cr_assert(access(p, F_OK) != 0, "cgplace/db left behind");
    free(before);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, guest_not_running_is_skipped)
{
    cgp_placement *pl = compile(POL_A);
    const struct cgp_guest *only[1] = { &G_WEB };
    cgp_enforce *e = run(pl, only, 1, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_NOT_RUNNING);
    char p[512];
    snprintf(p, sizeof p, "%s/cgplace/db", F.root);
    cr_assert(access(p, F_OK) != 0);
    assert_placed(WANT_A, 7);
    cr_assert_str_eq(fake_task_cg(&F, 2003), "user.slice");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, nothing_running_writes_nothing)
{
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, NULL, 0, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cr_assert_eq(F.n_forward, 0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, unmanaged_processes_reported)
{
    const char *pol = "host { parent \"cgplace\"; unmanaged deny; }\n"
                      "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; }\n";
    cgp_placement *pl = compile(pol);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_unmanaged, 1);
    bool found = false;
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        found |= cgp_enforce_msg(e, i)->pid == 2000 && cgp_enforce_msg(e, i)->level == CGP_MSG_ERROR;
    cr_assert(found);
    cgp_enforce_free(e);
    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(cgp_verify_drift(v), "unmanaged deny with a free-floating guest is drift");
    cgp_verify_free(v);
    cgp_placement_free(pl);
}

Test(cgctl, fallback_is_a_failure_and_rolls_back)
{
    /* the operator restricted the parent to CPUs 0-3: db's 4-7 would fall back */
    fake_write(&F, "", "cgroup.subtree_control", "cpuset\n");
    fake_mkcg(&F, "cgplace");
    fake_write(&F, "cgplace", "cpuset.cpus", "0-3\n");
    char *before = fake_snapshot(&F);
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    dump_msgs(e);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_FAILED);
    cr_assert(!s->rollback_incomplete);
    bool said = false;
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        said |= strstr(cgp_enforce_msg(e, i)->text, "cpuset.cpus.effective") != NULL;
    cr_assert(said, "the failure names the effective set");
    char *after = fake_snapshot(&F);
    cr_assert_str_eq(after, before);
    free(before);
    free(after);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, unnamed_threads_and_vcpupin_refused)
{
    cgp_placement *pl = compile(POL_A);
    G_WEB.thread_source = CGP_THREADS_UNKNOWN;
    for (int i = 0; i < 7; i++)
        TH_WEB[i] = (struct cgp_guest_thread){ 1000 + i, CGP_THREAD_EMULATOR, -1, NULL };
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_INVALID);
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_INVALID);
    cr_assert_eq(F.n_forward, 0);
    bool hint = false;
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        hint |= strstr(cgp_enforce_msg(e, i)->text, "debug-threads=on") != NULL;
    cr_assert(hint);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, unnamed_threads_whole_guest_placement)
{
    cgp_placement *pl = compile(POL_WHOLE);
    G_WEB.thread_source = CGP_THREADS_UNKNOWN;
    for (int i = 0; i < 7; i++)
        TH_WEB[i] = (struct cgp_guest_thread){ 1000 + i, CGP_THREAD_EMULATOR, -1, NULL };
    const struct cgp_guest *only[1] = { &G_WEB };
    cgp_enforce *e = run(pl, only, 1, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    static const struct want w[] = {
        { 1000, "cgplace/web", "0-3", "0" }, { 1003, "cgplace/web", "0-3", "0" }, { 1006, "cgplace/web", "0-3", "0" },
    };
    assert_placed(w, NW(w));
    cr_assert_eq(log_count("cgroup.threads"), 0);
    cr_assert_eq(log_count("cgroup.type"), 0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, two_blocks_matching_one_process_refused)
{
    const char *pol = "host { parent \"cgplace\"; }\n"
                      "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; }\n"
                      "guest web2 { match uuid \"u-1\"; vcpus 4; cpus 4-7; memory 1G nodes 1; }\n";
    cgp_placement *pl = compile(pol);
    G_WEB.uuid = "U-1";
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_INVALID);
    cr_assert_eq(F.n_forward, 0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, no_cpuset_controller)
{
    fake_write(&F, "", "cgroup.controllers", "cpu io memory pids\n");
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, BOTH, 2, 0, &e), -EOPNOTSUPP);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "cpuset"), "%s", cgp_ctx_last_error(CTX));
    char *root = NULL;
    cr_assert_eq(cgp_cgroup_root(CTX, &root), -EOPNOTSUPP);
    cgp_placement_free(pl);
}

Test(cgctl, symlinked_parent_not_followed)
{
    char target[400], link[400];
    snprintf(target, sizeof target, "%s/elsewhere", F.dir);
    mkdir(target, 0755);
    snprintf(link, sizeof link, "%s/cgplace", F.root);
    cr_assert(symlink(target, link) == 0);
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_neq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    char p[500];
    snprintf(p, sizeof p, "%s/web", target);
    cr_assert(access(p, F_OK) != 0, "wrote through the symlink");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(cgctl, lock_file_failure_writes_nothing)
{
    setenv("CGPLACE_LOCK", "/nonexistent-dir-cgplace/lock", 1);
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, BOTH, 2, 0, &e), -ENOENT);
    cr_assert_eq(F.n_forward, 0);
    cgp_placement_free(pl);
}

Test(cgctl, fault_env_var)
{
    setenv("CGPLACE_FAULT_WRITE", "2", 1);
    fake_unhook();
    char *before = fake_snapshot(&F);
    cgp_placement *pl = compile(POL_A);
    cgp_enforce *e = run(pl, BOTH, 2, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED);
    cr_assert_eq(cgp_enforce_summary(e)->n_undone, 1);
    char *after = fake_snapshot(&F);
    /* without the simulator only the files the engine wrote itself change:
     * the directories it made must be gone */
    char p[400];
    snprintf(p, sizeof p, "%s/cgplace", F.root);
    cr_assert(access(p, F_OK) != 0);
    free(before);
    free(after);
    unsetenv("CGPLACE_FAULT_WRITE");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* More cgroups than the engine keeps directory fds for (its cache, shrunk to
 * 5, is flushed again and again): every thread still placed, a second run
 * writes nothing, and no fd outlives the run. */
Test(cgctl, many_guests_fd_cache_flushed_no_leak)
{
    enum { NG = 12 };
    cgctl_hooks.dirfd_max = 5;
    static struct cgp_guest g[NG];
    static struct cgp_guest_thread th[NG][2];
    static char names[NG][16];
    const struct cgp_guest *gp[NG];
    size_t cap = 160 * NG + 64, len = 0;
    char *pol = malloc(cap);
    len += (size_t)snprintf(pol + len, cap - len, "host { parent \"cgplace\"; }\n");
    for (int i = 0; i < NG; i++) {
        int pid = 10000 + 10 * i, tids[2] = { pid, pid + 1 };
        snprintf(names[i], sizeof names[i], "g%d", i);
        fake_add_process(&F, pid, tids, 2, "user.slice");
        th[i][0] = (struct cgp_guest_thread){ pid, CGP_THREAD_EMULATOR, -1, NULL };
        th[i][1] = (struct cgp_guest_thread){ pid + 1, CGP_THREAD_VCPU, 0, NULL };
        g[i] = (struct cgp_guest){ .pid = pid, .pidfd = -1, .start_time = (uint64_t)pid * 10, .name = names[i],
                                   .cgroup = "/user.slice", .thread_source = CGP_THREADS_NAMES, .n_threads = 2,
                                   .threads = th[i] };
        gp[i] = &g[i];
        len += (size_t)snprintf(pol + len, cap - len,
                                "guest g%d { vcpus 1; cpus %d-%d; memory 1M nodes %d; vcpupin 0 %d; emulatorpin %d; }\n",
                                i, i % 8 * 2, i % 8 * 2 + 1, i % 2, i % 8 * 2, i % 8 * 2 + 1);
    }
    cgp_placement *pl = compile(pol);
    free(pol);
    int fds0 = count_fds();
    cgp_enforce *e = run(pl, gp, NG, 0);
    dump_msgs(e);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    cr_assert_eq(count_fds(), fds0, "file descriptors leaked by apply");
    for (int i = 0; i < NG; i += 5) {
        char cg[64], cpu[16];
        snprintf(cg, sizeof cg, "cgplace/g%d/vcpu0", i);
        snprintf(cpu, sizeof cpu, "%d", i % 8 * 2);
        cr_expect_str_eq(fake_task_cg(&F, 10000 + 10 * i + 1), cg);
        char *c = fake_read(&F, cg, "cpuset.cpus");
        cr_expect_str_eq(c, cpu, "%s: cpuset.cpus %s", cg, c);
        free(c);
    }
    e = run(pl, gp, NG, 0);
    cr_expect_eq(cgp_enforce_summary(e)->n_writes, 0, "second run wrote %zu", cgp_enforce_summary(e)->n_writes);
    cgp_enforce_free(e);
    cr_assert_eq(count_fds(), fds0, "file descriptors leaked by re-apply");
    cgp_placement_free(pl);
    cgctl_hooks.dirfd_max = 0;
}

/* The fault points are test-build only: the release binaries cannot be made
 * to stop or fail on demand, and do not even name the variables. */
static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    cr_assert(buf && fread(buf, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    bool hit = memmem(buf, (size_t)len, needle, strlen(needle)) != NULL;
    free(buf);
    return hit;
}

Test(cgctl, release_binaries_have_no_fault_points)
{
    const char *bins = getenv("CGCTL_RELEASE_BINS");
    cr_assert(bins && *bins, "CGCTL_RELEASE_BINS not set (run through make check-cgctl)");
    const char *t = getenv("CGCTL_TESTING_BUILD");
    bool testing = t && !strcmp(t, "1");
    char *list = strdup(bins), *save = NULL;
    size_t n = 0;
    for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save), n++)
        for (int k = 0; k < 2; k++) {
            const char *s = k ? "CGPLACE_STOP" : "CGPLACE_FAULT";
            cr_assert_eq(file_has(p, s), testing, "%s %s %s", p, testing ? "lacks" : "contains", s);
        }
    cr_assert_eq(n, 2);
    free(list);
}
