/* LD_PRELOAD probe of the sandbox (issue 10, problem 3): code injected into
 * a cgplace run tries, at exit (after the sandbox is on), what an attacker
 * would: create a file, make a directory, read a secret, unlink a file --
 * each path from the environment, so that the caller picks targets that
 * succeed without the sandbox -- and reports its capabilities. One line on
 * stderr:
 *   cgp-probe: pid=N create=OK|ERRNAME mkdir=... read=... unlink=... CapEff=HEX CapPrm=HEX CapBnd=HEX
 *   NoNewPrivs=N Seccomp=N
 * The *at calls: the seccomp filter allows them (the engine's), so what
 * stops them is Landlock. /proc/self/status is opened at load time, before any restriction: the
 * sandbox may forbid opening it later (Landlock, --sysroot elsewhere). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int status_fd = -1;

__attribute__((constructor)) static void probe_init(void)
{
    status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
}

static const char *res(long r)
{
    return r < 0 ? strerrorname_np(errno) : "OK";
}

static void try_all(char *out, size_t size)
{
    const char *p;
    size_t n = strlen(out);
    if ((p = getenv("CGP_PROBE_CREATE"))) {
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        n += (size_t)snprintf(out + n, size - n, " create=%s", res(fd));
        if (fd >= 0)
            close(fd);
    }
    if ((p = getenv("CGP_PROBE_MKDIR")))
        n += (size_t)snprintf(out + n, size - n, " mkdir=%s", res(mkdirat(AT_FDCWD, p, 0755)));
    if ((p = getenv("CGP_PROBE_READ"))) {
        char c;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        long r = fd < 0 ? -1 : read(fd, &c, 1);
        n += (size_t)snprintf(out + n, size - n, " read=%s", res(r));
        if (fd >= 0)
            close(fd);
    }
    if ((p = getenv("CGP_PROBE_UNLINK")))
        n += (size_t)snprintf(out + n, size - n, " unlink=%s", res(unlinkat(AT_FDCWD, p, 0)));
    (void)n;
}

/* "Key:\tvalue" of /proc/self/status, appended as " Key=value". */
static void status(char *out, size_t size)
{
    static const char *const keys[] = { "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp" };
    char buf[4096];
    ssize_t len = status_fd < 0 ? -1 : pread(status_fd, buf, sizeof buf - 1, 0);
    if (len < 0)
        len = 0;
    buf[len] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char want[32];
        snprintf(want, sizeof want, "\n%s:\t", keys[k]);
        char *at = strstr(buf, want);
        size_t n = strlen(out);
        if (!at) {
            snprintf(out + n, size - n, " %s=?", keys[k]);
            continue;
        }
        at += strlen(want);
        snprintf(out + n, size - n, " %s=%.*s", keys[k], (int)strcspn(at, "\n"), at);
    }
}

__attribute__((destructor)) static void probe_fini(void)
{
    char out[1024];
    snprintf(out, sizeof out, "cgp-probe: pid=%d", (int)getpid());
    try_all(out, sizeof out);
    status(out, sizeof out);
    size_t n = strlen(out);
    out[n++] = '\n';
    (void)!write(2, out, n);
}
