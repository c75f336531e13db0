/* QMP: a round trip against a fake QMP server thread (through discovery on
 * a fake proc tree); the session parser itself is tested in
 * tests/parsers/test_qmp.c. */
#include "fakeproc.h"
#include "cgplace_guests.h"
#include "guests-int.h"
#include "qmp.h"
#include "qmp_replies.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define QEMU "/usr/bin/qemu-system-x86_64"

/* ------------------------------------------------------------------ */
/* Fake QMP server                                                       */
/* ------------------------------------------------------------------ */

enum srv_mode { SRV_NORMAL, SRV_SILENT, SRV_JUNK };

struct srv {
    int lfd;
    enum srv_mode mode;
    int tids[3];            /* vCPU 0, vCPU 1, iothread */
    char got[1024];         /* commands received, "execute" names joined by ' ' */
    int done;
};

static void sendall(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void *server(void *arg)
{
    struct srv *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (s->mode == SRV_SILENT) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        poll(&p, 1, 5000);      /* until the client gives up */
        close(fd);
        return NULL;
    }
    if (s->mode == SRV_JUNK) {
        sendall(fd, "this is not QMP\r\n");
        struct pollfd p = { .fd = fd, .events = POLLIN };
        poll(&p, 1, 5000);
        close(fd);
        return NULL;
    }
    sendall(fd, GREETING);
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            char reply[1024];
            const char *ex = strstr(buf, "\"execute\"");
            char name[64] = "";
            if (ex && sscanf(ex, "\"execute\": \"%63[^\"]\"", name) == 1) {
                strcat(s->got, *s->got ? " " : "");
                strcat(s->got, name);
            }
            const char *id = strstr(buf, "\"id\": \"");
            char idv[64] = "";
            if (id)
                sscanf(id, "\"id\": \"%63[^\"]\"", idv);
            sendall(fd, EVENT);
            if (!strcmp(name, "qmp_capabilities"))
                snprintf(reply, sizeof reply, "{\"return\": {}, \"id\": \"%s\"}\r\n", idv);
            else if (!strcmp(name, "query-cpus-fast"))
                snprintf(reply, sizeof reply,
                         "{\"return\": [{\"thread-id\": %d, \"props\": {\"thread-id\": 0}, \"cpu-index\": 0}, "
                         "{\"thread-id\": %d, \"props\": {\"thread-id\": 1}, \"cpu-index\": 1}], \"id\": \"%s\"}\r\n",
                         s->tids[0], s->tids[1], idv);
            else if (!strcmp(name, "query-iothreads"))
                snprintf(reply, sizeof reply, "{\"return\": [{\"id\": \"io-long-name-1\", \"thread-id\": %d}], \"id\": \"%s\"}\r\n",
                         s->tids[2], idv);
            else
                snprintf(reply, sizeof reply, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}\r\n");
            sendall(fd, reply);
            memmove(buf, nl + 1, strlen(nl + 1) + 1);
            have = strlen(buf);
        }
    }
    close(fd);
    s->done = 1;
    return NULL;
}

static int listen_at(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    cr_assert(strlen(path) < sizeof sa.sun_path, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0, "bind %s: %s", path, strerror(errno));
    cr_assert_eq(listen(fd, 4), 0);
    return fd;
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fake guest without thread names whose QMP socket is ROOT/run/q.sock. */
static void qmp_guest(void)
{
    fk_proc(4000, QEMU, "qemu-system-x86", A(QEMU, "-name", "q", "-qmp", "unix:/run/q.sock,server=on,wait=off"), 9,
            "/cgplace/q", A("4000:qemu-system-x86", "4001:qemu-system-x86", "4002:qemu-system-x86",
                            "4003:qemu-system-x86", "4004:qemu-system-x86"));
    char d[PATH_MAX + 8];
    snprintf(d, sizeof d, "%s/run", fk_root);
    mkdir(d, 0755);
}

static cgp_guest_list *discover_with_server(struct srv *s, long long *elapsed)
{
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/run/q.sock", fk_root);
    s->lfd = listen_at(sock);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, server, s), 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    long long t0 = ms_now();
    cr_assert_eq(cgp_guests_discover(ctx, CGP_DISCOVER_QMP, &l), 0);
    *elapsed = ms_now() - t0;
    cgp_ctx_free(ctx);
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(s->lfd);
    cr_assert_eq(cgp_guests_count(l), 1);
    return l;
}

TestSuite(qmp_server, .init = fk_setup, .fini = fk_teardown);

Test(qmp_server, round_trip)
{
    qmp_guest();
    struct srv s = { .mode = SRV_NORMAL, .tids = { 4002, 4003, 4004 } };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_str_eq(s.got, "qmp_capabilities query-cpus-fast query-iothreads", "commands sent: %s", s.got);
    cr_assert_eq(g->thread_source, CGP_THREADS_QMP);
    cr_assert_eq(g->n_threads, 5);
    static const struct { int role, vcpu; const char *io; } want[] = {
        { CGP_THREAD_EMULATOR, -1, NULL }, { CGP_THREAD_EMULATOR, -1, NULL }, { CGP_THREAD_VCPU, 0, NULL },
        { CGP_THREAD_VCPU, 1, NULL }, { CGP_THREAD_IOTHREAD, -1, "io-long-name-1" },
    };
    for (size_t i = 0; i < 5; i++) {
        cr_expect_eq(g->threads[i].tid, 4000 + (int)i);
        cr_expect_eq((int)g->threads[i].role, want[i].role, "tid %d role %d", g->threads[i].tid, g->threads[i].role);
        cr_expect_eq(g->threads[i].vcpu, want[i].vcpu);
        if (want[i].io)
            cr_expect(g->threads[i].iothread && !strcmp(g->threads[i].iothread, want[i].io));
    }
    cgp_guests_free(l);
}

/* All sockets are asked at once within the one deadline: a socket that
 * never answers (guest 3000, asked first in pid order) delays no other
 * guest's answer. */
Test(qmp_server, silent_socket_delays_no_other)
{
    qmp_guest();
    fk_proc(3000, QEMU, "qemu-system-x86", A(QEMU, "-name", "s", "-qmp", "unix:/run/s.sock,server=on,wait=off"), 9,
            "/", NULL);
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/run/s.sock", fk_root);
    int silent = listen_at(sock);
    snprintf(sock, sizeof sock, "%s/run/q.sock", fk_root);
    struct srv s = { .mode = SRV_NORMAL, .tids = { 4002, 4003, 4004 } };
    s.lfd = listen_at(sock);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, server, &s), 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    cr_assert_eq(cgp_guests_count(l), 2);
    cr_expect_eq(cgp_guests_query_qmp(ctx, l, NULL, 1000), 2, "both sockets connected to");
    cr_expect_eq(cgp_guests_get(l, 0)->thread_source, CGP_THREADS_UNKNOWN, "the silent one: unknown");
    cr_expect_eq(cgp_guests_get(l, 1)->thread_source, CGP_THREADS_QMP, "the other answered in time");
    shutdown(s.lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(s.lfd);
    close(silent);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

Test(qmp_server, without_flag_no_connection)
{
    qmp_guest();
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/run/q.sock", fk_root);
    int lfd = listen_at(sock);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    cr_assert_eq(cgp_guests_get(l, 0)->thread_source, CGP_THREADS_UNKNOWN);
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    cr_assert_eq(poll(&p, 1, 0), 0, "no connection was made without CGP_DISCOVER_QMP");
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
    close(lfd);
}

Test(qmp_server, tids_of_another_namespace_are_refused)
{
    qmp_guest();
    struct srv s = { .mode = SRV_NORMAL, .tids = { 14002, 14003, 14004 } };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_UNKNOWN);
    for (size_t i = 0; i < g->n_threads; i++)
        cr_assert_eq(g->threads[i].role, CGP_THREAD_EMULATOR);
    cgp_guests_free(l);
}

Test(qmp_server, shared_vcpu_thread_is_unknown)
{
    qmp_guest();   /* single-threaded TCG: every vCPU on one thread */
    struct srv s = { .mode = SRV_NORMAL, .tids = { 4002, 4002, 4004 } };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    cr_assert_eq(cgp_guests_get(l, 0)->thread_source, CGP_THREADS_UNKNOWN);
    cgp_guests_free(l);
}

Test(qmp_server, silent_server_times_out)
{
    qmp_guest();
    struct srv s = { .mode = SRV_SILENT };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    cr_assert_eq(cgp_guests_get(l, 0)->thread_source, CGP_THREADS_UNKNOWN);
    cr_assert(ms >= CGP_QMP_TIMEOUT_MS - 50 && ms < CGP_QMP_TIMEOUT_MS + 1500, "gave up after %lld ms", ms);
    cgp_guests_free(l);
}

Test(qmp_server, junk_server)
{
    qmp_guest();
    struct srv s = { .mode = SRV_JUNK };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    cr_assert_eq(cgp_guests_get(l, 0)->thread_source, CGP_THREADS_UNKNOWN);
    cr_assert(ms < 1000, "junk is refused at once (%lld ms)", ms);
    cgp_guests_free(l);
}

Test(qmp_server, client_direct_long_path)
{
    /* a socket path too long for sun_path once joined to the sysroot */
    char rel[PATH_MAX], sock[PATH_MAX + 200];
    snprintf(rel, sizeof rel, "run/%s", "a-rather-long-directory-name-to-overflow-sun-path-0123456789-abcdefghij-klmnopqrstuvwxyz-0123456789");
    snprintf(sock, sizeof sock, "%s/%s", fk_root, rel);
    fk_mkdirs(sock);
    snprintf(sock + strlen(sock), 32, "/q.sock");
    cr_assert(strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path));
    /* bind through a chdir: the test itself needs a short path */
    char cwd[PATH_MAX];
    cr_assert(getcwd(cwd, sizeof cwd));
    char dir[PATH_MAX + 200];
    snprintf(dir, sizeof dir, "%s/%s", fk_root, rel);
    cr_assert_eq(chdir(dir), 0);
    struct srv s = { .mode = SRV_NORMAL, .tids = { 11, 12, 13 } };
    s.lfd = listen_at("q.sock");
    cr_assert_eq(chdir(cwd), 0);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, server, &s), 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    char path[PATH_MAX + 16], err[256];
    snprintf(path, sizeof path, "/%s/q.sock", rel);
    struct cgp_qmp_threads t;
    int r = cgp_qmp_query(ctx->root_fd, ctx->sysroot, path, 2000, &t, err, sizeof err);
    shutdown(s.lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(s.lfd);
    cgp_ctx_free(ctx);
    cr_assert_eq(r, 0, "query: %d %s", r, err);
    cr_assert_eq(t.n_vcpus, 2);
    cr_assert_eq(t.vcpus[0].tid, 11);
    cr_assert_eq(t.vcpus[1].tid, 12);
    cr_assert_eq(t.n_iothreads, 1);
    cr_assert_eq(t.iothreads[0].tid, 13);
    cgp_qmp_threads_clear(&t);
}

Test(qmp_server, cut_iothread_name_completed_by_qmp)
{
    /* debug-threads names, but "IO io-long-name-1" was cut to "IO io-long-name" */
    fk_proc(4000, QEMU, "qemu-system-x86", A(QEMU, "-name", "guest=q,debug-threads=on", "-qmp", "unix:/run/q.sock,server=on,wait=off"), 9,
            "/", A("4000:qemu-system-x86", "4001:CPU 0/KVM", "4002:CPU 1/KVM", "4003:IO io-long-name", "4004:IO io2"));
    char d[PATH_MAX + 8];
    snprintf(d, sizeof d, "%s/run", fk_root);
    mkdir(d, 0755);
    struct srv s = { .mode = SRV_NORMAL, .tids = { 4001, 4002, 4003 } };
    long long ms;
    cgp_guest_list *l = discover_with_server(&s, &ms);
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cr_assert_eq(g->thread_source, CGP_THREADS_NAMES);
    cr_assert_eq(g->threads[3].role, CGP_THREAD_IOTHREAD);
    cr_assert_str_eq(g->threads[3].iothread, "io-long-name-1");
    cr_assert_str_eq(g->threads[4].iothread, "io2");
    cr_assert_eq(g->threads[1].vcpu, 0);
    cgp_guests_free(l);
}
