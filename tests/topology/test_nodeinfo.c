/* Unit tests of nodeinfo's counts where the kernel's ids fall short
 * (physical_package_id -1 on POWER and s390), of the CPU-less and
 * memory-less cell lists, and of libvirt's meaning of the numbers
 * (cgp_node_get_info_libvirt, `nodeinfo --virsh`). Each test writes its own
 * tree; expectations follow from it and from libvirt's virhostcpu.c rules. */
#include "unit_helpers.h"

TestSuite(nodeinfo, .init = tree_new, .fini = tree_free);

/* 8 CPUs, package id -1, SMT4 cores {0-3} {4-7}; each core its own package
 * mask (POWER7 style) when masks is set. */
static void power_tree(bool masks)
{
    for (int i = 0; i < 8; i++) {
        char core[8], sib[16];
        snprintf(core, sizeof core, "%d\n", i / 4);
        snprintf(sib, sizeof sib, "%d-%d\n", i / 4 * 4, i / 4 * 4 + 3);
        tree_cpu(i, "-1\n", core, sib);
        if (masks)
            sysw(sib, "cpu/cpu%d/topology/core_siblings_list", i);
    }
    sysw("0-7\n", "cpu/present");
    sysw("0-7\n", "cpu/online");
}

Test(nodeinfo, package_minus_one_counts_package_masks)
{
    power_tree(true);
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, 2, "one package per core_siblings mask");
    cr_expect_eq(ni.cores, 1);
    cr_expect_eq(ni.threads, 4);
    cr_expect_eq(cgp_topology_cpu_by_id(t, 5)->package, -1, "the id stays as the kernel says");
    cgp_topology_free(t);
}

Test(nodeinfo, package_minus_one_without_masks_still_has_threads)
{
    power_tree(false);
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, -1, "no id and no mask: packages unknown");
    cr_expect_eq(ni.cores, -1, "cores per unknown package: unknown");
    cr_expect_eq(ni.threads, 4, "the sibling lists still say 4 threads per core");
    cgp_topology_free(t);
}

Test(nodeinfo, package_mask_not_holding_the_cpu_is_ignored)
{
    power_tree(false);
    for (int i = 0; i < 8; i++)
        sysw("0\n", "cpu/cpu%d/topology/core_siblings_list", i); /* wrong for 1-7 */
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_expect_eq(ni.sockets, -1);
    cr_expect_eq(ni.threads, 4);
    cgp_topology_free(t);
}

/* Nodes 0 (CPUs 0-1, memory), 1 (CPUs 2-3, no memory), 2 (memory, no CPUs). */
static void mixed_cells_tree(void)
{
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "%d\n", i);
        tree_cpu(i, "0\n", n, n);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    sysw("0-2\n", "node/online");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("2-3\n", "node/node1/cpulist");
    sysw("\n", "node/node2/cpulist");
    tree_meminfo(0, 1000000, 500000);
    tree_meminfo(1, 0, 0);
    tree_meminfo(2, 4000000, 4000000);
}

Test(nodeinfo, cell_lists_in_the_struct)
{
    mixed_cells_tree();
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_assert(ni.cpuless_cells && ni.memless_cells);
    expect_set(ni.cpuless_cells, "2", "CPU-less cells");
    expect_set(ni.memless_cells, "1", "memory-less cells");
    cr_assert_eq(cgp_node_get_info_libvirt(t, &ni), 0);
    expect_set(ni.cpuless_cells, "2", "the same lists in libvirt's meaning");
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_counts_per_cell)
{
    /* two packages, one per cell: cgplace says 2 sockets, libvirt 1 per cell */
    for (int i = 0; i < 8; i++) {
        char pkg[8], core[8], sib[16];
        snprintf(pkg, sizeof pkg, "%d\n", i / 4);
        snprintf(core, sizeof core, "%d\n", i % 4 / 2);
        snprintf(sib, sizeof sib, "%d-%d\n", i / 2 * 2, i / 2 * 2 + 1);
        tree_cpu(i, pkg, core, sib);
    }
    sysw("0-7\n", "cpu/present");
    sysw("0-7\n", "cpu/online");
    sysw("0-3\n", "node/node0/cpulist");
    sysw("4-7\n", "node/node1/cpulist");
    tree_meminfo(0, 1000000, 500000);
    tree_meminfo(1, 1000000, 500000);
    tree_write("MemTotal:        1999000 kB\nMemFree:         999000 kB\n", "proc/meminfo");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo ni, lv;
    cr_assert_eq(cgp_node_get_info(t, &ni), 0);
    cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
    cr_expect_eq(ni.sockets, 2);
    cr_expect_eq(lv.sockets, 1, "libvirt: sockets per NUMA cell");
    cr_expect_eq(lv.cores, 2);
    cr_expect_eq(lv.threads, 2);
    cr_expect_eq(lv.nodes, 2u);
    cr_expect_eq(lv.cpus, 8u);
    cr_expect_eq(ni.memory_kib, 2000000u, "cgplace: the cells' memory");
    cr_expect_eq(lv.memory_kib, 1999000u, "libvirt: /proc/meminfo's MemTotal");
    cr_expect_eq(lv.mhz, 0, "no cpuinfo: libvirt prints 0, never unknown");
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_non_uniform_fallback)
{
    /* cell 0 has 3 cores, cell 1 one: 2 x 1 x 3 x 1 != 4 CPUs */
    const char *core[] = { "0\n", "1\n", "2\n", "0\n" };
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "%d\n", i);
        tree_cpu(i, i < 3 ? "0\n" : "1\n", core[i], n);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    sysw("0-2\n", "node/node0/cpulist");
    sysw("3\n", "node/node1/cpulist");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo lv;
    cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
    cr_expect_eq(lv.nodes, 1u);
    cr_expect_eq(lv.sockets, 1);
    cr_expect_eq(lv.cores, 4);
    cr_expect_eq(lv.threads, 1);
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_offline_cpus_count_in_the_product)
{
    /* 4 single-thread cores, one offline: 1 x 1 x 3 x 1 = 3 != 3 + 1 */
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "%d\n", i);
        tree_cpu(i, "0\n", n, n);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-2\n", "cpu/online");
    sysw("0-3\n", "node/node0/cpulist");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo lv;
    cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
    cr_expect_eq(lv.cpus, 3u);
    cr_expect_eq(lv.cores, 4, "libvirt's fallback: cores = online + offline");
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_cells_without_cpus_fall_back_to_one)
{
    for (int i = 0; i < 2; i++) {
        char n[8];
        snprintf(n, sizeof n, "%d\n", i);
        tree_cpu(i, "0\n", n, n);
    }
    sysw("0-1\n", "cpu/present");
    sysw("0-1\n", "cpu/online");
    tree_mkdir("sys/devices/system/node/node0");
    tree_mkdir("sys/devices/system/node/node1");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo lv;
    cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
    cr_expect_eq(lv.nodes, 1u, "no cell holds a CPU: all of cpu/ as one");
    cr_expect_eq(lv.cpus, 2u);
    cr_expect_eq(lv.cores, 2);
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_package_minus_one_is_socket_zero_and_s390_cores)
{
    power_tree(true);
    tree_write("vendor_id       : IBM/S390\ncpu MHz dynamic : 5000\ncpu MHz static  : 5000\n",
               "proc/cpuinfo");
    cgp_topology *t = tree_read(NULL);
    struct cgp_nodeinfo lv;
    cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
    cr_expect_eq(lv.sockets, 1, "libvirt reads -1 as socket 0");
    /* each CPU its own core, with 4 siblings: 1 x 8 x 4 != 8, so libvirt
     * falls back to 1 x 1 x 8 x 1 (its s390 answer on SMT hosts) */
    cr_expect_eq(lv.cores, 8, "on s390 each CPU is its own core");
    cr_expect_eq(lv.threads, 1);
    cr_expect_eq(lv.nodes, 1u);
    cr_expect_eq(lv.mhz, 5000);
    cgp_topology_free(t);
}

Test(nodeinfo, libvirt_mhz_keys)
{
    static const struct { const char *cpuinfo; int mhz; } cases[] = {
        { "processor\t: 0\ncpu MHz\t\t: 2593.658\nbogomips\t: 5187.31\n", 2593 },
        { "processor\t: 0\ncpu\t\t: POWER8\nclock\t\t: 8.388608MHz\n", 8 },
        { "processor\t: 0\nBogoMIPS\t: 697.95\n", 697 },
        { "processor\t: 0\nFeatures\t: fp asimd\n", 0 },
        { "processor\t: 0\ncpu MHz\t\t: 99999999999\n", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tree_cpu(0, "0\n", "0\n", "0\n");
        sysw("0\n", "cpu/present");
        tree_write(cases[i].cpuinfo, "proc/cpuinfo");
        cgp_topology *t = tree_read(NULL);
        struct cgp_nodeinfo lv;
        cr_assert_eq(cgp_node_get_info_libvirt(t, &lv), 0);
        cr_expect_eq(lv.mhz, cases[i].mhz, "case %zu", i);
        cgp_topology_free(t);
    }
}
