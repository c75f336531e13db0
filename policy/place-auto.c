/* `auto` placement of a policy's guests (spec §3): one guest at a time with
 * solve_place() (solver.c), in order of memory, then vCPUs (both
 * descending), then name. That is locally optimal as it is: when a guest is
 * solved again with every other guest where it is, what fits is a subset of
 * what fitted when it was placed (the guests after it only took room), and
 * its place still fits, so it is still the best.
 * Where that pass leaves a guest without a place, or on CPUs others pin to,
 * the bounded search over all of them (solve_all(), solver-all.c) looks for
 * a placement, first off the pinned CPUs. Then, on small hosts, a bounded
 * branch and bound (solve_best(), solver-best.c) looks for less total
 * distance. After a search whose result is not (or not wholly) chosen by
 * distance, guests are moved one at a time wherever a placement strictly
 * nearer (or in a better CPU tier) fits with every other guest where it is,
 * until none moves (bounded rounds). */
#include "compile-int.h"

#include <errno.h>
#include <string.h>

/* rounds of the move pass (each re-solves every guest not yet at the least distance) */
#define MOVE_ROUNDS 4

struct pa {
    size_t gi;
    struct solve_req rq;
    cgp_bitmap *fixed_cpu_nodes;   /* explicit CPUs: their nodes */
    cgp_bitmap *cell_nodes;        /* cells without `nodes`: their union */
    struct solved s;
    struct hv_loads rec;
    struct solve_trace tr;
    bool placed;
};

static int cmp_auto(const void *a, const void *b, void *arg)
{
    const cgp_policy *p = arg;
    const struct pol_guest *x = &p->guests[((const struct pa *)a)->gi];
    const struct pol_guest *y = &p->guests[((const struct pa *)b)->gi];
    uint64_t mx = cc_guest_mem(x), my = cc_guest_mem(y);
    if (mx != my)
        return mx > my ? -1 : 1;
    if (x->vcpus != y->vcpus)
        return x->vcpus > y->vcpus ? -1 : 1;
    int r = strcmp(x->name, y->name);
    if (r)
        return r;
    size_t ia = ((const struct pa *)a)->gi, ib = ((const struct pa *)b)->gi;
    return (ia > ib) - (ia < ib);
}

void cc_guest_mem_parts(const struct pol_guest *g, const cgp_bitmap *mems,
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

void cc_commit_mem_cb(void *arg, const cgp_bitmap *nodes, uint64_t kib, const struct pol_loc *loc)
{
    (void)loc;
    hv_commit_mem(arg, nodes, kib, +1);
}

static void uncommit_mem_cb(void *arg, const cgp_bitmap *nodes, uint64_t kib, const struct pol_loc *loc)
{
    (void)loc;
    hv_commit_mem(arg, nodes, kib, -1);
}

/* The memory nodes a's guest gets from s. */
static const cgp_bitmap *pa_mems(const struct cc *c, const struct pa *a)
{
    const struct pol_guest *g = &c->p->guests[a->gi];
    return g->nodes_kind == POL_NODES_LIST ? g->nodes : a->s.mem_nodes;
}

/* Commit a's placement; with rec, what it puts on each CPU is recorded (to
 * take it back: only the move pass needs that). */
static int pa_commit(struct cc *c, struct pa *a, bool rec)
{
    const struct pol_guest *g = &c->p->guests[a->gi];
    a->rec.n = 0;
    if (a->s.cpus) {
        int r = hv_commit_auto(&c->hv, a->s.cpu_nodes, a->s.cpus, (unsigned)g->vcpus, rec ? &a->rec : NULL);
        if (r < 0)
            return r;
    }
    if (!a->rq.fixed_mem_nodes) /* fixed memory is committed with the fixed guests */
        cc_guest_mem_parts(g, pa_mems(c, a), cc_commit_mem_cb, &c->hv);
    a->placed = true;
    return 0;
}

static void pa_uncommit(struct cc *c, struct pa *a)
{
    const struct pol_guest *g = &c->p->guests[a->gi];
    hv_uncommit(&c->hv, &a->rec);
    a->rec.n = 0;
    if (!a->rq.fixed_mem_nodes)
        cc_guest_mem_parts(g, pa_mems(c, a), uncommit_mem_cb, &c->hv);
    a->placed = false;
}

/* Move each guest where it is strictly better off, the others staying.
 * The commitments are made again from before, recorded. */
static int move_pass(struct cc *c, struct pa *v, size_t na, const struct hv_saved *before)
{
    hv_restore(&c->hv, before);
    for (size_t k = 0; k < na; k++) {
        int r = pa_commit(c, &v[k], true);
        if (r < 0)
            return r;
    }
    for (int round = 0; round < MOVE_ROUNDS; round++) {
        bool moved = false;
        for (size_t k = 0; k < na; k++) {
            struct pa *a = &v[k];
            if (a->s.tier == 0 && a->s.dist <= (uint64_t)c->hv.min_pair)
                continue; /* nothing is nearer */
            pa_uncommit(c, a);
            struct solved s = { 0 };
            struct solve_trace tr;
            int r = solve_place(&c->hv, &a->rq, &s, &tr);
            if (r < 0 && r != -ENOSPC)
                return r;
            if (r == 0 && (s.tier < a->s.tier || (s.tier == a->s.tier && s.dist < a->s.dist))) {
                solved_clear(&a->s);
                a->s = s;
                a->tr = tr;
                moved = true;
            } else if (r == 0) {
                solved_clear(&s);
            }
            if ((r = pa_commit(c, a, true)) < 0)
                return r;
        }
        if (!moved)
            break;
    }
    return 0;
}

/* Replace every guest's placement with cn[k]/mn[k] (taken) from a search
 * over all of them (tier: the CPU tier it saw), and commit them. r: what
 * the search returned (< 0: only clear). */
static int pa_replace(struct cc *c, struct pa *v, size_t na, cgp_bitmap **cn, cgp_bitmap **mn, unsigned tier,
                      bool best, int r)
{
    for (size_t k = 0; k < na; k++) {
        struct pa *a = &v[k];
        solved_clear(&a->s);
        a->placed = false;
        a->rec.n = 0;
        memset(&a->tr, 0, sizeof a->tr);
        a->tr.best = best;
        if (r < 0)
            continue;
        a->s.cpu_nodes = CGP_STEAL(cn[k]);
        a->s.mem_nodes = CGP_STEAL(mn[k]);
        a->s.dist = hv_cost(&c->hv, a->s.cpu_nodes, a->s.mem_nodes);
        a->s.tier = tier;
        if (a->rq.fixed_cpu_nodes)
            continue;
        if (!(a->s.cpus = cgp_bitmap_new()))
            r = -ENOMEM;
        cgp_bitmap_foreach(a->s.cpu_nodes, id) {
            int x = hv_index(&c->hv, id);
            if (r == 0 && x >= 0)
                r = cgp_bitmap_or(a->s.cpus, c->hv.ucpus[x]);
        }
    }
    for (size_t k = 0; k < na && r == 0; k++)
        r = pa_commit(c, &v[k], false);
    for (size_t k = 0; k < na; k++) {
        cgp_bitmap_free(cn[k]);
        cgp_bitmap_free(mn[k]);
    }
    return r;
}

/* The fallback: every auto guest at once, in CPU tier `tier` (cells commit
 * memory per cell, which it does not model). Replaces the first pass's
 * placements when it finds one (*found). */
static int place_all(struct cc *c, struct pa *v, size_t na, const struct hv_saved *before, unsigned tier,
                     bool *found)
{
    cgp_bitmap **cn CGP_AUTOFREE = calloc(na, sizeof *cn);
    cgp_bitmap **mn CGP_AUTOFREE = calloc(na, sizeof *mn);
    struct solve_req *rq CGP_AUTOFREE = calloc(na, sizeof *rq);
    struct hv_saved after = { 0 };
    int r = cn && mn && rq ? hv_save(&c->hv, &after) : -ENOMEM;
    if (r < 0)
        return r;
    for (size_t k = 0; k < na; k++) {
        rq[k] = v[k].rq;
        if (rq[k].fixed_mem_nodes)
            rq[k].mem_kib = 0; /* already committed */
    }
    hv_restore(&c->hv, before);
    hv_set_tier(&c->hv, tier);
    r = solve_all(&c->hv, rq, na, SOLVE_ALL_BUDGET, cn, mn);
    *found = r == 0;
    if (r == -ENOSPC) {
        hv_set_tier(&c->hv, 0);
        hv_restore(&c->hv, &after);
        hv_saved_free(&after);
        return 0;
    }
    r = pa_replace(c, v, na, cn, mn, tier, false, r); /* the CPUs of that tier */
    hv_set_tier(&c->hv, 0);
    hv_saved_free(&after);
    return r;
}

/* On small hosts, a placement of every auto guest with less total
 * distance than they have (solve_best()), when one is found: replaces
 * theirs, then moves one guest at a time (the search may be cut short).
 * Only for guests with cpus auto, no cells, placed in tier 0 (or on a host
 * whose tiers are all the same). 0: replaced; 1: left as they were; or
 * -ENOMEM. */
static int place_best(struct cc *c, struct pa *v, size_t na, const struct hv_saved *before)
{
    uint64_t total = 0;
    for (size_t k = 0; k < na; k++) {
        const struct pol_guest *g = &c->p->guests[v[k].gi];
        if (g->cpus_kind != POL_CPUS_AUTO || g->n_cells ||
            (v[k].s.tier != 0 && !(c->hv.tier_same[0] && c->hv.tier_same[1])))
            return 1; /* not searched: a guest in another tier, or fixed */
        total += v[k].s.dist;
    }
    cgp_bitmap **cn CGP_AUTOFREE = calloc(na, sizeof *cn);
    cgp_bitmap **mn CGP_AUTOFREE = calloc(na, sizeof *mn);
    struct solve_req *rq CGP_AUTOFREE = calloc(na, sizeof *rq);
    struct hv_saved after = { 0 };
    int r = cn && mn && rq ? hv_save(&c->hv, &after) : -ENOMEM;
    if (r < 0)
        return r;
    for (size_t k = 0; k < na; k++)
        rq[k] = v[k].rq;
    hv_restore(&c->hv, before);
    r = solve_best(&c->hv, rq, na, total, SOLVE_BEST_BUDGET, cn, mn);
    if (r == -ENOSPC || r == -E2BIG) {
        hv_restore(&c->hv, &after);
        hv_saved_free(&after);
        return 1;
    }
    hv_saved_free(&after);
    r = pa_replace(c, v, na, cn, mn, 0, true, r);
    return r == 0 ? move_pass(c, v, na, before) : r;
}


/* Keep why a guest went where it did, for cgp_placement_reason(): the
 * fast path's node, else the solver's trace with node ids. */
static int pa_keep_trace(struct cc *c, const struct pa *a)
{
    const struct solve_trace *t = &a->tr;
    struct why w = { .set = true, .fast = t->fast, .dist = a->s.dist, .tier = a->s.tier, .best = t->best,
                     .all = !t->n && !t->best };
    if (t->fast && t->n) {
        w.node = c->hv.id[t->c[0].cn[0]];
        w.left = t->c[0].cpu_left;
    } else if (t->n) {
        if (!(w.tr = malloc(sizeof *w.tr)))
            return -ENOMEM;
        *w.tr = *t;
        for (size_t i = 0; i < t->n; i++) {
            for (size_t x = 0; x < t->c[i].ncn && x < 8; x++)
                w.tr->c[i].cn[x] = (uint32_t)c->hv.id[t->c[i].cn[x]];
            for (size_t y = 0; y < t->c[i].nmn && y < 8; y++)
                w.tr->c[i].mn[y] = (uint32_t)c->hv.id[t->c[i].mn[y]];
        }
    }
    c->why[a->gi] = w;
    return 0;
}

int cc_place_auto(struct cc *c)
{
    const cgp_policy *p = c->p;
    size_t n = p->n_guests;
    struct pa *v CGP_AUTOFREE = calloc(n ? n : 1, sizeof *v);
    struct hv_saved before = { 0 };
    if (!v)
        return -ENOMEM;
    size_t na = 0, nfail = 0;
    bool cells = false;
    int r = 0;
    for (size_t i = 0; i < n; i++)
        if (!c->bad[i] && cc_is_auto(&p->guests[i]))
            v[na++].gi = i;
    qsort_r(v, na, sizeof *v, cmp_auto, (void *)p);
    for (size_t k = 0; k < na && r == 0; k++) {
        struct pa *a = &v[k];
        const struct pol_guest *g = &p->guests[a->gi];
        cells |= g->n_cells > 0;
        if (g->cpus_kind != POL_CPUS_AUTO)
            r = hv_nodes_of_cpus(&c->hv, c->cpus[a->gi], &a->fixed_cpu_nodes);
        if (r == 0 && g->n_cells && g->nodes_kind != POL_NODES_LIST) {
            if (!(a->cell_nodes = cgp_bitmap_new()))
                r = -ENOMEM;
            for (size_t i = 0; r == 0 && i < g->n_cells; i++)
                r = cgp_bitmap_or(a->cell_nodes, g->cells[i].nodes);
        }
        a->rq = (struct solve_req){
            .vcpus = (unsigned)g->vcpus,
            .mem_kib = cc_guest_mem(g),
            .fixed_cpu_nodes = a->fixed_cpu_nodes,
            .fixed_mem_nodes = g->nodes_kind == POL_NODES_LIST ? g->nodes : a->cell_nodes,
        };
    }
    if (r == 0)
        r = hv_save(&c->hv, &before);
    for (size_t k = 0; k < na && r == 0; k++) {
        struct pa *a = &v[k];
        r = solve_place(&c->hv, &a->rq, &a->s, &a->tr);
        if (r == -ENOSPC) {
            r = 0;
            nfail++;
            continue;
        }
        if (r == 0)
            r = pa_commit(c, a, false);
    }
    /* a guest without a place, or on pinned CPUs: all of them at once, off
     * the pinned CPUs if that fits, else anywhere */
    bool off_tier = nfail > 0, searched = false;
    for (size_t k = 0; k < na; k++)
        off_tier |= v[k].placed && v[k].s.tier > 0;
    bool same = c->hv.tier_same[0] && c->hv.tier_same[1];
    for (unsigned tier = 0; tier <= 2 && r == 0 && off_tier && !cells; tier += 2) {
        if (tier == 2 && (same || !nfail))
            break;
        bool found = false;
        r = place_all(c, v, na, &before, tier, &found);
        if (found) {
            nfail = 0;
            searched = true;
            break;
        }
    }
    /* the least total distance; moves after a search not made for distance */
    if (r == 0 && !nfail && na > 1 && (r = place_best(c, v, na, &before)) == 1)
        r = searched ? move_pass(c, v, na, &before) : 0;
    for (size_t k = 0; k < na && r == 0; k++) {
        struct pa *a = &v[k];
        const struct pol_guest *g = &p->guests[a->gi];
        if (!a->placed) {
            char sz[32];
            cc_size_str(cc_guest_mem(g), sz, sizeof sz);
            const struct pol_loc *loc = g->cpus_kind == POL_CPUS_AUTO ? &g->cpus_loc : &g->nodes_loc;
            ERR(c, loc, "no placement exists for guest '%s' (%ld vCPU%s, %s): no set of nodes has "
                "enough free vCPU capacity (overcommit %u.%03u) and memory after the reserve and "
                "the guests placed before it", g->name, g->vcpus, g->vcpus == 1 ? "" : "s", sz,
                c->pl->host.overcommit_milli / 1000, c->pl->host.overcommit_milli % 1000);
            c->bad[a->gi] = true;
            continue;
        }
        if (g->cpus_kind == POL_CPUS_AUTO)
            c->cpus[a->gi] = CGP_STEAL(a->s.cpus);
        c->mems[a->gi] = cgp_bitmap_dup(pa_mems(c, a));
        if (!c->mems[a->gi])
            r = -ENOMEM;
        else
            r = pa_keep_trace(c, a);
    }
    for (size_t k = 0; k < na; k++) {
        cgp_bitmap_free(v[k].fixed_cpu_nodes);
        cgp_bitmap_free(v[k].cell_nodes);
        solved_clear(&v[k].s);
        free(v[k].rec.v);
    }
    hv_saved_free(&before);
    return r;
}
