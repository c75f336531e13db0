/* The host view and the deterministic `auto` solver (spec §3).
 *
 * For one guest: every node with usable CPUs is tried alone, then (where no
 * single node fits) each such node with its k-1 nearest CPU nodes, for the
 * smallest k that fits. For a CPU set C the memory goes to the nearest
 * memory nodes of C: the nearest single node with enough room, else the
 * nearest j nodes that each have room for 1/j of it, for the smallest j.
 * Candidates of the same k compare by: fewest distinct nodes, least vCPU
 * capacity left over, least total distance, least memory left over, lowest
 * node ids. Nothing depends on hash order or the clock. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>

#define DIST_UNKNOWN 255

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
    memset(hv, 0, sizeof *hv);
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
            hv->mem_avail[i] = (int64_t)nd->mem_total_kib - (int64_t)reserve_kib;
            uint64_t fr = nd->mem_free_kib == CGP_UNKNOWN_U64 ? nd->mem_total_kib : nd->mem_free_kib;
            hv->mem_free[i] = (int64_t)fr - (int64_t)reserve_kib;
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
    return 0;
}

int hv_index(const struct hostview *hv, int id)
{
    for (size_t i = 0; i < hv->n; i++)
        if (hv->id[i] == id)
            return (int)i;
    return -1;
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
        uint64_t best = UINT64_MAX;
        for (size_t m = 0; m < hv->n; m++)
            if (hv->has_mem[m] && (hv_mem_key(hv, c, m) >> 20) < best)
                best = hv_mem_key(hv, c, m) >> 20;
        for (size_t m = 0; m < hv->n; m++)
            if (hv->has_mem[m] && (hv_mem_key(hv, c, m) >> 20) == best &&
                cgp_bitmap_set(b, (unsigned)hv->id[m]) < 0)
                goto oom;
    }
    *out = b;
    return 0;
oom:
    cgp_bitmap_free(b);
    return -ENOMEM;
}

static int64_t ceil_div(uint64_t a, uint64_t b)
{
    return (int64_t)((a + b - 1) / b);
}

void hv_commit(struct hostview *hv, const cgp_bitmap *cpu_nodes, unsigned vcpus,
               const cgp_bitmap *mem_nodes, uint64_t mem_kib)
{
    unsigned total = 0;
    for (size_t i = 0; i < hv->n; i++)
        if (cpu_nodes && cgp_bitmap_test(cpu_nodes, (unsigned)hv->id[i]))
            total += hv->n_ucpus[i];
    for (size_t i = 0; total && i < hv->n; i++)
        if (cgp_bitmap_test(cpu_nodes, (unsigned)hv->id[i]))
            hv->cap_milli[i] -= (int64_t)((uint64_t)vcpus * 1000 * hv->n_ucpus[i] / total);
    unsigned nm = 0;
    for (size_t i = 0; i < hv->n; i++)
        if (mem_nodes && hv->has_mem[i] && cgp_bitmap_test(mem_nodes, (unsigned)hv->id[i]))
            nm++;
    for (size_t i = 0; nm && mem_kib && i < hv->n; i++) {
        if (hv->has_mem[i] && cgp_bitmap_test(mem_nodes, (unsigned)hv->id[i])) {
            hv->mem_avail[i] -= ceil_div(mem_kib, nm);
            hv->mem_free[i] -= ceil_div(mem_kib, nm);
        }
    }
}

/* ------------------------------------------------------------------ */

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

struct work {
    const struct hostview *hv;
    size_t *order;     /* scratch: n */
    uint64_t *key;     /* scratch: n */
    bool *inC, *inM;   /* scratch: n */
};

static int64_t avail(const struct hostview *hv, size_t m)
{
    int64_t a = hv->mem_avail[m];
    if (hv->use_free && hv->mem_free[m] < a)
        a = hv->mem_free[m];
    return a;
}

static int cmp_by_key(const void *a, const void *b, void *arg)
{
    const uint64_t *keys = arg;
    uint64_t ka = keys[*(const size_t *)a], kb = keys[*(const size_t *)b];
    return ka < kb ? -1 : ka > kb;
}

/* keys are unique (they end in the node index), so the order is total */
static void sort_idx(size_t *v, size_t n, const uint64_t *keys)
{
    qsort_r(v, n, sizeof *v, cmp_by_key, (void *)keys);
}

/* Choose memory nodes for CPU set inC; fills inM, returns false when none. */
static bool choose_mem(struct work *w, uint64_t mem_kib, int64_t *mem_left)
{
    const struct hostview *hv = w->hv;
    size_t nm = 0;
    for (size_t m = 0; m < hv->n; m++) {
        w->inM[m] = false;
        if (!hv->has_mem[m])
            continue;
        uint64_t best = UINT64_MAX;
        for (size_t c = 0; c < hv->n; c++)
            if (w->inC[c] && hv_mem_key(hv, c, m) < best)
                best = hv_mem_key(hv, c, m);
        w->key[m] = best;
        w->order[nm++] = m;
    }
    if (!nm)
        return false;
    sort_idx(w->order, nm, w->key);
    for (size_t j = 1; j <= nm; j++) {
        int64_t need = ceil_div(mem_kib, j);
        size_t got = 0;
        int64_t left = 0;
        for (size_t i = 0; i < nm && got < j; i++) {
            size_t m = w->order[i];
            if (avail(hv, m) >= need) {
                w->inM[m] = true;
                left += avail(hv, m) - need;
                got++;
            }
        }
        if (got == j) {
            *mem_left = left;
            return true;
        }
        for (size_t m = 0; m < hv->n; m++)
            w->inM[m] = false;
        if (mem_kib == 0)
            break;
    }
    return false;
}

/* Evaluate the current inC (and inM when fixed). */
static bool evaluate(struct work *w, const struct solve_req *rq, struct cand *c)
{
    const struct hostview *hv = w->hv;
    unsigned total = 0;
    int64_t cap = 0;
    size_t k = 0;
    for (size_t i = 0; i < hv->n; i++)
        if (w->inC[i]) {
            total += hv->n_ucpus[i];
            cap += hv->cap_milli[i];
            k++;
        }
    if (!total)
        return false;
    for (size_t i = 0; i < hv->n; i++)
        if (w->inC[i] && (int64_t)((uint64_t)rq->vcpus * 1000 * hv->n_ucpus[i] / total) > hv->cap_milli[i])
            return false;
    int64_t mem_left = 0;
    if (rq->fixed_mem_nodes) {
        for (size_t m = 0; m < hv->n; m++)
            w->inM[m] = cgp_bitmap_test(rq->fixed_mem_nodes, (unsigned)hv->id[m]);
    } else if (!choose_mem(w, rq->mem_kib, &mem_left)) {
        return false;
    }
    size_t distinct = 0;
    uint64_t dist = 0;
    for (size_t i = 0; i < hv->n; i++) {
        distinct += w->inC[i] || w->inM[i];
        for (size_t j = 0; j < hv->n; j++) {
            if (w->inC[i] && w->inM[j])
                dist += (uint64_t)hv->dist[i * hv->n + j];
            if (w->inC[i] && w->inC[j] && i < j)
                dist += (uint64_t)hv->dist[i * hv->n + j];
        }
    }
    *c = (struct cand){ true, distinct, cap - (int64_t)rq->vcpus * 1000, dist, mem_left, 0 };
    return true;
}

static int to_bitmap(const struct hostview *hv, const bool *in, cgp_bitmap **out)
{
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < hv->n; i++)
        if (in[i] && cgp_bitmap_set(b, (unsigned)hv->id[i]) < 0) {
            cgp_bitmap_free(b);
            return -ENOMEM;
        }
    *out = b;
    return 0;
}

int solve_one(const struct hostview *hv, const struct solve_req *rq, cgp_bitmap **cpu_nodes,
              cgp_bitmap **mem_nodes)
{
    if (!rq->vcpus)
        return -EINVAL;
    size_t n = hv->n;
    if (!n)
        return -ENOSPC;
    struct work w = { .hv = hv };
    size_t *cpu_order CGP_AUTOFREE = calloc(n, sizeof *cpu_order);
    uint64_t *ckey CGP_AUTOFREE = calloc(n, sizeof *ckey);
    bool *bestC CGP_AUTOFREE = calloc(n, sizeof *bestC);
    bool *bestM CGP_AUTOFREE = calloc(n, sizeof *bestM);
    size_t *order CGP_AUTOFREE = w.order = calloc(n, sizeof *w.order);
    uint64_t *key CGP_AUTOFREE = w.key = calloc(n, sizeof *w.key);
    bool *inC CGP_AUTOFREE = w.inC = calloc(n, sizeof *w.inC);
    bool *inM CGP_AUTOFREE = w.inM = calloc(n, sizeof *w.inM);
    if (!cpu_order || !ckey || !bestC || !bestM || !order || !key || !inC || !inM)
        return -ENOMEM;
    struct cand best = { 0 };

    if (rq->fixed_cpu_nodes) {
        for (size_t i = 0; i < n; i++)
            inC[i] = cgp_bitmap_test(rq->fixed_cpu_nodes, (unsigned)hv->id[i]) && hv->n_ucpus[i];
        /* the guest's CPUs are given: only memory is chosen; vCPU capacity is
         * the operator's business there */
        int64_t mem_left = 0;
        if (rq->fixed_mem_nodes || !choose_mem(&w, rq->mem_kib, &mem_left))
            return -ENOSPC;
        int r = to_bitmap(hv, inC, cpu_nodes);
        if (r < 0)
            return r;
        if ((r = to_bitmap(hv, inM, mem_nodes)) < 0) {
            cgp_bitmap_free(*cpu_nodes);
            return r;
        }
        return 0;
    }

    size_t ncpu = 0;
    for (size_t i = 0; i < n; i++)
        if (hv->n_ucpus[i])
            cpu_order[ncpu++] = i;
    for (size_t k = 1; k <= ncpu && !best.ok; k++) {
        for (size_t s = 0; s < ncpu; s++) {
            size_t seed = cpu_order[s];
            /* seed plus its k-1 nearest CPU nodes */
            size_t *near = order; /* reuse scratch before choose_mem overwrites it */
            size_t nn = 0;
            for (size_t i = 0; i < ncpu; i++) {
                size_t x = cpu_order[i];
                if (x == seed)
                    continue;
                ckey[x] = ((uint64_t)hv->dist[seed * n + x] << 20) | x;
                near[nn++] = x;
            }
            sort_idx(near, nn, ckey);
            for (size_t i = 0; i < n; i++)
                inC[i] = false;
            inC[seed] = true;
            for (size_t i = 0; i + 1 < k && i < nn; i++)
                inC[near[i]] = true;
            struct cand c;
            if (!evaluate(&w, rq, &c))
                continue;
            c.seed = seed;
            if (better(&c, &best)) {
                best = c;
                memcpy(bestC, inC, n * sizeof *inC);
                memcpy(bestM, inM, n * sizeof *inM);
            }
        }
    }
    if (!best.ok)
        return -ENOSPC;
    int r = to_bitmap(hv, bestC, cpu_nodes);
    if (r < 0)
        return r;
    if ((r = to_bitmap(hv, bestM, mem_nodes)) < 0) {
        cgp_bitmap_free(*cpu_nodes);
        return r;
    }
    return 0;
}
