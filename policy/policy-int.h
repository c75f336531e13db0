/* Internal: compiled placement, host view and the auto solver. */
#ifndef CGP_POLICY_INT_H
#define CGP_POLICY_INT_H

#include "../parsers/policy-ast.h"
#include "cgplace_guests.h"

/* The host as the solver sees it; arrays by node index (topology order).
 *
 * Commitments are counted per CPU (load, in thousandths of a vCPU): a fixed
 * guest's vCPU counts on the CPUs it may run on (its pin, else the guest's
 * cpus), an auto guest's vCPUs on the CPUs it was given. A node's vCPU
 * capacity is the sum of its CPUs' room (overcommit - load, not below 0).
 * `auto` sees the CPUs in tiers (hv_tiers): tier 0 avoids CPUs other guests
 * pin one vCPU to (and their thread siblings) and CPUs with no room, tier 1
 * only the pinned and the full ones, tier 2 none; the solver takes the first
 * tier where the guest fits. ucpus, n_ucpus and cap_milli are the view of
 * the current tier (hv_set_tier). */
struct hostview {
    const cgp_topology *t;
    size_t n;
    int *id;                 /* node id */
    cgp_bitmap **ucpus;      /* CPUs of the current tier (online, unreserved) */
    unsigned *n_ucpus;
    int64_t *cap_milli;      /* vCPU capacity left in the current tier, x1000 */
    cgp_bitmap **tcpus[3];   /* per tier: the CPUs auto may use, by node */
    unsigned *tn[3];
    int64_t *tcap[3];
    bool tier_same[2];       /* tier t has the CPUs of tier t+1 */
    unsigned tier;
    bool *has_mem;           /* online, MemTotal known and > 0 */
    int64_t *mem_avail;      /* KiB left: MemTotal - reserve - committed */
    int64_t *mem_free;       /* KiB: MemFree - reserve (suggest only) */
    bool use_free;           /* cap memory by mem_free too (suggest) */
    int *dist;               /* n x n SLIT by index; unknown = 255 */
    int *ldist;              /* n x n locality distance: SLIT, except that a
                              * memory node's HMAT access0 initiators are at
                              * the least SLIT distance any CPU node has to it */
    bool *hmat;              /* n x n: hmat[c*n+m]: m lists c as access0 initiator */
    int *pkg;                /* package of the node's CPUs; -1 unknown or mixed */
    unsigned overcommit_milli;
    uint64_t reserve_kib;
    /* per CPU, by id < n_cpu_id */
    size_t n_cpu_id;
    int64_t *load;           /* vCPU thousandths committed */
    unsigned *pin1;          /* vCPUs pinned to this CPU alone */
    int *cpu_node;           /* node index, -1 none */
    /* node orders, fixed by the topology (made once by hv_init) */
    size_t ncpu;             /* nodes with usable CPUs ... */
    uint32_t *cpu_list;      /* ... in index order */
    uint32_t *near;          /* n x n: row c: the CPU nodes other than c by
                              * (distance from c, index); ncpu or ncpu-1 used */
    size_t nmem;             /* nodes with memory ... */
    uint32_t *mem_list;      /* ... in index order */
    uint32_t *memord;        /* n x nmem: row c: memory nodes by hv_mem_key(c, .) */
    int min_pair;            /* least ldist from a CPU node to a memory node */
    bool min_pair_self_only; /* only a node's own memory is that near */
    bool same_pkg_pair;      /* two CPU nodes share a package (or it is unknown) */
    int min_cc;              /* least ldist between two CPU nodes */
    int *id_idx;             /* node id -> index, -1: none; ids < n_id */
    size_t n_id;
    void *scratch;           /* solve_one's work arrays (one solve at a time) */
};

int hv_init(struct hostview *hv, const cgp_topology *t, const cgp_bitmap *reserved,
            unsigned overcommit_milli, uint64_t reserve_kib);
void hv_clear(struct hostview *hv);
int hv_index(const struct hostview *hv, int id);
/* Nearness key of memory node m from CPU node c (smaller is nearer):
 * locality distance, then own node / HMAT initiator / other, then index. */
uint64_t hv_mem_key(const struct hostview *hv, size_t c, size_t m);
/* Node ids (as a bitmap) of the nodes owning any CPU of cpus. */
int hv_nodes_of_cpus(const struct hostview *hv, const cgp_bitmap *cpus, cgp_bitmap **out);
/* `local`: per CPU node, itself when it has memory, else its nearest memory
 * nodes (all tied at the best key). Empty when the host has no memory. */
int hv_local_mems(const struct hostview *hv, const cgp_bitmap *cpu_nodes, cgp_bitmap **out);
/* KiB left on memory node m (by index), capped by free memory for suggest. */
static inline int64_t hv_avail(const struct hostview *hv, size_t m)
{
    int64_t a = hv->mem_avail[m];
    if (hv->use_free && hv->mem_free[m] < a)
        a = hv->mem_free[m];
    return a;
}
/* The ids of the nodes at indexes v[0..k) as a new bitmap. */
int hv_bitmap(const struct hostview *hv, const uint32_t *v, size_t k, cgp_bitmap **out);
/* Memory spread evenly over mem_nodes (ids): sign +1 commits, -1 takes back. */
void hv_commit_mem(struct hostview *hv, const cgp_bitmap *mem_nodes, uint64_t mem_kib, int sign);
/* One vCPU of a guest whose CPUs are given: it counts evenly on cpus; a
 * one-CPU set is a one-to-one pin. */
void hv_commit_vcpu(struct hostview *hv, const cgp_bitmap *cpus);
/* After the fixed guests: the tiers of CPUs auto may use. 0 or -ENOMEM. */
int hv_tiers(struct hostview *hv);
void hv_set_tier(struct hostview *hv, unsigned tier);
/* What an auto guest put on each CPU, to take it back. */
struct hv_load {
    uint32_t cpu;
    int64_t milli;
};
struct hv_loads {
    struct hv_load *v;
    size_t n, cap;
};
/* An auto guest's vCPUs on cpus (CPUs of cpu_nodes, ids): each node takes
 * its share by CPU count, spread over its CPUs by their room. The loads are
 * appended to rec when not NULL. 0 or -ENOMEM (nothing committed). */
int hv_commit_auto(struct hostview *hv, const cgp_bitmap *cpu_nodes, const cgp_bitmap *cpus,
                   unsigned vcpus, struct hv_loads *rec);
void hv_uncommit(struct hostview *hv, const struct hv_loads *rec);
/* The per-CPU loads and memory left, to try something and go back. */
struct hv_saved {
    int64_t *load, *mem_avail, *mem_free;
};
int hv_save(const struct hostview *hv, struct hv_saved *s);
void hv_restore(struct hostview *hv, const struct hv_saved *s);
void hv_saved_free(struct hv_saved *s);

struct solve_req {
    unsigned vcpus;
    uint64_t mem_kib;
    const cgp_bitmap *fixed_cpu_nodes;   /* NULL: choose */
    const cgp_bitmap *fixed_mem_nodes;   /* NULL: choose */
};

/* What solve_one looked at, for `plan -v` (the best few, best first). */
#define SOLVE_TRACE_MAX 4
struct solve_trace {
    size_t n;
    struct {
        uint32_t cn[8], mn[8];           /* node indexes, the first 8 */
        uint8_t ncn, nmn;                /* how many there are (may be > 8) */
        uint64_t dist;
        int64_t cpu_left;
    } c[SOLVE_TRACE_MAX];
    bool fast;               /* a node with its own memory: the least distance */
    unsigned tier;
    bool best;               /* placed by solve_best() (set by the compiler) */
};

/* Auto placement of one guest in the current tier (spec §3): the least
 * distance between its CPUs and its memory (and between its CPU nodes),
 * then the least vCPU capacity left, the least memory left, the fewest
 * nodes. On success *cpu_nodes and *mem_nodes hold node ids (new bitmaps)
 * and *dist the distance. -ENOSPC: no placement. tr may be NULL. */
int solve_one(const struct hostview *hv, const struct solve_req *rq, cgp_bitmap **cpu_nodes,
              cgp_bitmap **mem_nodes, uint64_t *dist, struct solve_trace *tr);

/* solve_one in the first tier where the guest fits; *cpus: the CPUs it
 * gets (the tier's CPUs of *cpu_nodes). Leaves hv in tier 0. */
struct solved {
    cgp_bitmap *cpu_nodes, *mem_nodes, *cpus;
    uint64_t dist;
    unsigned tier;
};
int solve_place(struct hostview *hv, const struct solve_req *rq, struct solved *out,
                struct solve_trace *tr);
void solved_clear(struct solved *s);
/* The distance of a placement (node id sets), as solve_one counts it. */
uint64_t hv_cost(const struct hostview *hv, const cgp_bitmap *cpu_nodes, const cgp_bitmap *mem_nodes);

/* Work budget of solve_best() (one unit per option looked at). */
#define SOLVE_BEST_BUDGET 2000000u

/* On hosts of at most 10 CPU and 10 memory nodes: a placement of all n
 * guests rq[0..n) (cpus auto, in the current tier) whose total distance is
 * less than incumbent, in which no guest spans several packages while one
 * package could hold it (the others where they are); the least
 * found within budget. cpu_nodes[i]/mem_nodes[i] (NULL on entry) get node
 * ids. -ENOSPC: none better found; -E2BIG: the host or a guest is outside
 * what it searches; -ENOMEM. hv is not changed. */
int solve_best(const struct hostview *hv, const struct solve_req *rq, size_t n,
               uint64_t incumbent, uint64_t budget, cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes);

/* Work budget of solve_all() (about one unit per node looked at). */
#define SOLVE_ALL_BUDGET 1000000u

/* The fallback when one-guest-at-a-time placement fails for some guest:
 * a deterministic, bounded depth-first search for a placement of all n
 * guests rq[0..n) (in that order) on hv as it is (hv is not changed).
 * CPUs and memory are searched apart (the two do not constrain each other):
 * first every guest's CPU nodes, then every guest's memory nodes, each
 * guest's candidates tried in preference order, backtracking over the
 * earlier guests' choices. On success cpu_nodes[i] and mem_nodes[i] hold
 * node ids (new bitmaps). -ENOSPC: none found within budget units of work. */
int solve_all(const struct hostview *hv, const struct solve_req *rq, size_t n, uint64_t budget,
              cgp_bitmap **cpu_nodes, cgp_bitmap **mem_nodes);

/* Why an auto guest went where it did (cgp_placement_reason). A guest
 * taken by the fast path (a node with its own memory at the least distance)
 * keeps only that node; others keep the solver's trace (node ids). */
struct why {
    bool set, fast;
    int node;                /* fast: the node */
    int64_t left;            /* fast: vCPU room left, x1000 */
    uint64_t dist;
    unsigned tier;
    bool all, best;          /* placed by solve_all() / solve_best() */
    struct solve_trace *tr;  /* owned; NULL for fast, all and best */
};

struct gp_priv {
    struct cgp_guest_placement pub;
    struct cgp_thread_placement *vcpu;
    struct cgp_iothread_placement *io;
    struct cgp_match *matches;
    struct cgp_cell_placement *cells;
    struct why why;          /* auto guests: why they went where they did */
};

struct cgp_placement {
    struct cgp_host_settings host;
    size_t n;
    struct gp_priv *g;
    /* everything owned, freed together */
    struct cgp_arena arena;
    /* the matching of the running processes, done once (compile_running) */
    size_t n_procs;
    struct cgp_proc_match *procs;
    size_t *proc_guests;     /* storage of every procs[i].guests */    struct cgp_trust trust;  /* host.trust: lists in the arena */
};

/* Match the processes to p's blocks once (policy/running.c): pl->procs
 * filled, running[b] set for every block some process matches. Pidfiles are
 * read relative to root_fd (-1: none). 0 or -ENOMEM. */
/* The host block's trust settings into pl->trust (copied). 0 or -ENOMEM. */
int pl_trust_settings(cgp_placement *pl, const struct pol_host *h);
int pl_match_procs(cgp_placement *pl, const cgp_policy *p, cgp_ctx *ctx, const struct cgp_guest *const *procs,
                   size_t n_procs, bool *running);
/* Once the guests are built: each guest's proc (see cgp_guest_placement). */
void pl_assign_procs(cgp_placement *pl);

/* Take ownership of b (NULL passes through; on ENOMEM b is freed, NULL). */
cgp_bitmap *pl_own(cgp_placement *pl, cgp_bitmap *b);
char *pl_strdup(cgp_placement *pl, const char *s);

#endif
