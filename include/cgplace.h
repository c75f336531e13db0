/* cgplace.h — public API of libcgplace.
 *
 * Conventions for every function here:
 *  - Functions returning int return 0 (or a count) on success and a negative
 *    errno on failure. They never print and never exit.
 *  - Out-parameters are written only on success.
 *  - Objects returned through out-parameters are owned by the caller and are
 *    released with the matching *_free() function; *_free(NULL) is a no-op.
 *  - Pointers obtained from an accessor (e.g. cgp_topology_node()) are borrowed:
 *    valid until the owning object is freed.
 *
 * Common errno meanings: -ENOMEM allocation failed; -EINVAL malformed input;
 * -ERANGE a number or list item out of range; -ENOENT a required file or
 * object is missing; -EIO a file had content that could not be parsed
 * (the context's last error names the file).
 */
#ifndef CGPLACE_H
#define CGPLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CGP_BUILDING_LIB)
#define CGP_EXPORT __attribute__((visibility("default")))
#else
#define CGP_EXPORT
#endif

/* ------------------------------------------------------------------ */
/* Bitmaps: sets of CPU or node ids, dynamically sized.                */
/* ------------------------------------------------------------------ */

typedef struct cgp_bitmap cgp_bitmap;

/* Largest id a parsed list may name (inclusive bound is CGP_MAX_ID - 1). */
#define CGP_MAX_ID (1u << 20)

/* New empty bitmap. Returns NULL on ENOMEM. */
CGP_EXPORT cgp_bitmap *cgp_bitmap_new(void);
CGP_EXPORT void cgp_bitmap_free(cgp_bitmap *b);
/* Deep copy; NULL on ENOMEM. */
CGP_EXPORT cgp_bitmap *cgp_bitmap_dup(const cgp_bitmap *b);

/* Parse libvirt list syntax: items "N", "N-M", "^N", "^N-M" separated by
 * commas, whitespace allowed around tokens; "^" items remove from what came
 * before. Ids must be < limit (0 means CGP_MAX_ID).
 * Returns 0, -EINVAL (syntax; *err_pos set to the byte offset of the fault,
 * if err_pos non-NULL), -ERANGE (id >= limit or N > M; *err_pos set) or -ENOMEM. */
CGP_EXPORT int cgp_bitmap_parse(const char *s, unsigned limit, cgp_bitmap **out,
                                size_t *err_pos);
/* Parse a kernel hex mask ("00000000,000000ff": comma-separated 32-bit words,
 * most significant first). Trailing newline, NUL and spaces are ignored.
 * Returns 0, -EINVAL (with *err_pos), -ERANGE (a bit at or above CGP_MAX_ID,
 * with *err_pos) or -ENOMEM. */
CGP_EXPORT int cgp_bitmap_parse_hex(const char *s, cgp_bitmap **out, size_t *err_pos);

/* Canonical list ("0-3,8"; "" for the empty set). Caller frees with free().
 * NULL on ENOMEM. */
CGP_EXPORT char *cgp_bitmap_format(const cgp_bitmap *b);

CGP_EXPORT int cgp_bitmap_set(cgp_bitmap *b, unsigned bit);          /* 0 or -ENOMEM/-ERANGE */
CGP_EXPORT int cgp_bitmap_set_range(cgp_bitmap *b, unsigned lo, unsigned hi);
CGP_EXPORT void cgp_bitmap_clear(cgp_bitmap *b, unsigned bit);
CGP_EXPORT void cgp_bitmap_clear_all(cgp_bitmap *b);
CGP_EXPORT bool cgp_bitmap_test(const cgp_bitmap *b, unsigned bit);
CGP_EXPORT unsigned cgp_bitmap_count(const cgp_bitmap *b);
CGP_EXPORT bool cgp_bitmap_is_empty(const cgp_bitmap *b);
/* Next set bit >= from, or -1. */
CGP_EXPORT int cgp_bitmap_next(const cgp_bitmap *b, unsigned from);
/* Next clear bit >= from (always exists). */
CGP_EXPORT int cgp_bitmap_next_clear(const cgp_bitmap *b, unsigned from);
/* Highest set bit, or -1. */
CGP_EXPORT int cgp_bitmap_last(const cgp_bitmap *b);
CGP_EXPORT bool cgp_bitmap_equal(const cgp_bitmap *a, const cgp_bitmap *b);
CGP_EXPORT bool cgp_bitmap_subset(const cgp_bitmap *sub, const cgp_bitmap *super);
CGP_EXPORT bool cgp_bitmap_overlaps(const cgp_bitmap *a, const cgp_bitmap *b);
/* In place: dst |= src (0 or -ENOMEM), dst &= src, dst &= ~src. */
CGP_EXPORT int cgp_bitmap_or(cgp_bitmap *dst, const cgp_bitmap *src);
CGP_EXPORT void cgp_bitmap_and(cgp_bitmap *dst, const cgp_bitmap *src);
CGP_EXPORT void cgp_bitmap_andnot(cgp_bitmap *dst, const cgp_bitmap *src);

#define cgp_bitmap_foreach(b, i) \
    for (int i = cgp_bitmap_next((b), 0); i >= 0; i = cgp_bitmap_next((b), (unsigned)i + 1))

/* ------------------------------------------------------------------ */
/* Context: where the host's files are.                                */
/* ------------------------------------------------------------------ */

typedef struct cgp_ctx cgp_ctx;

/* Open a context. sysroot: directory that holds sys/ and proc/ (NULL = "/").
 * cgroup_root: the cgroup v2 hierarchy (NULL = found later from mountinfo).
 * Returns 0, -ENOENT/-ENOTDIR/-EACCES (sysroot unusable), -EMEDIUMTYPE
 * (sysroot "/" whose sys/ is not sysfs or proc/ not procfs) or -ENOMEM. */
CGP_EXPORT int cgp_ctx_new(const char *sysroot, const char *cgroup_root, cgp_ctx **out);
CGP_EXPORT void cgp_ctx_free(cgp_ctx *ctx);
/* Human-readable detail of the last failure in this context (the file that
 * could not be read or parsed, and why). Never NULL; "" when none. Borrowed. */
CGP_EXPORT const char *cgp_ctx_last_error(const cgp_ctx *ctx);
/* How long a run that writes (cgp_enforce_run and what builds on it) waits
 * for the apply lock another cgplace holds: seconds, 0 = not at all, -1 =
 * without limit; default CGP_LOCK_WAIT_DEFAULT. When it runs out the run
 * fails with -EWOULDBLOCK, and cgp_ctx_last_error() names the holder's pid
 * (which every holder writes into the lock file). */
#define CGP_LOCK_WAIT_DEFAULT 30
CGP_EXPORT void cgp_ctx_set_lock_wait(cgp_ctx *ctx, int seconds);

/* ------------------------------------------------------------------ */
/* Host topology (spec §4).                                            */
/* ------------------------------------------------------------------ */

/* Unknown values: -1 for signed ids and counts, CGP_UNKNOWN_U64 for sizes. */
#define CGP_UNKNOWN_U64 UINT64_MAX

enum cgp_node_kind {
    CGP_NODE_CPU_MEMORY,   /* CPUs and memory */
    CGP_NODE_CPU_ONLY,     /* CPUs, no memory */
    CGP_NODE_MEMORY_ONLY,  /* memory, no CPUs (HBM, CXL, Itanium memory nodes, GPU memory) */
    CGP_NODE_NEITHER,      /* neither (e.g. a generic initiator, or an offline node) */
    CGP_NODE_UNKNOWN,      /* memory could not be read */
};

struct cgp_hugepages {
    uint64_t size_kib;
    uint64_t total;        /* pages; CGP_UNKNOWN_U64 when unreadable */
    uint64_t free;
};

struct cgp_node {
    int id;
    bool online;
    enum cgp_node_kind kind;
    const cgp_bitmap *cpus;      /* present CPUs the node lists (never NULL) */
    uint64_t mem_total_kib;      /* CGP_UNKNOWN_U64 when unknown */
    uint64_t mem_free_kib;
    size_t n_hugepages;
    const struct cgp_hugepages *hugepages;  /* sorted by size */
    const cgp_bitmap *initiators;           /* HMAT access0 initiators; NULL unknown/absent */
    int64_t read_latency, write_latency;    /* access0, ns; -1 unknown */
    int64_t read_bandwidth, write_bandwidth;/* access0, MB/s; -1 unknown */
    int tier;                               /* memory tier id; -1 unknown */
};

struct cgp_cpu {
    int id;
    bool online;
    int node;            /* first node that lists it; -1 none */
    int package;         /* physical_package_id as read (-1 as the kernel says it); */
    bool package_known;  /* false when the file is missing or unreadable */
    int die;             /* -1 unknown */
    int cluster;         /* -1 unknown */
    int core;            /* -1 unknown */
    const cgp_bitmap *siblings;  /* thread siblings; NULL unknown */
};

typedef struct cgp_topology cgp_topology;

/* Read the host topology through ctx. Returns 0, -ENOENT when there is no
 * sys/devices/system/cpu under the sysroot, -EIO when a file is malformed
 * (cgp_ctx_last_error() names it), -ENOMEM. Files that are merely missing make
 * the corresponding values unknown, not an error. */
CGP_EXPORT int cgp_topology_read(cgp_ctx *ctx, cgp_topology **out);
CGP_EXPORT void cgp_topology_free(cgp_topology *t);

/* Nodes: online nodes plus any node with a sysfs directory, ascending id. */
CGP_EXPORT size_t cgp_topology_n_nodes(const cgp_topology *t);
CGP_EXPORT const struct cgp_node *cgp_topology_node(const cgp_topology *t, size_t i);
/* Node by id, NULL when the host has no such node. */
CGP_EXPORT const struct cgp_node *cgp_topology_node_by_id(const cgp_topology *t, int id);
/* SLIT distance from node a to node b (ids), -1 unknown. */
CGP_EXPORT int cgp_topology_distance(const cgp_topology *t, int a, int b);
/* Present CPUs, ascending id. */
CGP_EXPORT size_t cgp_topology_n_cpus(const cgp_topology *t);
CGP_EXPORT const struct cgp_cpu *cgp_topology_cpu(const cgp_topology *t, size_t i);
CGP_EXPORT const struct cgp_cpu *cgp_topology_cpu_by_id(const cgp_topology *t, int id);
/* Host-wide sets. Borrowed; never NULL (possibly empty). */
CGP_EXPORT const cgp_bitmap *cgp_topology_cpus_present(const cgp_topology *t);
CGP_EXPORT const cgp_bitmap *cgp_topology_cpus_online(const cgp_topology *t);
CGP_EXPORT const cgp_bitmap *cgp_topology_nodes_online(const cgp_topology *t);
CGP_EXPORT const cgp_bitmap *cgp_topology_nodes_possible(const cgp_topology *t);
/* Machine architecture ("x86_64", "aarch64", ...) or NULL when unknown. Borrowed. */
CGP_EXPORT const char *cgp_topology_arch(const cgp_topology *t);
/* CPU frequency in MHz from cpuinfo/cpufreq, -1 when unknown. */
CGP_EXPORT int cgp_topology_mhz(const cgp_topology *t);
/* Host MemTotal in KiB (sum of nodes, else /proc/meminfo), CGP_UNKNOWN_U64. */
CGP_EXPORT uint64_t cgp_topology_mem_total_kib(const cgp_topology *t);
/* MemFree in KiB summed over the online nodes with memory; CGP_UNKNOWN_U64
 * when a node's is unknown or the sum does not fit in 64 bits. */
CGP_EXPORT uint64_t cgp_topology_mem_free_kib(const cgp_topology *t);

CGP_EXPORT const char *cgp_node_kind_name(enum cgp_node_kind k);

/* ------------------------------------------------------------------ */
/* libvirt-equivalent queries.                                         */
/* ------------------------------------------------------------------ */

/* virNodeGetInfo. Counts describe the online CPUs as they are: sockets is the
 * number of distinct packages (physical_package_id; where the kernel says -1,
 * as on POWER and s390, the distinct package_cpus/core_siblings masks), cores
 * the largest number of cores in one package, threads the largest number of
 * online siblings of one core (known from the sibling lists even when the
 * packages are not). */
struct cgp_nodeinfo {
    char model[32];           /* architecture, "unknown" when unknown */
    uint64_t memory_kib;      /* CGP_UNKNOWN_U64 when unknown */
    unsigned cpus;            /* online CPUs */
    int mhz;                  /* -1 unknown */
    unsigned nodes;           /* online NUMA cells */
    int sockets;              /* -1 unknown */
    int cores;                /* per socket, -1 unknown */
    int threads;              /* per core, -1 unknown */
    /* Online cells without CPUs and without memory. Owned by the topology the
     * info was read from: valid while it lives, never NULL. */
    const cgp_bitmap *cpuless_cells;
    const cgp_bitmap *memless_cells;
};

/* virNodeGetInfo: fill *info from t. Returns 0. */
CGP_EXPORT int cgp_node_get_info(const cgp_topology *t, struct cgp_nodeinfo *info);

/* The same numbers with libvirt's meaning, as `virsh nodeinfo` prints them
 * (virhostcpu.c): nodes = nodeN directories; sockets and cores counted per
 * NUMA cell (physical_package_id -1 read as 0, a missing core_id as 0, on
 * s390 the CPU number as its core) and the largest taken; threads = the
 * largest thread-sibling count; where nodes x sockets x cores x threads is
 * not the number of online plus offline CPUs, libvirt's 1 x 1 x N x 1; mhz 0
 * when unknown; memory from /proc/meminfo. Never -1. Returns 0. */
CGP_EXPORT int cgp_node_get_info_libvirt(const cgp_topology *t, struct cgp_nodeinfo *info);

/* virConnectGetCapabilities: the host capabilities XML (libvirt's
 * capability.rng schema, <host><topology><cells>...). *xml is a NUL-terminated
 * string the caller frees with free(). Returns 0, -ENOMEM, -EIO, or
 * -ELIBACC when libxml2 (libxml2.so.2, loaded on first use) is missing. */
CGP_EXPORT int cgp_get_capabilities(const cgp_topology *t, char **xml);

/* virNodeGetCellsFreeMemory: free memory in bytes of up to max_cells cells
 * starting at start_cell (node id), in id order over the host's nodes.
 * Returns the number of entries written (>= 0), -EINVAL when start_cell is
 * not a node of the host or max_cells <= 0. A node without memory gives 0;
 * an unreadable one, or one whose bytes do not fit in 64 bits, UINT64_MAX. */
CGP_EXPORT int cgp_node_get_cells_free_memory(const cgp_topology *t, uint64_t *free_bytes,
                                              int start_cell, int max_cells);

/* Library version string ("0.1.0"). */
CGP_EXPORT const char *cgp_version(void);

#ifdef __cplusplus
}
#endif
#endif
