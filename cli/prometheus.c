/* verify --format prometheus [--output FILE]: the audit as node_exporter
 * textfile-collector metrics (Prometheus text exposition format 0.0.4),
 * written atomically: a temporary file in FILE's directory, created before
 * the sandbox, fsync'd and renamed over FILE once complete, so the collector
 * never reads half a file. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cli_textfile {
    int dirfd, fd;
    char *name;         /* FILE's last component */
    char tmp[64];       /* ".NAME.XXXXXXXX.tmp" in the same directory */
    bool committed;
};

int cli_textfile_open(const char *path, struct cli_textfile **out)
{
    struct cli_textfile *tf = calloc(1, sizeof *tf);
    if (!tf)
        return -ENOMEM;
    tf->dirfd = tf->fd = -1;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    tf->name = strdup(slash ? slash + 1 : path);
    int r = 0;
    if (!dir || !tf->name)
        r = -ENOMEM;
    else if (!*tf->name)
        r = -EISDIR;
    else if ((tf->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        r = -errno;
    free(dir);
    for (int tries = 0; r == 0 && tf->fd < 0 && tries < 8; tries++) {
        unsigned rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
            rnd = (unsigned)getpid() ^ (unsigned)tries;
        snprintf(tf->tmp, sizeof tf->tmp, ".cgplace-prom.%08x.tmp", rnd);
        tf->fd = openat(tf->dirfd, tf->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (tf->fd < 0 && errno != EEXIST)
            r = -errno;
    }
    if (r == 0 && tf->fd < 0)
        r = -EEXIST;
    if (r < 0) {
        cli_textfile_close(tf);
        return r;
    }
    *out = tf;
    return 0;
}

int cli_textfile_fd(const struct cli_textfile *tf)
{
    return tf->fd;
}

bool cli_textfile_dir_writable(const struct cli_textfile *tf)
{
    struct stat st;
    return fstat(tf->dirfd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & S_IWUSR);
}

int cli_textfile_commit(struct cli_textfile *tf)
{
    if (fsync(tf->fd) < 0 || renameat(tf->dirfd, tf->tmp, tf->dirfd, tf->name) < 0)
        return -errno;
    tf->committed = true;
    return 0;
}

int cli_prometheus_to_file(const char *path, struct cli_textfile **tf, const cgp_verify *v)
{
    struct cli_textfile *t = tf ? *tf : NULL;
    if (tf)
        *tf = NULL;
    int r = t ? 0 : cli_textfile_open(path, &t);
    if (r < 0)
        return r;
    int fd = dup(cli_textfile_fd(t));
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        r = -errno;
        if (fd >= 0)
            close(fd);
    } else {
        r = cli_prometheus_verify(f, v);
        if (fclose(f) != 0 && r == 0)
            r = -EIO;
        if (r == 0)
            r = cli_textfile_commit(t);
    }
    cli_textfile_close(t);
    return r;
}

int cli_prometheus_audit(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *g, size_t n,
                         const char *path, struct cli_textfile **tf)
{
    cgp_verify *v = NULL;
    int r = cgp_verify_run(ctx, pl, g, n, &v);
    if (r == 0)
        r = cli_prometheus_to_file(path, tf, v);
    cgp_verify_free(v);
    return r;
}

void cli_textfile_close(struct cli_textfile *tf)
{
    if (!tf)
        return;
    if (tf->fd >= 0)
        close(tf->fd);
    if (!tf->committed && tf->fd >= 0)
        (void)unlinkat(tf->dirfd, tf->tmp, 0);
    if (tf->dirfd >= 0)
        close(tf->dirfd);
    free(tf->name);
    free(tf);
}

/* A label value: UTF-8 as is except the format's three escapes (\\ \" \n);
 * control characters and bytes that are not UTF-8 as the text \xNN (an
 * escaped backslash, so the exposition stays valid); at most 256 bytes of
 * input, then "...". Guest names come from the policy or from a process's
 * -name: untrusted either way. */
static void label(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), done = 0;
    while (*p) {
        if (done >= 256) {
            fputs("...", f);
            return;
        }
        size_t n = *p >= 0x80 ? cli_utf8_len(p, left) : 1;
        if (*p == '\n')
            fputs("\\n", f);
        else if (n == 0 || *p < 0x20 || *p == 0x7f)
            fprintf(f, "\\\\x%02x", *p);
        else if (*p == '\\' || *p == '"')
            fprintf(f, "\\%c", *p);
        else
            fwrite(p, 1, n, f);
        n = n ? n : 1;
        p += n, done += n, left -= n;
    }
}

static void head(FILE *f, const char *name, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static bool compliant(const struct cgp_verify_guest *g, const struct cgp_enforce_guest *eg)
{
    return g->proc && !g->drift && eg->state != CGP_GUEST_INVALID && eg->state != CGP_GUEST_FAILED &&
           eg->state != CGP_GUEST_VANISHED;
}

void cli_thread_role(const struct cgp_verify_thread *t, char sep, char *buf, size_t n)
{
    if (t->role == CGP_THREAD_VCPU)
        snprintf(buf, n, "vcpu%d", t->vcpu);
    else if (t->role == CGP_THREAD_IOTHREAD)
        snprintf(buf, n, "iothread%c%s", sep, t->iothread ? t->iothread : "?");
    else
        snprintf(buf, n, "emulator");
}

int cli_prometheus_verify(FILE *f, const cgp_verify *v)
{
    const cgp_enforce *e = cgp_verify_plan(v);
    size_t n = cgp_verify_n_guests(v);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    head(f, "cgplace_verify_timestamp_seconds", "When this audit ran (Unix time).");
    fprintf(f, "cgplace_verify_timestamp_seconds %lld\n", (long long)now.tv_sec);
    head(f, "cgplace_drift", "1 when the audit found drift or a guest floating free (verify's exit status 3).");
    fprintf(f, "cgplace_drift %d\n", cgp_verify_drift(v) ? 1 : 0);
    head(f, "cgplace_unmanaged_processes", "QEMU processes that no policy block places.");
    fprintf(f, "cgplace_unmanaged_processes %zu\n", cgp_enforce_summary(e)->n_unmanaged);
    head(f, "cgplace_guest_running", "1 when the policy's guest runs.");
    for (size_t i = 0; i < n; i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        fputs("cgplace_guest_running{guest=\"", f);
        label(f, g->name);
        fprintf(f, "\"} %d\n", g->proc ? 1 : 0);
    }
    head(f, "cgplace_guest_compliant",
         "1 when every thread, cgroup and page of a running guest is where the policy says.");
    for (size_t i = 0; i < n; i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        if (!g->proc)
            continue;
        fputs("cgplace_guest_compliant{guest=\"", f);
        label(f, g->name);
        fprintf(f, "\"} %d\n", compliant(g, cgp_enforce_guest(e, i)) ? 1 : 0);
    }
    head(f, "cgplace_thread_drift",
         "1 when a guest thread's CPUs, nodes or cgroup differ from the policy (thread: its id).");
    for (size_t i = 0; i < n; i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        for (size_t k = 0; k < g->n_threads; k++) {
            const struct cgp_verify_thread *t = &g->threads[k];
            char role[80];
            cli_thread_role(t, '-', role, sizeof role);
            fputs("cgplace_thread_drift{guest=\"", f);
            label(f, g->name);
            fprintf(f, "\",thread=\"%d\",role=\"", t->tid);
            label(f, role);
            fprintf(f, "\"} %d\n", t->drift ? 1 : 0);
        }
    }
    head(f, "cgplace_guest_pages", "A guest's resident pages per NUMA node (numa_maps).");
    for (size_t i = 0; i < n; i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        for (size_t k = 0; g->proc && k < g->n_nodes; k++) {
            fputs("cgplace_guest_pages{guest=\"", f);
            label(f, g->name);
            fprintf(f, "\",node=\"%zu\"} %llu\n", k, (unsigned long long)g->pages[k]);
        }
    }
    head(f, "cgplace_guest_anon_pages_outside", "A guest's anonymous pages outside its nodes.");
    for (size_t i = 0; i < n; i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        if (!g->proc || !g->n_nodes)
            continue;
        fputs("cgplace_guest_anon_pages_outside{guest=\"", f);
        label(f, g->name);
        fprintf(f, "\"} %llu\n", (unsigned long long)g->anon_outside);
    }
    return ferror(f) ? -EIO : 0;
}
