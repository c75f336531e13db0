/* Runtime tuning through the engine (policy/runtime.c + cgp_enforce_run) on
 * the fake tree: a pin changes one group, widens the guest's group first
 * when the new CPUs lie outside it and narrows it back, a guest nobody
 * placed gets its groups on the first pin, bad input is refused before any
 * write, and verify against the policy then reports the change as drift. */
#include "fakecg.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* two-socket-smt: CPUs 0-15, nodes 0 and 1 */
static const char *POL =
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; vcpupin 3 3;"
    " emulatorpin 0-1; iothreadpin io1 2-3; }\n";

static struct cgp_guest_thread TH[FAKE_QEMU_THREADS];
static struct cgp_guest G;
static const struct cgp_guest *ONE[1] = { &G };
static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G, TH, 1000, "web");
}

static void teardown(void)
{
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

TestSuite(runtime, .init = setup, .fini = teardown);

static cgp_bitmap *list(const char *s)
{
    cgp_bitmap *b = NULL;
    cr_assert_eq(cgp_bitmap_parse(s, 0, &b, NULL), 0);
    return b;
}

/* A placement with one change, applied; the enforce outcome. */
static enum cgp_enforce_outcome change(const cgp_placement *base, enum cgp_change_kind what, int vcpu,
                                       const char *io, const char *set)
{
    cgp_bitmap *b = list(set);
    struct cgp_runtime_change chg = { .what = what, .vcpu = vcpu, .iothread = io, .set = b };
    cgp_placement *pl = NULL;
    int r = cgp_placement_runtime(CTX, base, TOPO, &G, &chg, &pl);
    cr_assert_eq(r, 0, "cgp_placement_runtime: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, ONE, 1, 0, &e), 0, "%s", cgp_ctx_last_error(CTX));
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        fprintf(stderr, "  msg: %s\n", cgp_enforce_msg(e, i)->text);
    enum cgp_enforce_outcome o = cgp_enforce_summary(e)->outcome;
    cgp_enforce_free(e);
    cgp_placement_free(pl);
    cgp_bitmap_free(b);
    return o;
}

static void expect_file(const char *cg, const char *file, const char *want)
{
    char *s = fake_read(&F, cg, file);
    cr_assert_str_eq(s, want, "%s/%s", cg, file);
    free(s);
}

static void expect_allowed(int tid, const char *cpus, const char *mems)
{
    fake_expect_allowed(&F, 1000, tid, cpus, mems);
}

static unsigned log_count(const char *pat)
{
    unsigned n = 0;
    for (const char *s = F.log; (s = strstr(s, pat)); s++)
        n++;
    return n;
}

static cgp_placement *placed(void)
{
    cgp_placement *pl = fake_compile(TOPO, POL);
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, ONE, 1, 0, &e), 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    F.log[0] = '\0';
    return pl;
}

Test(runtime, vcpupin_inside_the_guest_is_one_write)
{
    cgp_placement *pl = placed();
    cr_assert_eq(change(pl, CGP_CHANGE_VCPU, 0, NULL, "2"), CGP_ENFORCE_OK);
    expect_allowed(1002, "2", "0");
    expect_allowed(1003, "1", "0");
    expect_file("cgplace/web/vcpu0", "cpuset.cpus", "2");
    expect_file("cgplace/web", "cpuset.cpus", "0-3");
    cr_assert_eq(log_count("write "), 1, "%s", F.log);
    /* the policy still says vCPU 0 on CPU 0: verify calls it drift */
    cgp_verify *v = NULL;
    cr_assert_eq(cgp_verify_run(CTX, pl, ONE, 1, &v), 0);
    cr_assert(cgp_verify_drift(v));
    cgp_verify_free(v);
    cgp_placement_free(pl);
}

Test(runtime, vcpupin_outside_widens_first_and_narrows_back)
{
    cgp_placement *pl = placed();
    F.record = true;
    fake_record(&F);
    cr_assert_eq(change(pl, CGP_CHANGE_VCPU, 3, NULL, "8"), CGP_ENFORCE_OK);
    expect_allowed(1005, "8", "0");
    expect_file("cgplace/web", "cpuset.cpus", "0-3,8");
    const char *why = fake_check_transients(&F);
    cr_assert(!why, "%s", why);
    char *wide = strstr(F.log, "write cgplace/web/cpuset.cpus 0-3,8");
    char *child = strstr(F.log, "write cgplace/web/vcpu3/cpuset.cpus 8");
    cr_assert(wide && child && wide < child, "%s", F.log);
    /* back inside: the guest's group narrows after its child */
    F.log[0] = '\0';
    cr_assert_eq(change(pl, CGP_CHANGE_VCPU, 3, NULL, "3"), CGP_ENFORCE_OK);
    expect_file("cgplace/web", "cpuset.cpus", "0-3");
    child = strstr(F.log, "write cgplace/web/vcpu3/cpuset.cpus 3");
    char *narrow = strstr(F.log, "write cgplace/web/cpuset.cpus 0-3");
    cr_assert(child && narrow && child < narrow, "%s", F.log);
    cgp_placement_free(pl);
}

Test(runtime, first_pin_of_an_unplaced_guest_creates_its_groups)
{
    cr_assert_eq(change(NULL, CGP_CHANGE_VCPU, 1, NULL, "5"), CGP_ENFORCE_OK);
    expect_allowed(1003, "5", "0-1");
    expect_allowed(1002, "0-15", "0-1");
    cr_assert_str_eq(fake_task_cg(&F, 1003), "cgplace/web/vcpu1");
    cr_assert_str_eq(fake_task_cg(&F, 1006), "cgplace/web/iothread-io1");
    /* a second change starts from what the threads have now */
    cr_assert_eq(change(NULL, CGP_CHANGE_IOTHREAD, -1, "io1", "6-7"), CGP_ENFORCE_OK);
    expect_allowed(1006, "6-7", "0-1");
    expect_allowed(1003, "5", "0-1");
}

Test(runtime, emulatorpin_and_numatune)
{
    cgp_placement *pl = placed();
    cr_assert_eq(change(pl, CGP_CHANGE_EMULATOR, -1, NULL, "2-3"), CGP_ENFORCE_OK);
    expect_allowed(1000, "2-3", "0");
    expect_allowed(1001, "2-3", "0");
    cr_assert_eq(change(pl, CGP_CHANGE_MEMS, -1, NULL, "1"), CGP_ENFORCE_OK);
    for (int tid = 1002; tid <= 1005; tid++)
        expect_allowed(tid, (const char[][3]){ "0", "1", "2", "3" }[tid - 1002], "1");
    expect_file("cgplace/web", "cpuset.mems", "1");
    cgp_placement_free(pl);
}

static int refused(const cgp_placement *base, const struct cgp_guest *g, struct cgp_runtime_change chg,
                   const char *set, const char *msg)
{
    cgp_bitmap *b = set ? list(set) : NULL;
    chg.set = b;
    char *before = fake_snapshot(&F);
    cgp_placement *pl = (cgp_placement *)1;
    int r = cgp_placement_runtime(CTX, base, TOPO, g, &chg, &pl);
    cr_assert(r < 0);
    cr_assert_eq(pl, (cgp_placement *)1, "out-parameter written on failure");
    cr_assert(strstr(cgp_ctx_last_error(CTX), msg), "'%s' does not say '%s'", cgp_ctx_last_error(CTX), msg);
    char *after = fake_snapshot(&F);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    cgp_bitmap_free(b);
    return r;
}

Test(runtime, bad_changes_are_refused_before_any_write)
{
    cgp_placement *host = fake_compile(TOPO, "host { reserve cpus 15; }\n");
    cr_assert_eq(refused(NULL, &G, (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 4 }, "1", "out of range"), -ERANGE);
    cr_assert_eq(refused(NULL, &G, (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 0 }, "3,99", "CPU 99: not present"),
                 -EINVAL);
    cr_assert_eq(refused(host, &G, (struct cgp_runtime_change){ .what = CGP_CHANGE_EMULATOR }, "14-15",
                         "CPU 15: reserved"), -EINVAL);
    cr_assert_eq(refused(NULL, &G, (struct cgp_runtime_change){ .what = CGP_CHANGE_MEMS }, "0,7", "node 7"), -EINVAL);
    cr_assert_eq(refused(NULL, &G, (struct cgp_runtime_change){ .what = CGP_CHANGE_IOTHREAD, .iothread = "io9" }, "1",
                         "no I/O thread 'io9'"), -ENOENT);
    struct cgp_guest anon = G;
    anon.thread_source = CGP_THREADS_UNKNOWN;
    cr_assert_eq(refused(NULL, &anon, (struct cgp_runtime_change){ .what = CGP_CHANGE_VCPU, .vcpu = 0 }, "1", "debug-threads=on"),
                 -ENXIO);
    cgp_placement_free(host);
}
