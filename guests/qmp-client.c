/* QMP over a unix stream socket, with a deadline (spec §5). The protocol
 * itself is parsers/qmp.c. */
#include "guests-int.h"

#include <errno.h>
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

int cgp_qmp_query(int root_fd, const char *sysroot, const char *path, int timeout_ms,
                  struct cgp_qmp_threads *out, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!path || path[0] != '/') {
        snprintf(err, errlen, "%s: not an absolute path", path ? path : "(null)");
        return -EINVAL;
    }
    int fd CGP_AUTOCLOSE = connect_at(root_fd, sysroot, path, err, errlen);
    if (fd < 0)
        return fd;
    struct cgp_qmp_session s;
    int r = cgp_qmp_session_init(&s);
    if (r < 0)
        return r;
    long long deadline = now_ms() + timeout_ms;
    char buf[16384];
    size_t have = 0, off = 0;           /* unparsed input: buf[off..have) */
    char outq[512];
    size_t outlen = 0;                  /* bytes waiting to be sent */
    bool connected = false;
    r = 0;
    while (r == 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(err, errlen, "%s: no complete answer within %d ms", path, timeout_ms);
            r = -ETIMEDOUT;
            break;
        }
        struct pollfd p = { .fd = fd, .events = (short)(POLLIN | (outlen || !connected ? POLLOUT : 0)) };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (pr == 0)
            continue;
        connected = true;
        if (p.revents & POLLOUT && outlen) {
            ssize_t w = send(fd, outq, outlen, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                r = -errno;
                snprintf(err, errlen, "%s: send: %s", path, strerror(errno));
                break;
            }
            if (w > 0) {
                memmove(outq, outq + w, outlen - (size_t)w);
                outlen -= (size_t)w;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (off == have)
                off = have = 0;
            ssize_t rd = recv(fd, buf + have, sizeof buf - have, 0);
            if (rd < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                r = -errno;
                snprintf(err, errlen, "%s: recv: %s", path, strerror(errno));
                break;
            }
            if (rd == 0) {
                snprintf(err, errlen, "%s: the server closed the connection", path);
                r = -ECONNRESET;
                break;
            }
            have += (size_t)rd;
            while (off < have && r == 0) {
                size_t used;
                const char *cmd;
                r = cgp_qmp_feed(&s, buf + off, have - off, &used, &cmd);
                off += used;
                if (cmd) {
                    size_t cl = strlen(cmd);
                    if (outlen + cl > sizeof outq) {
                        r = -EPROTO;
                        break;
                    }
                    memcpy(outq + outlen, cmd, cl);
                    outlen += cl;
                }
                if (used == 0 && r == 0)
                    break;
            }
            if (off == have)
                off = have = 0;
        }
    }
    if (r == 1) {
        *out = s.t;
        memset(&s.t, 0, sizeof s.t);
        r = 0;
    } else if (r < 0 && !err[0]) {
        snprintf(err, errlen, "%s: %s", path, s.err[0] ? s.err : strerror(-r));
    }
    cgp_qmp_session_clear(&s);
    return r;
}
