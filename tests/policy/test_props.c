/* Property tests of `auto` on random hosts (issue 14), deterministic (a
 * fixed LCG, no clock). The model the checks use is spec §3's, written here
 * again: node i has u_i CPUs and u_i x overcommit of vCPU capacity; a guest
 * on CPU nodes C puts floor(1000 v u_i / sum_C u) thousandths on node i and
 * ceil(m / |M|) KiB on each memory node of M; its distance is the SLIT
 * summed over C x M plus over the pairs of C.
 *  - local optimality: no guest has a feasible (C, M), every other guest
 *    where it is, strictly nearer than the one it got;
 *  - pins: an auto guest shares a CPU with a one-to-one pin only when no
 *    (C, M) fits on the CPUs nobody pins (the other guests where they are). */
#include "policy-test.h"

#define MAXN 5
#define MAXG 6

struct rng {
    uint64_t s;
};

static unsigned rnd(struct rng *r, unsigned lo, unsigned hi)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (unsigned)((r->s >> 33) % (hi - lo + 1));
}

struct host {
    size_t n;
    struct hnode nd[MAXN];
    int dist[MAXN * MAXN];
    unsigned first[MAXN];    /* first CPU of each node */
};

static void random_host(struct rng *r, struct host *h)
{
    h->n = rnd(r, 2, MAXN);
    unsigned cpu = 0;
    bool cpus = false, mem = false;
    for (size_t i = 0; i < h->n; i++) {
        unsigned kind = rnd(r, 0, 9); /* 0-5 both, 6-7 CPUs only, 8-9 memory only */
        h->nd[i].cpus = kind < 8 ? rnd(r, 1, 4) : 0;
        h->nd[i].mem_mib = kind < 6 || kind >= 8 ? 512 * rnd(r, 2, 12) : 0;
        if (i == h->n - 1 && !cpus && !h->nd[i].cpus)
            h->nd[i].cpus = 2;
        if (i == h->n - 1 && !mem && !h->nd[i].mem_mib)
            h->nd[i].mem_mib = 2048;
        cpus |= h->nd[i].cpus > 0;
        mem |= h->nd[i].mem_mib > 0;
        h->first[i] = cpu;
        cpu += h->nd[i].cpus;
    }
    for (size_t i = 0; i < h->n; i++)
        for (size_t j = i; j < h->n; j++)
            h->dist[i * h->n + j] = h->dist[j * h->n + i] = i == j ? 10 : (int)rnd(r, 11, 40);
}

static int node_of_cpu(const struct host *h, unsigned c)
{
    for (size_t i = 0; i < h->n; i++)
        if (c >= h->first[i] && c < h->first[i] + h->nd[i].cpus)
            return (int)i;
    return -1;
}

struct gplace {
    unsigned v;
    uint64_t kib;
    unsigned C, M;           /* node bit sets */
    bool pinned_cpu;         /* shares a CPU pinned one to one */
    unsigned cnt[MAXN];      /* CPUs it got per node */
};

static unsigned cpu_bits(const struct host *h, const cgp_bitmap *b)
{
    unsigned s = 0;
    cgp_bitmap_foreach(b, c) s |= 1u << node_of_cpu(h, (unsigned)c);
    return s;
}

static unsigned node_bits(const cgp_bitmap *b)
{
    unsigned s = 0;
    cgp_bitmap_foreach(b, x) s |= 1u << x;
    return s;
}

static uint64_t cost(const struct host *h, unsigned C, unsigned M)
{
    uint64_t d = 0;
    for (size_t a = 0; a < h->n; a++) {
        if (!(C >> a & 1))
            continue;
        for (size_t b = 0; b < h->n; b++)
            if (M >> b & 1)
                d += (uint64_t)h->dist[a * h->n + b];
        for (size_t b = a + 1; b < h->n; b++)
            if (C >> b & 1)
                d += (uint64_t)h->dist[a * h->n + b];
    }
    return d;
}

/* The shares of v vCPUs on C, with u[i] CPUs per node, into sh. */
static void shares(const struct host *h, const unsigned *u, unsigned v, unsigned C, int64_t *sh)
{
    unsigned tot = 0;
    for (size_t i = 0; i < h->n; i++)
        tot += C >> i & 1 ? u[i] : 0;
    for (size_t i = 0; i < h->n; i++)
        sh[i] = (C >> i & 1) && tot ? (int64_t)v * 1000 * u[i] / tot : 0;
}

/* Is there a (C, M) for guest g with cost < below (any cost: below =
 * UINT64_MAX), given capacity cap[] and memory avail[] the others left? */
static bool better_exists(const struct host *h, const unsigned *u, const int64_t *cap, const int64_t *avail,
                          const struct gplace *g, uint64_t below, unsigned *bc, unsigned *bm)
{
    for (unsigned C = 1; C < 1u << h->n; C++) {
        bool ok = true;
        int64_t sh[MAXN];
        shares(h, u, g->v, C, sh);
        for (size_t i = 0; i < h->n && ok; i++)
            ok = !(C >> i & 1) || (u[i] > 0 && sh[i] <= cap[i]);
        for (unsigned M = 1; ok && M < 1u << h->n; M++) {
            unsigned k = (unsigned)__builtin_popcount(M);
            int64_t need = (int64_t)((g->kib + k - 1) / k);
            bool fits = true;
            for (size_t i = 0; i < h->n && fits; i++)
                fits = !(M >> i & 1) || (h->nd[i].mem_mib && need <= avail[i]);
            if (fits && cost(h, C, M) < below) {
                *bc = C;
                *bm = M;
                return true;
            }
        }
    }
    return false;
}

static char *policy_text(struct rng *r, const struct host *h, unsigned oc, bool pins, struct gplace *gs,
                         size_t *ng, bool *pinned)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    cr_assert(f);
    fprintf(f, "host { overcommit %u; }\n", oc);
    unsigned ncpu = h->first[h->n - 1] + h->nd[h->n - 1].cpus;
    if (pins && ncpu >= 2) {
        /* a fixed guest pinning every vCPU one to one to a CPU of its own */
        unsigned k = rnd(r, 1, ncpu / 2), c0 = rnd(r, 0, ncpu - k);
        fprintf(f, "guest fixed { vcpus %u; cpus %u-%u; memory 256M nodes auto;", k, c0, c0 + k - 1);
        for (unsigned i = 0; i < k; i++) {
            fprintf(f, " vcpupin %u %u;", i, c0 + i);
            pinned[c0 + i] = true;
        }
        fprintf(f, " }\n");
    }
    *ng = rnd(r, 1, MAXG);
    for (size_t g = 0; g < *ng; g++) {
        gs[g].v = rnd(r, 1, 4);
        gs[g].kib = 256ull * 1024 * rnd(r, 1, 8);
        fprintf(f, "guest g%zu { vcpus %u; cpus auto; memory %lluM nodes auto; }\n", g, gs[g].v,
                (unsigned long long)(gs[g].kib / 1024));
    }
    fclose(f);
    return s;
}

struct inst {
    struct host h;
    struct gplace gs[MAXG];
    size_t ng;
    unsigned oc;
    bool pinned[64];         /* CPUs the fixed guest pins a vCPU to */
    int64_t fixed_mem[MAXN]; /* KiB of the fixed guest per node */
};

static bool compile_instance(struct rng *r, struct host *h, bool pins, unsigned *oc, struct gplace *gs, size_t *ng,
                             bool *pinned, int64_t *fixed_mem);

/* Compile a random instance; fills in->gs from the placement. false when
 * it has no placement (nothing to check). */
static bool run_instance(struct rng *r, bool pins, struct inst *in)
{
    return compile_instance(r, &in->h, pins, &in->oc, in->gs, &in->ng, in->pinned, in->fixed_mem);
}

static bool compile_instance(struct rng *r, struct host *h, bool pins, unsigned *oc, struct gplace *gs, size_t *ng,
                             bool *pinned, int64_t *fixed_mem)
{
    random_host(r, h);
    *oc = rnd(r, 1, 2);
    memset(pinned, 0, 64 * sizeof *pinned);
    char *src = policy_text(r, h, *oc, pins, gs, ng, pinned);
    char *root = mkhost(h->nd, h->n, h->dist);
    cgp_diags *d;
    cgp_placement *pl = NULL;
    int rc = compile_on(root, src, &d, &pl);
    rmhost(root);
    free(src);
    bool ok = rc == 0;
    memset(fixed_mem, 0, MAXN * sizeof *fixed_mem);
    for (size_t i = 0; ok && i < cgp_placement_n_guests(pl); i++) {
        const struct cgp_guest_placement *g = cgp_placement_guest(pl, i);
        if (!strcmp(g->name, "fixed")) {
            unsigned k = cgp_bitmap_count(g->mems);
            cgp_bitmap_foreach(g->mems, x) fixed_mem[x] += (int64_t)((g->memory_kib + k - 1) / k);
            continue;
        }
        size_t gi = (size_t)atoi(g->name + 1);
        gs[gi].C = cpu_bits(h, g->cpus);
        gs[gi].M = node_bits(g->mems);
        gs[gi].pinned_cpu = false;
        memset(gs[gi].cnt, 0, sizeof gs[gi].cnt);
        cgp_bitmap_foreach(g->cpus, c) {
            gs[gi].pinned_cpu |= c < 64 && pinned[c];
            gs[gi].cnt[node_of_cpu(h, (unsigned)c)]++;
        }
    }
    if (!ok)
        cr_assert_eq(rc, -EINVAL, "compile failed: %d", rc);
    cgp_placement_free(pl);
    cgp_diags_free(d);
    return ok;
}

/* What the guests other than skip leave: capacity on u[] CPUs per node and
 * memory per node. */
static void leftovers(const struct host *h, const unsigned *u, unsigned oc, const struct gplace *gs, size_t ng,
                      size_t skip, const int64_t *fixed_mem, int64_t *cap, int64_t *avail)
{
    for (size_t i = 0; i < h->n; i++) {
        cap[i] = (int64_t)u[i] * oc * 1000;
        avail[i] = (int64_t)h->nd[i].mem_mib * 1024 - fixed_mem[i];
    }
    for (size_t g = 0; g < ng; g++) {
        if (g == skip)
            continue;
        int64_t sh[MAXN];
        shares(h, gs[g].cnt, gs[g].v, gs[g].C, sh);
        unsigned k = (unsigned)__builtin_popcount(gs[g].M);
        for (size_t i = 0; i < h->n; i++) {
            cap[i] -= sh[i];
            if (gs[g].M >> i & 1)
                avail[i] -= (int64_t)((gs[g].kib + k - 1) / k);
        }
    }
}

Test(props, auto_is_locally_optimal)
{
    struct rng r = { 14 };
    size_t checked = 0;
    for (int it = 0; it < 60; it++) {
        struct inst in;
        if (!run_instance(&r, false, &in))
            continue;
        const struct host h = in.h;
        const struct gplace *gs = in.gs;
        size_t ng = in.ng;
        unsigned u[MAXN];
        for (size_t i = 0; i < h.n; i++)
            u[i] = h.nd[i].cpus;
        for (size_t g = 0; g < ng; g++) {
            int64_t cap[MAXN], avail[MAXN];
            leftovers(&h, u, in.oc, gs, ng, g, in.fixed_mem, cap, avail);
            unsigned bc = 0, bm = 0;
            uint64_t mine = cost(&h, gs[g].C, gs[g].M);
            cr_expect(!better_exists(&h, u, cap, avail, &gs[g], mine, &bc, &bm),
                      "instance %d guest g%zu: nodes %#x memory %#x (distance %llu) but %#x/%#x is %llu", it,
                      g, gs[g].C, gs[g].M, (unsigned long long)mine, bc, bm,
                      (unsigned long long)cost(&h, bc, bm));
            checked++;
        }
    }
    cr_expect_gt(checked, 40u, "too few placed guests to say anything (%zu)", checked);
}

Test(props, auto_shares_pinned_cpus_only_when_it_must)
{
    struct rng r = { 1414 };
    size_t checked = 0, shared = 0;
    for (int it = 0; it < 60; it++) {
        struct inst in;
        if (!run_instance(&r, true, &in))
            continue;
        const struct host h = in.h;
        const struct gplace *gs = in.gs;
        size_t ng = in.ng;
        const bool *pinned = in.pinned;
        /* CPUs nobody pins, per node */
        unsigned u[MAXN];
        for (size_t i = 0; i < h.n; i++) {
            u[i] = 0;
            for (unsigned c = h.first[i]; c < h.first[i] + h.nd[i].cpus; c++)
                u[i] += !pinned[c];
        }
        for (size_t g = 0; g < ng; g++) {
            checked++;
            if (!gs[g].pinned_cpu)
                continue;
            shared++;
            /* the others' loads lie on unpinned CPUs only when none of
             * them shares pinned ones (else the model cannot say where) */
            bool clean = true;
            for (size_t o = 0; o < ng; o++)
                clean &= o == g || !gs[o].pinned_cpu;
            if (!clean)
                continue;
            int64_t cap[MAXN], avail[MAXN];
            leftovers(&h, u, in.oc, gs, ng, g, in.fixed_mem, cap, avail);
            unsigned bc = 0, bm = 0;
            cr_expect(!better_exists(&h, u, cap, avail, &gs[g], UINT64_MAX, &bc, &bm),
                      "instance %d guest g%zu shares pinned CPUs, but nodes %#x (unpinned CPUs) and memory "
                      "%#x fit", it, g, bc, bm);
        }
    }
    cr_expect_gt(checked, 40u, "too few placed guests (%zu)", checked);
    cr_log_info("%zu of %zu auto guests share pinned CPUs", shared, checked);
}
