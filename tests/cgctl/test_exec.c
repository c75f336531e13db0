/* `exec` through the engine on the fake tree (cgp_placement_exec +
 * cgp_enforce_run): the process is paired with the named block whatever
 * its match lines say; placed whole (every thread the guest's own sets)
 * before CMD runs, then per thread; an unknown block is refused. And the
 * memory policy cgp_mempolicy_set gives the calling thread, read back with
 * get_mempolicy(2) in a child (node 0: the one node every kernel has). */
#include "fakecg.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* two-socket-smt: CPUs 0-15, nodes 0 and 1. A match line "other" never
 * holds for the process (its -name is "web"): exec pairs them anyway. */
static const char *POL =
    "guest vm1 { match name other; vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1;"
    " vcpupin 2 2; vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n";

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

TestSuite(exec, .init = setup, .fini = teardown);

static void expect_allowed(int tid, const char *cpus, const char *mems)
{
    fake_expect_allowed(&F, 1000, tid, cpus, mems);
}

static void run(const cgp_placement *base, bool whole)
{
    cgp_placement *pl = NULL;
    int r = cgp_placement_exec(CTX, base, "vm1", &G, whole, &pl);
    cr_assert_eq(r, 0, "%s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, ONE, 1, 0, &e), 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_str_eq(cgp_enforce_guest(e, 0)->name, "vm1");
    cr_assert_eq(cgp_enforce_guest(e, 0)->proc, &G);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(exec, whole_then_per_thread)
{
    cgp_placement *base = fake_compile(TOPO, POL);
    /* the policy alone pairs nothing: the match line does not hold */
    cr_assert_null(cgp_placement_guest(base, 0)->proc);
    run(base, true);
    /* before CMD's threads exist: every thread the guest's 0-3 / node 0 */
    for (int tid = 1000; tid <= 1006; tid++)
        expect_allowed(tid, "0-3", "0");
    char *env = fake_read(&F, "cgplace/vm1", "cpuset.cpus");
    cr_assert_str_eq(env, "0-3");
    free(env);
    run(base, false);
    expect_allowed(1000, "0-1", "0");   /* emulatorpin */
    for (int v = 0; v < 4; v++) {
        char c[4];
        snprintf(c, sizeof c, "%d", v);
        expect_allowed(1002 + v, c, "0");
    }
    expect_allowed(1006, "2-3", "0");   /* iothreadpin io1 */
    cgp_placement_free(base);
}

Test(exec, unknown_block_refused)
{
    cgp_placement *base = fake_compile(TOPO, POL), *pl = NULL;
    cr_assert_eq(cgp_placement_exec(CTX, base, "nosuch", &G, true, &pl), -ENOENT);
    cr_assert_null(pl);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "no guest 'nosuch'"), "%s", cgp_ctx_last_error(CTX));
    cgp_placement_free(base);
}

/* The policy cgp_mempolicy_set leaves on a child: mode and node mask, or
 * -errno; 99 when it returned an error. */
static int policy_after(const char *text, unsigned long *mask)
{
    cgp_placement *pl = fake_compile(TOPO, text);
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        int res[2] = { 99, 0 }, mode = 0;
        unsigned long m[4] = { 0 };
        if (cgp_mempolicy_set(cgp_placement_guest(pl, 0), NULL) == 0 &&
            get_mempolicy(&mode, m, 8 * sizeof m, NULL, 0) == 0)
            res[0] = mode, res[1] = (int)m[0];
        (void)!write(pfd[1], res, sizeof res);
        _exit(0);
    }
    int res[2] = { -1, -1 }, st;
    cr_assert_eq(read(pfd[0], res, sizeof res), (ssize_t)sizeof res);
    waitpid(pid, &st, 0);
    close(pfd[0]);
    close(pfd[1]);
    cgp_placement_free(pl);
    *mask = (unsigned long)res[1];
    return res[0];
}

Test(exec, memory_policy_of_each_mode)
{
    unsigned long m = 0;
    cr_assert_eq(policy_after("guest a { vcpus 1; cpus 0; memory 1G nodes 0 mode strict; }\n", &m), MPOL_BIND);
    cr_assert_eq(m, 1UL);
    cr_assert_eq(policy_after("guest a { vcpus 1; cpus 0; memory 1G nodes 0 mode interleave; }\n", &m),
                 MPOL_INTERLEAVE);
    cr_assert_eq(m, 1UL);
    cr_assert_eq(policy_after("guest a { vcpus 1; cpus 0; memory 1G nodes 0 mode preferred; }\n", &m),
                 MPOL_PREFERRED);
    cr_assert_eq(m, 1UL);
    /* restrictive: the cgroups restrict, the task keeps the default policy */
    cr_assert_eq(policy_after("guest a { vcpus 1; cpus 0; memory 1G nodes 0 mode restrictive; }\n", &m),
                 MPOL_DEFAULT);
}

Test(exec, memory_policy_bad_arguments)
{
    struct cgp_guest_placement gp = { 0 };
    cr_assert_eq(cgp_mempolicy_set(NULL, NULL), -EINVAL);
    cr_assert_eq(cgp_mempolicy_set(&gp, NULL), -EINVAL);
}
