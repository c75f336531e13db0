/* Verify: the drift audit (spec §6). The same model and plan as apply (the
 * ops a re-apply would make), then per guest and per thread the intent next
 * to what the backend and /proc report, and where the memory is. */
#include "cgctl-int.h"
#include "../guests/guests-int.h"

#include <errno.h>
#include <string.h>

struct vguest {
    struct cgp_verify_guest pub;
    struct cgp_verify_cgroup *cg;
    struct cgp_verify_thread *th;
    uint64_t *pages;
};

struct cgp_verify {
    cgp_enforce *e;
    bool drift;
    size_t n;
    struct vguest *g;
};

CGP_EXPORT void cgp_verify_free(cgp_verify *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        free(v->g[i].cg);
        free(v->g[i].th);
        free(v->g[i].pages);
    }
    free(v->g);
    cgp_enforce_free(v->e);
    free(v);
}

CGP_EXPORT bool cgp_verify_drift(const cgp_verify *v) { return v && v->drift; }
CGP_EXPORT size_t cgp_verify_n_guests(const cgp_verify *v) { return v ? v->n : 0; }
CGP_EXPORT const struct cgp_verify_guest *cgp_verify_guest(const cgp_verify *v, size_t i)
{
    return v && i < v->n ? &v->g[i].pub : NULL;
}
CGP_EXPORT const cgp_enforce *cgp_verify_plan(const cgp_verify *v) { return v ? v->e : NULL; }

static bool set_eq(const cgp_bitmap *want, const cgp_bitmap *have)
{
    return !want || (have && cgp_bitmap_equal(want, have));
}

/* An effective set for the report (missing or empty: the empty set). */
static const cgp_bitmap *effective(cgp_enforce *e, const char *path, bool mems, bool *exists)
{
    cgp_bitmap *b = NULL;
    int r = e->be.ops->read_effective(&e->be, path, mems, &b);
    if (r == -ENOENT)
        *exists = false;
    if (r < 0)
        return NULL;
    return cgp_arena_bitmap(&e->arena, b ? b : cgp_bitmap_new());
}

static int audit_cgroups(cgp_enforce *e, const struct eguest *g, struct vguest *vg)
{
    size_t n = g->cg_n + g->has_unit;
    if (!(vg->cg = calloc(n ? n : 1, sizeof *vg->cg)))
        return -ENOMEM;
    vg->pub.cgroups = vg->cg;
    vg->pub.n_cgroups = n;
    /* the unit's group (systemd's scope) first: it holds the others */
    for (size_t k = 0; k < n; k++) {
        size_t ci = !g->has_unit ? g->cg_first + k : k == 0 ? g->unit_cg : g->cg_first + k - 1;
        const struct cgn *c = &e->cg[ci];
        struct cgp_verify_cgroup *vc = &vg->cg[k];
        vc->path = c->path;
        vc->cpus_want = c->want_cpus;
        vc->mems_want = c->want_mems;
        vc->exists = true;
        vc->cpus_eff = effective(e, c->path, false, &vc->exists);
        if (vc->exists)
            vc->mems_eff = effective(e, c->path, true, &vc->exists);
        vc->drift = !vc->exists || !set_eq(vc->cpus_want, vc->cpus_eff) || !set_eq(vc->mems_want, vc->mems_eff);
        vg->pub.drift |= vc->drift;
    }
    return 0;
}

static int audit_threads(cgp_enforce *e, size_t gi, struct vguest *vg)
{
    const struct eguest *g = &e->g[gi];
    size_t nt = 0;
    for (size_t i = 0; i < e->n_t; i++)
        nt += e->t[i].gi == (int)gi;
    if (!(vg->th = calloc(nt ? nt : 1, sizeof *vg->th)))
        return -ENOMEM;
    vg->pub.threads = vg->th;
    for (size_t i = 0; i < e->n_t; i++) {
        const struct task *t = &e->t[i];
        if (t->gi != (int)gi)
            continue;
        struct cgp_verify_thread *vt = &vg->th[vg->pub.n_threads++];
        const struct cgn *c = &e->cg[t->target];
        vt->tid = t->tid;
        vt->role = t->th->role;
        vt->vcpu = t->th->vcpu;
        vt->iothread = t->th->iothread;
        vt->cgroup_want = c->path;
        vt->cpus_want = c->want_cpus;
        vt->mems_want = c->want_mems;
        char *have = NULL;
        bool inside;
        int r = e->be.ops->task_group(&e->be, g->pub.proc->pid, t->tid, &have, &inside);
        if (r == -ENOMEM)
            return r;
        vt->cgroup_have = r == 0 ? cgp_arena_str(&e->arena, have) : NULL;
        cgp_bitmap *cp = NULL, *mp = NULL;
        const char *bad;
        if (cgp_task_allowed(e->ctx->root_fd, g->pub.proc->pid, t->tid, &cp, &mp, &bad) == 0) {
            vt->cpus_have = cgp_arena_bitmap(&e->arena, cp);
            vt->mems_have = cgp_arena_bitmap(&e->arena, mp);
        }
        if (vt->cgroup_have || vt->cpus_have)   /* a thread that ended is no drift */
            vt->drift = !vt->cgroup_have || strcmp(vt->cgroup_have, vt->cgroup_want) ||
                        !set_eq(vt->cpus_want, vt->cpus_have) || !set_eq(vt->mems_want, vt->mems_have);
        vg->pub.drift |= vt->drift;
    }
    return 0;
}

/* A libvirt guest's threads: what libvirt should have given them (its
 * cgroups are libvirt's: their membership is not judged). */
static int audit_lv_threads(cgp_enforce *e, size_t gi, struct vguest *vg)
{
    const struct cgp_guest *p = e->g[gi].pub.proc;
    if (!(vg->th = calloc(p->n_threads ? p->n_threads : 1, sizeof *vg->th)))
        return -ENOMEM;
    vg->pub.threads = vg->th;
    for (size_t i = 0; i < p->n_threads; i++) {
        const struct cgp_guest_thread *th = &p->threads[i];
        struct cgp_verify_thread *vt = &vg->th[vg->pub.n_threads++];
        *vt = (struct cgp_verify_thread){ .tid = th->tid, .role = th->role, .vcpu = th->vcpu,
                                          .iothread = th->iothread };
        cgctl_lv_want(e, gi, th, &vt->cpus_want, &vt->mems_want);
        char *cg = NULL;
        int r = cgp_task_cgroup(e->ctx->root_fd, p->pid, th->tid, &cg);
        if (r == -ENOMEM)
            return r;
        vt->cgroup_have = r == 0 && cg ? cgp_arena_str(&e->arena, cg) : NULL;
        vt->cgroup_want = vt->cgroup_have ? vt->cgroup_have : "";
        cgp_bitmap *cp = NULL, *mp = NULL;
        const char *bad;
        if (cgp_task_allowed(e->ctx->root_fd, p->pid, th->tid, &cp, &mp, &bad) == 0) {
            vt->cpus_have = cgp_arena_bitmap(&e->arena, cp);
            vt->mems_have = cgp_arena_bitmap(&e->arena, mp);
        }
        if (vt->cpus_have)
            vt->drift = !set_eq(vt->cpus_want, vt->cpus_have) || !set_eq(vt->mems_want, vt->mems_have);
        vg->pub.drift |= vt->drift;
    }
    return 0;
}

/* Where the guest's memory is: pages per node, and anonymous pages outside
 * its nodes (drift under strict and restrictive). */
static int audit_memory(cgp_enforce *e, const struct eguest *g, struct vguest *vg)
{
    uint64_t *pages = NULL;
    size_t top = 0;
    int r = cgctl_read_numa_maps(e->ctx, g->pub.proc->pid, &pages, &top);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0;   /* unreadable: n_nodes 0 */
    vg->pages = pages;
    vg->pub.pages = pages;
    vg->pub.anon_pages = pages + top;
    vg->pub.n_nodes = top;
    const cgp_bitmap *mw = g->gp->mems;
    if (!top || !mw)
        return 0;
    for (size_t nd = 0; nd < top; nd++)
        if (!cgp_bitmap_test(mw, (unsigned)nd))
            vg->pub.anon_outside += vg->pub.anon_pages[nd];
    if (vg->pub.anon_outside && (g->gp->mode == CGP_MODE_STRICT || g->gp->mode == CGP_MODE_RESTRICTIVE))
        vg->pub.drift = true;
    return 0;
}

static int audit(cgp_verify *v)
{
    cgp_enforce *e = v->e;
    int r;
    e->no_tidy = true;   /* a stale empty group is no drift */
    if (e->sum.outcome == CGP_ENFORCE_OK && (r = cgctl_start(e)) < 0)
        return r;
    /* the model now holds the planned state: re-read the live one for the report */
    if ((r = cgctl_publish(e, true)) < 0)
        return r;
    if (e->n_kept || e->sum.outcome != CGP_ENFORCE_OK)
        v->drift = true;
    if (e->sum.unmanaged_denied)   /* a guest floats free under `unmanaged deny` */
        v->drift = true;
    v->n = e->n_g;
    if (!(v->g = calloc(v->n ? v->n : 1, sizeof *v->g)))
        return -ENOMEM;
    for (size_t gi = 0; gi < e->n_g; gi++) {
        const struct eguest *g = &e->g[gi];
        struct vguest *vg = &v->g[gi];
        vg->pub.name = g->pub.name;
        vg->pub.proc = g->pub.proc;
        vg->pub.foreign = g->pub.state == CGP_GUEST_FOREIGN;
        /* libvirt's guests are audited from /proc even when libvirt cannot be asked */
        bool lv = g->pub.owner == CGP_OWNER_LIBVIRT && g->pub.proc && g->pub.state != CGP_GUEST_INVALID &&
                  e->sum.outcome != CGP_ENFORCE_INVALID;
        if (!g->managed && !lv)
            continue;
        vg->pub.drift = g->pub.n_ops > 0;
        if (lv)
            r = audit_lv_threads(e, gi, vg);
        else if ((r = audit_cgroups(e, g, vg)) == 0)
            r = audit_threads(e, gi, vg);
        if (r < 0 || (r = audit_memory(e, g, vg)) < 0)
            return r;
        v->drift |= vg->pub.drift;
    }
    return 0;
}

CGP_EXPORT int cgp_verify_run(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests,
                              size_t n_guests, cgp_verify **out)
{
    if (!out)
        return -EINVAL;
    if (ctx)
        cgp_ctx_clear_error(ctx);
    cgp_verify *v = calloc(1, sizeof *v);
    if (!v)
        return -ENOMEM;
    int r = ctx && pl ? cgctl_prepare(ctx, pl, guests, n_guests, 0, NULL, &v->e) : -EINVAL;
    if (r == 0)
        r = audit(v);
    if (r < 0) {
        cgp_verify_free(v);
        return r;
    }
    *out = v;
    return 0;
}
