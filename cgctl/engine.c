/* The enforcement engine (spec §6): model the desired cgroup tree of the
 * running guests, read the live one, plan the fewest writes in a safe order,
 * carry them out with a journal, read back what the kernel granted, roll back
 * on failure. Also the drift audit (verify). */
#include "cgctl-int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Guest discovery may not be linked in (yet): fall back to local versions. */

/* ------------------------------------------------------------------ */
/* Report and model                                                     */
/* ------------------------------------------------------------------ */

struct cgn {                     /* one cgroup of the model */
    const char *path;            /* relative to the root */
    int gi;                      /* guest index, -1 shared ancestor */
    bool threaded_child;
    bool want_cpuset_ctl;        /* needs cpuset in cgroup.subtree_control */
    const cgp_bitmap *want_cpus, *want_mems;   /* NULL: not written */
    /* live state, updated as ops are planned */
    bool exists, threaded, cpuset_on, created;
    cgp_bitmap *cpus, *mems;     /* own cpuset.cpus / cpuset.mems; NULL = empty */
};

struct task {
    int gi;
    const struct cgp_guest_thread *th;
    int tid;
    char *cg;                    /* current cgroup (relative), NULL unknown/gone */
    size_t target;               /* cgn index */
};

struct eop {
    struct cgp_op pub;
    int gi;
    enum cgctl_io io;
    bool has_undo;
    enum cgctl_io uio;
    const char *upath, *ufile, *uvalue;
    bool done, undone;
    int tid;                     /* membership writes: the task (pid for procs) */
};

struct eguest {
    struct cgp_enforce_guest pub;
    const struct cgp_guest_placement *gp;
    bool managed;                /* running, ours: planned */
    bool split;                  /* threads told apart: threaded children */
    size_t cg_first, cg_n;       /* its cgns */
};

struct cgp_enforce {
    cgp_ctx *ctx;
    const cgp_placement *pl;
    int rootfd;
    char *prefix;
    struct cgp_enforce_summary sum;
    size_t n_g;
    struct eguest *g;
    size_t n_cg, cap_cg;
    struct cgn *cg;
    size_t n_t, cap_t;
    struct task *t;
    size_t n_op, cap_op;
    struct eop *op;
    size_t n_kept;
    struct cgp_op *kept;         /* public view of the kept ops */
    size_t n_msg, cap_msg;
    struct cgp_enforce_msg *msg;
    size_t n_str, cap_str;
    char **str;
    unsigned fault_at, stop_at, n_forward;
    /* Directory fds of the cgroups this run touched, by path (see cg_dir). */
    struct dirent_fd { const char *path; int fd; } *dfd;
    size_t n_dfd;
};

/* At most this many cached directory fds (well below the usual soft limit of
 * 1024 open files, next to one pidfd per guest). */
#define DIRFD_SLOTS 1024
#define DIRFD_MAX 384

static const char *const state_names[] = {
    [CGP_GUEST_NOT_RUNNING] = "not running", [CGP_GUEST_FOREIGN] = "foreign",
    [CGP_GUEST_UNCHANGED] = "unchanged", [CGP_GUEST_CHANGED] = "changed",
    [CGP_GUEST_VANISHED] = "vanished", [CGP_GUEST_FAILED] = "failed",
    [CGP_GUEST_INVALID] = "invalid",
};

CGP_EXPORT const char *cgp_guest_state_name(enum cgp_guest_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names ? state_names[s] : "?";
}

static char *keep(cgp_enforce *e, char *s)
{
    if (!s)
        return NULL;
    if (e->n_str == e->cap_str) {
        size_t cap = e->cap_str ? e->cap_str * 2 : 64;
        char **v = realloc(e->str, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        e->str = v;
        e->cap_str = cap;
    }
    return e->str[e->n_str++] = s;
}

static char *keepf(cgp_enforce *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *keepf(cgp_enforce *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : keep(e, s);
}

#define GROW(e, arr, n, cap)                                                       \
    ({                                                                             \
        int ok_ = 1;                                                               \
        if ((e)->n == (e)->cap) {                                                  \
            size_t c_ = (e)->cap ? (e)->cap * 2 : 32;                              \
            void *v_ = realloc((e)->arr, c_ * sizeof *(e)->arr);                   \
            if (!v_)                                                               \
                ok_ = 0;                                                           \
            else {                                                                 \
                (e)->arr = v_;                                                     \
                (e)->cap = c_;                                                     \
            }                                                                      \
        }                                                                          \
        ok_;                                                                       \
    })

/* ------------------------------------------------------------------ */
/* Cgroup directory fds                                                 */
/* ------------------------------------------------------------------ */

/* Every cgroup file access goes through a directory fd. Walking from the root
 * for each access costs two system calls per path component; a run instead
 * opens each cgroup once, relative to its parent's cached fd, one component
 * at a time with O_NOFOLLOW, and keeps it. The returned fd is borrowed and
 * valid until the next cg_dir call (a full cache is flushed). */
static uint32_t path_hash(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static struct dirent_fd *dirfd_slot(cgp_enforce *e, const char *path)
{
    for (uint32_t i = path_hash(path) % DIRFD_SLOTS;; i = (i + 1) % DIRFD_SLOTS)
        if (!e->dfd[i].path || !strcmp(e->dfd[i].path, path))
            return &e->dfd[i];
}

static void dirfd_flush(cgp_enforce *e)
{
    for (size_t i = 0; e->dfd && i < DIRFD_SLOTS; i++)
        if (e->dfd[i].path) {
            close(e->dfd[i].fd);
            e->dfd[i].path = NULL;
        }
    e->n_dfd = 0;
}

/* Forget path (it was removed): its slot and everything cached below it. */
static void dirfd_forget(cgp_enforce *e, const char *path)
{
    if (!e->dfd || !e->n_dfd)
        return;
    /* open addressing without tombstones: rebuild the table minus the victims */
    struct dirent_fd old[DIRFD_MAX];
    size_t n = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < DIRFD_SLOTS; i++) {
        struct dirent_fd *d = &e->dfd[i];
        if (!d->path)
            continue;
        if (!strncmp(d->path, path, pl) && (d->path[pl] == '\0' || d->path[pl] == '/'))
            close(d->fd);
        else
            old[n++] = *d;
        d->path = NULL;
    }
    for (size_t i = 0; i < n; i++)
        *dirfd_slot(e, old[i].path) = old[i];
    e->n_dfd = n;
}

static int cg_dir(cgp_enforce *e, const char *path)
{
    if (!*path)
        return e->rootfd;
    if (!e->dfd && !(e->dfd = calloc(DIRFD_SLOTS, sizeof *e->dfd)))
        return -ENOMEM;
    struct dirent_fd *d = dirfd_slot(e, path);
    if (d->path)
        return d->fd;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    if (bl == 0 || bl > 255 || !strcmp(base, ".") || !strcmp(base, ".."))
        return -EINVAL;
    int pfd;
    if (slash) {
        /* only for the lookup: a cached entry keeps its own copy of its path */
        char *parent = strndup(path, (size_t)(slash - path));
        if (!parent)
            return -ENOMEM;
        pfd = cg_dir(e, parent);
        free(parent);
    } else {
        pfd = e->rootfd;
    }
    if (pfd < 0)
        return pfd;
    int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (e->n_dfd >= (cgctl_hooks.dirfd_max && cgctl_hooks.dirfd_max < DIRFD_MAX ? cgctl_hooks.dirfd_max : DIRFD_MAX))
        dirfd_flush(e);
    const char *key = keep(e, strdup(path));
    if (!key) {
        close(fd);
        return -ENOMEM;
    }
    d = dirfd_slot(e, key);
    *d = (struct dirent_fd){ key, fd };
    e->n_dfd++;
    return fd;
}

static int msgf(cgp_enforce *e, enum cgp_msg_level lv, const char *guest, int pid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int msgf(cgp_enforce *e, enum cgp_msg_level lv, const char *guest, int pid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0 || !keep(e, s) || !GROW(e, msg, n_msg, cap_msg))
        return -ENOMEM;
    e->msg[e->n_msg++] = (struct cgp_enforce_msg){ lv, guest, pid, s };
    return 0;
}

CGP_EXPORT void cgp_enforce_free(cgp_enforce *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_cg; i++) {
        cgp_bitmap_free(e->cg[i].cpus);
        cgp_bitmap_free(e->cg[i].mems);
    }
    for (size_t i = 0; i < e->n_t; i++)
        free(e->t[i].cg);
    for (size_t i = 0; i < e->n_str; i++)
        free(e->str[i]);
    dirfd_flush(e);
    free(e->dfd);
    if (e->rootfd >= 0)
        close(e->rootfd);
    free(e->prefix);
    free(e->g);
    free(e->cg);
    free(e->t);
    free(e->op);
    free(e->kept);
    free(e->msg);
    free(e->str);
    free(e);
}

CGP_EXPORT const struct cgp_enforce_summary *cgp_enforce_summary(const cgp_enforce *e) { return &e->sum; }
CGP_EXPORT size_t cgp_enforce_n_ops(const cgp_enforce *e) { return e ? e->n_kept : 0; }
CGP_EXPORT const struct cgp_op *cgp_enforce_op(const cgp_enforce *e, size_t i)
{
    return e && i < e->n_kept ? &e->kept[i] : NULL;
}
CGP_EXPORT size_t cgp_enforce_n_guests(const cgp_enforce *e) { return e ? e->n_g : 0; }
CGP_EXPORT const struct cgp_enforce_guest *cgp_enforce_guest(const cgp_enforce *e, size_t i)
{
    return e && i < e->n_g ? &e->g[i].pub : NULL;
}
CGP_EXPORT size_t cgp_enforce_n_msgs(const cgp_enforce *e) { return e ? e->n_msg : 0; }
CGP_EXPORT const struct cgp_enforce_msg *cgp_enforce_msg(const cgp_enforce *e, size_t i)
{
    return e && i < e->n_msg ? &e->msg[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Guests: matching, liveness                                           */
/* ------------------------------------------------------------------ */

static bool valid_component(const char *s, size_t n)
{
    if (n == 0 || n > 255 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == '\0' || s[i] == '\n')
            return false;
    return true;
}

static bool valid_path(const char *p)
{
    if (!*p)
        return false;
    for (const char *s = p;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (!valid_component(s, n))
            return false;
        if (!slash)
            return true;
        s = slash + 1;
    }
}

/* ------------------------------------------------------------------ */
/* Live state                                                           */
/* ------------------------------------------------------------------ */

static int read_set(int dfd, const char *file, cgp_bitmap **out)
{
    char *s = NULL;
    ssize_t n = cgp_read_one(dfd, file, 1 << 16, &s);
    if (n == -ENOENT) {
        *out = NULL;
        return 0;
    }
    if (n < 0)
        return (int)n;
    if (!*s) {
        free(s);
        *out = NULL;
        return 0;
    }
    cgp_bitmap *b = NULL;
    int r = cgp_bitmap_parse(s, 0, &b, NULL);
    free(s);
    if (r < 0)
        return r == -ENOMEM ? r : -EIO;
    if (cgp_bitmap_is_empty(b)) {
        cgp_bitmap_free(b);
        b = NULL;
    }
    *out = b;
    return 0;
}

static bool has_word(const char *s, const char *w)
{
    size_t wl = strlen(w);
    for (const char *p = s; (p = strstr(p, w)); p += wl)
        if ((p == s || isspace((unsigned char)p[-1])) && (!p[wl] || isspace((unsigned char)p[wl])))
            return true;
    return false;
}

static int read_live(cgp_enforce *e, struct cgn *c)
{
    int fd = cg_dir(e, c->path);
    if (fd == -ENOENT) {
        c->exists = false;
        return 0;
    }
    if (fd < 0)
        return cgp_ctx_errorf(e->ctx, fd, "cgroup %s: %s", *c->path ? c->path : "/", strerror(-fd));
    c->exists = true;
    char *s = NULL;
    int r = 0;
    /* only what planning looks at: the type of a threaded child, the
     * controllers of a cgroup that needs cpuset for its children */
    if (c->threaded_child && cgp_read_one(fd, "cgroup.type", 256, &s) >= 0)
        c->threaded = !strcmp(s, "threaded");
    free(s);
    s = NULL;
    if (c->want_cpuset_ctl && cgp_read_one(fd, "cgroup.subtree_control", 4096, &s) >= 0)
        c->cpuset_on = has_word(s, "cpuset");
    free(s);
    if ((c->want_cpus && (r = read_set(fd, "cpuset.cpus", &c->cpus)) < 0) ||
        (c->want_mems && (r = read_set(fd, "cpuset.mems", &c->mems)) < 0))
        cgp_ctx_errorf(e->ctx, r, "cgroup %s: cpuset.cpus/mems: %s", c->path, strerror(-r));
    return r;
}

static ssize_t add_cg(cgp_enforce *e, const char *path, int gi, bool threaded, const cgp_bitmap *cpus,
                      const cgp_bitmap *mems, bool ctl)
{
    if (!path || !GROW(e, cg, n_cg, cap_cg))
        return -ENOMEM;
    e->cg[e->n_cg] = (struct cgn){ .path = path, .gi = gi, .threaded_child = threaded,
                                   .want_cpuset_ctl = ctl, .want_cpus = cpus, .want_mems = mems };
    return (ssize_t)e->n_cg++;
}

/* ------------------------------------------------------------------ */
/* Planning                                                             */
/* ------------------------------------------------------------------ */

static struct eop *add_op(cgp_enforce *e, int gi, enum cgctl_io io, const char *path, const char *file,
                          const char *value, const char *old)
{
    if (!path || (io == CGCTL_IO_WRITE && (!file || !value)) || !GROW(e, op, n_op, cap_op))
        return NULL;
    struct eop *o = &e->op[e->n_op++];
    *o = (struct eop){ .gi = gi, .io = io, .tid = 0 };
    o->pub = (struct cgp_op){ io == CGCTL_IO_MKDIR ? CGP_OP_MKDIR : CGP_OP_WRITE, path, file, value, old,
                              gi >= 0 ? e->g[gi].pub.name : NULL, NULL };
    if (gi >= 0 && e->g[gi].gp->needs_exec && file && !strcmp(file, "cpuset.mems"))
        o->pub.note = keepf(e, "mode %s cannot be set through a cgroup, which only restricts: start the guest "
                            "with 'cgplace exec' (or emit --format qemu) for the real policy",
                            cgp_mem_mode_name(e->g[gi].gp->mode));
    return o;
}

static int op_undo(struct eop *o, enum cgctl_io uio, const char *path, const char *file, const char *value)
{
    if (!o || !path || (uio == CGCTL_IO_WRITE && (!file || !value)))
        return -ENOMEM;
    o->has_undo = true;
    o->uio = uio;
    o->upath = path;
    o->ufile = file;
    o->uvalue = value;
    return 0;
}

static int plan_mkdir(cgp_enforce *e, struct cgn *c)
{
    if (c->exists)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_IO_MKDIR, c->path, NULL, NULL, NULL);
    int r = op_undo(o, CGCTL_IO_RMDIR, c->path, NULL, NULL);
    c->exists = c->created = true;
    c->threaded = c->cpuset_on = false;
    cgp_bitmap_free(c->cpus);
    cgp_bitmap_free(c->mems);
    c->cpus = c->mems = NULL;
    return r;
}

static int plan_ctl(cgp_enforce *e, struct cgn *c)
{
    if (c->cpuset_on)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_IO_WRITE, c->path, "cgroup.subtree_control", "+cpuset", NULL);
    c->cpuset_on = true;
    return op_undo(o, CGCTL_IO_WRITE, c->path, "cgroup.subtree_control", "-cpuset");
}

static int plan_threaded(cgp_enforce *e, struct cgn *c)
{
    if (c->threaded)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_IO_WRITE, c->path, "cgroup.type", "threaded", NULL);
    if (!o)
        return -ENOMEM;
    if (!c->created)
        o->pub.note = "an existing cgroup made threaded cannot be made a domain again";
    c->threaded = true;
    return 0;   /* undone by the rmdir of a cgroup we created */
}

/* Write set `want` (or the union with the current one when widen) to file
 * of c, when it differs from what is there. */
static int plan_set(cgp_enforce *e, struct cgn *c, bool mems, const cgp_bitmap *want, bool widen)
{
    cgp_bitmap **cur = mems ? &c->mems : &c->cpus;
    const char *file = mems ? "cpuset.mems" : "cpuset.cpus";
    if (!want)
        return 0;
    cgp_bitmap *target = NULL;
    if (widen) {
        /* an empty set inherits the parent's: it is already wider */
        if (!*cur || cgp_bitmap_subset(want, *cur))
            return 0;
        if (!(target = cgp_bitmap_dup(*cur)) || cgp_bitmap_or(target, want) < 0) {
            cgp_bitmap_free(target);
            return -ENOMEM;
        }
    } else {
        if (*cur && cgp_bitmap_equal(*cur, want))
            return 0;
        if (!(target = cgp_bitmap_dup(want)))
            return -ENOMEM;
    }
    const char *old = keep(e, *cur ? cgp_bitmap_format(*cur) : strdup(""));
    const char *val = keep(e, cgp_bitmap_format(target));
    struct eop *o = add_op(e, c->gi, CGCTL_IO_WRITE, c->path, file, val, old);
    int r = op_undo(o, CGCTL_IO_WRITE, c->path, file, old);
    cgp_bitmap_free(*cur);
    *cur = target;
    return r;
}

static const char *disp(cgp_enforce *e, const char *rel)
{
    return keepf(e, "/%s", rel);
}

static bool under(const char *path, const char *base)
{
    size_t n = strlen(base);
    return !strncmp(path, base, n) && (path[n] == '\0' || path[n] == '/');
}

static int plan_guest(cgp_enforce *e, size_t gi)
{
    struct eguest *g = &e->g[gi];
    struct cgn *G = &e->cg[g->cg_first];
    int r;
    if ((r = plan_mkdir(e, G)) < 0)
        return r;
    for (size_t k = 1; k < g->cg_n; k++) {
        struct cgn *c = &e->cg[g->cg_first + k];
        if ((r = plan_mkdir(e, c)) < 0 || (r = plan_threaded(e, c)) < 0)
            return r;
    }
    if (g->cg_n > 1 && (r = plan_ctl(e, G)) < 0)
        return r;
    /* widen the guest cgroup first, then the children, then narrow it */
    if ((r = plan_set(e, G, false, G->want_cpus, true)) < 0 || (r = plan_set(e, G, true, G->want_mems, true)) < 0)
        return r;
    for (size_t k = 1; k < g->cg_n; k++) {
        struct cgn *c = &e->cg[g->cg_first + k];
        if ((r = plan_set(e, c, false, c->want_cpus, false)) < 0 || (r = plan_set(e, c, true, c->want_mems, false)) < 0)
            return r;
    }
    if ((r = plan_set(e, G, false, G->want_cpus, false)) < 0 || (r = plan_set(e, G, true, G->want_mems, false)) < 0)
        return r;
    /* memberships: the process once into the guest cgroup, then each thread */
    const struct cgp_guest *p = g->pub.proc;
    struct task *leader = NULL;
    for (size_t i = 0; i < e->n_t; i++)
        if (e->t[i].gi == (int)gi && e->t[i].tid == p->pid)
            leader = &e->t[i];
    char *lcg = leader && leader->cg ? leader->cg : NULL;
    if (!lcg) {
        /* fall back to /proc/PID/cgroup */
        for (size_t i = 0; i < e->n_t; i++)
            if (e->t[i].gi == (int)gi && e->t[i].cg) {
                lcg = e->t[i].cg;
                break;
            }
    }
    if (!lcg || !under(lcg, G->path)) {
        const char *old = lcg ? lcg : "";
        const char *pid = keepf(e, "%d", p->pid);
        struct eop *o = add_op(e, (int)gi, CGCTL_IO_WRITE, G->path, "cgroup.procs", pid, disp(e, old));
        if ((r = op_undo(o, CGCTL_IO_WRITE, keep(e, strdup(old)), "cgroup.procs", pid)) < 0)
            return r;
        o->tid = p->pid;
        for (size_t i = 0; i < e->n_t; i++) {
            if (e->t[i].gi != (int)gi || !e->t[i].cg)
                continue;
            free(e->t[i].cg);
            if (!(e->t[i].cg = strdup(G->path)))
                return -ENOMEM;
        }
    }
    for (size_t i = 0; i < e->n_t; i++) {
        struct task *t = &e->t[i];
        if (t->gi != (int)gi || !t->cg)
            continue;
        const struct cgn *c = &e->cg[t->target];
        if (!strcmp(t->cg, c->path))
            continue;
        const char *tid = keepf(e, "%d", t->tid);
        struct eop *o = add_op(e, (int)gi, CGCTL_IO_WRITE, c->path, "cgroup.threads", tid, disp(e, t->cg));
        if ((r = op_undo(o, CGCTL_IO_WRITE, keep(e, strdup(t->cg)), "cgroup.threads", tid)) < 0)
            return r;
        o->tid = t->tid;
        free(t->cg);
        if (!(t->cg = strdup(c->path)))
            return -ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Building the model                                                   */
/* ------------------------------------------------------------------ */

static bool differs(const cgp_bitmap *a, const cgp_bitmap *b)
{
    return !cgp_bitmap_equal(a, b);
}

static bool needs_split(const struct cgp_guest_placement *gp)
{
    if (differs(gp->emulator.cpus, gp->cpus) || differs(gp->emulator.mems, gp->mems))
        return true;
    for (unsigned i = 0; i < gp->n_vcpus; i++)
        if (differs(gp->vcpu[i].cpus, gp->cpus) || differs(gp->vcpu[i].mems, gp->mems))
            return true;
    for (size_t i = 0; i < gp->n_iothreads; i++)
        if (differs(gp->iothreads[i].cpus, gp->cpus) || differs(gp->iothreads[i].mems, gp->mems))
            return true;
    return false;
}

static bool iothread_is(const char *policy_id, const char *thread_id)
{
    if (!strcmp(policy_id, thread_id))
        return true;
    bool digits = *policy_id != '\0';
    for (const char *s = policy_id; *s; s++)
        digits = digits && isdigit((unsigned char)*s);
    return digits && !strncmp(thread_id, "iothread", 8) && !strcmp(thread_id + 8, policy_id);
}

/* Match processes to blocks; fill e->g. Returns 0, or -EINVAL after
 * recording errors (nothing is written then), -ENOMEM. */
static int match_guests(cgp_enforce *e, const struct cgp_guest *const *procs, size_t n_procs)
{
    const struct cgp_host_settings *hs = cgp_placement_host(e->pl);
    size_t n = cgp_placement_n_guests(e->pl);
    e->g = calloc(n ? n : 1, sizeof *e->g);
    if (!e->g)
        return -ENOMEM;
    e->n_g = n;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        e->g[i].gp = cgp_placement_guest(e->pl, i);
        e->g[i].pub.name = e->g[i].gp->name;
        e->g[i].pub.state = CGP_GUEST_NOT_RUNNING;
        e->g[i].pub.cgroup = keepf(e, "%s/%s", hs->parent, e->g[i].gp->name);
        if (!e->g[i].pub.cgroup)
            return -ENOMEM;
    }
    for (size_t p = 0; p < n_procs; p++) {
        const struct cgp_guest *pr = procs[p];
        if (!pr)
            continue;
        ssize_t hit = -1;
        for (size_t i = 0; i < n; i++) {
            if (!cgp_guest_matches(pr, e->g[i].gp))
                continue;
            if (hit >= 0) {
                msgf(e, CGP_MSG_ERROR, e->g[i].pub.name, pr->pid,
                     "process %d (%s) matches both guest '%s' and guest '%s': make the match lines tell them apart",
                     pr->pid, pr->name ? pr->name : "unnamed", e->g[hit].pub.name, e->g[i].pub.name);
                bad = -EINVAL;
                continue;
            }
            hit = (ssize_t)i;
        }
        if (hit < 0) {
            if (hs->unmanaged != CGP_UNMANAGED_IGNORE)
                msgf(e, hs->unmanaged == CGP_UNMANAGED_DENY ? CGP_MSG_ERROR : CGP_MSG_WARNING, NULL, pr->pid,
                     "QEMU process %d (%s, cgroup %s) matches no guest of the policy%s", pr->pid,
                     pr->name ? pr->name : "unnamed", pr->cgroup ? pr->cgroup : "?",
                     hs->unmanaged == CGP_UNMANAGED_DENY ? " (unmanaged deny): it floats free" : "");
            e->sum.n_unmanaged++;
            continue;
        }
        struct eguest *g = &e->g[hit];
        if (g->pub.proc) {
            msgf(e, CGP_MSG_ERROR, g->pub.name, pr->pid, "guest '%s' matches two processes, %d and %d",
                 g->pub.name, g->pub.proc->pid, pr->pid);
            bad = -EINVAL;
            continue;
        }
        g->pub.proc = pr;
    }
    for (size_t i = 0; i < n; i++) {
        struct eguest *g = &e->g[i];
        if (!g->pub.proc) {
            msgf(e, CGP_MSG_INFO, g->pub.name, 0, "guest '%s' is not running: skipped", g->pub.name);
            continue;
        }
        if (g->pub.proc->foreign) {
            g->pub.state = CGP_GUEST_FOREIGN;
            g->pub.detail = keepf(e, "managed by libvirt/machined (cgroup %s): not moved; use 'cgplace emit "
                                  "--format libvirt %s' for its domain XML",
                                  g->pub.proc->cgroup ? g->pub.proc->cgroup : "?", g->pub.name);
            msgf(e, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid, "guest '%s' (pid %d) is %s", g->pub.name,
                 g->pub.proc->pid, g->pub.detail ? g->pub.detail : "foreign");
            continue;
        }
        if (!valid_path(hs->parent) || !valid_component(g->gp->name, strlen(g->gp->name))) {
            g->pub.state = CGP_GUEST_INVALID;
            g->pub.detail = "the cgroup name would escape the parent cgroup";
            msgf(e, CGP_MSG_ERROR, g->pub.name, 0, "guest '%s': cgroup %s/%s would escape the parent",
                 g->pub.name, hs->parent, g->gp->name);
            bad = -EINVAL;
            continue;
        }
        g->split = g->pub.proc->thread_source != CGP_THREADS_UNKNOWN;
        if (!g->split && needs_split(g->gp)) {
            g->pub.state = CGP_GUEST_INVALID;
            g->pub.detail = "its vCPU threads cannot be told apart, so per-thread placement is impossible";
            msgf(e, CGP_MSG_ERROR, g->pub.name, g->pub.proc->pid,
                 "guest '%s' (pid %d): its vCPU threads cannot be told apart; start QEMU with "
                 "-name %s,debug-threads=on or add 'match qmp SOCKET' to use per-vCPU placement",
                 g->pub.name, g->pub.proc->pid, g->pub.name);
            bad = -EINVAL;
            continue;
        }
        g->managed = true;
    }
    return bad;
}

/* The model: root, PARENT components, then per managed guest its cgroup and
 * threaded children; the tasks with their targets. */
static int build_model(cgp_enforce *e)
{
    const struct cgp_host_settings *hs = cgp_placement_host(e->pl);
    bool any = false;
    for (size_t i = 0; i < e->n_g; i++)
        any |= e->g[i].managed;
    if (!any)
        return 0;
    if (add_cg(e, keep(e, strdup("")), -1, false, NULL, NULL, true) < 0)
        return -ENOMEM;
    for (const char *s = hs->parent; s;) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - hs->parent) : strlen(hs->parent);
        if (add_cg(e, keepf(e, "%.*s", (int)len, hs->parent), -1, false, NULL, NULL, true) < 0)
            return -ENOMEM;
        s = slash ? slash + 1 : NULL;
    }
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        if (!g->managed)
            continue;
        const struct cgp_guest_placement *gp = g->gp;
        const char *gpath = g->pub.cgroup;
        g->cg_first = e->n_cg;
        if (add_cg(e, gpath, (int)gi, false, gp->cpus, gp->mems, g->split) < 0)
            return -ENOMEM;
        if (g->split) {
            if (add_cg(e, keepf(e, "%s/emulator", gpath), (int)gi, true, gp->emulator.cpus, gp->emulator.mems, false) < 0)
                return -ENOMEM;
            for (unsigned v = 0; v < gp->n_vcpus; v++)
                if (add_cg(e, keepf(e, "%s/vcpu%u", gpath, v), (int)gi, true, gp->vcpu[v].cpus, gp->vcpu[v].mems, false) < 0)
                    return -ENOMEM;
            for (size_t k = 0; k < gp->n_iothreads; k++) {
                const struct cgp_iothread_placement *io = &gp->iothreads[k];
                if (!valid_component(io->id, strlen(io->id)))
                    return -EINVAL;
                if (add_cg(e, keepf(e, "%s/iothread-%s", gpath, io->id), (int)gi, true, io->cpus, io->mems, false) < 0)
                    return -ENOMEM;
            }
        }
        g->cg_n = e->n_cg - g->cg_first;
        const struct cgp_guest *p = g->pub.proc;
        for (size_t k = 0; k < p->n_threads; k++) {
            const struct cgp_guest_thread *th = &p->threads[k];
            size_t target = g->cg_first;
            if (g->split) {
                target = g->cg_first + 1;   /* emulator */
                if (th->role == CGP_THREAD_VCPU) {
                    if (th->vcpu >= 0 && (unsigned)th->vcpu < gp->n_vcpus)
                        target = g->cg_first + 2 + (size_t)th->vcpu;
                    else
                        msgf(e, CGP_MSG_WARNING, g->pub.name, p->pid,
                             "guest '%s': vCPU %d (thread %d) is beyond the policy's %u vCPUs: placed with the emulator",
                             g->pub.name, th->vcpu, th->tid, gp->n_vcpus);
                } else if (th->role == CGP_THREAD_IOTHREAD) {
                    size_t k2 = 0;
                    while (k2 < gp->n_iothreads && !(th->iothread && iothread_is(gp->iothreads[k2].id, th->iothread)))
                        k2++;
                    if (k2 < gp->n_iothreads)
                        target = g->cg_first + 2 + gp->n_vcpus + k2;
                }
            }
            if (!GROW(e, t, n_t, cap_t))
                return -ENOMEM;
            e->t[e->n_t++] = (struct task){ .gi = (int)gi, .th = th, .tid = th->tid, .target = target };
        }
    }
    return 0;
}

/* Read the live tree and the tasks' cgroups. A guest whose process is
 * gone is marked vanished; one living outside the managed hierarchy fails. */
static int read_model(cgp_enforce *e)
{
    int r;
    for (size_t i = 0; i < e->n_cg; i++)
        if ((r = read_live(e, &e->cg[i])) < 0)
            return r;
    for (size_t i = 0; i < e->n_t; i++) {
        struct task *t = &e->t[i];
        struct eguest *g = &e->g[t->gi];
        if (!g->managed)
            continue;
        char *v = cgctl_task_cgroup(e->ctx, g->pub.proc->pid, t->tid);
        if (!v) {
            if (errno == ENOMEM)
                return -ENOMEM;
            continue;   /* the thread is gone */
        }
        t->cg = cgctl_rel_path(e->prefix, v);
        if (!t->cg) {
            g->managed = false;
            g->pub.state = CGP_GUEST_FAILED;
            g->pub.detail = keepf(e, "thread %d is in cgroup %s, outside the managed hierarchy %s", t->tid, v,
                                  e->ctx->cgroup_root);
            msgf(e, CGP_MSG_ERROR, g->pub.name, g->pub.proc->pid, "guest '%s': %s", g->pub.name,
                 g->pub.detail ? g->pub.detail : "outside the managed hierarchy");
            free(v);
            return -EXDEV;
        }
        free(v);
    }
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        if (!g->managed)
            continue;
        bool any = false;
        for (size_t i = 0; i < e->n_t; i++)
            any |= e->t[i].gi == (int)gi && e->t[i].cg;
        if (!any || cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
            g->managed = false;
            g->pub.state = CGP_GUEST_VANISHED;
            g->pub.detail = "exited before any write";
            msgf(e, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid, "guest '%s' (pid %d) exited: skipped",
                 g->pub.name, g->pub.proc->pid);
        }
    }
    return 0;
}

static int plan_all(cgp_enforce *e)
{
    int r;
    bool any = false;
    for (size_t i = 0; i < e->n_g; i++)
        any |= e->g[i].managed;
    if (!any)
        return 0;
    /* shared ancestors: root and PARENT components */
    for (size_t i = 0; i < e->n_cg && e->cg[i].gi < 0; i++) {
        struct cgn *c = &e->cg[i];
        if ((i > 0 && (r = plan_mkdir(e, c)) < 0) || (r = plan_ctl(e, c)) < 0)
            return r;
    }
    for (size_t gi = 0; gi < e->n_g; gi++)
        if (e->g[gi].managed && (r = plan_guest(e, gi)) < 0)
            return r;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Execution, journal, rollback                                         */
/* ------------------------------------------------------------------ */

static int do_io(cgp_enforce *e, enum cgctl_io io, const char *path, const char *file, const char *value, bool undo)
{
    if (cgctl_hooks.before) {
        int r = cgctl_hooks.before(cgctl_hooks.ud, io, path, file, value, undo);
        if (r < 0)
            return r;
    }
    if (!undo) {
        e->n_forward++;
        if (e->n_forward == e->stop_at)
            raise(SIGSTOP);     /* testing aid: a test acts, then sends SIGCONT */
        if (e->n_forward == e->fault_at)
            return -EIO;
    }
    int r = 0;
    if (io == CGCTL_IO_WRITE) {
        int dfd = cg_dir(e, path);
        if (dfd < 0)
            return dfd;
        int fd = openat(dfd, file, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            r = -errno;
        } else {
            char buf[4096];
            int len = snprintf(buf, sizeof buf, "%s\n", value);
            if (len < 0 || (size_t)len >= sizeof buf)
                r = -E2BIG;
            else {
                ssize_t w = write(fd, buf, (size_t)len);
                r = w < 0 ? -errno : w != len ? -EIO : 0;
            }
            close(fd);
        }
    } else {
        const char *slash = strrchr(path, '/');
        char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
        if (!parent)
            return -ENOMEM;
        const char *base = slash ? slash + 1 : path;
        int dfd = cg_dir(e, parent);
        free(parent);
        if (dfd < 0)
            return dfd;
        if (io == CGCTL_IO_MKDIR) {
            r = mkdirat(dfd, base, 0755) < 0 ? -errno : 0;
        } else {
            r = unlinkat(dfd, base, AT_REMOVEDIR) < 0 ? -errno : 0;
            if (r == 0)
                dirfd_forget(e, path);
        }
    }
    if (r == 0 && cgctl_hooks.after)
        cgctl_hooks.after(cgctl_hooks.ud, io, path, file, value, undo);
    return r;
}

static const char *op_text(cgp_enforce *e, enum cgctl_io io, const char *path, const char *file, const char *value)
{
    if (io == CGCTL_IO_MKDIR)
        return keepf(e, "mkdir /%s", path);
    if (io == CGCTL_IO_RMDIR)
        return keepf(e, "rmdir /%s", path);
    return keepf(e, "write '%s' to /%s%s%s", value, path, *path ? "/" : "", file);
}

/* Undo, in reverse, the done ops of guest gi (or all when gi == -2). */
static void rollback(cgp_enforce *e, int gi)
{
    for (size_t i = e->n_op; i-- > 0;) {
        struct eop *o = &e->op[i];
        if (!o->done || o->undone || (gi != -2 && o->gi != gi))
            continue;
        o->undone = true;
        e->sum.n_undone++;
        if (!o->has_undo)
            continue;
        int r = do_io(e, o->uio, o->upath, o->ufile, o->uvalue, true);
        if (r == -ESRCH && o->ufile && (!strcmp(o->ufile, "cgroup.threads") || !strcmp(o->ufile, "cgroup.procs")))
            continue;   /* the task is gone: nothing to put back */
        if (r < 0) {
            e->sum.rollback_incomplete = true;
            msgf(e, CGP_MSG_ERROR, o->pub.guest, 0, "rollback: %s failed: %s",
                 op_text(e, o->uio, o->upath, o->ufile, o->uvalue), strerror(-r));
        }
    }
}

static void vanish(cgp_enforce *e, size_t gi, const char *when)
{
    struct eguest *g = &e->g[gi];
    rollback(e, (int)gi);
    g->pub.state = CGP_GUEST_VANISHED;
    g->pub.detail = keepf(e, "exited %s; its changes were rolled back", when);
    msgf(e, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid, "guest '%s' (pid %d) exited %s; its changes were rolled back",
         g->pub.name, g->pub.proc->pid, when);
}

static void fail_run(cgp_enforce *e, int err, const char *guest, const char *what)
{
    e->sum.outcome = CGP_ENFORCE_FAILED;
    e->sum.error = err;
    msgf(e, CGP_MSG_ERROR, guest, 0, "%s", what ? what : strerror(-err));
    rollback(e, -2);
    for (size_t i = 0; i < e->n_g; i++)
        if (e->g[i].managed && e->g[i].pub.state != CGP_GUEST_VANISHED)
            e->g[i].pub.state = CGP_GUEST_FAILED;
}

static bool is_membership(const struct eop *o)
{
    return o->pub.file && (!strcmp(o->pub.file, "cgroup.procs") || !strcmp(o->pub.file, "cgroup.threads"));
}

/* Execute every op; 0 or -1 when the run failed (rolled back). */
static int execute(cgp_enforce *e)
{
    for (size_t i = 0; i < e->n_op; i++) {
        struct eop *o = &e->op[i];
        struct eguest *g = o->gi >= 0 ? &e->g[o->gi] : NULL;
        if (g && g->pub.state == CGP_GUEST_VANISHED)
            continue;
        if (g) {
            if (cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
                vanish(e, (size_t)o->gi, "during apply");
                continue;
            }
        }
        int r = do_io(e, o->io, o->pub.path, o->pub.file, o->pub.value, false);
        if (r < 0 && g && is_membership(o) && r == -ESRCH) {
            if (cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
                vanish(e, (size_t)o->gi, "during apply");
                continue;
            }
            /* one thread ended (QEMU's worker threads come and go): nothing to move */
            msgf(e, CGP_MSG_INFO, g->pub.name, o->tid, "thread %d of guest '%s' ended during apply", o->tid, g->pub.name);
            continue;
        }
        if (r < 0) {
            if (g && cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
                vanish(e, (size_t)o->gi, "during apply");
                continue;
            }
            fail_run(e, r, g ? g->pub.name : NULL,
                     keepf(e, "%s: %s; every change was rolled back", op_text(e, o->io, o->pub.path, o->pub.file, o->pub.value),
                           strerror(-r)));
            return -1;
        }
        o->done = true;
    }
    return 0;
}

static int check_set(cgp_enforce *e, int dfd, const char *file, const cgp_bitmap *want, char **why, const char *where)
{
    cgp_bitmap *have = NULL;
    int r = read_set(dfd, file, &have);
    if (r < 0)
        return *why = keepf(e, "%s: cannot read %s: %s", where, file, strerror(-r)), r;
    bool ok = have ? cgp_bitmap_equal(have, want) : cgp_bitmap_is_empty(want);
    if (!ok) {
        char *h = have ? cgp_bitmap_format(have) : strdup("");
        char *w = cgp_bitmap_format(want);
        *why = keepf(e, "%s: %s is '%s', not the intended '%s' (the kernel fell back to the parent's set)", where,
                     file, h ? h : "?", w ? w : "?");
        free(h);
        free(w);
        r = -EIO;
    }
    cgp_bitmap_free(have);
    return r;
}

/* Read back one guest: effective sets of its cgroups, each thread's
 * affinity. 0 or -errno with *why. */
static int readback(cgp_enforce *e, size_t gi, char **why)
{
    struct eguest *g = &e->g[gi];
    for (size_t k = 0; k < g->cg_n; k++) {
        struct cgn *c = &e->cg[g->cg_first + k];
        int dfd = cg_dir(e, c->path);
        if (dfd < 0)
            return *why = keepf(e, "cgroup /%s: %s", c->path, strerror(-dfd)), dfd;
        const char *where = keepf(e, "cgroup /%s", c->path);
        int r = 0;
        if (c->want_cpus)
            r = check_set(e, dfd, "cpuset.cpus.effective", c->want_cpus, why, where);
        if (r == 0 && c->want_mems)
            r = check_set(e, dfd, "cpuset.mems.effective", c->want_mems, why, where);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < e->n_t; i++) {
        struct task *t = &e->t[i];
        if (t->gi != (int)gi || !t->cg)
            continue;
        const struct cgn *c = &e->cg[t->target];
        cgp_bitmap *cpus = NULL, *mems = NULL;
        int r = cgctl_task_allowed(e->ctx, g->pub.proc->pid, t->tid, &cpus, &mems);
        if (r == -ENOENT || r == -ESRCH)
            continue;   /* the thread ended */
        if (r < 0)
            return *why = keepf(e, "thread %d: status: %s", t->tid, strerror(-r)), r;
        bool ok = (!c->want_cpus || cgp_bitmap_equal(cpus, c->want_cpus)) &&
                  (!c->want_mems || cgp_bitmap_equal(mems, c->want_mems));
        if (!ok) {
            char *hc = cgp_bitmap_format(cpus), *hm = cgp_bitmap_format(mems);
            char *wc = c->want_cpus ? cgp_bitmap_format(c->want_cpus) : NULL;
            char *wm = c->want_mems ? cgp_bitmap_format(c->want_mems) : NULL;
            *why = keepf(e, "thread %d: Cpus_allowed_list %s / Mems_allowed_list %s, intended %s / %s (cgroup /%s)",
                         t->tid, hc ? hc : "?", hm ? hm : "?", wc ? wc : "-", wm ? wm : "-", c->path);
            free(hc);
            free(hm);
            free(wc);
            free(wm);
        }
        cgp_bitmap_free(cpus);
        cgp_bitmap_free(mems);
        if (!ok)
            return -EIO;
    }
    return 0;
}

static int publish(cgp_enforce *e, bool dry)
{
    free(e->kept);
    e->kept = calloc(e->n_op ? e->n_op : 1, sizeof *e->kept);
    if (!e->kept)
        return -ENOMEM;
    e->n_kept = 0;
    for (size_t i = 0; i < e->n_op; i++) {
        const struct eop *o = &e->op[i];
        if (dry || (o->done && !o->undone)) {
            e->kept[e->n_kept++] = o->pub;
            if (o->gi >= 0)
                e->g[o->gi].pub.n_ops++;
        }
    }
    e->sum.n_writes = e->n_kept;
    for (size_t i = 0; i < e->n_g; i++) {
        struct eguest *g = &e->g[i];
        if (g->managed && (g->pub.state == CGP_GUEST_NOT_RUNNING))
            g->pub.state = g->pub.n_ops ? CGP_GUEST_CHANGED : CGP_GUEST_UNCHANGED;
    }
    return 0;
}

/* Common start: root, matching, model, live state, plan. */
static int prepare(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests, size_t n_guests,
                   cgp_enforce **out)
{
    if (!ctx || !pl || (n_guests && !guests) || !out)
        return -EINVAL;
    cgp_enforce *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->ctx = ctx;
    e->pl = pl;
    e->rootfd = -1;
    int r = cgctl_open_root(ctx, &e->rootfd, &e->prefix);
    if (r < 0) {
        cgp_enforce_free(e);
        return r;
    }
    const char *f = getenv("CGPLACE_FAULT_WRITE"), *st = getenv("CGPLACE_STOP_WRITE");
    uint64_t k;
    if (f && *f && cgp_parse_u64(f, &k) == 0 && k > 0 && k < UINT32_MAX)
        e->fault_at = (unsigned)k;
    if (st && *st && cgp_parse_u64(st, &k) == 0 && k > 0 && k < UINT32_MAX)
        e->stop_at = (unsigned)k;
    r = match_guests(e, guests, n_guests);
    if (r == -ENOMEM) {
        cgp_enforce_free(e);
        return r;
    }
    if (r < 0) {
        e->sum.outcome = CGP_ENFORCE_INVALID;
        e->sum.error = r;
        for (size_t i = 0; i < e->n_g; i++)
            e->g[i].managed = false;
    }
    if (r == 0 && (r = build_model(e)) < 0) {
        if (r == -ENOMEM) {
            cgp_enforce_free(e);
            return r;
        }
        e->sum.outcome = CGP_ENFORCE_INVALID;
        e->sum.error = r;
        msgf(e, CGP_MSG_ERROR, NULL, 0, "an I/O thread id cannot be used as a cgroup name");
    }
    *out = e;
    return 0;
}

static int start(cgp_enforce *e)
{
    int r = read_model(e);
    if (r == -EXDEV) {
        e->sum.outcome = CGP_ENFORCE_FAILED;
        e->sum.error = r;
        return 1;
    }
    if (r < 0) {
        e->sum.outcome = CGP_ENFORCE_FAILED;
        e->sum.error = r;
        msgf(e, CGP_MSG_ERROR, NULL, 0, "%s", cgp_ctx_last_error(e->ctx));
        return r == -ENOMEM ? r : 1;
    }
    if ((r = plan_all(e)) < 0) {
        if (r == -ENOMEM)
            return r;
        e->sum.outcome = CGP_ENFORCE_FAILED;
        e->sum.error = r;
        return 1;
    }
    return 0;
}

#define MAX_NODE 4096

/* Pages of pid per node from numa_maps: *pages gets 2 * *n_nodes counts, all
 * mappings first, then anonymous ones only (a private file mapping mixes COW
 * pages with shared page cache, which is not the guest's to migrate). */
static int read_numa_maps(cgp_ctx *ctx, int pid, uint64_t **pages, size_t *n_nodes)
{
    char rel[64];
    snprintf(rel, sizeof rel, "proc/%d/numa_maps", pid);
    char *buf CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_file(ctx->root_fd, rel, 64u << 20, &buf);
    if (n < 0)
        return (int)n;
    uint64_t *pg CGP_AUTOFREE = calloc(2 * MAX_NODE, sizeof *pg);
    if (!pg)
        return -ENOMEM;
    size_t top = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        bool anon = strstr(line, " anon=") != NULL && !strstr(line, " file=");
        for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (tok[0] != 'N' || !isdigit((unsigned char)tok[1]))
                continue;
            char *eq = strchr(tok, '=');
            if (!eq)
                continue;
            *eq = '\0';
            int64_t node;
            uint64_t cnt;
            if (cgp_parse_i64(tok + 1, &node) < 0 || node < 0 || node >= MAX_NODE || cgp_parse_u64(eq + 1, &cnt) < 0)
                continue;
            pg[node] = cgp_sat_add(pg[node], cnt);
            if (anon)
                pg[MAX_NODE + node] = cgp_sat_add(pg[MAX_NODE + node], cnt);
            if ((size_t)node + 1 > top)
                top = (size_t)node + 1;
        }
    }
    uint64_t *out = calloc(2 * (top ? top : 1), sizeof *out);
    if (!out)
        return -ENOMEM;
    memcpy(out, pg, top * sizeof *out);
    memcpy(out + top, pg + MAX_NODE, top * sizeof *out);
    *pages = out;
    *n_nodes = top;
    return 0;
}

/* Anonymous pages of pid outside mems: *outside gets the nodes that hold
 * some, the return value their count (or -errno). */
static long long pages_outside(cgp_ctx *ctx, int pid, const cgp_bitmap *mems, cgp_bitmap *outside)
{
    uint64_t *pg CGP_AUTOFREE = NULL;
    size_t top = 0;
    int r = read_numa_maps(ctx, pid, &pg, &top);
    if (r < 0)
        return r;
    long long total = 0;
    for (size_t node = 0; node < top; node++) {
        uint64_t anon = pg[top + node];
        if (!anon || cgp_bitmap_test(mems, (unsigned)node))
            continue;
        total += (long long)anon;
        if (cgp_bitmap_set(outside, (unsigned)node) < 0)
            return -ENOMEM;
    }
    return total;
}

/* Moving a process into a cpuset migrates its pages, but the kernel skips
 * pages it cannot move at that instant (and threads may fault pages in while
 * their nodemask changes). Finish the job with migrate_pages(2), as
 * numactl's migratepages does, so verify finds the memory where it belongs. */
static void migrate_leftovers(cgp_enforce *e, size_t gi)
{
    struct eguest *g = &e->g[gi];
    const cgp_bitmap *mems = g->gp->mems;
    /* Only a process pinned by a pidfd on the live host (never a fixture's pid),
     * and still the one we placed. */
    if (g->pub.proc->pidfd < 0 || cgp_guest_alive(e->ctx, g->pub.proc) < 0)
        return;
    cgp_bitmap *from CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!from || !mems || cgp_bitmap_is_empty(mems))
        return;
    long long n = pages_outside(e->ctx, g->pub.proc->pid, mems, from);
    if (n <= 0)
        return;
    int top = cgp_bitmap_last(from) > cgp_bitmap_last(mems) ? cgp_bitmap_last(from) : cgp_bitmap_last(mems);
    size_t words = (size_t)top / (8 * sizeof(unsigned long)) + 1;
    unsigned long *fm = calloc(words, sizeof *fm), *tm = calloc(words, sizeof *tm);
    if (fm && tm) {
        cgp_bitmap_foreach(from, b)
            fm[(size_t)b / (8 * sizeof *fm)] |= 1UL << ((size_t)b % (8 * sizeof *fm));
        cgp_bitmap_foreach(mems, b)
            tm[(size_t)b / (8 * sizeof *tm)] |= 1UL << ((size_t)b % (8 * sizeof *tm));
        long left = syscall(SYS_migrate_pages, g->pub.proc->pid, (unsigned long)top + 2, fm, tm);
        char *fs CGP_AUTOFREE = cgp_bitmap_format(from);
        char *ts CGP_AUTOFREE = cgp_bitmap_format(mems);
        if (left < 0)
            msgf(e, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid,
                 "%lld pages remain on nodes %s outside %s: migrate_pages: %s", n, fs ? fs : "?",
                 ts ? ts : "?", strerror(errno));
        else
            msgf(e, CGP_MSG_INFO, g->pub.name, g->pub.proc->pid,
                 "moved %lld leftover pages from nodes %s to %s%s", n, fs ? fs : "?", ts ? ts : "?",
                 left > 0 ? " (some could not be moved)" : "");
    }
    free(fm);
    free(tm);
}

CGP_EXPORT int cgp_enforce_run(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests,
                               size_t n_guests, unsigned flags, cgp_enforce **out)
{
    cgp_enforce *e = NULL;
    int r = prepare(ctx, pl, guests, n_guests, &e);
    if (r < 0)
        return r;
    bool dry = flags & CGP_ENFORCE_DRY_RUN;
    int lockfd = -1;
    if (e->sum.outcome == CGP_ENFORCE_OK && !dry && !(flags & CGP_ENFORCE_NO_LOCK)) {
        lockfd = cgctl_lock(ctx);
        if (lockfd < 0) {
            cgp_enforce_free(e);
            return lockfd;
        }
    }
    if (e->sum.outcome == CGP_ENFORCE_OK && (r = start(e)) < 0)
        goto oom;
    if (e->sum.outcome == CGP_ENFORCE_OK && !dry && execute(e) == 0) {
        /* Read back what this run touched: a guest's cgroups and threads when
         * it had a write, everyone's when a shared ancestor changed. A re-apply
         * with nothing to do reads nothing back. */
        bool shared = false;
        bool *touched = calloc(e->n_g ? e->n_g : 1, sizeof *touched);
        if (!touched) {
            r = -ENOMEM;
            goto oom;
        }
        for (size_t i = 0; i < e->n_op; i++) {
            if (!e->op[i].done)
                continue;
            if (e->op[i].gi < 0)
                shared = true;
            else
                touched[e->op[i].gi] = true;
        }
        for (size_t gi = 0; gi < e->n_g; gi++) {
            struct eguest *g = &e->g[gi];
            if (!g->managed || g->pub.state == CGP_GUEST_VANISHED || !(shared || touched[gi]))
                continue;
            char *why = NULL;
            if (readback(e, gi, &why) < 0) {
                if (cgp_guest_alive(ctx, g->pub.proc) < 0) {
                    vanish(e, gi, "during the read-back");
                    continue;
                }
                fail_run(e, -EIO, g->pub.name,
                         keepf(e, "guest '%s': %s; every change was rolled back", g->pub.name, why ? why : "read-back failed"));
                break;
            }
        }
        free(touched);
        if (e->sum.outcome == CGP_ENFORCE_OK && !(flags & CGP_ENFORCE_NO_MIGRATE))
            for (size_t gi = 0; gi < e->n_g; gi++)
                if (e->g[gi].managed && e->g[gi].pub.state != CGP_GUEST_VANISHED)
                    migrate_leftovers(e, gi);
    }
    if (lockfd >= 0)
        close(lockfd);
    lockfd = -1;
    if ((r = publish(e, dry)) < 0)
        goto oom;
    *out = e;
    return 0;
oom:
    if (lockfd >= 0)
        close(lockfd);
    cgp_enforce_free(e);
    return r;
}

/* ------------------------------------------------------------------ */
/* Verify                                                               */
/* ------------------------------------------------------------------ */

struct vguest {
    struct cgp_verify_guest pub;
    struct cgp_verify_cgroup *cg;
    struct cgp_verify_thread *th;
    uint64_t *pages;
};

struct cgp_verify {
    cgp_enforce *e;
    bool drift;
    size_t n;
    struct vguest *g;
    size_t n_bm, cap_bm;
    cgp_bitmap **bm;
};

CGP_EXPORT void cgp_verify_free(cgp_verify *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->g[i].cg);
        free(v->g[i].th);
        free(v->g[i].pages);
    }
    for (size_t i = 0; i < v->n_bm; i++)
        cgp_bitmap_free(v->bm[i]);
    free(v->bm);
    free(v->g);
    cgp_enforce_free(v->e);
    free(v);
}

CGP_EXPORT bool cgp_verify_drift(const cgp_verify *v) { return v && v->drift; }
CGP_EXPORT size_t cgp_verify_n_guests(const cgp_verify *v) { return v ? v->n : 0; }
CGP_EXPORT const struct cgp_verify_guest *cgp_verify_guest(const cgp_verify *v, size_t i)
{
    return v && i < v->n ? &v->g[i].pub : NULL;
}
CGP_EXPORT const cgp_enforce *cgp_verify_plan(const cgp_verify *v) { return v ? v->e : NULL; }

static cgp_bitmap *vkeep(cgp_verify *v, cgp_bitmap *b)
{
    if (!b)
        return NULL;
    if (!GROW(v, bm, n_bm, cap_bm)) {
        cgp_bitmap_free(b);
        return NULL;
    }
    return v->bm[v->n_bm++] = b;
}

static bool set_eq(const cgp_bitmap *want, const cgp_bitmap *have)
{
    return !want || (have && cgp_bitmap_equal(want, have));
}


static int numa_maps(struct vguest *vg, cgp_ctx *ctx, int pid)
{
    uint64_t *out = NULL;
    size_t top = 0;
    int r = read_numa_maps(ctx, pid, &out, &top);
    if (r < 0)
        return r == -ENOMEM ? -ENOMEM : 0;
    vg->pages = out;
    vg->pub.pages = out;
    vg->pub.anon_pages = out + top;
    vg->pub.n_nodes = top;
    return 0;
}

CGP_EXPORT int cgp_verify_run(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests,
                              size_t n_guests, cgp_verify **out)
{
    if (!out)
        return -EINVAL;
    cgp_enforce *e = NULL;
    int r = prepare(ctx, pl, guests, n_guests, &e);
    if (r < 0)
        return r;
    cgp_verify *v = calloc(1, sizeof *v);
    if (!v) {
        cgp_enforce_free(e);
        return -ENOMEM;
    }
    v->e = e;
    if (e->sum.outcome == CGP_ENFORCE_OK && (r = start(e)) < 0)
        goto fail;
    /* the model now holds the planned state: re-read the live one for the report */
    if ((r = publish(e, true)) < 0)
        goto fail;
    if (e->n_kept || e->sum.outcome != CGP_ENFORCE_OK)
        v->drift = true;
    if (cgp_placement_host(pl)->unmanaged == CGP_UNMANAGED_DENY && e->sum.n_unmanaged)
        v->drift = true;
    v->n = e->n_g;
    if (!(v->g = calloc(v->n ? v->n : 1, sizeof *v->g)))
        goto oom;
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        struct vguest *vg = &v->g[gi];
        vg->pub.name = g->pub.name;
        vg->pub.proc = g->pub.proc;
        vg->pub.foreign = g->pub.state == CGP_GUEST_FOREIGN;
        if (!g->managed)
            continue;
        if (g->pub.n_ops)
            vg->pub.drift = true;
        if (!(vg->cg = calloc(g->cg_n, sizeof *vg->cg)))
            goto oom;
        vg->pub.cgroups = vg->cg;
        vg->pub.n_cgroups = g->cg_n;
        for (size_t k = 0; k < g->cg_n; k++) {
            const struct cgn *c = &e->cg[g->cg_first + k];
            struct cgp_verify_cgroup *vc = &vg->cg[k];
            vc->path = c->path;
            vc->cpus_want = c->want_cpus;
            vc->mems_want = c->want_mems;
            int dfd = cg_dir(e, c->path);
            vc->exists = dfd >= 0;
            if (dfd >= 0) {
                cgp_bitmap *b = NULL;
                if (read_set(dfd, "cpuset.cpus.effective", &b) == 0)
                    vc->cpus_eff = vkeep(v, b ? b : cgp_bitmap_new());
                b = NULL;
                if (read_set(dfd, "cpuset.mems.effective", &b) == 0)
                    vc->mems_eff = vkeep(v, b ? b : cgp_bitmap_new());
            }
            vc->drift = !vc->exists || !set_eq(vc->cpus_want, vc->cpus_eff) || !set_eq(vc->mems_want, vc->mems_eff);
            vg->pub.drift |= vc->drift;
        }
        size_t nt = 0;
        for (size_t i = 0; i < e->n_t; i++)
            nt += e->t[i].gi == (int)gi;
        if (!(vg->th = calloc(nt ? nt : 1, sizeof *vg->th)))
            goto oom;
        vg->pub.threads = vg->th;
        for (size_t i = 0; i < e->n_t; i++) {
            const struct task *t = &e->t[i];
            if (t->gi != (int)gi)
                continue;
            struct cgp_verify_thread *vt = &vg->th[vg->pub.n_threads++];
            const struct cgn *c = &e->cg[t->target];
            vt->tid = t->tid;
            vt->role = t->th->role;
            vt->vcpu = t->th->vcpu;
            vt->iothread = t->th->iothread;
            vt->cgroup_want = c->path;
            vt->cpus_want = c->want_cpus;
            vt->mems_want = c->want_mems;
            char *cgv = cgctl_task_cgroup(ctx, g->pub.proc->pid, t->tid);
            char *rel = cgv ? cgctl_rel_path(e->prefix, cgv) : NULL;
            vt->cgroup_have = rel ? keep(e, rel) : cgv ? keep(e, strdup(cgv)) : NULL;
            free(cgv);
            cgp_bitmap *cp = NULL, *mp = NULL;
            if (cgctl_task_allowed(ctx, g->pub.proc->pid, t->tid, &cp, &mp) == 0) {
                vt->cpus_have = vkeep(v, cp);
                vt->mems_have = vkeep(v, mp);
            }
            if (vt->cgroup_have || vt->cpus_have)   /* a thread that ended is no drift */
                vt->drift = !vt->cgroup_have || strcmp(vt->cgroup_have, vt->cgroup_want) ||
                            !set_eq(vt->cpus_want, vt->cpus_have) || !set_eq(vt->mems_want, vt->mems_have);
            vg->pub.drift |= vt->drift;
        }
        if ((r = numa_maps(vg, ctx, g->pub.proc->pid)) < 0)
            goto fail;
        const cgp_bitmap *mw = g->gp->mems;
        if (vg->pub.n_nodes && mw) {
            for (size_t nd = 0; nd < vg->pub.n_nodes; nd++)
                if (!cgp_bitmap_test(mw, (unsigned)nd))
                    vg->pub.anon_outside += vg->pub.anon_pages[nd];
            if (vg->pub.anon_outside && (g->gp->mode == CGP_MODE_STRICT || g->gp->mode == CGP_MODE_RESTRICTIVE))
                vg->pub.drift = true;
        }
        v->drift |= vg->pub.drift;
    }
    *out = v;
    return 0;
oom:
    r = -ENOMEM;
fail:
    cgp_verify_free(v);
    return r;
}
