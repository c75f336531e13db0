/* cgroup v2 file system access for the enforcement engine: the root, per-task
 * facts from procfs, the apply lock. (Cgroup directories are opened by the
 * engine's fd cache, cg_dir in engine.c.) */
#include "cgctl-int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

struct cgctl_hooks cgctl_hooks;

char *cgctl_rel_path(const char *prefix, const char *v)
{
    size_t pl = strlen(prefix);
    if (strncmp(v, prefix, pl) != 0)
        return NULL;
    const char *rest = v + pl;
    if (*rest == '\0')
        return strdup("");
    if (*rest != '/')
        return NULL;
    while (*rest == '/')
        rest++;
    char *r = strdup(rest);
    if (r) {
        size_t n = strlen(r);
        while (n && r[n - 1] == '/')
            r[--n] = '\0';
    }
    return r;
}

char *cgctl_task_cgroup(cgp_ctx *ctx, int pid, int tid)
{
    char rel[96];
    if (tid > 0)
        snprintf(rel, sizeof rel, "proc/%d/task/%d/cgroup", pid, tid);
    else
        snprintf(rel, sizeof rel, "proc/%d/cgroup", pid);
    char *buf = NULL;
    ssize_t n = cgp_read_one(ctx->root_fd, rel, 1 << 16, &buf);
    if (n < 0) {
        free(buf);
        errno = (int)-n;
        return NULL;
    }
    char *res = NULL;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "0::", 3)) {
            res = strdup(line + 3);
            break;
        }
    }
    free(buf);
    if (!res)
        errno = ENOENT;
    return res;
}

int cgctl_task_allowed(cgp_ctx *ctx, int pid, int tid, cgp_bitmap **cpus, cgp_bitmap **mems)
{
    char rel[96];
    snprintf(rel, sizeof rel, "proc/%d/task/%d/status", pid, tid);
    char *buf CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_one(ctx->root_fd, rel, 1 << 16, &buf);
    if (n < 0)
        return (int)n;
    cgp_bitmap *c = NULL, *m = NULL;
    int r = 0;
    for (char *line = buf, *next; line && *line && r == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "Cpus_allowed_list:", 18) && !c)
            r = cgp_bitmap_parse(line + 18, 0, &c, NULL);
        else if (!strncmp(line, "Mems_allowed_list:", 18) && !m)
            r = cgp_bitmap_parse(line + 18, 0, &m, NULL);
    }
    if (r == 0 && (!c || !m))
        r = -EIO;
    if (r < 0) {
        cgp_bitmap_free(c);
        cgp_bitmap_free(m);
        return r == -ENOMEM ? r : -EIO;
    }
    *cpus = c;
    *mems = m;
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

int cgctl_lock(cgp_ctx *ctx)
{
    const char *path = getenv("CGPLACE_LOCK");
    if (!path || !*path)
        path = CGP_LOCK_DEFAULT;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return cgp_ctx_errorf(ctx, -errno, "lock file %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        int r = -errno;
        close(fd);
        return cgp_ctx_errorf(ctx, r, "lock %s: %s", path, strerror(-r));
    }
    return fd;
}
