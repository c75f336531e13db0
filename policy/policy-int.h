/* Internal: compiled placement, host view and the auto solver. */
#ifndef CGP_POLICY_INT_H
#define CGP_POLICY_INT_H

#include "../parsers/policy-ast.h"

/* The host as the solver sees it; arrays by node index (topology order). */
struct hostview {
    const cgp_topology *t;
    size_t n;
    int *id;                 /* node id */
    cgp_bitmap **ucpus;      /* online, unreserved CPUs */
    unsigned *n_ucpus;
    bool *has_mem;           /* online, MemTotal known and > 0 */
    int64_t *cap_milli;      /* vCPU capacity left, x1000 */
    int64_t *mem_avail;      /* KiB left: MemTotal - reserve - committed */
    int64_t *mem_free;       /* KiB: MemFree - reserve (suggest only) */
    bool use_free;           /* cap memory by mem_free too (suggest) */
    int *dist;               /* n x n SLIT by index; unknown = 255 */
    bool *hmat;              /* n x n: hmat[c*n+m]: m lists c as access0 initiator */
    unsigned overcommit_milli;
    uint64_t reserve_kib;
    /* node orders, fixed by the topology (made once by hv_init) */
    size_t ncpu;             /* nodes with usable CPUs ... */
    uint32_t *cpu_list;      /* ... in index order */
    uint32_t *near;          /* n x n: row c: the CPU nodes other than c by
                              * (distance from c, index); ncpu or ncpu-1 used */
    size_t nmem;             /* nodes with memory ... */
    uint32_t *mem_list;      /* ... in index order */
    uint32_t *memord;        /* n x nmem: row c: memory nodes by hv_mem_key(c, .) */
    int *id_idx;             /* node id -> index, -1: none; ids < n_id */
    size_t n_id;
    void *scratch;           /* solve_one's work arrays (one solve at a time) */
};

int hv_init(struct hostview *hv, const cgp_topology *t, const cgp_bitmap *reserved,
            unsigned overcommit_milli, uint64_t reserve_kib);
void hv_clear(struct hostview *hv);
int hv_index(const struct hostview *hv, int id);
/* Nearness key of memory node m from CPU node c (smaller is nearer). */
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
/* Record a guest's commitments: vCPUs spread over cpu_nodes by usable CPU
 * count, memory spread evenly over mem_nodes (ids). */
void hv_commit(struct hostview *hv, const cgp_bitmap *cpu_nodes, unsigned vcpus,
               const cgp_bitmap *mem_nodes, uint64_t mem_kib);

struct solve_req {
    unsigned vcpus;
    uint64_t mem_kib;
    const cgp_bitmap *fixed_cpu_nodes;   /* NULL: choose */
    const cgp_bitmap *fixed_mem_nodes;   /* NULL: choose */
};

/* Auto placement of one guest (spec §3). On success *cpu_nodes and
 * *mem_nodes hold node ids (new bitmaps). -ENOSPC: no placement. */
int solve_one(const struct hostview *hv, const struct solve_req *rq, cgp_bitmap **cpu_nodes,
              cgp_bitmap **mem_nodes);

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

struct gp_priv {
    struct cgp_guest_placement pub;
    struct cgp_thread_placement *vcpu;
    struct cgp_iothread_placement *io;
    struct cgp_match *matches;
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
    size_t *proc_guests;     /* storage of every procs[i].guests */
};

/* Match the processes to p's blocks once (policy/running.c): pl->procs
 * filled, running[b] set for every block some process matches. Pidfiles are
 * read relative to root_fd (-1: none). 0 or -ENOMEM. */
int pl_match_procs(cgp_placement *pl, const cgp_policy *p, int root_fd, const struct cgp_guest *const *procs,
                   size_t n_procs, bool *running);
/* Once the guests are built: each guest's proc (see cgp_guest_placement). */
void pl_assign_procs(cgp_placement *pl);

/* Take ownership of b (NULL passes through; on ENOMEM b is freed, NULL). */
cgp_bitmap *pl_own(cgp_placement *pl, cgp_bitmap *b);
char *pl_strdup(cgp_placement *pl, const char *s);

#endif
