/* Who counts as a guest (docs/SECURITY.md "Who counts as a guest"): any
 * local user can start a program named qemu-system-x86_64 with -name g1, so
 * the name says nothing. A guest is a process whose executable is a QEMU
 * binary in a location only root can change, running as root or as a user
 * the host block allows. Discovery reads the facts (trust_read_facts), the
 * judgement (cgp_guest_trusted) applies the policy's settings to them. */
#include "guests-int.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

static const char *const default_binaries[] = { CGP_TRUST_DEFAULT_BINARIES };
static const char *const default_users[] = { CGP_TRUST_DEFAULT_USERS };

/* path (absolute) opened O_PATH under root_fd, symlinks resolved inside the
 * root: a fixture tree's /usr/bin is the tree's, never the host's. */
/* Where openat2 is refused with ENOSYS (older kernels; systemd's
 * RestrictSUIDSGID= filter, which cannot inspect openat2's flags, answers
 * ENOSYS), walk the path one component at a time, following no symlink and
 * no "..": stricter than RESOLVE_IN_ROOT (a symlink anywhere makes it
 * -ELOOP, hence untrusted), never looser. */
static int walk_in_root(int root_fd, const char *path, int flags)
{
    int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (*path) {
        const char *end = strchr(path, '/');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        const char *next = path + len;
        while (*next == '/')
            next++;
        char comp[256];
        if (len >= sizeof comp || (len == 2 && !strncmp(path, "..", 2))) {
            close(fd);
            return len >= sizeof comp ? -ENAMETOOLONG : -EXDEV;
        }
        memcpy(comp, path, len);
        comp[len] = '\0';
        int last = !*next;
        int nfd = len == 0 || !strcmp(comp, ".") ? dup(fd)
                  : openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? flags : O_DIRECTORY));
        int e = errno;
        close(fd);
        if (nfd < 0)
            return -e;
        fd = nfd;
        path = next;
    }
    return fd;
}

int cgp_trust_open_in_root(int root_fd, const char *path, int flags)
{
    while (*path == '/')
        path++;
    struct open_how how = { .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags), .resolve = RESOLVE_IN_ROOT };
    int fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        return walk_in_root(root_fd, path, flags);
    return fd < 0 ? -errno : fd;
}

static int stat_in_root(int root_fd, const char *path, int flags, struct stat *st)
{
    int fd = cgp_trust_open_in_root(root_fd, path, flags);
    if (fd < 0)
        return fd;
    int r = fstat(fd, st) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* The directory part of an absolute path, malloc'd ("/" for "/x"). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

/* "Uid:\tR\tE\tS\tF" of a status image into u[4]; -1 where missing. */
void cgp_trust_parse_uids(const char *status, long long u[4])
{
    for (int i = 0; i < 4; i++)
        u[i] = -1;
    const char *p = status ? strstr(status, "\nUid:") : NULL;
    if (!p && status && !strncmp(status, "Uid:", 4))
        p = status - 1;
    if (!p)
        return;
    p += 5;
    for (int i = 0; i < 4; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || v > UINT32_MAX || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
            return;
        u[i] = (long long)v;
        p = end;
    }
}

int cgp_trust_read_facts(int root_fd, const char *pdir, bool live, struct cgp_guest *g)
{
    char rel[64], target[PATH_MAX];
    for (int i = 0; i < 4; i++)
        g->uids[i] = -1;
    snprintf(rel, sizeof rel, "%s/status", pdir);
    char *status CGP_AUTOFREE = NULL;
    ssize_t sn = cgp_read_one(root_fd, rel, 1u << 16, &status);
    if (sn == -ENOMEM)
        return -ENOMEM;
    if (sn > 0)
        cgp_trust_parse_uids(status, g->uids);
    snprintf(rel, sizeof rel, "%s/exe", pdir);
    ssize_t n = readlinkat(root_fd, rel, target, sizeof target - 1);
    if (n <= 0 || target[0] != '/') {
        g->exe_err = n < 0 ? -errno : -EINVAL;
        return 0;
    }
    target[n] = '\0';
    if (n > 10 && !strcmp(target + n - 10, " (deleted)"))
        target[n - 10] = '\0';          /* upgraded under a running guest */
    if (!(g->exe = strdup(target)))
        return -ENOMEM;
    struct stat st, dst;
    int r;
    if (live) {
        /* the running inode through the magic link: deleted or in another
         * mount namespace, it is still the file the process executes */
        int fd = openat(root_fd, rel, O_PATH | O_CLOEXEC);
        r = fd < 0 ? -errno : fstat(fd, &st) < 0 ? -errno : 0;
        if (fd >= 0)
            close(fd);
    } else {
        r = stat_in_root(root_fd, g->exe, O_NOFOLLOW, &st);
    }
    char *dir CGP_AUTOFREE = dir_of(g->exe);
    if (!dir)
        return -ENOMEM;
    if (r == 0)
        r = stat_in_root(root_fd, dir, O_DIRECTORY, &dst);
    g->exe_err = r;
    if (r == 0) {
        g->exe_uid = st.st_uid;
        g->exe_mode = st.st_mode;
        g->exe_dir_uid = dst.st_uid;
        g->exe_dir_mode = dst.st_mode;
    }
    return 0;
}

/* Owned by root or by the user running cgplace (whose own files it trusts
 * as that user anyway), and writable by neither group nor others. */
static bool safe_owner(unsigned uid, unsigned mode)
{
    return (uid == 0 || uid == (unsigned)geteuid()) && !(mode & (S_IWGRP | S_IWOTH));
}

static const char *owner_problem(unsigned uid, unsigned mode)
{
    if (uid != 0 && uid != (unsigned)geteuid())
        return "is not owned by root";
    return mode & (S_IWGRP | S_IWOTH) ? "is writable by group or others" : NULL;
}

int cgp_trust_file_ok(int dir_fd, const char *name, char *why, size_t whylen)
{
    struct stat d, f;
    if (fstat(dir_fd, &d) < 0)
        return -errno;
    const char *bad = owner_problem(d.st_uid, d.st_mode);
    if (bad) {
        snprintf(why, whylen, "its directory %s (uid %u, mode %04o)", bad, (unsigned)d.st_uid,
                 (unsigned)(d.st_mode & 07777));
        return 0;
    }
    if (fstatat(dir_fd, name, &f, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISREG(f.st_mode)) {
        snprintf(why, whylen, "it is not a regular file");
        return 0;
    }
    if ((bad = owner_problem(f.st_uid, f.st_mode))) {
        snprintf(why, whylen, "it %s (uid %u, mode %04o)", bad, (unsigned)f.st_uid, (unsigned)(f.st_mode & 07777));
        return 0;
    }
    return 1;
}

/* The uid a user name or number stands for under the sysroot's
 * etc/passwd; -1 when there is no such user. */
long long cgp_trust_user_uid(int root_fd, const char *user)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(user, &end, 10);
    if (*user >= '0' && *user <= '9' && !*end && !errno && v <= UINT32_MAX)
        return (long long)v;
    if (root_fd < 0)
        return -1;
    int fd = openat(root_fd, "etc/passwd", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "re");
    if (!f) {
        close(fd);
        return -1;
    }
    long long uid = -1;
    struct passwd *pw;
    for (int lines = 0; uid < 0 && lines < 100000 && (pw = fgetpwent(f)); lines++)
        if (!strcmp(pw->pw_name, user))
            uid = pw->pw_uid;
    fclose(f);
    return uid;
}

int cgp_trust_judge(const struct cgp_guest *g, const char *const *bins, size_t n_bins, const long long *uids,
                    size_t n_uids, char *why, size_t whylen)
{
    if (!g->exe) {
        snprintf(why, whylen, "its executable cannot be read (%s)", strerror(g->exe_err ? -g->exe_err : EINVAL));
        return 0;
    }
    bool listed = false;
    for (size_t i = 0; i < n_bins && !listed; i++)
        listed = fnmatch(bins[i], g->exe, FNM_PATHNAME) == 0;
    if (!listed) {
        snprintf(why, whylen, "its executable %s is not a trusted QEMU binary (qemu-binaries)", g->exe);
        return 0;
    }
    if (g->exe_err) {
        snprintf(why, whylen, "its executable %s: %s", g->exe, strerror(-g->exe_err));
        return 0;
    }
    if (!S_ISREG(g->exe_mode)) {
        snprintf(why, whylen, "its executable %s is not a regular file", g->exe);
        return 0;
    }
    if (!safe_owner(g->exe_uid, g->exe_mode)) {
        snprintf(why, whylen, "its executable %s %s (uid %u, mode %04o)", g->exe,
                 owner_problem(g->exe_uid, g->exe_mode), g->exe_uid, g->exe_mode & 07777);
        return 0;
    }
    if (!safe_owner(g->exe_dir_uid, g->exe_dir_mode)) {
        snprintf(why, whylen, "the directory of its executable %s %s (uid %u, mode %04o)", g->exe,
                 owner_problem(g->exe_dir_uid, g->exe_dir_mode), g->exe_dir_uid, g->exe_dir_mode & 07777);
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        long long u = g->uids[i];
        if (u < 0) {
            snprintf(why, whylen, "its user is unknown (no Uid line in its status)");
            return 0;
        }
        bool ok = u == 0 || u == (long long)geteuid();
        for (size_t k = 0; k < n_uids && !ok; k++)
            ok = uids[k] == u;
        if (!ok) {
            snprintf(why, whylen, "it runs as uid %lld, neither root nor one of the guest-users", u);
            return 0;
        }
    }
    return 1;
}

CGP_EXPORT int cgp_guest_trusted(cgp_ctx *ctx, const struct cgp_guest *g, const struct cgp_trust *t, char *why,
                                 size_t whylen)
{
    char buf[8];
    if (!g)
        return -EINVAL;
    if (!why || !whylen) {
        why = buf;
        whylen = sizeof buf;
    }
    why[0] = '\0';
    const char *const *bins = default_binaries;
    size_t nb = sizeof default_binaries / sizeof *default_binaries;
    const char *const *users = default_users;
    size_t nu = sizeof default_users / sizeof *default_users;
    if (t && t->n_binaries) {
        bins = t->binaries;
        nb = t->n_binaries;
    }
    if (t && (t->n_users || t->users_given)) {
        users = t->users;
        nu = t->n_users;
    }
    long long *uids CGP_AUTOFREE = calloc(nu ? nu : 1, sizeof *uids);
    if (!uids)
        return -ENOMEM;
    for (size_t i = 0; i < nu; i++)
        uids[i] = cgp_trust_user_uid(ctx ? ctx->root_fd : -1, users[i]);
    return cgp_trust_judge(g, bins, nb, uids, nu, why, whylen);
}
