/* Discovery of real QEMU processes (TCG, no KVM needed) through sysroot "/":
 * name, pidfile, QMP path, vCPU threads via QMP and via debug-threads names.
 * Touches no cgroup. Skipped when qemu-system-x86_64 is not installed. */
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static int qpid = -1;

static void stop_qemu(void)
{
    if (qpid > 0) {
        kill(qpid, SIGKILL);
        for (int i = 0; i < 100 && kill(qpid, 0) == 0; i++)
            usleep(50000);
        qpid = -1;
    }
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        dir[0] = '\0';
    }
}

static void setup(void)
{
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
        cr_skip_test("qemu-system-x86_64 is not installed");
    snprintf(dir, sizeof dir, "/tmp/cgpq-XXXXXX");
    cr_assert(mkdtemp(dir));
}

/* Start a daemonized QEMU with extra options; returns its pid (pidfile). */
static int start_qemu(const char *extra)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "qemu-system-x86_64 -accel tcg -S -m 64 -nodefaults -display none -daemonize "
             "-pidfile %s/qemu.pid %s", dir, extra);
    cr_assert_eq(system(cmd), 0, "could not start: %s", cmd);
    char p[128];
    snprintf(p, sizeof p, "%s/qemu.pid", dir);
    FILE *f = fopen(p, "r");
    cr_assert(f, "no pidfile");
    cr_assert_eq(fscanf(f, "%d", &qpid), 1);
    fclose(f);
    cr_assert(qpid > 0);
    return qpid;
}

static const struct cgp_guest *find(cgp_guest_list *l, int pid)
{
    for (size_t i = 0; i < cgp_guests_count(l); i++)
        if (cgp_guests_get(l, i)->pid == pid)
            return cgp_guests_get(l, i);
    cr_assert_fail("process %d was not discovered among %zu QEMU processes", pid, cgp_guests_count(l));
    return NULL;
}

/* Independent QMP reader: a blocking socket and json-c, one message per line. */
static struct json_object *raw_cmd(int fd, FILE *in, const char *cmd)
{
    if (cmd)
        cr_assert(send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) == (ssize_t)strlen(cmd));
    char line[65536];
    while (fgets(line, sizeof line, in)) {
        struct json_object *o = json_tokener_parse(line);
        if (o && json_object_object_get_ex(o, "event", NULL)) {
            json_object_put(o);
            continue;
        }
        return o;
    }
    cr_assert_fail("QMP connection closed");
    return NULL;
}

static int raw_vcpu0_tid(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect %s: %s", sock, strerror(errno));
    FILE *in = fdopen(dup(fd), "r");
    json_object_put(raw_cmd(fd, in, NULL));    /* greeting */
    json_object_put(raw_cmd(fd, in, "{\"execute\":\"qmp_capabilities\"}\n"));
    struct json_object *r = raw_cmd(fd, in, "{\"execute\":\"query-cpus-fast\"}\n"), *ret, *tid;
    cr_assert(json_object_object_get_ex(r, "return", &ret));
    cr_assert_eq(json_object_array_length(ret), 1);
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(ret, 0), "thread-id", &tid));
    int t = json_object_get_int(tid);
    json_object_put(r);
    fclose(in);
    close(fd);
    return t;
}

static cgp_guest_list *discover_live(cgp_ctx **ctx)
{
    cr_assert_eq(cgp_ctx_new("/", NULL, ctx), 0);
    cgp_guest_list *l = NULL;
    int r = cgp_guests_discover(*ctx, CGP_DISCOVER_QMP, &l);
    cr_assert_eq(r, 0, "discover: %d %s", r, cgp_ctx_last_error(*ctx));
    return l;
}

TestSuite(realqemu, .init = setup, .fini = stop_qemu, .timeout = 60);

Test(realqemu, qmp_without_thread_names)
{
    char extra[256], sock[128], pidfile[128];
    snprintf(sock, sizeof sock, "%s/qmp.sock", dir);
    snprintf(pidfile, sizeof pidfile, "%s/qemu.pid", dir);
    snprintf(extra, sizeof extra, "-qmp unix:%s,server=on,wait=off -name guest=t1", sock);
    int pid = start_qemu(extra);
    /* QEMU on a loaded machine can take seconds before its monitor answers; discovery's
     * deadline (5 s for the whole run) is not what this test measures, so wait for a first
     * answer through the independent reader (blocking, bounded by the suite's timeout). */
    int raw_tid = raw_vcpu0_tid(sock);
    cgp_ctx *ctx;
    cgp_guest_list *l = discover_live(&ctx);
    const struct cgp_guest *g = find(l, pid);
    cr_assert(g->name && !strcmp(g->name, "t1"), "name %s", g->name ? g->name : "(null)");
    cr_assert(g->pidfile && !strcmp(g->pidfile, pidfile), "pidfile %s", g->pidfile ? g->pidfile : "(null)");
    cr_assert(g->qmp && !strcmp(g->qmp, sock), "qmp %s", g->qmp ? g->qmp : "(null)");
    cr_assert(g->pidfd >= 0, "a pidfd on the live host");
    cr_assert(g->start_time > 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_QMP, "thread source %d", g->thread_source);
    int vt = -1, nv = 0;
    for (size_t i = 0; i < g->n_threads; i++)
        if (g->threads[i].role == CGP_THREAD_VCPU) {
            nv++;
            vt = g->threads[i].tid;
            cr_assert_eq(g->threads[i].vcpu, 0);
        }
    cr_assert_eq(nv, 1, "one vCPU thread (got %d)", nv);
    cr_assert_neq(vt, pid, "the vCPU thread is not the main thread");
    /* the same tid through an independent QMP reader */
    cr_assert_eq(vt, raw_tid);
    cr_assert_eq(vt, raw_vcpu0_tid(sock), "and again after discovery's conversation");

    struct cgp_match m[] = { { CGP_MATCH_PIDFILE, pidfile }, { CGP_MATCH_QMP, sock }, { CGP_MATCH_NAME, "t1" } };
    struct cgp_guest_placement gp = { .name = "x", .n_matches = 3, .matches = m };
    cr_assert(cgp_guest_matches(ctx, g, &gp));

    cr_assert_eq(cgp_guest_alive(ctx, g), 0);
    kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
        usleep(50000);
    qpid = -1;
    cr_assert_eq(cgp_guest_alive(ctx, g), -ESRCH, "exited");
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

Test(realqemu, debug_thread_names)
{
    int pid = start_qemu("-name guest=t2,debug-threads=on -smp 2 -object iothread,id=io1");
    cgp_ctx *ctx;
    cgp_guest_list *l = discover_live(&ctx);
    const struct cgp_guest *g = find(l, pid);
    cr_assert(g->name && !strcmp(g->name, "t2"));
    cr_assert(g->debug_threads);
    cr_assert_null(g->qmp);
    cr_assert_eq(g->thread_source, CGP_THREADS_NAMES);
    int seen[2] = { 0, 0 }, io = 0;
    for (size_t i = 0; i < g->n_threads; i++) {
        const struct cgp_guest_thread *t = &g->threads[i];
        char p[96], comm[64] = "";
        snprintf(p, sizeof p, "/proc/%d/task/%d/comm", pid, t->tid);
        FILE *f = fopen(p, "r");
        cr_assert(f, "%s", p);
        cr_assert(fgets(comm, sizeof comm, f));
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (t->role == CGP_THREAD_VCPU) {
            cr_assert(t->vcpu == 0 || t->vcpu == 1);
            seen[t->vcpu]++;
            char want[32];
            snprintf(want, sizeof want, "CPU %d/TCG", t->vcpu);
            cr_assert_str_eq(comm, want);
        } else if (t->role == CGP_THREAD_IOTHREAD) {
            io++;
            cr_assert_str_eq(t->iothread, "io1");
            cr_assert_str_eq(comm, "IO io1");
        } else {
            cr_assert(strncmp(comm, "CPU ", 4) && strncmp(comm, "IO ", 3), "emulator thread named %s", comm);
        }
    }
    cr_assert(seen[0] == 1 && seen[1] == 1, "vCPU threads found: %d %d", seen[0], seen[1]);
    cr_assert_eq(io, 1);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}
