/* Guest discovery: QEMU processes under SYSROOT/proc (spec §5). */
#include "guests-int.h"
#include "../parsers/cmdline.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CMDLINE_MAX (4u << 20)
#define SMALL_MAX (64u << 10)

struct cgp_guest_list {
    size_t n, cap;
    struct cgp_guest *g;
    char *sysroot;
};

CGP_EXPORT const char *cgp_thread_role_name(enum cgp_thread_role r)
{
    switch (r) {
    case CGP_THREAD_VCPU: return "vcpu";
    case CGP_THREAD_IOTHREAD: return "iothread";
    default: return "emulator";
    }
}

CGP_EXPORT const char *cgp_thread_source_name(enum cgp_thread_source s)
{
    switch (s) {
    case CGP_THREADS_NAMES: return "names";
    case CGP_THREADS_QMP: return "qmp";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------ */
/* Pure helpers                                                          */
/* ------------------------------------------------------------------ */

int cgp_guests_stat_field(const char *stat, int want, uint64_t *out)
{
    const char *p = strrchr(stat, ')');
    if (!p || want < 3)
        return -EINVAL;
    p++;
    /* fields 3.. follow the comm, which may itself hold ')' and spaces */
    for (int field = 3; field <= want; field++) {
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n')
            return -EINVAL;
        if (field == want) {
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p, &end, 10);
            if (errno || (*end && *end != ' ' && *end != '\n'))
                return -EINVAL;
            *out = v;
            return 0;
        }
        while (*p && *p != ' ')
            p++;
    }
    return -EINVAL;
}

int cgp_guests_stat_start_time(const char *stat, uint64_t *out)
{
    return cgp_guests_stat_field(stat, 22, out);
}

enum cgp_thread_role cgp_guests_classify_comm(const char *comm, int *vcpu, const char **iothread)
{
    *vcpu = -1;
    *iothread = NULL;
    if (!strncmp(comm, "CPU ", 4) && isdigit((unsigned char)comm[4])) {
        const char *p = comm + 4;
        long v = 0;
        while (isdigit((unsigned char)*p) && v < CGP_QMP_MAX_VCPUS)
            v = v * 10 + (*p++ - '0');
        if (v < CGP_QMP_MAX_VCPUS && (!strcmp(p, "/KVM") || !strcmp(p, "/TCG"))) {
            *vcpu = (int)v;
            return CGP_THREAD_VCPU;
        }
        return CGP_THREAD_EMULATOR;
    }
    if (!strncmp(comm, "IO ", 3) && comm[3]) {
        *iothread = comm + 3;
        return CGP_THREAD_IOTHREAD;
    }
    return CGP_THREAD_EMULATOR;
}

char *cgp_guests_cgroup_path(const char *img, int *err)
{
    *err = 0;
    for (const char *line = img; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= 3 && !strncmp(line, "0::", 3)) {
            char *s = strndup(line + 3, len - 3);
            if (!s)
                *err = -ENOMEM;
            return s;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

int cgp_task_cgroup(int root_fd, int pid, int tid, char **out)
{
    char rel[96];
    if (tid > 0)
        snprintf(rel, sizeof rel, "proc/%d/task/%d/cgroup", pid, tid);
    else
        snprintf(rel, sizeof rel, "proc/%d/cgroup", pid);
    char *img CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_one(root_fd, rel, SMALL_MAX, &img);
    if (n < 0)
        return (int)n;
    int err;
    char *path = cgp_guests_cgroup_path(img, &err);
    if (err)
        return err;
    *out = path;
    return 0;
}

bool cgp_guests_cgroup_foreign(const char *path)
{
    if (!path)
        return false;
    if (!strcmp(path, "/machine") || !strncmp(path, "/machine/", 9))
        return true;
    for (const char *p = path; (p = strstr(p, "machine.slice"));) {
        bool start = p == path || p[-1] == '/';
        bool end = p[13] == '\0' || p[13] == '/';
        if (start && end)
            return true;
        p += 13;
    }
    return false;
}

/* A /proc or task/ entry named by a positive decimal id, else -1. */
static int proc_entry_id(const char *name)
{
    char *end;
    errno = 0;
    long id = strtol(name, &end, 10);
    if (!isdigit((unsigned char)name[0]) || *end || errno || id <= 0 || id > INT_MAX)
        return -1;
    return (int)id;
}

/* ------------------------------------------------------------------ */
/* File access                                                           */
/* ------------------------------------------------------------------ */


static bool is_qemu_name(const char *base)
{
    return !strncmp(base, "qemu-system-", 12) || !strcmp(base, "qemu-kvm");
}

static bool is_qemu(int root_fd, const char *pdir, bool live)
{
    char rel[64], target[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/exe", pdir);
    ssize_t n = readlinkat(root_fd, rel, target, sizeof target - 1);
    if (n > 0) {
        target[n] = '\0';
        /* an upgraded binary shows as "PATH (deleted)" */
        size_t tl = (size_t)n;
        if (tl > 10 && !strcmp(target + tl - 10, " (deleted)"))
            target[tl - 10] = '\0';
        const char *base = strrchr(target, '/');
        return is_qemu_name(base ? base + 1 : target);
    }
    /* On the live /proc, no exe link (ENOENT) means no memory map: a kernel
     * thread or a zombie, never a guest to place; skipping their comm saves
     * three calls per kernel thread, and a big host has hundreds. Otherwise
     * (no permission, or a fixture tree without the link) the comm decides. */
    if (n < 0 && errno == ENOENT && live)
        return false;
    snprintf(rel, sizeof rel, "%s/comm", pdir);
    char *comm CGP_AUTOFREE = NULL;
    if (cgp_read_one(root_fd, rel, 4096, &comm) < 0)
        return false;
    return is_qemu_name(comm);
}

static bool live_root(int root_fd)
{
    struct stat a, b;
    return fstat(root_fd, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int read_stat(int root_fd, int pid, char **out)
{
    char rel[64];
    snprintf(rel, sizeof rel, "proc/%d/stat", pid);
    ssize_t n = cgp_read_one(root_fd, rel, SMALL_MAX, out);
    return n < 0 ? (int)n : 0;
}

static int read_start_time(int root_fd, int pid, uint64_t *out)
{
    char *s CGP_AUTOFREE = NULL;
    int r = read_stat(root_fd, pid, &s);
    if (r < 0)
        return r;
    return cgp_guests_stat_start_time(s, out);
}

/* The argument vector, read from the process's memory ([arg_start, arg_end)
 * of its stat) rather than from cmdline. Why: /proc/PID/cmdline reads through
 * a GUP that honours NUMA-balancing hinting faults, and the fault is taken in
 * the reader's context, so with numa_balancing on, a reader running on node A
 * can migrate the guest's argv page onto node A, outside the guest's
 * cpuset.mems (seen on 6.1: `verify` found one stack page on the reader's
 * node). Reads of /proc/PID/mem use FOLL_FORCE, which follows those entries
 * without the fault. Needs ptrace access (root has it); -errno on any doubt
 * (no mem file, fields hidden as 0, short read, argv rewritten by the
 * process: last byte not NUL), and the caller then reads cmdline. */
static ssize_t read_argv_mem(int root_fd, const char *pdir, const char *stat, char **out)
{
    uint64_t a0, a1;
    if (cgp_guests_stat_field(stat, 48, &a0) < 0 || cgp_guests_stat_field(stat, 49, &a1) < 0)
        return -EINVAL;
    if (!a0 || a1 <= a0 || a1 - a0 > CMDLINE_MAX || a0 > (uint64_t)INT64_MAX)
        return -EINVAL;
    char rel[64];
    snprintf(rel, sizeof rel, "%s/mem", pdir);
    int fd = openat(root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t len = (size_t)(a1 - a0);
    char *buf = malloc(len + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    ssize_t n = pread(fd, buf, len, (off_t)a0);
    int e = errno;
    close(fd);
    if (n != (ssize_t)len || buf[len - 1] != '\0') {
        free(buf);
        return n < 0 ? -e : -EIO;
    }
    buf[len] = '\0';
    *out = buf;
    return (ssize_t)len;
}

/* Make a path from the command line absolute with the process's cwd. */
static char *abs_path(int root_fd, const char *pdir, const char *p, int *err)
{
    *err = 0;
    if (!p)
        return NULL;
    char *r;
    if (p[0] == '/') {
        r = strdup(p);
    } else {
        char rel[64], cwd[PATH_MAX];
        snprintf(rel, sizeof rel, "%s/cwd", pdir);
        ssize_t n = readlinkat(root_fd, rel, cwd, sizeof cwd - 1);
        if (n > 0 && cwd[0] == '/') {
            cwd[n] = '\0';
            if (asprintf(&r, "%s%s%s", cwd, cwd[n - 1] == '/' ? "" : "/", p) < 0)
                r = NULL;
        } else {
            r = strdup(p);
        }
    }
    if (!r)
        *err = -ENOMEM;
    return r;
}

/* ------------------------------------------------------------------ */
/* One process                                                           */
/* ------------------------------------------------------------------ */

static void guest_clear(struct cgp_guest *g)
{
    if (g->pidfd >= 0)
        close(g->pidfd);
    free((char *)g->name);
    free((char *)g->uuid);
    free((char *)g->pidfile);
    free((char *)g->qmp);
    free((char *)g->cgroup);
    free((char *)g->exe);
    for (size_t i = 0; i < g->n_threads; i++)
        free((char *)g->threads[i].iothread);
    free((struct cgp_guest_thread *)g->threads);
    memset(g, 0, sizeof *g);
    g->pidfd = -1;
}

static int cmp_thread(const void *a, const void *b)
{
    const struct cgp_guest_thread *x = a, *y = b;
    return (x->tid > y->tid) - (x->tid < y->tid);
}

static int cmp_guest(const void *a, const void *b)
{
    const struct cgp_guest *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Threads from task/TID/comm. -ENOMEM, -ESRCH (task/ gone), else 0. */
/* TID/comm below a task directory in one open: RESOLVE_NO_SYMLINKS keeps the
 * no-symlink rule for both components (a fixture tree could plant one)
 * without opening the TID directory first. Kernels before 5.6 take two. */
static ssize_t read_task_comm(int task_fd, int tid, char *buf, size_t size)
{
    char rel[48];
    snprintf(rel, sizeof rel, "%d/comm", tid);
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                            .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
    int fd = (int)syscall(SYS_openat2, task_fd, rel, &how, sizeof how);
    if (fd < 0 && errno != ENOSYS)
        return -errno;
    if (fd < 0) {
        *strchr(rel, '/') = '\0';
        int tfd = cgp_open_dir(task_fd, rel, false);
        if (tfd < 0)
            return tfd;
        ssize_t n = cgp_read_attr(tfd, "comm", buf, size);
        close(tfd);
        return n;
    }
    return cgp_read_attr_fd(fd, buf, size);
}

static int read_threads(int root_fd, const char *pdir, struct cgp_guest *g, size_t *n_named_vcpus)
{
    char rel[64];
    snprintf(rel, sizeof rel, "%s/task", pdir);
    int dfd = cgp_open_dir(root_fd, rel, false);
    if (dfd < 0)
        return -ESRCH;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -ENOMEM;
    }
    size_t n = 0, cap = 0;
    struct cgp_guest_thread *t = NULL;
    int r = 0;
    *n_named_vcpus = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int tid = proc_entry_id(de->d_name);
        if (tid < 0)
            continue;
        char comm[4096];
        if (read_task_comm(dirfd(d), tid, comm, sizeof comm) < 0)
            continue;                       /* thread exited (or junk) */
        if (!CGP_GROW(t, n, cap)) {
            r = -ENOMEM;
            break;
        }
        const char *io;
        int vcpu;
        struct cgp_guest_thread *th = &t[n];
        th->tid = tid;
        th->role = cgp_guests_classify_comm(comm, &vcpu, &io);
        th->vcpu = vcpu;
        th->iothread = NULL;
        if (io && !(th->iothread = strdup(io))) {
            r = -ENOMEM;
            break;
        }
        if (th->role == CGP_THREAD_VCPU)
            (*n_named_vcpus)++;
        n++;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free((char *)t[i].iothread);
        free(t);
        return r;
    }
    if (n)
        qsort(t, n, sizeof *t, cmp_thread);
    g->threads = t;
    g->n_threads = n;
    return 0;
}

static struct cgp_guest_thread *find_tid(struct cgp_guest *g, int tid)
{
    struct cgp_guest_thread key = { .tid = tid };
    return bsearch(&key, g->threads, g->n_threads, sizeof key, cmp_thread);
}

/* Apply a QMP answer to the thread list; false when it does not fit it (a
 * vCPU thread that is not one of the process's threads — another pid
 * namespace —, or vCPUs sharing a thread: single-threaded TCG). */
static int apply_qmp(struct cgp_guest *g, const struct cgp_qmp_threads *q)
{
    if (!q->n_vcpus)
        return 0;
    for (size_t i = 0; i < q->n_vcpus; i++) {
        if (!find_tid(g, q->vcpus[i].tid))
            return 0;
        for (size_t j = 0; j < i; j++)
            if (q->vcpus[j].tid == q->vcpus[i].tid)
                return 0;
    }
    for (size_t i = 0; i < q->n_iothreads; i++) {
        struct cgp_guest_thread *t = find_tid(g, q->iothreads[i].tid);
        if (!t || t->role == CGP_THREAD_VCPU)
            continue;
        char *id = strdup(q->iothreads[i].id);
        if (!id)
            return -ENOMEM;
        free((char *)t->iothread);
        t->iothread = id;
        t->role = CGP_THREAD_IOTHREAD;
        t->vcpu = -1;
    }
    for (size_t i = 0; i < q->n_vcpus; i++) {
        struct cgp_guest_thread *t = find_tid(g, q->vcpus[i].tid);
        free((char *)t->iothread);
        t->iothread = NULL;
        t->role = CGP_THREAD_VCPU;
        t->vcpu = q->vcpus[i].index;
    }
    return 1;
}

/* An I/O thread id of 12 bytes may be cut ("IO " + id, 15 bytes of comm). */
static bool has_cut_iothread(const struct cgp_guest *g)
{
    for (size_t i = 0; i < g->n_threads; i++)
        if (g->threads[i].role == CGP_THREAD_IOTHREAD && strlen(g->threads[i].iothread) == 12)
            return true;
    return false;
}

/* Whole ids from QMP for named I/O threads whose name is a prefix of it. */
static int fix_iothread_ids(struct cgp_guest *g, const struct cgp_qmp_threads *q)
{
    for (size_t i = 0; i < q->n_iothreads; i++) {
        struct cgp_guest_thread *t = find_tid(g, q->iothreads[i].tid);
        if (!t || t->role != CGP_THREAD_IOTHREAD || strncmp(q->iothreads[i].id, t->iothread, strlen(t->iothread)))
            continue;
        char *id = strdup(q->iothreads[i].id);
        if (!id)
            return -ENOMEM;
        free((char *)t->iothread);
        t->iothread = id;
    }
    return 0;
}

/* Does g need QMP: its names do not tell the vCPUs apart, or cut an I/O
 * thread id? */
static bool wants_qmp(const struct cgp_guest *g)
{
    return g->qmp && (g->thread_source != CGP_THREADS_NAMES || has_cut_iothread(g));
}

/* Take QMP's answer q into g (whatever fails leaves thread_source as it
 * is). 0 or -ENOMEM. */
static int use_qmp(struct cgp_guest *g, const struct cgp_qmp_threads *q)
{
    bool named = g->thread_source == CGP_THREADS_NAMES;
    int r = named ? fix_iothread_ids(g, q) : apply_qmp(g, q);
    if (r > 0 && !named)
        g->thread_source = CGP_THREADS_QMP;
    return r < 0 ? r : 0;
}

/* QMP for g alone (cgp_guests_read_pid), within timeout_ms. 0 or -ENOMEM. */
static int ask_qmp(cgp_ctx *ctx, struct cgp_guest *g, int timeout_ms)
{
    if (!wants_qmp(g))
        return 0;
    struct cgp_qmp_threads q;
    char why[200];
    int r = cgp_qmp_query(ctx->root_fd, ctx->sysroot, g->qmp, timeout_ms, &q, why, sizeof why);
    if (r == -ENOMEM)
        return r;
    if (r == 0) {
        r = use_qmp(g, &q);
        cgp_qmp_threads_clear(&q);
    }
    return r == -ENOMEM ? r : 0;
}

/* 1 found, 0 not a guest / vanished, -ENOMEM. */
static int read_guest(cgp_ctx *ctx, int pid, unsigned flags, bool live, struct cgp_guest *g)
{
    /* CGP_DISCOVER_ANY: the caller vouches for the process (exec's child
     * before its execve is still cgplace) */
    bool any = flags & CGP_DISCOVER_ANY;
    int root_fd = ctx->root_fd;
    char *img CGP_AUTOFREE = NULL;
    char *stat CGP_AUTOFREE = NULL;     /* above every goto: freed on each exit */
    char rel[64];
    memset(g, 0, sizeof *g);
    g->pidfd = -1;
    g->pid = pid;
    char pdir[32];
    snprintf(pdir, sizeof pdir, "proc/%d", pid);
    if (!any && !is_qemu(root_fd, pdir, live))
        goto skip;
    if (live) {
        /* Pin the process: everything read below belongs to it while the
         * pidfd is not signalled (checked at the end); is_qemu again, in
         * case the pid was reused between the first check and the pidfd. */
        g->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (g->pidfd < 0 && errno == ESRCH)
            return 0;
        if (g->pidfd >= 0) {        /* pidfd_open(2) sets close-on-exec itself */
            if (!any && !is_qemu(root_fd, pdir, live))
                goto skip;
        }
    }
    int r = 0;
    if (read_stat(root_fd, pid, &stat) < 0 || cgp_guests_stat_start_time(stat, &g->start_time) < 0)
        goto skip;
    if (cgp_trust_read_facts(root_fd, pdir, live, g) < 0)
        goto nomem;
    ssize_t n = read_argv_mem(root_fd, pdir, stat, &img);
    if (n == -ENOMEM)
        goto nomem;
    if (n < 0) {
        snprintf(rel, sizeof rel, "%s/cmdline", pdir);
        n = cgp_read_file_ex(root_fd, rel, CMDLINE_MAX, CGP_READ_RAW | CGP_READ_TRUNCATE, &img);
    }
    if (n == -ENOMEM)
        goto nomem;
    if (n <= 0)
        goto skip;                         /* vanished, or a zombie */
    struct cgp_qemu_cmdline c;
    r = cgp_qemu_cmdline_parse(img, (size_t)n, &c);
    if (r < 0)
        goto fail;
    int e1, e2, e3;
    g->name = c.name;
    g->uuid = c.uuid;
    c.name = c.uuid = NULL;
    g->debug_threads = c.debug_threads;
    g->pidfile = abs_path(root_fd, pdir, c.pidfile, &e1);
    g->qmp = abs_path(root_fd, pdir, c.qmp, &e2);
    cgp_qemu_cmdline_clear(&c);
    if (e1 || e2)
        goto nomem;
    char *cg = NULL;
    e3 = cgp_task_cgroup(root_fd, pid, 0, &cg);
    if (e3 == -ENOMEM)
        goto nomem;
    if (e3 < 0)
        goto skip;
    g->cgroup = cg;
    g->foreign = cgp_guests_cgroup_foreign(g->cgroup);
    size_t named = 0;
    r = read_threads(root_fd, pdir, g, &named);
    if (r == -ESRCH)
        goto skip;
    if (r < 0)
        goto fail;
    g->thread_source = named ? CGP_THREADS_NAMES : CGP_THREADS_UNKNOWN;
    if ((flags & CGP_DISCOVER_QMP) && (r = ask_qmp(ctx, g, CGP_QMP_TIMEOUT_MS)) < 0)
        goto fail;
    if (g->pidfd >= 0) {
        struct pollfd p = { .fd = g->pidfd, .events = POLLIN };
        if (poll(&p, 1, 0) > 0)
            goto skip;                     /* exited during the scan */
    }
    return 1;
nomem:
    r = -ENOMEM;
fail:
    guest_clear(g);
    return r;
skip:
    guest_clear(g);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                            */
/* ------------------------------------------------------------------ */

CGP_EXPORT void cgp_guests_free(cgp_guest_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        guest_clear(&l->g[i]);
    free(l->g);
    free(l->sysroot);
    free(l);
}

CGP_EXPORT size_t cgp_guests_count(const cgp_guest_list *l)
{
    return l ? l->n : 0;
}

CGP_EXPORT const struct cgp_guest *cgp_guests_get(const cgp_guest_list *l, size_t i)
{
    return l && i < l->n ? &l->g[i] : NULL;
}

CGP_EXPORT int cgp_guests_discover(cgp_ctx *ctx, unsigned flags, cgp_guest_list **out)
{
    if (!ctx || !out)
        return -EINVAL;
    int pfd = cgp_open_dir(ctx->root_fd, "proc", true);
    if (pfd < 0)
        return cgp_ctx_errorf(ctx, pfd == -ENOTDIR ? -ENOENT : pfd, "%s/proc: %s", ctx->sysroot,
                              strerror(-pfd));
    DIR *d = fdopendir(pfd);
    if (!d) {
        close(pfd);
        return -ENOMEM;
    }
    cgp_guest_list *l = calloc(1, sizeof *l);
    if (!l || !(l->sysroot = strdup(ctx->sysroot))) {
        closedir(d);
        free(l);
        return -ENOMEM;
    }
    bool live = live_root(ctx->root_fd);
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int pid = proc_entry_id(de->d_name);
        if (pid < 0)
            continue;
        if (!CGP_GROW(l->g, l->n, l->cap)) {
            r = -ENOMEM;
            break;
        }
        int k = read_guest(ctx, pid, flags & ~(unsigned)CGP_DISCOVER_QMP, live, &l->g[l->n]);
        if (k < 0) {
            r = k;
            break;
        }
        if (k > 0) {
            l->n++;
        }
    }
    closedir(d);
    if (r < 0) {
        cgp_guests_free(l);
        return r;
    }
    if (l->n)
        qsort(l->g, l->n, sizeof *l->g, cmp_guest);
    if (flags & CGP_DISCOVER_QMP) {
        /* only the processes that are guests by the default trust: a
         * stranger's socket could stall the run */
        bool *want CGP_AUTOFREE = calloc(l->n ? l->n : 1, sizeof *want);
        for (size_t i = 0; want && i < l->n; i++)
            want[i] = cgp_guest_trusted(ctx, &l->g[i], NULL, NULL, 0) == 1;
        if (!want || cgp_guests_query_qmp(ctx, l, want, CGP_QMP_TIMEOUT_MS) < 0) {
            cgp_guests_free(l);
            return -ENOMEM;
        }
    }
    *out = l;
    return 0;
}

CGP_EXPORT int cgp_guests_query_qmp(cgp_ctx *ctx, cgp_guest_list *l, const bool *want, int timeout_ms)
{
    if (!ctx || !l)
        return -EINVAL;
    if (timeout_ms <= 0)
        timeout_ms = CGP_QMP_TIMEOUT_MS;
    size_t n = 0;
    size_t *idx CGP_AUTOFREE = calloc(l->n ? l->n : 1, sizeof *idx);
    const char **paths CGP_AUTOFREE = calloc(l->n ? l->n : 1, sizeof *paths);
    struct cgp_qmp_threads *q CGP_AUTOFREE = calloc(l->n ? l->n : 1, sizeof *q);
    int *res CGP_AUTOFREE = calloc(l->n ? l->n : 1, sizeof *res);
    if (!idx || !paths || !q || !res)
        return -ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        if ((!want || want[i]) && wants_qmp(&l->g[i])) {
            idx[n] = i;
            paths[n++] = l->g[i].qmp;
        }
    if (!n)
        return 0;
    /* every socket at once, one deadline for all: N that never answer
     * cost it once, and a silent one delays no other */
    int asked = cgp_qmp_query_all(ctx->root_fd, ctx->sysroot, paths, n, timeout_ms, q, res);
    if (asked < 0)
        return asked;
    int r = 0;
    for (size_t k = 0; k < n; k++) {
        if (res[k] == -ENOMEM)
            r = -ENOMEM;
        if (res[k] != 0)
            continue;
        if (r == 0 && use_qmp(&l->g[idx[k]], &q[k]) < 0)
            r = -ENOMEM;
        cgp_qmp_threads_clear(&q[k]);
    }
    return r < 0 ? r : asked;
}

CGP_EXPORT int cgp_guests_read_pid(cgp_ctx *ctx, int pid, unsigned flags, cgp_guest_list **out)
{
    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    cgp_guest_list *l = calloc(1, sizeof *l);
    if (!l || !(l->sysroot = strdup(ctx->sysroot)) || !(l->g = calloc(1, sizeof *l->g))) {
        cgp_guests_free(l);
        return -ENOMEM;
    }
    int k = read_guest(ctx, pid, flags, live_root(ctx->root_fd), &l->g[0]);
    if (k <= 0) {
        cgp_guests_free(l);
        return k < 0 ? k : -ESRCH;
    }
    l->n = l->cap = 1;
    *out = l;
    return 0;
}

CGP_EXPORT int cgp_guest_alive(cgp_ctx *ctx, const struct cgp_guest *g)
{
    if (!ctx || !g)
        return -EINVAL;
    if (g->pidfd >= 0) {
        /* The pidfd is the process itself: while it has not exited, its pid
         * cannot have been reused (one poll instead of reading stat before
         * every write). */
        struct pollfd p = { .fd = g->pidfd, .events = POLLIN };
        return poll(&p, 1, 0) != 0 ? -ESRCH : 0;
    }
    uint64_t st;
    if (read_start_time(ctx->root_fd, g->pid, &st) < 0 || st != g->start_time)
        return -ESRCH;
    return 0;
}
