/* Helpers of the guests tests: fake SYSROOT/proc trees in a temp dir. */
#ifndef CGP_TEST_FAKEPROC_H
#define CGP_TEST_FAKEPROC_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fk_root[PATH_MAX];

static inline void fk_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

static inline void fk_path(char *out, size_t n, const char *fmt, va_list ap)
{
    char rel[PATH_MAX];
    vsnprintf(rel, sizeof rel, fmt, ap);
    snprintf(out, n, "%s/%s", fk_root, rel);
}

/* Write len bytes at ROOT/REL (parents created). */
static inline void fk_write(const void *data, size_t len, const char *fmt, ...)
{
    char p[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    fk_path(p, sizeof p, fmt, ap);
    va_end(ap);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    fk_mkdirs(p);
    *slash = '/';
    FILE *f = fopen(p, "w");
    cr_assert(f, "fopen %s: %s", p, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static inline void fk_text(const char *text, const char *fmt, ...)
{
    char rel[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    fk_write(text, strlen(text), "%s", rel);
}

static inline void fk_symlink(const char *target, const char *fmt, ...)
{
    char p[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    fk_path(p, sizeof p, fmt, ap);
    va_end(ap);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    fk_mkdirs(p);
    *slash = '/';
    unlink(p);
    cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

static inline void fk_unlink(const char *fmt, ...)
{
    char p[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    fk_path(p, sizeof p, fmt, ap);
    va_end(ap);
    unlink(p);
}

static inline void fk_setup(void)
{
    snprintf(fk_root, sizeof fk_root, "%s/cgp-guests-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert(mkdtemp(fk_root), "mkdtemp: %s", strerror(errno));
    fk_mkdirs(fk_root);
    char p[PATH_MAX + 8];
    snprintf(p, sizeof p, "%s/proc", fk_root);
    mkdir(p, 0755);
}

static inline void fk_teardown(void)
{
    if (!fk_root[0])
        return;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fk_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fk_root);
}

/* The stat line of a process: comm in parentheses, starttime in field 22,
 * fields up to 44, then tail (fields 45 on, each with a leading space). */
static inline void fk_stat_tail(int pid, const char *comm, uint64_t start, const char *tail)
{
    char s[640];
    snprintf(s, sizeof s,
             "%d (%s) S 1 %d %d 0 -1 4194560 10 0 0 0 5 3 0 0 20 0 3 0 %llu 123456789 2000 "
             "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0%s\n",
             pid, comm, pid, pid, (unsigned long long)start, tail);
    fk_text(s, "proc/%d/stat", pid);
}

static inline void fk_stat(int pid, const char *comm, uint64_t start) { fk_stat_tail(pid, comm, start, ""); }

/* A stat line that also carries arg_start/arg_end (fields 48-49), and a
 * "mem" file holding img (len bytes) at offset a0: the process's memory as
 * /proc/PID/mem shows it. */
static inline void fk_argv_mem(int pid, const char *comm, uint64_t start, uint64_t a0, const void *img, size_t len,
                               uint64_t a1)
{
    char tail[128];   /* start_data end_data start_brk arg_start arg_end env_start env_end exit_code */
    snprintf(tail, sizeof tail, " 0 0 0 %llu %llu %llu %llu 0", (unsigned long long)a0, (unsigned long long)a1,
             (unsigned long long)a1, (unsigned long long)a1);
    fk_stat_tail(pid, comm, start, tail);
    char *buf = calloc(1, a0 + len);
    cr_assert(buf);
    memcpy(buf + a0, img, len);
    fk_write(buf, a0 + len, "proc/%d/mem", pid);
    free(buf);
}

/* The executable at absolute path exe inside the tree, a guest's as the
 * trust model wants it (docs/SECURITY.md): regular, 0755 in a 0755
 * directory, owned by the test's user (cgplace trusts its own user's). */
static inline void fk_exe(const char *exe)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s%s", fk_root, exe);
    if (access(p, F_OK) == 0)
        return;
    fk_text("#!/bin/false\n", "%s", exe + 1);
    cr_assert_eq(chmod(p, 0755), 0);
    *strrchr(p, '/') = '\0';
    cr_assert_eq(chmod(p, 0755), 0);
}

/* A process: exe symlink (NULL: none), comm, argv (NULL-terminated), start
 * time, cgroup path (NULL: no cgroup file), threads "TID:COMM" (the first
 * should be the main thread; NULL-terminated; NULL: only the main thread). */
static inline void fk_proc(int pid, const char *exe, const char *comm, const char *const *argv, uint64_t start,
                    const char *cgroup, const char *const *threads)
{
    if (exe)
        fk_symlink(exe, "proc/%d/exe", pid);
    if (exe && exe[0] == '/')
        fk_exe(exe);
    fk_text("Name:\tqemu-system-x86\nUid:\t0\t0\t0\t0\n", "proc/%d/status", pid);
    char c[64];
    snprintf(c, sizeof c, "%s\n", comm);
    fk_text(c, "proc/%d/comm", pid);
    char img[8192];
    size_t len = 0;
    for (size_t i = 0; argv && argv[i]; i++) {
        size_t l = strlen(argv[i]) + 1;
        cr_assert(len + l < sizeof img);
        memcpy(img + len, argv[i], l);
        len += l;
    }
    fk_write(img, len, "proc/%d/cmdline", pid);
    fk_stat(pid, comm, start);
    if (cgroup) {
        char cg[512];
        snprintf(cg, sizeof cg, "0::%s\n", cgroup);
        fk_text(cg, "proc/%d/cgroup", pid);
    }
    if (!threads) {
        snprintf(c, sizeof c, "%s\n", comm);
        fk_text(c, "proc/%d/task/%d/comm", pid, pid);
        return;
    }
    for (size_t i = 0; threads[i]; i++) {
        int tid = atoi(threads[i]);
        const char *tc = strchr(threads[i], ':') + 1;
        snprintf(c, sizeof c, "%s\n", tc);
        fk_text(c, "proc/%d/task/%d/comm", pid, tid);
    }
}

static inline void fk_status(int pid, int tid, const char *cpus, const char *mems)
{
    char s[1024];
    snprintf(s, sizeof s,
             "Name:\tqemu-system-x86\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\n"
             "Cpus_allowed:\tff\nCpus_allowed_list:\t%s\nMems_allowed:\t00000001\n"
             "Mems_allowed_list:\t%s\nvoluntary_ctxt_switches:\t1\n",
             pid, tid, cpus, mems);
    fk_text(s, "proc/%d/task/%d/status", pid, tid);
}

#endif
