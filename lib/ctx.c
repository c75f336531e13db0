/* Root-aware context: every sysfs/procfs access is relative to root_fd. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define SYSFS_MAGIC 0x62656572
#define PROC_SUPER_MAGIC 0x9fa0

/* Under the live root, sys/ and proc/ must be the kernel's: the files below
 * them are then what their names say (under a fixture root, cgp_open_reg's
 * regular-file check is all there is). Missing is left to the readers. */
static int check_fs(int root_fd, const char *rel, unsigned long magic)
{
    int fd CGP_AUTOCLOSE = openat(root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    struct statfs fs;
    if (fd < 0 || fstatfs(fd, &fs) < 0)
        return 0;
    return (unsigned long)fs.f_type == magic ? 0 : -EMEDIUMTYPE;
}

CGP_EXPORT int cgp_ctx_new(const char *sysroot, const char *cgroup_root, cgp_ctx **out)
{
    if (!sysroot)
        sysroot = "/";
    cgp_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->root_fd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->root_fd < 0) {
        int r = -errno;
        free(c);
        return r;
    }
    int r = 0;
    if (!strcmp(sysroot, "/") && ((r = check_fs(c->root_fd, "sys", SYSFS_MAGIC)) < 0 ||
                                  (r = check_fs(c->root_fd, "proc", PROC_SUPER_MAGIC)) < 0)) {
        close(c->root_fd);
        free(c);
        return r;
    }
    c->sysroot = strdup(sysroot);
    c->cgroup_root = cgroup_root ? strdup(cgroup_root) : NULL;
    c->real_host = !cgroup_root && !strcmp(sysroot, "/");
    c->lock_wait = CGP_LOCK_WAIT_DEFAULT;
    if (!c->sysroot || (cgroup_root && !c->cgroup_root)) {
        cgp_ctx_free(c);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

CGP_EXPORT void cgp_ctx_free(cgp_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->conn_free)
        ctx->conn_free(ctx->conn);
    if (ctx->root_fd >= 0)
        close(ctx->root_fd);
    free(ctx->sysroot);
    free(ctx->cgroup_root);
    free(ctx);
}

CGP_EXPORT const char *cgp_ctx_last_error(const cgp_ctx *ctx)
{
    return ctx->err;
}

CGP_EXPORT void cgp_ctx_set_lock_wait(cgp_ctx *ctx, int seconds)
{
    ctx->lock_wait = seconds < 0 ? -1 : seconds;
}

void cgp_ctx_clear_error(cgp_ctx *ctx)
{
    ctx->err[0] = '\0';
}

int cgp_ctx_errorf(cgp_ctx *ctx, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return r;
}

int cgp_open_dir(int dirfd, const char *rel, bool follow)
{
    int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    return fd < 0 ? -errno : fd;
}

int cgp_opendir_fd(int dirfd, DIR **out)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int r = -errno;
        close(fd);
        return r;
    }
    *out = d;
    return 0;
}

int cgp_open_reg(int dirfd, const char *rel, int flags)
{
    int fd = openat(dirfd, rel, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : S_ISDIR(st.st_mode) ? -EISDIR : -ENXIO;
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

ssize_t cgp_read_file_ex(int dirfd, const char *rel, size_t max, unsigned flags, char **out)
{
    int fd CGP_AUTOCLOSE = cgp_open_reg(dirfd, rel, O_RDONLY);
    if (fd < 0)
        return fd;
    /* Read at most max + 1 bytes: one more than allowed proves the file too big. */
    size_t cap = max + 1 < 4096 ? max + 1 : 4096, len = 0;
    char *buf CGP_AUTOFREE = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            if (len > max) {
                if (!(flags & CGP_READ_TRUNCATE))
                    return -EFBIG;
                len = max;
                break;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max)
        return -EFBIG;
    if (!(flags & CGP_READ_RAW)) {
        /* Some dumps keep "0-7\n\0": NULs inside the data end it. */
        len = strnlen(buf, len);
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
            len--;
    }
    buf[len] = '\0';
    *out = CGP_STEAL(buf);
    return (ssize_t)len;
}

ssize_t cgp_read_file(int dirfd, const char *rel, size_t max, char **out)
{
    return cgp_read_file_ex(dirfd, rel, max, 0, out);
}

int cgp_parse_i64(const char *s, int64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno)
        return -errno;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

int cgp_parse_u64(const char *s, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -errno;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Sysfs attributes hold at most a page and a regular file returns everything
 * up to EOF in one read(): one openat, one fstat (cgp_open_reg: a FIFO or a
 * device is -ENXIO), one read, one close. */
ssize_t cgp_read_attr_fd(int fd, char *buf, size_t size)
{
    ssize_t n;
    do
        n = read(fd, buf, size - 1);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    if ((size_t)n == size - 1)
        return -EFBIG;
    size_t len = strnlen(buf, (size_t)n);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    buf[len] = '\0';
    return (ssize_t)len;
}

ssize_t cgp_read_attr(int dirfd, const char *rel, char *buf, size_t size)
{
    int fd = cgp_open_reg(dirfd, rel, O_RDONLY);
    if (fd < 0)
        return fd;
    return cgp_read_attr_fd(fd, buf, size);
}

ssize_t cgp_read_one(int dirfd, const char *rel, size_t max, char **out)
{
    char buf[4096];
    ssize_t n = cgp_read_attr(dirfd, rel, buf, sizeof buf);
    if (n == -EFBIG && max >= sizeof buf - 1)
        return cgp_read_file(dirfd, rel, max, out);
    if (n < 0)
        return n;
    if ((size_t)n > max)
        return -EFBIG;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s, buf, (size_t)n + 1);
    *out = s;
    return n;
}
