/* The cgroupfs backend (spec §6 without systemd): PARENT/GUEST at the cgroup
 * root, every file opened relative to cached directory fds with O_NOFOLLOW;
 * and the "empty" backend, which plans against a hierarchy where every group
 * is absent. Also the root, the apply lock. */
#include "cgctl-int.h"
#include "../guests/guests-int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#define CGROUP2_MAGIC 0x63677270

struct cgctl_hooks cgctl_hooks;

/* A /proc/PID/cgroup path relative to the root whose path in the hierarchy
 * is prefix: 0 and *out (malloc'd), -EXDEV when it lies outside, -ENOMEM. */
static int rel_path(const char *prefix, const char *v, char **out)
{
    size_t pl = strlen(prefix);
    const char *rest = v + pl;
    if (strncmp(v, prefix, pl) != 0 || (*rest && *rest != '/'))
        return -EXDEV;
    while (*rest == '/')
        rest++;
    char *r = strdup(rest);
    if (!r)
        return -ENOMEM;
    size_t n = strlen(r);
    while (n && r[n - 1] == '/')
        r[--n] = '\0';
    *out = r;
    return 0;
}

/* Undo mountinfo's octal escapes (\040) in place. */
static void unescape(char *s)
{
    char *d = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *d++ = *s++;
        }
    }
    *d = '\0';
}

/* Find the cgroup2 mount in SYSROOT/proc/self/mountinfo: 0 with *mp and
 * *root (malloc'd), -ENOENT when none. */
static int find_cgroup2(cgp_ctx *ctx, char **mp, char **root)
{
    char *buf CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_file(ctx->root_fd, "proc/self/mountinfo", 1 << 22, &buf);
    if (n < 0)
        return n == -ENOMEM ? -ENOMEM : -ENOENT;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char *fstype = sep + 3;
        char *sp = strchr(fstype, ' ');
        if (sp)
            *sp = '\0';
        if (strcmp(fstype, "cgroup2"))
            continue;
        char *f[5] = { 0 };
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int i = 0; tok && i < 5; i++, tok = strtok_r(NULL, " ", &save))
            f[i] = tok;
        if (!f[4])
            continue;
        unescape(f[3]);
        unescape(f[4]);
        *mp = strdup(f[4]);
        *root = strdup(f[3]);
        if (!*mp || !*root) {
            free(*mp);
            free(*root);
            return -ENOMEM;
        }
        return 0;
    }
    return -ENOENT;
}

static int root_path(cgp_ctx *ctx, char **path, char **prefix)
{
    char *mp = NULL, *mroot = NULL;
    int r = find_cgroup2(ctx, &mp, &mroot);
    if (r == -ENOMEM)
        return r;
    bool sys_slash = !strcmp(ctx->sysroot, "/");
    if (ctx->cgroup_root) {
        char *p = strdup(ctx->cgroup_root), *pre = NULL;
        if (!p) {
            free(mp);
            free(mroot);
            return -ENOMEM;
        }
        /* Where the given directory sits in the hierarchy, when it is below
         * the host's cgroup2 mount; otherwise (a fake tree) "". */
        char *real = r == 0 && sys_slash ? realpath(p, NULL) : NULL;
        size_t ml = mp ? strlen(mp) : 0;
        if (real && (!strncmp(real, mp, ml) && (real[ml] == '\0' || real[ml] == '/' || !strcmp(mp, "/")))) {
            const char *rest = !strcmp(mp, "/") ? real : real + ml;
            if (asprintf(&pre, "%s%s", strcmp(mroot, "/") ? mroot : "", rest) < 0)
                pre = NULL;
        } else {
            pre = strdup("");
        }
        free(real);
        free(mp);
        free(mroot);
        if (!pre) {
            free(p);
            return -ENOMEM;
        }
        size_t pl = strlen(pre);
        while (pl && pre[pl - 1] == '/')
            pre[--pl] = '\0';
        *path = p;
        *prefix = pre;
        return 0;
    }
    if (r < 0)
        return cgp_ctx_errorf(ctx, -ENOENT, "no cgroup v2 hierarchy: no cgroup2 mount in %s%sproc/self/mountinfo "
                              "(mount one, or give --cgroup-root DIR)", ctx->sysroot, sys_slash ? "" : "/");
    char *p = NULL;
    if (sys_slash)
        p = strdup(mp);
    else if (asprintf(&p, "%s%s", ctx->sysroot, mp) < 0)
        p = NULL;
    char *pre = strdup(strcmp(mroot, "/") ? mroot : "");
    free(mp);
    free(mroot);
    if (!p || !pre) {
        free(p);
        free(pre);
        return -ENOMEM;
    }
    *path = p;
    *prefix = pre;
    return 0;
}

int cgctl_open_root(cgp_ctx *ctx, int *fd, char **prefix)
{
    char *path = NULL, *pre = NULL;
    int r = root_path(ctx, &path, &pre);
    if (r < 0)
        return r;
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        r = -errno;
        cgp_ctx_errorf(ctx, r, "cgroup root %s: %s", path, strerror(-r));
        free(path);
        free(pre);
        return r;
    }
    struct statfs fs;
    if (ctx->real_host && (fstatfs(dfd, &fs) < 0 || (unsigned long)fs.f_type != CGROUP2_MAGIC)) {
        r = cgp_ctx_errorf(ctx, -EMEDIUMTYPE, "cgroup root %s is not a cgroup2 file system", path);
        goto fail;
    }
    char *ctl = NULL;
    ssize_t n = cgp_read_file(dfd, "cgroup.controllers", 4096, &ctl);
    if (n < 0) {
        r = n == -ENOENT ? -ENOTDIR : (int)n;
        cgp_ctx_errorf(ctx, r, "%s is not a cgroup v2 directory (no cgroup.controllers: %s)", path, strerror((int)-n));
        goto fail;
    }
    bool cpuset = false;
    for (char *save = NULL, *tok = strtok_r(ctl, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
        if (!strcmp(tok, "cpuset"))
            cpuset = true;
    free(ctl);
    if (!cpuset) {
        r = cgp_ctx_errorf(ctx, -EOPNOTSUPP, "the cpuset controller is not available in %s/cgroup.controllers "
                           "(enable +cpuset in the parent's cgroup.subtree_control, or free it from cgroup v1)", path);
        goto fail;
    }
    free(ctx->cgroup_root);
    ctx->cgroup_root = path;
    *fd = dfd;
    *prefix = pre;
    return 0;
fail:
    close(dfd);
    free(path);
    free(pre);
    return r;
}

CGP_EXPORT int cgp_cgroup_root(cgp_ctx *ctx, char **path)
{
    cgp_ctx_clear_error(ctx);
    int fd = -1;
    char *pre = NULL;
    int r = cgctl_open_root(ctx, &fd, &pre);
    if (r < 0)
        return r;
    close(fd);
    free(pre);
    char *p = strdup(ctx->cgroup_root);
    if (!p)
        return -ENOMEM;
    *path = p;
    return 0;
}

CGP_EXPORT const char *cgp_lock_path(void)
{
    const char *path = getenv("CGPLACE_LOCK");
    return path && *path ? path : CGP_LOCK_DEFAULT;
}

int cgctl_lock(cgp_ctx *ctx)
{
    const char *path = cgp_lock_path();
    /* without O_CREAT first: a sandboxed caller made it before its filter */
    int fd CGP_AUTOCLOSE = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0 && errno == EPERM)
            errno = ENOENT;   /* a filter refused to make it: it is missing, say so */
    }
    if (fd < 0)
        return cgp_ctx_errorf(ctx, -errno, "lock file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return cgp_ctx_errorf(ctx, -EINVAL, "lock file %s: not a regular file", path);
    /* Polled, not a blocking flock: no signal handler in a library, and a
     * holder that hangs (a FIFO it writes, a stuck daemon) costs at most
     * the wait the caller chose (--wait). */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int r = -errno;
        if (r == -EINTR)
            continue;
        if (r != -EWOULDBLOCK)
            return cgp_ctx_errorf(ctx, r, "lock %s: %s", path, strerror(-r));
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ms = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ctx->lock_wait >= 0 && ms >= ctx->lock_wait * 1000LL) {
            char buf[24] = "";
            ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
            long holder = n > 0 ? strtol(buf, NULL, 10) : 0;
            if (holder > 0)
                return cgp_ctx_errorf(ctx, r, "lock %s is held by pid %ld (waited %d s; see --wait)", path,
                                      holder, ctx->lock_wait);
            return cgp_ctx_errorf(ctx, r, "lock %s is held by another process (waited %d s; see --wait)", path,
                                  ctx->lock_wait);
        }
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
    }
    /* the holder's pid for the next one who waits: fixed width, so no
     * truncate is needed (the sandbox has none) */
    char pid[16];
    int len = snprintf(pid, sizeof pid, "%-10d\n", (int)getpid());
    if (lseek(fd, 0, SEEK_SET) == 0 && write(fd, pid, (size_t)len) != len) {
        /* only a hint for whoever waits next: the lock itself is held */
    }
    int r = fd;
    fd = -1;
    return r;
}

/* ------------------------------------------------------------------ */
/* Cgroup directory fds                                                 */
/* ------------------------------------------------------------------ */

/* Every cgroup file access goes through a directory fd. Walking from the root
 * for each access costs two system calls per path component; a run instead
 * opens each cgroup once, relative to its parent's cached fd, one component
 * at a time with O_NOFOLLOW, and keeps it. The returned fd is borrowed and
 * valid until the next cg_dir call (a full cache is flushed). At most
 * DIRFD_MAX (well below the usual soft limit of 1024 open files, next to one
 * pidfd per guest). */
#define DIRFD_SLOTS 1024
#define DIRFD_MAX 384

struct cgctl_dirfd {
    char *path;
    int fd;
};

static uint32_t path_hash(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static struct cgctl_dirfd *dirfd_slot(struct cgctl_backend *be, const char *path)
{
    for (uint32_t i = path_hash(path) % DIRFD_SLOTS;; i = (i + 1) % DIRFD_SLOTS)
        if (!be->dfd[i].path || !strcmp(be->dfd[i].path, path))
            return &be->dfd[i];
}

static void dirfd_flush(struct cgctl_backend *be)
{
    for (size_t i = 0; be->dfd && i < DIRFD_SLOTS; i++)
        if (be->dfd[i].path) {
            close(be->dfd[i].fd);
            free(be->dfd[i].path);
            be->dfd[i].path = NULL;
        }
    be->n_dfd = 0;
}

/* Forget path (it was removed): its slot and everything cached below it. */
static void dirfd_forget(struct cgctl_backend *be, const char *path)
{
    if (!be->dfd || !be->n_dfd)
        return;
    /* open addressing without tombstones: rebuild the table minus the victims */
    struct cgctl_dirfd old[DIRFD_MAX];
    size_t n = 0;
    size_t pl = strlen(path);
    for (size_t i = 0; i < DIRFD_SLOTS; i++) {
        struct cgctl_dirfd *d = &be->dfd[i];
        if (!d->path)
            continue;
        if (!strncmp(d->path, path, pl) && (d->path[pl] == '\0' || d->path[pl] == '/')) {
            close(d->fd);
            free(d->path);
        } else {
            old[n++] = *d;
        }
        d->path = NULL;
    }
    for (size_t i = 0; i < n; i++)
        *dirfd_slot(be, old[i].path) = old[i];
    be->n_dfd = n;
}

int cgctl_fs_dir(struct cgctl_backend *be, const char *path)
{
    if (!*path)
        return be->rootfd;
    if (!be->dfd && !(be->dfd = calloc(DIRFD_SLOTS, sizeof *be->dfd)))
        return -ENOMEM;
    struct cgctl_dirfd *d = dirfd_slot(be, path);
    if (d->path)
        return d->fd;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    if (bl == 0 || bl > 255 || !strcmp(base, ".") || !strcmp(base, ".."))
        return -EINVAL;
    int pfd;
    if (slash) {
        char *parent = strndup(path, (size_t)(slash - path));
        if (!parent)
            return -ENOMEM;
        pfd = cgctl_fs_dir(be, parent);
        free(parent);
    } else {
        pfd = be->rootfd;
    }
    if (pfd < 0)
        return pfd;
    int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t max = cgctl_hooks.dirfd_max && cgctl_hooks.dirfd_max < DIRFD_MAX ? cgctl_hooks.dirfd_max : DIRFD_MAX;
    if (be->n_dfd >= max)
        dirfd_flush(be);
    char *key = strdup(path);
    if (!key) {
        close(fd);
        return -ENOMEM;
    }
    d = dirfd_slot(be, key);
    *d = (struct cgctl_dirfd){ key, fd };
    be->n_dfd++;
    return fd;
}

/* ------------------------------------------------------------------ */
/* The cgroupfs backend                                                 */
/* ------------------------------------------------------------------ */

int cgctl_fs_open(struct cgctl_backend *be)
{
    return cgctl_open_root(be->ctx, &be->rootfd, &be->prefix);
}

void cgctl_fs_close(struct cgctl_backend *be)
{
    dirfd_flush(be);
    free(be->dfd);
    be->dfd = NULL;
    if (be->rootfd >= 0)
        close(be->rootfd);
    be->rootfd = -1;
    free(be->prefix);
    be->prefix = NULL;
}

static int fs_place(struct cgctl_backend *be, const struct cgp_host_settings *hs, const char *guest,
                    struct cgp_arena *a, const char **path, const char **unit)
{
    (void)be;
    const char *p = cgp_arena_printf(a, "%s/%s", hs->parent, guest);
    if (!p)
        return -ENOMEM;
    *path = p;
    *unit = NULL;
    return 0;
}

int cgctl_read_set(int dfd, const char *file, cgp_bitmap **out)
{
    char *s CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_one(dfd, file, 1 << 16, &s);
    if (n == -ENOENT || (n >= 0 && !*s)) {
        *out = NULL;
        return 0;
    }
    if (n < 0)
        return (int)n;
    cgp_bitmap *b = NULL;
    int r = cgp_bitmap_parse(s, 0, &b, NULL);
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

/* Only what planning looks at: the type of a threaded child, the controllers
 * of a group that needs cpuset for its children, the sets it gets. */
int cgctl_fs_read_group(struct cgctl_backend *be, const char *path, unsigned what, struct cgctl_live *st)
{
    int fd = cgctl_fs_dir(be, path);
    if (fd == -ENOENT) {
        st->exists = false;
        return 0;
    }
    if (fd < 0)
        return cgp_ctx_errorf(be->ctx, fd, "cgroup %s: %s", *path ? path : "/", strerror(-fd));
    st->exists = true;
    char *s = NULL;
    if ((what & CGCTL_LIVE_TYPE) && cgp_read_one(fd, "cgroup.type", 256, &s) >= 0)
        st->threaded = !strcmp(s, "threaded");
    free(s);
    s = NULL;
    if ((what & CGCTL_LIVE_CTL) && cgp_read_one(fd, "cgroup.subtree_control", 4096, &s) >= 0)
        st->cpuset_on = has_word(s, "cpuset");
    free(s);
    int r = 0;
    if (((what & CGCTL_LIVE_CPUS) && (r = cgctl_read_set(fd, "cpuset.cpus", &st->cpus)) < 0) ||
        ((what & CGCTL_LIVE_MEMS) && (r = cgctl_read_set(fd, "cpuset.mems", &st->mems)) < 0))
        return cgp_ctx_errorf(be->ctx, r, "cgroup %s: cpuset.cpus/mems: %s", path, strerror(-r));
    return 0;
}

static const struct {
    enum cgctl_io io;
    const char *file, *value;
} fs_acts[] = {
    [CGCTL_CREATE] = { CGCTL_IO_MKDIR, NULL, NULL },
    [CGCTL_REMOVE] = { CGCTL_IO_RMDIR, NULL, NULL },
    [CGCTL_CPUSET_ON] = { CGCTL_IO_WRITE, "cgroup.subtree_control", "+cpuset" },
    [CGCTL_CPUSET_OFF] = { CGCTL_IO_WRITE, "cgroup.subtree_control", "-cpuset" },
    [CGCTL_THREADED] = { CGCTL_IO_WRITE, "cgroup.type", "threaded" },
    [CGCTL_SET_CPUS] = { CGCTL_IO_WRITE, "cpuset.cpus", NULL },
    [CGCTL_SET_MEMS] = { CGCTL_IO_WRITE, "cpuset.mems", NULL },
    [CGCTL_MOVE_PROCESS] = { CGCTL_IO_WRITE, "cgroup.procs", NULL },
    [CGCTL_MOVE_THREAD] = { CGCTL_IO_WRITE, "cgroup.threads", NULL },
};

void cgctl_fs_describe(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                       const char **item)
{
    bool known = (size_t)act < sizeof fs_acts / sizeof *fs_acts;
    *kind = !known || fs_acts[act].io == CGCTL_IO_WRITE ? CGP_OP_WRITE
            : fs_acts[act].io == CGCTL_IO_RMDIR                  ? CGP_OP_RMDIR
                                                                 : CGP_OP_MKDIR;
    *file = known ? fs_acts[act].file : "?";
    *value = known ? fs_acts[act].value : NULL;
    *item = NULL;
}

static int fs_write(struct cgctl_backend *be, const char *path, const char *file, const char *value)
{
    int dfd = cgctl_fs_dir(be, path);
    if (dfd < 0)
        return dfd;
    /* a FIFO in a delegated subtree: -ENXIO, never a write that blocks
     * with the lock held */
    int fd CGP_AUTOCLOSE = cgp_open_reg(dfd, file, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return fd;
    char buf[4096];
    int len = snprintf(buf, sizeof buf, "%s\n", value);
    if (len < 0 || (size_t)len >= sizeof buf)
        return -E2BIG;
    ssize_t w = write(fd, buf, (size_t)len);
    return w < 0 ? -errno : w != len ? -EIO : 0;
}

static int fs_dirop(struct cgctl_backend *be, enum cgctl_io io, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
    if (!parent)
        return -ENOMEM;
    const char *base = slash ? slash + 1 : path;
    int dfd = cgctl_fs_dir(be, parent);
    free(parent);
    if (dfd < 0)
        return dfd;
    if (io == CGCTL_IO_MKDIR)
        return mkdirat(dfd, base, 0755) < 0 ? -errno : 0;
    if (unlinkat(dfd, base, AT_REMOVEDIR) < 0)
        return -errno;
    dirfd_forget(be, path);
    return 0;
}

int cgctl_fs_act(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo)
{
    if ((size_t)act >= sizeof fs_acts / sizeof *fs_acts)
        return -EOPNOTSUPP;
    enum cgctl_io io = fs_acts[act].io;
    const char *file = fs_acts[act].file;
    if (fs_acts[act].value)
        value = fs_acts[act].value;
    if (cgctl_hooks.before) {
        int r = cgctl_hooks.before(cgctl_hooks.ud, io, path, file, value, undo);
        if (r < 0)
            return r;
    }
    int r = io == CGCTL_IO_WRITE ? fs_write(be, path, file, value) : fs_dirop(be, io, path);
    if (r == 0 && cgctl_hooks.after)
        cgctl_hooks.after(cgctl_hooks.ud, io, path, file, value, undo);
    return r;
}

int cgctl_fs_read_effective(struct cgctl_backend *be, const char *path, bool mems, cgp_bitmap **out)
{
    int dfd = cgctl_fs_dir(be, path);
    if (dfd < 0)
        return dfd;
    return cgctl_read_set(dfd, mems ? "cpuset.mems.effective" : "cpuset.cpus.effective", out);
}

int cgctl_fs_task_group(struct cgctl_backend *be, int pid, int tid, char **path, bool *inside)
{
    char *v = NULL;
    int r = cgp_task_cgroup(be->ctx->root_fd, pid, tid, &v);
    if (r < 0)
        return r;
    if (!v)
        return -ENOENT;
    char *rel = NULL;
    r = rel_path(be->prefix, v, &rel);
    if (r == -ENOMEM) {
        free(v);
        return r;
    }
    *inside = r == 0;
    if (rel)
        free(v);
    *path = rel ? rel : v;
    return 0;
}

const struct cgctl_backend_ops cgctl_backend_cgroupfs = {
    .name = "cgroupfs",
    .open = cgctl_fs_open,
    .close = cgctl_fs_close,
    .place = fs_place,
    .read_group = cgctl_fs_read_group,
    .describe = cgctl_fs_describe,
    .act = cgctl_fs_act,
    .read_effective = cgctl_fs_read_effective,
    .task_group = cgctl_fs_task_group,
};

/* ------------------------------------------------------------------ */
/* The empty backend: `plan` without a cgroup v2 hierarchy              */
/* ------------------------------------------------------------------ */

/* The cgroupfs layout against a tree where only the root exists and enables
 * nothing. It plans; it never writes. */
static int empty_open(struct cgctl_backend *be)
{
    (void)be;
    return 0;
}

static void empty_close(struct cgctl_backend *be)
{
    (void)be;
}

static int empty_read_group(struct cgctl_backend *be, const char *path, unsigned what, struct cgctl_live *st)
{
    (void)be;
    (void)what;
    *st = (struct cgctl_live){ .exists = !*path };
    return 0;
}

static int empty_act(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo)
{
    (void)be;
    (void)act;
    (void)path;
    (void)value;
    (void)undo;
    return -EROFS;
}

static int empty_read_effective(struct cgctl_backend *be, const char *path, bool mems, cgp_bitmap **out)
{
    (void)be;
    (void)path;
    (void)mems;
    (void)out;
    return -ENOENT;
}

static int empty_task_group(struct cgctl_backend *be, int pid, int tid, char **path, bool *inside)
{
    (void)be;
    (void)pid;
    (void)tid;
    (void)path;
    (void)inside;
    return -ESRCH;
}

const struct cgctl_backend_ops cgctl_backend_empty = {
    .name = "empty",
    .open = empty_open,
    .close = empty_close,
    .place = fs_place,
    .read_group = empty_read_group,
    .describe = cgctl_fs_describe,
    .act = empty_act,
    .read_effective = empty_read_effective,
    .task_group = empty_task_group,
};

/* The systemd layout against an empty tree: the scopes are to be started. */
const struct cgctl_backend_ops cgctl_backend_empty_systemd = {
    .name = "systemd",
    .no_shared = true,
    .host_units = true,
    .open = empty_open,
    .close = empty_close,
    .place = cgctl_sd_place,
    .read_group = empty_read_group,
    .describe = cgctl_sd_describe,
    .act = empty_act,
    .read_effective = empty_read_effective,
    .task_group = empty_task_group,
};
