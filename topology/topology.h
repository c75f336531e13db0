/* Internal layout of cgp_topology. */
#ifndef CGP_TOPOLOGY_H
#define CGP_TOPOLOGY_H

#include "internal.h"

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
    cgp_bitmap *present, *online;
    cgp_bitmap *nodes_online, *nodes_possible;
    char *arch;
    int mhz;
    uint64_t proc_mem_total;        /* /proc/meminfo MemTotal, CGP_UNKNOWN_U64 */
};

/* MemTotal/MemFree (KiB) from SYSROOT/proc/meminfo. 0 or -errno (-EIO malformed). */
int cgp_proc_meminfo(cgp_ctx *ctx, uint64_t *total_kib, uint64_t *free_kib);

#endif
