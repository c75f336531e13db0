/* Process events for `watch`: the netlink proc connector (exec, fork,
 * thread, comm and exit events: a new QEMU and its vCPU threads within
 * moments, no polling), and a bounded polling fallback where the connector
 * is refused (no CAP_NET_ADMIN, a container). */
#include "guests-int.h"
#include "cgplace_watch.h"

#include <dirent.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cgp_procev_open(int *fd)
{
    if (!fd)
        return -EINVAL;
    int s = cgp_netlink_open(NETLINK_CONNECTOR, CN_IDX_PROC);
    if (s < 0)
        return s;
    /* a bigger queue: a burst of forks (a build) must not drop QEMU's exec */
    int rcv = 4 << 20;
    (void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    /* nlmsghdr + cn_msg + the op, laid out by hand (cn_msg ends in a
     * flexible array) */
    enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    struct nlmsghdr nl = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof op), .nlmsg_type = NLMSG_DONE };
    struct cn_msg cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof op };
    unsigned char req[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof op)] __attribute__((aligned(8)));
    memset(req, 0, sizeof req);
    memcpy(req, &nl, sizeof nl);
    memcpy(req + NLMSG_HDRLEN, &cn, sizeof cn);
    memcpy(req + NLMSG_HDRLEN + sizeof cn, &op, sizeof op);
    struct sockaddr_nl to = { .nl_family = AF_NETLINK };
    if (sendto(s, req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        int e = errno;
        close(s);
        return -e;
    }
    *fd = s;
    return 0;
}

/* One proc_event (ev, len bytes of it) as at most one of ours. */
static bool one_event(const struct proc_event *ev, size_t len, struct cgp_procev *o)
{
    size_t hdr = offsetof(struct proc_event, event_data);
    switch (ev->what) {
    case PROC_EVENT_EXEC:
        if (len < hdr + sizeof ev->event_data.exec)
            return false;
        *o = (struct cgp_procev){ CGP_PROCEV_EXEC, (int)ev->event_data.exec.process_tgid,
                                  (int)ev->event_data.exec.process_pid };
        return true;
    case PROC_EVENT_FORK:
        if (len < hdr + sizeof ev->event_data.fork)
            return false;
        *o = (struct cgp_procev){ ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid
                                  ? CGP_PROCEV_FORK : CGP_PROCEV_THREAD,
                                  (int)ev->event_data.fork.child_tgid, (int)ev->event_data.fork.child_pid };
        return true;
    case PROC_EVENT_COMM:
        if (len < hdr + sizeof ev->event_data.comm)
            return false;
        *o = (struct cgp_procev){ CGP_PROCEV_COMM, (int)ev->event_data.comm.process_tgid,
                                  (int)ev->event_data.comm.process_pid };
        return true;
    case PROC_EVENT_EXIT:
        if (len < hdr + sizeof ev->event_data.exit)
            return false;
        /* a thread's exit changes nothing placed; the leader's ends the process */
        if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid)
            return false;
        *o = (struct cgp_procev){ CGP_PROCEV_EXIT, (int)ev->event_data.exit.process_tgid,
                                  (int)ev->event_data.exit.process_pid };
        return true;
    default:
        return false;
    }
}

int cgp_procev_parse(const void *buf, size_t len, struct cgp_procev *out, size_t max, size_t *n)
{
    if ((!buf && len) || (!out && max) || !n)
        return -EINVAL;
    *n = 0;
    const unsigned char *p = buf;
    while (len >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr nl;
        memcpy(&nl, p, sizeof nl);      /* the datagram need not be aligned */
        if (nl.nlmsg_len < sizeof nl || nl.nlmsg_len > len)
            return -EINVAL;
        if (nl.nlmsg_type == NLMSG_ERROR || nl.nlmsg_type == NLMSG_OVERRUN) {
            if (*n < max)
                out[(*n)++] = (struct cgp_procev){ CGP_PROCEV_LOST, 0, 0 };
        } else if (nl.nlmsg_type == NLMSG_DONE && nl.nlmsg_len >= sizeof nl + sizeof(struct cn_msg)) {
            struct cn_msg cn;
            memcpy(&cn, p + sizeof nl, sizeof cn);
            size_t room = nl.nlmsg_len - sizeof nl - sizeof cn;
            if (cn.len > room)
                return -EINVAL;
            if (cn.id.idx == CN_IDX_PROC && cn.id.val == CN_VAL_PROC &&
                cn.len >= offsetof(struct proc_event, event_data) && cn.len <= sizeof(struct proc_event) + 64) {
                struct proc_event ev;
                memset(&ev, 0, sizeof ev);
                memcpy(&ev, p + sizeof nl + sizeof cn, cn.len < sizeof ev ? cn.len : sizeof ev);
                if (*n < max && one_event(&ev, cn.len, &out[*n]))
                    (*n)++;
            }
        }
        size_t step = NLMSG_ALIGN(nl.nlmsg_len);
        if (step >= len)
            break;
        p += step;
        len -= step;
    }
    return 0;
}

int cgp_procev_read(int fd, struct cgp_procev *out, size_t max, size_t *n)
{
    /* proc events are small; one page holds every message of a datagram */
    unsigned char buf[4096] __attribute__((aligned(8)));
    struct sockaddr_nl from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (r < 0)
        return -errno;
    if (fl != sizeof from || from.nl_pid != 0) {  /* only the kernel speaks here */
        *n = 0;
        return 0;
    }
    return cgp_procev_parse(buf, (size_t)r, out, max, n);
}

/* ---- polling fallback ---- */

struct cgp_procscan {
    int *pids;          /* ascending */
    size_t n;
    bool primed;
};

int cgp_procscan_new(cgp_procscan **out)
{
    if (!out)
        return -EINVAL;
    cgp_procscan *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}

void cgp_procscan_free(cgp_procscan *s)
{
    if (s)
        free(s->pids);
    free(s);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int cgp_procscan_run(cgp_procscan *s, cgp_ctx *ctx, struct cgp_procev *out, size_t max, size_t *n)
{
    if (!s || !ctx || !n || (!out && max))
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    int dfd = cgp_open_dir(ctx->root_fd, "proc", false);
    if (dfd < 0)
        return cgp_ctx_errorf(ctx, dfd, "opening proc: %s", strerror(-dfd));
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ENOMEM;
    }
    int *now = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < CGP_PROCSCAN_MAX) {
        char *end;
        long v = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || v <= 0 || v > CGP_MAX_ID * 4L)
            continue;
        if (nn == cap) {
            int *g = cgp_grow_array(now, &cap, sizeof *now);
            if (!g) {
                free(now);
                closedir(d);
                return -ENOMEM;
            }
            now = g;
        }
        now[nn++] = (int)v;
    }
    closedir(d);
    qsort(now, nn, sizeof *now, cmp_int);
    if (!s->primed) {
        s->pids = now, s->n = nn, s->primed = true;
        return *n = 0, 0;
    }
    /* merge: new pids are execs to look at, missing ones exits; past max,
     * the old view stays for what was not reported, so the next scan does */
    int *next = malloc((s->n + nn + 1) * sizeof *next);
    if (!next) {
        free(now);
        return -ENOMEM;
    }
    size_t k = 0, i = 0, j = 0, nx = 0;
    while (i < s->n || j < nn) {
        if (j < nn && (i >= s->n || now[j] < s->pids[i])) {
            if (k < max)
                out[k++] = (struct cgp_procev){ CGP_PROCEV_EXEC, now[j], now[j] }, next[nx++] = now[j];
            j++;
        } else if (i < s->n && (j >= nn || s->pids[i] < now[j])) {
            if (k < max)
                out[k++] = (struct cgp_procev){ CGP_PROCEV_EXIT, s->pids[i], s->pids[i] };
            else
                next[nx++] = s->pids[i];
            i++;
        } else {
            next[nx++] = now[j];
            i++, j++;
        }
    }
    free(now);
    free(s->pids);
    s->pids = next;
    s->n = nx;
    *n = k;
    return 0;
}
