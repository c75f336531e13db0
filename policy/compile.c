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

struct order_ctx {
    const cgp_policy *p;
};

static int cmp_auto(const void *a, const void *b, void *arg)
{
    const cgp_policy *p = arg;
    const struct pol_guest *x = &p->guests[*(const size_t *)a], *y = &p->guests[*(const size_t *)b];
    uint64_t mx = cc_guest_mem(x), my = cc_guest_mem(y);
    if (mx != my)
        return mx > my ? -1 : 1;
    if (x->vcpus != y->vcpus)
        return x->vcpus > y->vcpus ? -1 : 1;
    int r = strcmp(x->name, y->name);
    if (r)
        return r;
    return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/* Memory nodes a guest's memory is accounted on: (nodes, kib) pairs via cb. */
static void guest_mem_parts(const struct pol_guest *g, const cgp_bitmap *mems,
                            void (*cb)(void *, const cgp_bitmap *, uint64_t, const struct pol_loc *),
                            void *arg)
{
    if (g->n_cells) {
        for (size_t i = 0; i < g->n_cells; i++)
            if (g->cells[i].nodes)
                cb(arg, g->cells[i].nodes, g->cells[i].memory_kib, &g->cells[i].mem_loc);
    } else if (g->has_memory && mems) {
        cb(arg, mems, g->memory_kib, &g->mem_loc);
    }
}

static void commit_cb(void *arg, const cgp_bitmap *nodes, uint64_t kib, const struct pol_loc *loc)
{
    (void)loc;
    hv_commit(arg, NULL, 0, nodes, kib);
}

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

/* ------------------------------------------------------------------ */
/* auto placement */

/* Record guest gi's solved nodes (cn: CPU node ids, mn: memory node ids,
 * taken) and commit them to the host view. */
static int apply_auto(struct cc *c, size_t gi, const cgp_bitmap *cn, cgp_bitmap *mn)
{
    const struct pol_guest *g = &c->p->guests[gi];
    if (g->cpus_kind == POL_CPUS_AUTO) {
        cgp_bitmap *cpus = cgp_bitmap_new();
        if (!cpus) {
            cgp_bitmap_free(mn);
            return -ENOMEM;
        }
        cgp_bitmap_foreach(cn, id) {
            int x = hv_index(&c->hv, id);
            if (x >= 0)
                oom(c, cgp_bitmap_or(cpus, c->hv.ucpus[x]));
        }
        c->cpus[gi] = cpus;
    }
    if (g->nodes_kind == POL_NODES_LIST) {
        cgp_bitmap_free(mn);
        c->mems[gi] = cgp_bitmap_dup(g->nodes);
    } else {
        c->mems[gi] = mn;
    }
    if (!c->mems[gi])
        return -ENOMEM;
    hv_commit(&c->hv, cn, (unsigned)g->vcpus, NULL, 0);
    guest_mem_parts(g, c->mems[gi], commit_cb, &c->hv);
    return 0;
}

/* Copy the host view's capacities to/from buf (3 x n). */
static void hv_state(struct hostview *hv, int64_t *buf, bool save)
{
    size_t n = hv->n;
    int64_t *v[3] = { hv->cap_milli, hv->mem_avail, hv->mem_free };
    for (int k = 0; k < 3; k++) {
        if (save)
            memcpy(buf + k * n, v[k], n * sizeof *buf);
        else
            memcpy(v[k], buf + k * n, n * sizeof *buf);
    }
}

/* Spec §3: one guest at a time, in order, each with solve_one(). Where that
 * leaves some guest without a placement, solve_all() searches (bounded) for
 * a placement of all the auto guests at once; only when it finds none are
 * the guests the first pass could not place reported. */
static int place_auto(struct cc *c)
{
    const cgp_policy *p = c->p;
    size_t n = p->n_guests, nn = c->hv.n ? c->hv.n : 1;
    size_t *order CGP_AUTOFREE = calloc(n ? n : 1, sizeof *order);
    bool *failed CGP_AUTOFREE = calloc(n ? n : 1, sizeof *failed);
    cgp_bitmap **fixed CGP_AUTOFREE = calloc(n ? n : 1, sizeof *fixed);
    int64_t *before CGP_AUTOFREE = malloc(3 * nn * sizeof *before);
    if (!order || !failed || !fixed || !before)
        return -ENOMEM;
    size_t na = 0, nfail = 0;
    bool cells = false;
    for (size_t i = 0; i < n; i++)
        if (!c->bad[i] && cc_is_auto(&p->guests[i])) {
            order[na++] = i;
            cells |= p->guests[i].n_cells > 0;
        }
    qsort_r(order, na, sizeof *order, cmp_auto, (void *)p);
    hv_state(&c->hv, before, true);
    int r = 0;
    for (size_t k = 0; k < na && !c->err && r == 0; k++) {
        size_t i = order[k];
        const struct pol_guest *g = &p->guests[i];
        if (g->cpus_kind != POL_CPUS_AUTO && (r = hv_nodes_of_cpus(&c->hv, c->cpus[i], &fixed[k])) < 0)
            break;
        struct solve_req rq = {
            .vcpus = (unsigned)g->vcpus,
            .mem_kib = cc_guest_mem(g),
            .fixed_cpu_nodes = fixed[k],
            .fixed_mem_nodes = g->nodes_kind == POL_NODES_LIST ? g->nodes : NULL,
        };
        cgp_bitmap *cn CGP_AUTOBITMAP = NULL, *mn = NULL;
        r = solve_one(&c->hv, &rq, &cn, &mn);
        if (r == -ENOSPC) {
            r = 0;
            failed[k] = true;
            nfail++;
            continue;
        }
        if (r == 0)
            r = apply_auto(c, i, cn, mn);
    }

    /* the fallback: cells commit memory per cell, which it does not model */
    if (r == 0 && !c->err && nfail && !cells) {
        struct solve_req *rq CGP_AUTOFREE = calloc(na, sizeof *rq);
        cgp_bitmap **cn CGP_AUTOFREE = calloc(na, sizeof *cn);
        cgp_bitmap **mn CGP_AUTOFREE = calloc(na, sizeof *mn);
        int64_t *after CGP_AUTOFREE = malloc(3 * nn * sizeof *after);
        if (!rq || !cn || !mn || !after)
            r = -ENOMEM;
        for (size_t k = 0; r == 0 && k < na; k++) {
            const struct pol_guest *g = &p->guests[order[k]];
            rq[k] = (struct solve_req){
                .vcpus = (unsigned)g->vcpus,
                .mem_kib = cc_guest_mem(g),
                .fixed_cpu_nodes = fixed[k],
                .fixed_mem_nodes = g->nodes_kind == POL_NODES_LIST ? g->nodes : NULL,
            };
        }
        if (r == 0) {
            hv_state(&c->hv, after, true);
            hv_state(&c->hv, before, false);
            r = solve_all(&c->hv, rq, na, SOLVE_ALL_BUDGET, cn, mn);
            if (r == 0) {
                /* replace the first pass's placements */
                for (size_t k = 0; k < na; k++) {
                    size_t i = order[k];
                    if (p->guests[i].cpus_kind == POL_CPUS_AUTO) {
                        cgp_bitmap_free(c->cpus[i]);
                        c->cpus[i] = NULL;
                    }
                    cgp_bitmap_free(c->mems[i]);
                    c->mems[i] = NULL;
                    failed[k] = false;
                }
                nfail = 0;
                for (size_t k = 0; k < na && r == 0; k++) {
                    r = apply_auto(c, order[k], cn[k], CGP_STEAL(mn[k]));
                }
            } else if (r == -ENOSPC) {
                r = 0;
                hv_state(&c->hv, after, false);
            }
            for (size_t k = 0; k < na; k++) {
                cgp_bitmap_free(cn[k]);
                cgp_bitmap_free(mn[k]);
            }
        }
    }
    for (size_t k = 0; k < na; k++)
        cgp_bitmap_free(fixed[k]);
    if (r < 0)
        return r;

    for (size_t k = 0; k < na && nfail; k++) {
        if (!failed[k])
            continue;
        const struct pol_guest *g = &p->guests[order[k]];
        char a[32];
        cc_size_str(cc_guest_mem(g), a, sizeof a);
        const struct pol_loc *loc = g->cpus_kind == POL_CPUS_AUTO ? &g->cpus_loc : &g->nodes_loc;
        ERR(c, loc, "no placement exists for guest '%s' (%ld vCPU%s, %s): no set of nodes has "
            "enough free vCPU capacity (overcommit %u.%03u) and memory after the reserve and "
            "the guests placed before it", g->name, g->vcpus, g->vcpus == 1 ? "" : "s", a,
            c->pl->host.overcommit_milli / 1000, c->pl->host.overcommit_milli % 1000);
        c->bad[order[k]] = true;
    }
    return 0;
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
    for (unsigned v = 0; v < nv; v++) {
        out->vcpu[v].cpus = cpus;
        out->vcpu[v].mems = mems;
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
    return 0;
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
    int r = 0;
    if (!c.cpus || !c.mems || !c.bad || !c.running) {
        r = -ENOMEM;
        goto done;
    }
    if ((r = pl_match_procs(pl, p, ctx ? ctx->root_fd : -1, procs, n_procs, c.running)) < 0)
        goto done;

    /* host settings */
    const struct pol_host *h = &p->host;
    pl->host.reserved_cpus = pl_own(pl, h->reserve_cpus ? cgp_bitmap_dup(h->reserve_cpus) : cgp_bitmap_new());
    pl->host.reserve_memory_kib = h->has_reserve_mem ? h->reserve_mem_kib : 0;
    pl->host.parent = pl_strdup(pl, h->parent ? h->parent : "cgplace");
    pl->host.unmanaged = h->unmanaged < 0 ? CGP_UNMANAGED_WARN : (enum cgp_unmanaged)h->unmanaged;
    pl->host.overcommit_milli = h->overcommit_milli ? h->overcommit_milli : 1000;
    pl->host.libvirt_persist = h->libvirt == 1;
    pl->host.backend = h->backend < 0 ? CGP_BACKEND_AUTO : (enum cgp_backend)h->backend;
    pl->host.slice = pl_strdup(pl, h->slice ? h->slice : "cgplace.slice");
    pl->host.confine_host = h->confine_host;
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
        hv_commit(&c.hv, cn, (unsigned)g->vcpus, NULL, 0);
        guest_mem_parts(g, c.mems[i], commit_cb, &c.hv);
    }

    /* auto guests: by memory, then vCPUs (both descending), then name */
    if ((r = place_auto(&c)) < 0)
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
            guest_mem_parts(g, c.mems[i], fit_cb, &f);
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
    if (r < 0) {
        cgp_placement_free(pl);
        return r;
    }
    *out = pl;
    return 0;
}
