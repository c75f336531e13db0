/* The deterministic `auto` solver for one guest (spec §3): locality first.
 *
 * A candidate is a set C of CPU nodes and a set M of memory nodes. Its
 * distance is the sum of the locality distances (hostview.ldist: SLIT, HMAT
 * initiators nearest) from every node of C to every node of M, plus those
 * between the nodes of C. Candidates compare by: fewest packages spanned by
 * C (a guest never crosses sockets when one fits it), least distance, least
 * vCPU capacity left over (packing), least memory left over, fewest nodes,
 * then the order they were generated in (node index order). Nothing depends
 * on hash order or the clock.
 *
 * For a given C the best M of j nodes is the j nodes with room for 1/j of
 * the memory whose distance to C is least (the distance is a sum over M);
 * j goes up from the least j any memory fits while j nodes could still be
 * nearer. C is every single node, then (where no single node fits, or where
 * a set of nodes in one package could be nearer) every set of CPU nodes on
 * small hosts (<= SMALL_HOST CPU nodes), else each node with its nearest
 * nodes with capacity, for the smallest k that fits. A node that holds the
 * vCPUs and the memory itself at the least distance the host has is taken
 * at once (nothing can be nearer).
 *
 * solve_all(), the bounded fallback search over all guests, is in
 * solver-all.c; the host view and the commitments in hostview.c. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define SMALL_HOST 10

struct cand {
    bool ok;
    unsigned pk;             /* packages spanned by C */
    uint64_t dist;
    int64_t cpu_left;
    int64_t mem_left;
    size_t k;                /* nodes in C and M */
};

static bool better(const struct cand *a, const struct cand *b)
{
    if (!b->ok)
        return true;
    if (a->pk != b->pk)
        return a->pk < b->pk;
    if (a->dist != b->dist)
        return a->dist < b->dist;
    if (a->cpu_left != b->cpu_left)
        return a->cpu_left < b->cpu_left;
    if (a->mem_left != b->mem_left)
        return a->mem_left < b->mem_left;
    return a->k < b->k;
}

/* The smallest j such that j memory nodes each have room for 1/j of
 * mem_kib (memory is spread evenly); 0 when there is none. */
static size_t mem_jmin(const struct hostview *hv, uint64_t mem_kib)
{
    size_t nm = hv->nmem;
    for (size_t i = 0; i < nm; i++)
        if (hv_avail(hv, hv->mem_list[i]) >= (int64_t)mem_kib)
            return 1;
    if (mem_kib == 0 || nm < 2)
        return 0;
    int64_t *a CGP_AUTOFREE = malloc(nm * sizeof *a);
    if (!a)
        return 0;
    for (size_t i = 0; i < nm; i++)
        a[i] = hv_avail(hv, hv->mem_list[i]);
    for (size_t i = 1; i < nm; i++) /* insertion sort, descending; nm is small */
        for (size_t j = i; j > 0 && a[j - 1] < a[j]; j--) {
            int64_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
    for (size_t j = 2; j <= nm; j++)
        if (a[j - 1] >= (int64_t)((mem_kib + j - 1) / j))
            return j;
    return 0;
}

struct work {
    const struct hostview *hv;
    const int *row1;         /* one CPU node: its ldist row (no mkey) */
    const struct solve_req *rq;
    size_t jmin;             /* 0: fixed memory */
    uint64_t *mkey;          /* by index: distance of a memory node to C */
    uint32_t *mo;            /* memory nodes by mkey (multi-node C) */
    uint32_t *M;
    size_t nM;
    uint32_t *fixM;
    size_t nfixM;
    uint32_t *C, *bestC, *bestM;
    size_t bk, bnM;
    struct cand best;
    struct solve_trace *tr;
};

static int cmp_mo(const void *a, const void *b, void *arg)
{
    const uint64_t *k = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (k[x] != k[y])
        return k[x] < k[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static inline uint64_t mk(const struct work *w, uint32_t m)
{
    return w->row1 ? (uint64_t)w->row1[m] : w->mkey[m];
}

/* The j nearest memory nodes (by mk(), order sorted by it) with room for
 * 1/j of the memory each, into w->M; among nodes as near as the farthest
 * one taken, those with the least room (packing). */
static bool take_mem(struct work *w, const uint32_t *order, size_t j, uint64_t *dist, int64_t *mem_left)
{
    const struct hostview *hv = w->hv;
    int64_t need = (int64_t)((w->rq->mem_kib + j - 1) / j);
    size_t got = 0, i = 0;
    uint64_t d = 0;
    int64_t left = 0;
    for (; i < hv->nmem && got < j; i++) {
        int64_t a = hv_avail(hv, order[i]);
        if (a >= need) {
            w->M[got++] = order[i];
            d += mk(w, order[i]);
            left += a - need;
        }
    }
    if (got < j)
        return false;
    /* the tie at the boundary: swap in nearer-equal nodes with less room */
    uint64_t edge = mk(w, w->M[j - 1]);
    for (; i < hv->nmem && mk(w, order[i]) == edge; i++) {
        int64_t a = hv_avail(hv, order[i]);
        if (a < need)
            continue;
        size_t worst = j;
        for (size_t y = 0; y < j; y++)
            if (mk(w, w->M[y]) == edge && hv_avail(hv, w->M[y]) > a &&
                (worst == j || hv_avail(hv, w->M[y]) > hv_avail(hv, w->M[worst])))
                worst = y;
        if (worst < j) {
            left += a - hv_avail(hv, w->M[worst]);
            w->M[worst] = order[i];
        }
    }
    w->nM = j;
    *dist = d;
    *mem_left = left;
    return true;
}

/* The nearest memory for C[0..k): fills w->M; its distance and memory left. */
static bool pick_mem(struct work *w, const uint32_t *C, size_t k, uint64_t *dist, int64_t *mem_left)
{
    const struct hostview *hv = w->hv;
    size_t n = hv->n;
    if (!w->jmin) {
        uint64_t d = 0;
        for (size_t x = 0; x < k; x++)
            for (size_t y = 0; y < w->nfixM; y++)
                d += (uint64_t)hv->ldist[(size_t)C[x] * n + w->fixM[y]];
        memcpy(w->M, w->fixM, w->nfixM * sizeof *w->M);
        w->nM = w->nfixM;
        *dist = d;
        *mem_left = 0;
        return true;
    }
    const uint32_t *order;
    w->row1 = NULL;
    if (k == 1) {
        order = hv->memord + (size_t)C[0] * hv->nmem;
        w->row1 = hv->ldist + (size_t)C[0] * n;
    } else {
        for (size_t i = 0; i < hv->nmem; i++) {
            uint32_t m = hv->mem_list[i];
            uint64_t s = 0;
            for (size_t x = 0; x < k; x++)
                s += (uint64_t)hv->ldist[(size_t)C[x] * n + m];
            w->mkey[m] = s;
            w->mo[i] = m;
        }
        qsort_r(w->mo, hv->nmem, sizeof *w->mo, cmp_mo, w->mkey);
        order = w->mo;
    }
    uint64_t kmin = mk(w, order[0]);
    bool found = false;
    uint64_t bd = 0;
    int64_t bl = 0;
    size_t bj = 0;
    for (size_t j = w->jmin; j <= hv->nmem; j++) {
        if (found && j * kmin >= bd)
            break; /* no nearer; an equal one only for packing */
        int64_t left;
        uint64_t d;
        if (!take_mem(w, order, j, &d, &left))
            continue;
        if (!found || d < bd || (d == bd && left < bl)) {
            found = true;
            bd = d;
            bl = left;
            bj = j;
        }
    }
    if (!found)
        return false;
    take_mem(w, order, bj, dist, mem_left);
    return true;
}

static unsigned packages(const struct hostview *hv, const uint32_t *C, size_t k)
{
    unsigned pk = 0;
    for (size_t x = 0; x < k; x++) {
        bool seen = false;
        for (size_t y = 0; y < x && !seen; y++)
            seen = hv->pkg[C[y]] == hv->pkg[C[x]];
        pk += !seen && hv->pkg[C[x]] >= 0;
    }
    return pk;
}

static void trace_add(struct work *w, const uint32_t *C, size_t k, const struct cand *c)
{
    struct solve_trace *tr = w->tr;
    if (!tr)
        return;
    /* keep the best SOLVE_TRACE_MAX, best first (better() is a strict order
     * on what it compares; equal ones keep generation order) */
    size_t pos = tr->n;
    while (pos > 0) {
        struct cand prev = { true, 0, tr->c[pos - 1].dist, tr->c[pos - 1].cpu_left, 0, 0 };
        struct cand me = { true, 0, c->dist, c->cpu_left, 0, 0 };
        if (!better(&me, &prev))
            break;
        pos--;
    }
    if (pos >= SOLVE_TRACE_MAX)
        return;
    size_t last = tr->n < SOLVE_TRACE_MAX ? tr->n : SOLVE_TRACE_MAX - 1;
    memmove(&tr->c[pos + 1], &tr->c[pos], (last - pos) * sizeof tr->c[0]);
    if (tr->n < SOLVE_TRACE_MAX)
        tr->n++;
    tr->c[pos].ncn = (uint8_t)(k < 255 ? k : 255);
    tr->c[pos].nmn = (uint8_t)(w->nM < 255 ? w->nM : 255);
    for (size_t x = 0; x < k && x < 8; x++)
        tr->c[pos].cn[x] = C[x];
    for (size_t y = 0; y < w->nM && y < 8; y++)
        tr->c[pos].mn[y] = w->M[y];
    tr->c[pos].dist = c->dist;
    tr->c[pos].cpu_left = c->cpu_left;
}

/* Evaluate the CPU set C[0..k) and keep it when it is the best so far. */
static void consider(struct work *w, const uint32_t *C, size_t k)
{
    const struct hostview *hv = w->hv;
    size_t n = hv->n;
    uint64_t v = w->rq->vcpus;
    unsigned total = 0;
    int64_t cap = 0;
    for (size_t x = 0; x < k; x++) {
        total += hv->n_ucpus[C[x]];
        cap += hv->cap_milli[C[x]];
    }
    if (!total)
        return;
    for (size_t x = 0; x < k; x++)
        if ((int64_t)(v * 1000 * hv->n_ucpus[C[x]] / total) > hv->cap_milli[C[x]])
            return;
    uint64_t dist;
    int64_t mem_left;
    if (!pick_mem(w, C, k, &dist, &mem_left))
        return;
    for (size_t x = 0; x < k; x++)
        for (size_t y = 0; y < k; y++)
            if (C[x] < C[y])
                dist += (uint64_t)hv->ldist[(size_t)C[x] * n + C[y]];
    size_t distinct = k;
    for (size_t y = 0; y < w->nM; y++) {
        bool in = false;
        for (size_t x = 0; x < k && !in; x++)
            in = C[x] == w->M[y];
        distinct += !in;
    }
    struct cand cd = { true, packages(hv, C, k), dist, cap - (int64_t)v * 1000, mem_left, distinct };
    trace_add(w, C, k, &cd);
    if (better(&cd, &w->best)) {
        w->best = cd;
        memcpy(w->bestC, C, k * sizeof *C);
        w->bk = k;
        memcpy(w->bestM, w->M, w->nM * sizeof *w->M);
        w->bnM = w->nM;
    }
}

static int out_sets(const struct hostview *hv, const uint32_t *C, size_t k, const uint32_t *M,
                    size_t nM, cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes)
{
    cgp_bitmap *cn = NULL, *mn = NULL;
    int r = hv_bitmap(hv, C, k, &cn);
    if (r == 0 && (r = hv_bitmap(hv, M, nM, &mn)) < 0)
        cgp_bitmap_free(cn);
    if (r == 0) {
        *cpu_nodes = cn;
        *mem_nodes = mn;
    }
    return r;
}

/* A node that holds the vCPUs and the memory itself, at the least distance
 * any CPU has to any memory: nothing can be nearer, so among those only
 * packing decides. */
static bool fast_local(struct work *w)
{
    const struct hostview *hv = w->hv;
    size_t n = hv->n;
    int64_t want = (int64_t)w->rq->vcpus * 1000;
    if (w->jmin != 1 || !hv->min_pair_self_only)
        return false;
    int64_t b_left = 0, b_ml = 0;
    uint32_t bc = 0;
    bool found = false;
    for (size_t s = 0; s < hv->ncpu; s++) {
        uint32_t c = hv->cpu_list[s];
        int64_t left = hv->cap_milli[c] - want, ml;
        if (left < 0 || (found && left > b_left) || !hv->has_mem[c] ||
            hv->ldist[(size_t)c * n + c] != hv->min_pair ||
            (ml = hv_avail(hv, c) - (int64_t)w->rq->mem_kib) < 0)
            continue;
        if (!found || left < b_left || ml < b_ml) {
            found = true;
            b_left = left;
            b_ml = ml;
            bc = c;
        }
    }
    if (!found)
        return false;
    w->best = (struct cand){ true, 1, (uint64_t)hv->min_pair, b_left, b_ml, 1 };
    w->bestC[0] = w->bestM[0] = bc;
    w->bk = w->bnM = 1;
    if (w->tr) {
        w->tr->fast = true;
        w->M[0] = bc;
        w->nM = 1;
        trace_add(w, &bc, 1, &w->best);
    }
    return true;
}

/* Sets of nodes on a large host: each node with capacity and its k-1
 * nearest CPU nodes with capacity, for the smallest k where one fits. A set
 * fits when every node takes its share, floor(V*u_i/T) <= cap_i (V: vCPUs
 * x1000, T: the set's CPUs), that is when T >= V*u_i/(cap_i+1) + 1 for all
 * of them: one running maximum per seed finds its smallest k in one walk. */
static void seeded_sets(struct work *w, uint32_t *ks)
{
    const struct hostview *hv = w->hv;
    size_t n = hv->n;
    uint64_t V = (uint64_t)w->rq->vcpus * 1000;
    size_t kmin = SIZE_MAX;
    for (size_t s = 0; s < hv->ncpu; s++) {
        uint32_t seed = hv->cpu_list[s];
        ks[s] = UINT32_MAX;
        if (hv->cap_milli[seed] <= 0)
            continue;
        const uint32_t *row = hv->near + (size_t)seed * n;
        uint64_t T = hv->n_ucpus[seed];
        uint64_t needT = V * hv->n_ucpus[seed] / (uint64_t)(hv->cap_milli[seed] + 1) + 1;
        size_t k = 1;
        for (size_t i = 0; i + 1 < hv->ncpu && k < kmin; i++) {
            uint32_t x = row[i];
            if (hv->cap_milli[x] <= 0)
                continue;
            k++;
            T += hv->n_ucpus[x];
            uint64_t nt = V * hv->n_ucpus[x] / (uint64_t)(hv->cap_milli[x] + 1) + 1;
            if (nt > needT)
                needT = nt;
            if (T >= needT) {
                ks[s] = (uint32_t)k;
                kmin = k;
                break;
            }
        }
    }
    for (size_t s = 0; kmin != SIZE_MAX && s < hv->ncpu; s++) {
        if (ks[s] != kmin)
            continue;
        uint32_t seed = hv->cpu_list[s];
        const uint32_t *row = hv->near + (size_t)seed * n;
        size_t got = 0;
        w->C[got++] = seed;
        for (size_t i = 0; i + 1 < hv->ncpu && got < kmin; i++)
            if (hv->cap_milli[row[i]] > 0)
                w->C[got++] = row[i];
        if (got == kmin)
            consider(w, w->C, kmin);
    }
}

int solve_one(const struct hostview *hv, const struct solve_req *rq, cgp_bitmap **cpu_nodes,
              cgp_bitmap **mem_nodes, uint64_t *dist, struct solve_trace *tr)
{
    if (!rq->vcpus)
        return -EINVAL;
    size_t n = hv->n;
    if (!n)
        return -ENOSPC;
    struct work w = { .hv = hv, .rq = rq, .tr = tr };
    if (tr)
        memset(tr, 0, sizeof *tr);
    /* scratch made by hv_init: u64 first for alignment */
    uint64_t *mkey = w.mkey = (uint64_t *)hv->scratch + n;
    uint32_t *C = w.C = (uint32_t *)(mkey + n);
    w.bestC = C + n;
    w.bestM = w.bestC + n;
    w.M = w.bestM + n;
    w.fixM = w.M + n;
    uint32_t *ks = w.fixM + n;
    w.mo = ks + n;

    if (rq->fixed_mem_nodes) {
        for (size_t i = 0; i < n; i++)
            if (cgp_bitmap_test(rq->fixed_mem_nodes, (unsigned)hv->id[i]))
                w.fixM[w.nfixM++] = (uint32_t)i;
    } else if (!(w.jmin = mem_jmin(hv, rq->mem_kib))) {
        return -ENOSPC;
    }

    if (rq->fixed_cpu_nodes) {
        /* the guest's CPUs are given: only memory is chosen; vCPU capacity is
         * the operator's business there */
        if (rq->fixed_mem_nodes)
            return -ENOSPC;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (cgp_bitmap_test(rq->fixed_cpu_nodes, (unsigned)hv->id[i]) && hv->tn[2][i])
                C[k++] = (uint32_t)i;
        uint64_t d;
        int64_t ml;
        if (!k || !pick_mem(&w, C, k, &d, &ml))
            return -ENOSPC;
        for (size_t x = 0; x < k; x++)
            for (size_t y = 0; y < k; y++)
                if (C[x] < C[y])
                    d += (uint64_t)hv->ldist[(size_t)C[x] * n + C[y]];
        int r = out_sets(hv, C, k, w.M, w.nM, cpu_nodes, mem_nodes);
        if (r == 0)
            *dist = d;
        return r;
    }

    int64_t want = (int64_t)rq->vcpus * 1000, room = 0;
    size_t nfree = 0;
    for (size_t s = 0; s < hv->ncpu; s++)
        if (hv->cap_milli[hv->cpu_list[s]] > 0) {
            room += hv->cap_milli[hv->cpu_list[s]];
            nfree++;
        }
    /* no set of nodes can take the vCPUs: the shares of a set add up to
     * at least vcpus - k (each rounded down), on nodes with capacity */
    if (room + (int64_t)nfree < want)
        return -ENOSPC;
    if (!fast_local(&w)) {
        for (size_t s = 0; s < hv->ncpu; s++) {
            uint32_t c = hv->cpu_list[s];
            if (hv->cap_milli[c] < want)
                continue;
            /* its nearest memory is at the head of its order */
            if (w.best.ok && w.best.pk == 1 && w.jmin > 0 &&
                (uint64_t)hv->ldist[(size_t)c * n + hv->memord[(size_t)c * hv->nmem]] > w.best.dist)
                continue;
            C[0] = c;
            consider(&w, C, 1);
        }
        /* several nodes: where none alone fits, or where nodes of one
         * package could be nearer than the best single node */
        bool multi = !w.best.ok ||
                     (hv->same_pkg_pair && w.best.dist > 2 * (uint64_t)hv->min_pair + (uint64_t)hv->min_cc);
        if (multi && hv->ncpu <= SMALL_HOST) {
            for (uint32_t mask = 1; mask < (1u << hv->ncpu); mask++) {
                if (!(mask & (mask - 1)))
                    continue; /* single nodes: done */
                size_t k = 0;
                bool ok = true;
                for (size_t i = 0; i < hv->ncpu && ok; i++)
                    if (mask >> i & 1) {
                        C[k++] = hv->cpu_list[i];
                        ok = hv->cap_milli[hv->cpu_list[i]] > 0;
                    }
                if (ok)
                    consider(&w, C, k);
            }
        } else if (multi) {
            seeded_sets(&w, ks);
        }
    }
    if (!w.best.ok)
        return -ENOSPC;
    int r = out_sets(hv, w.bestC, w.bk, w.bestM, w.bnM, cpu_nodes, mem_nodes);
    if (r == 0)
        *dist = w.best.dist;
    return r;
}

void solved_clear(struct solved *s)
{
    cgp_bitmap_free(s->cpu_nodes);
    cgp_bitmap_free(s->mem_nodes);
    cgp_bitmap_free(s->cpus);
    memset(s, 0, sizeof *s);
}

int solve_place(struct hostview *hv, const struct solve_req *rq, struct solved *out,
                struct solve_trace *tr)
{
    int r = -ENOSPC;
    struct solved s = { 0 };
    for (unsigned t = 0; t < 3 && r == -ENOSPC; t++) {
        if (t > 0 && hv->tier_same[t - 1])
            continue;
        hv_set_tier(hv, t);
        r = solve_one(hv, rq, &s.cpu_nodes, &s.mem_nodes, &s.dist, tr);
        s.tier = t;
    }
    if (r == 0 && !rq->fixed_cpu_nodes) {
        if (!(s.cpus = cgp_bitmap_new()))
            r = -ENOMEM;
        cgp_bitmap_foreach(s.cpu_nodes, id) {
            int x = hv_index(hv, id);
            if (r == 0 && x >= 0)
                r = cgp_bitmap_or(s.cpus, hv->ucpus[x]);
        }
    }
    if (tr)
        tr->tier = s.tier;
    hv_set_tier(hv, 0);
    if (r < 0) {
        solved_clear(&s);
        return r;
    }
    *out = s;
    return 0;
}

uint64_t hv_cost(const struct hostview *hv, const cgp_bitmap *cpu_nodes, const cgp_bitmap *mem_nodes)
{
    uint64_t d = 0;
    size_t n = hv->n;
    cgp_bitmap_foreach(cpu_nodes, a) {
        int x = hv_index(hv, a);
        if (x < 0)
            continue;
        cgp_bitmap_foreach(mem_nodes, b) {
            int y = hv_index(hv, b);
            if (y >= 0)
                d += (uint64_t)hv->ldist[(size_t)x * n + (size_t)y];
        }
        cgp_bitmap_foreach(cpu_nodes, b) {
            int y = hv_index(hv, b);
            if (y >= 0 && x < y)
                d += (uint64_t)hv->ldist[(size_t)x * n + (size_t)y];
        }
    }
    return d;
}

