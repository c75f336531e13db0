/* virNodeGetInfo / virNodeGetCellsFreeMemory equivalents. */
#include "internal.h"
#include "topology.h"

#include <errno.h>
#include <string.h>

struct core_key {
    int pkg, die, cluster, core, sib;
};

static int cmp_key(const void *a, const void *b)
{
    const struct core_key *x = a, *y = b;
    if (x->pkg != y->pkg)
        return x->pkg < y->pkg ? -1 : 1;
    if (x->die != y->die)
        return x->die < y->die ? -1 : 1;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    if (x->core != y->core)
        return x->core < y->core ? -1 : 1;
    if (x->sib != y->sib)
        return x->sib < y->sib ? -1 : 1;
    return 0;
}

/* Sockets, cores per socket and threads per core of the online CPUs, exactly
 * as the kernel describes them (no uniformity assumed): the number of distinct
 * packages, the most distinct cores in one package, the most online threads in
 * one core. Unknown (-1) when any online CPU lacks the ids. */
static void count_topology(const cgp_topology *t, struct cgp_nodeinfo *info)
{
    info->sockets = info->cores = info->threads = -1;
    size_t n = 0;
    struct core_key *k = malloc((t->n_cpus ? t->n_cpus : 1) * sizeof *k);
    if (!k)
        return;
    bool pkg_ok = true, core_ok = true;
    for (size_t i = 0; i < t->n_cpus; i++) {
        const struct cgp_cpu *c = &t->cpus[i];
        if (!c->online)
            continue;
        if (!c->package_known || c->package < 0)
            pkg_ok = false;
        if (c->core < 0 && !c->siblings)
            core_ok = false;
        /* A core is its thread-sibling set: core_id repeats within a package
         * on some hosts (AMD Magny-Cours dies without die_id). */
        if (c->siblings)
            k[n++] = (struct core_key){ c->package, -2, -2, -2, cgp_bitmap_next(c->siblings, 0) };
        else
            k[n++] = (struct core_key){ c->package, c->die, c->cluster, c->core, -1 };
    }
    if (n == 0 || !pkg_ok) {
        free(k);
        return;
    }
    qsort(k, n, sizeof *k, cmp_key);
    int sockets = 0, max_cores = 0, max_threads = 0, cores = 0, threads = 0;
    for (size_t i = 0; i < n; i++) {
        bool new_pkg = i == 0 || k[i].pkg != k[i - 1].pkg;
        bool new_core = new_pkg || cmp_key(&k[i], &k[i - 1]) != 0;
        if (new_pkg) {
            sockets++;
            cores = 0;
        }
        if (new_core) {
            cores++;
            threads = 0;
        }
        threads++;
        if (cores > max_cores)
            max_cores = cores;
        if (threads > max_threads)
            max_threads = threads;
    }
    free(k);
    info->sockets = sockets;
    if (core_ok) {
        info->cores = max_cores;
        info->threads = max_threads;
    }
}

CGP_EXPORT int cgp_node_get_info(const cgp_topology *t, struct cgp_nodeinfo *info)
{
    struct cgp_nodeinfo ni = { 0 };
    snprintf(ni.model, sizeof ni.model, "%s", t->arch ? t->arch : "unknown");
    ni.memory_kib = cgp_topology_mem_total_kib(t);
    ni.cpus = cgp_bitmap_count(t->online);
    ni.mhz = t->mhz;
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].pub.online)
            ni.nodes++;
    count_topology(t, &ni);
    *info = ni;
    return 0;
}

CGP_EXPORT int cgp_node_get_cells_free_memory(const cgp_topology *t, uint64_t *free_bytes,
                                              int start_cell, int max_cells)
{
    if (max_cells <= 0 || !free_bytes)
        return -EINVAL;
    size_t i = 0;
    while (i < t->n_nodes && t->nodes[i].pub.id != start_cell)
        i++;
    if (i == t->n_nodes)
        return -EINVAL;
    int n = 0;
    for (; i < t->n_nodes && n < max_cells; i++) {
        const struct cgp_node *nd = &t->nodes[i].pub;
        uint64_t v;
        if (nd->mem_total_kib == 0)
            v = 0;
        else
            v = cgp_size_mul(nd->mem_free_kib, 1024); /* UINT64_MAX: unknown or too large */
        free_bytes[n++] = v;
    }
    return n;
}

CGP_EXPORT const char *cgp_version(void)
{
    return CGP_VERSION;
}
