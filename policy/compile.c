/* Validation of a parsed policy against the host, defaults, `auto`, and the
 * compiled placement (spec §3). */
#include "compile-int.h"

#include <errno.h>
#include <string.h>

CGP_EXPORT const char *cgp_mem_mode_name(enum cgp_mem_mode m)
{
    switch (m) {
    case CGP_MODE_STRICT: return "strict";
    case CGP_MODE_RESTRICTIVE: return "restrictive";
    case CGP_MODE_PREFERRED: return "preferred";
    case CGP_MODE_INTERLEAVE: return "interleave";
    }
    return "?";
}

CGP_EXPORT const char *cgp_backend_name(enum cgp_backend b)
{
    switch (b) {
    case CGP_BACKEND_AUTO: return "auto";
    case CGP_BACKEND_CGROUPFS: return "cgroupfs";
    case CGP_BACKEND_SYSTEMD: return "systemd";
    }
    return "?";
}

cgp_bitmap *pl_own(cgp_placement *pl, cgp_bitmap *b)
{
    return cgp_arena_bitmap(&pl->arena, b);
}

char *pl_strdup(cgp_placement *pl, const char *s)
{
    return cgp_arena_strdup(&pl->arena, s);
}

CGP_EXPORT void cgp_placement_free(cgp_placement *pl)
{
    if (!pl)
        return;
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->g[i].vcpu);
        free(pl->g[i].io);
        free(pl->g[i].matches);
        free(pl->g[i].cells);
        free(pl->g[i].why.tr);
    }
    free(pl->g);
    free(pl->procs);
    free(pl->proc_guests);
    cgp_arena_clear(&pl->arena);
    free(pl);
}

CGP_EXPORT const struct cgp_host_settings *cgp_placement_host(const cgp_placement *pl)
{
    return &pl->host;
}

CGP_EXPORT size_t cgp_placement_n_guests(const cgp_placement *pl)
{
    return pl ? pl->n : 0;
}

CGP_EXPORT const struct cgp_guest_placement *cgp_placement_guest(const cgp_placement *pl, size_t i)
{
    return pl && i < pl->n ? &pl->g[i].pub : NULL;
}

CGP_EXPORT const struct cgp_guest_placement *cgp_placement_find(const cgp_placement *pl,
                                                                const char *name)
{
    for (size_t i = 0; pl && i < pl->n; i++)
        if (!strcmp(pl->g[i].pub.name, name))
            return &pl->g[i].pub;
    return NULL;
}

/* ------------------------------------------------------------------ */

struct fit {
    struct cc *c;
    const struct pol_guest *g;
    bool running;
    uint64_t *used;          /* by node index */
    uint64_t *used_new;      /* the part of used by guests not running yet */
    bool *reported, *warned;
};

static void fit_cb(void *arg, const cgp_bitmap *nodes, uint64_t kib, const struct pol_loc *loc)
{
    struct fit *f = arg;
    struct cc *c = f->c;
    unsigned k = cgp_bitmap_count(nodes);
    if (!k)
        return;
    uint64_t share = kib / k + (kib % k != 0);
    cgp_bitmap_foreach(nodes, id) {
        int i = hv_index(&c->hv, id);
        if (i < 0)
            continue;
        const struct cgp_node *nd = cgp_topology_node(c->t, (size_t)i);
        f->used[i] = cgp_sat_add(f->used[i], share);
        if (!f->running)
            f->used_new[i] = cgp_sat_add(f->used_new[i], share);
        if (nd->mem_total_kib == CGP_UNKNOWN_U64)
            continue;
        uint64_t reserve = c->pl->host.reserve_memory_kib;
        uint64_t cap = nd->mem_total_kib > reserve ? nd->mem_total_kib - reserve : 0;
        char a[32], b[32], r[32];
        if (f->used[i] > cap && !f->reported[i]) {
            f->reported[i] = true;
            cc_size_str(f->used[i], a, sizeof a);
            cc_size_str(nd->mem_total_kib, b, sizeof b);
            cc_size_str(reserve, r, sizeof r);
            ERR(c, loc, "node %d cannot hold the memory bound to it: guests up to '%s' need %s there, "
                "more than its MemTotal %s minus the reserve %s", id, f->g->name, a, b, r);
        } else if (nd->mem_free_kib != CGP_UNKNOWN_U64 && !f->running &&
                   f->used_new[i] > nd->mem_free_kib && !f->warned[i] && !f->reported[i]) {
            /* running guests' memory is already out of MemFree */
            f->warned[i] = true;
            cc_size_str(f->used_new[i], a, sizeof a);
            cc_size_str(nd->mem_free_kib, b, sizeof b);
            WARN(c, loc, "node %d: guests up to '%s' (not running yet) need %s there, more than its "
                 "MemFree %s now", id, f->g->name, a, b);
        }
    }
}

const cgp_bitmap *cc_vcpu_cpus(const struct cc *c, size_t gi, unsigned v)
{
    const struct pol_guest *g = &c->p->guests[gi];
    for (size_t i = 0; i < g->n_vcpupins; i++)
        if (cgp_bitmap_test(g->vcpupins[i].vcpus, v))
            return g->vcpupins[i].cpus;
    return c->cpus[gi];
}

/* ------------------------------------------------------------------ */

static cgp_bitmap *union_of(cgp_placement *pl, const cgp_bitmap *a, const cgp_bitmap *b)
{
    cgp_bitmap *u = cgp_bitmap_dup(a);
    if (u && b && cgp_bitmap_or(u, b) < 0) {
        cgp_bitmap_free(u);
        u = NULL;
    }
    return pl_own(pl, u);
}

/* A placement-owned copy of a policy bitmap (the policy may go first). */
static const cgp_bitmap *own_copy(cgp_placement *pl, const cgp_bitmap *b)
{
    return pl_own(pl, cgp_bitmap_dup(b));
}

/* The CPUs a cell's vCPUs run on (spec §3): the guest's CPUs on the cell's
 * memory nodes, else on the CPU nodes nearest to them (least locality
 * distance summed over the cell's nodes; ties all kept), else all of the
 * guest's CPUs. A new bitmap owned by the placement, NULL on ENOMEM. */
static const cgp_bitmap *cell_cpus(struct cc *c, const cgp_bitmap *nodes, const cgp_bitmap *cpus)
{
    const struct hostview *hv = &c->hv;
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return NULL;
    uint64_t best = UINT64_MAX;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t x = 0; x < hv->n; x++) {
            const cgp_bitmap *nc = cgp_topology_node(hv->t, x)->cpus;
            if (!cgp_bitmap_overlaps(nc, cpus))
                continue;
            uint64_t d = 0;
            cgp_bitmap_foreach(nodes, id) {
                int m = hv_index(hv, id);
                d += m < 0 ? 0 : (uint64_t)hv->ldist[x * hv->n + (size_t)m];
            }
            if (pass == 0 && d < best)
                best = d;
            if (pass == 1 && d == best && cgp_bitmap_or(b, nc) < 0) {
                cgp_bitmap_free(b);
                return NULL;
            }
        }
    }
    cgp_bitmap_and(b, cpus);
    if (cgp_bitmap_is_empty(b) && cgp_bitmap_or(b, cpus) < 0) {
        cgp_bitmap_free(b);
        return NULL;
    }
    return pl_own(c->pl, b);
}

/* The guest's cells as written, for emit (the cgroups see only their nodes). */
static int build_cells(cgp_placement *pl, const struct pol_guest *g, struct gp_priv *out)
{
    if (!(out->cells = calloc(g->n_cells + 1, sizeof *out->cells)))
        return -ENOMEM;
    for (size_t i = 0; i < g->n_cells; i++) {
        const struct pol_cell *cl = &g->cells[i];
        struct cgp_cell_placement *o = &out->cells[i];
        o->index = cl->index;
        o->memory_kib = cl->memory_kib;
        o->mode = cl->mode < 0 ? out->pub.mode : (enum cgp_mem_mode)cl->mode;
        if (!(o->vcpus = own_copy(pl, cl->vcpus)) || !(o->mems = own_copy(pl, cl->nodes)))
            return -ENOMEM;
    }
    out->pub.n_cells = g->n_cells;
    out->pub.cells = out->cells;
    return 0;
}

static int build_guest(struct cc *c, size_t gi, struct gp_priv *out, const cgp_bitmap *cpus,
                       const cgp_bitmap *gmems)
{
    const struct pol_guest *g = &c->p->guests[gi];
    cgp_placement *pl = c->pl;
    struct cgp_guest_placement *pub = &out->pub;
    unsigned nv = (unsigned)g->vcpus;
    pub->name = pl_strdup(pl, g->name);
    pub->file = pl_strdup(pl, g->loc.file);
    if (!pub->name || !pub->file)
        return -ENOMEM;
    pub->line = g->loc.line;
    pub->col = g->loc.col;
    pub->n_vcpus = nv;
    pub->memory_kib = cc_guest_mem(g);
    pub->mode = g->mode < 0 ? CGP_MODE_STRICT : (enum cgp_mem_mode)g->mode;
    pub->needs_exec = pub->mode == CGP_MODE_PREFERRED || pub->mode == CGP_MODE_INTERLEAVE;
    pub->auto_placed = cc_is_auto(g);
    pub->running = c->running[gi];
    /* guest-level nodes: the guest's nodes plus every cell's */
    cgp_bitmap *mems = union_of(pl, gmems, NULL);
    if (!mems)
        return -ENOMEM;
    for (size_t i = 0; i < g->n_cells; i++)
        if (cgp_bitmap_or(mems, g->cells[i].nodes) < 0)
            return -ENOMEM;
    const cgp_bitmap *emu = g->emulatorpin ? own_copy(pl, g->emulatorpin) : cpus;
    const cgp_bitmap **pins = calloc(g->n_vcpupins + 1, sizeof *pins);
    const cgp_bitmap **cells = calloc(g->n_cells + 1, sizeof *cells);
    bool ok = emu && pins && cells;
    for (size_t i = 0; ok && i < g->n_vcpupins; i++)
        ok = (pins[i] = own_copy(pl, g->vcpupins[i].cpus)) != NULL;
    for (size_t i = 0; ok && i < g->n_cells; i++)
        ok = (cells[i] = own_copy(pl, g->cells[i].nodes)) != NULL;
    if (!ok) {
        free(pins);
        free(cells);
        return -ENOMEM;
    }
    pub->cpus = cpus;
    pub->mems = mems;
    pub->emulator.cpus = emu;
    pub->emulator.mems = mems;
    if (!(out->vcpu = calloc(nv ? nv : 1, sizeof *out->vcpu))) {
        free(pins);
        free(cells);
        return -ENOMEM;
    }
    const cgp_bitmap **ccpus = calloc(g->n_cells + 1, sizeof *ccpus);
    for (size_t i = 0; ccpus && i < g->n_cells; i++)
        if (!(ccpus[i] = cell_cpus(c, g->cells[i].nodes, cpus))) {
            free(ccpus);
            ccpus = NULL;
        }
    if (!ccpus) {
        free(pins);
        free(cells);
        return -ENOMEM;
    }
    for (unsigned v = 0; v < nv; v++) {
        out->vcpu[v].cpus = cpus;
        out->vcpu[v].mems = mems;
        for (size_t i = 0; i < g->n_cells; i++)
            if (cgp_bitmap_test(g->cells[i].vcpus, v))
                out->vcpu[v].cpus = ccpus[i];
        for (size_t i = 0; i < g->n_vcpupins; i++)
            if (cgp_bitmap_test(g->vcpupins[i].vcpus, v))
                out->vcpu[v].cpus = pins[i];
        if (pub->mode == CGP_MODE_RESTRICTIVE) {
            out->vcpu[v].mems = gmems ? gmems : mems;
            for (size_t i = 0; i < g->n_cells; i++)
                if (cgp_bitmap_test(g->cells[i].vcpus, v))
                    out->vcpu[v].mems = cells[i];
        }
    }
    free(pins);
    free(cells);
    free(ccpus);
    pub->vcpu = out->vcpu;
    pub->n_iothreads = g->n_iopins;
    if (!(out->io = calloc(g->n_iopins ? g->n_iopins : 1, sizeof *out->io)))
        return -ENOMEM;
    for (size_t i = 0; i < g->n_iopins; i++) {
        out->io[i].id = pl_strdup(pl, g->iopins[i].id);
        if (!out->io[i].id)
            return -ENOMEM;
        if (!(out->io[i].cpus = own_copy(pl, g->iopins[i].cpus)))
            return -ENOMEM;
        out->io[i].mems = mems;
    }
    pub->iothreads = out->io;
    size_t nm = g->n_matches ? g->n_matches : 1;
    if (!(out->matches = calloc(nm, sizeof *out->matches)))
        return -ENOMEM;
    if (!g->n_matches) {
        out->matches[0] = (struct cgp_match){ CGP_MATCH_NAME, pub->name };
    } else {
        for (size_t i = 0; i < nm; i++) {
            out->matches[i].kind = g->matches[i].kind;
            if (!(out->matches[i].value = pl_strdup(pl, g->matches[i].value)))
                return -ENOMEM;
        }
    }
    pub->n_matches = nm;
    pub->matches = out->matches;
    return build_cells(pl, g, out);
}

CGP_EXPORT int cgp_policy_compile(const cgp_policy *p, const cgp_topology *t, cgp_diags *diags,
                                  cgp_placement **out)
{
    return cgp_policy_compile_running(p, t, NULL, NULL, 0, diags, out);
}

CGP_EXPORT int cgp_policy_compile_running(const cgp_policy *p, const cgp_topology *t, cgp_ctx *ctx,
                                          const struct cgp_guest *const *procs, size_t n_procs,
                                          cgp_diags *diags, cgp_placement **out)
{
    if (!p || !t || !diags || !out || (n_procs && (!procs || !ctx)))
        return -EINVAL;
    size_t errors_before = cgp_diags_errors(diags);
    cgp_placement *pl = calloc(1, sizeof *pl);
    if (!pl)
        return -ENOMEM;
    struct cc c = { .p = p, .t = t, .d = diags, .pl = pl };
    size_t n = p->n_guests;
    c.cpus = calloc(n ? n : 1, sizeof *c.cpus);
    c.mems = calloc(n ? n : 1, sizeof *c.mems);
    c.bad = calloc(n ? n : 1, sizeof *c.bad);
    c.running = calloc(n ? n : 1, sizeof *c.running);
    c.why = calloc(n ? n : 1, sizeof *c.why);
    int r = 0;
    if (!c.cpus || !c.mems || !c.bad || !c.running || !c.why) {
        r = -ENOMEM;
        goto done;
    }
    if ((r = pl_trust_settings(pl, &p->host)) < 0 ||
        (r = pl_match_procs(pl, p, ctx, procs, n_procs, c.running)) < 0)
        goto done;

    /* host settings */
    const struct pol_host *h = &p->host;
    pl->host.reserved_cpus = pl_own(pl, h->reserve_cpus ? cgp_bitmap_dup(h->reserve_cpus) : cgp_bitmap_new());
    pl->host.reserve_memory_kib = h->has_reserve_mem ? h->reserve_mem_kib : 0;
    pl->host.parent = pl_strdup(pl, h->parent ? h->parent : "cgplace");
    pl->host.unmanaged = h->unmanaged < 0                        ? CGP_UNMANAGED_WARN
                         : h->unmanaged == POL_UNMANAGED_DENY_ALL ? CGP_UNMANAGED_DENY
                                                                  : (enum cgp_unmanaged)h->unmanaged;
    pl->host.unmanaged_libvirt = h->unmanaged == POL_UNMANAGED_DENY_ALL;
    pl->host.overcommit_milli = h->overcommit_milli ? h->overcommit_milli : 1000;
    pl->host.libvirt_persist = h->libvirt == 1;
    pl->host.backend = h->backend < 0 ? CGP_BACKEND_AUTO : (enum cgp_backend)h->backend;
    pl->host.slice = pl_strdup(pl, h->slice ? h->slice : "cgplace.slice");
    pl->host.confine_host = h->confine_host;
    pl->host.oversubscribe_deny = h->oversubscribe == 1;
    pl->host.register_machine = h->machined == 1;
    pl->host.qmp_timeout_ms = h->qmp_timeout_ms ? h->qmp_timeout_ms : CGP_QMP_DEFAULT_TIMEOUT_MS;
    pl->host.trust = &pl->trust;
    if (h->confine_host && !h->reserve_cpus)
        ERR(&c, &h->confine_loc, "'confine host' needs 'reserve cpus LIST': the host is confined to the "
                 "reserved CPUs");
    if (!pl->host.reserved_cpus || !pl->host.parent || !pl->host.slice) {
        r = -ENOMEM;
        goto done;
    }
    if (h->reserve_cpus) {
        const cgp_bitmap *present = cgp_topology_cpus_present(t);
        if (!cgp_bitmap_subset(h->reserve_cpus, present)) {
            cgp_bitmap *x CGP_AUTOBITMAP = cgp_bitmap_dup(h->reserve_cpus);
            if (!x) {
                r = -ENOMEM;
                goto done;
            }
            cgp_bitmap_andnot(x, present);
            char *s CGP_AUTOFREE = fmt(x), *hs CGP_AUTOFREE = fmt(present);
            ERR(&c, &h->reserve_cpus_loc, "reserved CPU%s %s %s not exist on this host (present CPUs: %s)",
                plural(x) ? "s" : "", s ? s : "?", plural(x) ? "do" : "does", hs ? hs : "?");
        }
    }
    if ((r = hv_init(&c.hv, t, pl->host.reserved_cpus, pl->host.overcommit_milli,
                     pl->host.reserve_memory_kib)) < 0)
        goto done;
    if (h->has_reserve_mem) {
        for (size_t i = 0; i < c.hv.n; i++) {
            const struct cgp_node *nd = cgp_topology_node(t, i);
            if (c.hv.has_mem[i] && nd->mem_total_kib <= h->reserve_mem_kib) {
                char a[32], b[32];
                cc_size_str(h->reserve_mem_kib, a, sizeof a);
                cc_size_str(nd->mem_total_kib, b, sizeof b);
                ERR(&c, &h->reserve_mem_loc, "reserve memory %s leaves nothing on node %d (MemTotal %s)",
                    a, nd->id, b);
                break;
            }
        }
    }

    /* static checks, explicit CPUs */
    cc_check_duplicates(&c);
    for (size_t i = 0; i < n && !c.err; i++) {
        cc_check_guest_static(&c, i);
        if (!c.bad[i])
            cc_resolve_cpus(&c, i);
    }
    if (c.err)
        goto done;
    cc_check_overlaps(&c);

    /* explicit CPUs count per CPU, before auto (which avoids the CPUs
     * other guests pin vCPUs to) */
    for (size_t i = 0; i < n; i++) {
        if (c.bad[i] || !c.cpus[i])
            continue;
        for (unsigned v = 0; v < (unsigned)p->guests[i].vcpus; v++)
            hv_commit_vcpu(&c.hv, cc_vcpu_cpus(&c, i, v));
    }
    cc_check_commitments(&c);
    /* explicit memory nodes and local nodes of explicit-CPU guests; commit */
    for (size_t i = 0; i < n && !c.err; i++) {
        const struct pol_guest *g = &p->guests[i];
        if (c.bad[i] || cc_is_auto(g))
            continue;
        cgp_bitmap *cn CGP_AUTOBITMAP = NULL;
        if ((r = hv_nodes_of_cpus(&c.hv, c.cpus[i], &cn)) < 0)
            goto done;
        if (g->nodes_kind == POL_NODES_LIST) {
            c.mems[i] = cgp_bitmap_dup(g->nodes);
        } else if ((r = hv_local_mems(&c.hv, cn, &c.mems[i])) < 0) {
            goto done;
        }
        if (!c.mems[i]) {
            r = -ENOMEM;
            goto done;
        }
        if (cgp_bitmap_is_empty(c.mems[i]) && !g->n_cells) {
            ERR(&c, g->has_memory ? &g->mem_loc : &g->loc, "guest '%s': no node with memory is "
                "near its CPUs", g->name);
            c.bad[i] = true;
            continue;
        }
        cc_guest_mem_parts(g, c.mems[i], cc_commit_mem_cb, &c.hv);
    }
    /* auto guests' explicit memory (nodes N, cells) is a commitment too */
    for (size_t i = 0; i < n && !c.err; i++) {
        const struct pol_guest *g = &p->guests[i];
        if (!c.bad[i] && cc_is_auto(g) && (g->nodes_kind == POL_NODES_LIST || g->n_cells))
            cc_guest_mem_parts(g, g->nodes, cc_commit_mem_cb, &c.hv);
    }
    if ((r = hv_tiers(&c.hv)) < 0)
        goto done;

    /* auto guests: by memory, then vCPUs (both descending), then name */
    if ((r = cc_place_auto(&c)) < 0)
        goto done;
    if (c.err)
        goto done;

    /* pins within the resolved CPUs; strict memory fits per node */
    for (size_t i = 0; i < n; i++)
        if (!c.bad[i] && c.cpus[i])
            cc_check_pins(&c, i);
    {
        size_t nn = c.hv.n ? c.hv.n : 1;
        uint64_t *used CGP_AUTOFREE = calloc(nn, sizeof *used);
        uint64_t *used_new CGP_AUTOFREE = calloc(nn, sizeof *used_new);
        bool *rep CGP_AUTOFREE = calloc(nn, sizeof *rep);
        bool *warned CGP_AUTOFREE = calloc(nn, sizeof *warned);
        if (!used || !used_new || !rep || !warned) {
            r = -ENOMEM;
            goto done;
        }
        struct fit f = { .c = &c, .used = used, .used_new = used_new, .reported = rep, .warned = warned };
        for (size_t i = 0; i < n; i++) {
            const struct pol_guest *g = &p->guests[i];
            int mode = g->mode < 0 ? CGP_MODE_STRICT : g->mode;
            if (c.bad[i] || (mode != CGP_MODE_STRICT && mode != CGP_MODE_RESTRICTIVE))
                continue;
            f.g = g;
            f.running = c.running[i];
            cc_guest_mem_parts(g, c.mems[i], fit_cb, &f);
        }
    }
    if (c.err)
        goto done;
    if (cgp_diags_errors(diags) > errors_before) {
        r = -EINVAL;
        goto done;
    }

    /* build: the placement owns the resolved sets */
    if (!(pl->g = calloc(n ? n : 1, sizeof *pl->g))) {
        r = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        pl->n = i + 1;
        cgp_bitmap *cb = CGP_STEAL(c.cpus[i]), *mb = CGP_STEAL(c.mems[i]);
        const cgp_bitmap *cp = pl_own(pl, cb);
        if (!cp) {
            cgp_bitmap_free(mb);
            r = -ENOMEM;
            goto done;
        }
        const cgp_bitmap *mp = pl_own(pl, mb);
        if (!mp) {
            r = -ENOMEM;
            goto done;
        }
        if ((r = build_guest(&c, i, &pl->g[i], cp, mp)) < 0)
            goto done;
        pl->g[i].why = c.why[i];
        c.why[i].tr = NULL;
    }
    pl_assign_procs(pl);
    r = 0;
done:
    if (r == 0 && c.err)
        r = c.err;
    hv_clear(&c.hv);
    for (size_t i = 0; c.cpus && i < n; i++) {
        cgp_bitmap_free(c.cpus[i]);
        cgp_bitmap_free(c.mems[i]);
    }
    free(c.cpus);
    free(c.mems);
    free(c.bad);
    free(c.running);
    for (size_t i = 0; c.why && i < n; i++)
        free(c.why[i].tr);
    free(c.why);
    if (r < 0) {
        cgp_placement_free(pl);
        return r;
    }
    *out = pl;
    return 0;
}
