/* The host view and the deterministic `auto` solver for one guest (spec §3).
 *
 * For one guest (solve_one): every node with usable CPUs is tried alone,
 * then (where no single node fits) each node with free vCPU capacity with
 * its k-1 nearest CPU nodes that have free vCPU capacity, for the smallest
 * k that fits. For a CPU set C the memory goes to the nearest memory nodes
 * of C: the nearest single node with enough room, else the nearest j nodes
 * that each have room for 1/j of it, for the smallest j. Candidates of the
 * same k compare by: fewest distinct nodes, least vCPU capacity left over,
 * least total distance, least memory left over, lowest node ids. Nothing
 * depends on hash order or the clock.
 *
 * Node orders depend on the topology only and are made once by hv_init();
 * a single-node candidate then costs a few arithmetic operations plus a
 * walk down its memory order, and the smallest j is the same for every C.
 *
 * solve_all(), the bounded fallback search over all guests, is in
 * solver-all.c. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define DIST_UNKNOWN 255

static int hv_orders(struct hostview *hv);

void hv_clear(struct hostview *hv)
{
    if (hv->ucpus)
        for (size_t i = 0; i < hv->n; i++)
            cgp_bitmap_free(hv->ucpus[i]);
    free(hv->ucpus);
    free(hv->id);
    free(hv->n_ucpus);
    free(hv->has_mem);
    free(hv->cap_milli);
    free(hv->mem_avail);
    free(hv->mem_free);
    free(hv->dist);
    free(hv->hmat);
    free(hv->cpu_list);
    free(hv->near);
    free(hv->mem_list);
    free(hv->memord);
    free(hv->id_idx);
    free(hv->scratch);
    memset(hv, 0, sizeof *hv);
}

static int cmp_by_key(const void *a, const void *b, void *arg)
{
    const uint64_t *keys = arg;
    uint64_t ka = keys[*(const uint32_t *)a], kb = keys[*(const uint32_t *)b];
    return ka < kb ? -1 : ka > kb;
}

/* keys are unique (they end in the node index), so the order is total */
static void sort_idx(uint32_t *v, size_t n, const uint64_t *keys)
{
    qsort_r(v, n, sizeof *v, cmp_by_key, (void *)keys);
}

/* The node orders of struct hostview (topology only). */
static int hv_orders(struct hostview *hv)
{
    size_t n = hv->n, nn = n ? n : 1;
    hv->cpu_list = calloc(nn, sizeof *hv->cpu_list);
    hv->mem_list = calloc(nn, sizeof *hv->mem_list);
    hv->near = calloc(nn * nn, sizeof *hv->near);
    hv->memord = calloc(nn * nn, sizeof *hv->memord);
    uint64_t *key CGP_AUTOFREE = calloc(nn, sizeof *key);
    int maxid = -1;
    for (size_t i = 0; i < n; i++)
        if (hv->id[i] > maxid)
            maxid = hv->id[i];
    hv->n_id = (size_t)(maxid + 1);
    hv->id_idx = malloc((hv->n_id ? hv->n_id : 1) * sizeof *hv->id_idx);
    /* solve_one's scratch: key (u64 x n), C, bestC, bestM, M, fixM, ks (uint32 x n), inC */
    hv->scratch = calloc(nn, 6 * sizeof(uint32_t) + sizeof(uint64_t) + sizeof(bool));
    if (!hv->cpu_list || !hv->mem_list || !hv->near || !hv->memord || !key || !hv->id_idx ||
        !hv->scratch) {
        hv_clear(hv);
        return -ENOMEM;
    }
    for (size_t i = 0; i < hv->n_id; i++)
        hv->id_idx[i] = -1;
    for (size_t i = 0; i < n; i++)
        if (hv->id[i] >= 0)
            hv->id_idx[hv->id[i]] = (int)i;
    for (size_t i = 0; i < n; i++) {
        if (hv->n_ucpus[i])
            hv->cpu_list[hv->ncpu++] = (uint32_t)i;
        if (hv->has_mem[i])
            hv->mem_list[hv->nmem++] = (uint32_t)i;
    }
    for (size_t c = 0; c < n; c++) {
        uint32_t *row = hv->near + c * n;
        size_t k = 0;
        for (size_t i = 0; i < hv->ncpu; i++) {
            uint32_t x = hv->cpu_list[i];
            if (x == c)
                continue;
            key[x] = ((uint64_t)hv->dist[c * n + x] << 20) | x;
            row[k++] = x;
        }
        sort_idx(row, k, key);
        uint32_t *mrow = hv->memord + c * hv->nmem;
        for (size_t i = 0; i < hv->nmem; i++) {
            uint32_t m = hv->mem_list[i];
            key[m] = hv_mem_key(hv, c, m);
            mrow[i] = m;
        }
        sort_idx(mrow, hv->nmem, key);
    }
    return 0;
}

int hv_init(struct hostview *hv, const cgp_topology *t, const cgp_bitmap *reserved,
            unsigned overcommit_milli, uint64_t reserve_kib)
{
    memset(hv, 0, sizeof *hv);
    size_t n = cgp_topology_n_nodes(t);
    hv->t = t;
    hv->n = n;
    hv->overcommit_milli = overcommit_milli;
    hv->reserve_kib = reserve_kib;
    size_t nn = n ? n : 1;
    hv->id = calloc(nn, sizeof *hv->id);
    hv->ucpus = calloc(nn, sizeof *hv->ucpus);
    hv->n_ucpus = calloc(nn, sizeof *hv->n_ucpus);
    hv->has_mem = calloc(nn, sizeof *hv->has_mem);
    hv->cap_milli = calloc(nn, sizeof *hv->cap_milli);
    hv->mem_avail = calloc(nn, sizeof *hv->mem_avail);
    hv->mem_free = calloc(nn, sizeof *hv->mem_free);
    hv->dist = calloc(nn * nn, sizeof *hv->dist);
    hv->hmat = calloc(nn * nn, sizeof *hv->hmat);
    if (!hv->id || !hv->ucpus || !hv->n_ucpus || !hv->has_mem || !hv->cap_milli ||
        !hv->mem_avail || !hv->mem_free || !hv->dist || !hv->hmat) {
        hv_clear(hv);
        return -ENOMEM;
    }
    const cgp_bitmap *online = cgp_topology_cpus_online(t);
    for (size_t i = 0; i < n; i++) {
        const struct cgp_node *nd = cgp_topology_node(t, i);
        hv->id[i] = nd->id;
        if (!(hv->ucpus[i] = cgp_bitmap_dup(nd->cpus))) {
            hv_clear(hv);
            return -ENOMEM;
        }
        cgp_bitmap_and(hv->ucpus[i], online);
        if (reserved)
            cgp_bitmap_andnot(hv->ucpus[i], reserved);
        if (!nd->online)
            cgp_bitmap_clear_all(hv->ucpus[i]);
        hv->n_ucpus[i] = cgp_bitmap_count(hv->ucpus[i]);
        hv->cap_milli[i] = (int64_t)hv->n_ucpus[i] * overcommit_milli;
        bool mem = nd->online && nd->mem_total_kib != CGP_UNKNOWN_U64 && nd->mem_total_kib > 0;
        hv->has_mem[i] = mem;
        if (mem) {
            hv->mem_avail[i] = cgp_size_i64(nd->mem_total_kib) - cgp_size_i64(reserve_kib);
            uint64_t fr = nd->mem_free_kib == CGP_UNKNOWN_U64 ? nd->mem_total_kib : nd->mem_free_kib;
            hv->mem_free[i] = cgp_size_i64(fr) - cgp_size_i64(reserve_kib);
        }
    }
    for (size_t a = 0; a < n; a++) {
        for (size_t b = 0; b < n; b++) {
            int d = cgp_topology_distance(t, hv->id[a], hv->id[b]);
            if (d < 0)
                d = a == b ? 10 : DIST_UNKNOWN;
            hv->dist[a * n + b] = d;
            const struct cgp_node *mb = cgp_topology_node(t, b);
            hv->hmat[a * n + b] = mb->initiators && cgp_bitmap_test(mb->initiators, (unsigned)hv->id[a]);
        }
    }
    return hv_orders(hv);
}

int hv_index(const struct hostview *hv, int id)
{
    return id >= 0 && (size_t)id < hv->n_id ? hv->id_idx[id] : -1;
}

uint64_t hv_mem_key(const struct hostview *hv, size_t c, size_t m)
{
    uint64_t cls = c == m ? 0 : hv->hmat[c * hv->n + m] ? 1 : 2;
    return (cls << 40) | ((uint64_t)hv->dist[c * hv->n + m] << 20) | (uint64_t)m;
}

int hv_nodes_of_cpus(const struct hostview *hv, const cgp_bitmap *cpus, cgp_bitmap **out)
{
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < hv->n; i++) {
        if (cgp_bitmap_overlaps(cgp_topology_node(hv->t, i)->cpus, cpus) &&
            cgp_bitmap_set(b, (unsigned)hv->id[i]) < 0) {
            cgp_bitmap_free(b);
            return -ENOMEM;
        }
    }
    *out = b;
    return 0;
}

int hv_local_mems(const struct hostview *hv, const cgp_bitmap *cpu_nodes, cgp_bitmap **out)
{
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    for (size_t c = 0; c < hv->n; c++) {
        if (!cgp_bitmap_test(cpu_nodes, (unsigned)hv->id[c]))
            continue;
        if (hv->has_mem[c]) {
            if (cgp_bitmap_set(b, (unsigned)hv->id[c]) < 0)
                goto oom;
            continue;
        }
        /* the nearest memory nodes: the head of c's memory order, all
         * tied at the best key (class and distance) */
        const uint32_t *mrow = hv->memord + c * hv->nmem;
        for (size_t i = 0; i < hv->nmem; i++) {
            if ((hv_mem_key(hv, c, mrow[i]) >> 20) != (hv_mem_key(hv, c, mrow[0]) >> 20))
                break;
            if (cgp_bitmap_set(b, (unsigned)hv->id[mrow[i]]) < 0)
                goto oom;
        }
    }
    *out = b;
    return 0;
oom:
    cgp_bitmap_free(b);
    return -ENOMEM;
}

int hv_bitmap(const struct hostview *hv, const uint32_t *v, size_t k, cgp_bitmap **out)
{
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < k; i++)
        if (cgp_bitmap_set(b, (unsigned)hv->id[v[i]]) < 0) {
            cgp_bitmap_free(b);
            return -ENOMEM;
        }
    *out = b;
    return 0;
}

static int64_t ceil_div(uint64_t a, uint64_t b)
{
    return (int64_t)((a + b - 1) / b);
}

void hv_commit(struct hostview *hv, const cgp_bitmap *cpu_nodes, unsigned vcpus,
               const cgp_bitmap *mem_nodes, uint64_t mem_kib)
{
    unsigned total = 0;
    if (cpu_nodes) {
        cgp_bitmap_foreach(cpu_nodes, id) {
            int i = hv_index(hv, id);
            if (i >= 0)
                total += hv->n_ucpus[i];
        }
        if (total) {
            cgp_bitmap_foreach(cpu_nodes, id) {
                int i = hv_index(hv, id);
                if (i >= 0)
                    hv->cap_milli[i] -= (int64_t)((uint64_t)vcpus * 1000 * hv->n_ucpus[i] / total);
            }
        }
    }
    if (!mem_nodes || !mem_kib)
        return;
    unsigned nm = 0;
    cgp_bitmap_foreach(mem_nodes, id) {
        int i = hv_index(hv, id);
        nm += i >= 0 && hv->has_mem[i];
    }
    if (!nm)
        return;
    cgp_bitmap_foreach(mem_nodes, id) {
        int i = hv_index(hv, id);
        if (i >= 0 && hv->has_mem[i]) {
            hv->mem_avail[i] -= ceil_div(mem_kib, nm);
            hv->mem_free[i] -= ceil_div(mem_kib, nm);
        }
    }
}

/* ------------------------------------------------------------------ */
/* solve_one */

struct cand {
    bool ok;
    size_t n_nodes;
    int64_t cpu_left;
    uint64_t dist;
    int64_t mem_left;
    size_t seed;
};

static bool better(const struct cand *a, const struct cand *b)
{
    if (!b->ok)
        return true;
    if (a->n_nodes != b->n_nodes)
        return a->n_nodes < b->n_nodes;
    if (a->cpu_left != b->cpu_left)
        return a->cpu_left < b->cpu_left;
    if (a->dist != b->dist)
        return a->dist < b->dist;
    if (a->mem_left != b->mem_left)
        return a->mem_left < b->mem_left;
    return a->seed < b->seed;
}

/* The smallest j such that j memory nodes each have room for 1/j of
 * mem_kib (memory is spread evenly); 0 when there is none. The nodes a C
 * gets are then the nearest j of those with room, whatever C is. */
static size_t mem_jstar(const struct hostview *hv, uint64_t mem_kib, int64_t *need)
{
    size_t nm = hv->nmem;
    for (size_t i = 0; i < nm; i++)
        if (hv_avail(hv, hv->mem_list[i]) >= (int64_t)mem_kib) {
            *need = (int64_t)mem_kib;
            return 1;
        }
    if (mem_kib == 0 || nm < 2)
        return 0;
    /* room in decreasing order: j fits when the j-th largest holds 1/j */
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
    for (size_t j = 2; j <= nm; j++) {
        int64_t nd = (int64_t)((mem_kib + j - 1) / j);
        if (a[j - 1] >= nd) {
            *need = nd;
            return j;
        }
    }
    return 0;
}

struct work {
    const struct hostview *hv;
    const struct solve_req *rq;
    size_t jstar;            /* memory nodes to choose (0: fixed memory) */
    int64_t need;            /* KiB on each */
    bool *inC;               /* by index, for the current C */
    uint64_t *key;           /* scratch: by index */
    uint32_t *M;             /* the current M */
    size_t nM;
    uint32_t *fixM;          /* fixed memory nodes (by index) */
    size_t nfixM;
};

/* Memory nodes for the CPU set C[0..k) (inC set): fills w->M. */
static bool pick_mem(struct work *w, const uint32_t *C, size_t k, int64_t *mem_left)
{
    const struct hostview *hv = w->hv;
    size_t j = w->jstar;
    int64_t left = 0;
    w->nM = 0;
    if (k == 1) {
        const uint32_t *row = hv->memord + (size_t)C[0] * hv->nmem;
        for (size_t i = 0; i < hv->nmem && w->nM < j; i++) {
            int64_t a = hv_avail(hv, row[i]);
            if (a >= w->need) {
                w->M[w->nM++] = row[i];
                left += a - w->need;
            }
        }
    } else {
        /* nearness to the set: the best key from any of its nodes (ties:
         * none, keys end in the node index; no CPU node: index order) */
        for (size_t i = 0; i < hv->nmem; i++) {
            uint32_t m = hv->mem_list[i];
            uint64_t best = k ? UINT64_MAX : m;
            for (size_t x = 0; x < k; x++) {
                uint64_t kk = hv_mem_key(hv, C[x], m);
                if (kk < best)
                    best = kk;
            }
            w->key[m] = hv_avail(hv, m) >= w->need ? best : UINT64_MAX;
        }
        while (w->nM < j) {
            uint64_t best = UINT64_MAX;
            uint32_t bm = 0;
            for (size_t i = 0; i < hv->nmem; i++) {
                uint32_t m = hv->mem_list[i];
                if (w->key[m] < best) {
                    best = w->key[m];
                    bm = m;
                }
            }
            if (best == UINT64_MAX)
                break;
            w->key[bm] = UINT64_MAX;
            w->M[w->nM++] = bm;
            left += hv_avail(hv, bm) - w->need;
        }
    }
    *mem_left = left;
    return w->nM == j && j > 0;
}

/* Evaluate the CPU set C[0..k) into *c (and w->M). */
static bool evaluate(struct work *w, const uint32_t *C, size_t k, struct cand *c)
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
        return false;
    for (size_t x = 0; x < k; x++)
        if ((int64_t)(v * 1000 * hv->n_ucpus[C[x]] / total) > hv->cap_milli[C[x]])
            return false;
    int64_t mem_left = 0;
    if (w->jstar == 0) {
        memcpy(w->M, w->fixM, w->nfixM * sizeof *w->M);
        w->nM = w->nfixM;
    } else if (!pick_mem(w, C, k, &mem_left)) {
        return false;
    }
    for (size_t x = 0; x < k; x++)
        w->inC[C[x]] = true;
    size_t distinct = k;
    uint64_t dist = 0;
    for (size_t y = 0; y < w->nM; y++)
        distinct += !w->inC[w->M[y]];
    for (size_t x = 0; x < k; x++) {
        const int *row = hv->dist + (size_t)C[x] * n;
        for (size_t y = 0; y < w->nM; y++)
            dist += (uint64_t)row[w->M[y]];
        for (size_t y = 0; y < k; y++)
            if (C[x] < C[y])
                dist += (uint64_t)row[C[y]];
    }
    for (size_t x = 0; x < k; x++)
        w->inC[C[x]] = false;
    *c = (struct cand){ true, distinct, cap - (int64_t)v * 1000, dist, mem_left, 0 };
    return true;
}

static int out_sets(const struct hostview *hv, const uint32_t *C, size_t k, const uint32_t *M,
                    size_t nM, cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes)
{
    int r = hv_bitmap(hv, C, k, cpu_nodes);
    if (r < 0)
        return r;
    if ((r = hv_bitmap(hv, M, nM, mem_nodes)) < 0) {
        cgp_bitmap_free(*cpu_nodes);
        *cpu_nodes = NULL;
    }
    return r;
}

int solve_one(const struct hostview *hv, const struct solve_req *rq, cgp_bitmap **cpu_nodes,
              cgp_bitmap **mem_nodes)
{
    if (!rq->vcpus)
        return -EINVAL;
    size_t n = hv->n;
    if (!n)
        return -ENOSPC;
    struct work w = { .hv = hv, .rq = rq };
    /* scratch made by hv_init: u64 first for alignment */
    uint64_t *key = w.key = hv->scratch;
    uint32_t *C = (uint32_t *)(key + n), *bestC = C + n, *bestM = bestC + n;
    uint32_t *M = w.M = bestM + n, *fixM = w.fixM = M + n, *ks = fixM + n;
    bool *inC = w.inC = (bool *)(ks + n);
    (void)inC; /* all false between calls */

    if (rq->fixed_mem_nodes) {
        for (size_t i = 0; i < n; i++)
            if (cgp_bitmap_test(rq->fixed_mem_nodes, (unsigned)hv->id[i]))
                fixM[w.nfixM++] = (uint32_t)i;
    } else if (!(w.jstar = mem_jstar(hv, rq->mem_kib, &w.need))) {
        return -ENOSPC;
    }

    if (rq->fixed_cpu_nodes) {
        /* the guest's CPUs are given: only memory is chosen; vCPU capacity is
         * the operator's business there */
        if (rq->fixed_mem_nodes)
            return -ENOSPC;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (cgp_bitmap_test(rq->fixed_cpu_nodes, (unsigned)hv->id[i]) && hv->n_ucpus[i])
                C[k++] = (uint32_t)i;
        int64_t mem_left;
        if (!pick_mem(&w, C, k, &mem_left))
            return -ENOSPC;
        return out_sets(hv, C, k, w.M, w.nM, cpu_nodes, mem_nodes);
    }

    struct cand best = { 0 };
    size_t bk = 0, bnM = 0;
    int64_t want = (int64_t)rq->vcpus * 1000, room = 0;
    size_t nfree = 0;
    /* A node that holds both the guest's vCPUs and its memory (one
     * distinct node) beats any other candidate; among those the order is
     * plain arithmetic: vCPU capacity left, distance (the node's own SLIT
     * entry), memory left (none counted for fixed memory), index. */
    {
        int64_t b_left = 0, b_ml = 0;
        int b_d = 0;
        uint32_t bc = 0;
        bool found = false;
        for (size_t s = 0; s < hv->ncpu; s++) {
            uint32_t c = hv->cpu_list[s];
            int64_t cap = hv->cap_milli[c];
            if (cap > 0) {
                room += cap;
                nfree++;
            }
            int64_t left = cap - want;
            if (left < 0 || (found && left > b_left))
                continue;
            int64_t ml;
            if (w.jstar) {
                if (w.jstar != 1 || !hv->has_mem[c] || (ml = hv_avail(hv, c) - w.need) < 0)
                    continue;
            } else {
                if (w.nfixM != 1 || fixM[0] != c)
                    continue;
                ml = 0;
            }
            int d = hv->dist[(size_t)c * n + c];
            if (!found || left < b_left || (left == b_left && (d < b_d || (d == b_d && ml < b_ml)))) {
                found = true;
                b_left = left;
                b_d = d;
                b_ml = ml;
                bc = c;
            }
        }
        if (found) {
            C[0] = bc;
            return out_sets(hv, C, 1, C, 1, cpu_nodes, mem_nodes);
        }
    }
    /* no set of nodes can take the vCPUs: the shares of a set add up to
     * at least vcpus - k (each rounded down), on nodes with capacity */
    if (room + (int64_t)nfree < want)
        return -ENOSPC;
    /* other single nodes (memory elsewhere) */
    for (size_t s = 0; s < hv->ncpu; s++) {
        uint32_t c = hv->cpu_list[s];
        int64_t left = hv->cap_milli[c] - want;
        if (left < 0)
            continue;
        /* cannot beat a one-node candidate with less capacity left */
        if (best.ok && best.n_nodes == 1 && left > best.cpu_left)
            continue;
        struct cand cd;
        C[0] = c;
        if (!evaluate(&w, C, 1, &cd))
            continue;
        cd.seed = c;
        if (better(&cd, &best)) {
            best = cd;
            bestC[0] = c;
            bk = 1;
            memcpy(bestM, w.M, w.nM * sizeof *bestM);
            bnM = w.nM;
        }
    }
    /* a node with capacity and its k-1 nearest CPU nodes with capacity, for
     * the smallest k where some such set fits. Memory fits any set (the j
     * nodes with room exist whatever C is), so a set fits when every node
     * takes its share, floor(V*u_i/T) <= cap_i (V: vCPUs x1000, T: the
     * set's CPUs), that is when T >= V*u_i/(cap_i+1) + 1 for all of them:
     * one running maximum per seed finds its smallest k in one walk. */
    if (!best.ok) {
        uint64_t V = (uint64_t)want;
        size_t kmin = SIZE_MAX;
        for (size_t s = 0; s < hv->ncpu; s++) {
            uint32_t seed = hv->cpu_list[s];
            ks[s] = UINT32_MAX; /* by seed position: its smallest k */
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
            C[got++] = seed;
            for (size_t i = 0; i + 1 < hv->ncpu && got < kmin; i++)
                if (hv->cap_milli[row[i]] > 0)
                    C[got++] = row[i];
            struct cand cd;
            if (got < kmin || !evaluate(&w, C, kmin, &cd))
                continue;
            cd.seed = seed;
            if (better(&cd, &best)) {
                best = cd;
                memcpy(bestC, C, kmin * sizeof *C);
                bk = kmin;
                memcpy(bestM, w.M, w.nM * sizeof *bestM);
                bnM = w.nM;
            }
        }
    }
    if (!best.ok)
        return -ENOSPC;
    return out_sets(hv, bestC, bk, bestM, bnM, cpu_nodes, mem_nodes);
}
