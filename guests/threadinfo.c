/* What each thread of a running guest does now (vcpuinfo, vcpupin, numatune):
 * the CPU it last ran on, its state and CPU time from task/TID/stat, its
 * affinity from task/TID/status; and which guest an operator means by a
 * name, a UUID or a pid. */
#include "guests-int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *cgp_task_state_name(char c)
{
    switch (c) {
    case 'R': return "running";
    case 'S': return "sleeping";
    case 'D': return "disk sleep";
    case 'T': return "stopped";
    case 't': return "tracing stop";
    case 'Z': return "zombie";
    case 'X': return "dead";
    case 'I': return "idle";
    case 'P': return "parked";
    case 'W': return "waking";
    default: return "unknown";
    }
}

/* The state letter: the first field after the comm's last ')'. */
static char stat_state(const char *stat)
{
    const char *p = strrchr(stat, ')');
    if (!p || p[1] != ' ' || !isalpha((unsigned char)p[2]))
        return '?';
    return p[2];
}

static int read_one_thread(cgp_ctx *ctx, const struct cgp_guest *g, const struct cgp_guest_thread *t,
                           long ticks, struct cgp_thread_info *out)
{
    char rel[96];
    snprintf(rel, sizeof rel, "proc/%d/task/%d/stat", g->pid, t->tid);
    char *stat CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_one(ctx->root_fd, rel, 4096, &stat);
    if (n < 0)
        return (int)n;
    uint64_t ut = 0, st = 0, cpu = 0;
    if (cgp_guests_stat_field(stat, 14, &ut) < 0 || cgp_guests_stat_field(stat, 15, &st) < 0)
        return cgp_ctx_errorf(ctx, -EIO, "%s: no utime/stime", rel);
    /* field 39 is missing on kernels older than 2.2.8 only; -1 is "unknown" */
    out->cpu = cgp_guests_stat_field(stat, 39, &cpu) == 0 && cpu < CGP_MAX_ID ? (int)cpu : -1;
    out->state = stat_state(stat);
    uint64_t sum = cgp_sat_add(ut, st);
    out->cpu_time_ms = sum > UINT64_MAX / 1000 ? UINT64_MAX : sum * 1000 / (uint64_t)ticks;
    const char *bad = NULL;
    int r = cgp_task_allowed(ctx->root_fd, g->pid, t->tid, &out->cpus, &out->mems, &bad);
    if (r < 0 && bad)
        return cgp_ctx_errorf(ctx, r, "proc/%d/task/%d/status: no valid %s", g->pid, t->tid, bad);
    if (r < 0)
        return r;
    out->tid = t->tid;
    out->role = t->role;
    out->vcpu = t->vcpu;
    out->iothread = t->iothread;
    return 0;
}

void cgp_thread_info_free(struct cgp_thread_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        cgp_bitmap_free(v[i].cpus);
        cgp_bitmap_free(v[i].mems);
    }
    free(v);
}

int cgp_guest_threads_info(cgp_ctx *ctx, const struct cgp_guest *g, struct cgp_thread_info **out, size_t *n_out)
{
    if (!ctx || !g || !out || !n_out)
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    long ticks = sysconf(_SC_CLK_TCK);
    if (ticks <= 0)
        ticks = 100;
    struct cgp_thread_info *v = calloc(g->n_threads ? g->n_threads : 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < g->n_threads; i++) {
        int r = read_one_thread(ctx, g, &g->threads[i], ticks, &v[k]);
        if (r == -ENOENT || r == -ESRCH)
            continue;   /* the thread ended since discovery */
        if (r < 0) {
            cgp_thread_info_free(v, k + 1);
            return *cgp_ctx_last_error(ctx) ? r : cgp_ctx_errorf(ctx, r, "thread %d: %s", g->threads[i].tid,
                                                                  strerror(-r));
        }
        k++;
    }
    *out = v;
    *n_out = k;
    return 0;
}

int cgp_cpus_possible(cgp_ctx *ctx, cgp_bitmap **out)
{
    if (!ctx || !out)
        return -EINVAL;
    char buf[4096];
    ssize_t n = cgp_read_attr(ctx->root_fd, "sys/devices/system/cpu/possible", buf, sizeof buf);
    if (n < 0)
        return cgp_ctx_errorf(ctx, (int)n, "sys/devices/system/cpu/possible: %s", strerror((int)-n));
    cgp_bitmap *b = NULL;
    int r = cgp_bitmap_parse(buf, 0, &b, NULL);
    if (r < 0)
        return cgp_ctx_errorf(ctx, r == -ENOMEM ? r : -EIO, "sys/devices/system/cpu/possible: not a CPU list");
    *out = b;
    return 0;
}

/* A pid is all digits, a UUID has dashes and 36 characters; anything else
 * is a name. Several processes with one name: ambiguous. With ctx, a name
 * or UUID only finds processes that are guests by trust (an impostor's
 * -name neither answers nor makes the real guest ambiguous); a pid is the
 * operator's own choice and finds any QEMU process. */
static int find(cgp_ctx *ctx, const cgp_guest_list *l, const char *key, const struct cgp_trust *trust,
                const struct cgp_guest **out)
{
    if (!key || !*key || !out)
        return -EINVAL;
    int64_t pid = -1;
    bool numeric = cgp_parse_i64(key, &pid) == 0 && pid > 0 && isdigit((unsigned char)key[0]);
    const struct cgp_guest *hit = NULL;
    for (size_t i = 0; i < cgp_guests_count(l); i++) {
        const struct cgp_guest *g = cgp_guests_get(l, i);
        bool m = numeric ? g->pid == pid
                         : (g->name && !strcmp(g->name, key)) || (g->uuid && !strcasecmp(g->uuid, key));
        if (!m || (ctx && !numeric && cgp_guest_trusted(ctx, g, trust, NULL, 0) != 1))
            continue;
        if (hit)
            return -EEXIST;
        hit = g;
    }
    if (!hit)
        return -ENOENT;
    *out = hit;
    return 0;
}

int cgp_guests_find(const cgp_guest_list *l, const char *key, const struct cgp_guest **out)
{
    return find(NULL, l, key, NULL, out);
}

int cgp_guests_find_trusted(cgp_ctx *ctx, const cgp_guest_list *l, const char *key, const struct cgp_trust *trust,
                            const struct cgp_guest **out)
{
    if (!ctx)
        return -EINVAL;
    return find(ctx, l, key, trust, out);
}

/* What the kernel allows a task now: its Cpus_allowed_list / Mems_allowed_list. */
static int parse_list_line(const char *img, const char *key, cgp_bitmap **out)
{
    size_t kl = strlen(key);
    for (const char *line = img; line && *line;) {
        const char *nl = strchr(line, '\n');
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            char *v CGP_AUTOFREE = strndup(line + kl + 1, len - kl - 1);
            if (!v)
                return -ENOMEM;
            int r = cgp_bitmap_parse(v, 0, out, NULL);
            return r == -ENOMEM ? r : r < 0 ? -EIO : 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -EIO;
}

CGP_EXPORT int cgp_guest_thread_affinity(cgp_ctx *ctx, const struct cgp_guest *g, int tid,
                                         cgp_bitmap **cpus, cgp_bitmap **mems)
{
    if (!ctx || !g || tid <= 0)
        return -EINVAL;
    const char *bad = NULL;
    int r = cgp_task_allowed(ctx->root_fd, g->pid, tid, cpus, mems, &bad);
    if (r == -ENOMEM || r == 0)
        return r;
    if (!bad)
        return cgp_ctx_errorf(ctx, -ESRCH, "proc/%d/task/%d/status: %s", g->pid, tid, strerror(-r));
    return cgp_ctx_errorf(ctx, r, "proc/%d/task/%d/status: no valid %s", g->pid, tid, bad);
}

int cgp_task_allowed(int root_fd, int pid, int tid, cgp_bitmap **cpus, cgp_bitmap **mems, const char **bad)
{
    char rel[96];
    snprintf(rel, sizeof rel, "proc/%d/task/%d/status", pid, tid);
    char *s CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_one(root_fd, rel, 1u << 20, &s);
    if (n < 0)
        return (int)n;
    cgp_bitmap *c = NULL, *m = NULL;
    int r = 0;
    if (cpus && (r = parse_list_line(s, "Cpus_allowed_list", &c)) < 0) {
        *bad = "Cpus_allowed_list";
        return r;
    }
    if (mems && (r = parse_list_line(s, "Mems_allowed_list", &m)) < 0) {
        cgp_bitmap_free(c);
        *bad = "Mems_allowed_list";
        return r;
    }
    if (cpus)
        *cpus = c;
    if (mems)
        *mems = m;
    return 0;
}
