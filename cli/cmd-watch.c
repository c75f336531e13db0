/* cgplace watch [POLICY] — the daemon that keeps the placement true (spec
 * §6): it places each new QEMU process moments after its exec, its vCPU
 * threads once QEMU has started them, re-applies after CPU and memory
 * hotplug and after drift, reloads the policy on SIGHUP.
 *
 * Every placement is one pass of the engine `apply` uses: discover (QMP
 * where thread names are missing), compile the policy with the running
 * guests, enforce, read back. The model (cgplace_watch.h) decides whether
 * an event needs a pass at all: an exec of anything but QEMU, a thread of
 * a guest already placed, a uevent that leaves the online CPUs and nodes
 * as they were cost one look at most, never a scan of /proc.
 *
 * Logs go to stderr with syslog priority prefixes ("<3>" error, "<4>"
 * warning, "<6>" info, "<7>" debug with -v): journald and syslog read them
 * as priorities. */
#include "cli.h"
#include "cgplace_watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_INTERVAL_S 60
#define POLL_FALLBACK_MS 1000      /* the /proc polling fallback's period */
#define PENDING_FIRST_MS 100       /* vCPU threads not told apart yet: retry after ... */
#define PENDING_MAX_MS 5000        /* ... doubling up to this ... */
#define PENDING_GIVEUP_MS 30000    /* ... for this long after the guest was first placed */
#define EVENTS_PER_WAKE 256        /* datagrams read per wake-up: the rest on the next */
#define MAX_WATCHES 4096           /* inotify watches on guests' cgroup.events */
#define SETTLE_MS 2000             /* a full pass this long after a fast placement */

enum { LOG_ERR_ = 3, LOG_WARN_ = 4, LOG_INFO_ = 6, LOG_DEBUG_ = 7 };

struct watch {
    struct cli *cli;
    cgp_ctx *ctx;
    const char *path;
    cgp_policy *policy;
    cgp_topology *topo;
    cgp_watch_model *model;
    /* the last pass's compiled placement and the processes it borrows: a
     * guest's threads are placed from it without another pass */
    cgp_placement *base;
    cgp_guest_list *base_list;
    const struct cgp_guest **base_g;
    cgp_procscan *scan;     /* polling fallback, NULL with the connector */
    int procfd, uevfd, inofd, sigfd;
    char *cgroot;           /* the cgroup root (cgp_cgroup_root), for inotify paths */
    size_t n_watches;
    uint64_t interval_ms, watchdog_ms;
    uint64_t next_full, next_poll, next_watchdog, next_pending, pending_since, pending_step, next_settle;
    bool need_pass, need_topology;
    unsigned long passes;
    const char *metrics;    /* --metrics FILE: verify's metrics after every pass */
    struct cli_textfile *metrics_tf;   /* the first one's temporary, made before the sandbox */
};

static void wlog(const struct watch *w, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void wlog(const struct watch *w, int prio, const char *fmt, ...)
{
    if ((prio == LOG_DEBUG_ && w->cli->verbose < 1) || (prio >= LOG_INFO_ && w->cli->verbose < 0))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* one write per line: lines from a pass never interleave with others */
    fprintf(stderr, "<%d>cgplace: watch: %s\n", prio, buf);
    fflush(stderr);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The policy's errors, and its warnings with warnings (a policy's warnings
 * once: at start and reload, not on every pass). */
static void log_diags(const struct watch *w, const cgp_diags *d, bool warnings)
{
    for (size_t i = 0; d && i < cgp_diags_count(d); i++) {
        const struct cgp_diag *dg = cgp_diags_get(d, i);
        if (dg->warning && !warnings)
            continue;
        char *s CLI_AUTO_FREE = cgp_diag_format(dg);
        char *e CLI_AUTO_FREE = cli_escape(s ? s : dg->msg);
        wlog(w, dg->warning ? LOG_WARN_ : LOG_ERR_, "%s", e ? e : "?");
    }
}

int prep_watch(struct cli *cli, struct cli_env *env)
{
    (void)env;
    /* the policy's warnings come back as a list (json_warnings), which
     * cmd_watch logs with its priority prefix; watch prints no JSON */
    cli->json = true;
    const char *s = cli->args.interval;
    long v;
    if (s && !cli_seconds(s, 1, 86400, &v))
        return cli_error(EXIT_USAGE, cli->cmd, "--interval: '%s' is not a number of seconds from 1 to 86400", s);
    return EXIT_OK;
}

/* ---- the placement pass: the engine of `apply` ---- */

static const char *level_text(enum cgp_msg_level l)
{
    return l == CGP_MSG_ERROR ? "error: " : l == CGP_MSG_WARNING ? "warning: " : "";
}

static void log_enforce(struct watch *w, const cgp_enforce *e, const char *why)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++) {
        const struct cgp_enforce_msg *m = cgp_enforce_msg(e, i);
        int prio = m->level == CGP_MSG_ERROR ? LOG_ERR_ : m->level == CGP_MSG_WARNING ? LOG_WARN_ : LOG_DEBUG_;
        wlog(w, prio, "%s%s", level_text(m->level), m->text);
    }
    for (size_t i = 0; i < cgp_enforce_n_guests(e); i++) {
        const struct cgp_enforce_guest *g = cgp_enforce_guest(e, i);
        if (g->state == CGP_GUEST_CHANGED)
            wlog(w, LOG_INFO_, "placed %s (pid %d): %zu write%s (%s)", g->name, g->proc ? g->proc->pid : 0,
                 g->n_ops, g->n_ops == 1 ? "" : "s", why);
        else if (g->proc && g->state != CGP_GUEST_UNCHANGED)
            wlog(w, LOG_ERR_, "%s (pid %d): %s%s%s", g->name, g->proc->pid, cgp_guest_state_name(g->state),
                 g->detail ? ": " : "", g->detail ? g->detail : "");
    }
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    if (s->outcome == CGP_ENFORCE_FAILED)
        wlog(w, LOG_ERR_, "pass (%s) failed: %zu write%s rolled back%s", why, s->n_undone,
             s->n_undone == 1 ? "" : "s", s->rollback_incomplete ? " (INCOMPLETE)" : "");
    else if (s->outcome == CGP_ENFORCE_INVALID)
        wlog(w, LOG_ERR_, "pass (%s) refused: nothing written", why);
    if (s->unmanaged_denied)
        wlog(w, LOG_ERR_, "%zu QEMU process%s no block places (unmanaged deny)", s->n_unmanaged,
             s->n_unmanaged == 1 ? "" : "es");
}

/* The guests' cgroup.events (their group and its children): a process or
 * thread moved out of them changes "populated" there. */
static void arm_inotify(struct watch *w)
{
    if (w->inofd < 0 || !w->cgroot)
        return;
    for (size_t i = 0; i < cgp_watch_model_count(w->model) && w->n_watches < MAX_WATCHES; i++) {
        char dir[PATH_MAX], f[PATH_MAX + 300];
        const char *cg = cgp_watch_model_cgroup(w->model, i);
        if (!cg || !*cg || snprintf(dir, sizeof dir, "%s/%s", w->cgroot, cg) >= (int)sizeof dir)
            continue;
        snprintf(f, sizeof f, "%s/cgroup.events", dir);
        if (inotify_add_watch(w->inofd, f, IN_MODIFY | IN_DONT_FOLLOW) >= 0)
            w->n_watches++;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
            if (dfd >= 0)
                close(dfd);
            continue;
        }
        struct dirent *de;
        while ((de = readdir(d)) && w->n_watches < MAX_WATCHES) {
            if (de->d_type != DT_DIR || de->d_name[0] == '.')
                continue;
            if (snprintf(f, sizeof f, "%s/%.255s/cgroup.events", dir, de->d_name) >= (int)sizeof f)
                continue;
            if (inotify_add_watch(w->inofd, f, IN_MODIFY | IN_DONT_FOLLOW) >= 0)
                w->n_watches++;
        }
        closedir(d);
    }
}

/* Drop queued inotify events: the pass's own writes make some. */
static void drain(int fd)
{
    char buf[4096] __attribute__((aligned(8)));
    for (int i = 0; fd >= 0 && i < 64 && read(fd, buf, sizeof buf) > 0; i++)
        ;
}

/* A guest QEMU has just exec'd: its vCPU threads are not told apart yet,
 * so it is placed whole, as `exec` places its child (the engine refuses a
 * per-thread placement it cannot make); its threads on a later pass. */
static void place_whole(struct watch *w, const cgp_placement *base, const struct cgp_guest_placement *gp,
                        const char *why)
{
    cgp_placement *px CLI_AUTO_PLACEMENT = NULL;
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    const struct cgp_guest *one[1] = { gp->proc };
    int r = cgp_placement_exec(w->ctx, base, gp->name, gp->proc, true, &px);
    if (r == 0)
        r = cgp_enforce_run(w->ctx, px, one, 1, 0, &e);
    if (r < 0) {
        const char *d = cgp_ctx_last_error(w->ctx);
        wlog(w, LOG_ERR_, "%s (pid %d): %s", gp->name, gp->proc->pid, *d ? d : strerror(-r));
        return;
    }
    log_enforce(w, e, why);
    const struct cgp_enforce_guest *eg = cgp_enforce_n_guests(e) ? cgp_enforce_guest(e, 0) : NULL;
    if (eg && (eg->state == CGP_GUEST_CHANGED || eg->state == CGP_GUEST_UNCHANGED))
        (void)cgp_watch_model_add(w->model, gp->proc, gp->n_vcpus, eg->cgroup);
}

/* Compile p with the processes g (n of them); errors logged, and warnings
 * with warnings (once per policy: its reload check, not every pass). */
static int compile(struct watch *w, const cgp_policy *p, const struct cgp_guest **g, size_t n, bool warnings,
                   cgp_placement **pl)
{
    cgp_diags *d CLI_AUTO_DIAGS = cgp_diags_new();
    if (!d)
        return -ENOMEM;
    int r = cgp_policy_compile_running(p, w->topo, w->ctx, g, n, d, pl);
    if (r < 0 || warnings)
        log_diags(w, d, true);
    return r;
}

static void drop_base(struct watch *w)
{
    cgp_placement_free(w->base);
    cgp_guests_free(w->base_list);
    free(w->base_g);
    w->base = NULL;
    w->base_list = NULL;
    w->base_g = NULL;
}

/* Keep the pass's placement and its processes (ownership moves to w). */
static void keep_base(struct watch *w, cgp_placement **pl, cgp_guest_list **l, const struct cgp_guest ***g)
{
    drop_base(w);
    w->base = *pl, w->base_list = *l, w->base_g = *g;
    *pl = NULL, *l = NULL, *g = NULL;
}

/* The block of the last pass's placement that process g is: the one that
 * has it as its process, else the one block not running whose match lines
 * hold for it. NULL when that is not clear-cut (no block, several, or g
 * also matches a block that runs: compile's "first matching block" rules
 * then decide, in a pass). */
static const struct cgp_guest_placement *block_of(struct watch *w, const struct cgp_guest *g)
{
    const struct cgp_guest_placement *hit = NULL;
    for (size_t j = 0; w->base && j < cgp_placement_n_guests(w->base); j++) {
        const struct cgp_guest_placement *x = cgp_placement_guest(w->base, j);
        if (x->proc && x->proc->pid == g->pid)
            return x->proc->start_time == g->start_time ? x : NULL;
        if (!cgp_guest_matches(w->ctx, g, x))
            continue;
        if (hit || x->proc)
            return NULL;
        hit = x;
    }
    return hit;
}

/* The fast path, from the last pass's compiled placement, for one process
 * (as exec's supervisor does: cgp_placement_exec, one engine run for it
 * alone, no discovery, no compile): a QEMU that has just exec'd (placed
 * whole until its vCPU threads can be told apart), or a guest whose vCPU
 * threads now can (CGP_WATCH_THREADS). False when the placement does not
 * tell which block it is, or the run failed: then a full pass. A process
 * placed this way gets a full pass a little later (settle), which keeps
 * what only a pass sees (unmanaged processes, `auto` commitments) true. */
static bool place_fast(struct watch *w, int pid, const char *why)
{
    cgp_guest_list *l CLI_AUTO_GUESTS = NULL;
    /* no QMP for a process that has just exec'd: its monitor is not up yet */
    unsigned flags = strcmp(why, "threads") ? 0 : CGP_DISCOVER_QMP;
    if (!w->base || cgp_guests_read_pid(w->ctx, pid, flags, &l) < 0 || cgp_guests_count(l) != 1)
        return false;
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    /* Who counts as a guest, as a pass judges it (cgp_policy_compile_running):
     * a process that is none is never placed; the next pass reports it, once.
     * Handled here, so an impostor's execs cost no full pass each. */
    const struct cgp_host_settings *hs = cgp_placement_host(w->base);
    char reason[256];
    if (cgp_guest_trusted(w->ctx, g, hs ? hs->trust : NULL, reason, sizeof reason) != 1) {
        char *e = cli_escape(g->name ? g->name : "?");
        wlog(w, LOG_DEBUG_, "process %d (%s) is not a guest: %s; not placed", pid, e ? e : "?", reason);
        free(e);
        return true;
    }
    const struct cgp_guest_placement *gp = block_of(w, g);
    if (!gp)
        return false;
    bool whole = cgp_watch_vcpus_told(g) < gp->n_vcpus;
    cgp_placement *px CLI_AUTO_PLACEMENT = NULL;
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    uint64_t t0 = now_ms();
    int r = cgp_placement_exec(w->ctx, w->base, gp->name, g, whole, &px);
    if (r == 0)
        r = cgp_enforce_run(w->ctx, px, &g, 1, 0, &e);
    if (r < 0) {
        const char *d = cgp_ctx_last_error(w->ctx);
        wlog(w, LOG_ERR_, "%s (pid %d): %s", gp->name, pid, *d ? d : strerror(-r));
        return false;
    }
    log_enforce(w, e, why);
    const struct cgp_enforce_guest *eg = cgp_enforce_n_guests(e) ? cgp_enforce_guest(e, 0) : NULL;
    bool ok = cgp_enforce_summary(e)->outcome == CGP_ENFORCE_OK && eg &&
              (eg->state == CGP_GUEST_CHANGED || eg->state == CGP_GUEST_UNCHANGED);
    if (ok && !whole)
        cgp_watch_model_complete(w->model, pid);
    if (ok && !gp->proc) {
        /* new to the model: remembered (pending when whole), settled soon */
        (void)cgp_watch_model_add(w->model, g, gp->n_vcpus, eg->cgroup);
        if (whole && !w->next_pending) {
            w->pending_since = now_ms();
            w->pending_step = PENDING_FIRST_MS;
            w->next_pending = w->pending_since + PENDING_FIRST_MS;
        }
        if (!w->next_settle)
            w->next_settle = now_ms() + SETTLE_MS;
    }
    wlog(w, LOG_DEBUG_, "%s (pid %d) %s: %zu write%s, %llu ms", gp->name, pid, whole ? "whole" : "per thread",
         cgp_enforce_summary(e)->n_writes, cgp_enforce_summary(e)->n_writes == 1 ? "" : "s",
         (unsigned long long)(now_ms() - t0));
    arm_inotify(w);
    drain(w->inofd);
    return ok;
}

/* --metrics: the audit of the pass just made, for node_exporter's textfile
 * collector (the file verify --format prometheus --output writes). A failure
 * is a warning: placing matters more than reporting. */
static void metrics(struct watch *w)
{
    if (!w->metrics || !w->base)
        return;
    size_t n;
    const struct cgp_guest **g CLI_AUTO_FREE = cli_guest_array(w->base_list, &n);
    int r = g ? cli_prometheus_audit(w->ctx, w->base, g, n, w->metrics, &w->metrics_tf) : -ENOMEM;
    char *e CLI_AUTO_FREE = cli_escape(w->metrics);
    if (r < 0)
        wlog(w, LOG_WARN_, "metrics into %s: %s", e ? e : "?", strerror(-r));
    else
        wlog(w, LOG_DEBUG_, "metrics written to %s", e ? e : "?");
}

/* One pass with policy p: discover, compile with the running guests,
 * enforce; guests whose vCPU threads are not told apart yet are left out
 * of that run and placed whole. Returns 0, or -EINVAL when p does not
 * compile on this host (diagnostics logged), or another -errno. dry:
 * compile only (reload's check). */
static int pass_with(struct watch *w, const cgp_policy *p, const char *why, bool dry)
{
    cgp_guest_list *l CLI_AUTO_GUESTS = NULL;
    /* QMP after the compile, as the one-shot verbs do (cli/prologue.c): only
     * for the processes a block matches, within the host block's deadline */
    int r = cgp_guests_discover(w->ctx, 0, &l);
    if (r < 0) {
        wlog(w, LOG_ERR_, "discovering guests: %s", strerror(-r));
        return r;
    }
    size_t n;
    const struct cgp_guest **g CLI_AUTO_FREE = cli_guest_array(l, &n);
    if (!g)
        return -ENOMEM;
    cgp_placement *pl0 CLI_AUTO_PLACEMENT = NULL;
    if ((r = compile(w, p, g, n, dry, &pl0)) < 0 || dry)
        return r;
    if ((r = cli_query_qmp_matched(w->ctx, l, pl0)) < 0)
        return r;
    /* the processes ready for the engine: all but the guests still starting */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool starting = false;
        for (size_t j = 0; j < cgp_placement_n_guests(pl0) && !starting; j++) {
            const struct cgp_guest_placement *gp = cgp_placement_guest(pl0, j);
            starting = gp->proc == g[i] && cgp_watch_vcpus_told(g[i]) < gp->n_vcpus;
        }
        if (!starting)
            g[k++] = g[i];
    }
    cgp_placement *pl1 CLI_AUTO_PLACEMENT = NULL;
    if (k < n && (r = compile(w, p, g, k, false, &pl1)) < 0)
        return r;
    const cgp_placement *pl = k < n ? pl1 : pl0;
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    uint64_t t0 = now_ms();
    if ((r = cgp_enforce_run(w->ctx, pl, g, k, 0, &e)) < 0) {
        const char *detail = cgp_ctx_last_error(w->ctx);
        wlog(w, LOG_ERR_, "pass (%s): %s", why, *detail ? detail : strerror(-r));
        return r;
    }
    w->passes++;
    log_enforce(w, e, why);
    if ((r = cgp_watch_model_remember(w->model, w->ctx, pl, e)) < 0)
        wlog(w, LOG_WARN_, "remembering the pass: %s", strerror(-r));
    if (cgp_enforce_summary(e)->outcome != CGP_ENFORCE_OK)
        cgp_watch_model_invalidate(w->model);
    for (size_t j = 0; k < n && j < cgp_placement_n_guests(pl0); j++) {
        const struct cgp_guest_placement *gp = cgp_placement_guest(pl0, j);
        if (gp->proc && cgp_watch_vcpus_told(gp->proc) < gp->n_vcpus)
            place_whole(w, pl0, gp, why);
    }
    wlog(w, LOG_DEBUG_, "pass %lu (%s): %zu process%s, %zu write%s, %llu ms", w->passes, why, n,
         n == 1 ? "" : "es", cgp_enforce_summary(e)->n_writes, cgp_enforce_summary(e)->n_writes == 1 ? "" : "s",
         (unsigned long long)(now_ms() - t0));
    arm_inotify(w);
    drain(w->inofd);
    keep_base(w, &pl0, &l, &g);
    metrics(w);
    return 0;
}

static void pass(struct watch *w, const char *why)
{
    w->need_pass = false;
    w->next_settle = 0;
    if (w->need_topology) {
        cgp_topology *t = NULL;
        int r = cgp_topology_read(w->ctx, &t);
        if (r < 0) {
            const char *d = cgp_ctx_last_error(w->ctx);
            wlog(w, LOG_ERR_, "re-reading the host topology: %s", *d ? d : strerror(-r));
        } else {
            drop_base(w);   /* it borrows the topology */
            cgp_topology_free(w->topo);
            w->topo = t;
            w->need_topology = false;
        }
    }
    size_t before = cgp_watch_model_pending(w->model);
    if (pass_with(w, w->policy, why, false) < 0)
        cgp_watch_model_invalidate(w->model);   /* the next re-check asks again */
    size_t pending = cgp_watch_model_pending(w->model);
    uint64_t now = now_ms();
    if (pending && (pending > before || !w->pending_since)) {
        /* a guest whose vCPU threads are not told apart yet: retry, backing off */
        if (!w->pending_since)
            w->pending_since = now;
        w->pending_step = PENDING_FIRST_MS;
        w->next_pending = now + w->pending_step;
    } else if (!pending) {
        w->pending_since = 0;
        w->next_pending = 0;
    }
    w->next_full = now + w->interval_ms;
}

/* ---- events ---- */

static void handle(struct watch *w, const struct cgp_procev *ev)
{
    switch (cgp_watch_model_event(w->model, w->ctx, ev)) {
    case CGP_WATCH_NOTHING:
        return;
    case CGP_WATCH_THREADS:
    case CGP_WATCH_PLACE:
        if (!w->need_pass && ev->kind != CGP_PROCEV_LOST &&
            place_fast(w, ev->pid, ev->kind == CGP_PROCEV_EXEC ? "exec" : ev->kind == CGP_PROCEV_FORK ? "fork"
                                                                                                  : "threads"))
            return;
        /* the last pass does not tell which block it is, or it failed: a pass */
        wlog(w, LOG_DEBUG_, "pid %d: %s", ev->pid, ev->kind == CGP_PROCEV_EXEC ? "exec" :
             ev->kind == CGP_PROCEV_FORK ? "fork" : ev->kind == CGP_PROCEV_LOST ? "events lost" : "threads");
        w->need_pass = true;
    }
}

static void proc_events(struct watch *w)
{
    struct cgp_procev ev[64];
    for (int k = 0; k < EVENTS_PER_WAKE; k++) {
        size_t n = 0;
        int r = cgp_procev_read(w->procfd, ev, 64, &n);
        if (r == -EAGAIN || r == -EINTR)
            return;
        if (r == -ENOBUFS) {
            wlog(w, LOG_WARN_, "proc connector overflowed: full pass");
            w->need_pass = true;
            continue;
        }
        if (r < 0) {
            wlog(w, LOG_DEBUG_, "proc connector: %s", strerror(-r));
            return;
        }
        for (size_t i = 0; i < n; i++)
            handle(w, &ev[i]);
    }
}

static void poll_proc(struct watch *w)
{
    struct cgp_procev ev[256];
    size_t n = 0;
    int r = cgp_procscan_run(w->scan, w->ctx, ev, 256, &n);
    if (r < 0) {
        wlog(w, LOG_ERR_, "polling proc: %s", strerror(-r));
        return;
    }
    for (size_t i = 0; i < n; i++)
        handle(w, &ev[i]);
}

static void uevents(struct watch *w)
{
    for (int k = 0; k < EVENTS_PER_WAKE; k++) {
        struct cgp_uevent ev;
        int r = cgp_uevent_read(w->uevfd, &ev);
        if (r == -ENOBUFS) {
            w->need_pass = w->need_topology = true;
            continue;
        }
        if (r == -EINVAL || (r == 0 && !ev.hotplug))
            continue;
        if (r < 0)
            return;
        char *dp CLI_AUTO_FREE = cli_escape(ev.devpath);
        char *ac CLI_AUTO_FREE = cli_escape(ev.action);
        wlog(w, LOG_INFO_, "hotplug: %s %s", ac ? ac : "?", dp ? dp : "?");
        /* a memory block changes the nodes' sizes; a CPU or node only
         * matters when the online sets differ from the last pass's */
        size_t looked;
        if (ev.subsys == CGP_UEVENT_MEMORY ||
            cgp_watch_model_recheck(w->model, w->ctx, &looked) == CGP_WATCH_PLACE)
            w->need_pass = w->need_topology = true;
    }
}

static void inotify_events(struct watch *w)
{
    char buf[4096] __attribute__((aligned(8)));
    ssize_t r = read(w->inofd, buf, sizeof buf);
    if (r <= 0)
        return;
    drain(w->inofd);
    wlog(w, LOG_DEBUG_, "a guest's cgroup.events changed");
    w->need_pass = true;
}

static int notify(const char *state)
{
    return sd_notify(0, state);
}

/* SIGHUP: the new policy, or the old one kept (and why). */
static void reload(struct watch *w)
{
    char buf[64];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
    notify(buf);
    cgp_diags *d CLI_AUTO_DIAGS = cgp_diags_new();
    cgp_policy *p = NULL;
    int r = d ? cgp_policy_parse_file(w->path, d, &p) : -ENOMEM;
    char *ep CLI_AUTO_FREE = cli_escape(w->path);
    if (r < 0) {
        log_diags(w, d, true);
        wlog(w, LOG_ERR_, "reload: %s: %s: keeping the policy in force", ep ? ep : "?",
             r == -EINVAL ? "invalid" : strerror(-r));
    } else if ((r = pass_with(w, p, "reload check", true)) < 0) {
        wlog(w, LOG_ERR_, "reload: %s does not compile on this host (%s): keeping the policy in force",
             ep ? ep : "?", strerror(-r));
        cgp_policy_free(p);
    } else {
        cgp_policy_free(w->policy);
        w->policy = p;
        wlog(w, LOG_INFO_, "reload: %s in force", ep ? ep : "?");
        pass(w, "reload");
    }
    notify("READY=1\nSTATUS=placing");
}

/* ---- the loop ---- */

static void open_sources(struct watch *w)
{
    int r = w->cli->args.polling ? -ENOTSUP : cgp_procev_open(&w->procfd);
    if (r < 0) {
        size_t n;
        /* the baseline before the first pass: a process started after it is new */
        if (cgp_procscan_new(&w->scan) < 0 || cgp_procscan_run(w->scan, w->ctx, NULL, 0, &n) < 0) {
            cgp_procscan_free(w->scan);
            w->scan = NULL;
        }
        wlog(w, r == -ENOTSUP ? LOG_INFO_ : LOG_WARN_, "process events: polling /proc every %d ms (%s)",
             POLL_FALLBACK_MS, r == -ENOTSUP ? "--polling" : strerror(-r));
    } else {
        wlog(w, LOG_INFO_, "process events: proc connector");
    }
    if ((r = cgp_uevent_open(&w->uevfd)) < 0)
        wlog(w, LOG_WARN_, "no kernel uevents (%s): hotplug is seen by the periodic pass only", strerror(-r));
    if ((w->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        wlog(w, LOG_WARN_, "no inotify (%s): drift is seen by the periodic pass only", strerror(errno));
    if ((r = cgp_cgroup_root(w->ctx, &w->cgroot)) < 0)
        w->cgroot = NULL;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    w->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void close_sources(struct watch *w)
{
    const int fds[] = { w->procfd, w->uevfd, w->inofd, w->sigfd };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    cgp_procscan_free(w->scan);
    cgp_watch_model_free(w->model);
    drop_base(w);
    cgp_policy_free(w->policy);
    cgp_topology_free(w->topo);
    free(w->cgroot);
}

/* SIGUSR1: the cheap re-check, its cost at -v (the benchmark's probe). */
static void recheck(struct watch *w)
{
    struct timespec a, b;
    size_t looked = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    enum cgp_watch_action act = cgp_watch_model_recheck(w->model, w->ctx, &looked);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    wlog(w, LOG_DEBUG_, "re-check: %zu guest%s, %zu file%s, %ld us: %s", cgp_watch_model_count(w->model),
         cgp_watch_model_count(w->model) == 1 ? "" : "s", looked, looked == 1 ? "" : "s", us,
         act == CGP_WATCH_PLACE ? "changed" : "unchanged");
    if (act == CGP_WATCH_PLACE)
        w->need_pass = w->need_topology = true;
}

/* Returns true to go on, false on SIGTERM/SIGINT. */
static bool signals(struct watch *w)
{
    struct signalfd_siginfo si;
    bool go_on = true;
    while (read(w->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP)
            reload(w);
        else if (si.ssi_signo == SIGUSR1)
            recheck(w);
        else
            go_on = false;
    }
    return go_on;
}

static uint64_t earliest(const struct watch *w)
{
    uint64_t t = w->next_full;
    const uint64_t others[] = { w->scan ? w->next_poll : 0, w->watchdog_ms ? w->next_watchdog : 0, w->next_pending,
                                w->next_settle };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        if (others[i] && others[i] < t)
            t = others[i];
    return t;
}

static void timers(struct watch *w)
{
    uint64_t now = now_ms();
    if (w->watchdog_ms && now >= w->next_watchdog) {
        notify("WATCHDOG=1");
        w->next_watchdog = now + w->watchdog_ms / 2;
    }
    if (w->scan && now >= w->next_poll) {
        poll_proc(w);
        w->next_poll = now + POLL_FALLBACK_MS;
    }
    if (w->next_pending && now >= w->next_pending) {
        if (now - w->pending_since >= PENDING_GIVEUP_MS) {
            wlog(w, LOG_WARN_, "%zu guest%s: vCPU threads not told apart after %d s (start QEMU with "
                 "-name NAME,debug-threads=on or a QMP socket): whole-guest placement",
                 cgp_watch_model_pending(w->model), cgp_watch_model_pending(w->model) == 1 ? "" : "s",
                 PENDING_GIVEUP_MS / 1000);
            w->next_pending = 0;
        } else {
            w->need_pass = true;
            uint64_t step = w->pending_step * 2 > PENDING_MAX_MS ? PENDING_MAX_MS : w->pending_step * 2;
            uint64_t since = w->pending_since;
            pass(w, "threads");
            if (w->next_pending) {
                w->pending_since = since;
                w->pending_step = step;
                w->next_pending = now_ms() + step;
            }
            return;
        }
    }
    if (now >= w->next_full)
        pass(w, "periodic verify");
    else if (w->next_settle && now >= w->next_settle)
        pass(w, "settle");
}

int cmd_watch(struct cli *cli, struct cli_env *env)
{
    struct watch w = { .cli = cli, .ctx = env->ctx, .path = env->policy_path, .procfd = -1, .uevfd = -1,
                       .inofd = -1, .sigfd = -1 };
    w.interval_ms = (cli->args.interval ? (uint64_t)strtol(cli->args.interval, NULL, 10) : DEFAULT_INTERVAL_S) * 1000;
    /* the prologue checked the policy (exit 2 before anything); keep it parsed */
    cgp_diags *d CLI_AUTO_DIAGS = cgp_diags_new();
    int r = d ? cgp_policy_parse_file(w.path, d, &w.policy) : -ENOMEM;
    if (r < 0)
        return cli_error(r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME, cli->cmd, "%s: %s", w.path, strerror(-r));
    for (size_t i = 0; env->warnings && i < json_object_array_length(env->warnings); i++) {
        char *e CLI_AUTO_FREE = cli_escape(json_object_get_string(json_object_array_get_idx(env->warnings, i)));
        wlog(&w, LOG_WARN_, "%s", e ? e : "?");
    }
    w.topo = env->topo;
    env->topo = NULL;
    cgp_placement_free(env->pl);    /* it borrowed the topology */
    env->pl = NULL;
    if ((r = cgp_watch_model_new(&w.model)) < 0) {
        close_sources(&w);
        return cli_error(EXIT_RUNTIME, cli->cmd, "%s", strerror(-r));
    }
    open_sources(&w);
    if (w.sigfd < 0) {
        close_sources(&w);
        return cli_error(EXIT_RUNTIME, cli->cmd, "signalfd: %s", strerror(errno));
    }
    uint64_t wd = 0;
    if (sd_watchdog_enabled(0, &wd) > 0 && wd >= 2000)
        w.watchdog_ms = wd / 1000;
    if ((w.metrics = cli->args.output)) {
        /* checked now (exit 2), and its first temporary made before the sandbox */
        if ((r = cli_textfile_open(w.metrics, &env->textfile)) < 0) {
            close_sources(&w);
            return cli_error(EXIT_USAGE, cli->cmd, "--metrics %s: %s", w.metrics, strerror(-r));
        }
        cli->sandbox_persist = true;   /* fsync and rename, as verify --output */
    }
    cli->sandbox_unix = true;   /* QMP, systemd's bus, sd_notify */
    cli->sandbox_watch = true;
    int rc = cli_sandbox(cli, cli->cmd);
    w.metrics_tf = env->textfile;   /* the privilege check has seen it */
    env->textfile = NULL;
    if (rc != EXIT_OK) {
        cli_textfile_close(w.metrics_tf);
        close_sources(&w);
        return rc;
    }
    pass(&w, "start");
    char *ep CLI_AUTO_FREE = cli_escape(w.path);
    wlog(&w, LOG_INFO_, "watching with %s: %zu guest%s placed, full pass every %llu s", ep ? ep : "?",
         cgp_watch_model_count(w.model), cgp_watch_model_count(w.model) == 1 ? "" : "s",
         (unsigned long long)(w.interval_ms / 1000));
    notify("READY=1\nSTATUS=placing");
    uint64_t now = now_ms();
    w.next_poll = now + POLL_FALLBACK_MS;
    w.next_watchdog = now + w.watchdog_ms / 2;
    for (;;) {
        struct pollfd p[4] = {
            { .fd = w.sigfd, .events = POLLIN }, { .fd = w.procfd, .events = POLLIN },
            { .fd = w.uevfd, .events = POLLIN }, { .fd = w.inofd, .events = POLLIN },
        };
        now = now_ms();
        uint64_t due = earliest(&w);
        uint64_t wait = due > now ? due - now : 0;
        struct timespec ts = { .tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(wait % 1000) * 1000000L };
        int n = ppoll(p, 4, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            wlog(&w, LOG_ERR_, "ppoll: %s", strerror(errno));
            break;
        }
        if (n > 0 && (p[0].revents & POLLIN) && !signals(&w))
            break;
        if (n > 0 && (p[1].revents & POLLIN))
            proc_events(&w);
        if (n > 0 && (p[2].revents & POLLIN))
            uevents(&w);
        if (n > 0 && (p[3].revents & POLLIN))
            inotify_events(&w);
        timers(&w);
        if (w.need_pass)
            pass(&w, w.need_topology ? "hotplug" : "event");
    }
    notify("STOPPING=1");
    wlog(&w, LOG_INFO_, "stopping: placements stay in place");
    cli_textfile_close(w.metrics_tf);
    close_sources(&w);
    return EXIT_OK;
}
