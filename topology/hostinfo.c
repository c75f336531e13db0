/* virNodeGetInfo / virNodeGetCellsFreeMemory equivalents. */
#include "internal.h"
#include "topology.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct core_key {
    long pkg;
    int die, cluster, core, sib;
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

/* Sort k, then count: distinct packages, the most distinct cores in one
 * package, the most keys in one core. All 0 for n == 0. */
static void tally(struct core_key *k, size_t n, int *sockets, int *max_cores, int *max_threads)
{
    qsort(k, n, sizeof *k, cmp_key);
    int s = 0, mc = 0, mt = 0, cores = 0, threads = 0;
    for (size_t i = 0; i < n; i++) {
        bool new_pkg = i == 0 || k[i].pkg != k[i - 1].pkg;
        bool new_core = new_pkg || cmp_key(&k[i], &k[i - 1]) != 0;
        if (new_pkg) {
            s++;
            cores = 0;
        }
        if (new_core) {
            cores++;
            threads = 0;
        }
        threads++;
        if (cores > mc)
            mc = cores;
        if (threads > mt)
            mt = threads;
    }
    *sockets = s, *max_cores = mc, *max_threads = mt;
}

/* A CPU's package: its id, else (id -1 or missing) its package mask, told
 * apart from real ids by a negative key. LONG_MIN: unknown. */
static long pkg_key(const cgp_topology *t, size_t i)
{
    const struct cgp_cpu *c = &t->cpus[i];
    if (c->package_known && c->package >= 0)
        return c->package;
    if (t->cpu_pkg_first[i] >= 0)
        return -2L - t->cpu_pkg_first[i];
    return LONG_MIN;
}

/* Sockets, cores per socket and threads per core of the online CPUs, exactly
 * as the kernel describes them (no uniformity assumed): the number of distinct
 * packages, the most distinct cores in one package, the most online threads in
 * one core. Sockets and cores are unknown (-1) when an online CPU's package is;
 * threads only when a core can be told neither by siblings nor by ids. */
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
        long pkg = pkg_key(t, i);
        if (pkg == LONG_MIN)
            pkg_ok = false;
        /* A core is its thread-sibling set: core_id repeats within a package
         * on some hosts (AMD Magny-Cours dies without die_id). */
        if (c->siblings)
            k[n++] = (struct core_key){ pkg, -2, -2, -2, cgp_bitmap_next(c->siblings, 0) };
        else {
            if (c->core < 0 || pkg == LONG_MIN)
                core_ok = false;
            k[n++] = (struct core_key){ pkg, c->die, c->cluster, c->core, -1 };
        }
    }
    if (n == 0) {
        free(k);
        return;
    }
    if (!pkg_ok) /* sibling sets still tell the cores apart */
        for (size_t i = 0; i < n; i++)
            k[i].pkg = 0;
    int sockets, max_cores, max_threads;
    tally(k, n, &sockets, &max_cores, &max_threads);
    free(k);
    if (pkg_ok)
        info->sockets = sockets;
    if (core_ok) {
        info->threads = max_threads;
        if (pkg_ok)
            info->cores = max_cores;
    }
}

int topo_cell_lists(cgp_topology *t)
{
    if (!(t->cpuless = cgp_bitmap_new()) || !(t->memless = cgp_bitmap_new()))
        return -ENOMEM;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const struct cgp_node *n = &t->nodes[i].pub;
        if (!n->online)
            continue;
        bool cpuless = n->kind == CGP_NODE_MEMORY_ONLY || n->kind == CGP_NODE_NEITHER ||
                       (n->kind == CGP_NODE_UNKNOWN && cgp_bitmap_is_empty(n->cpus));
        bool memless = n->kind == CGP_NODE_CPU_ONLY || n->kind == CGP_NODE_NEITHER;
        int r = 0;
        if ((cpuless && (r = cgp_bitmap_set(t->cpuless, (unsigned)n->id)) < 0) ||
            (memless && (r = cgp_bitmap_set(t->memless, (unsigned)n->id)) < 0))
            return r;
    }
    return 0;
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
    ni.cpuless_cells = t->cpuless;
    ni.memless_cells = t->memless;
    *info = ni;
    return 0;
}

/* libvirt's per-cell counts (virHostCPUParseNode) over the present CPUs of
 * set: online and offline CPUs, distinct sockets, the most distinct cores in
 * one socket, the largest thread-sibling count. */
struct lv_counts {
    unsigned online, offline;
    int sockets, cores, threads;
};

static void lv_scan(const cgp_topology *t, const cgp_bitmap *set, bool s390, struct lv_counts *out)
{
    struct lv_counts c = { 0 };
    struct core_key *k = malloc((t->n_cpus ? t->n_cpus : 1) * sizeof *k);
    size_t n = 0;
    for (size_t i = 0; k && i < t->n_cpus; i++) {
        const struct cgp_cpu *cpu = &t->cpus[i];
        if (!cgp_bitmap_test(set, (unsigned)cpu->id))
            continue;
        if (!cpu->online) {
            c.offline++;
            continue;
        }
        c.online++;
        long sock = cpu->package_known && cpu->package >= 0 ? cpu->package : 0;
        int core = s390 ? cpu->id : cpu->core >= 0 ? cpu->core : 0;
        k[n++] = (struct core_key){ sock, 0, 0, core, 0 };
        int th = cpu->siblings ? (int)cgp_bitmap_count(cpu->siblings) : 1;
        if (th > c.threads)
            c.threads = th;
    }
    if (k) {
        int per_core;   /* libvirt takes threads from the sibling count above */
        tally(k, n, &c.sockets, &c.cores, &per_core);
        free(k);
    }
    *out = c;
}

CGP_EXPORT int cgp_node_get_info_libvirt(const cgp_topology *t, struct cgp_nodeinfo *info)
{
    struct cgp_nodeinfo ni;
    cgp_node_get_info(t, &ni);
    bool s390 = t->arch && !strncmp(t->arch, "s390", 4);
    unsigned online = 0, offline = 0;
    int sockets = 0, cores = 0, threads = 0;
    for (size_t i = 0; i < t->n_nodes && t->n_node_dirs; i++) {
        struct lv_counts c;
        lv_scan(t, t->nodes[i].pub.cpus, s390, &c);
        if (!c.online && !c.offline)
            continue; /* libvirt keeps no socket data of a cell without CPUs */
        online += c.online;
        offline += c.offline;
        sockets = c.sockets > sockets ? c.sockets : sockets;
        cores = c.cores > cores ? c.cores : cores;
        threads = c.threads > threads ? c.threads : threads;
    }
    unsigned nodes = t->n_node_dirs;
    /* libvirt finds offline CPUs through the cpuM links of node directories,
     * which stay while a CPU is offline; a live kernel's node cpulist drops
     * it. Every present CPU that is offline, then. */
    unsigned present_offline = cgp_bitmap_count(t->present) - cgp_bitmap_count(t->online);
    if (offline < present_offline)
        offline = present_offline;
    if (!online || !nodes) {
        /* no node/ directory, or no cell holds a CPU: all of cpu/ as one cell */
        struct lv_counts c;
        lv_scan(t, t->present, s390, &c);
        online = c.online, offline = c.offline, nodes = 1;
        sockets = c.sockets, cores = c.cores, threads = c.threads;
    }
    /* libvirt's answer to a topology its four numbers cannot describe */
    if ((uint64_t)nodes * (unsigned)sockets * (unsigned)cores * (unsigned)threads != (uint64_t)online + offline) {
        nodes = 1, sockets = 1, threads = 1;
        cores = (int)(online + offline);
    }
    ni.cpus = online;
    ni.nodes = nodes;
    ni.sockets = sockets;
    ni.cores = cores;
    ni.threads = threads;
    ni.mhz = t->mhz_libvirt;
    if (t->proc_mem_total != CGP_UNKNOWN_U64)
        ni.memory_kib = t->proc_mem_total;
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
