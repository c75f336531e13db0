/* The host as the `auto` solver sees it (struct hostview): node orders made
 * once from the topology, and the commitments of the guests placed so far,
 * counted per CPU and per memory node. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>
#include <stdint.h>

#define DIST_UNKNOWN 255

void hv_clear(struct hostview *hv)
{
    for (int t = 0; t < 3; t++) {
        if (hv->tcpus[t])
            for (size_t i = 0; i < hv->n; i++)
                cgp_bitmap_free(hv->tcpus[t][i]);
        free(hv->tcpus[t]);
        free(hv->tn[t]);
        free(hv->tcap[t]);
    }
    free(hv->id);
    free(hv->has_mem);
    free(hv->mem_avail);
    free(hv->mem_free);
    free(hv->dist);
    free(hv->ldist);
    free(hv->hmat);
    free(hv->pkg);
    free(hv->load);
    free(hv->pin1);
    free(hv->cpu_node);
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
    /* solve_one's scratch: key, mkey (u64 x n), C, bestC, bestM, M, fixM,
     * ks, mo (uint32 x n), inC (bool x n) */
    hv->scratch = calloc(nn, 7 * sizeof(uint32_t) + 2 * sizeof(uint64_t) + sizeof(bool));
    if (!hv->cpu_list || !hv->mem_list || !hv->near || !hv->memord || !key || !hv->id_idx ||
        !hv->scratch)
        return -ENOMEM;
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
    hv->min_pair = INT32_MAX;
    hv->min_cc = INT32_MAX;
    hv->min_pair_self_only = true;
    for (size_t c = 0; c < n; c++) {
        uint32_t *row = hv->near + c * n;
        size_t k = 0;
        for (size_t i = 0; i < hv->ncpu; i++) {
            uint32_t x = hv->cpu_list[i];
            if (x == c)
                continue;
            key[x] = ((uint64_t)hv->ldist[c * n + x] << 20) | x;
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
    for (size_t a = 0; a < hv->ncpu; a++) {
        size_t c = hv->cpu_list[a];
        for (size_t i = 0; i < hv->nmem; i++) {
            size_t m = hv->mem_list[i];
            int d = hv->ldist[c * n + m];
            if (d < hv->min_pair || (d == hv->min_pair && c != m))
                hv->min_pair_self_only = c == m;
            if (d < hv->min_pair)
                hv->min_pair = d;
        }
        for (size_t b = 0; b < hv->ncpu; b++) {
            size_t x = hv->cpu_list[b];
            if (x == c)
                continue;
            if (hv->ldist[c * n + x] < hv->min_cc)
                hv->min_cc = hv->ldist[c * n + x];
            if (hv->pkg[c] < 0 || hv->pkg[c] == hv->pkg[x])
                hv->same_pkg_pair = true;
        }
    }
    return 0;
}

/* Per-CPU arrays and each node's package. */
static int hv_cpus(struct hostview *hv)
{
    const cgp_topology *t = hv->t;
    int last = cgp_bitmap_last(cgp_topology_cpus_present(t));
    size_t nc = last >= 0 ? (size_t)last + 1 : 1;
    hv->n_cpu_id = nc;
    hv->load = calloc(nc, sizeof *hv->load);
    hv->pin1 = calloc(nc, sizeof *hv->pin1);
    hv->cpu_node = malloc(nc * sizeof *hv->cpu_node);
    hv->pkg = calloc(hv->n ? hv->n : 1, sizeof *hv->pkg);
    if (!hv->load || !hv->pin1 || !hv->cpu_node || !hv->pkg)
        return -ENOMEM;
    for (size_t c = 0; c < nc; c++)
        hv->cpu_node[c] = -1;
    for (size_t i = 0; i < hv->n; i++) {
        int pk = -2;
        cgp_bitmap_foreach(cgp_topology_node(t, i)->cpus, c) {
            if ((size_t)c < nc && hv->cpu_node[c] < 0)
                hv->cpu_node[c] = (int)i;
            const struct cgp_cpu *cp = cgp_topology_cpu_by_id(t, c);
            int p = cp && cp->package_known && cp->package >= 0 ? cp->package : -1;
            pk = pk == -2 ? p : pk == p ? pk : -1;
        }
        hv->pkg[i] = pk < 0 ? -1 : pk;
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
    for (int k = 0; k < 3; k++) {
        hv->tcpus[k] = calloc(nn, sizeof *hv->tcpus[k]);
        hv->tn[k] = calloc(nn, sizeof *hv->tn[k]);
        hv->tcap[k] = calloc(nn, sizeof *hv->tcap[k]);
        if (!hv->tcpus[k] || !hv->tn[k] || !hv->tcap[k])
            goto oom;
    }
    hv->has_mem = calloc(nn, sizeof *hv->has_mem);
    hv->mem_avail = calloc(nn, sizeof *hv->mem_avail);
    hv->mem_free = calloc(nn, sizeof *hv->mem_free);
    hv->dist = calloc(nn * nn, sizeof *hv->dist);
    hv->ldist = calloc(nn * nn, sizeof *hv->ldist);
    hv->hmat = calloc(nn * nn, sizeof *hv->hmat);
    if (!hv->id || !hv->has_mem || !hv->mem_avail || !hv->mem_free || !hv->dist || !hv->ldist ||
        !hv->hmat)
        goto oom;
    const cgp_bitmap *online = cgp_topology_cpus_online(t);
    for (size_t i = 0; i < n; i++) {
        const struct cgp_node *nd = cgp_topology_node(t, i);
        hv->id[i] = nd->id;
        for (int k = 0; k < 3; k++) {
            cgp_bitmap *b = hv->tcpus[k][i] = cgp_bitmap_dup(nd->cpus);
            if (!b)
                goto oom;
            cgp_bitmap_and(b, online);
            if (reserved)
                cgp_bitmap_andnot(b, reserved);
            if (!nd->online)
                cgp_bitmap_clear_all(b);
            hv->tn[k][i] = cgp_bitmap_count(b);
            hv->tcap[k][i] = (int64_t)hv->tn[k][i] * overcommit_milli;
        }
        bool mem = nd->online && nd->mem_total_kib != CGP_UNKNOWN_U64 && nd->mem_total_kib > 0;
        hv->has_mem[i] = mem;
        if (mem) {
            hv->mem_avail[i] = cgp_size_i64(nd->mem_total_kib) - cgp_size_i64(reserve_kib);
            uint64_t fr = nd->mem_free_kib == CGP_UNKNOWN_U64 ? nd->mem_total_kib : nd->mem_free_kib;
            hv->mem_free[i] = cgp_size_i64(fr) - cgp_size_i64(reserve_kib);
        }
    }
    hv_set_tier(hv, 2);
    for (size_t a = 0; a < n; a++) {
        for (size_t b = 0; b < n; b++) {
            int d = cgp_topology_distance(t, hv->id[a], hv->id[b]);
            if (d < 0)
                d = a == b ? 10 : DIST_UNKNOWN;
            hv->dist[a * n + b] = hv->ldist[a * n + b] = d;
            const struct cgp_node *mb = cgp_topology_node(t, b);
            hv->hmat[a * n + b] = mb->initiators && cgp_bitmap_test(mb->initiators, (unsigned)hv->id[a]);
        }
    }
    /* HMAT: a memory node's access0 initiators are its nearest CPU nodes */
    for (size_t m = 0; m < n; m++) {
        int best = INT32_MAX;
        bool any = false;
        for (size_t c = 0; c < n; c++) {
            if (!hv->n_ucpus[c] && !hv->hmat[c * n + m])
                continue;
            if (hv->dist[c * n + m] < best)
                best = hv->dist[c * n + m];
            any |= hv->hmat[c * n + m];
        }
        for (size_t c = 0; any && c < n; c++)
            if (hv->hmat[c * n + m] && c != m)
                hv->ldist[c * n + m] = best;
    }
    int r = hv_cpus(hv);
    if (r == 0)
        r = hv_orders(hv);
    if (r < 0)
        goto oom;
    hv_set_tier(hv, 0);
    return 0;
oom:
    hv_clear(hv);
    return -ENOMEM;
}

void hv_set_tier(struct hostview *hv, unsigned tier)
{
    hv->tier = tier;
    hv->ucpus = hv->tcpus[tier];
    hv->n_ucpus = hv->tn[tier];
    hv->cap_milli = hv->tcap[tier];
}

int hv_index(const struct hostview *hv, int id)
{
    return id >= 0 && (size_t)id < hv->n_id ? hv->id_idx[id] : -1;
}

uint64_t hv_mem_key(const struct hostview *hv, size_t c, size_t m)
{
    uint64_t cls = c == m ? 0 : hv->hmat[c * hv->n + m] ? 1 : 2;
    return ((uint64_t)hv->ldist[c * hv->n + m] << 40) | (cls << 32) | (uint64_t)m;
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
         * tied at the best key (distance and class) */
        const uint32_t *mrow = hv->memord + c * hv->nmem;
        for (size_t i = 0; i < hv->nmem; i++) {
            if ((hv_mem_key(hv, c, mrow[i]) >> 32) != (hv_mem_key(hv, c, mrow[0]) >> 32))
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

void hv_commit_mem(struct hostview *hv, const cgp_bitmap *mem_nodes, uint64_t mem_kib, int sign)
{
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
            hv->mem_avail[i] -= sign * ceil_div(mem_kib, nm);
            hv->mem_free[i] -= sign * ceil_div(mem_kib, nm);
        }
    }
}

static int64_t room(const struct hostview *hv, unsigned cpu)
{
    int64_t r = (int64_t)hv->overcommit_milli - hv->load[cpu];
    return r > 0 ? r : 0;
}

/* Node i's capacity in every tier, from its CPUs' loads. */
static void node_caps(struct hostview *hv, size_t i)
{
    if (hv->tier_same[0] && hv->tier_same[1]) {
        int64_t cap = 0;
        cgp_bitmap_foreach(hv->tcpus[2][i], c) {
            if ((size_t)c < hv->n_cpu_id)
                cap += room(hv, (unsigned)c);
        }
        hv->tcap[0][i] = hv->tcap[1][i] = hv->tcap[2][i] = cap;
        return;
    }
    for (int k = 0; k < 3; k++) {
        int64_t cap = 0;
        cgp_bitmap_foreach(hv->tcpus[k][i], c) {
            if ((size_t)c < hv->n_cpu_id)
                cap += room(hv, (unsigned)c);
        }
        hv->tcap[k][i] = cap;
    }
}

void hv_commit_vcpu(struct hostview *hv, const cgp_bitmap *cpus)
{
    unsigned k = 0;
    cgp_bitmap_foreach(cpus, c) k += (size_t)c < hv->n_cpu_id;
    if (!k)
        return;
    unsigned i = 0;
    cgp_bitmap_foreach(cpus, c) {
        if ((size_t)c >= hv->n_cpu_id)
            continue;
        hv->load[c] += 1000 / k + (i++ < 1000 % k);
        if (k == 1)
            hv->pin1[c]++;
    }
    cgp_bitmap_foreach(cpus, c) {
        if ((size_t)c < hv->n_cpu_id && hv->cpu_node[c] >= 0)
            node_caps(hv, (size_t)hv->cpu_node[c]);
    }
}

int hv_tiers(struct hostview *hv)
{
    cgp_bitmap *avoid0 CGP_AUTOBITMAP = cgp_bitmap_new(), *avoid1 CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!avoid0 || !avoid1)
        return -ENOMEM;
    for (size_t c = 0; c < hv->n_cpu_id; c++) {
        if (!hv->pin1[c] && room(hv, (unsigned)c) > 0)
            continue;
        if (cgp_bitmap_set(avoid1, (unsigned)c) < 0 || cgp_bitmap_set(avoid0, (unsigned)c) < 0)
            return -ENOMEM;
        const struct cgp_cpu *cp = hv->pin1[c] ? cgp_topology_cpu_by_id(hv->t, (int)c) : NULL;
        if (cp && cp->siblings && cgp_bitmap_or(avoid0, cp->siblings) < 0)
            return -ENOMEM;
    }
    unsigned tot[3] = { 0 };
    for (size_t i = 0; i < hv->n; i++) {
        for (int k = 0; k < 2; k++) {
            cgp_bitmap_clear_all(hv->tcpus[k][i]);
            if (cgp_bitmap_or(hv->tcpus[k][i], hv->tcpus[2][i]) < 0)
                return -ENOMEM;
            cgp_bitmap_andnot(hv->tcpus[k][i], k ? avoid1 : avoid0);
            hv->tn[k][i] = cgp_bitmap_count(hv->tcpus[k][i]);
        }
        for (int k = 0; k < 3; k++)
            tot[k] += hv->tn[k][i];
        node_caps(hv, i);
    }
    hv->tier_same[0] = tot[0] == tot[1];
    hv->tier_same[1] = tot[1] == tot[2];
    return 0;
}

/* Put a on CPU c, recorded in rec after its first n0 entries; on ENOMEM
 * everything recorded from n0 on is taken back. */
static int add_load(struct hostview *hv, struct hv_loads *rec, size_t n0, unsigned c, int64_t a)
{
    if (rec) {
        if (!CGP_GROW(rec->v, rec->n, rec->cap)) {
            struct hv_loads back = { rec->v + n0, rec->n - n0, 0 };
            hv_uncommit(hv, &back);
            rec->n = n0;
            return -ENOMEM;
        }
        rec->v[rec->n++] = (struct hv_load){ c, a };
    }
    hv->load[c] += a;
    return 0;
}

int hv_commit_auto(struct hostview *hv, const cgp_bitmap *cpu_nodes, const cgp_bitmap *cpus,
                   unsigned vcpus, struct hv_loads *rec)
{
    unsigned total = cgp_bitmap_count(cpus);
    if (!total || !vcpus)
        return 0;
    size_t n0 = rec ? rec->n : 0;
    cgp_bitmap_foreach(cpu_nodes, id) {
        int i = hv_index(hv, id);
        if (i < 0)
            continue;
        const cgp_bitmap *ncpus = cgp_topology_node(hv->t, (size_t)i)->cpus;
        unsigned u = 0;
        int64_t sum = 0;
        cgp_bitmap_foreach(cpus, c) {
            if ((size_t)c < hv->n_cpu_id && cgp_bitmap_test(ncpus, (unsigned)c)) {
                u++;
                sum += room(hv, (unsigned)c);
            }
        }
        if (!u)
            continue;
        int64_t share = (int64_t)((uint64_t)vcpus * 1000 * u / total), left = share;
        /* by room, so that no CPU goes over while another has some;
         * evenly where there is none (the guest is over capacity) */
        for (int pass = 0; pass < 2 && left > 0; pass++) {
            cgp_bitmap_foreach(cpus, c) {
                if ((size_t)c >= hv->n_cpu_id || !cgp_bitmap_test(ncpus, (unsigned)c) || left <= 0)
                    continue;
                int64_t r = room(hv, (unsigned)c), a;
                if (pass == 0)
                    a = sum > 0 ? share * r / sum : share / u;
                else
                    a = r > 0 ? (r < left ? r : left) : 0;
                if (a > left)
                    a = left;
                if (!a)
                    continue;
                if (add_load(hv, rec, n0, (unsigned)c, a) < 0)
                    return -ENOMEM;
                left -= a;
            }
        }
        if (left > 0) {
            /* no room left anywhere: the first CPU takes the rest */
            int c = cgp_bitmap_next(cpus, 0);
            while (c >= 0 && !cgp_bitmap_test(ncpus, (unsigned)c))
                c = cgp_bitmap_next(cpus, (unsigned)c + 1);
            if (c >= 0 && (size_t)c < hv->n_cpu_id && add_load(hv, rec, n0, (unsigned)c, left) < 0)
                return -ENOMEM;
        }
        node_caps(hv, (size_t)i);
    }
    return 0;
}

void hv_uncommit(struct hostview *hv, const struct hv_loads *rec)
{
    for (size_t k = 0; k < rec->n; k++)
        hv->load[rec->v[k].cpu] -= rec->v[k].milli;
    for (size_t k = 0; k < rec->n; k++) {
        int i = hv->cpu_node[rec->v[k].cpu];
        if (i >= 0 && (k == 0 || hv->cpu_node[rec->v[k - 1].cpu] != i))
            node_caps(hv, (size_t)i);
    }
}

int hv_save(const struct hostview *hv, struct hv_saved *s)
{
    size_t nn = hv->n ? hv->n : 1;
    s->load = malloc(hv->n_cpu_id * sizeof *s->load);
    s->mem_avail = malloc(nn * sizeof *s->mem_avail);
    s->mem_free = malloc(nn * sizeof *s->mem_free);
    if (!s->load || !s->mem_avail || !s->mem_free) {
        hv_saved_free(s);
        return -ENOMEM;
    }
    memcpy(s->load, hv->load, hv->n_cpu_id * sizeof *s->load);
    memcpy(s->mem_avail, hv->mem_avail, hv->n * sizeof *s->mem_avail);
    memcpy(s->mem_free, hv->mem_free, hv->n * sizeof *s->mem_free);
    return 0;
}

void hv_restore(struct hostview *hv, const struct hv_saved *s)
{
    memcpy(hv->load, s->load, hv->n_cpu_id * sizeof *s->load);
    memcpy(hv->mem_avail, s->mem_avail, hv->n * sizeof *s->mem_avail);
    memcpy(hv->mem_free, s->mem_free, hv->n * sizeof *s->mem_free);
    for (size_t i = 0; i < hv->n; i++)
        node_caps(hv, i);
}

void hv_saved_free(struct hv_saved *s)
{
    free(s->load);
    free(s->mem_avail);
    free(s->mem_free);
    memset(s, 0, sizeof *s);
}
