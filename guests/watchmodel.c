/* The model `watch` keeps between placement passes, so that an event that
 * changes nothing costs nothing: the processes the last pass placed (pid,
 * start time, whether their vCPU threads were all told apart) and the
 * online CPUs and nodes. It never places: it says when a pass is due. */
#include "guests-int.h"
#include "cgplace_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int pid;
    uint64_t start_time;
    unsigned want_vcpus;    /* the block's vCPUs */
    bool complete;          /* every vCPU thread told apart: placed per thread */
    char *cgroup;           /* PARENT/NAME */
};

struct cgp_watch_model {
    struct entry *e;
    size_t n, cap;
    cgp_bitmap *cpus, *nodes;   /* online when remembered */
};

int cgp_watch_model_new(cgp_watch_model **out)
{
    if (!out)
        return -EINVAL;
    cgp_watch_model *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    *out = m;
    return 0;
}

static void clear(cgp_watch_model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].cgroup);
    m->n = 0;
}

void cgp_watch_model_free(cgp_watch_model *m)
{
    if (!m)
        return;
    clear(m);
    free(m->e);
    cgp_bitmap_free(m->cpus);
    cgp_bitmap_free(m->nodes);
    free(m);
}

static int read_online(cgp_ctx *ctx, const char *rel, cgp_bitmap **out)
{
    char buf[4096];
    ssize_t r = cgp_read_attr(ctx->root_fd, rel, buf, sizeof buf);
    if (r < 0)
        return r == -ENOENT ? (*out = cgp_bitmap_new()) ? 0 : -ENOMEM : (int)r;
    size_t bad;
    return cgp_bitmap_parse(buf, CGP_MAX_ID, out, &bad);
}

unsigned cgp_watch_vcpus_told(const struct cgp_guest *g)
{
    unsigned v = 0;
    for (size_t i = 0; g && g->thread_source != CGP_THREADS_UNKNOWN && i < g->n_threads; i++)
        v += g->threads[i].role == CGP_THREAD_VCPU;
    return v;
}

int cgp_watch_model_remember(cgp_watch_model *m, cgp_ctx *ctx, const cgp_placement *pl, const cgp_enforce *e)
{
    if (!m || !ctx || !pl || !e)
        return -EINVAL;
    cgp_bitmap *cpus = NULL, *nodes = NULL;
    int r = read_online(ctx, "sys/devices/system/cpu/online", &cpus);
    if (r == 0)
        r = read_online(ctx, "sys/devices/system/node/online", &nodes);
    if (r < 0) {
        cgp_bitmap_free(cpus);
        return r;
    }
    clear(m);
    cgp_bitmap_free(m->cpus);
    cgp_bitmap_free(m->nodes);
    m->cpus = cpus;
    m->nodes = nodes;
    size_t n = cgp_enforce_n_guests(e);
    for (size_t i = 0; i < n && i < cgp_placement_n_guests(pl); i++) {
        const struct cgp_enforce_guest *eg = cgp_enforce_guest(e, i);
        const struct cgp_guest_placement *gp = cgp_placement_guest(pl, i);
        if (!eg->proc || (eg->state != CGP_GUEST_CHANGED && eg->state != CGP_GUEST_UNCHANGED))
            continue;
        int r2 = cgp_watch_model_add(m, eg->proc, gp->n_vcpus, eg->cgroup);
        if (r2 < 0)
            return r2;
    }
    return 0;
}

int cgp_watch_model_add(cgp_watch_model *m, const struct cgp_guest *g, unsigned want_vcpus, const char *cgroup)
{
    if (!m || !g)
        return -EINVAL;
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].pid == g->pid) {    /* known already: this is its news */
            free(m->e[i].cgroup);
            m->e[i] = m->e[--m->n];
            break;
        }
    if (!CGP_GROW(m->e, m->n, m->cap))
        return -ENOMEM;
    struct entry *x = &m->e[m->n];
    *x = (struct entry){ .pid = g->pid, .start_time = g->start_time, .want_vcpus = want_vcpus,
                         .complete = cgp_watch_vcpus_told(g) >= want_vcpus, .cgroup = strdup(cgroup ? cgroup : "") };
    if (!x->cgroup)
        return -ENOMEM;
    m->n++;
    return 0;
}

void cgp_watch_model_invalidate(cgp_watch_model *m)
{
    if (!m)
        return;
    cgp_bitmap_free(m->cpus);
    cgp_bitmap_free(m->nodes);
    m->cpus = m->nodes = NULL;
}

static struct entry *find(cgp_watch_model *m, int pid)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].pid == pid)
            return &m->e[i];
    return NULL;
}

static void forget(cgp_watch_model *m, struct entry *x)
{
    free(x->cgroup);
    *x = m->e[--m->n];
}

enum cgp_watch_action cgp_watch_model_event(cgp_watch_model *m, cgp_ctx *ctx, const struct cgp_procev *ev)
{
    if (!m || !ctx || !ev)
        return CGP_WATCH_NOTHING;
    struct entry *x = find(m, ev->pid);
    cgp_guest_list *l = NULL;
    enum cgp_watch_action a = CGP_WATCH_NOTHING;
    switch (ev->kind) {
    case CGP_PROCEV_LOST:
        return CGP_WATCH_PLACE;
    case CGP_PROCEV_EXIT:
        if (x)
            forget(m, x);
        return CGP_WATCH_NOTHING;
    case CGP_PROCEV_FORK:
        /* a QEMU that forks is daemonizing (-daemonize): the child is the
         * guest from now on; any other child is its parent until it execs */
        if (cgp_guests_read_pid(ctx, ev->pid, 0, &l) == 0)
            a = CGP_WATCH_PLACE;
        break;
    case CGP_PROCEV_EXEC:
        if (x)
            forget(m, x);           /* a placed guest that execs is a new program */
        if (cgp_guests_read_pid(ctx, ev->pid, 0, &l) == 0)
            a = CGP_WATCH_PLACE;
        break;
    case CGP_PROCEV_THREAD:
    case CGP_PROCEV_COMM:
        if (!x || x->complete)
            return CGP_WATCH_NOTHING;
        if (cgp_guests_read_pid(ctx, ev->pid, 0, &l) == 0 && cgp_guests_count(l) == 1) {
            const struct cgp_guest *g = cgp_guests_get(l, 0);
            if (g->start_time == x->start_time && cgp_watch_vcpus_told(g) >= x->want_vcpus)
                a = CGP_WATCH_THREADS;
        }
        break;
    }
    cgp_guests_free(l);
    return a;
}

enum cgp_watch_action cgp_watch_model_recheck(cgp_watch_model *m, cgp_ctx *ctx, size_t *looked)
{
    size_t k = 0;
    enum cgp_watch_action a = CGP_WATCH_NOTHING;
    if (!m || !ctx)
        return CGP_WATCH_NOTHING;
    cgp_bitmap *cpus = NULL, *nodes = NULL;
    k += 2;
    if (read_online(ctx, "sys/devices/system/cpu/online", &cpus) < 0 ||
        read_online(ctx, "sys/devices/system/node/online", &nodes) < 0 || !m->cpus || !m->nodes ||
        !cgp_bitmap_equal(cpus, m->cpus) || !cgp_bitmap_equal(nodes, m->nodes))
        a = CGP_WATCH_PLACE;
    cgp_bitmap_free(cpus);
    cgp_bitmap_free(nodes);
    for (size_t i = 0; a == CGP_WATCH_NOTHING && i < m->n; i++) {
        char rel[32], *stat = NULL;
        uint64_t st;
        snprintf(rel, sizeof rel, "proc/%d/stat", m->e[i].pid);
        k++;
        /* gone, or its pid reused: the pass drops it (threads still to be
         * told apart are the caller's to retry: cgp_watch_model_pending) */
        if (cgp_read_one(ctx->root_fd, rel, 4096, &stat) < 0 || cgp_guests_stat_start_time(stat, &st) < 0 ||
            st != m->e[i].start_time)
            a = CGP_WATCH_PLACE;
        free(stat);
    }
    if (looked)
        *looked = k;
    return a;
}

void cgp_watch_model_complete(cgp_watch_model *m, int pid)
{
    struct entry *x = m ? find(m, pid) : NULL;
    if (x)
        x->complete = true;
}

size_t cgp_watch_model_pending(const cgp_watch_model *m)
{
    size_t k = 0;
    for (size_t i = 0; m && i < m->n; i++)
        k += !m->e[i].complete;
    return k;
}

size_t cgp_watch_model_count(const cgp_watch_model *m)
{
    return m ? m->n : 0;
}

const char *cgp_watch_model_cgroup(const cgp_watch_model *m, size_t i)
{
    return m && i < m->n ? m->e[i].cgroup : NULL;
}
