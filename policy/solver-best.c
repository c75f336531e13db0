/* solve_best(): on small hosts, a bounded branch and bound over every auto
 * guest at once for the least total distance (spec §3: locality first),
 * started from the one-at-a-time placement's total, which it has to beat.
 *
 * A guest's options are every set C of CPU nodes whose vCPU shares fit the
 * empty host, times every set M of memory nodes whose even shares fit,
 * sorted by distance. Guests go largest first; a branch is cut when its
 * distance plus every later guest's least distance cannot beat the best so
 * far. A complete placement counts only when it keeps the socket rule: no
 * guest spans several packages while, the others where they are, one
 * package could hold it. Work is bounded by a budget (one unit per
 * option looked at): cut short, the best found so far is the answer.
 * Deterministic: options in (distance, C, M) order, no clock. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>

#define BEST_MAX_NODES 10
#define BEST_MAX_OPTS 8192

struct bopt {
    uint16_t C, M;           /* bit sets over hv->cpu_list / hv->mem_list positions */
    uint32_t cost;
    uint32_t pk;             /* packages C spans */
};

struct bguest {
    struct bopt *o;
    size_t n;
    int64_t *share;          /* per C set: ncpu shares (x1000), row C*ncpu */
    int64_t need[BEST_MAX_NODES + 1]; /* KiB per node for |M| = k */
};

static int cmp_bopt(const void *a, const void *b)
{
    const struct bopt *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    if (x->C != y->C)
        return x->C < y->C ? -1 : 1;
    return (x->M > y->M) - (x->M < y->M);
}

static unsigned pk_of(const struct hostview *hv, unsigned C)
{
    int seen[BEST_MAX_NODES];
    unsigned k = 0, pk = 0;
    for (size_t i = 0; i < hv->ncpu; i++) {
        if (!(C >> i & 1))
            continue;
        int p = hv->pkg[hv->cpu_list[i]];
        bool dup = p < 0;
        for (unsigned j = 0; j < k && !dup; j++)
            dup = seen[j] == p;
        if (!dup) {
            seen[k++] = p;
            pk++;
        }
    }
    return pk;
}

static int options(const struct hostview *hv, const struct solve_req *rq, struct bguest *g)
{
    size_t nc = hv->ncpu, nm = hv->nmem, n = hv->n;
    unsigned nC = 1u << nc, nM = 1u << nm;
    if (!(g->share = calloc((size_t)nC * nc, sizeof *g->share)))
        return -ENOMEM;
    for (unsigned k = 1; k <= nm; k++)
        g->need[k] = (int64_t)((rq->mem_kib + k - 1) / k);
    unsigned fixM = 0;
    for (size_t y = 0; rq->fixed_mem_nodes && y < nm; y++)
        if (cgp_bitmap_test(rq->fixed_mem_nodes, (unsigned)hv->id[hv->mem_list[y]]))
            fixM |= 1u << y;
    size_t cap = 0;
    for (unsigned C = 1; C < nC; C++) {
        uint64_t T = 0;
        for (size_t x = 0; x < nc; x++)
            T += C >> x & 1 ? hv->n_ucpus[hv->cpu_list[x]] : 0;
        bool ok = T > 0;
        uint32_t pk = pk_of(hv, C);
        int64_t *sh = g->share + (size_t)C * nc;
        for (size_t x = 0; x < nc && ok; x++) {
            uint32_t c = hv->cpu_list[x];
            sh[x] = C >> x & 1 ? (int64_t)((uint64_t)rq->vcpus * 1000 * hv->n_ucpus[c] / T) : 0;
            ok = sh[x] <= hv->cap_milli[c] && (!(C >> x & 1) || hv->n_ucpus[c]);
        }
        if (!ok)
            continue;
        uint32_t cc = 0;
        for (size_t x = 0; x < nc; x++)
            for (size_t z = x + 1; z < nc; z++)
                if ((C >> x & 1) && (C >> z & 1)) {
                    uint32_t a = hv->cpu_list[x], b = hv->cpu_list[z];
                    cc += (uint32_t)hv->ldist[(a < b ? a : b) * n + (a < b ? b : a)];
                }
        for (unsigned M = fixM ? fixM : 1; M < nM; M = fixM ? nM : M + 1) {
            unsigned k = (unsigned)__builtin_popcount(M);
            bool fits = true;
            uint32_t d = cc;
            for (size_t y = 0; y < nm && fits; y++) {
                if (!(M >> y & 1))
                    continue;
                fits = fixM || g->need[k] <= hv_avail(hv, hv->mem_list[y]);
                for (size_t x = 0; x < nc; x++)
                    if (C >> x & 1)
                        d += (uint32_t)hv->ldist[(size_t)hv->cpu_list[x] * n + hv->mem_list[y]];
            }
            if (!fits)
                continue;
            if (g->n >= BEST_MAX_OPTS)
                return -E2BIG;
            if (!CGP_GROW(g->o, g->n, cap))
                return -ENOMEM;
            g->o[g->n++] = (struct bopt){ (uint16_t)C, (uint16_t)M, d, pk };
        }
    }
    if (g->n > 1)
        qsort(g->o, g->n, sizeof *g->o, cmp_bopt);
    return 0;
}

struct bb {
    const struct hostview *hv;
    const struct solve_req *rq;
    struct bguest *g;
    size_t ng;
    size_t *ord;             /* level -> guest */
    uint64_t *rest;          /* by level: least distance of the levels from there */
    int64_t cap[BEST_MAX_NODES], mem[BEST_MAX_NODES];
    size_t *pos, *cur, *best;
    uint64_t best_cost, budget, used;
    bool found;
};

static bool fits(const struct bb *b, size_t gi, const struct bopt *o)
{
    const struct hostview *hv = b->hv;
    const int64_t *sh = b->g[gi].share + (size_t)o->C * hv->ncpu;
    for (size_t x = 0; x < hv->ncpu; x++)
        if ((o->C >> x & 1) && sh[x] > b->cap[x])
            return false;
    if (b->rq[gi].fixed_mem_nodes)
        return true; /* fixed memory is the operator's (checked by the compiler) */
    int64_t need = b->g[gi].need[__builtin_popcount(o->M)];
    for (size_t y = 0; y < hv->nmem; y++)
        if ((o->M >> y & 1) && need > b->mem[y])
            return false;
    return true;
}

static void take(struct bb *b, size_t gi, const struct bopt *o, int sign)
{
    const struct hostview *hv = b->hv;
    const int64_t *sh = b->g[gi].share + (size_t)o->C * hv->ncpu;
    for (size_t x = 0; x < hv->ncpu; x++)
        b->cap[x] -= sign * sh[x];
    if (b->rq[gi].fixed_mem_nodes)
        return; /* committed with the fixed guests */
    int64_t need = b->g[gi].need[__builtin_popcount(o->M)];
    for (size_t y = 0; y < hv->nmem; y++)
        if (o->M >> y & 1)
            b->mem[y] -= sign * need;
}

/* The socket rule at a complete placement (cur[0..ng)): a guest spanning
 * several packages must not fit in one with the others where they are. */
static bool sockets_ok(struct bb *b)
{
    for (size_t l = 0; l < b->ng; l++) {
        size_t gi = b->ord[l];
        const struct bguest *g = &b->g[gi];
        const struct bopt *o = &g->o[b->cur[l]];
        if (o->pk < 2)
            continue;
        take(b, gi, o, -1);
        bool one = false;
        for (size_t k = 0; k < g->n && !one; k++) {
            b->used++;
            one = g->o[k].pk < 2 && fits(b, gi, &g->o[k]);
        }
        take(b, gi, o, +1);
        if (one)
            return false;
    }
    return true;
}

static bool same_req(const struct solve_req *x, const struct solve_req *y)
{
    return x->vcpus == y->vcpus && x->mem_kib == y->mem_kib && x->fixed_mem_nodes == y->fixed_mem_nodes &&
           !x->fixed_cpu_nodes && !y->fixed_cpu_nodes;
}

static void search(struct bb *b)
{
    size_t l = 0;
    uint64_t cost = 0;
    b->pos[0] = 0;
    for (;;) {
        if (b->used > b->budget)
            return;
        size_t gi = b->ord[l];
        struct bguest *g = &b->g[gi];
        bool down = false;
        while (b->pos[l] < g->n) {
            const struct bopt *o = &g->o[b->pos[l]++];
            b->used++;
            if (cost + o->cost + b->rest[l + 1] >= b->best_cost) {
                b->pos[l] = g->n; /* sorted: nothing later is cheaper */
                break;
            }
            if (!fits(b, gi, o))
                continue;
            take(b, gi, o, +1);
            b->cur[l] = b->pos[l] - 1;
            cost += o->cost;
            if (l + 1 == b->ng) {
                if (sockets_ok(b)) {
                    b->best_cost = cost;
                    memcpy(b->best, b->cur, b->ng * sizeof *b->best);
                    b->found = true;
                }
                take(b, gi, o, -1);
                cost -= o->cost;
                continue;
            }
            l++;
            /* the same guest again: no earlier option than the one before
             * (the other orders give the same placements) */
            b->pos[l] = same_req(&b->rq[b->ord[l]], &b->rq[gi]) ? b->cur[l - 1] : 0;
            down = true;
            break;
        }
        if (down)
            continue;
        if (l == 0)
            return;
        l--;
        gi = b->ord[l];
        const struct bopt *o = &b->g[gi].o[b->cur[l]];
        take(b, gi, o, -1);
        cost -= o->cost;
    }
}

static int cmp_big(const void *a, const void *x, void *arg)
{
    const struct solve_req *rq = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)x;
    if (rq[i].mem_kib != rq[j].mem_kib)
        return rq[i].mem_kib > rq[j].mem_kib ? -1 : 1;
    if (rq[i].vcpus != rq[j].vcpus)
        return rq[i].vcpus > rq[j].vcpus ? -1 : 1;
    return (i > j) - (i < j);
}

int solve_best(const struct hostview *hv, const struct solve_req *rq, size_t ng,
               uint64_t incumbent, uint64_t budget, cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes)
{
    if (hv->ncpu > BEST_MAX_NODES || hv->nmem > BEST_MAX_NODES || !ng)
        return -E2BIG;
    for (size_t i = 0; i < ng; i++)
        if (rq[i].fixed_cpu_nodes || !rq[i].vcpus)
            return -E2BIG;
    struct bb b = { .hv = hv, .rq = rq, .ng = ng, .best_cost = incumbent, .budget = budget };
    b.g = calloc(ng, sizeof *b.g);
    b.ord = calloc(ng, sizeof *b.ord);
    b.rest = calloc(ng + 1, sizeof *b.rest);
    b.pos = calloc(ng, sizeof *b.pos);
    b.cur = calloc(ng, sizeof *b.cur);
    b.best = calloc(ng, sizeof *b.best);
    int r = b.g && b.ord && b.rest && b.pos && b.cur && b.best ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < ng; i++) {
        r = options(hv, &rq[i], &b.g[i]);
        b.ord[i] = i;
        if (r == 0 && !b.g[i].n)
            r = -ENOSPC;
    }
    if (r == 0) {
        qsort_r(b.ord, ng, sizeof *b.ord, cmp_big, (void *)rq);
        for (size_t l = ng; l-- > 0;)
            b.rest[l] = b.rest[l + 1] + b.g[b.ord[l]].o[0].cost;
        for (size_t x = 0; x < hv->ncpu; x++)
            b.cap[x] = hv->cap_milli[hv->cpu_list[x]];
        for (size_t y = 0; y < hv->nmem; y++)
            b.mem[y] = hv_avail(hv, hv->mem_list[y]);
        search(&b);
        r = b.found ? 0 : -ENOSPC;
    }
    for (size_t l = 0; r == 0 && l < ng; l++) {
        size_t gi = b.ord[l];
        const struct bopt *o = &b.g[gi].o[b.best[l]];
        uint32_t C[BEST_MAX_NODES], M[BEST_MAX_NODES];
        size_t k = 0, j = 0;
        for (size_t x = 0; x < hv->ncpu; x++)
            if (o->C >> x & 1)
                C[k++] = hv->cpu_list[x];
        for (size_t y = 0; y < hv->nmem; y++)
            if (o->M >> y & 1)
                M[j++] = hv->mem_list[y];
        if ((r = hv_bitmap(hv, C, k, &cpu_nodes[gi])) == 0)
            r = hv_bitmap(hv, M, j, &mem_nodes[gi]);
    }
    if (r < 0)
        for (size_t i = 0; i < ng; i++) {
            cgp_bitmap_free(cpu_nodes[i]);
            cgp_bitmap_free(mem_nodes[i]);
            cpu_nodes[i] = mem_nodes[i] = NULL;
        }
    for (size_t i = 0; b.g && i < ng; i++) {
        free(b.g[i].o);
        free(b.g[i].share);
    }
    free(b.g);
    free(b.ord);
    free(b.rest);
    free(b.pos);
    free(b.cur);
    free(b.best);
    return r;
}
