/* Runtime tuning (vcpupin, emulatorpin, iothreadpin, numatune): the desired
 * state of one running guest with one change, as a placement the engine
 * applies like any other. The state is the guest's policy block when a
 * policy names it, else what its threads have now; so a pin changes that
 * one thing and writes through the same planner, backends and read-back
 * as `apply`. */
#include "policy-int.h"
#include "cgplace_guests.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* libvirt numbers I/O threads (N, iothreadN); QEMU's own "IO mon_iothread"
 * is not one of them, and libvirt pins it with the emulator. */
static bool libvirt_numbered(const char *id)
{
    const char *n = strncmp(id, "iothread", 8) ? id : id + 8;
    return *n && strspn(n, "0123456789") == strlen(n);
}

/* One I/O thread: the same id, or the same libvirt number ("1" is "iothread1"). */
static bool same_iothread(const char *a, const char *b)
{
    const char *na = strncmp(a, "iothread", 8) ? a : a + 8, *nb = strncmp(b, "iothread", 8) ? b : b + 8;
    return !strcmp(a, b) || (libvirt_numbered(a) && libvirt_numbered(b) && !strcmp(na, nb));
}

static bool valid_name(const char *s)
{
    return pol_valid_name(s) && !pol_interface_prefix(s);
}

/* The block name of a guest with no policy: where cgplace placed it
 * (PARENT/NAME/..., SLICE/cgplace-NAME.scope/...), else its -name, else
 * qemu-PID. */
static char *live_name(cgp_placement *pl, const struct cgp_guest *g)
{
    const char *cg = g->cgroup ? g->cgroup : "";
    char pre[300];
    snprintf(pre, sizeof pre, "/%s/", pl->host.parent);
    const char *s = !strncmp(cg, pre, strlen(pre)) ? cg + strlen(pre) : NULL;
    const char *scope = strstr(cg, "/cgplace-");
    if (!s && scope && strstr(scope, ".scope"))
        s = scope + 9;
    if (s) {
        size_t n = strcspn(s, "/");
        if (scope && s == scope + 9)
            n = (size_t)(strstr(s, ".scope") - s);
        char name[65];
        if (n < sizeof name) {
            memcpy(name, s, n);
            name[n] = '\0';
            if (valid_name(name))
                return pl_strdup(pl, name);
        }
    }
    if (g->name && valid_name(g->name))
        return pl_strdup(pl, g->name);
    return cgp_arena_printf(&pl->arena, "qemu-%d", g->pid);
}

static int copy_host(cgp_placement *pl, const struct cgp_host_settings *h)
{
    pl->host = *h;
    pl->host.reserved_cpus = pl_own(pl, cgp_bitmap_dup(h->reserved_cpus));
    pl->host.parent = pl_strdup(pl, h->parent);
    pl->host.slice = pl_strdup(pl, h->slice);
    return pl->host.reserved_cpus && pl->host.parent && pl->host.slice ? 0 : -ENOMEM;
}

static const cgp_bitmap *own_dup(cgp_placement *pl, const cgp_bitmap *b)
{
    return pl_own(pl, cgp_bitmap_dup(b));
}

/* The guest as its policy block compiled it. */
static int from_block(cgp_placement *pl, struct gp_priv *o, const struct cgp_guest_placement *b)
{
    struct cgp_guest_placement *p = &o->pub;
    *p = *b;
    p->n_cells = 0;     /* borrowed from base: a runtime placement has no cells */
    p->cells = NULL;
    p->name = pl_strdup(pl, b->name);
    p->file = pl_strdup(pl, b->file);
    o->vcpu = calloc(b->n_vcpus + 1, sizeof *o->vcpu);
    o->io = calloc(b->n_iothreads + 1, sizeof *o->io);
    o->matches = calloc(b->n_matches + 1, sizeof *o->matches);
    if (!o->vcpu || !o->io || !o->matches || !p->name || !p->file)
        return -ENOMEM;
    p->emulator = (struct cgp_thread_placement){ own_dup(pl, b->emulator.cpus), own_dup(pl, b->emulator.mems) };
    for (unsigned v = 0; v < b->n_vcpus; v++)
        o->vcpu[v] = (struct cgp_thread_placement){ own_dup(pl, b->vcpu[v].cpus), own_dup(pl, b->vcpu[v].mems) };
    for (size_t k = 0; k < b->n_iothreads; k++)
        o->io[k] = (struct cgp_iothread_placement){ pl_strdup(pl, b->iothreads[k].id),
                                                    own_dup(pl, b->iothreads[k].cpus),
                                                    own_dup(pl, b->iothreads[k].mems) };
    for (size_t k = 0; k < b->n_matches; k++)
        o->matches[k] = (struct cgp_match){ b->matches[k].kind, pl_strdup(pl, b->matches[k].value) };
    return 0;
}

/* The guest as its threads run now: each group gets what its thread has
 * (the emulator: the main thread's). */
static int from_live(cgp_ctx *ctx, cgp_placement *pl, struct gp_priv *o, const struct cgp_guest *g)
{
    struct cgp_guest_placement *p = &o->pub;
    unsigned nv = 0;
    size_t nio = 0;
    for (size_t i = 0; i < g->n_threads; i++) {
        const struct cgp_guest_thread *t = &g->threads[i];
        if (t->role == CGP_THREAD_VCPU && t->vcpu >= 0 && (unsigned)t->vcpu + 1 > nv)
            nv = (unsigned)t->vcpu + 1;
        nio += t->role == CGP_THREAD_IOTHREAD && t->iothread;   /* an upper bound */
    }
    if (nv > CGP_POLICY_MAX_VCPUS)
        return cgp_ctx_errorf(ctx, -EINVAL, "process %d: vCPU index %u is beyond %u", g->pid, nv - 1,
                              CGP_POLICY_MAX_VCPUS);
    o->vcpu = calloc(nv + 1, sizeof *o->vcpu);
    o->io = calloc(nio + 1, sizeof *o->io);
    o->matches = calloc(1, sizeof *o->matches);
    p->name = live_name(pl, g);
    p->file = pl_strdup(pl, "(running guest)");
    if (!o->vcpu || !o->io || !o->matches || !p->name || !p->file)
        return -ENOMEM;
    cgp_bitmap *c = NULL, *m = NULL;
    int r = cgp_guest_thread_affinity(ctx, g, g->pid, &c, &m);
    if (r < 0)
        return r;
    p->emulator = (struct cgp_thread_placement){ pl_own(pl, c), pl_own(pl, m) };
    if (!c || !m)
        return -ENOMEM;
    for (unsigned v = 0; v < nv; v++)
        o->vcpu[v] = p->emulator;   /* a hole in the indexes runs with the emulator */
    for (size_t i = 0; i < g->n_threads; i++) {
        const struct cgp_guest_thread *t = &g->threads[i];
        if (t->role == CGP_THREAD_EMULATOR || (t->role == CGP_THREAD_IOTHREAD && !t->iothread) ||
            (t->role == CGP_THREAD_IOTHREAD && g->foreign && !libvirt_numbered(t->iothread)))
            continue;
        if ((r = cgp_guest_thread_affinity(ctx, g, t->tid, &c, &m)) == -ESRCH)
            continue;   /* ended since discovery */
        if (r < 0)
            return r;
        struct cgp_thread_placement tp = { pl_own(pl, c), pl_own(pl, m) };
        if (!c || !m)
            return -ENOMEM;
        if (t->role == CGP_THREAD_VCPU && t->vcpu >= 0)
            o->vcpu[t->vcpu] = tp;
        else if (t->role == CGP_THREAD_IOTHREAD)
            o->io[p->n_iothreads++] = (struct cgp_iothread_placement){ pl_strdup(pl, t->iothread), tp.cpus, tp.mems };
    }
    p->n_vcpus = nv;
    p->mode = CGP_MODE_STRICT;
    o->matches[0] = (struct cgp_match){ CGP_MATCH_NAME, p->name };
    p->n_matches = 1;
    return 0;
}

static int check_cpus(cgp_ctx *ctx, const cgp_topology *t, const struct cgp_host_settings *h, const cgp_bitmap *s)
{
    cgp_bitmap *x CGP_AUTOBITMAP = cgp_bitmap_dup(s);
    if (!x)
        return -ENOMEM;
    const char *why = NULL;
    if (cgp_bitmap_andnot(x, cgp_topology_cpus_present(t)), !cgp_bitmap_is_empty(x))
        why = "not present on this host";
    else if (cgp_bitmap_or(x, s), cgp_bitmap_andnot(x, cgp_topology_cpus_online(t)), !cgp_bitmap_is_empty(x))
        why = "offline";
    else if (cgp_bitmap_or(x, s), cgp_bitmap_and(x, h->reserved_cpus), !cgp_bitmap_is_empty(x))
        why = "reserved for the host by the policy's 'reserve cpus'";
    if (!why)
        return 0;
    char *l CGP_AUTOFREE = cgp_bitmap_format(x);
    return cgp_ctx_errorf(ctx, -EINVAL, "CPU%s %s: %s", cgp_bitmap_count(x) > 1 ? "s" : "", l ? l : "?", why);
}

static int check_nodes(cgp_ctx *ctx, const cgp_topology *t, const cgp_bitmap *s)
{
    cgp_bitmap_foreach(s, id) {
        const struct cgp_node *nd = cgp_topology_node_by_id(t, id);
        if (!nd || !nd->online)
            return cgp_ctx_errorf(ctx, -EINVAL, "node %d: %s", id, nd ? "offline" : "not on this host");
        if (nd->mem_total_kib == 0 || nd->mem_total_kib == CGP_UNKNOWN_U64)
            return cgp_ctx_errorf(ctx, -EINVAL, "node %d: %s", id,
                                  nd->mem_total_kib ? "its memory is unknown" : "has no memory");
    }
    return 0;
}

static int apply_change(cgp_ctx *ctx, const cgp_topology *t, cgp_placement *pl, struct gp_priv *o,
                        const struct cgp_guest *g, const struct cgp_runtime_change *chg)
{
    struct cgp_guest_placement *p = &o->pub;
    const cgp_bitmap *set = chg->set;
    if (chg->what != CGP_CHANGE_NONE && (!set || cgp_bitmap_is_empty(set)))
        return cgp_ctx_errorf(ctx, -EINVAL, "an empty list");
    int r = chg->what == CGP_CHANGE_MEMS ? check_nodes(ctx, t, set)
          : chg->what == CGP_CHANGE_NONE ? 0 : check_cpus(ctx, t, &pl->host, set);
    if (r < 0)
        return r;
    bool per_thread = chg->what == CGP_CHANGE_VCPU || chg->what == CGP_CHANGE_IOTHREAD;
    if (per_thread && g->thread_source == CGP_THREADS_UNKNOWN)
        return cgp_ctx_errorf(ctx, -ENXIO, "process %d: its vCPU and I/O threads cannot be told apart: start QEMU "
                              "with -name ...,debug-threads=on, or give it a QMP socket (-qmp unix:PATH,server=on)",
                              g->pid);
    const cgp_bitmap *own = chg->what == CGP_CHANGE_NONE ? NULL : own_dup(pl, set);
    if (chg->what != CGP_CHANGE_NONE && !own)
        return -ENOMEM;
    switch (chg->what) {
    case CGP_CHANGE_NONE:
        break;
    case CGP_CHANGE_VCPU:
        if (chg->vcpu < 0 || (unsigned)chg->vcpu >= p->n_vcpus)
            return cgp_ctx_errorf(ctx, -ERANGE, "vCPU %d out of range: the guest has %u vCPU%s%s", chg->vcpu,
                                  p->n_vcpus, p->n_vcpus == 1 ? "" : "s", p->n_vcpus ? "" : " it can tell apart");
        o->vcpu[chg->vcpu].cpus = own;
        break;
    case CGP_CHANGE_EMULATOR:
        p->emulator.cpus = own;
        break;
    case CGP_CHANGE_IOTHREAD: {
        size_t k = 0;
        while (k < p->n_iothreads && !same_iothread(o->io[k].id, chg->iothread))
            k++;
        if (k == p->n_iothreads) {
            bool runs = false;
            for (size_t i = 0; i < g->n_threads; i++)
                runs = runs || (g->threads[i].iothread && same_iothread(g->threads[i].iothread, chg->iothread));
            if (!runs)
                return cgp_ctx_errorf(ctx, -ENOENT, "the guest has no I/O thread '%s'", chg->iothread);
            struct cgp_iothread_placement *io = realloc(o->io, (k + 2) * sizeof *io);
            if (!io)
                return -ENOMEM;
            o->io = io;
            io[k] = (struct cgp_iothread_placement){ pl_strdup(pl, chg->iothread), NULL, p->emulator.mems };
            p->n_iothreads++;
        }
        o->io[k].cpus = own;
        break;
    }
    case CGP_CHANGE_MEMS:
        p->emulator.mems = own;
        for (unsigned v = 0; v < p->n_vcpus; v++)
            o->vcpu[v].mems = own;
        for (size_t k = 0; k < p->n_iothreads; k++)
            o->io[k].mems = own;
        if (chg->set_mode) {
            p->mode = chg->mode;
            p->needs_exec = chg->mode == CGP_MODE_PREFERRED || chg->mode == CGP_MODE_INTERLEAVE;
        }
        break;
    }
    return 0;
}

/* The guest's cgroup holds the union of its threads' sets. */
static int unions(cgp_placement *pl, struct gp_priv *o)
{
    struct cgp_guest_placement *p = &o->pub;
    cgp_bitmap *c = cgp_bitmap_dup(p->emulator.cpus), *m = cgp_bitmap_dup(p->emulator.mems);
    int r = c && m ? 0 : -ENOMEM;
    for (unsigned v = 0; r == 0 && v < p->n_vcpus; v++)
        if ((r = cgp_bitmap_or(c, o->vcpu[v].cpus)) == 0)
            r = cgp_bitmap_or(m, o->vcpu[v].mems);
    for (size_t k = 0; r == 0 && k < p->n_iothreads; k++)
        if ((r = cgp_bitmap_or(c, o->io[k].cpus)) == 0)
            r = cgp_bitmap_or(m, o->io[k].mems);
    p->cpus = pl_own(pl, c);
    p->mems = pl_own(pl, m);
    if (r < 0 || !p->cpus || !p->mems)
        return -ENOMEM;
    p->vcpu = o->vcpu;
    p->iothreads = o->io;
    p->matches = o->matches;
    return 0;
}

static int defaults(const cgp_topology *t, cgp_placement **out)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    int r = d ? cgp_policy_parse_buffer("(defaults)", "", 0, d, &p) : -ENOMEM;
    if (r == 0)
        r = cgp_policy_compile(p, t, d, out);
    cgp_policy_free(p);
    cgp_diags_free(d);
    return r;
}

/* Process g runs as the one guest of pl, whatever its match lines say. */
static int pair_one(cgp_placement *pl, struct gp_priv *o, const struct cgp_guest *g)
{
    pl->procs = calloc(1, sizeof *pl->procs);
    pl->proc_guests = calloc(1, sizeof *pl->proc_guests);
    if (!pl->procs || !pl->proc_guests)
        return -ENOMEM;
    pl->procs[0] = (struct cgp_proc_match){ .proc = g, .n_guests = 1, .guests = pl->proc_guests };
    pl->n_procs = 1;
    o->pub.proc = g;
    o->pub.running = true;
    return 0;
}

/* Every thread of the guest gets the guest's own sets. */
static void whole(struct gp_priv *o)
{
    struct cgp_guest_placement *p = &o->pub;
    struct cgp_thread_placement all = { p->cpus, p->mems };
    p->emulator = all;
    for (unsigned v = 0; v < p->n_vcpus; v++)
        o->vcpu[v] = all;
    for (size_t k = 0; k < p->n_iothreads; k++)
        o->io[k].cpus = all.cpus, o->io[k].mems = all.mems;
}

CGP_EXPORT int cgp_placement_exec(cgp_ctx *ctx, const cgp_placement *base, const char *name,
                                  const struct cgp_guest *g, bool whole_guest, cgp_placement **out)
{
    if (!ctx || !base || !name || !g || !out)
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    const struct cgp_guest_placement *block = NULL;
    for (size_t i = 0; i < base->n && !block; i++)
        if (!strcmp(base->g[i].pub.name, name))
            block = &base->g[i].pub;
    if (!block)
        return cgp_ctx_errorf(ctx, -ENOENT, "the policy has no guest '%s'", name);
    cgp_placement *pl = calloc(1, sizeof *pl);
    struct gp_priv *o = calloc(1, sizeof *o);
    int r = pl && o ? 0 : -ENOMEM;
    if (pl)
        pl->g = o, pl->n = o ? 1 : 0;
    else
        free(o);
    if (r == 0 && (r = copy_host(pl, &base->host)) == 0 && (r = from_block(pl, o, block)) == 0) {
        /* the block's own envelope, as apply gives it */
        struct cgp_guest_placement *p = &o->pub;
        p->cpus = own_dup(pl, block->cpus);
        p->mems = own_dup(pl, block->mems);
        p->vcpu = o->vcpu;
        p->iothreads = o->io;
        p->matches = o->matches;
        if (!p->cpus || !p->mems)
            r = -ENOMEM;
        else if (whole_guest)
            whole(o);
        r = r ? r : pair_one(pl, o, g);
    }
    if (r == 0)
        *out = CGP_STEAL(pl);
    cgp_placement_free(pl);
    return r;
}

CGP_EXPORT int cgp_placement_runtime(cgp_ctx *ctx, const cgp_placement *base, const cgp_topology *t,
                                     const struct cgp_guest *g, const struct cgp_runtime_change *chg,
                                     cgp_placement **out)
{
    if (!ctx || !t || !g || !chg || !out || (chg->what == CGP_CHANGE_IOTHREAD && !chg->iothread))
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    cgp_placement *dflt = NULL;
    int r = base ? 0 : defaults(t, &dflt);
    if (r < 0)
        return r;
    const cgp_placement *b = base ? base : dflt;
    const struct cgp_guest_placement *block = NULL;
    for (size_t i = 0; i < b->n && !block; i++)
        if (b->g[i].pub.proc == g)
            block = &b->g[i].pub;
    cgp_placement *pl = calloc(1, sizeof *pl);
    struct gp_priv *o = calloc(1, sizeof *o);
    if (!pl || !o) {
        free(o);
        r = -ENOMEM;
        goto done;
    }
    pl->g = o;
    pl->n = 1;
    if ((r = copy_host(pl, &b->host)) < 0 || (r = block ? from_block(pl, o, block) : from_live(ctx, pl, o, g)) < 0 ||
        (r = apply_change(ctx, t, pl, o, g, chg)) < 0 || (r = unions(pl, o)) < 0)
        goto done;
    if ((r = pair_one(pl, o, g)) == 0)
        *out = CGP_STEAL(pl);
done:
    cgp_placement_free(pl);
    cgp_placement_free(dflt);
    return r;
}
