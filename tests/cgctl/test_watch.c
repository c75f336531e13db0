/* The model of `watch` (guests/watchmodel.c) on the fake tree: after a pass
 * it knows the placed guest; an event that changes nothing asks for no pass
 * and looks at no process it does not know; the cheap re-check sees a
 * guest replaced (pid reused) and a CPU going offline. */
#include "fakecg.h"
#include "cgplace_cgctl.h"
#include "cgplace_watch.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const char *POL =
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1;"
    " vcpupin 2 2; vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n";

static struct cgp_guest_thread TH[FAKE_QEMU_THREADS];
static struct cgp_guest G;
static const struct cgp_guest *ONE[1] = { &G };
static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;
static cgp_watch_model *M;

static void sysfile(const char *rel, const char *content)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", F.sys, rel);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", p);
    cr_assert_eq(system(cmd), 0);
    fake_wfile(p, content);
}

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G, TH, 1000, "web");
    sysfile("sys/devices/system/cpu/online", "0-15\n");
    sysfile("sys/devices/system/node/online", "0-1\n");
    cr_assert_eq(cgp_watch_model_new(&M), 0);
    /* one pass, as watch makes it: compile with the process, enforce, remember */
    cgp_placement *pl = NULL;
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert_eq(cgp_policy_parse_buffer("t.conf", POL, strlen(POL), d, &p), 0);
    cr_assert_eq(cgp_policy_compile_running(p, TOPO, CTX, ONE, 1, d, &pl), 0);
    cgp_enforce *e = NULL;
    cr_assert_eq(cgp_enforce_run(CTX, pl, ONE, 1, 0, &e), 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_watch_model_remember(M, CTX, pl, e), 0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
    cgp_policy_free(p);
    cgp_diags_free(d);
}

static void teardown(void)
{
    cgp_watch_model_free(M);
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

TestSuite(watch, .init = setup, .fini = teardown);

Test(watch, remembers_the_placed_guest)
{
    cr_assert_eq(cgp_watch_model_count(M), 1);
    cr_assert_eq(cgp_watch_model_pending(M), 0, "its 4 vCPU threads are named");
    cr_assert_str_eq(cgp_watch_model_cgroup(M, 0), "cgplace/web");
    cr_assert_null(cgp_watch_model_cgroup(M, 1));
}

Test(watch, unchanged_host_needs_no_pass_and_little_reading)
{
    size_t looked = 99;
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, &looked), CGP_WATCH_NOTHING);
    cr_assert_eq(looked, 3, "the two online files and the guest's stat, nothing else: %zu", looked);
}

Test(watch, events_that_change_nothing)
{
    /* a thread of a guest placed per thread already; a process forking;
     * an exit of a pid it never placed; an exec of a pid that is no QEMU */
    struct cgp_procev ev[] = {
        { CGP_PROCEV_THREAD, 1000, 1007 }, { CGP_PROCEV_COMM, 1000, 1003 }, { CGP_PROCEV_FORK, 5000, 5000 },
        { CGP_PROCEV_EXIT, 4242, 4242 }, { CGP_PROCEV_EXEC, 4343, 4343 },
    };
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++)
        cr_assert_eq(cgp_watch_model_event(M, CTX, &ev[i]), CGP_WATCH_NOTHING, "event %zu", i);
    cr_assert_eq(cgp_watch_model_count(M), 1);
}

Test(watch, exec_of_a_qemu_asks_for_a_pass)
{
    int tids[] = { 2000 };
    fake_add_process(&F, 2000, tids, 1, "user.slice");
    sysfile("proc/2000/comm", "qemu-system-x86\n");
    sysfile("proc/2000/cmdline", "qemu-system-x86_64");
    struct cgp_procev ev = { CGP_PROCEV_EXEC, 2000, 2000 };
    cr_assert_eq(cgp_watch_model_event(M, CTX, &ev), CGP_WATCH_PLACE);
    struct cgp_procev lost = { CGP_PROCEV_LOST, 0, 0 };
    cr_assert_eq(cgp_watch_model_event(M, CTX, &lost), CGP_WATCH_PLACE, "lost events: rescan");
}

Test(watch, exit_forgets)
{
    struct cgp_procev ev = { CGP_PROCEV_EXIT, 1000, 1000 };
    cr_assert_eq(cgp_watch_model_event(M, CTX, &ev), CGP_WATCH_NOTHING);
    cr_assert_eq(cgp_watch_model_count(M), 0);
}

Test(watch, recheck_sees_a_reused_pid)
{
    char p[600];
    snprintf(p, sizeof p, "%s/proc/1000/stat", F.sys);
    fake_wfile(p, "1000 (qemu-system-x86) S 1 1000 1000 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 7 0 77777 1000\n");
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, NULL), CGP_WATCH_PLACE);
}

Test(watch, recheck_sees_a_cpu_offline)
{
    sysfile("sys/devices/system/cpu/online", "0-2,4-15\n");
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, NULL), CGP_WATCH_PLACE);
    sysfile("sys/devices/system/cpu/online", "0-15\n");
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, NULL), CGP_WATCH_NOTHING, "the same set again");
    sysfile("sys/devices/system/node/online", "0\n");
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, NULL), CGP_WATCH_PLACE);
}

Test(watch, recheck_sees_a_guest_gone)
{
    fake_remove_process(&F, 1000);
    cr_assert_eq(cgp_watch_model_recheck(M, CTX, NULL), CGP_WATCH_PLACE);
}

Test(watch, named_threads_of_a_guest_placed_whole)
{
    /* a QEMU placed whole before its threads had names: its threads now are */
    struct cgp_guest g2 = G;
    g2.pid = 3000;
    g2.start_time = 30000;
    g2.thread_source = CGP_THREADS_UNKNOWN;
    cr_assert_eq(cgp_watch_model_add(M, &g2, 4, "cgplace/web2"), 0);
    cr_assert_eq(cgp_watch_model_pending(M), 1);
    struct cgp_procev ev = { CGP_PROCEV_COMM, 3000, 3001 };
    cr_assert_eq(cgp_watch_model_event(M, CTX, &ev), CGP_WATCH_NOTHING, "no such process on the tree yet");
    struct cgp_guest_thread th[FAKE_QEMU_THREADS];
    struct cgp_guest g3;
    fake_qemu(&F, &g3, th, 3000, "web2");
    sysfile("proc/3000/comm", "qemu-system-x86\n");
    sysfile("proc/3000/cmdline", "qemu-system-x86_64");
    const char *comm[FAKE_QEMU_THREADS] = { "qemu-system-x86", "worker", "CPU 0/KVM", "CPU 1/KVM", "CPU 2/KVM",
                                            "CPU 3/KVM", "IO io1" };
    for (int i = 0; i < FAKE_QEMU_THREADS; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "proc/3000/task/%d/comm", 3000 + i);
        sysfile(rel, comm[i]);
    }
    cr_assert_eq(cgp_watch_model_event(M, CTX, &ev), CGP_WATCH_THREADS, "its 4 vCPU threads are named now");
    cgp_watch_model_complete(M, 3000);
    cr_assert_eq(cgp_watch_model_pending(M), 0);
    cr_assert_eq(cgp_watch_model_add(M, &g3, 4, "cgplace/web2"), 0);
    cr_assert_eq(cgp_watch_model_count(M), 2, "added again: replaced, not twice");
    cr_assert_eq(cgp_watch_model_pending(M), 0, "g3's threads are named");
    cr_assert_eq(cgp_watch_model_event(M, CTX, &ev), CGP_WATCH_NOTHING, "placed per thread: nothing more");
}
