/* The proc connector's messages as watch parses them (guests/procevents.c):
 * exec, process fork, thread, comm and leader exit become events; other
 * messages are skipped; a truncated or inconsistent datagram is refused
 * without reading past it. And the polling fallback on a fake /proc. */
#include "fakeproc.h"
#include "cgplace_watch.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

/* One netlink message holding one proc_event, appended at buf+*off. */
static void put_event(unsigned char *buf, size_t *off, const struct proc_event *ev)
{
    struct nlmsghdr nl = { .nlmsg_len = (uint32_t)(sizeof nl + sizeof(struct cn_msg) + sizeof *ev),
                           .nlmsg_type = NLMSG_DONE };
    struct cn_msg cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof *ev };
    memcpy(buf + *off, &nl, sizeof nl);
    memcpy(buf + *off + sizeof nl, &cn, sizeof cn);
    memcpy(buf + *off + sizeof nl + sizeof cn, ev, sizeof *ev);
    *off += NLMSG_ALIGN(nl.nlmsg_len);
}

static struct proc_event ev_of(enum what w)
{
    struct proc_event e;
    memset(&e, 0, sizeof e);
    e.what = w;
    return e;
}

Test(procev, each_kind)
{
    unsigned char buf[2048];
    size_t off = 0;
    struct proc_event e = ev_of(PROC_EVENT_EXEC);
    e.event_data.exec.process_pid = 10, e.event_data.exec.process_tgid = 10;
    put_event(buf, &off, &e);
    e = ev_of(PROC_EVENT_FORK);
    e.event_data.fork.parent_pid = 10, e.event_data.fork.parent_tgid = 10;
    e.event_data.fork.child_pid = 11, e.event_data.fork.child_tgid = 10;   /* a thread */
    put_event(buf, &off, &e);
    e.event_data.fork.child_pid = 12, e.event_data.fork.child_tgid = 12;   /* a process */
    put_event(buf, &off, &e);
    e = ev_of(PROC_EVENT_COMM);
    e.event_data.comm.process_pid = 11, e.event_data.comm.process_tgid = 10;
    put_event(buf, &off, &e);
    e = ev_of(PROC_EVENT_EXIT);
    e.event_data.exit.process_pid = 11, e.event_data.exit.process_tgid = 10;   /* a thread: skipped */
    put_event(buf, &off, &e);
    e.event_data.exit.process_pid = 10;
    put_event(buf, &off, &e);
    e = ev_of(PROC_EVENT_UID);   /* not ours */
    put_event(buf, &off, &e);

    struct cgp_procev out[16];
    size_t n = 99;
    cr_assert_eq(cgp_procev_parse(buf, off, out, 16, &n), 0);
    cr_assert_eq(n, 5);
    const struct cgp_procev want[] = {
        { CGP_PROCEV_EXEC, 10, 10 }, { CGP_PROCEV_THREAD, 10, 11 }, { CGP_PROCEV_FORK, 12, 12 },
        { CGP_PROCEV_COMM, 10, 11 }, { CGP_PROCEV_EXIT, 10, 10 },
    };
    for (size_t i = 0; i < 5; i++) {
        cr_expect_eq(out[i].kind, want[i].kind, "event %zu", i);
        cr_expect_eq(out[i].pid, want[i].pid, "event %zu", i);
        cr_expect_eq(out[i].tid, want[i].tid, "event %zu", i);
    }
    /* room for two: the first two only */
    cr_assert_eq(cgp_procev_parse(buf, off, out, 2, &n), 0);
    cr_assert_eq(n, 2);
}

Test(procev, hostile_datagrams)
{
    unsigned char buf[512];
    size_t off = 0;
    struct proc_event e = ev_of(PROC_EVENT_EXEC);
    e.event_data.exec.process_pid = 7, e.event_data.exec.process_tgid = 7;
    put_event(buf, &off, &e);
    struct cgp_procev out[4];
    size_t n;
    /* cut short: every length below the message's */
    for (size_t len = sizeof(struct nlmsghdr); len < off - 4; len++)
        cr_assert_eq(cgp_procev_parse(buf, len, out, 4, &n), -EINVAL, "length %zu", len);
    /* shorter than a header: nothing, no error */
    cr_assert_eq(cgp_procev_parse(buf, 3, out, 4, &n), 0);
    cr_assert_eq(n, 0);
    /* nlmsg_len says more than the datagram holds */
    struct nlmsghdr nl;
    memcpy(&nl, buf, sizeof nl);
    nl.nlmsg_len = 4096;
    memcpy(buf, &nl, sizeof nl);
    cr_assert_eq(cgp_procev_parse(buf, off, out, 4, &n), -EINVAL);
    /* nlmsg_len below a header: no endless loop */
    nl.nlmsg_len = 2;
    memcpy(buf, &nl, sizeof nl);
    cr_assert_eq(cgp_procev_parse(buf, off, out, 4, &n), -EINVAL);
    /* cn_msg.len larger than its message */
    off = 0;
    put_event(buf, &off, &e);
    struct cn_msg cn;
    memcpy(&cn, buf + sizeof nl, sizeof cn);
    cn.len = 4000;
    memcpy(buf + sizeof nl, &cn, sizeof cn);
    cr_assert_eq(cgp_procev_parse(buf, off, out, 4, &n), -EINVAL);
    /* another connector's message: skipped */
    cn.len = sizeof e;
    cn.id.idx = CN_IDX_PROC + 1;
    memcpy(buf + sizeof nl, &cn, sizeof cn);
    cr_assert_eq(cgp_procev_parse(buf, off, out, 4, &n), 0);
    cr_assert_eq(n, 0);
    /* an overrun: events were lost */
    nl = (struct nlmsghdr){ .nlmsg_len = sizeof nl, .nlmsg_type = NLMSG_OVERRUN };
    memcpy(buf, &nl, sizeof nl);
    cr_assert_eq(cgp_procev_parse(buf, sizeof nl, out, 4, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].kind, CGP_PROCEV_LOST);
    cr_assert_eq(cgp_procev_parse(NULL, 4, out, 4, &n), -EINVAL);
}

TestSuite(procscan, .init = fk_setup, .fini = fk_teardown);

Test(procscan, new_and_gone_bounded)
{
    cgp_ctx *ctx = NULL;
    cgp_procscan *s = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cr_assert_eq(cgp_procscan_new(&s), 0);
    fk_stat(100, "init", 1);
    fk_stat(200, "bash", 2);
    fk_text("x", "proc/self");   /* not a pid */
    struct cgp_procev ev[2];
    size_t n = 9;
    cr_assert_eq(cgp_procscan_run(s, ctx, ev, 2, &n), 0);
    cr_assert_eq(n, 0, "the first scan is the baseline");
    fk_stat(300, "qemu-system-x86", 3);
    fk_stat(400, "qemu-system-x86", 4);
    fk_stat(500, "qemu-system-x86", 5);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "rm -rf '%s/proc/200'", fk_root);
    cr_assert_eq(system(p), 0);
    /* four changes, room for two a scan: every one reported once */
    int seen_exec[600] = { 0 }, seen_exit[600] = { 0 };
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(cgp_procscan_run(s, ctx, ev, 2, &n), 0);
        for (size_t i = 0; i < n; i++)
            (ev[i].kind == CGP_PROCEV_EXEC ? seen_exec : seen_exit)[ev[i].pid]++;
    }
    cr_assert_eq(seen_exit[200], 1);
    cr_assert_eq(seen_exec[300], 1);
    cr_assert_eq(seen_exec[400], 1);
    cr_assert_eq(seen_exec[500], 1);
    cr_assert_eq(seen_exec[100] + seen_exit[100], 0);
    cr_assert_eq(cgp_procscan_run(s, ctx, ev, 2, &n), 0);
    cr_assert_eq(n, 0, "nothing new");
    cgp_procscan_free(s);
    cgp_ctx_free(ctx);
}
