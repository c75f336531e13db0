/* QMP over a unix stream socket, with a deadline (spec §5). The protocol
 * itself is parsers/qmp.c. */
#include "guests-int.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_at(int root_fd, const char *sysroot, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    bool root = !sysroot || !strcmp(sysroot, "/");
    int dfd = -1;
    int n;
    if (root)
        n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    else
        n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s%s%s", sysroot,
                     sysroot[strlen(sysroot) - 1] == '/' ? "" : "/", path + (path[0] == '/'));
    if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
        /* Too long for sun_path: reach it through its directory's fd. */
        const char *slash = strrchr(path, '/');
        if (!slash || !slash[1]) {
            snprintf(err, errlen, "%s: bad socket path", path);
            return -EINVAL;
        }
        char *dir = strndup(path, (size_t)(slash - path));
        if (!dir)
            return -ENOMEM;
        const char *rel = dir;
        while (*rel == '/')
            rel++;
        dfd = openat(root_fd, *rel ? rel : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(dir);
        if (dfd < 0) {
            int e = errno;
            snprintf(err, errlen, "%s: %s", path, strerror(e));
            return -e;
        }
        n = snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
        if (n < 0 || (size_t)n >= sizeof sa.sun_path) {
            close(dfd);
            snprintf(err, errlen, "%s: socket path too long", path);
            return -ENAMETOOLONG;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        snprintf(err, errlen, "socket: %s", strerror(e));
        return -e;
    }
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    if (dfd >= 0)
        close(dfd);
    if (r < 0 && e != EINPROGRESS) {
        close(fd);
        snprintf(err, errlen, "%s: connect: %s", path, strerror(e));
        return -e;
    }
    return fd;
}

/* One QMP conversation: the socket, the session and its buffers. */
struct qmp_conn {
    int fd;                             /* -1 once finished */
    const char *path;
    struct cgp_qmp_session s;
    char buf[16384];
    size_t have, off;                   /* unparsed input: buf[off..have) */
    char outq[512];
    size_t outlen;                      /* bytes waiting to be sent */
    bool connected;
    int r;                              /* 0 running, 1 done, -errno failed */
    char err[200];
};

static int conn_open(struct qmp_conn *c, int root_fd, const char *sysroot, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->path = path;
    if (!path || path[0] != '/') {
        snprintf(c->err, sizeof c->err, "%s: not an absolute path", path ? path : "(null)");
        return c->r = -EINVAL;
    }
    int r = cgp_qmp_session_init(&c->s);
    if (r < 0)
        return c->r = r;
    int fd = connect_at(root_fd, sysroot, path, c->err, sizeof c->err);
    if (fd < 0) {
        cgp_qmp_session_clear(&c->s);
        return c->r = fd;
    }
    c->fd = fd;
    return 0;
}

static short conn_events(const struct qmp_conn *c)
{
    return (short)(POLLIN | (c->outlen || !c->connected ? POLLOUT : 0));
}

/* Act on what poll said about c's socket; sets c->r when it is over. */
static void conn_step(struct qmp_conn *c, short revents)
{
    if (!revents)
        return;
    c->connected = true;
    if (revents & POLLOUT && c->outlen) {
        ssize_t w = send(c->fd, c->outq, c->outlen, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            c->r = -errno;
            snprintf(c->err, sizeof c->err, "%s: send: %s", c->path, strerror(errno));
            return;
        }
        if (w > 0) {
            memmove(c->outq, c->outq + w, c->outlen - (size_t)w);
            c->outlen -= (size_t)w;
        }
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    if (c->off == c->have)
        c->off = c->have = 0;
    ssize_t rd = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
    if (rd < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            c->r = -errno;
            snprintf(c->err, sizeof c->err, "%s: recv: %s", c->path, strerror(errno));
        }
        return;
    }
    if (rd == 0) {
        snprintf(c->err, sizeof c->err, "%s: the server closed the connection", c->path);
        c->r = -ECONNRESET;
        return;
    }
    c->have += (size_t)rd;
    int r = 0;
    while (c->off < c->have && r == 0) {
        size_t used;
        const char *cmd;
        r = cgp_qmp_feed(&c->s, c->buf + c->off, c->have - c->off, &used, &cmd);
        c->off += used;
        if (cmd) {
            size_t cl = strlen(cmd);
            if (c->outlen + cl > sizeof c->outq) {
                r = -EPROTO;
                break;
            }
            memcpy(c->outq + c->outlen, cmd, cl);
            c->outlen += cl;
        }
        if (used == 0 && r == 0)
            break;
    }
    if (c->off == c->have)
        c->off = c->have = 0;
    c->r = r;
}

/* Finish c: 0 and *out when the session completed, else -errno with err. */
static int conn_close(struct qmp_conn *c, int timeout_ms, struct cgp_qmp_threads *out, char *err, size_t errlen)
{
    int r = c->r;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
        if (r == 0) {
            snprintf(c->err, sizeof c->err, "%s: no complete answer within %d ms", c->path, timeout_ms);
            r = -ETIMEDOUT;
        }
        if (r == 1) {
            *out = c->s.t;
            memset(&c->s.t, 0, sizeof c->s.t);
            r = 0;
        } else if (r < 0 && !c->err[0]) {
            snprintf(c->err, sizeof c->err, "%s: %s", c->path, c->s.err[0] ? c->s.err : strerror(-r));
        }
        cgp_qmp_session_clear(&c->s);
    }
    snprintf(err, errlen, "%s", r < 0 ? c->err : "");
    return r;
}

int cgp_qmp_query_all(int root_fd, const char *sysroot, const char *const *paths, size_t n, int timeout_ms,
                      struct cgp_qmp_threads *out, int *res)
{
    struct qmp_conn *c = calloc(n ? n : 1, sizeof *c);
    struct pollfd *p = calloc(n ? n : 1, sizeof *p);
    if (!c || !p) {
        free(c);
        free(p);
        return -ENOMEM;
    }
    int connected = 0;
    for (size_t i = 0; i < n; i++)
        if (conn_open(&c[i], root_fd, sysroot, paths[i]) == 0)
            connected++;
    /* one deadline for every conversation at once */
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].fd >= 0 && c[i].r == 0)
                p[k++] = (struct pollfd){ .fd = c[i].fd, .events = conn_events(&c[i]) };
        long long left = deadline - now_ms();
        if (!k || left <= 0)
            break;
        int pr = poll(p, k, (int)left);
        if (pr < 0 && errno != EINTR)
            break;
        for (size_t i = 0, j = 0; pr > 0 && i < n; i++)
            if (c[i].fd >= 0 && c[i].r == 0)
                conn_step(&c[i], p[j++].revents);
    }
    char err[200];
    for (size_t i = 0; i < n; i++) {
        res[i] = conn_close(&c[i], timeout_ms, &out[i], err, sizeof err);
        if (c[i].r == -ENOMEM)
            res[i] = -ENOMEM;
    }
    free(c);
    free(p);
    return connected;
}

int cgp_qmp_query(int root_fd, const char *sysroot, const char *path, int timeout_ms,
                  struct cgp_qmp_threads *out, char *err, size_t errlen)
{
    struct qmp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int r = conn_open(c, root_fd, sysroot, path);
    long long deadline = now_ms() + timeout_ms;
    while (r == 0 && c->r == 0) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd p = { .fd = c->fd, .events = conn_events(c) };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno != EINTR) {
            c->r = -errno;
            break;
        }
        if (pr > 0)
            conn_step(c, p.revents);
    }
    r = conn_close(c, timeout_ms, out, err, errlen);
    free(c);
    return r;
}
