/* Guest discovery on fake proc trees (spec §5). */
#include "fakeproc.h"
#include "cgplace_guests.h"
#include "guests-int.h"

#define QEMU "/usr/bin/qemu-system-x86_64"
#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })

static cgp_guest_list *discover(unsigned flags, int expect_n)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    int r = cgp_guests_discover(ctx, flags, &l);
    cr_assert_eq(r, 0, "discover: %d (%s)", r, cgp_ctx_last_error(ctx));
    cgp_ctx_free(ctx);
    cr_assert_eq((int)cgp_guests_count(l), expect_n, "found %zu guests, expected %d",
                 cgp_guests_count(l), expect_n);
    return l;
}

/* Discover a single process with argv and return its guest (list in *lp). */
static const struct cgp_guest *one(const char *const *argv, cgp_guest_list **lp)
{
    fk_proc(100, QEMU, "qemu-system-x86", argv, 5000, "/", NULL);
    *lp = discover(0, 1);
    const struct cgp_guest *g = cgp_guests_get(*lp, 0);
    cr_assert_eq(g->pid, 100);
    return g;
}

static void str_eq(const char *got, const char *want, const char *what)
{
    if (!want)
        cr_assert_null(got, "%s: got '%s', expected none", what, got);
    else
        cr_assert(got && !strcmp(got, want), "%s: got '%s', expected '%s'", what, got ? got : "(null)", want);
}

/* What discovery takes from a guest's command line (parsers/cmdline.c, through
 * cgp_guests_discover); the parser alone: tests/parsers/test_cmdline.c. */
TestSuite(cmdline, .init = fk_setup, .fini = fk_teardown);

Test(cmdline, name_plain)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-S", "-name", "web1", "-m", "64"), &l);
    str_eq(g->name, "web1", "name");
    cr_assert_not(g->debug_threads);
    str_eq(g->uuid, NULL, "uuid");
    str_eq(g->pidfile, NULL, "pidfile");
    str_eq(g->qmp, NULL, "qmp");
    cgp_guests_free(l);
}

Test(cmdline, name_guest_key_with_escaped_comma)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-name", "guest=web,,1,debug-threads=on,process=qemu-web"), &l);
    str_eq(g->name, "web,1", "name");
    cr_assert(g->debug_threads);
    cgp_guests_free(l);
}

Test(cmdline, name_first_unnamed_value)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-name", "db,,x,debug-threads=off"), &l);
    str_eq(g->name, "db,x", "name");
    cr_assert_not(g->debug_threads);
    cgp_guests_free(l);
}

Test(cmdline, double_dash_and_equals_forms)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "--name", "a", "-uuid=6F2D6C7A-0000-4000-8000-000000000001",
                                      "--pidfile=/run/a.pid", "--qmp=unix:/run/a.qmp,server=on,wait=off"), &l);
    str_eq(g->name, "a", "name");
    str_eq(g->uuid, "6F2D6C7A-0000-4000-8000-000000000001", "uuid");
    str_eq(g->pidfile, "/run/a.pid", "pidfile");
    str_eq(g->qmp, "/run/a.qmp", "qmp");
    cgp_guests_free(l);
    fk_teardown();
    fk_setup();
    g = one(A(QEMU, "-name=guest=b,debug-threads=on", "-uuid", "u-b", "-pidfile", "/run/b.pid"), &l);
    str_eq(g->name, "b", "name");
    cr_assert(g->debug_threads);
    str_eq(g->uuid, "u-b", "uuid");
    str_eq(g->pidfile, "/run/b.pid", "pidfile");
    cgp_guests_free(l);
}

Test(cmdline, qmp_old_boolean_syntax)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-qmp", "unix:/var/lib/q/m.sock,server,nowait", "-name", "x"), &l);
    str_eq(g->qmp, "/var/lib/q/m.sock", "qmp");
    cgp_guests_free(l);
}

Test(cmdline, qmp_path_with_escaped_comma)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-qmp", "unix:/run/a,,b.sock,server=on,wait=off"), &l);
    str_eq(g->qmp, "/run/a,b.sock", "qmp");
    cgp_guests_free(l);
}

Test(cmdline, chardev_and_mon_control)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-chardev", "socket,id=hmp,path=/run/hmp.sock,server=on,wait=off",
                                      "-mon", "chardev=hmp,mode=readline",
                                      "-chardev", "socket,id=charmonitor,path=/run/libvirt/qemu/x.monitor,server=on,wait=off",
                                      "-mon", "chardev=charmonitor,id=monitor,mode=control"), &l);
    str_eq(g->qmp, "/run/libvirt/qemu/x.monitor", "qmp");
    cgp_guests_free(l);
}

Test(cmdline, mon_before_chardev_and_implied_chardev_key)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-mon", "m0,mode=control", "-chardev", "socket,path=/run/m0.sock,id=m0,server=on"), &l);
    str_eq(g->qmp, "/run/m0.sock", "qmp");
    cgp_guests_free(l);
}

Test(cmdline, not_qmp)
{
    cgp_guest_list *l;
    /* a readline monitor, a tcp QMP, a control monitor on a non-socket chardev */
    const struct cgp_guest *g = one(A(QEMU, "-chardev", "socket,id=h,path=/run/h.sock", "-mon", "chardev=h",
                                      "-qmp", "tcp:127.0.0.1:4444,server=on,wait=off",
                                      "-chardev", "file,id=f,path=/tmp/f", "-mon", "chardev=f,mode=control",
                                      "-monitor", "unix:/run/hmp2.sock,server,nowait"), &l);
    str_eq(g->qmp, NULL, "qmp");
    cgp_guests_free(l);
}

Test(cmdline, first_qmp_monitor_wins)
{
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-chardev", "socket,id=c,path=/run/c.sock,server=on",
                                      "-mon", "chardev=c,mode=control", "-qmp", "unix:/run/q.sock,server=on"), &l);
    str_eq(g->qmp, "/run/c.sock", "qmp");
    cgp_guests_free(l);
}

Test(cmdline, option_values_are_not_options)
{
    cgp_guest_list *l;
    /* "-name" as the value of -append, "-uuid" as the value of -fw_cfg: QEMU reads them as values */
    const struct cgp_guest *g = one(A(QEMU, "-append", "-name", "evil", "-S", "-nodefaults", "-daemonize",
                                      "-name", "real", "-fw_cfg", "-uuid", "disk.img", "-enable-kvm"), &l);
    str_eq(g->name, "real", "name");
    str_eq(g->uuid, NULL, "uuid");
    cgp_guests_free(l);
}

Test(cmdline, relative_paths_use_cwd)
{
    fk_symlink("/var/lib/vm1", "proc/100/cwd");
    cgp_guest_list *l;
    const struct cgp_guest *g = one(A(QEMU, "-pidfile", "vm1.pid", "-qmp", "unix:run/qmp.sock,server=on,wait=off"), &l);
    str_eq(g->pidfile, "/var/lib/vm1/vm1.pid", "pidfile");
    str_eq(g->qmp, "/var/lib/vm1/run/qmp.sock", "qmp");
    cgp_guests_free(l);
}

TestSuite(discover, .init = fk_setup, .fini = fk_teardown);

Test(discover, debug_thread_names)
{
    fk_proc(200, QEMU, "qemu-system-x86", A(QEMU, "-name", "guest=vm,debug-threads=on"), 42,
            "/cgplace/vm", A("200:qemu-system-x86", "201:call_rcu", "205:CPU 1/KVM", "203:CPU 0/KVM",
                             "204:IO io1", "206:worker", "210:CPU 2/TCG", "211:CPU 3/HVF", "212:CPU x/KVM"));
    cgp_guest_list *l = discover(CGP_DISCOVER_QMP, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_NAMES);
    cr_assert_eq(g->n_threads, 9);
    static const struct { int tid, role, vcpu; const char *io; } want[] = {
        { 200, CGP_THREAD_EMULATOR, -1, NULL }, { 201, CGP_THREAD_EMULATOR, -1, NULL },
        { 203, CGP_THREAD_VCPU, 0, NULL },      { 204, CGP_THREAD_IOTHREAD, -1, "io1" },
        { 205, CGP_THREAD_VCPU, 1, NULL },      { 206, CGP_THREAD_EMULATOR, -1, NULL },
        { 210, CGP_THREAD_VCPU, 2, NULL },      { 211, CGP_THREAD_EMULATOR, -1, NULL },
        { 212, CGP_THREAD_EMULATOR, -1, NULL },
    };
    for (size_t i = 0; i < 9; i++) {
        const struct cgp_guest_thread *t = &g->threads[i];
        cr_expect_eq(t->tid, want[i].tid, "thread %zu: tid %d, want %d (ascending)", i, t->tid, want[i].tid);
        cr_expect_eq((int)t->role, want[i].role, "tid %d: role %d, want %d", t->tid, t->role, want[i].role);
        cr_expect_eq(t->vcpu, want[i].vcpu, "tid %d: vcpu %d, want %d", t->tid, t->vcpu, want[i].vcpu);
        if (want[i].io)
            str_eq(t->iothread, want[i].io, "iothread id");
        else
            cr_expect_null(t->iothread);
    }
    str_eq(g->cgroup, "/cgplace/vm", "cgroup");
    cr_assert_not(g->foreign);
    cr_assert_eq(g->start_time, 42);
    cr_assert_eq(g->pidfd, -1, "no pidfd in a fixture tree");
    cgp_guests_free(l);
}

/* A task entry or its comm planted as a symlink is not followed: the thread
 * is skipped (thread comm is read in one openat2 with RESOLVE_NO_SYMLINKS). */
Test(discover, symlinked_task_entries_not_followed)
{
    fk_proc(220, QEMU, "qemu-system-x86", A(QEMU, "-name", "guest=vm,debug-threads=on"), 42, "/cgplace/vm",
            A("220:qemu-system-x86", "221:CPU 0/KVM"));
    /* targets inside the task directory, so that only the no-symlink rule
     * (not the stay-beneath one) can refuse them */
    fk_text("CPU 1/KVM\n", "proc/220/task/x222/comm");
    fk_text("CPU 2/KVM\n", "proc/220/task/x223");
    fk_symlink("x222", "proc/220/task/222");
    fk_text("", "proc/220/task/223/.keep");
    fk_symlink("../x223", "proc/220/task/223/comm");
    cgp_guest_list *l = discover(0, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->n_threads, 2, "only the two real threads (got %zu)", g->n_threads);
    cr_expect_eq(g->threads[0].tid, 220);
    cr_expect_eq(g->threads[1].tid, 221);
    cr_expect_eq(g->threads[1].vcpu, 0);
    cgp_guests_free(l);
}

Test(discover, no_thread_names)
{
    /* QMP asked for, but the guest has no QMP socket: unknown, all emulator */
    fk_proc(300, QEMU, "qemu-system-x86", A(QEMU, "-name", "plain"), 7, "/",
            A("300:qemu-system-x86", "301:qemu-system-x86", "302:qemu-system-x86"));
    cgp_guest_list *l = discover(CGP_DISCOVER_QMP, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_UNKNOWN);
    cr_assert_eq(g->n_threads, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(g->threads[i].role, CGP_THREAD_EMULATOR);
    cgp_guests_free(l);
}

Test(discover, qmp_socket_missing_is_not_fatal)
{
    fk_proc(300, QEMU, "qemu-system-x86", A(QEMU, "-qmp", "unix:/run/none.sock,server=on,wait=off"), 7, "/",
            A("300:qemu-system-x86", "301:qemu-system-x86"));
    cgp_guest_list *l = discover(CGP_DISCOVER_QMP, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_UNKNOWN);
    str_eq(g->qmp, "/run/none.sock", "qmp");
    cgp_guests_free(l);
}

Test(discover, foreign_cgroups)
{
    static const struct { const char *cg; bool foreign; } c[] = {
        { "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt/emulator", true },
        { "/machine/qemu-1-vm.libvirt-qemu", true },
        { "/machine", true },
        { "/system.slice/machine.slice", true },
        { "/cgplace/web1", false },
        { "/mymachine.slice/x", false },
        { "/machine.slicer/x", false },
        { "/machines/x", false },
        { "/", false },
    };
    size_t n = sizeof c / sizeof c[0];
    for (size_t i = 0; i < n; i++)
        fk_proc(400 + (int)i, QEMU, "qemu-system-x86", A(QEMU, "-name", "x"), 1, c[i].cg, NULL);
    cgp_guest_list *l = discover(0, (int)n);
    for (size_t i = 0; i < n; i++) {
        const struct cgp_guest *g = cgp_guests_get(l, i);
        cr_assert_eq(g->pid, 400 + (int)i, "sorted by pid");
        str_eq(g->cgroup, c[i].cg, "cgroup");
        cr_expect_eq(g->foreign, c[i].foreign, "%s: foreign %d", c[i].cg, g->foreign);
    }
    cgp_guests_free(l);
}

Test(discover, cgroup_v1_lines_ignored)
{
    fk_proc(500, QEMU, "qemu-system-x86", A(QEMU), 1, NULL, NULL);
    fk_text("12:cpuset:/machine.slice/x\n1:name=systemd:/user.slice\n0::/cgplace/v\n", "proc/500/cgroup");
    fk_proc(501, QEMU, "qemu-system-x86", A(QEMU), 1, NULL, NULL);
    fk_text("12:cpuset:/machine.slice/x\n", "proc/501/cgroup");
    cgp_guest_list *l = discover(0, 2);
    str_eq(cgp_guests_get(l, 0)->cgroup, "/cgplace/v", "cgroup");
    cr_assert_not(cgp_guests_get(l, 0)->foreign);
    str_eq(cgp_guests_get(l, 1)->cgroup, NULL, "no cgroup v2 line");
    cgp_guests_free(l);
}

Test(discover, stat_comm_with_parentheses)
{
    fk_proc(600, QEMU, "qemu-system-x86", A(QEMU, "-name", "p"), 1, "/", NULL);
    fk_stat(600, "qemu) (x 1 2 3", 987654321);
    cgp_guest_list *l = discover(0, 1);
    cr_assert_eq(cgp_guests_get(l, 0)->start_time, 987654321ull);
    cgp_guests_free(l);
    uint64_t st;
    cr_assert_eq(cgp_guests_stat_start_time("1 (a) b) S 1 2 3", &st), -EINVAL, "too few fields");
    cr_assert_eq(cgp_guests_stat_start_time("no paren", &st), -EINVAL);
}

Test(discover, vanished_processes_skipped)
{
    fk_proc(700, QEMU, "qemu-system-x86", A(QEMU, "-name", "ok"), 1, "/", NULL);
    /* 701: only comm left (stat, cmdline gone); 702: zombie with an empty cmdline;
     * 703: no task dir; 704: empty dir */
    fk_text("qemu-system-x86\n", "proc/701/comm");
    fk_proc(702, QEMU, "qemu-system-x86", NULL, 1, "/", NULL);
    fk_proc(703, QEMU, "qemu-system-x86", A(QEMU, "-name", "nt"), 1, "/", NULL);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "rm -rf '%s/proc/703/task'", fk_root);
    cr_assert_eq(system(p), 0);
    snprintf(p, sizeof p, "%s/proc/704", fk_root);
    mkdir(p, 0755);
    cgp_guest_list *l = discover(0, 1);
    str_eq(cgp_guests_get(l, 0)->name, "ok", "name");
    cgp_guests_free(l);
}

Test(discover, non_qemu_processes_ignored)
{
    fk_proc(800, "/usr/bin/bash", "bash", A("bash", "-c", "qemu-system-x86_64 -name fake"), 1, "/", NULL);
    fk_proc(801, "/usr/bin/python3.11", "python3", A("python3", "-name", "x"), 1, "/", NULL);
    fk_proc(802, "/usr/bin/qemu-img", "qemu-img", A("qemu-img", "info"), 1, "/", NULL);
    fk_proc(803, NULL, "kthreadd", NULL, 1, "/", NULL);                       /* kernel thread */
    fk_proc(810, NULL, "qemu-system-x86", A("qemu-system-x86_64", "-name", "c"), 1, "/", NULL); /* exe unreadable: comm */
    fk_proc(811, "/usr/libexec/qemu-kvm", "qemu-kvm", A("qemu-kvm", "-name", "k"), 1, "/", NULL);
    fk_proc(812, QEMU " (deleted)", "qemu-system-x86", A(QEMU, "-name", "d"), 1, "/", NULL);
    fk_proc(813, "/opt/qemu/bin/qemu-system-aarch64", "vm-renamed", A("qemu", "-name", "e"), 1, "/", NULL);
    fk_text("not a pid\n", "proc/self-ish");
    cgp_guest_list *l = discover(0, 4);
    const char *names[] = { "c", "k", "d", "e" };
    for (size_t i = 0; i < 4; i++)
        str_eq(cgp_guests_get(l, i)->name, names[i], "name");
    cgp_guests_free(l);
}

Test(discover, no_proc_is_enoent)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "rm -rf '%s/proc'", fk_root);
    cr_assert_eq(system(p), 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), -ENOENT);
    cr_assert_null(l);
    cgp_ctx_free(ctx);
}

Test(discover, empty_proc)
{
    cgp_guest_list *l = discover(0, 0);
    cr_assert_null(cgp_guests_get(l, 0));
    cgp_guests_free(l);
}

Test(discover, alive_follows_start_time)
{
    fk_proc(900, QEMU, "qemu-system-x86", A(QEMU, "-name", "a"), 111, "/", NULL);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(cgp_guest_alive(ctx, g), 0);
    fk_stat(900, "qemu-system-x86", 112);          /* pid reused by another process */
    cr_assert_eq(cgp_guest_alive(ctx, g), -ESRCH);
    fk_unlink("proc/900/stat");                     /* exited */
    cr_assert_eq(cgp_guest_alive(ctx, g), -ESRCH);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

Test(discover, thread_affinity)
{
    fk_proc(950, QEMU, "qemu-system-x86", A(QEMU, "-name", "a"), 1, "/", A("950:qemu-system-x86", "951:CPU 0/KVM"));
    fk_status(950, 951, "2-3,8", "1");
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cgp_bitmap *c = NULL, *m = NULL;
    cr_assert_eq(cgp_guest_thread_affinity(ctx, g, 951, &c, &m), 0);
    char *cs = cgp_bitmap_format(c), *ms = cgp_bitmap_format(m);
    str_eq(cs, "2-3,8", "cpus");
    str_eq(ms, "1", "mems");
    free(cs);
    free(ms);
    cgp_bitmap_free(c);
    cgp_bitmap_free(m);
    cr_assert_eq(cgp_guest_thread_affinity(ctx, g, 950, &c, NULL), -ESRCH, "no status file");
    fk_text("Name:\tx\n", "proc/950/task/950/status");
    cr_assert_eq(cgp_guest_thread_affinity(ctx, g, 950, &c, NULL), -EIO);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

/* ---- matching ---- */

static struct cgp_guest_placement gp_with(const char *name, size_t n, const struct cgp_match *m)
{
    struct cgp_guest_placement gp = { 0 };
    gp.name = name;
    gp.n_matches = n;
    gp.matches = m;
    return gp;
}

Test(discover, matches)
{
    fk_proc(1000, QEMU, "qemu-system-x86", A(QEMU, "-name", "guest=web1", "-uuid", "AbCd-0001",
                                             "-pidfile", "/run/web1.pid", "-qmp", "unix:/run/web1.qmp,server=on,wait=off"),
            1, "/", NULL);
    fk_text("1000\n", "run/other.pid");
    fk_text("1001\n", "run/wrong.pid");
    cgp_guest_list *l = discover(0, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cgp_ctx *ctx = NULL;  /* pidfiles are read under its sysroot */
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);

    struct cgp_guest_placement gp = gp_with("web1", 0, NULL);
    cr_assert(cgp_guest_matches(ctx, g, &gp), "no match lines: block name");
    gp = gp_with("web2", 0, NULL);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp));

    struct cgp_match m1[] = { { CGP_MATCH_NAME, "web1" } };
    gp = gp_with("other", 1, m1);
    cr_assert(cgp_guest_matches(ctx, g, &gp), "implicit/explicit name match");
    struct cgp_match m2[] = { { CGP_MATCH_UUID, "abcd-0001" } };
    gp = gp_with("x", 1, m2);
    cr_assert(cgp_guest_matches(ctx, g, &gp), "uuid case-insensitive");
    struct cgp_match m3[] = { { CGP_MATCH_PIDFILE, "/run/web1.pid" } };
    gp = gp_with("x", 1, m3);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp), "the -pidfile argument alone proves nothing: no such file");
    struct cgp_match m4[] = { { CGP_MATCH_PIDFILE, "/run/other.pid" } };
    gp = gp_with("x", 1, m4);
    cr_assert(cgp_guest_matches(ctx, g, &gp), "pidfile holding the pid (read under the sysroot)");
    struct cgp_match m5[] = { { CGP_MATCH_PIDFILE, "/run/wrong.pid" } };
    gp = gp_with("x", 1, m5);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp), "pidfile of another pid");
    struct cgp_match m6[] = { { CGP_MATCH_PIDFILE, "/run/absent.pid" } };
    gp = gp_with("x", 1, m6);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp));
    struct cgp_match m7[] = { { CGP_MATCH_QMP, "/run/web1.qmp" } };
    gp = gp_with("x", 1, m7);
    cr_assert(cgp_guest_matches(ctx, g, &gp), "qmp path");
    struct cgp_match m8[] = { { CGP_MATCH_NAME, "web1" }, { CGP_MATCH_QMP, "/run/web2.qmp" } };
    gp = gp_with("x", 2, m8);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp), "every match line must hold");
    struct cgp_match m9[] = { { CGP_MATCH_NAME, "web1" }, { CGP_MATCH_UUID, "ABCD-0001" },
                              { CGP_MATCH_PIDFILE, "/run/other.pid" } };
    gp = gp_with("x", 3, m9);
    cr_assert(cgp_guest_matches(ctx, g, &gp));
    struct cgp_match m10[] = { { CGP_MATCH_NAME, "WEB1" } };
    gp = gp_with("x", 1, m10);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp), "names are case-sensitive");
    gp = gp_with("x", 1, m4);
    cr_assert_not(cgp_guest_matches(NULL, g, &gp), "no ctx: only -pidfile counts");
    cgp_ctx_free(ctx);
    cgp_guests_free(l);
}

Test(discover, matches_guest_without_name)
{
    fk_proc(1100, QEMU, "qemu-system-x86", A(QEMU, "-m", "64"), 1, "/", NULL);
    cgp_guest_list *l = discover(0, 1);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    str_eq(g->name, NULL, "name");
    cgp_ctx *ctx = NULL;
    struct cgp_guest_placement gp = gp_with("x", 0, NULL);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp));
    struct cgp_match m[] = { { CGP_MATCH_UUID, "x" } };
    gp = gp_with("x", 1, m);
    cr_assert_not(cgp_guest_matches(ctx, g, &gp));
    cgp_guests_free(l);
}

/* argv comes from /proc/PID/mem at [arg_start, arg_end) when it can (reading
 * cmdline can pull a guest's page across nodes under NUMA balancing), and
 * from cmdline when mem is missing, short, hidden or rewritten. */
static void argv_case(int pid, const char *mem_name, size_t cut, bool terminate, uint64_t a0)
{
    fk_proc(pid, QEMU, "qemu-system-x86", A(QEMU, "-name", "fromcmdline"), 77, "/", NULL);
    char img[256];
    int len = snprintf(img, sizeof img, "%s%c-name%c%s", QEMU, 0, 0, mem_name) + 1;
    if (!terminate)
        img[len - 1] = 'x';             /* setproctitle-style: argv area not NUL-ended */
    fk_argv_mem(pid, "qemu-system-x86", 77, a0, img, (size_t)len - cut, a0 ? a0 + (uint64_t)len : 0);
}

Test(discover, argv_read_from_mem_first)
{
    argv_case(1100, "frommem", 0, true, 4096);
    cgp_guest_list *l = discover(0, 1);
    str_eq(cgp_guests_get(l, 0)->name, "frommem", "argv from mem");
    cr_assert_eq(cgp_guests_get(l, 0)->start_time, 77ull);
    cgp_guests_free(l);
}

Test(discover, argv_falls_back_to_cmdline)
{
    argv_case(1101, "short", 3, true, 4096);        /* mem ends before arg_end */
    argv_case(1102, "rewritten", 0, false, 4096);   /* last byte not NUL */
    argv_case(1103, "hidden", 0, true, 0);          /* fields hidden (0 0): no ptrace access */
    argv_case(1104, "nomem", 0, true, 4096);
    fk_unlink("proc/1104/mem");
    cgp_guest_list *l = discover(0, 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(cgp_guests_get(l, i)->name, "fromcmdline", "guest pid %d", cgp_guests_get(l, i)->pid);
    cgp_guests_free(l);
    uint64_t v;
    cr_assert_eq(cgp_guests_stat_field("1 (a b) S 2 3", 5, &v), 0);
    cr_assert_eq(v, 3u);
    cr_assert_eq(cgp_guests_stat_field("1 (a b) S 2 3", 6, &v), -EINVAL, "past the last field");
    cr_assert_eq(cgp_guests_stat_field("1 (a b) S 2 3\n", 6, &v), -EINVAL, "past the last field, newline");
    cr_assert_eq(cgp_guests_stat_field("1 (a b) S 2 3", 3, &v), -EINVAL, "state is not a number");
}
