/* Internal layout of cgp_topology. */
#ifndef CGP_TOPOLOGY_H
#define CGP_TOPOLOGY_H

#include "internal.h"

#include <dirent.h>

struct node_priv {
    struct cgp_node pub;
    cgp_bitmap *cpus;               /* owned; pub.cpus points here */
    cgp_bitmap *initiators;         /* owned or NULL */
    struct cgp_hugepages *hp;       /* owned */
};

struct cgp_topology {
    size_t n_nodes;
    struct node_priv *nodes;        /* ascending id */
    int *dist;                      /* n_nodes x n_nodes, by index; -1 unknown */
    size_t n_cpus;
    struct cgp_cpu *cpus;           /* present CPUs, ascending id */
    cgp_bitmap **cpu_siblings;      /* owned, parallel to cpus */
    int *cpu_pkg_first;             /* parallel to cpus: first CPU of its package mask
                                     * (package_cpus/core_siblings) when
                                     * physical_package_id is -1 or missing; else -1 */
    cgp_bitmap *present, *online;
    cgp_bitmap *nodes_online, *nodes_possible;
    char *arch;
    int mhz;
    int mhz_libvirt;                /* libvirt's reading of /proc/cpuinfo, 0 unknown */
    unsigned n_node_dirs;           /* nodeN directories under node/ (0: none) */
    cgp_bitmap *cpuless, *memless;  /* online cells without CPUs / memory (hostinfo.c) */
    uint64_t proc_mem_total;        /* /proc/meminfo MemTotal, CGP_UNKNOWN_U64 */
};

/* Size cap of the kernel files read whole (long lists, meminfo, distance). */
#define TOPO_SMALL_FILE (1u << 20)

/* Read a list file ("0-3,8") or, with hex, a mask file. Missing file: 0 and
 * *out untouched (NULL). Malformed: -EIO with the path in ctx. An empty file
 * yields an empty map (callers decide what empty means). limit: ids must be
 * below it (0: CGP_MAX_ID). */
int topo_read_set(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, bool hex,
                  cgp_bitmap **out);
int topo_read_set_lim(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, bool hex,
                      unsigned limit, cgp_bitmap **out);
/* Read an integer file. Missing: 0 with *known false. Malformed: -EIO. */
int topo_read_i64(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, int64_t *out,
                  bool *known);
/* Collect the ids of entries named PREFIX<digits> in dirfd. */
int topo_list_numbered(int dirfd, const char *prefix, cgp_bitmap **out);

/* An empty set read from a dump means unknown: *b becomes NULL. */
static inline void topo_drop_empty(cgp_bitmap **b)
{
    if (*b && cgp_bitmap_is_empty(*b)) {
        cgp_bitmap_free(*b);
        *b = NULL;
    }
}

/* The nodes of t (its CPUs already read) from sysfd (sys/devices/system):
 * 0 or -errno with the detail in ctx (topology-nodes.c). */
int topo_read_nodes(cgp_ctx *ctx, cgp_topology *t, int sysfd);

/* Index of node id in t->nodes (ascending ids), -1 when absent. */
static inline int topo_node_index(const cgp_topology *t, int id)
{
    size_t lo = 0, hi = t->n_nodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->nodes[mid].pub.id == id)
            return (int)mid;
        if (t->nodes[mid].pub.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Fill t->cpuless and t->memless from the nodes (hostinfo.c). 0 or -ENOMEM. */
int topo_cell_lists(cgp_topology *t);

/* MemTotal/MemFree (KiB) from SYSROOT/proc/meminfo. 0 or -errno (-EIO malformed). */
int cgp_proc_meminfo(cgp_ctx *ctx, uint64_t *total_kib, uint64_t *free_kib);

#endif
