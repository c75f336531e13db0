/* cgplace_watch.h — the event sources and the in-memory model of `cgplace
 * watch` (spec §6): the netlink proc connector (with a polling fallback),
 * kernel uevents for CPU and memory hotplug, and the model that decides
 * whether an event needs a placement pass at all.
 *
 * Conventions are those of cgplace.h: negative errno, never prints, out-
 * parameters written only on success, the caller frees what it receives.
 * Sockets are opened SOCK_NONBLOCK|SOCK_CLOEXEC; the caller closes them.
 */
#ifndef CGPLACE_WATCH_H
#define CGPLACE_WATCH_H

#include "cgplace.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Process events (guests/procevents.c) ---- */

enum cgp_procev_kind {
    CGP_PROCEV_EXEC,     /* pid execve'd (tid: the thread that did) */
    CGP_PROCEV_FORK,     /* a new process pid (tid == pid) */
    CGP_PROCEV_THREAD,   /* a new thread tid in process pid */
    CGP_PROCEV_COMM,     /* thread tid of process pid renamed itself (QEMU names its vCPU threads) */
    CGP_PROCEV_EXIT,     /* process pid exited (its last thread) */
    CGP_PROCEV_LOST,     /* the kernel dropped events (ENOBUFS): rescan */
};

struct cgp_procev {
    enum cgp_procev_kind kind;
    int pid;   /* the process (thread group id) */
    int tid;   /* the thread */
};

/* Subscribe to the proc connector (NETLINK_CONNECTOR, CN_IDX_PROC,
 * PROC_CN_MCAST_LISTEN). *fd on success. Returns 0, -EPERM/-EACCES (no
 * CAP_NET_ADMIN, or a container), -EPROTONOSUPPORT (no connector), -errno. */
CGP_EXPORT int cgp_procev_open(int *fd);
/* Parse one datagram of the proc connector (one or more netlink messages)
 * into at most max events: *n of them. Messages that are not proc events
 * (NLMSG_NOOP, other connector ids, events of other kinds) are skipped;
 * an NLMSG_ERROR or NLMSG_OVERRUN gives CGP_PROCEV_LOST. Returns 0 or
 * -EINVAL (a truncated or inconsistent message; the events before it are
 * in out and *n). */
CGP_EXPORT int cgp_procev_parse(const void *buf, size_t len, struct cgp_procev *out, size_t max, size_t *n);
/* Read one datagram from fd and parse it. 0 and *n (0 when nothing
 * relevant), -EAGAIN (nothing queued), -ENOBUFS (the socket overflowed: the
 * caller rescans; *n is 0), -errno. */
CGP_EXPORT int cgp_procev_read(int fd, struct cgp_procev *out, size_t max, size_t *n);

/* The polling fallback: the pids of SYSROOT/proc between two scans. */
typedef struct cgp_procscan cgp_procscan;
CGP_EXPORT int cgp_procscan_new(cgp_procscan **out);
CGP_EXPORT void cgp_procscan_free(cgp_procscan *s);
/* Scan SYSROOT/proc (at most CGP_PROCSCAN_MAX pids: the work is bounded)
 * and report the processes new since the last scan as CGP_PROCEV_EXEC and
 * those gone as CGP_PROCEV_EXIT, at most max (the rest are reported by the
 * next scans); the first scan reports nothing. Returns 0, -ENOENT, -ENOMEM. */
#define CGP_PROCSCAN_MAX 65536
CGP_EXPORT int cgp_procscan_run(cgp_procscan *s, cgp_ctx *ctx, struct cgp_procev *out, size_t max, size_t *n);

/* ---- Kernel uevents (topology/uevent.c) ---- */

enum cgp_uevent_subsys { CGP_UEVENT_OTHER, CGP_UEVENT_CPU, CGP_UEVENT_MEMORY, CGP_UEVENT_NODE };

struct cgp_uevent {
    enum cgp_uevent_subsys subsys;
    bool hotplug;          /* cpu/memory/node online, offline, add or remove */
    char action[16];       /* ACTION= (truncated), "" when missing */
    char devpath[128];     /* DEVPATH= (truncated), "" when missing */
};

/* Subscribe to the kernel's uevents (NETLINK_KOBJECT_UEVENT, group 1). 0 and
 * *fd, or -errno. */
CGP_EXPORT int cgp_uevent_open(int *fd);
/* Parse one kernel uevent datagram ("ACTION@DEVPATH\0KEY=VALUE\0..."). A
 * udev ("libudev" magic) message, a missing '@' header or a header that
 * disagrees with ACTION= is -EINVAL; *out is written only on 0. */
CGP_EXPORT int cgp_uevent_parse(const void *buf, size_t len, struct cgp_uevent *out);
/* Read one datagram from fd and parse it: 0 and *out, -EAGAIN (nothing
 * queued), -ENOBUFS (the socket overflowed: events were lost), -EINVAL (not
 * from the kernel, or unparsable: skip it), -errno. */
CGP_EXPORT int cgp_uevent_read(int fd, struct cgp_uevent *out);

/* ---- The model (guests/watchmodel.c) ---- */

/* What watch remembers of the host between placement passes: every QEMU
 * process a policy block placed (pid, start time, threads seen, whether its
 * vCPU threads were all told apart) and the online CPUs and nodes. */
typedef struct cgp_watch_model cgp_watch_model;

enum cgp_watch_action {
    CGP_WATCH_NOTHING,   /* the event changes nothing the policy places */
    CGP_WATCH_PLACE,     /* run a placement pass */
    CGP_WATCH_THREADS,   /* the guest placed whole (event pid) has all its vCPU threads told
                          * apart now: place them (its block is known: no pass needed) */
};

CGP_EXPORT int cgp_watch_model_new(cgp_watch_model **out);
CGP_EXPORT void cgp_watch_model_free(cgp_watch_model *m);
/* Remember the result of a pass: the guests of pl that e placed (their
 * processes and e are borrowed only during the call) and the online CPUs
 * and nodes of ctx's host now. Returns 0, -ENOMEM, -errno reading sysfs. */
CGP_EXPORT int cgp_watch_model_remember(cgp_watch_model *m, cgp_ctx *ctx, const cgp_placement *pl,
                                        const cgp_enforce *e);
/* Add one guest placed alone (pending while its vCPU threads are not all
 * told apart) after cgp_watch_model_remember; a pid already there is
 * replaced. Returns 0, -ENOMEM, -EINVAL. */
CGP_EXPORT int cgp_watch_model_add(cgp_watch_model *m, const struct cgp_guest *g, unsigned want_vcpus,
                                   const char *cgroup);
/* Forget the host facts (a pass failed): the next re-check asks for a pass. */
CGP_EXPORT void cgp_watch_model_invalidate(cgp_watch_model *m);
/* The vCPU threads of g told apart (thread names or QMP). */
CGP_EXPORT unsigned cgp_watch_vcpus_told(const struct cgp_guest *g);
/* Does the event need a pass? EXEC or FORK (-daemonize) of a QEMU process
 * and LOST: PLACE; a new or renamed thread of a placed guest whose vCPU
 * threads were not all told apart and now are: THREADS. Anything else: NOTHING, at the cost of at most
 * one look at the process (an exec or fork) or none (a pid the model does not know).
 * An EXIT forgets the process. */
CGP_EXPORT enum cgp_watch_action cgp_watch_model_event(cgp_watch_model *m, cgp_ctx *ctx,
                                                       const struct cgp_procev *ev);
/* The cheap re-check after an event that may change nothing (a uevent, a
 * tick): the online CPUs and nodes, and per remembered guest whether it is
 * still the process placed (one read of its stat: pid and start time). PLACE when anything differs. *looked
 * (may be NULL) counts the files looked at. */
CGP_EXPORT enum cgp_watch_action cgp_watch_model_recheck(cgp_watch_model *m, cgp_ctx *ctx, size_t *looked);
/* The guest pid is placed per thread now (after CGP_WATCH_THREADS). */
CGP_EXPORT void cgp_watch_model_complete(cgp_watch_model *m, int pid);
/* Remembered guests whose vCPU threads are not all told apart yet (QEMU
 * still starting, or thread names missing: QMP tells them apart). */
CGP_EXPORT size_t cgp_watch_model_pending(const cgp_watch_model *m);
CGP_EXPORT size_t cgp_watch_model_count(const cgp_watch_model *m);
/* The remembered guests' cgroup directories (relative to the cgroup root,
 * borrowed from m) for inotify on their cgroup.events: i < count. */
CGP_EXPORT const char *cgp_watch_model_cgroup(const cgp_watch_model *m, size_t i);

#ifdef __cplusplus
}
#endif
#endif
