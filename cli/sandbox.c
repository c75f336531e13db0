/* The seccomp self-sandbox (spec §7): once a command has read its inputs
 * (topology, policy, guests, QMP), only file I/O through fds, memory and a
 * few process-local calls remain. No exec, no sockets, no ptrace. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CLI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLI_SANITIZED 1
#endif
#endif
#ifndef CLI_SANITIZED
#define CLI_SANITIZED 0
#endif

/* Allowed without argument checks. Names, not SCMP_SYS(): a call this
 * architecture lacks (open, stat, poll on arm64) is skipped. */
static const char *const allowed[] = {
    /* files, relative to directory fds (sysfs, procfs, cgroupfs, lock);
     * open/openat/openat2 and unlinkat below, with their argument checks */
    "read", "readv", "pread64", "write", "writev", "close",
    "fstat", "newfstatat", "stat", "lstat", "statx", "lseek", "getdents64",
    "readlinkat", "readlink", "getcwd", "faccessat", "faccessat2", "access",
    "mkdirat", "fcntl", "flock", "dup", "dup2", "dup3",
    /* memory (mmap/mprotect below: never PROT_EXEC) */
    "brk", "munmap", "mremap", "madvise",
    /* waiting on pidfds; moving a guest's leftover pages */
    "poll", "ppoll", "migrate_pages",
    /* libc internals: locks, clocks, randomness (json-c's hash seed), qsort */
    "futex", "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getpid", "gettid", "getrandom", "sysinfo", "uname",
    /* which cgroup hierarchy systemd runs (statfs magic), read-only */
    "statfs", "fstatfs",
    /* signals: the stop-before-write test aid, SIGCONT, abort() */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
    "exit", "exit_group",
};

static int add(scmp_filter_ctx f, const char *name, unsigned n, const struct scmp_arg_cmp *c)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr < 0)
        return 0;
    return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, c);
}

/* A client of a local daemon (systemd's bus, libvirtd): a unix socket, and
 * the credentials its authentication sends; no other address family. */
static const char *const unix_client[] = {
    "connect", "sendmsg", "recvmsg", "sendto", "recvfrom", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "shutdown", "getuid", "geteuid", "getgid", "getegid",
};

/* --persist: the checked policy, written and fsync'd before the filter,
 * renamed over the file once the change holds. */
static const char *const persist[] = { "renameat", "renameat2", "rename", "fsync" };

/* watch's event loop: its netlink and inotify fds opened before the
 * filter; discovery pins each new guest with a pidfd; sd_notify is an
 * AF_UNIX datagram (with the unix client calls above). */
static const char *const watch[] = {
    "recvmsg", "recvfrom", "sendmsg", "inotify_add_watch", "inotify_rm_watch", "ppoll", "pidfd_open",
};

/* Opening files, and removing them. Nothing but watch creates a file once
 * its inputs are read (its lock each pass, --metrics' file): the lock is
 * made before the filter, --output's and --persist's temporary files too.
 * So an open with O_CREAT or O_TMPFILE fails (EPERM), openat2, whose flags
 * a filter cannot see, answers ENOSYS (its callers walk the path with
 * openat instead, as under systemd's filters), and unlinkat removes
 * directories only (a rolled-back cgroup, a stale one) unless a temporary
 * file may have to go (--persist, --output, --metrics). Paths are not
 * the filter's to judge: Landlock restricts them where it applies. */
static int build_files(scmp_filter_ctx f, bool create, bool unlink_files)
{
    const scmp_datum_t creating = O_CREAT | (O_TMPFILE & ~O_DIRECTORY);
    const struct scmp_arg_cmp openat_ro = SCMP_A2(SCMP_CMP_MASKED_EQ, creating, 0);
    const struct scmp_arg_cmp open_ro = SCMP_A1(SCMP_CMP_MASKED_EQ, creating, 0);
    const struct scmp_arg_cmp rmdir_only = SCMP_A2(SCMP_CMP_EQ, AT_REMOVEDIR, 0);
    int r = add(f, "openat", create ? 0 : 1, &openat_ro);
    r = r ? r : add(f, "open", create ? 0 : 1, &open_ro);
    r = r ? r : add(f, "unlinkat", unlink_files ? 0 : 1, &rmdir_only);
    if (r == 0 && create)
        r = add(f, "openat2", 0, NULL);
    else if (r == 0)
        r = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
    return r;
}

static int build(scmp_filter_ctx f, bool unix_sockets, bool persisting, int child)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof *allowed; i++)
        r = add(f, allowed[i], 0, NULL);
    for (size_t i = 0; r == 0 && persisting && i < sizeof persist / sizeof *persist; i++)
        r = add(f, persist[i], 0, NULL);
    if (unix_sockets) {
        const struct scmp_arg_cmp af_unix = SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0);
        r = r ? r : add(f, "socket", 1, &af_unix);
        for (size_t i = 0; r == 0 && i < sizeof unix_client / sizeof *unix_client; i++)
            r = add(f, unix_client[i], 0, NULL);
    }
    /* No new code: a mapping is never executable (no dlopen after this). */
    const struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    /* Signals only to this process (raise() is tgkill(getpid(), tid, sig)). */
    const struct scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
    /* isatty() on stdout: glibc's stdio asks TCGETS; no other ioctl (TIOCSTI). */
    const struct scmp_arg_cmp tcgets = SCMP_A1(SCMP_CMP_EQ, TCGETS, 0);
    if (r == 0)
        r = add(f, "mmap", 1, &noexec);
    if (r == 0)
        r = add(f, "mprotect", 1, &noexec);
    if (r == 0)
        r = add(f, "tgkill", 1, &self);
    if (r == 0)
        r = add(f, "kill", 1, &self);
    if (child > 0) {
        /* exec's supervisor: QEMU's exit status, and the signals it passes on */
        const struct scmp_arg_cmp to_child = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)child, 0);
        r = r ? r : add(f, "kill", 1, &to_child);
        r = r ? r : add(f, "wait4", 0, NULL);
        r = r ? r : add(f, "waitid", 0, NULL);
        r = r ? r : add(f, "pidfd_open", 0, NULL);
    }
    if (r == 0)
        r = add(f, "ioctl", 1, &tcgets);
    return r;
}

int cli_sandbox(struct cli *cli, const char *what)
{
    /* Under ASan: LeakSanitizer at exit needs ptrace and clone. */
    if (cli->no_sandbox || CLI_SANITIZED)
        return EXIT_OK;
    int rc = cli_privilege(cli, what);
    if (rc)
        return rc;
    /* Default EPERM, not kill: a call missed here fails with a message. */
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!f)
        return cli_error(EXIT_RUNTIME, what, "seccomp sandbox: %s", strerror(ENOMEM));
    /* The kernel's errno, not libseccomp's ECANCELED. NNP stays on (default). */
    int r = seccomp_attr_set(f, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (r == 0)
        r = build(f, cli->sandbox_unix, cli->sandbox_persist, cli->sandbox_child);
    if (r == 0)
        r = build_files(f, cli->sandbox_watch, cli->sandbox_persist || cli->sandbox_watch);
    for (size_t i = 0; r == 0 && cli->sandbox_watch && i < sizeof watch / sizeof *watch; i++)
        r = add(f, watch[i], 0, NULL);
    if (r < 0) {
        seccomp_release(f);
        return cli_error(EXIT_RUNTIME, what, "seccomp sandbox: building the filter: %s", strerror(-r));
    }
    r = seccomp_load(f);
    seccomp_release(f);
    if (r == -EINVAL || r == -ENOSYS) {
        /* A kernel without seccomp filters: run as before. */
        if (cli->verbose > 0)
            fprintf(stderr, "cgplace: %s: warning: seccomp unavailable (%s): running without the sandbox\n",
                    what, strerror(-r));
        return EXIT_OK;
    }
    if (r < 0)
        return cli_error(EXIT_RUNTIME, what, "seccomp sandbox: loading the filter: %s", strerror(-r));
    return EXIT_OK;
}
