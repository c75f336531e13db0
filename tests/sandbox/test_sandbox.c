/* cli/sandbox.c: what the seccomp filter forbids and what it still allows.
 * Each test forks its own child that installs the filter and reports over a
 * pipe: the filter must not touch Criterion's worker, whose IPC with the
 * runner (and --debug in-process mode) it would break. */
#include "cli.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int report_fd = -1;
static bool child_unix;   /* the child's filter lets unix sockets through */
static bool child_watch;  /* ... and watch's event loop */
static bool child_persist;   /* ... and --persist's rename, fsync, unlink */
static pid_t supervised;  /* exec's supervisor: the filter lets this process be signalled and reaped */
static void (*before_filter)(void);   /* in the child, before cli_sandbox */

/* In the child: record a failed expectation (write(2) stays allowed). */
static void fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (write(report_fd, buf, (size_t)n) < 0)
        _exit(98);
}

#define EXPECT_EPERM(call)                                                                        \
    do {                                                                                          \
        errno = 0;                                                                                \
        long r_ = (long)(call);                                                                   \
        if (r_ != -1 || errno != EPERM)                                                           \
            fail("%s: want -1/EPERM, got %ld/%s", #call, r_, strerror(errno));                   \
    } while (0)
#define EXPECT_OK(call)                                                                           \
    do {                                                                                          \
        errno = 0;                                                                                \
        long r_ = (long)(call);                                                                   \
        if (r_ < 0)                                                                               \
            fail("%s: want success, got %ld/%s", #call, r_, strerror(errno));                    \
    } while (0)

static bool kernel_has_seccomp(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    bool yes = false;
    while (f && fgets(line, sizeof line, f))
        yes |= !strncmp(line, "Seccomp:", 8);
    if (f)
        fclose(f);
    return yes;
}

/* Skips the test where cli_sandbox() cannot install a filter. */
static void skip_unless_filter(void)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("ASan build: cli_sandbox() installs no filter");
#endif
    if (!kernel_has_seccomp())
        cr_skip_test("kernel without seccomp");
}

/* "Seccomp:" of /proc/self/status: 0 none, 2 filter; -1 unreadable. */
static int seccomp_mode(void)
{
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strstr(buf, "\nSeccomp:");
    return p ? atoi(p + 9) : -1;
}

/* Run body in a child after cli_sandbox(); assert it reported nothing and
 * exited with want_status. */
static void in_child(bool no_sandbox, void (*body)(void), int want_status)
{
    skip_unless_filter();
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        if (before_filter)
            before_filter();
        struct cli cli = { .no_sandbox = no_sandbox, .sandbox_unix = child_unix, .sandbox_child = supervised,
                           .sandbox_watch = child_watch, .sandbox_persist = child_persist,
                           .cmd = "test" };
        int rc = cli_sandbox(&cli, "test");
        if (rc != 0) {
            fail("cli_sandbox returned %d", rc);
            _exit(97);
        }
        int mode = seccomp_mode();
        if (mode != (no_sandbox ? 0 : 2))
            fail("Seccomp: %d in /proc/self/status, want %d", mode, no_sandbox ? 0 : 2);
        body();
        fflush(stdout);
        _exit(0);
    }
    close(p[1]);
    char msg[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof msg - 1 && (n = read(p[0], msg + len, sizeof msg - 1 - len)) > 0)
        len += (size_t)n;
    msg[len] = '\0';
    close(p[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(len == 0, "%s", msg);
    cr_assert(WIFEXITED(st), "child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
    cr_assert_eq(WEXITSTATUS(st), want_status, "child exit %d, want %d", WEXITSTATUS(st), want_status);
}

static char *const sh_argv[] = { "/bin/sh", "-c", "exit 42", NULL };

static void body_exec(void)
{
    extern char **environ;
    EXPECT_EPERM(execve("/bin/true", (char *[]){ "/bin/true", NULL }, environ));
    EXPECT_EPERM(execve(sh_argv[0], sh_argv, environ));
    EXPECT_EPERM(syscall(SYS_execveat, AT_FDCWD, "/bin/true", (char *[]){ "/bin/true", NULL }, environ, 0));
}

/* exec's supervisor: its CMD (started before the filter) may be signalled
 * and reaped; any other process may not be signalled, nothing new started. */
static void start_cmd(void)
{
    supervised = fork();
    if (supervised == 0) {
        pause();
        _exit(0);
    }
}

static void body_supervisor(void)
{
    EXPECT_EPERM(kill(getppid(), 0));
    EXPECT_EPERM(kill(1, 0));
    EXPECT_EPERM(syscall(SYS_fork));
    EXPECT_OK(kill(supervised, SIGTERM));
    int st = 0;
    if (waitpid(supervised, &st, 0) != supervised || !WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
        fail("waitpid of the supervised process: %s, status %#x", strerror(errno), st);
}

Test(sandbox, exec_supervisor_signals_and_reaps_its_child_only)
{
    before_filter = start_cmd;
    in_child(false, body_supervisor, 0);
    before_filter = NULL;
    supervised = 0;
}

Test(sandbox, exec_fails_with_eperm)
{
    in_child(false, body_exec, 0);
}

static void body_exec_unsandboxed(void)
{
    extern char **environ;
    execve(sh_argv[0], sh_argv, environ);
    fail("execve %s: %s", sh_argv[0], strerror(errno));
}

/* Control: the same exec works without the filter (the child becomes sh and
 * exits 42), so the test above can fail. */
Test(sandbox, no_sandbox_exec_succeeds)
{
    in_child(true, body_exec_unsandboxed, 42);
}

static void body_sockets(void)
{
    int sv[2];
    EXPECT_EPERM(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EPERM(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EPERM(socket(AF_INET6, SOCK_STREAM, 0));
    EXPECT_EPERM(socket(AF_UNIX, SOCK_STREAM, 0));
    EXPECT_EPERM(socket(AF_NETLINK, SOCK_RAW, 0));
    EXPECT_EPERM(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
}

Test(sandbox, sockets_fail_with_eperm)
{
    in_child(false, body_sockets, 0);
}

static void body_sockets_unsandboxed(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        fail("socket(AF_UNIX) without the sandbox: %s", strerror(errno));
    else
        close(fd);
}

/* systemd's bus, libvirtd: a unix socket and its calls; no other family,
 * and still no process, no exec */
static void body_unix_client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail("socket(AF_UNIX) with unix sockets allowed: %s", strerror(errno));
    } else {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/nonexistent/cgp-test.sock" };
        errno = 0;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno == EPERM)
            fail("connect to a missing socket: want ENOENT, got %s", strerror(errno));
        int one = 1;
        EXPECT_OK(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
        EXPECT_OK(geteuid());
        close(fd);
    }
    EXPECT_EPERM(socket(AF_INET, SOCK_STREAM, 0));
    EXPECT_EPERM(socket(AF_INET6, SOCK_DGRAM, 0));
    EXPECT_EPERM(socket(AF_NETLINK, SOCK_RAW, 0));
    EXPECT_EPERM(fork());
    EXPECT_EPERM(execve(sh_argv[0], sh_argv, NULL));
}

Test(sandbox, unix_client_allows_unix_sockets_only)
{
    child_unix = true;
    in_child(false, body_unix_client, 0);
    child_unix = false;
}

Test(sandbox, no_sandbox_socket_succeeds)
{
    in_child(true, body_sockets_unsandboxed, 0);
}

static void body_process(void)
{
    /* other processes, new processes, tracing, code */
    EXPECT_EPERM(kill(getppid(), 0));
    EXPECT_EPERM(syscall(SYS_tgkill, getppid(), getppid(), 0));
    /* an invalid request: EIO from the kernel, EPERM from the filter */
    EXPECT_EPERM(syscall(SYS_ptrace, 0x7fffffffL, 0, 0, 0));
    EXPECT_EPERM(fork());
    EXPECT_EPERM(syscall(SYS_clone3, NULL, 0));
    EXPECT_EPERM(syscall(SYS_prctl, 0x26 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED || errno != EPERM)
        fail("mmap PROT_EXEC: want EPERM, got %s", m == MAP_FAILED ? strerror(errno) : "a mapping");
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fail("mmap PROT_READ|PROT_WRITE: %s", strerror(errno));
    } else {
        EXPECT_EPERM(mprotect(m, 4096, PROT_READ | PROT_EXEC));
        EXPECT_OK(mprotect(m, 4096, PROT_READ));
        EXPECT_OK(munmap(m, 4096));
    }
    /* ioctl: TCGETS only (isatty); a file is no tty, so ENOTTY from the kernel */
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    EXPECT_OK(fd);
    errno = 0;
    if (isatty(fd) || errno != ENOTTY)
        fail("isatty(file): want 0/ENOTTY, got errno %s", strerror(errno));
    int avail;
    EXPECT_EPERM(ioctl(fd, FIONREAD, &avail));
    /* signals to itself still work: raise() and kill(getpid()) */
    struct sigaction sa = { .sa_handler = SIG_IGN };
    EXPECT_OK(sigaction(SIGUSR1, &sa, NULL));
    EXPECT_OK(raise(SIGUSR1));
    EXPECT_OK(kill(getpid(), SIGUSR1));
    close(fd);
}

Test(sandbox, other_processes_exec_mappings_and_ioctls_fail)
{
    in_child(false, body_process, 0);
}

/* cli/privilege.c: a verb that only reads keeps no capability, an empty
 * bounding set, no_new_privs (a root run; else nothing to drop). */
static long status_hex(const char *key)
{
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    char buf[4096];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *p = strstr(buf, key);
    return p ? strtol(p + strlen(key), NULL, 16) : -1;
}

static void body_caps(void)
{
    if (status_hex("\nCapEff:\t") != 0 || status_hex("\nCapPrm:\t") != 0 || status_hex("\nCapBnd:\t") != 0)
        fail("capabilities left: CapEff %lx CapPrm %lx CapBnd %lx", status_hex("\nCapEff:\t"),
             status_hex("\nCapPrm:\t"), status_hex("\nCapBnd:\t"));
    if (status_hex("\nNoNewPrivs:\t") != 1)
        fail("NoNewPrivs: %ld", status_hex("\nNoNewPrivs:\t"));
}

Test(sandbox, read_only_verb_keeps_no_capability)
{
    if (geteuid() != 0)
        cr_skip_test("not root: no capability to drop");
    in_child(false, body_caps, 0);
}

static char tmpdir[64];

/* In the child, before the filter: the file body_files writes (a cgroup's
 * own files exist before cgplace opens them; nothing it opens later is new) */
static void files_before(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/cg", tmpdir);
    if (mkdir(p, 0755) < 0)
        fail("mkdir %s: %s", p, strerror(errno));
    snprintf(p, sizeof p, "%s/cg/cpuset.cpus", tmpdir);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        fail("create %s: %s", p, strerror(errno));
    else
        close(fd);
}

static void body_files(void)
{
    int d = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) {
        fail("open %s: %s", tmpdir, strerror(errno));
        return;
    }
    EXPECT_OK(mkdirat(d, "group", 0755));
    EXPECT_OK(unlinkat(d, "group", AT_REMOVEDIR));
    int cg = openat(d, "cg", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cg < 0) {
        fail("openat cg: %s", strerror(errno));
        return;
    }
    int fd = openat(cg, "cpuset.cpus", O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        fail("openat cpuset.cpus for writing: %s", strerror(errno));
        return;
    }
    if (write(fd, "0-3\n", 4) != 4)
        fail("write: %s", strerror(errno));
    close(fd);
    /* no new file, whatever the path: O_CREAT (even of a file that exists),
     * O_TMPFILE, creat(); openat2 answers ENOSYS (its flags are out of the
     * filter's sight); no file removed, only directories */
    EXPECT_EPERM(openat(cg, "cpuset.cpus", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    EXPECT_EPERM(openat(cg, "new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    EXPECT_EPERM(openat(cg, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    EXPECT_EPERM(syscall(SYS_creat, "/tmp/cgp-sandbox-creat", 0644));
    EXPECT_EPERM(syscall(SYS_open, "/tmp/cgp-sandbox-open", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC };
    errno = 0;
    if (syscall(SYS_openat2, cg, "cpuset.cpus", &how, sizeof how) != -1 || errno != ENOSYS)
        fail("openat2: want -1/ENOSYS, got %s", strerror(errno));
    EXPECT_EPERM(unlinkat(cg, "cpuset.cpus", 0));
    char buf[16] = "";
    fd = openat(cg, "cpuset.cpus", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, sizeof buf - 1) != 4 || strcmp(buf, "0-3\n"))
        fail("read back: '%s' (%s)", buf, strerror(errno));
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    EXPECT_OK(fstatat(cg, "cpuset.cpus", &st, AT_SYMLINK_NOFOLLOW));
    EXPECT_OK(lseek(fd, 0, SEEK_SET));
    EXPECT_OK(pread(fd, buf, 4, 0));
    EXPECT_OK(fcntl(fd, F_GETFL));
    int fd2 = dup(fd);
    EXPECT_OK(fd2);
    if (fd2 >= 0)
        close(fd2);
    EXPECT_OK(flock(fd, LOCK_EX));
    close(fd);
    /* directory listing (fdopendir/readdir: getdents64) */
    int dd = dup(cg);
    DIR *dir = dd >= 0 ? fdopendir(dd) : NULL;
    int seen = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        seen += !strcmp(de->d_name, "cpuset.cpus");
    if (!dir || seen != 1)
        fail("readdir: %s (seen %d)", strerror(errno), seen);
    if (dir)
        closedir(dir);
    close(cg);
    close(d);
    /* the tree of /proc the commands read */
    EXPECT_OK(access("/proc/self/status", R_OK));
    char lnk[64];
    EXPECT_OK(readlink("/proc/self/exe", lnk, sizeof lnk));
    /* stdout: the commands' results (isatty, fstat, write) */
    if (printf("sandboxed stdout works\n") < 0 || fflush(stdout) != 0)
        fail("printf: %s", strerror(errno));
    /* malloc beyond the brk heap (mmap) and realloc (mremap) */
    char *big = malloc(64 << 20);
    if (!big)
        fail("malloc 64 MiB: %s", strerror(errno));
    else
        big[0] = big[(64 << 20) - 1] = 1;
    char *bigger = big ? realloc(big, 128 << 20) : NULL;
    if (big && !bigger)
        fail("realloc 128 MiB: %s", strerror(errno));
    free(bigger ? bigger : big);
    struct timespec ts;
    EXPECT_OK(clock_gettime(CLOCK_MONOTONIC, &ts));
    EXPECT_OK(nanosleep(&(struct timespec){ 0, 1000 }, NULL));
    EXPECT_OK(getrandom(buf, sizeof buf, 0));
}

static void rm_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_expect_eq(system(cmd), 0, "%s", cmd);
}

Test(sandbox, file_io_in_dir_fds_still_works_no_file_made_or_removed)
{
    strcpy(tmpdir, "/tmp/cgp-sandbox.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    before_filter = files_before;
    in_child(false, body_files, 0);
    before_filter = NULL;
    char p[128];
    snprintf(p, sizeof p, "%s/cg/cpuset.cpus", tmpdir);
    cr_expect_eq(access(p, F_OK), 0, "the file the child could not remove is there");
    snprintf(p, sizeof p, "%s/cg/new", tmpdir);
    cr_expect_neq(access(p, F_OK), 0, "the file the child could not make is not");
    cr_expect_neq(access("/tmp/cgp-sandbox-creat", F_OK), 0);
    rm_tmpdir();
}

/* --persist / --output: a temporary file made before may be removed after;
 * still nothing created */

static void body_persist(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/cg/cpuset.cpus", tmpdir);
    EXPECT_EPERM(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    char q[140];
    snprintf(q, sizeof q, "%s/cg/renamed", tmpdir);
    EXPECT_OK(rename(p, q));
    EXPECT_OK(unlinkat(AT_FDCWD, q, 0));
}

Test(sandbox, persist_profile_removes_its_temporary_but_creates_nothing)
{
    strcpy(tmpdir, "/tmp/cgp-sandbox.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    before_filter = files_before;
    child_persist = true;
    in_child(false, body_persist, 0);
    child_persist = false;
    before_filter = NULL;
    rm_tmpdir();
}

/* A kernel that refuses the filter: stand in for it with an outer filter
 * that fails seccomp(2) and prctl(PR_SET_SECCOMP) with err. Returns cli_sandbox()'s exit
 * code; *errbuf gets what it printed on stderr. */
static int refused_load(int err, int verbose, char *errbuf, size_t errlen)
{
    skip_unless_filter();
    int res[2], ep[2];
    cr_assert_eq(pipe2(res, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(ep, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(res[0]);
        close(ep[0]);
        if (dup2(ep[1], 2) < 0)
            _exit(96);
        /* as without CONFIG_SECCOMP: seccomp(2) ENOSYS, PR_SET_SECCOMP EINVAL */
        unsigned pr_err = err == ENOSYS ? EINVAL : (unsigned)err;
        scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
        if (!f || seccomp_rule_add(f, SCMP_ACT_ERRNO((unsigned)err), SCMP_SYS(seccomp), 0) < 0 ||
            seccomp_rule_add(f, SCMP_ACT_ERRNO(pr_err), SCMP_SYS(prctl), 1,
                             SCMP_A0(SCMP_CMP_EQ, 22 /* PR_SET_SECCOMP */, 0)) < 0 ||
            seccomp_load(f) < 0)
            _exit(95);
        seccomp_release(f);
        /* forget what libseccomp probed while the kernel still said yes */
        if (seccomp_reset(NULL, 0) < 0)
            _exit(93);
        struct cli cli = { .verbose = verbose, .cmd = "test" };
        int rc = cli_sandbox(&cli, "test");
        fflush(stderr);
        /* only the outer filter: cli_sandbox added none */
        int mode = seccomp_mode();
        char line[64];
        int n = snprintf(line, sizeof line, "%d %d\n", rc, mode);
        _exit(write(res[1], line, (size_t)n) == n ? 0 : 94);
    }
    close(res[1]);
    close(ep[1]);
    size_t len = 0;
    ssize_t n;
    while (len < errlen - 1 && (n = read(ep[0], errbuf + len, errlen - 1 - len)) > 0)
        len += (size_t)n;
    errbuf[len] = '\0';
    char line[64] = "";
    cr_assert_geq(read(res[0], line, sizeof line - 1), 0);
    close(res[0]);
    close(ep[0]);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x (stderr: %s)", st, errbuf);
    int rc = -1, mode = -1;
    cr_assert_eq(sscanf(line, "%d %d", &rc, &mode), 2, "child said '%s'", line);
    cr_expect_eq(mode, 2, "Seccomp: %d, want 2 (the outer filter)", mode);
    return rc;
}

Test(sandbox, kernel_without_seccomp_filters_warns_with_v_and_goes_on)
{
    char err[1024];
    cr_expect_eq(refused_load(EINVAL, 1, err, sizeof err), 0);
    cr_expect(strstr(err, "cgplace: test: warning: seccomp unavailable") && !strchr(strchr(err, '\n') + 1, '\n'),
              "want one warning line, got '%s'", err);
    cr_expect_eq(refused_load(ENOSYS, 0, err, sizeof err), 0);
    cr_expect_str_empty(err, "without -v nothing is printed, got '%s'", err);
}

Test(sandbox, other_load_failures_are_errors)
{
    char err[1024];
    cr_expect_eq(refused_load(EACCES, 0, err, sizeof err), EXIT_RUNTIME);
    cr_expect(strstr(err, "cgplace: test: seccomp sandbox: loading the filter: Permission denied") != NULL,
              "stderr: '%s'", err);
}

/* watch: its fds are opened before the filter; after it, receiving on them,
 * inotify watches and ppoll work; no new netlink socket, no process, no exec */
static int watch_ino = -1, watch_sp[2] = { -1, -1 };

static void watch_fds(void)
{
    watch_ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watch_ino < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, watch_sp) < 0)
        fail("inotify_init1/socketpair before the filter: %s", strerror(errno));
}

static void body_watch(void)
{
    int wd = inotify_add_watch(watch_ino, "/", IN_MODIFY | IN_DONT_FOLLOW);
    if (wd < 0)
        fail("inotify_add_watch under the watch profile: %s", strerror(errno));
    else
        EXPECT_OK(inotify_rm_watch(watch_ino, wd));
    EXPECT_OK(send(watch_sp[0], "x", 1, 0));
    char c;
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    if (recvfrom(watch_sp[1], &c, 1, 0, (struct sockaddr *)&from, &fl) != 1)
        fail("recvfrom under the watch profile: %s", strerror(errno));
    struct pollfd p = { .fd = watch_sp[1], .events = POLLIN };
    struct timespec ts = { 0, 1000000 };
    EXPECT_OK(ppoll(&p, 1, &ts, NULL));
    /* its lock each pass, --metrics' temporary files: made, and removed on failure */
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s/metrics.tmp", tmpdir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    EXPECT_OK(fd);
    if (fd >= 0)
        close(fd);
    EXPECT_OK(unlinkat(AT_FDCWD, tmp, 0));
    EXPECT_EPERM(socket(AF_NETLINK, SOCK_DGRAM, 0));
    EXPECT_EPERM(socket(AF_INET, SOCK_DGRAM, 0));
    EXPECT_EPERM(inotify_init1(0));
    EXPECT_EPERM(fork());
    EXPECT_EPERM(execve(sh_argv[0], sh_argv, NULL));
}

Test(sandbox, watch_loop_allowed_nothing_more)
{
    strcpy(tmpdir, "/tmp/cgp-sandbox.XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    child_unix = child_watch = true;
    before_filter = watch_fds;
    in_child(false, body_watch, 0);
    child_unix = child_watch = false;
    before_filter = NULL;
    rm_tmpdir();
}
