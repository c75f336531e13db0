/* Unit tests for the topology readers (cgp_topology_read) and the
 * libvirt-equivalent queries built on them. Each test writes its own small
 * sysfs/procfs tree; expectations follow from that tree and spec §4 / the
 * pitfalls in the oracles README. */
#include "unit_helpers.h"

#include <stdint.h>

TestSuite(topo, .init = tree_new, .fini = tree_free);
TestSuite(topo_err, .init = tree_new, .fini = tree_free);
TestSuite(query, .init = tree_new, .fini = tree_free);

/* 4 CPUs (one package, 4 cores, no SMT), 2 nodes with memory; node CPU lists
 * are left to the caller. */
static void base_4cpu_2node(void)
{
    char n[8];
    for (int i = 0; i < 4; i++) {
        snprintf(n, sizeof n, "%d\n", i);
        tree_cpu(i, "0\n", n, n);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    sysw("0-1\n", "node/online");
    sysw("0-1\n", "node/possible");
    tree_meminfo(0, 1000000, 400000);
    tree_meminfo(1, 2000000, 500000);
    sysw("10 20\n", "node/node0/distance");
    sysw("20 10\n", "node/node1/distance");
}

static void expect_two_nodes_0_1__2_3(const cgp_topology *t)
{
    cr_assert_eq(cgp_topology_n_nodes(t), 2u);
    const struct cgp_node *n0 = cgp_topology_node(t, 0), *n1 = cgp_topology_node(t, 1);
    cr_assert(n0 && n1);
    cr_expect_eq(n0->id, 0);
    cr_expect_eq(n1->id, 1);
    expect_set(n0->cpus, "0-1", "node0 cpus");
    expect_set(n1->cpus, "2-3", "node1 cpus");
    cr_expect_eq(cgp_topology_cpu_by_id(t, 0)->node, 0);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 1)->node, 0);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 2)->node, 1);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 3)->node, 1);
    cr_expect_eq(n0->kind, CGP_NODE_CPU_MEMORY);
    cr_expect_eq(n1->kind, CGP_NODE_CPU_MEMORY);
    cr_expect(n0->online && n1->online);
}

/* ------------------------------------------------------------------ */
/* node CPU lists: cpulist, cpumap, cpuN symlinks                      */
/* ------------------------------------------------------------------ */

Test(topo, node_cpus_from_cpulist)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    cgp_topology *t = tree_read(NULL);
    expect_two_nodes_0_1__2_3(t);
    cr_expect_eq(cgp_topology_n_cpus(t), 4u);
    expect_set(cgp_topology_cpus_present(t), "0-3", "present");
    expect_set(cgp_topology_cpus_online(t), "0-3", "online");
    expect_set(cgp_topology_nodes_online(t), "0-1", "nodes online");
    expect_set(cgp_topology_nodes_possible(t), "0-1", "nodes possible");
    cr_expect_eq(cgp_topology_node(t, 0)->mem_total_kib, 1000000u);
    cr_expect_eq(cgp_topology_node(t, 0)->mem_free_kib, 400000u);
    cr_expect_eq(cgp_topology_node(t, 1)->mem_total_kib, 2000000u);
    cr_expect_eq(cgp_topology_node(t, 1)->mem_free_kib, 500000u);
    cr_expect_eq(cgp_topology_mem_total_kib(t), 3000000u);
    cr_expect_eq(cgp_topology_distance(t, 0, 1), 20);
    cr_expect_eq(cgp_topology_distance(t, 1, 0), 20);
    cr_expect_eq(cgp_topology_distance(t, 1, 1), 10);
    cr_expect_null(cgp_topology_node(t, 2));
    cr_expect_null(cgp_topology_cpu(t, 4));
    cr_expect_null(cgp_topology_cpu_by_id(t, 4));
    const struct cgp_cpu *c = cgp_topology_cpu(t, 3);
    cr_expect_eq(c->id, 3);
    cr_expect(c->online);
    cr_expect_eq(c->package, 0);
    cr_expect(c->package_known);
    cr_expect_eq(c->core, 3);
    cr_expect_eq(c->die, -1, "no die_id file: unknown");
    cr_expect_eq(c->cluster, -1, "no cluster_id file: unknown");
    expect_set(c->siblings, "3", "cpu3 siblings");
    cgp_topology_free(t);
}

Test(topo, node_cpus_from_cpumap)
{
    base_4cpu_2node();
    sysw("00000000,00000003\n", "node/node0/cpumap");
    sysw("0000000c\n", "node/node1/cpumap");
    cgp_topology *t = tree_read(NULL);
    expect_two_nodes_0_1__2_3(t);
    cgp_topology_free(t);
}

Test(topo, node_cpus_from_symlinks_only)
{
    base_4cpu_2node();
    tree_symlink("../../cpu/cpu0", "sys/devices/system/node/node0/cpu0");
    tree_symlink("../../cpu/cpu1", "sys/devices/system/node/node0/cpu1");
    tree_symlink("../../cpu/cpu2", "sys/devices/system/node/node1/cpu2");
    tree_symlink("../../cpu/cpu3", "sys/devices/system/node/node1/cpu3");
    /* entries that only look like CPUs must be ignored */
    sysw("x\n", "node/node0/cpuidle");
    tree_mkdir("sys/devices/system/node/node1/cpu3x");
    cgp_topology *t = tree_read(NULL);
    expect_two_nodes_0_1__2_3(t);
    cgp_topology_free(t);
}

Test(topo, node_lists_naming_absent_cpus_are_trimmed)
{
    /* nvidiagpunumanodes / s390-lpar-drawer style: the node lists and
     * cpu/present name CPUs whose directories are gone. */
    for (int i = 0; i < 4; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-87\n", "cpu/present");
    sysw("0-87\n", "cpu/online");
    sysw("0-1\n", "node/online");
    sysw("0-87\n", "node/node0/cpulist");
    sysw("88-175\n", "node/node1/cpulist");
    tree_meminfo(0, 1000, 10);
    tree_meminfo(1, 15000000, 15000000);
    cgp_topology *t = tree_read(NULL);
    cr_expect_eq(cgp_topology_n_cpus(t), 4u);
    expect_set(cgp_topology_cpus_present(t), "0-3", "present");
    expect_set(cgp_topology_cpus_online(t), "0-3", "online");
    expect_set(cgp_topology_node_by_id(t, 0)->cpus, "0-3", "node0");
    const struct cgp_node *n1 = cgp_topology_node_by_id(t, 1);
    cr_assert_not_null(n1);
    cr_expect(cgp_bitmap_is_empty(n1->cpus), "node1 names only absent CPUs");
    cr_expect_eq(n1->kind, CGP_NODE_MEMORY_ONLY);
    cgp_topology_free(t);
}

Test(topo, trailing_nul_bytes)
{
    /* 128arm-2pa2n8cluster4co: every file is "...\n\0" */
#define NULW(s, ...) tree_write_n(s, sizeof(s), "sys/devices/system/" __VA_ARGS__)
    for (int i = 0; i < 4; i++) {
        tree_mkdir("sys/devices/system/cpu/cpu%d/topology", i);
        NULW("1\n", "cpu/cpu%d/topology/physical_package_id", i);
        NULW("7\n\0", "cpu/cpu%d/topology/core_id", i);
        NULW("0-3\n", "cpu/cpu%d/topology/thread_siblings_list", i);
        NULW("3\n", "cpu/cpu%d/topology/cluster_id", i);
        NULW("2\n", "cpu/cpu%d/topology/die_id", i);
    }
    NULW("0-3\n", "cpu/present");
    NULW("0-3\n", "cpu/online");
    NULW("0-1\n", "node/online");
    NULW("0-1\n", "node/possible");
    NULW("0-1\n", "node/has_cpu");
    NULW("0-1\n", "node/has_memory");
    NULW("0-1\n\0\0", "node/node0/cpulist");
    NULW("2-3\n", "node/node1/cpulist");
    NULW("10 16\n", "node/node0/distance");
    NULW("16 10\n", "node/node1/distance");
    NULW("Node 0 MemTotal: 100 kB\nNode 0 MemFree: 50 kB\n", "node/node0/meminfo");
    NULW("Node 1 MemTotal: 200 kB\nNode 1 MemFree: 70 kB\n", "node/node1/meminfo");
#undef NULW
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 2u);
    expect_set(cgp_topology_node(t, 0)->cpus, "0-1", "node0");
    expect_set(cgp_topology_node(t, 1)->cpus, "2-3", "node1");
    cr_expect_eq(cgp_topology_distance(t, 0, 1), 16);
    cr_expect_eq(cgp_topology_distance(t, 1, 1), 10);
    cr_expect_eq(cgp_topology_node(t, 0)->mem_total_kib, 100u);
    cr_expect_eq(cgp_topology_node(t, 1)->mem_free_kib, 70u);
    const struct cgp_cpu *c = cgp_topology_cpu_by_id(t, 2);
    cr_expect_eq(c->package, 1);
    cr_expect_eq(c->core, 7);
    cr_expect_eq(c->die, 2);
    cr_expect_eq(c->cluster, 3);
    expect_set(c->siblings, "0-3", "siblings");
    cgp_topology_free(t);
}

/* ------------------------------------------------------------------ */
/* memory and node kinds                                               */
/* ------------------------------------------------------------------ */

Test(topo, empty_has_cpu_and_has_memory_are_ignored)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    tree_unlink("sys/devices/system/node/node1/meminfo");
    sysw("", "node/has_cpu");
    sysw("\n", "node/has_memory");
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_node(t, 0)->cpus, "0-1", "node0 cpus (has_cpu empty)");
    expect_set(cgp_topology_node(t, 1)->cpus, "2-3", "node1 cpus (has_cpu empty)");
    cr_expect_eq(cgp_topology_node(t, 0)->kind, CGP_NODE_CPU_MEMORY);
    /* an empty has_memory does not say node1 has no memory */
    cr_expect_eq(cgp_topology_node(t, 1)->kind, CGP_NODE_UNKNOWN);
    cr_expect_eq(cgp_topology_node(t, 1)->mem_total_kib, CGP_UNKNOWN_U64);
    cgp_topology_free(t);
}

Test(topo, missing_meminfo_is_unknown)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    tree_unlink("sys/devices/system/node/node0/meminfo");
    tree_unlink("sys/devices/system/node/node1/meminfo");
    cgp_topology *t = tree_read(NULL);
    for (size_t i = 0; i < 2; i++) {
        const struct cgp_node *n = cgp_topology_node(t, i);
        cr_expect_eq(n->mem_total_kib, CGP_UNKNOWN_U64, "node%d total", n->id);
        cr_expect_eq(n->mem_free_kib, CGP_UNKNOWN_U64, "node%d free", n->id);
        cr_expect_eq(n->kind, CGP_NODE_UNKNOWN, "node%d kind", n->id);
    }
    /* no proc/meminfo either: the host total is unknown */
    cr_expect_eq(cgp_topology_mem_total_kib(t), CGP_UNKNOWN_U64);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.memory_kib, CGP_UNKNOWN_U64);
    cgp_topology_free(t);

    /* with proc/meminfo the host total falls back to it */
    tree_write("MemTotal:        8000 kB\nMemFree:         1234 kB\n", "proc/meminfo");
    t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mem_total_kib(t), 8000u);
    cr_expect_eq(cgp_topology_node(t, 0)->kind, CGP_NODE_UNKNOWN, "proc/meminfo is not per node");
    cgp_topology_free(t);
}

Test(topo, has_memory_decides_when_meminfo_missing)
{
    base_4cpu_2node();
    sysw("0-2\n", "node/online");
    sysw("0-2\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("\n", "node/node2/cpulist");
    tree_unlink("sys/devices/system/node/node0/meminfo");
    tree_unlink("sys/devices/system/node/node1/meminfo");
    tree_unlink("sys/devices/system/node/node0/distance");
    tree_unlink("sys/devices/system/node/node1/distance");
    sysw("0\n", "node/has_memory");
    sysw("0-1\n", "node/has_cpu");
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 3u);
    cr_expect_eq(cgp_topology_node_by_id(t, 0)->kind, CGP_NODE_CPU_MEMORY);
    cr_expect_eq(cgp_topology_node_by_id(t, 1)->kind, CGP_NODE_CPU_ONLY);
    cr_expect_eq(cgp_topology_node_by_id(t, 2)->kind, CGP_NODE_NEITHER);
    /* has_memory gives the kind, not an amount */
    cr_expect_eq(cgp_topology_node_by_id(t, 0)->mem_total_kib, CGP_UNKNOWN_U64);
    /* no distance files: unknown, not guessed */
    cr_expect_eq(cgp_topology_distance(t, 0, 1), -1);
    cr_expect_eq(cgp_topology_distance(t, 0, 0), -1);
    cgp_topology_free(t);
}

Test(topo, meminfo_kinds)
{
    /* node0 cpu+mem, node1 memory-only, node2 cpu-only (MemTotal 0), node3 neither */
    base_4cpu_2node();
    sysw("0-3\n", "node/online");
    sysw("0-3\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("\n", "node/node1/cpulist");
    sysw("2-3\n", "node/node2/cpulist");
    sysw("\n", "node/node3/cpulist");
    tree_meminfo(2, 0, 0);
    tree_meminfo(3, 0, 0);
    sysw("10 20 20 20\n", "node/node0/distance");
    sysw("20 10 20 20\n", "node/node1/distance");
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 4u);
    cr_expect_eq(cgp_topology_node_by_id(t, 0)->kind, CGP_NODE_CPU_MEMORY);
    cr_expect_eq(cgp_topology_node_by_id(t, 1)->kind, CGP_NODE_MEMORY_ONLY);
    cr_expect_eq(cgp_topology_node_by_id(t, 2)->kind, CGP_NODE_CPU_ONLY);
    cr_expect_eq(cgp_topology_node_by_id(t, 3)->kind, CGP_NODE_NEITHER);
    cr_expect_eq(cgp_topology_node_by_id(t, 2)->mem_total_kib, 0u);
    cr_expect_str_eq(cgp_node_kind_name(CGP_NODE_CPU_MEMORY), "cpu+memory");
    cr_expect_str_eq(cgp_node_kind_name(CGP_NODE_CPU_ONLY), "cpu-only");
    cr_expect_str_eq(cgp_node_kind_name(CGP_NODE_MEMORY_ONLY), "memory-only");
    cr_expect_str_eq(cgp_node_kind_name(CGP_NODE_UNKNOWN), "unknown");
    cgp_topology_free(t);
}

Test(topo, hugepages)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    /* created in descending size order; the result is sorted by size */
    sysw("1\n", "node/node0/hugepages/hugepages-1048576kB/nr_hugepages");
    sysw("0\n", "node/node0/hugepages/hugepages-1048576kB/free_hugepages");
    sysw("10\n", "node/node0/hugepages/hugepages-2048kB/nr_hugepages");
    sysw("4\n", "node/node0/hugepages/hugepages-2048kB/free_hugepages");
    sysw("3\n", "node/node0/hugepages/hugepages-2048kB/surplus_hugepages");
    tree_mkdir("sys/devices/system/node/node0/hugepages/not-a-size");
    /* a pool without counters: sizes known, counts unknown */
    tree_mkdir("sys/devices/system/node/node1/hugepages/hugepages-64kB");
    cgp_topology *t = tree_read(NULL);
    const struct cgp_node *n0 = cgp_topology_node_by_id(t, 0);
    cr_assert_eq(n0->n_hugepages, 2u);
    cr_expect_eq(n0->hugepages[0].size_kib, 2048u);
    cr_expect_eq(n0->hugepages[0].total, 10u);
    cr_expect_eq(n0->hugepages[0].free, 4u);
    cr_expect_eq(n0->hugepages[1].size_kib, 1048576u);
    cr_expect_eq(n0->hugepages[1].total, 1u);
    cr_expect_eq(n0->hugepages[1].free, 0u);
    const struct cgp_node *n1 = cgp_topology_node_by_id(t, 1);
    cr_assert_eq(n1->n_hugepages, 1u);
    cr_expect_eq(n1->hugepages[0].size_kib, 64u);
    cr_expect_eq(n1->hugepages[0].total, CGP_UNKNOWN_U64);
    cr_expect_eq(n1->hugepages[0].free, CGP_UNKNOWN_U64);
    cgp_topology_free(t);
}

Test(topo, hmat_access0_initiators)
{
    /* fakememinitiators-like: node1 is memory-only, reached from node0 */
    base_4cpu_2node();
    sysw("0-3\n", "node/node0/cpulist");
    sysw("\n", "node/node1/cpulist");
    tree_symlink("../../../node0", "sys/devices/system/node/node1/access0/initiators/node0");
    tree_mkdir("sys/devices/system/node/node1/access0/targets");
    sysw("150\n", "node/node1/access0/initiators/read_latency");
    sysw("300\n", "node/node1/access0/initiators/write_latency");
    sysw("20000\n", "node/node1/access0/initiators/read_bandwidth");
    /* write_bandwidth missing: unknown */
    tree_symlink("../../../node0", "sys/devices/system/node/node0/access0/initiators/node0");
    cgp_topology *t = tree_read(NULL);
    const struct cgp_node *n1 = cgp_topology_node_by_id(t, 1), *n0 = cgp_topology_node_by_id(t, 0);
    expect_set(n1->initiators, "0", "node1 initiators");
    cr_expect_eq(n1->read_latency, 150);
    cr_expect_eq(n1->write_latency, 300);
    cr_expect_eq(n1->read_bandwidth, 20000);
    cr_expect_eq(n1->write_bandwidth, -1);
    expect_set(n0->initiators, "0", "node0 initiators");
    cr_expect_eq(n0->read_latency, -1);
    cr_expect_eq(n1->kind, CGP_NODE_MEMORY_ONLY);
    cgp_topology_free(t);
}

Test(topo, no_access0_means_unknown)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    cgp_topology *t = tree_read(NULL);
    const struct cgp_node *n = cgp_topology_node(t, 0);
    cr_expect_null(n->initiators);
    cr_expect_eq(n->read_latency, -1);
    cr_expect_eq(n->write_latency, -1);
    cr_expect_eq(n->read_bandwidth, -1);
    cr_expect_eq(n->write_bandwidth, -1);
    cr_expect_eq(n->tier, -1);
    cr_expect_eq(n->n_hugepages, 0u);
    cgp_topology_free(t);
}

Test(topo, memory_tiering)
{
    base_4cpu_2node();
    sysw("0-2\n", "node/online");
    sysw("0-2\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("\n", "node/node2/cpulist");
    sysw("10 20 30\n", "node/node0/distance");
    sysw("20 10 30\n", "node/node1/distance");
    sysw("30 30 10\n", "node/node2/distance");
    tree_meminfo(2, 5000, 5000);
    tree_write("0-1\n", "sys/devices/virtual/memory_tiering/memory_tier4/nodelist");
    tree_write("2\n", "sys/devices/virtual/memory_tiering/memory_tier22/nodelist");
    tree_mkdir("sys/devices/virtual/memory_tiering/power");
    cgp_topology *t = tree_read(NULL);
    cr_expect_eq(cgp_topology_node_by_id(t, 0)->tier, 4);
    cr_expect_eq(cgp_topology_node_by_id(t, 1)->tier, 4);
    cr_expect_eq(cgp_topology_node_by_id(t, 2)->tier, 22);
    cgp_topology_free(t);
}

/* ------------------------------------------------------------------ */
/* CPUs: online state, package ids                                      */
/* ------------------------------------------------------------------ */

Test(topo, per_cpu_online_without_global_file)
{
    /* 16em64t-4s2c2t-offlines: no cpu/online; cpuN/online only on some CPUs */
    for (int i = 0; i < 4; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-3\n", "cpu/present");
    sysw("0\n", "cpu/cpu1/online");
    sysw("1\n", "cpu/cpu2/online");
    sysw("0\n", "cpu/cpu3/online");
    /* cpu0 has no online file: it cannot be unplugged, so it is online */
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_cpus_online(t), "0,2", "online");
    cr_expect(cgp_topology_cpu_by_id(t, 0)->online);
    cr_expect(!cgp_topology_cpu_by_id(t, 1)->online);
    cr_expect(cgp_topology_cpu_by_id(t, 2)->online);
    cr_expect(!cgp_topology_cpu_by_id(t, 3)->online);
    expect_set(cgp_topology_cpus_present(t), "0-3", "present");
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.cpus, 2u);
    cgp_topology_free(t);
}

Test(topo, global_online_wins_over_per_cpu_files)
{
    for (int i = 0; i < 4; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-3\n", "cpu/present");
    sysw("0-1,3\n", "cpu/online");
    sysw("1\n", "cpu/cpu2/online"); /* stale per-CPU file */
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_cpus_online(t), "0-1,3", "online");
    cr_expect(!cgp_topology_cpu_by_id(t, 2)->online);
    cgp_topology_free(t);
}

Test(topo, package_id_minus_one)
{
    /* POWER7 / s390: physical_package_id is -1 */
    for (int i = 0; i < 4; i++) {
        char core[8];
        snprintf(core, sizeof core, "%d\n", i / 2);
        tree_cpu(i, "-1\n", core, i < 2 ? "0-1\n" : "2-3\n");
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    cgp_topology *t = tree_read(NULL);
    for (int i = 0; i < 4; i++) {
        const struct cgp_cpu *c = cgp_topology_cpu_by_id(t, i);
        cr_expect_eq(c->package, -1, "cpu%d", i);
        cr_expect(c->package_known, "cpu%d: -1 was read, so it is known", i);
    }
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, -1, "sockets cannot be counted from package -1");
    cr_expect_eq(ni.cpus, 4u);
    cgp_topology_free(t);
}

Test(topo, missing_topology_files_are_unknown)
{
    tree_cpu(0, "0\n", "0\n", "0\n");
    tree_cpu(1, NULL, NULL, NULL); /* no topology/ files */
    tree_mkdir("sys/devices/system/cpu/cpu2"); /* no topology/ dir */
    sysw("0-2\n", "cpu/present");
    sysw("0-2\n", "cpu/online");
    cgp_topology *t = tree_read(NULL);
    for (int i = 1; i <= 2; i++) {
        const struct cgp_cpu *c = cgp_topology_cpu_by_id(t, i);
        cr_expect(!c->package_known, "cpu%d", i);
        cr_expect_eq(c->package, -1, "cpu%d", i);
        cr_expect_eq(c->core, -1, "cpu%d", i);
        cr_expect_null(c->siblings, "cpu%d", i);
    }
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, -1);
    cr_expect_eq(ni.cores, -1);
    cr_expect_eq(ni.threads, -1);
    cgp_topology_free(t);
}

Test(topo, siblings_from_hex_mask)
{
    tree_cpu(0, "0\n", "0\n", NULL);
    tree_cpu(1, "0\n", "0\n", NULL);
    sysw("00000003\n", "cpu/cpu0/topology/thread_siblings");
    sysw("00000000,00000003\n", "cpu/cpu1/topology/thread_siblings");
    sysw("0-1\n", "cpu/present");
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_cpu_by_id(t, 0)->siblings, "0-1", "cpu0");
    expect_set(cgp_topology_cpu_by_id(t, 1)->siblings, "0-1", "cpu1");
    cgp_topology_free(t);
}

Test(topo, present_missing_uses_directories)
{
    tree_cpu(0, "0\n", "0\n", NULL);
    tree_cpu(2, "0\n", "1\n", NULL);
    tree_cpu(5, "0\n", "2\n", NULL);
    tree_mkdir("sys/devices/system/cpu/cpufreq");
    tree_mkdir("sys/devices/system/cpu/cpuidle");
    sysw("0-63\n", "cpu/possible");
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_cpus_present(t), "0,2,5", "present");
    cr_expect_eq(cgp_topology_n_cpus(t), 3u);
    cr_expect_eq(cgp_topology_cpu(t, 1)->id, 2);
    /* no node/: one node with every CPU */
    cr_assert_eq(cgp_topology_n_nodes(t), 1u);
    expect_set(cgp_topology_node(t, 0)->cpus, "0,2,5", "node0");
    cgp_topology_free(t);
}

/* ------------------------------------------------------------------ */
/* nodes: offline, sparse, absent                                       */
/* ------------------------------------------------------------------ */

Test(topo, offline_node_without_directory)
{
    /* offline-cpu0-node0: node/online=1, possible=0-1, only node1/ exists,
     * and its distance row has one entry per possible node. */
    for (int i = 0; i < 4; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    sysw("1\n", "node/online");
    sysw("0-1\n", "node/possible");
    sysw("1,3\n", "node/node1/cpulist");
    sysw("21 10\n", "node/node1/distance");
    tree_meminfo(1, 4000, 3000);
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_nodes_online(t), "1", "nodes online");
    expect_set(cgp_topology_nodes_possible(t), "0-1", "nodes possible");
    /* API: nodes are the online ones plus any with a directory */
    cr_assert_eq(cgp_topology_n_nodes(t), 1u);
    cr_expect_eq(cgp_topology_node(t, 0)->id, 1);
    cr_expect_null(cgp_topology_node_by_id(t, 0));
    /* the row is indexed by possible order: entry 1 is node1 itself */
    cr_expect_eq(cgp_topology_distance(t, 1, 1), 10);
    int d10 = cgp_topology_distance(t, 1, 0);
    cr_expect(d10 == 21 || d10 == -1, "distance(1,0) = %d: the file says 21", d10);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 0)->node, -1, "cpu0 belongs to no listed node");
    cr_expect_eq(cgp_topology_cpu_by_id(t, 1)->node, 1);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.nodes, 1u);
    cr_expect_eq(ni.cpus, 4u);
    cgp_topology_free(t);
}

Test(topo, offline_node_with_directory)
{
    base_4cpu_2node();
    sysw("0\n", "node/online");
    sysw("0-1\n", "node/possible");
    sysw("0-3\n", "node/node0/cpulist");
    sysw("\n", "node/node1/cpulist");
    sysw("10\n", "node/node0/distance");
    tree_unlink("sys/devices/system/node/node1/distance");
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 2u);
    cr_expect(cgp_topology_node_by_id(t, 0)->online);
    cr_expect(!cgp_topology_node_by_id(t, 1)->online);
    cr_expect_eq(cgp_topology_distance(t, 0, 0), 10);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.nodes, 1u, "NUMA cells counts online nodes");
    cgp_topology_free(t);
}

Test(topo, sparse_node_ids)
{
    /* 48amd64-4pa2n6c-sparse / 256ppc-8n8s4t style ids */
    for (int i = 0; i < 6; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-5\n", "cpu/present");
    sysw("0-5\n", "cpu/online");
    sysw("0,2,33\n", "node/online");
    sysw("0-63\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node2/cpulist");
    sysw("4-5\n", "node/node33/cpulist");
    sysw("10 20 30\n", "node/node0/distance");
    sysw("20 10 40\n", "node/node2/distance");
    sysw("30 40 10\n", "node/node33/distance");
    tree_meminfo(0, 100, 1);
    tree_meminfo(2, 200, 2);
    tree_meminfo(33, 300, 3);
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 3u);
    cr_expect_eq(cgp_topology_node(t, 0)->id, 0);
    cr_expect_eq(cgp_topology_node(t, 1)->id, 2);
    cr_expect_eq(cgp_topology_node(t, 2)->id, 33);
    cr_expect_null(cgp_topology_node_by_id(t, 1));
    cr_expect_null(cgp_topology_node_by_id(t, 34));
    cr_expect_eq(cgp_topology_node_by_id(t, 33)->mem_total_kib, 300u);
    cr_expect_eq(cgp_topology_distance(t, 0, 2), 20);
    cr_expect_eq(cgp_topology_distance(t, 2, 33), 40);
    cr_expect_eq(cgp_topology_distance(t, 33, 0), 30);
    cr_expect_eq(cgp_topology_distance(t, 33, 33), 10);
    cr_expect_eq(cgp_topology_distance(t, 0, 1), -1);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 5)->node, 33);
    expect_set(cgp_topology_nodes_possible(t), "0-63", "possible");
    cr_expect_eq(cgp_topology_mem_total_kib(t), 600u);
    cgp_topology_free(t);
}

Test(topo, no_node_dir_single_node)
{
    for (int i = 0; i < 3; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-2\n", "cpu/present");
    sysw("0-2\n", "cpu/online");
    tree_write("MemTotal:       16000 kB\nMemFree:         7000 kB\nMemAvailable:   9000 kB\n"
               "HugePages_Total:       0\n",
               "proc/meminfo");
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 1u);
    const struct cgp_node *n = cgp_topology_node(t, 0);
    cr_expect_eq(n->id, 0);
    cr_expect(n->online);
    expect_set(n->cpus, "0-2", "node0");
    cr_expect_eq(n->mem_total_kib, 16000u);
    cr_expect_eq(n->mem_free_kib, 7000u);
    cr_expect_eq(n->kind, CGP_NODE_CPU_MEMORY);
    expect_set(cgp_topology_nodes_online(t), "0", "nodes online");
    cr_expect_eq(cgp_topology_cpu_by_id(t, 2)->node, 0);
    cr_expect_eq(cgp_topology_mem_total_kib(t), 16000u);
    cgp_topology_free(t);
}

Test(topo, arch_and_mhz_from_cpuinfo)
{
    tree_cpu(0, "0\n", "0\n", NULL);
    tree_write("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2394.454\n"
               "flags\t\t: fpu vme lm constant_tsc\n\n",
               "proc/cpuinfo");
    cgp_topology *t = tree_read(NULL);
    cr_expect_str_eq(cgp_topology_arch(t), "x86_64");
    cr_expect_eq(cgp_topology_mhz(t), 2394);
    cgp_topology_free(t);
}

Test(topo, no_cpuinfo_means_unknown)
{
    tree_cpu(0, "0\n", "0\n", NULL);
    cgp_topology *t = tree_read(NULL);
    cr_expect_null(cgp_topology_arch(t), "a sysroot without cpuinfo must not report the build host");
    cr_expect_eq(cgp_topology_mhz(t), -1);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_str_eq(ni.model, "unknown");
    cr_expect_eq(ni.mhz, -1);
    cgp_topology_free(t);
    /* cpufreq fallback: kHz → MHz */
    sysw("3500000\n", "cpu/cpu0/cpufreq/cpuinfo_max_freq");
    t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mhz(t), 3500);
    cgp_topology_free(t);
}

/* fuzz_topology (seed cpuinfo_clock_huge): a clock beyond int's range was
 * converted to int (UB); such a clock, or kHz, is unknown */
Test(topo, mhz_out_of_int_range_is_unknown)
{
    tree_cpu(0, "0\n", "0\n", NULL);
    tree_write("clock\t\t: 3888888888888888888888888888888888888888888880\n", "proc/cpuinfo");
    cgp_topology *t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mhz(t), -1);
    cgp_topology_free(t);
    tree_write("cpu MHz\t\t: inf\n", "proc/cpuinfo");
    sysw("99999999999999\n", "cpu/cpu0/cpufreq/cpuinfo_max_freq");
    t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mhz(t), -1);
    cgp_topology_free(t);
}

/* ------------------------------------------------------------------ */
/* errors                                                               */
/* ------------------------------------------------------------------ */

/* A complete, valid tree that touches every reader. */
static void full_tree(void)
{
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("0-1\n", "node/has_memory");
    sysw("5\n", "node/node0/hugepages/hugepages-2048kB/nr_hugepages");
    sysw("5\n", "node/node0/hugepages/hugepages-2048kB/free_hugepages");
    tree_symlink("../../../node0", "sys/devices/system/node/node1/access0/initiators/node0");
    sysw("100\n", "node/node1/access0/initiators/read_latency");
    tree_write("0-1\n", "sys/devices/virtual/memory_tiering/memory_tier4/nodelist");
    tree_write("MemTotal: 3000000 kB\nMemFree: 900000 kB\n", "proc/meminfo");
}

Test(topo_err, full_tree_reads_clean)
{
    full_tree();
    cgp_ctx *ctx;
    cgp_topology *t = tree_read(&ctx);
    cr_expect_str_eq(cgp_ctx_last_error(ctx), "", "no error after a clean read");
    cgp_topology_free(t);
    cgp_ctx_free(ctx);
}

Test(topo_err, garbage_is_eio_naming_the_file)
{
    static const struct {
        const char *rel;      /* under sys/devices/system/ unless it starts with "sys/" */
        const char *content;
        const char *name;     /* must appear in the error */
    } cases[] = {
        { "node/node0/cpulist", "abc\n", "node0/cpulist" },
        { "node/node1/cpulist", "2-\n", "node1/cpulist" },
        { "node/node0/distance", "10 x\n", "node0/distance" },
        { "node/node1/distance", "20 -5\n", "node1/distance" },
        { "node/node0/meminfo", "Node 0 MemTotal: 100 kB\njunk line here\n", "node0/meminfo" },
        { "node/node1/meminfo", "Node 1 MemTotal: 100 MB\n", "node1/meminfo" },
        { "cpu/cpu1/topology/physical_package_id", "zz\n", "physical_package_id" },
        { "cpu/cpu2/topology/core_id", "1.5\n", "core_id" },
        { "cpu/cpu3/topology/thread_siblings_list", "0-\n", "thread_siblings_list" },
        { "cpu/cpu0/topology/die_id", "x\n", "die_id" },
        { "cpu/online", "0-3,q\n", "online" },
        { "cpu/present", "three\n", "present" },
        { "cpu/cpu1/online", "yes\n", "cpu1/online" },
        { "node/online", "0-1x\n", "online" },
        { "node/possible", "^\n", "possible" },
        { "node/has_memory", "0 1\n", "has_memory" },
        { "node/node0/hugepages/hugepages-2048kB/nr_hugepages", "lots\n", "nr_hugepages" },
        { "node/node1/access0/initiators/read_latency", "fast\n", "read_latency" },
        { "sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0-1-2\n", "nodelist" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tree_free();
        tree_new();
        full_tree();
        if (!strcmp(cases[i].rel, "cpu/cpu1/online"))
            tree_unlink("sys/devices/system/cpu/online"); /* per-CPU files are read only then */
        if (!strncmp(cases[i].rel, "sys/", 4))
            tree_write(cases[i].content, "%s", cases[i].rel);
        else
            sysw(cases[i].content, "%s", cases[i].rel);
        char err[600];
        int r = tree_read_fail(err, sizeof err);
        cr_expect_eq(r, -EIO, "%s = \"%s\": got %d (%s)", cases[i].rel, cases[i].content, r,
                     strerror(-r));
        cr_expect_neq(strstr(err, cases[i].name), NULL, "%s: error \"%s\" does not name %s",
                      cases[i].rel, err, cases[i].name);
    }
}

Test(topo_err, cpumap_garbage)
{
    base_4cpu_2node();
    sysw("0000000g\n", "node/node0/cpumap");
    sysw("0000000c\n", "node/node1/cpumap");
    char err[600];
    cr_expect_eq(tree_read_fail(err, sizeof err), -EIO);
    cr_expect_neq(strstr(err, "node0/cpumap"), NULL, "error: %s", err);
}

Test(topo_err, missing_sys_devices_system_is_enoent)
{
    char err[600];
    cr_expect_eq(tree_read_fail(err, sizeof err), -ENOENT, "empty sysroot");
    cr_expect_neq(err[0], '\0', "an error message is recorded");
    tree_mkdir("sys/devices/system/node");
    cr_expect_eq(tree_read_fail(err, sizeof err), -ENOENT, "no cpu/ dir");
    cr_expect_neq(strstr(err, "cpu"), NULL, "error: %s", err);
}

Test(topo_err, ctx_new_errors)
{
    cgp_ctx *ctx = NULL;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/nonexistent", tree_root);
    cr_expect_eq(cgp_ctx_new(p, NULL, &ctx), -ENOENT);
    cr_expect_null(ctx);
    tree_write("x", "file");
    snprintf(p, sizeof p, "%s/file", tree_root);
    cr_expect_eq(cgp_ctx_new(p, NULL, &ctx), -ENOTDIR);
    cr_expect_null(ctx);
    cgp_ctx_free(NULL);
    cgp_topology_free(NULL);
}

/* ------------------------------------------------------------------ */
/* queries                                                              */
/* ------------------------------------------------------------------ */

/* 2 packages x 2 cores x 2 threads; package p = node p; cpu id = 4p + 2c + h */
static void smt_tree(void)
{
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 2; h++) {
                int id = 4 * p + 2 * c + h;
                char pkg[8], core[8], sib[16];
                snprintf(pkg, sizeof pkg, "%d\n", p);
                snprintf(core, sizeof core, "%d\n", c);
                snprintf(sib, sizeof sib, "%d-%d\n", 4 * p + 2 * c, 4 * p + 2 * c + 1);
                tree_cpu(id, pkg, core, sib);
            }
    sysw("0-7\n", "cpu/present");
    sysw("0-7\n", "cpu/online");
    sysw("0-1\n", "node/online");
    sysw("0-1\n", "node/possible");
    sysw("0-3\n", "node/node0/cpulist");
    sysw("4-7\n", "node/node1/cpulist");
    sysw("10 21\n", "node/node0/distance");
    sysw("21 10\n", "node/node1/distance");
    tree_meminfo(0, 4000000, 1000000);
    tree_meminfo(1, 4100000, 2000000);
    tree_write("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 1000.000\n"
               "flags\t\t: fpu lm\n\n",
               "proc/cpuinfo");
}

Test(query, nodeinfo_smt)
{
    smt_tree();
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    memset(&ni, 0x5a, sizeof ni);
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_str_eq(ni.model, "x86_64");
    cr_expect_eq(ni.cpus, 8u);
    cr_expect_eq(ni.mhz, 1000);
    cr_expect_eq(ni.nodes, 2u);
    cr_expect_eq(ni.sockets, 2);
    cr_expect_eq(ni.cores, 2);
    cr_expect_eq(ni.threads, 2);
    cr_expect_eq(ni.memory_kib, 8100000u);
    cgp_topology_free(t);
}

Test(query, nodeinfo_counts_online_cpus_only)
{
    smt_tree();
    /* package 1 entirely offline, and one thread of core 0 in package 0 */
    sysw("0,2-3\n", "cpu/online");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.cpus, 3u);
    cr_expect_eq(ni.sockets, 1);
    cr_expect_eq(ni.cores, 2);
    cr_expect_eq(ni.threads, 2, "core 1 of package 0 still has 2 online threads");
    cgp_topology_free(t);

    sysw("0,2\n", "cpu/online");
    t = tree_read(NULL);
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.cpus, 2u);
    cr_expect_eq(ni.threads, 1);
    cgp_topology_free(t);
}

Test(query, nodeinfo_asymmetric_packages)
{
    /* package 0 has cores 0,1,2; package 7 has core 0 only: cores = the most */
    const char *pk[] = { "0\n", "0\n", "0\n", "7\n" };
    const char *co[] = { "0\n", "1\n", "2\n", "0\n" };
    for (int i = 0; i < 4; i++) {
        char sib[8];
        snprintf(sib, sizeof sib, "%d\n", i);
        tree_cpu(i, pk[i], co[i], sib);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, 2);
    cr_expect_eq(ni.cores, 3);
    cr_expect_eq(ni.threads, 1);
    cr_expect_eq(ni.nodes, 1u);
    cgp_topology_free(t);
}

Test(query, cells_free_memory)
{
    /* nodes 0,1,3,4: 3 memory-less (MemTotal 0), 4 unreadable (no meminfo) */
    base_4cpu_2node();
    sysw("0-1,3-4\n", "node/online");
    sysw("0-7\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("\n", "node/node3/cpulist");
    sysw("\n", "node/node4/cpulist");
    tree_meminfo(3, 0, 0);
    tree_unlink("sys/devices/system/node/node0/distance");
    tree_unlink("sys/devices/system/node/node1/distance");
    cgp_topology *t = tree_read(NULL);
    cr_assert_eq(cgp_topology_n_nodes(t), 4u);
    uint64_t fb[8];
    for (int i = 0; i < 8; i++)
        fb[i] = 777;
    int n = cgp_node_get_cells_free_memory(t, fb, 0, 8);
    cr_assert_eq(n, 4);
    cr_expect_eq(fb[0], UINT64_C(400000) * 1024);
    cr_expect_eq(fb[1], UINT64_C(500000) * 1024);
    cr_expect_eq(fb[2], 0u, "memory-less node 3 gives 0");
    cr_expect_eq(fb[3], UINT64_MAX, "unreadable node 4 gives UINT64_MAX");
    cr_expect_eq(fb[4], 777u, "nothing written past the count");

    for (int i = 0; i < 8; i++)
        fb[i] = 777;
    n = cgp_node_get_cells_free_memory(t, fb, 1, 2);
    cr_assert_eq(n, 2);
    cr_expect_eq(fb[0], UINT64_C(500000) * 1024);
    cr_expect_eq(fb[1], 0u);
    cr_expect_eq(fb[2], 777u);

    n = cgp_node_get_cells_free_memory(t, fb, 4, 1);
    cr_expect_eq(n, 1);
    cr_expect_eq(cgp_node_get_cells_free_memory(t, fb, 2, 4), -EINVAL, "2 is not a node");
    cr_expect_eq(cgp_node_get_cells_free_memory(t, fb, 5, 4), -EINVAL, "possible, not present");
    cr_expect_eq(cgp_node_get_cells_free_memory(t, fb, -1, 4), -EINVAL);
    cr_expect_eq(cgp_node_get_cells_free_memory(t, fb, 0, 0), -EINVAL);
    cr_expect_eq(cgp_node_get_cells_free_memory(t, fb, 0, -3), -EINVAL);
    cgp_topology_free(t);
}

/* Issue 15: node sizes near 2^64 KiB never wrap: the host total, the
 * free total and the free bytes of a cell are unknown instead. */
Test(query, sizes_that_overflow_are_unknown)
{
    smt_tree();
    tree_meminfo(0, 18446744073709551000ull, 18446744073709551000ull);
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.memory_kib, CGP_UNKNOWN_U64, "nodeinfo total wraps: unknown");
    cr_expect_eq(cgp_topology_mem_total_kib(t), CGP_UNKNOWN_U64);
    cr_expect_eq(cgp_topology_mem_free_kib(t), CGP_UNKNOWN_U64, "freecell total");
    uint64_t fb[2];
    cr_assert_eq(cgp_node_get_cells_free_memory(t, fb, 0, 2), 2);
    cr_expect_eq(fb[0], UINT64_MAX, "KiB * 1024 does not fit: unknown");
    cr_expect_eq(fb[1], UINT64_C(2000000) * 1024);
    cgp_topology_free(t);

    /* each fits, the sum does not */
    tree_meminfo(0, 9223372036854775808ull, 9223372036854775808ull);
    tree_meminfo(1, 9223372036854775808ull, 1);
    t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mem_total_kib(t), CGP_UNKNOWN_U64);
    cr_expect_eq(cgp_topology_mem_free_kib(t), 9223372036854775809ull);
    cgp_topology_free(t);

    /* the ordinary case still sums */
    smt_tree();
    t = tree_read(NULL);
    cr_expect_eq(cgp_topology_mem_free_kib(t), 3000000u);
    cgp_topology_free(t);
}

/* ------------------------------------------------------------------ */
/* further robustness cases                                            */
/* ------------------------------------------------------------------ */

Test(topo_err, negative_meminfo_is_malformed)
{
    /* "-5" is not a size; it must not wrap to 2^64-5 (or to "unknown") */
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("Node 0 MemTotal: 1000 kB\nNode 0 MemFree: -5 kB\n", "node/node0/meminfo");
    char err[600];
    int r = tree_read_fail(err, sizeof err);
    cr_expect_eq(r, -EIO, "negative MemFree: got %d", r);
    cr_expect_neq(strstr(err, "node0/meminfo"), NULL, "error: \"%s\"", err);
}

Test(topo, empty_cpu_online_is_an_artefact)
{
    /* A kernel always has an online CPU: an empty cpu/online is a collection
     * artefact like the empty node masks, so the per-CPU files decide. */
    for (int i = 0; i < 4; i++)
        tree_cpu(i, "0\n", "0\n", NULL);
    sysw("0-3\n", "cpu/present");
    sysw("\n", "cpu/online");
    sysw("0\n", "cpu/cpu3/online");
    cgp_topology *t = tree_read(NULL);
    expect_set(cgp_topology_cpus_online(t), "0-2", "online");
    cgp_topology_free(t);
}

Test(topo, distance_row_by_directory_count)
{
    /* neither online nor possible matches the row length: the row follows
     * the node directories (dumps taken in another state) */
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    tree_unlink("sys/devices/system/node/online");
    tree_unlink("sys/devices/system/node/possible");
    cgp_topology *t = tree_read(NULL);
    cr_expect_eq(cgp_topology_distance(t, 0, 1), 20);
    cr_expect_eq(cgp_topology_distance(t, 1, 1), 10);
    expect_set(cgp_topology_nodes_online(t), "0-1", "online from directories");
    cgp_topology_free(t);
}

Test(topo_err, distance_row_of_wrong_length_is_eio)
{
    /* a row that matches neither the online nodes, the possible nodes nor the
     * node directories is truncated or from another host: malformed, not
     * silently guessed (the golden "truncated-distance" case agrees) */
    base_4cpu_2node();
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("10 20 30\n", "node/node0/distance");
    char err[600];
    int r = tree_read_fail(err, sizeof err);
    cr_expect_eq(r, -EIO, "3-entry row on a 2-node host: got %d", r);
    cr_expect_neq(strstr(err, "node0/distance"), NULL, "error: \"%s\"", err);
    sysw("10\n", "node/node0/distance");
    r = tree_read_fail(err, sizeof err);
    cr_expect_eq(r, -EIO, "1-entry row on a 2-node host: got %d", r);
}

Test(topo, large_host_1024_cpus)
{
    /* 1024 CPUs over 4 nodes of 256 via cpumap (32 words each), sparse package ids */
    for (int i = 0; i < 1024; i++) {
        char pkg[16], core[16];
        snprintf(pkg, sizeof pkg, "%d\n", (i / 256) * 1024);
        snprintf(core, sizeof core, "%d\n", i % 256);
        tree_cpu(i, pkg, core, NULL);
    }
    sysw("0-1023\n", "cpu/present");
    sysw("0-1023\n", "cpu/online");
    sysw("0-3\n", "node/online");
    for (int n = 0; n < 4; n++) {
        char map[400] = "";
        for (int w = 31; w >= 0; w--) {
            strcat(map, w / 8 == n ? "ffffffff" : "00000000");
            strcat(map, w ? "," : "\n");
        }
        sysw(map, "node/node%d/cpumap", n);
        tree_meminfo(n, 1000 * (n + 1), 10);
    }
    cgp_topology *t = tree_read(NULL);
    cr_expect_eq(cgp_topology_n_cpus(t), 1024u);
    char want[32];
    for (int n = 0; n < 4; n++) {
        snprintf(want, sizeof want, "%d-%d", n * 256, n * 256 + 255);
        expect_set(cgp_topology_node_by_id(t, n)->cpus, want, "node cpus");
    }
    cr_expect_eq(cgp_topology_cpu_by_id(t, 1023)->node, 3);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 1023)->package, 3072);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.cpus, 1024u);
    cr_expect_eq(ni.sockets, 4);
    cr_expect_eq(ni.cores, 256);
    cr_expect_eq(ni.threads, 1);
    cr_expect_eq(ni.nodes, 4u);
    cr_expect_eq(ni.memory_kib, 10000u);
    cgp_topology_free(t);
}
