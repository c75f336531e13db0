/* The desired state of a placement, built in one place for plan, apply and
 * verify (and for `plan` against an empty hierarchy): inside each guest's
 * place a group for the process, threaded children emulator/, vcpuN/ and
 * iothread-ID/ when its threads can be told apart; each group's sets; each
 * thread's group; the memory policy a cgroup cannot set. Which backend
 * realises it is not this file's business. */
#include "cgctl-int.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

bool cgctl_iothread_is(const char *policy_id, const char *thread_id)
{
    if (!strcmp(policy_id, thread_id))
        return true;
    bool digits = *policy_id != '\0';
    for (const char *s = policy_id; *s; s++)
        digits = digits && isdigit((unsigned char)*s);
    return digits && !strncmp(thread_id, "iothread", 8) && !strcmp(thread_id + 8, policy_id);
}

static int add_group(struct cgctl_dguest *g, size_t *cap, const char *path, bool threaded, const cgp_bitmap *cpus,
                     const cgp_bitmap *mems)
{
    if (!path || !CGP_GROW(g->groups, g->n_groups, *cap))
        return -ENOMEM;
    g->groups[g->n_groups++] = (struct cgctl_dgroup){ path, threaded, cpus, mems };
    return 0;
}

static int build_groups(struct cgp_arena *a, struct cgctl_dguest *g)
{
    const struct cgp_guest_placement *gp = g->gp;
    size_t cap = 0;
    /* a unit's envelope holds the guest's sets: its group inherits them */
    int r = add_group(g, &cap, g->path, false, g->unit ? NULL : gp->cpus, g->unit ? NULL : gp->mems);
    if (r == 0 && g->split) {
        r = add_group(g, &cap, cgp_arena_printf(a, "%s/emulator", g->path), true, gp->emulator.cpus,
                      gp->emulator.mems);
        for (unsigned v = 0; r == 0 && v < gp->n_vcpus; v++)
            r = add_group(g, &cap, cgp_arena_printf(a, "%s/vcpu%u", g->path, v), true, gp->vcpu[v].cpus,
                          gp->vcpu[v].mems);
        for (size_t k = 0; r == 0 && k < gp->n_iothreads; k++) {
            const struct cgp_iothread_placement *io = &gp->iothreads[k];
            if (!cgctl_valid_component(io->id, strlen(io->id)))
                r = -EINVAL;
            else
                r = add_group(g, &cap, cgp_arena_printf(a, "%s/iothread-%s", g->path, io->id), true, io->cpus,
                              io->mems);
        }
    }
    if (!cgp_arena_keep(a, g->groups, free) && g->groups) {
        g->groups = NULL;
        return -ENOMEM;
    }
    return r;
}

/* Which group each thread of the guest's process goes to. */
static int build_threads(struct cgp_arena *a, struct cgctl_dguest *g, struct cgctl_msgs *msgs)
{
    const struct cgp_guest_placement *gp = g->gp;
    const struct cgp_guest *p = g->proc;
    if (!p || !p->n_threads)
        return 0;
    g->threads = calloc(p->n_threads, sizeof *g->threads);
    if (!cgp_arena_keep(a, g->threads, free))
        return -ENOMEM;
    for (size_t k = 0; k < p->n_threads; k++) {
        const struct cgp_guest_thread *th = &p->threads[k];
        size_t target = 0;
        if (g->split) {
            target = 1;   /* emulator */
            if (th->role == CGP_THREAD_VCPU) {
                if (th->vcpu >= 0 && (unsigned)th->vcpu < gp->n_vcpus)
                    target = 2 + (size_t)th->vcpu;
                else
                    cgctl_msgf(msgs, CGP_MSG_WARNING, gp->name, p->pid,
                               "guest '%s': vCPU %d (thread %d) is beyond the policy's %u vCPUs: placed with the emulator",
                               gp->name, th->vcpu, th->tid, gp->n_vcpus);
            } else if (th->role == CGP_THREAD_IOTHREAD) {
                size_t k2 = 0;
                while (k2 < gp->n_iothreads &&
                       !(th->iothread && cgctl_iothread_is(gp->iothreads[k2].id, th->iothread)))
                    k2++;
                if (k2 < gp->n_iothreads)
                    target = 2 + gp->n_vcpus + k2;
            }
        }
        g->threads[g->n_threads++] = (struct cgctl_dthread){ th, target };
    }
    return 0;
}

/* "" and each component of PARENT, outermost first. */
static int build_shared(struct cgp_arena *a, const char *parent, struct cgctl_desired *d)
{
    size_t n = 2;
    for (const char *s = parent; (s = strchr(s, '/')); s++)
        n++;
    d->shared = calloc(n, sizeof *d->shared);
    if (!cgp_arena_keep(a, d->shared, free))
        return -ENOMEM;
    d->shared[d->n_shared++] = "";
    for (const char *s = parent; s;) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - parent) : strlen(parent);
        if (!(d->shared[d->n_shared++] = cgp_arena_printf(a, "%.*s", (int)len, parent)))
            return -ENOMEM;
        s = slash ? slash + 1 : NULL;
    }
    return 0;
}

int cgctl_desired_build(const cgp_placement *pl, const struct cgctl_match *m, struct cgctl_backend *be,
                        struct cgctl_msgs *msgs, struct cgctl_desired *d)
{
    struct cgp_arena *a = msgs->arena;
    const char *parent = cgp_placement_host(pl)->parent;
    size_t n = cgp_placement_n_guests(pl);
    *d = (struct cgctl_desired){ 0 };
    d->g = calloc(n ? n : 1, sizeof *d->g);
    if (!cgp_arena_keep(a, d->g, free))
        return -ENOMEM;
    d->n = n;
    bool any = false;
    int r;
    for (size_t i = 0; i < n; i++) {
        struct cgctl_dguest *g = &d->g[i];
        g->gp = cgp_placement_guest(pl, i);
        if ((r = be->ops->place(be, cgp_placement_host(pl), g->gp->name, a, &g->path, &g->unit)) < 0)
            return r;
        g->planned = m ? m[i].managed : true;
        g->split = m ? m[i].split : true;
        g->proc = m ? m[i].proc : NULL;
        g->needs_exec = g->gp->needs_exec;
        g->mode = g->gp->mode;
        any |= g->planned;
    }
    if (!any)
        return 0;
    if (!m && (!cgctl_valid_path(parent)))
        return -EINVAL;
    if (!be->ops->no_shared && (r = build_shared(a, parent, d)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        struct cgctl_dguest *g = &d->g[i];
        if (!g->planned)
            continue;
        if (!m && !cgctl_valid_component(g->gp->name, strlen(g->gp->name)))
            return -EINVAL;
        if (g->needs_exec &&
            !(g->exec_note = cgp_arena_printf(a, "mode %s cannot be set through a cgroup, which only restricts: "
                                              "start QEMU under that memory policy (numactl, or a QEMU "
                                              "memory backend's policy=) for the real policy",
                                              cgp_mem_mode_name(g->mode))))
            return -ENOMEM;
        if ((r = build_groups(a, g)) < 0 || (r = build_threads(a, g, msgs)) < 0)
            return r;
    }
    return 0;
}
