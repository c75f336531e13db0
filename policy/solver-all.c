/* solve_all(): the compiler's fallback search for all guests at once, used
 * when the one-at-a-time placement (solver.c) fails for some guest.
 *
 * Placing CPUs never changes what memory fits and back, so the search is
 * done in two phases: CPU nodes for every guest (guests by vCPUs, then
 * memory, largest first, then their order in rq), then memory nodes for
 * every guest (by memory, then vCPUs, then order; the distance to the
 * guest's CPU nodes ordering its candidates). In each phase a guest's
 * candidates are every non-empty set of nodes when there are at most
 * FB_SMALL of them, else the single nodes, and where none fits the smallest
 * sets built like solve_one's (a node and its nearest nodes with room), at
 * most FB_WIDTH. They are tried in preference order: fewest nodes, then
 * (CPUs) least capacity left and least distance between the nodes or
 * (memory) least distance from the CPU nodes and least memory left, then
 * generation order. Depth-first with backtracking. Cut-offs that lose no
 * placement: the capacity left must cover the least demand of the guests
 * left; a state (level, capacities left) from which nothing was found is
 * remembered (by a 64-bit hash) and not searched again; of two consecutive
 * guests with the same demand the second takes a set that comes no earlier
 * (as a subset number) than the first's. The work is bounded by a budget:
 * a search cut short counts as failed. Deterministic: no clock, no
 * randomness. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define FB_SMALL 10
#define FB_WIDTH 32
#define FB_MEMO_MAX ((size_t)1 << 21)

struct fcand {
    uint32_t off, k;         /* its nodes: pool[off .. off+k) */
    int64_t left;
    uint64_t dist;
    uint32_t gen;            /* small universes: the subset number */
};

struct flevel {
    struct fcand *c;
    size_t nc, pos;
    uint32_t *pool;
    size_t npool, cap_pool, cap_c;
    uint64_t h;              /* state hash */
    bool memo_hit;
    uint32_t kmin;           /* least subset number allowed */
};

struct fb {
    const struct hostview *hv;
    const struct solve_req *rq;
    size_t ng;
    bool mem;                /* phase: memory (else CPUs) */
    size_t nu;               /* the universe: hv->cpu_list or hv->mem_list */
    const uint32_t *U;
    int64_t *cap;            /* by node index: vCPU x1000 or KiB left */
    uint64_t budget, used;
    uint64_t *memo;
    size_t memo_cap, memo_n;
    struct flevel *lv;       /* by level */
    size_t *ord;             /* level -> guest */
    const uint32_t **set;    /* per guest: the set chosen in this phase */
    size_t *nset;
    uint32_t *sgen;          /* per guest: its set's subset number */
    uint32_t **cset;         /* per guest: its CPU nodes (memory phase) */
    size_t *ncset;
    uint32_t *tmp;           /* scratch, n */
    uint64_t *key;           /* scratch, n */
    int64_t *rest;           /* by level: least demand of the levels from there */
};

static bool fb_fixed(const struct fb *f, size_t g)
{
    return f->mem ? f->rq[g].fixed_mem_nodes != NULL : f->rq[g].fixed_cpu_nodes != NULL;
}

static int fb_cmp_ord(const void *a, const void *b, void *arg)
{
    const struct fb *f = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint64_t p[2] = { f->rq[x].vcpus, f->rq[x].mem_kib }, q[2] = { f->rq[y].vcpus, f->rq[y].mem_kib };
    for (int i = 0, k = f->mem ? 1 : 0; i < 2; i++, k ^= 1)
        if (p[k] != q[k])
            return p[k] > q[k] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Level order and rest[] for the phase. A guest's CPU shares add up to at
 * least its vCPUs less one thousandth per node after the first (each share
 * is rounded down), its memory shares to its memory (rounded up); fixed
 * sets are not counted (they only take capacity away). */
static void fb_levels(struct fb *f)
{
    for (size_t g = 0; g < f->ng; g++)
        f->ord[g] = g;
    qsort_r(f->ord, f->ng, sizeof *f->ord, fb_cmp_ord, f);
    f->rest[f->ng] = 0;
    for (size_t l = f->ng; l-- > 0;) {
        size_t g = f->ord[l];
        int64_t d = 0;
        if (!fb_fixed(f, g))
            d = f->mem ? (int64_t)f->rq[g].mem_kib
                       : (int64_t)f->rq[g].vcpus * 1000 - (int64_t)(f->nu ? f->nu - 1 : 0);
        f->rest[l] = f->rest[l + 1] + (d > 0 ? d : 0);
    }
}

static uint64_t mix64(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return h;
}

static bool memo_has(const struct fb *f, uint64_t h)
{
    if (!f->memo_cap)
        return false;
    for (size_t i = (size_t)h & (f->memo_cap - 1);; i = (i + 1) & (f->memo_cap - 1)) {
        if (!f->memo[i])
            return false;
        if (f->memo[i] == h)
            return true;
    }
}

static void memo_put_raw(uint64_t *tab, size_t cap, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    while (tab[i] && tab[i] != h)
        i = (i + 1) & (cap - 1);
    tab[i] = h;
}

static void memo_put(struct fb *f, uint64_t h)
{
    if ((f->memo_n + 1) * 2 > f->memo_cap) {
        if (f->memo_cap >= FB_MEMO_MAX)
            return; /* full: forget, search on */
        size_t cap = f->memo_cap ? f->memo_cap * 2 : 4096;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return;
        for (size_t i = 0; i < f->memo_cap; i++)
            if (f->memo[i])
                memo_put_raw(t, cap, f->memo[i]);
        free(f->memo);
        f->memo = t;
        f->memo_cap = cap;
    }
    if (!memo_has(f, h)) {
        memo_put_raw(f->memo, f->memo_cap, h);
        f->memo_n++;
    }
}

/* Guest g's demand on the nodes of S[0..k): into d[0..k). */
static void fb_demand(const struct fb *f, size_t g, const uint32_t *S, size_t k, int64_t *d)
{
    const struct hostview *hv = f->hv;
    if (f->mem) {
        int64_t share = k ? (int64_t)((f->rq[g].mem_kib + k - 1) / k) : 0;
        for (size_t x = 0; x < k; x++)
            d[x] = share;
        return;
    }
    uint64_t total = 0, v = (uint64_t)f->rq[g].vcpus * 1000;
    for (size_t x = 0; x < k; x++)
        total += hv->n_ucpus[S[x]];
    for (size_t x = 0; x < k; x++)
        d[x] = total ? (int64_t)(v * hv->n_ucpus[S[x]] / total) : 0;
}

static void fb_apply(struct fb *f, size_t g, const uint32_t *S, size_t k, int sign)
{
    int64_t *d = (int64_t *)f->key;
    fb_demand(f, g, S, k, d);
    for (size_t x = 0; x < k; x++)
        f->cap[S[x]] += sign * d[x];
}

static int fb_add(struct flevel *L, const uint32_t *S, size_t k, int64_t left, uint64_t dist, uint32_t gen)
{
    if (!CGP_GROW(L->c, L->nc, L->cap_c))
        return -ENOMEM;
    /* room for k more nodes: grow until the last one fits */
    while (L->npool + k > L->cap_pool)
        if (!CGP_GROW(L->pool, L->npool + k - 1, L->cap_pool))
            return -ENOMEM;
    memcpy(L->pool + L->npool, S, k * sizeof *S);
    L->c[L->nc++] = (struct fcand){ (uint32_t)L->npool, (uint32_t)k, left, dist, gen };
    L->npool += k;
    return 0;
}

/* Add S[0..k) as a candidate of L when it fits. */
static int fb_try(struct fb *f, size_t g, struct flevel *L, const uint32_t *S, size_t k, uint32_t gen)
{
    const struct hostview *hv = f->hv;
    int64_t *d = (int64_t *)f->key;
    f->used += k;
    fb_demand(f, g, S, k, d);
    int64_t left = 0;
    for (size_t x = 0; x < k; x++) {
        if (d[x] > f->cap[S[x]])
            return 0;
        left += f->cap[S[x]] - d[x];
    }
    uint64_t dist = 0;
    for (size_t x = 0; x < k; x++) {
        const int *row = hv->dist + (size_t)S[x] * hv->n;
        if (f->mem) {
            for (size_t y = 0; y < f->ncset[g]; y++)
                dist += (uint64_t)hv->dist[(size_t)f->cset[g][y] * hv->n + S[x]];
        } else {
            for (size_t y = 0; y < k; y++)
                if (S[x] < S[y])
                    dist += (uint64_t)row[S[y]];
        }
    }
    return fb_add(L, S, k, left, dist, gen);
}

static int cmp_fcand(const void *a, const void *b, void *arg)
{
    const struct fcand *x = a, *y = b;
    bool mem = *(const bool *)arg;
    if (x->k != y->k)
        return x->k < y->k ? -1 : 1;
    int64_t l1 = x->left, l2 = y->left;
    uint64_t d1 = x->dist, d2 = y->dist;
    if (mem) {
        if (d1 != d2)
            return d1 < d2 ? -1 : 1;
        if (l1 != l2)
            return l1 < l2 ? -1 : 1;
    } else {
        if (l1 != l2)
            return l1 < l2 ? -1 : 1;
        if (d1 != d2)
            return d1 < d2 ? -1 : 1;
    }
    return (x->gen > y->gen) - (x->gen < y->gen);
}

/* Nearness of memory node m to guest g's CPU nodes (solve_one's key). */
static uint64_t fb_mem_key(const struct fb *f, size_t g, uint32_t m)
{
    uint64_t best = UINT64_MAX;
    for (size_t y = 0; y < f->ncset[g]; y++) {
        uint64_t k = hv_mem_key(f->hv, f->cset[g][y], m);
        if (k < best)
            best = k;
    }
    return best == UINT64_MAX ? m : best;
}

/* The candidates at level l in the current state. */
static int fb_gen(struct fb *f, size_t l, struct flevel *L)
{
    const struct hostview *hv = f->hv;
    size_t g = f->ord[l];
    const struct solve_req *rq = &f->rq[g];
    L->nc = L->npool = L->pos = 0;
    L->memo_hit = false;
    /* identical to the guest before: no earlier subset than its */
    L->kmin = 0;
    if (l > 0 && f->nu <= FB_SMALL && !fb_fixed(f, g) && !fb_fixed(f, f->ord[l - 1]) &&
        (f->mem ? rq->mem_kib == f->rq[f->ord[l - 1]].mem_kib
                : rq->vcpus == f->rq[f->ord[l - 1]].vcpus))
        L->kmin = f->sgen[f->ord[l - 1]];
    uint64_t h = mix64(mix64(0x5eed, l), L->kmin);
    int64_t room = 0;
    for (size_t i = 0; i < f->nu; i++) {
        h = mix64(h, (uint64_t)f->cap[f->U[i]]);
        if (f->cap[f->U[i]] > 0)
            room += f->cap[f->U[i]];
    }
    L->h = h | 1;
    f->used += f->nu;
    if (room < f->rest[l] || memo_has(f, L->h)) {
        L->memo_hit = true; /* nothing to remember */
        return 0;
    }
    uint32_t *S = f->tmp;
    const cgp_bitmap *fixed = f->mem ? rq->fixed_mem_nodes : rq->fixed_cpu_nodes;
    if (fixed) {
        /* given by the policy: committed as it is, as the compiler does */
        size_t k = 0;
        for (size_t i = 0; i < f->nu; i++)
            if (cgp_bitmap_test(fixed, (unsigned)hv->id[f->U[i]]))
                S[k++] = f->U[i];
        return fb_add(L, S, k, 0, 0, 0);
    }
    int r = 0;
    if (f->nu <= FB_SMALL) {
        for (uint32_t mask = L->kmin ? L->kmin : 1; mask < (1u << f->nu) && r == 0; mask++) {
            size_t k = 0;
            for (size_t i = 0; i < f->nu; i++)
                if (mask >> i & 1)
                    S[k++] = f->U[i];
            r = fb_try(f, g, L, S, k, mask);
        }
    } else {
        for (size_t i = 0; i < f->nu && r == 0; i++) {
            S[0] = f->U[i];
            r = fb_try(f, g, L, S, 1, L->nc);
        }
        for (size_t k = 2; k <= f->nu && !L->nc && r == 0; k++) {
            if (!f->mem) {
                for (size_t s = 0; s < f->nu && r == 0; s++) {
                    uint32_t seed = f->U[s];
                    if (f->cap[seed] <= 0)
                        continue;
                    const uint32_t *row = hv->near + (size_t)seed * hv->n;
                    size_t got = 0;
                    S[got++] = seed;
                    for (size_t i = 0; i + 1 < hv->ncpu && got < k; i++)
                        if (f->cap[row[i]] > 0)
                            S[got++] = row[i];
                    if (got == k)
                        r = fb_try(f, g, L, S, k, L->nc);
                }
            } else {
                /* the k nearest with room, and the k with the most room */
                int64_t need = (int64_t)((rq->mem_kib + k - 1) / k);
                size_t ne = 0;
                for (size_t i = 0; i < f->nu; i++)
                    if (f->cap[f->U[i]] >= need)
                        S[ne++] = f->U[i];
                if (ne < k)
                    continue;
                uint64_t *key = f->key + hv->n; /* f->key[0..n) is fb_try's */
                for (int pass = 0; pass < 2 && r == 0; pass++) {
                    for (size_t i = 0; i < ne; i++)
                        key[i] = pass == 0 ? fb_mem_key(f, g, S[i]) : (uint64_t)(INT64_MAX - f->cap[S[i]]);
                    for (size_t i = 1; i < ne; i++) /* insertion sort by key, then index */
                        for (size_t j = i; j > 0 && (key[j - 1] > key[j] ||
                                                     (key[j - 1] == key[j] && S[j - 1] > S[j])); j--) {
                            uint64_t tk = key[j];
                            key[j] = key[j - 1];
                            key[j - 1] = tk;
                            uint32_t t = S[j];
                            S[j] = S[j - 1];
                            S[j - 1] = t;
                        }
                    f->used += ne * ne / 4 + 1;
                    r = fb_try(f, g, L, S, k, L->nc);
                }
            }
        }
    }
    if (r < 0)
        return r;
    bool mem = f->mem;
    if (L->nc > 1) /* L->c may be NULL when empty: qsort's argument must not be */
        qsort_r(L->c, L->nc, sizeof *L->c, cmp_fcand, &mem);
    if (f->nu > FB_SMALL && L->nc > FB_WIDTH)
        L->nc = FB_WIDTH;
    return 0;
}

/* One phase: 0, -ENOSPC (none, or the budget ran out) or -ENOMEM. */
static int fb_run(struct fb *f)
{
    size_t l = 0;
    bool enter = true;
    fb_levels(f);
    for (;;) {
        if (f->used > f->budget)
            return -ENOSPC;
        if (l == f->ng)
            return 0;
        struct flevel *L = &f->lv[l];
        size_t g = f->ord[l];
        if (enter) {
            int r = fb_gen(f, l, L);
            if (r < 0)
                return r;
        }
        if (L->pos < L->nc) {
            const struct fcand *c = &L->c[L->pos++];
            f->set[g] = L->pool + c->off;
            f->nset[g] = c->k;
            f->sgen[g] = c->gen;
            fb_apply(f, g, f->set[g], f->nset[g], -1);
            l++;
            enter = true;
            continue;
        }
        if (!L->memo_hit)
            memo_put(f, L->h);
        if (l == 0)
            return -ENOSPC;
        l--;
        g = f->ord[l];
        fb_apply(f, g, f->set[g], f->nset[g], +1);
        enter = false;
    }
}

static void fb_free_levels(struct fb *f)
{
    for (size_t i = 0; f->lv && i < f->ng; i++) {
        free(f->lv[i].c);
        free(f->lv[i].pool);
    }
    free(f->lv);
    f->lv = NULL;
    free(f->memo);
    f->memo = NULL;
    f->memo_cap = f->memo_n = 0;
}

int solve_all(const struct hostview *hv, const struct solve_req *rq, size_t ng, uint64_t budget,
              cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes)
{
    size_t n = hv->n, nn = n ? n : 1, gg = ng ? ng : 1;
    for (size_t g = 0; g < ng; g++) {
        cpu_nodes[g] = mem_nodes[g] = NULL;
        if (!rq[g].vcpus || (rq[g].fixed_cpu_nodes && rq[g].fixed_mem_nodes))
            return -EINVAL;
    }
    struct fb f = { .hv = hv, .rq = rq, .ng = ng, .budget = budget };
    int64_t *cap CGP_AUTOFREE = f.cap = calloc(nn, sizeof *f.cap);
    uint32_t *tmp CGP_AUTOFREE = f.tmp = calloc(nn, sizeof *f.tmp);
    uint64_t *key CGP_AUTOFREE = f.key = calloc(2 * nn, sizeof *f.key);
    size_t *ord CGP_AUTOFREE = f.ord = calloc(gg, sizeof *f.ord);
    const uint32_t **set CGP_AUTOFREE = f.set = calloc(gg, sizeof *f.set);
    size_t *nset CGP_AUTOFREE = f.nset = calloc(gg, sizeof *f.nset);
    uint32_t *sgen CGP_AUTOFREE = f.sgen = calloc(gg, sizeof *f.sgen);
    uint32_t **cset CGP_AUTOFREE = f.cset = calloc(gg, sizeof *f.cset);
    size_t *ncset CGP_AUTOFREE = f.ncset = calloc(gg, sizeof *f.ncset);
    int64_t *rest CGP_AUTOFREE = f.rest = calloc(ng + 1, sizeof *f.rest);
    uint32_t *cflat CGP_AUTOFREE = NULL;
    if (!cap || !tmp || !key || !ord || !set || !nset || !sgen || !cset || !ncset || !rest)
        return -ENOMEM;
    int r;

    /* CPUs */
    for (size_t i = 0; i < n; i++)
        cap[i] = hv->cap_milli[i];
    f.U = hv->cpu_list;
    f.nu = hv->ncpu;
    if (!(f.lv = calloc(gg, sizeof *f.lv)))
        return -ENOMEM;
    r = fb_run(&f);
    if (r == 0) {
        size_t tot = 0;
        for (size_t g = 0; g < ng; g++)
            tot += nset[g];
        if (!(cflat = malloc((tot ? tot : 1) * sizeof *cflat))) {
            r = -ENOMEM;
        } else {
            tot = 0;
            for (size_t g = 0; g < ng; g++) {
                memcpy(cflat + tot, set[g], nset[g] * sizeof *cflat);
                cset[g] = cflat + tot;
                ncset[g] = nset[g];
                tot += nset[g];
            }
        }
    }
    fb_free_levels(&f);
    if (r < 0)
        return r;

    /* memory */
    for (size_t i = 0; i < n; i++)
        cap[i] = hv_avail(hv, i);
    f.mem = true;
    f.U = hv->mem_list;
    f.nu = hv->nmem;
    if (!(f.lv = calloc(gg, sizeof *f.lv)))
        return -ENOMEM;
    r = fb_run(&f);
    for (size_t g = 0; r == 0 && g < ng; g++) {
        if ((r = hv_bitmap(hv, cset[g], ncset[g], &cpu_nodes[g])) < 0 ||
            (r = hv_bitmap(hv, set[g], nset[g], &mem_nodes[g])) < 0)
            break;
    }
    fb_free_levels(&f);
    if (r < 0) {
        for (size_t g = 0; g < ng; g++) {
            cgp_bitmap_free(cpu_nodes[g]);
            cgp_bitmap_free(mem_nodes[g]);
            cpu_nodes[g] = mem_nodes[g] = NULL;
        }
    }
    return r;
}
