/* The engine with libvirt's guests: a guest in machine.slice planned and
 * placed through the fake libvirt.so.0 (tests/cgctl/fakevirt.c, which plays
 * libvirt's cgroup writes in the fake /proc), beside a cgroupfs guest on the
 * fake cgroup tree (fakecg.c). The calls expected are written out from the
 * policy below, not taken from the engine. */
#include "fakecg.h"
#include "cgctl-int.h"
#include "virt.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* two-socket-smt: 16 CPUs, nodes 0 and 1 */
static const char *POL =
    "host { parent \"cgplace\"; }\n"
    "guest web { vcpus 2; cpus 0-1; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; emulatorpin 0-1; }\n"
    "guest lv { vcpus 4; cpus 8-11; memory 1G nodes 1; vcpupin 0 8; vcpupin 1 9; vcpupin 2 10; vcpupin 3 11;"
    " emulatorpin 8-9; iothreadpin 1 10-11; }\n";
static const char *UUID = "5b5f3e58-0000-4000-8000-000000000001";
#define LV_CG "machine.slice/machine-qemu\\x2d1\\x2dlv.scope/libvirt"

/* What the fake's libvirt holds at first: no pin, no numatune. */
static const char *STATE0 =
    "ncpus 16\n"
    "domain lv 5b5f3e58-0000-4000-8000-000000000001\npid 3000\n"
    "vcpu 0 0-15 3002\nvcpu 1 0-15 3003\nvcpu 2 0-15 3004\nvcpu 3 0-15 3005\n"
    "emulator 0-15 3000,3001\niothread 1 0-15 3006\n";

/* The calls placing lv, in the planner's order. */
static const char *CALLS =
    "virDomainPinVcpuFlags lv vcpu=0 cpus=8 flags=1\n"
    "virDomainPinVcpuFlags lv vcpu=1 cpus=9 flags=1\n"
    "virDomainPinVcpuFlags lv vcpu=2 cpus=10 flags=1\n"
    "virDomainPinVcpuFlags lv vcpu=3 cpus=11 flags=1\n"
    "virDomainPinEmulator lv cpus=8-9 flags=1\n"
    "virDomainPinIOThread lv iothread=1 cpus=10-11 flags=1\n"
    "virDomainSetNumaParameters lv numa_nodeset=1 flags=1\n";

static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;
static struct cgp_guest_thread TH_WEB[4], TH_LV[7];
static struct cgp_guest G_WEB, G_LV;
static const struct cgp_guest *BOTH[2] = { &G_WEB, &G_LV };
static char STATE[400], LOG[400];

static void lv_task(int tid, const char *comm, const char *sub)
{
    char p[500], buf[600];
    snprintf(p, sizeof p, "%s/proc/3000/task/%d", F.sys, tid);
    cr_assert(mkdir(p, 0755) == 0);
    snprintf(buf, sizeof buf, "%s/status", p);
    char st[300];
    snprintf(st, sizeof st, "Name:\t%s\nPid:\t%d\nCpus_allowed_list:\t0-15\nMems_allowed_list:\t0-1\n", comm, tid);
    fake_wfile(buf, st);
    snprintf(buf, sizeof buf, "%s/cgroup", p);
    snprintf(st, sizeof st, "0::/" LV_CG "/%s\n", sub);
    fake_wfile(buf, st);
}

/* libvirt's QEMU: its /proc entry, not in fakecg's tree (libvirt's cgroups
 * are libvirt's: only the fake libvirt changes these files). */
static void mk_lv(void)
{
    char p[600];
    snprintf(p, sizeof p, "%s/proc/3000", F.sys);
    cr_assert(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/proc/3000/task", F.sys);
    cr_assert(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/proc/3000/stat", F.sys);
    fake_wfile(p, "3000 (qemu-system-x86) S 1 3000 3000 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 7 0 30000 1000\n");
    lv_task(3000, "qemu-system-x86", "emulator");
    lv_task(3001, "qemu-system-x86", "emulator");
    TH_LV[0] = (struct cgp_guest_thread){ 3000, CGP_THREAD_EMULATOR, -1, NULL };
    TH_LV[1] = (struct cgp_guest_thread){ 3001, CGP_THREAD_EMULATOR, -1, NULL };
    for (int v = 0; v < 4; v++) {
        char comm[32], sub[32];
        snprintf(comm, sizeof comm, "CPU %d/KVM", v);
        snprintf(sub, sizeof sub, "vcpu%d", v);
        lv_task(3002 + v, comm, sub);
        TH_LV[2 + v] = (struct cgp_guest_thread){ 3002 + v, CGP_THREAD_VCPU, v, NULL };
    }
    lv_task(3006, "IO iothread1", "iothread1");
    TH_LV[6] = (struct cgp_guest_thread){ 3006, CGP_THREAD_IOTHREAD, -1, "iothread1" };
    G_LV = (struct cgp_guest){ .pid = 3000, .pidfd = -1, .start_time = 30000, .name = "lv", .uuid = UUID,
                               .cgroup = "/" LV_CG "/emulator", .foreign = true,
                               .thread_source = CGP_THREADS_NAMES, .n_threads = 7, .threads = TH_LV };
}

static void state(const char *extra)
{
    char *s = NULL;
    cr_assert(asprintf(&s, "proc %s/proc\n%s%s", F.sys, extra, STATE0) > 0);
    fake_wfile(STATE, s);
    free(s);
}

static void setup(void)
{
    const char *lib = getenv("CGCTL_FAKEVIRT");
    cr_assert(lib, "CGCTL_FAKEVIRT not set (run through make check-cgctl)");
    cgctl_virt_hooks.lib = lib;
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    int tw[4] = { 1000, 1001, 1002, 1003 };
    fake_add_process(&F, 1000, tw, 4, "user.slice");
    TH_WEB[0] = (struct cgp_guest_thread){ 1000, CGP_THREAD_EMULATOR, -1, NULL };
    TH_WEB[1] = (struct cgp_guest_thread){ 1001, CGP_THREAD_EMULATOR, -1, NULL };
    TH_WEB[2] = (struct cgp_guest_thread){ 1002, CGP_THREAD_VCPU, 0, NULL };
    TH_WEB[3] = (struct cgp_guest_thread){ 1003, CGP_THREAD_VCPU, 1, NULL };
    G_WEB = (struct cgp_guest){ .pid = 1000, .pidfd = -1, .start_time = 10000, .name = "web", .cgroup = "/user.slice",
                                .thread_source = CGP_THREADS_NAMES, .n_threads = 4, .threads = TH_WEB };
    mk_lv();
    snprintf(STATE, sizeof STATE, "%s/virt-state", F.dir);
    snprintf(LOG, sizeof LOG, "%s/virt-log", F.dir);
    setenv("FAKEVIRT_STATE", STATE, 1);
    setenv("FAKEVIRT_LOG", LOG, 1);
    state("");
}

static void teardown(void)
{
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

TestSuite(libvirt, .init = setup, .fini = teardown);

static cgp_placement *compile(const char *text)
{
    return fake_compile(TOPO, text);
}

static cgp_enforce *run(const cgp_placement *pl, unsigned flags)
{
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(CTX, pl, BOTH, 2, flags, &e);
    cr_assert(r == 0, "cgp_enforce_run: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return e;
}

/* The setters in the fake's log since the last call, and clear it (the
 * caller frees the text). */
static char *calls(void)
{
    return fake_virt_setters(LOG, true);
}

/* Forget the setters logged so far. */
static void forget_calls(void)
{
    free(calls());
}

static bool has_msg(const cgp_enforce *e, const char *text)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        if (strstr(cgp_enforce_msg(e, i)->text, text))
            return true;
    return false;
}

static void assert_calls(const char *want)
{
    char *got = calls();
    cr_assert_str_eq(got, want, "libvirt calls:\n%s\nwant:\n%s", got, want);
    free(got);
}

static void dump(const cgp_enforce *e)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        fprintf(stderr, "  msg: %s\n", cgp_enforce_msg(e, i)->text);
}

static char *status(int tid)
{
    char p[600];
    snprintf(p, sizeof p, "%s/proc/3000/task/%d/status", F.sys, tid);
    return fake_rfile(p);
}

static void assert_thread(int tid, const char *cpus, const char *mems)
{
    char *s = status(tid), want[200];
    snprintf(want, sizeof want, "Cpus_allowed_list:\t%s\nMems_allowed_list:\t%s", cpus, mems);
    cr_assert(strstr(s, want), "thread %d:\n%s\nwant %s / %s", tid, s, cpus, mems);
    free(s);
}

static void assert_lv_placed(void)
{
    assert_thread(3000, "8-9", "1");
    assert_thread(3001, "8-9", "1");
    for (int v = 0; v < 4; v++) {
        char c[8];
        snprintf(c, sizeof c, "%d", 8 + v);
        assert_thread(3002 + v, c, "1");
    }
    assert_thread(3006, "10-11", "1");
}

/* nothing of ours under libvirt's scope */
static void assert_nothing_under_machine_slice(void)
{
    cr_assert(!strstr(F.log, "machine.slice"), "written under machine.slice:\n%s", F.log);
}

Test(libvirt, plan_lists_the_calls_and_makes_none)
{
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    dump(e);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 1);
    cr_assert_eq(g->owner, CGP_OWNER_LIBVIRT);
    cr_assert_str_eq(g->backend, "libvirt");
    cr_assert_str_eq(g->cgroup, LV_CG "/emulator");
    static const struct { const char *call, *item, *value, *old; } W[] = {
        { "virDomainPinVcpuFlags", "vcpu 0", "8", "0-15" }, { "virDomainPinVcpuFlags", "vcpu 1", "9", "0-15" },
        { "virDomainPinVcpuFlags", "vcpu 2", "10", "0-15" }, { "virDomainPinVcpuFlags", "vcpu 3", "11", "0-15" },
        { "virDomainPinEmulator", "emulator", "8-9", "0-15" },
        { "virDomainPinIOThread", "iothread 1", "10-11", "0-15" },
        { "virDomainSetNumaParameters", "numatune", "1", "0-1" },
    };
    size_t k = 0;
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++) {
        const struct cgp_op *op = cgp_enforce_op(e, i);
        if (op->kind != CGP_OP_LIBVIRT) {
            cr_assert(!op->guest || strcmp(op->guest, "lv"), "a cgroup op for the libvirt guest: %s/%s", op->path, op->file);
            continue;
        }
        cr_assert_lt(k, sizeof W / sizeof *W);
        cr_assert_str_eq(op->guest, "lv");
        cr_assert_str_eq(op->path, "lv");
        cr_assert_str_eq(op->file, W[k].call);
        cr_assert_str_eq(op->item, W[k].item);
        cr_assert_str_eq(op->value, W[k].value);
        cr_assert_str_eq(op->old_value, W[k].old);
        cr_assert_null(op->note);
        k++;
    }
    cr_assert_eq(k, sizeof W / sizeof *W);
    cr_assert_eq(g->n_ops, k);
    assert_calls("");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, apply_makes_exactly_the_calls_then_none)
{
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, 0);
    dump(e);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_CHANGED);
    cr_assert_eq(cgp_enforce_guest(e, 1)->n_ops, 7);
    assert_calls(CALLS);
    assert_lv_placed();
    assert_nothing_under_machine_slice();
    cr_assert_str_eq(fake_task_cg(&F, 1002), "cgplace/web/vcpu0");
    cgp_enforce_free(e);
    e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->n_writes, 0);
    cr_assert_eq(cgp_enforce_guest(e, 1)->state, CGP_GUEST_UNCHANGED);
    assert_calls("");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, failing_call_rolls_back_every_change)
{
    state("fail set 3 55 Requested operation is not valid: \x1b]0;pwned\x07\n");
    char *before = fake_snapshot(&F);
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_FAILED);
    cr_assert(!s->rollback_incomplete);
    /* two pins made, the third refused, the two set back, newest first */
    assert_calls("virDomainPinVcpuFlags lv vcpu=0 cpus=8 flags=1\n"
                 "virDomainPinVcpuFlags lv vcpu=1 cpus=9 flags=1\n"
                 "virDomainPinVcpuFlags lv vcpu=2 cpus=10 flags=1 -> error 55\n"
                 "virDomainPinVcpuFlags lv vcpu=1 cpus=0-15 flags=1\n"
                 "virDomainPinVcpuFlags lv vcpu=0 cpus=0-15 flags=1\n");
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 1);
    cr_assert_eq(g->state, CGP_GUEST_FAILED);
    cr_assert(g->detail && strstr(g->detail, "virDomainPinVcpuFlags lv vcpu 2 10: virDomainPinVcpuFlags: Requested "
                                             "operation is not valid: \\x1b]0;pwned\\x07; every change was rolled back"),
              "%s", g->detail ? g->detail : "(null)");
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_FAILED);
    /* the cgroupfs guest's writes were rolled back too */
    char *after = fake_snapshot(&F);
    cr_assert_str_eq(after, before);
    for (int tid = 3000; tid <= 3006; tid++)
        assert_thread(tid, "0-15", "0-1");
    free(before);
    free(after);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, no_library_fails_that_guest_alone)
{
    cgctl_virt_hooks.lib = "/nonexistent/libvirt.so.0";
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cr_assert_str_eq(fake_task_cg(&F, 1002), "cgplace/web/vcpu0");
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 1);
    cr_assert_eq(g->state, CGP_GUEST_FAILED);
    cr_assert_eq(g->n_ops, 0);
    cr_assert(g->detail && strstr(g->detail, "libvirt: libvirt's client library cannot be loaded"), "%s",
              g->detail ? g->detail : "(null)");
    cr_assert(has_msg(e, "guest 'lv' (pid 3000): libvirt: libvirt's client library cannot be loaded"));
    assert_nothing_under_machine_slice();
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, daemon_down_and_unknown_domain_fail_the_guest)
{
    state("connect refuse\n");
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 1);
    cr_assert_eq(g->state, CGP_GUEST_FAILED);
    cr_assert(strstr(g->detail, "cannot connect to libvirt (qemu:///system)"), "%s", g->detail);
    cgp_enforce_free(e);
    cgp_ctx_free(CTX);   /* a new context: a new connection */
    cr_assert(cgp_ctx_new(F.sys, F.root, &CTX) == 0);
    state("");
    G_LV.uuid = "5b5f3e58-0000-4000-8000-00000000ffff";
    e = run(pl, CGP_ENFORCE_DRY_RUN);
    g = cgp_enforce_guest(e, 1);
    cr_assert_eq(g->state, CGP_GUEST_FAILED);
    cr_assert(strstr(g->detail, "Domain not found: no domain with matching uuid"), "%s", g->detail);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, readback_trusts_proc_not_the_call)
{
    state("lie\n");
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED);
    char *got = calls();
    /* all seven made, then all seven set back */
    cr_assert(!strncmp(got, CALLS, strlen(CALLS)), "%s", got);
    cr_assert(strstr(got, "virDomainPinVcpuFlags lv vcpu=0 cpus=0-15 flags=1\n"), "%s", got);
    cr_assert(strstr(got, "virDomainSetNumaParameters lv numa_nodeset=0-1 flags=1\n"), "%s", got);
    free(got);
    cr_assert(has_msg(e, "libvirt accepted the calls"));
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, persist_sets_the_definition_too)
{
    char pol[1024];
    snprintf(pol, sizeof pol, "host { parent \"cgplace\"; libvirt persist; }\n%s", strchr(POL, '\n') + 1);
    cgp_placement *pl = compile(pol);
    cr_assert(cgp_placement_host(pl)->libvirt_persist);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    char *got = calls();
    cr_assert(strstr(got, "virDomainPinVcpuFlags lv vcpu=0 cpus=8 flags=3\n"), "%s", got);
    cr_assert(strstr(got, "virDomainSetNumaParameters lv numa_nodeset=1 flags=3\n"), "%s", got);
    cr_assert(!strstr(got, "flags=1\n"), "%s", got);
    free(got);
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++)
        if (cgp_enforce_op(e, i)->kind == CGP_OP_LIBVIRT)
            cr_assert(strstr(cgp_enforce_op(e, i)->note, "VIR_DOMAIN_AFFECT_CONFIG"));
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, hand_pin_is_drift_and_apply_repairs_it)
{
    cgp_placement *pl = compile(POL);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cgp_enforce_free(e);
    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(!cgp_verify_drift(v), "drift right after apply");
    const struct cgp_verify_guest *vg = cgp_verify_guest(v, 1);
    cr_assert_eq(vg->n_threads, 7);
    cr_assert_eq(vg->n_cgroups, 0);
    cgp_verify_free(v);
    forget_calls();
    /* virsh vcpupin lv 2 0-3, as libvirt would do it */
    struct cgctl_virt *c = NULL;
    struct cgctl_vdom *d = NULL;
    cr_assert(cgctl_virt_open(CTX, &c) == 0 && cgctl_virt_lookup(c, UUID, NULL, &d) == 0);
    cgp_bitmap *b = NULL;
    cr_assert(cgp_bitmap_parse("0-3", 0, &b, NULL) == 0);
    cr_assert(cgctl_virt_pin_vcpu(d, 2, b, CGCTL_VIRT_LIVE) == 0);
    cgp_bitmap_free(b);
    cgctl_vdom_free(d);
    cgctl_virt_close(c);
    forget_calls();
    cr_assert(cgp_verify_run(CTX, pl, BOTH, 2, &v) == 0);
    cr_assert(cgp_verify_drift(v));
    vg = cgp_verify_guest(v, 1);
    cr_assert(vg->drift);
    for (size_t i = 0; i < vg->n_threads; i++)
        cr_assert_eq(vg->threads[i].drift, vg->threads[i].tid == 3004, "thread %d", vg->threads[i].tid);
    const cgp_enforce *ve = cgp_verify_plan(v);
    cr_assert_eq(cgp_enforce_n_ops(ve), 1);
    cr_assert_str_eq(cgp_enforce_op(ve, 0)->item, "vcpu 2");
    cgp_verify_free(v);
    assert_calls("");
    e = run(pl, 0);
    assert_calls("virDomainPinVcpuFlags lv vcpu=2 cpus=10 flags=1\n");
    assert_lv_placed();
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, live_mode_change_refused_by_libvirt)
{
    char pol[1024];
    const char *at = strstr(POL, "nodes 1;");
    snprintf(pol, sizeof pol, "%.*snodes 1 mode interleave;%s", (int)(at - POL), POL, at + strlen("nodes 1;"));
    cgp_placement *pl = compile(pol);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED);
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 1);
    cr_assert(g->detail && strstr(g->detail, "can't change numatune mode for running domain"), "%s",
              g->detail ? g->detail : "(null)");
    char *got = calls();
    cr_assert(strstr(got, "virDomainSetNumaParameters lv numa_mode=2 flags=1 -> error 55\n"), "%s", got);
    free(got);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(libvirt, per_cell_nodes_are_refused)
{
    const char *pol = "guest lv { vcpus 4; cpus 8-11; memory 2G nodes 0-1 mode restrictive;"
                      " cell 0 { vcpus 0-1; memory 1G nodes 0; } cell 1 { vcpus 2-3; memory 1G nodes 1; } }\n";
    cgp_placement *pl = compile(pol);
    cgp_enforce *e = NULL;
    cr_assert(cgp_enforce_run(CTX, pl, (const struct cgp_guest *const[]){ &G_LV }, 1, CGP_ENFORCE_DRY_RUN, &e) == 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_INVALID);
    const struct cgp_enforce_guest *g = cgp_enforce_guest(e, 0);
    cr_assert_eq(g->state, CGP_GUEST_INVALID);
    cr_assert(strstr(g->detail, "libvirt sets one memory nodeset per domain"), "%s", g->detail);
    assert_calls("");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}
