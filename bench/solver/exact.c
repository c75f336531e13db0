/* exact.c - exhaustive reference search for the `auto` placement benchmark
 * (bench/solver, issue 4). Standalone: it does not link libcgplace, so it is
 * an independent implementation of the feasibility rules of spec §3.
 *
 * Model (the same rules the solver must honour, written from the spec):
 *   - node i has u_i usable CPUs (online, not reserved) and a vCPU capacity
 *     cap_i = u_i x overcommit (in thousandths); a node with memory has
 *     avail_i = MemTotal_i - reserve KiB.
 *   - a guest (v vCPUs, m KiB) takes a non-empty set C of nodes with CPUs and
 *     a non-empty set M of nodes with memory. Its vCPUs are spread over C in
 *     proportion to the nodes' usable CPUs: node i in C takes
 *     floor(v*1000*u_i / sum_C u) thousandths; its memory is spread evenly:
 *     each node of M takes ceil(m / |M|) KiB.
 *   - a placement of all guests is feasible when no node's capacity is
 *     exceeded.
 *   - distance of a guest = sum over c in C, k in M of D[c][k]
 *                         + sum over c < c' in C of D[c][c'] (node order);
 *     total distance = sum over guests.
 * Exact search: depth-first branch and bound over all (C, M) pairs of every
 * guest, options in increasing distance, with a memo of (guest, remaining
 * capacities) -> exact value or lower bound, and identical guests forced
 * into non-decreasing option order (symmetry). Feasibility is decided by two
 * separate searches (CPUs alone, memory alone): the two resources do not
 * interact, so a placement exists iff both have one.
 *
 * Input (stdin, whitespace separated):
 *   N  u[N]  cap_milli[N]  has_mem[N]  avail_kib[N]  D[N*N]
 *   G  (vcpus mem_kib fixed_mem_mask)[G]  UB
 * fixed_mem_mask: the memory nodes a guest's memory is bound to (`nodes K`,
 * bit i = node i), 0 when the solver chooses.
 * UB: a known total distance (the solver's), or -1. With UB >= 0 the
 * optimisation looks for placements of distance <= UB only.
 * Output: one JSON object on stdout. Budget: EXACT_MAX_NODES (env) search
 * nodes per phase (default 50,000,000); "complete": false when hit. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXN 8
#define MAXG 16
#define MAXS (1 << MAXN)
#define INF ((int64_t)1 << 60)

static int N, G;
static int64_t u[MAXN], cap0[MAXN], avail0[MAXN];
static int has_mem[MAXN];
static int64_t D[MAXN][MAXN];
static int64_t gv[MAXG], gm[MAXG];
static unsigned gfix[MAXG];             /* memory nodes the guest is bound to (0: any) */

/* options */
static int nC, nM;
static unsigned Cset[MAXS], Mset[MAXS];
static int64_t cuse[MAXG][MAXS][MAXN];  /* per guest, per C option: thousandths per node */
static int64_t muse[MAXG][MAXS][MAXN];  /* per guest, per M option: KiB per node */
static int64_t pcost[MAXS][MAXS];
static int npairs;
static int *pair_c, *pair_m;            /* joint options sorted by cost */
static int64_t *pair_cost;

static long long nodes, max_nodes;
static bool aborted;

/* ------------------------------------------------------------------ */
/* memo: key = (g, kmin, state[2N]) */
struct ent {
    bool used, exact;
    int16_t g;
    int32_t kmin;
    int64_t st[2 * MAXN];
    int64_t val;
};
static struct ent *tab;
static size_t tab_cap, tab_n, tab_max = (size_t)1 << 22;

static uint64_t hkey(int g, int kmin, const int64_t *st)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)g * 1000003u ^ (uint64_t)kmin * 7919u;
    for (int i = 0; i < 2 * N; i++) {
        h ^= (uint64_t)st[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static void tab_reset(void)
{
    free(tab);
    tab_cap = (size_t)1 << 10;
    tab_n = 0;
    tab = calloc(tab_cap, sizeof *tab);
}

static struct ent *tab_find(int g, int kmin, const int64_t *st, bool create)
{
    if (create && tab_n * 2 >= tab_cap) {
        if (tab_cap >= tab_max)
            create = false; /* full: stop remembering (slower, still correct) */
        else {
            size_t oc = tab_cap;
            struct ent *old = tab;
            tab_cap *= 2;
            tab = calloc(tab_cap, sizeof *tab);
            tab_n = 0;
            for (size_t i = 0; i < oc; i++)
                if (old[i].used) {
                    struct ent *e = tab_find(old[i].g, old[i].kmin, old[i].st, true);
                    *e = old[i];
                }
            free(old);
        }
    }
    size_t i = hkey(g, kmin, st) & (tab_cap - 1);
    for (;; i = (i + 1) & (tab_cap - 1)) {
        struct ent *e = &tab[i];
        if (!e->used) {
            if (!create)
                return NULL;
            e->used = true;
            e->g = (int16_t)g;
            e->kmin = kmin;
            memcpy(e->st, st, sizeof(int64_t) * 2 * N);
            e->val = -1;
            e->exact = false;
            tab_n++;
            return e;
        }
        if (e->g == g && e->kmin == kmin && !memcmp(e->st, st, sizeof(int64_t) * 2 * N))
            return e;
    }
}

/* ------------------------------------------------------------------ */
static int order[MAXG];   /* guest order of the current phase */
static int64_t sufmin[MAXG + 1];
static int64_t sufdem[MAXG + 1];  /* least total demand of guests lvl.. (feas) */

static bool same_guest_cpu(int a, int b) { return gv[a] == gv[b]; }
static bool same_guest_mem(int a, int b) { return gm[a] == gm[b] && gfix[a] == gfix[b]; }
static bool same_guest(int a, int b) { return gv[a] == gv[b] && gm[a] == gm[b] && gfix[a] == gfix[b]; }

/* Feasibility of one resource. st[0..N) is the capacity left. */
static bool feas(int lvl, int kmin, int64_t *st, bool cpu)
{
    if (lvl == G)
        return true;
    if (aborted || ++nodes > max_nodes) {
        aborted = true;
        return false;
    }
    /* the capacity left must cover the least demand left */
    int64_t room = 0;
    for (int i = 0; i < N; i++)
        room += st[i] > 0 ? st[i] : 0;
    if (room < sufdem[lvl])
        return false;
    int64_t key[2 * MAXN] = { 0 };
    memcpy(key, st, sizeof(int64_t) * N);
    struct ent *e = tab_find(lvl, kmin, key, false);
    if (e)
        return false; /* only failures are stored */
    int g = order[lvl];
    int nopt = cpu ? nC : nM;
    for (int k = kmin; k < nopt; k++) {
        const int64_t *use = cpu ? cuse[g][k] : muse[g][k];
        bool fit = true;
        for (int i = 0; i < N && fit; i++)
            fit = use[i] <= st[i];
        if (!fit)
            continue;
        for (int i = 0; i < N; i++)
            st[i] -= use[i];
        int nk = 0;
        if (lvl + 1 < G && (cpu ? same_guest_cpu(g, order[lvl + 1]) : same_guest_mem(g, order[lvl + 1])))
            nk = k;
        bool ok = feas(lvl + 1, nk, st, cpu);
        for (int i = 0; i < N; i++)
            st[i] += use[i];
        if (ok)
            return true;
        if (aborted)
            return false;
    }
    if (!aborted)
        tab_find(lvl, kmin, key, true);
    return false;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    return a >= INF - b ? INF : a + b;
}

/* Branch and bound: returns the exact least distance of guests lvl.. when
 * it is < budget, else a lower bound >= budget. st[0..N) CPU thousandths
 * left, st[N..2N) KiB left. */
static int64_t bb(int lvl, int kmin, int64_t *st, int64_t budget)
{
    if (lvl == G)
        return 0;
    if (sufmin[lvl] >= budget)
        return sufmin[lvl];
    if (aborted || ++nodes > max_nodes) {
        aborted = true;
        return INF;
    }
    struct ent *e = tab_find(lvl, kmin, st, false);
    if (e && (e->exact || e->val >= budget))
        return e->val;
    int g = order[lvl];
    bool cfit[MAXS], mfit[MAXS];
    for (int k = 0; k < nC; k++) {
        cfit[k] = true;
        for (int i = 0; i < N && cfit[k]; i++)
            cfit[k] = cuse[g][k][i] <= st[i];
    }
    for (int k = 0; k < nM; k++) {
        mfit[k] = true;
        for (int i = 0; i < N && mfit[k]; i++)
            mfit[k] = muse[g][k][i] <= st[N + i];
    }
    bool next_same = lvl + 1 < G && same_guest(g, order[lvl + 1]);
    int64_t best = INF;
    for (int p = kmin; p < npairs; p++) {
        int64_t cutoff = best < budget ? best : budget;
        int64_t c = pair_cost[p];
        if (sat_add(c, sufmin[lvl + 1]) >= cutoff)
            break;
        int ci = pair_c[p], mi = pair_m[p];
        if (!cfit[ci] || !mfit[mi])
            continue;
        for (int i = 0; i < N; i++) {
            st[i] -= cuse[g][ci][i];
            st[N + i] -= muse[g][mi][i];
        }
        int64_t r = bb(lvl + 1, next_same ? p : 0, st, cutoff - c);
        for (int i = 0; i < N; i++) {
            st[i] += cuse[g][ci][i];
            st[N + i] += muse[g][mi][i];
        }
        if (aborted)
            return INF;
        if (r < cutoff - c)
            best = c + r;
    }
    e = tab_find(lvl, kmin, st, true);
    if (best < budget) {
        if (e) {
            e->val = best;
            e->exact = true;
        }
        return best;
    }
    if (e && e->val < budget)
        e->val = budget;
    return budget;
}

static int cmp_pair(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int64_t cx = pcost[x / MAXS][x % MAXS], cy = pcost[y / MAXS][y % MAXS];
    if (cx != cy)
        return cx < cy ? -1 : 1;
    return x - y;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_desc_vm(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (gv[x] != gv[y])
        return gv[x] > gv[y] ? -1 : 1;
    if (gm[x] != gm[y])
        return gm[x] > gm[y] ? -1 : 1;
    return x - y;
}
static int cmp_desc_m(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (gm[x] != gm[y])
        return gm[x] > gm[y] ? -1 : 1;
    return x - y;
}

int main(void)
{
    long long ub;
    if (scanf("%d", &N) != 1 || N < 1 || N > MAXN)
        return 2;
    for (int i = 0; i < N; i++)
        if (scanf("%ld", &u[i]) != 1)
            return 2;
    for (int i = 0; i < N; i++)
        if (scanf("%ld", &cap0[i]) != 1)
            return 2;
    for (int i = 0; i < N; i++)
        if (scanf("%d", &has_mem[i]) != 1)
            return 2;
    for (int i = 0; i < N; i++)
        if (scanf("%ld", &avail0[i]) != 1)
            return 2;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (scanf("%ld", &D[i][j]) != 1)
                return 2;
    if (scanf("%d", &G) != 1 || G < 0 || G > MAXG)
        return 2;
    for (int g = 0; g < G; g++)
        if (scanf("%ld %ld %u", &gv[g], &gm[g], &gfix[g]) != 3)
            return 2;
    if (scanf("%lld", &ub) != 1)
        return 2;
    const char *mx = getenv("EXACT_MAX_NODES");
    max_nodes = mx ? atoll(mx) : 50000000LL;

    unsigned cpu_nodes = 0, mem_nodes = 0;
    for (int i = 0; i < N; i++) {
        if (u[i] > 0)
            cpu_nodes |= 1u << i;
        if (has_mem[i])
            mem_nodes |= 1u << i;
    }
    for (unsigned s = 1; s < (1u << N); s++) {
        if ((s & cpu_nodes) == s)
            Cset[nC++] = s;
        if ((s & mem_nodes) == s)
            Mset[nM++] = s;
    }
    for (int g = 0; g < G; g++) {
        for (int k = 0; k < nC; k++) {
            int64_t tot = 0;
            for (int i = 0; i < N; i++)
                if (Cset[k] >> i & 1)
                    tot += u[i];
            for (int i = 0; i < N; i++)
                cuse[g][k][i] = (Cset[k] >> i & 1) ? gv[g] * 1000 * u[i] / tot : 0;
        }
        for (int k = 0; k < nM; k++) {
            int64_t j = __builtin_popcount(Mset[k]);
            for (int i = 0; i < N; i++)
                muse[g][k][i] = gfix[g] && Mset[k] != gfix[g] ? INF : /* bound elsewhere */
                                (Mset[k] >> i & 1) ? (gm[g] + j - 1) / j : 0;
        }
    }
    int64_t mincost = INF;
    for (int a = 0; a < nC; a++)
        for (int b = 0; b < nM; b++) {
            int64_t c = 0;
            for (int i = 0; i < N; i++) {
                if (!(Cset[a] >> i & 1))
                    continue;
                for (int j = 0; j < N; j++) {
                    if (Mset[b] >> j & 1)
                        c += D[i][j];
                    if (j > i && (Cset[a] >> j & 1))
                        c += D[i][j];
                }
            }
            pcost[a][b] = c;
            if (c < mincost)
                mincost = c;
        }
    npairs = nC * nM;
    int *pairs = malloc(sizeof(int) * (npairs ? npairs : 1));
    pair_c = malloc(sizeof(int) * (npairs ? npairs : 1));
    pair_m = malloc(sizeof(int) * (npairs ? npairs : 1));
    pair_cost = malloc(sizeof(int64_t) * (npairs ? npairs : 1));
    int p = 0;
    for (int a = 0; a < nC; a++)
        for (int b = 0; b < nM; b++)
            pairs[p++] = a * MAXS + b;
    qsort(pairs, npairs, sizeof *pairs, cmp_pair);
    for (p = 0; p < npairs; p++) {
        pair_c[p] = pairs[p] / MAXS;
        pair_m[p] = pairs[p] % MAXS;
        pair_cost[p] = pcost[pair_c[p]][pair_m[p]];
    }

    double t0 = now_ms();
    bool complete = true;
    long long total_nodes = 0;
    /* phase 1: CPUs alone */
    for (int g = 0; g < G; g++)
        order[g] = g;
    qsort(order, G, sizeof *order, cmp_desc_vm);
    int64_t st[2 * MAXN];
    tab_reset();
    nodes = 0;
    aborted = false;
    /* a guest spread over k nodes takes at least v*1000 - (k-1) thousandths */
    sufdem[G] = 0;
    for (int l = G - 1; l >= 0; l--)
        sufdem[l] = sufdem[l + 1] + gv[order[l]] * 1000 - (__builtin_popcount(cpu_nodes) - 1);
    memcpy(st, cap0, sizeof(int64_t) * N);
    bool cpu_ok = nC > 0 || G == 0 ? feas(0, 0, st, true) : false;
    complete &= !aborted;
    total_nodes += nodes;
    /* phase 2: memory alone */
    qsort(order, G, sizeof *order, cmp_desc_m);
    int64_t mst[MAXN];
    for (int i = 0; i < N; i++)
        mst[i] = has_mem[i] ? avail0[i] : 0;
    sufdem[G] = 0;
    for (int l = G - 1; l >= 0; l--)
        sufdem[l] = sufdem[l + 1] + gm[order[l]];
    tab_reset();
    nodes = 0;
    aborted = false;
    bool mem_ok = nM > 0 || G == 0 ? feas(0, 0, mst, false) : false;
    complete &= !aborted;
    total_nodes += nodes;
    /* phase 3: least total distance */
    int64_t opt = -1;
    bool opt_complete = false;
    if (cpu_ok && mem_ok) {
        qsort(order, G, sizeof *order, cmp_desc_vm);
        sufmin[G] = 0;
        for (int l = G - 1; l >= 0; l--)
            sufmin[l] = sufmin[l + 1] + mincost;
        memcpy(st, cap0, sizeof(int64_t) * N);
        for (int i = 0; i < N; i++)
            st[N + i] = has_mem[i] ? avail0[i] : 0;
        tab_reset();
        nodes = 0;
        aborted = false;
        int64_t budget = ub >= 0 ? (int64_t)ub + 1 : INF;
        int64_t r = bb(0, 0, st, budget);
        total_nodes += nodes;
        opt_complete = !aborted;
        if (!aborted && r < budget)
            opt = r;
        else if (!aborted)
            opt = -2; /* nothing <= UB: the UB placement is not feasible here */
    }
    double t1 = now_ms();
    printf("{\"cpu_feasible\": %s, \"mem_feasible\": %s, \"feasible\": %s, \"feas_complete\": %s, "
           "\"optimum\": %ld, \"opt_complete\": %s, \"nodes\": %lld, \"ms\": %.3f}\n",
           cpu_ok ? "true" : "false", mem_ok ? "true" : "false",
           cpu_ok && mem_ok ? "true" : "false", complete ? "true" : "false", opt,
           opt_complete ? "true" : "false", total_nodes, t1 - t0);
    free(tab);
    free(pairs);
    free(pair_c);
    free(pair_m);
    free(pair_cost);
    return 0;
}
