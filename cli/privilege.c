/* Least privilege once a command's inputs are read (issue 10, item 2):
 * capabilities cut to what the kernel checks for the calls left (libcap-ng),
 * the bounding set emptied, no_new_privs, and for the verbs that only read,
 * a Landlock ruleset that leaves nothing but the sysroot's sys/ and proc/
 * and the cgroup root, read-only. cli_sandbox calls it just before the
 * seccomp filter, which then forbids the calls that could undo it (capset,
 * prctl, landlock_*).
 *
 * No Landlock for the verbs that read or move a guest's memory after setup
 * (apply, verify, exec's supervisor, numatune, runtime changes): Landlock
 * fails every ptrace access check on a process outside its domain --
 * /proc/PID/numa_maps and migrate_pages(2) of every guest (measured on 6.1:
 * EACCES even with CAP_SYS_PTRACE). They keep the capability cut and the
 * seccomp filter (docs/SECURITY.md says what that leaves).
 *
 * The capability table was measured on the VM's 6.1 kernel
 * (tests/vm/t/71-least-privilege.py asserts it; docs/SECURITY.md lists it). */
#include "cli.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Newer rights than Debian 12's header knows; handled only where the
 * kernel's ABI has them. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* What a verb still does after setup, hence what it keeps. */
enum {
    KEEP_NONE,
    KEEP_READ_MEM,  /* numa_maps of a QEMU another user runs, or a non-dumpable one */
    KEEP_WRITE,     /* the engine: cgroup writes, the lock, migrate_pages */
};

static int verb_class(const struct cli *cli)
{
    const char *v = cli->cmd ? cli->cmd : "";
    const struct cli_env *env = cli->env;
    bool change = env && env->set;   /* runtime verbs: a CPULIST or --nodeset */
    if (!strcmp(v, "apply") || !strcmp(v, "exec") || !strcmp(v, "watch"))
        return KEEP_WRITE;
    if (!strcmp(v, "vcpupin") || !strcmp(v, "emulatorpin") || !strcmp(v, "iothreadpin"))
        return change ? KEEP_WRITE : KEEP_NONE;
    if (!strcmp(v, "numatune"))
        return change ? KEEP_WRITE : KEEP_READ_MEM;
    if (!strcmp(v, "verify"))
        return KEEP_READ_MEM;
    return KEEP_NONE;
}

/* The kernel makes the cgroup2 root directory 0555 (kernfs_create_root):
 * uid 0 makes or removes a group there (the policy's parent) only with
 * CAP_DAC_OVERRIDE. A fake root (tests) or a delegated one may be writable. */
static bool cgroot_readonly(const struct cli_env *env)
{
    char *cg CLI_AUTO_FREE = NULL;
    struct stat st;
    if (!env || !env->ctx || cgp_cgroup_root(env->ctx, &cg) < 0 || stat(cg, &st) < 0)
        return false;
    return st.st_uid != geteuid() || !(st.st_mode & S_IWUSR);
}

/* The capabilities a class keeps: PTRACE_MODE_READ of another user's (or a
 * non-dumpable) QEMU for /proc/PID/numa_maps and migrate_pages; SYS_NICE
 * for migrate_pages to nodes outside the task's cpuset; KILL for exec's
 * signals to a QEMU that dropped to another user (-runas); DAC_OVERRIDE
 * for a group at the cgroup root (cgroot_readonly). Other cgroupfs writes,
 * the lock and /proc/PID/{stat,status,task} need none as uid 0 (root owns
 * them). systemd and libvirtd authorize by the peer's uid 0: no capability
 * (tests/vm/t/40 and 53 pass without CAP_SYS_ADMIN). */
static size_t kept_caps(const struct cli *cli, int cls, int *caps)
{
    size_t n = 0;
    if (cls >= KEEP_READ_MEM)
        caps[n++] = CAP_SYS_PTRACE;
    if (cls >= KEEP_WRITE)
        caps[n++] = CAP_SYS_NICE;
    if (cls >= KEEP_WRITE && cli->sandbox_child > 0)
        caps[n++] = CAP_KILL;
    /* exec's supervisor only adds groups inside the guest's, made before */
    if (cls >= KEEP_WRITE && cli->sandbox_child <= 0 && cgroot_readonly(cli->env))
        caps[n++] = CAP_DAC_OVERRIDE;
    /* verify --output into a directory root does not own (node_exporter's
     * textfile directory is the prometheus user's): the final rename */
    else if (cli->env && cli->env->textfile && !cli_textfile_dir_writable(cli->env->textfile))
        caps[n++] = CAP_DAC_OVERRIDE;
    return n;
}

/* The engine takes its lock after the filter, which lets no file be made
 * (cli/sandbox.c; watch excepted): make it now. A failure shows when the
 * engine opens it, with the reason. */
static void lock_prepare(void)
{
    int fd = open(cgp_lock_path(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd >= 0)
        close(fd);
}

static int drop_caps(const struct cli *cli, int cls)
{
    int caps[8];
    size_t n = kept_caps(cli, cls, caps);
    capng_get_caps_process();
    bool bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
    bool keep[8] = { false };
    for (size_t i = 0; i < n; i++)
        keep[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned)caps[i]);
    capng_clear(CAPNG_SELECT_ALL);
    for (size_t i = 0; i < n; i++)
        if (keep[i] && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)caps[i]) < 0)
            return -EINVAL;
    /* the bounding set needs CAP_SETPCAP (libcap-ng drops it before the capset) */
    int r = capng_apply(bounds ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS);
    return r < 0 ? -EPERM : 0;
}

static int ll_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? -errno : (int)v;
}

static uint64_t ll_handled(int abi)
{
    uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;      /* ABI 1: bits 0-12 */
    if (abi >= 2)
        h |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        h |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return h;
}

/* One rule on fd (a directory, or a file with file rights only); the fd is
 * closed. A path that cannot be opened gets no rule: nothing to allow (the
 * command reports the failed access itself). */
static int ll_rule(int ruleset, int fd, uint64_t access, uint64_t handled)
{
    if (fd < 0)
        return 0;
    struct landlock_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
    long r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    int err = errno;
    close(fd);
    return r < 0 ? -err : 0;
}

static int open_path(int dirfd, const char *path)
{
    return openat(dirfd, path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
}

/* Read-only: the sysroot's sys/ and proc/, the cgroup root (plan). */
static int ll_rules(struct cli *cli, int rs, uint64_t h)
{
    int root = open(cli->sysroot ? cli->sysroot : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -errno;
    int r = ll_rule(rs, open_path(root, "sys"), LL_READ, h);
    if (r == 0)
        r = ll_rule(rs, open_path(root, "proc"), LL_READ, h);
    close(root);
    char *cg CLI_AUTO_FREE = NULL;
    if (r == 0 && cli->env->ctx && cgp_cgroup_root(cli->env->ctx, &cg) == 0)
        r = ll_rule(rs, open(cg, O_PATH | O_DIRECTORY | O_CLOEXEC), LL_READ, h);
    return r;
}

/* Best effort: a kernel without Landlock (older than 5.13, or not in the
 * LSM list) runs without it and says so with -v. */
static int landlock(struct cli *cli, const char *what, int cls)
{
    if (!cli->env)
        return 0;   /* no command's paths (the filter's unit tests): capabilities only */
    if (cls != KEEP_NONE) {
        if (cli->verbose > 1)
            fprintf(stderr, "cgplace: %s: no Landlock: it would fail the ptrace checks of the guests' numa_maps "
                    "and migrate_pages\n", what);
        return 0;
    }
    int abi = ll_abi();
    if (abi < 1) {
        if (cli->verbose > 0)
            fprintf(stderr, "cgplace: %s: warning: Landlock unavailable (%s): the file system is not restricted\n",
                    what, strerror(abi < 0 ? -abi : EOPNOTSUPP));
        return 0;
    }
    uint64_t h = ll_handled(abi);
    struct landlock_ruleset_attr attr = { .handled_access_fs = h };
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (rs < 0)
        return -errno;
    int r = ll_rules(cli, rs, h);
    if (r == 0 && syscall(SYS_landlock_restrict_self, rs, 0) < 0)
        r = -errno;
    close(rs);
    if (r == 0 && cli->verbose > 1)
        fprintf(stderr, "cgplace: %s: Landlock ABI %d: file system restricted\n", what, abi);
    return r;
}

int cli_privilege(struct cli *cli, const char *what)
{
    int cls = verb_class(cli);
    if (cls == KEEP_WRITE && !cli->sandbox_watch)
        lock_prepare();
    /* before the cgroup root lookup and the lock: they need no capability */
    int r = drop_caps(cli, cls);
    if (r < 0)
        return cli_error(EXIT_RUNTIME, what, "dropping capabilities: %s", strerror(-r));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return cli_error(EXIT_RUNTIME, what, "no_new_privs: %s", strerror(errno));
    if ((r = landlock(cli, what, cls)) < 0)
        return cli_error(EXIT_RUNTIME, what, "Landlock: %s", strerror(-r));
    return EXIT_OK;
}
