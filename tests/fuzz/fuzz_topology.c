/* libFuzzer target for the topology reader: the input (after its first byte)
 * becomes the content of one sysfs/procfs file of an otherwise valid tree
 * (the first byte picks which), then cgp_topology_read and every query run.
 * Invariants: no crash/leak/UB; the result is 0, -EIO (with a last error) or
 * -ENOMEM; on success the model is self-consistent. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgplace.h"
#include "fuzz_tree.h"

/* The baseline tree: path relative to root, content. */
static const struct file {
    const char *path, *content;
} files[] = {
    { "sys/devices/system/cpu/present", "0-3\n" },
    { "sys/devices/system/cpu/online", "0-3\n" },
    { "sys/devices/system/cpu/cpu0/topology/physical_package_id", "0\n" },
    { "sys/devices/system/cpu/cpu0/topology/core_id", "0\n" },
    { "sys/devices/system/cpu/cpu0/topology/die_id", "0\n" },
    { "sys/devices/system/cpu/cpu0/topology/thread_siblings_list", "0-1\n" },
    { "sys/devices/system/cpu/cpu1/topology/physical_package_id", "0\n" },
    { "sys/devices/system/cpu/cpu1/topology/core_id", "0\n" },
    { "sys/devices/system/cpu/cpu1/topology/thread_siblings", "00000003\n" },
    { "sys/devices/system/cpu/cpu2/topology/physical_package_id", "1\n" },
    { "sys/devices/system/cpu/cpu2/topology/core_id", "0\n" },
    { "sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "2\n" },
    { "sys/devices/system/cpu/cpu3/online", "1\n" },
    { "sys/devices/system/cpu/cpu3/topology/physical_package_id", "1\n" },
    { "sys/devices/system/cpu/cpu3/topology/core_id", "1\n" },
    { "sys/devices/system/node/online", "0-1,3\n" },
    { "sys/devices/system/node/possible", "0-3\n" },
    { "sys/devices/system/node/has_memory", "0,3\n" },
    { "sys/devices/system/node/has_cpu", "0-1\n" },
    { "sys/devices/system/node/node0/cpulist", "0-1\n" },
    { "sys/devices/system/node/node0/meminfo",
      "Node 0 MemTotal: 1000 kB\nNode 0 MemFree: 500 kB\n" },
    { "sys/devices/system/node/node0/distance", "10 20 30\n" },
    { "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "4\n" },
    { "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "2\n" },
    { "sys/devices/system/node/node1/cpumap", "0000000c\n" },
    { "sys/devices/system/node/node1/distance", "20 10 30\n" },
    { "sys/devices/system/node/node3/cpulist", "\n" },
    { "sys/devices/system/node/node3/meminfo",
      "Node 3 MemTotal: 9000 kB\nNode 3 MemFree: 9000 kB\n" },
    { "sys/devices/system/node/node3/distance", "30 30 10\n" },
    { "sys/devices/system/node/node3/access0/initiators/read_latency", "100\n" },
    { "sys/devices/system/node/node3/access0/initiators/write_bandwidth", "100\n" },
    { "sys/devices/virtual/memory_tiering/memory_tier4/nodelist", "0-1\n" },
    { "sys/devices/virtual/memory_tiering/memory_tier22/nodelist", "3\n" },
    { "proc/meminfo", "MemTotal: 10000 kB\nMemFree: 9500 kB\n" },
    { "proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2000.0\n"
                      "flags\t\t: fpu lm\n\n" },
};
#define NFILES (sizeof files / sizeof *files)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tree_init("topo");
    for (size_t i = 0; i < NFILES; i++)
        put(files[i].path, files[i].content, strlen(files[i].content));
    char link[1024];
    snprintf(link, sizeof link, "%s/sys/devices/system/node/node3/access0/initiators/node0", root);
    if (symlink("../../../node0", link) < 0) {
        perror(link);
        abort();
    }
    return 0;
}

static void exercise(const cgp_topology *t)
{
    size_t nn = cgp_topology_n_nodes(t), nc = cgp_topology_n_cpus(t);
    CHECK(nn >= 1, "no nodes");
    int prev = -1;
    for (size_t i = 0; i < nn; i++) {
        const struct cgp_node *n = cgp_topology_node(t, i);
        CHECK(n && n->id > prev, "nodes not ascending");
        prev = n->id;
        CHECK(cgp_topology_node_by_id(t, n->id) == n, "node_by_id");
        CHECK(n->cpus, "node cpus NULL");
        CHECK(cgp_bitmap_subset(n->cpus, cgp_topology_cpus_present(t)), "node names absent CPU");
        for (size_t h = 1; h < n->n_hugepages; h++)
            CHECK(n->hugepages[h - 1].size_kib <= n->hugepages[h].size_kib, "hugepages unsorted");
        for (size_t j = 0; j < nn && j < 64; j++)
            (void)cgp_topology_distance(t, n->id, cgp_topology_node(t, j)->id);
        (void)cgp_node_kind_name(n->kind);
    }
    CHECK(nc == cgp_bitmap_count(cgp_topology_cpus_present(t)), "n_cpus vs present");
    CHECK(cgp_bitmap_subset(cgp_topology_cpus_online(t), cgp_topology_cpus_present(t)),
          "online not within present");
    for (size_t i = 0; i < nc; i++) {
        const struct cgp_cpu *c = cgp_topology_cpu(t, i);
        CHECK(cgp_topology_cpu_by_id(t, c->id) == c, "cpu_by_id");
        if (c->node >= 0)
            CHECK(cgp_topology_node_by_id(t, c->node), "cpu on unknown node");
    }
    struct cgp_nodeinfo ni;
    CHECK(cgp_node_get_info(t, &ni) == 0, "nodeinfo");
    CHECK(ni.cpus == cgp_bitmap_count(cgp_topology_cpus_online(t)), "nodeinfo cpus");
    struct cgp_nodeinfo lv;
    CHECK(cgp_node_get_info_libvirt(t, &lv) == 0, "nodeinfo --virsh");
    /* (libvirt sums each cell's CPUs: a CPU two cells list counts twice) */
    CHECK(lv.nodes >= 1 && lv.cores >= 1 - !lv.cpus, "virsh nodes %u cores %d", lv.nodes, lv.cores);
    CHECK(lv.sockets >= 0 && lv.cores >= 0 && lv.threads >= 0 && lv.mhz >= 0,
          "virsh numbers are never unknown");
    char *xml = NULL;
    int r = cgp_get_capabilities(t, &xml);
    CHECK(r == 0 || r == -ENOMEM || r == -EIO, "capabilities = %d", r);
    if (r == 0) {
        CHECK(xml && strstr(xml, "<capabilities>"), "capabilities XML");
        free(xml);
    }
    uint64_t fb[8];
    int first = cgp_topology_node(t, 0)->id;
    r = cgp_node_get_cells_free_memory(t, fb, first, 8);
    CHECK(r >= 1 && r <= 8 && (size_t)r <= nn, "cells_free_memory = %d", r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct file *f = &files[data[0] % NFILES];
    /* The distance matrix is n_nodes^2 by design: a node/online naming tens of
     * thousands of nodes costs gigabytes (reported as a robustness issue, not
     * re-found here on every run). Real kernels have at most 1024 node ids. */
    if (strstr(f->path, "node/online")) {
        char *s = malloc(size);
        if (!s)
            return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        cgp_bitmap *b = NULL;
        int big = cgp_bitmap_parse(s, 0, &b, NULL) == 0 && cgp_bitmap_last(b) >= 4096;
        cgp_bitmap_free(b);
        free(s);
        if (big)
            return 0;
    }
    put(f->path, data + 1, size - 1);
    cgp_ctx *ctx = NULL;
    if (cgp_ctx_new(root, NULL, &ctx) < 0)
        abort();
    cgp_topology *t = NULL;
    int r = cgp_topology_read(ctx, &t);
    CHECK(r == 0 || r == -EIO || r == -ENOMEM || r == -EFBIG, "read = %d (%s): %s", r,
          strerror(-r), cgp_ctx_last_error(ctx));
    if (r == 0) {
        exercise(t);
        cgp_topology_free(t);
    } else {
        CHECK(t == NULL, "failed read wrote *out");
        CHECK(cgp_ctx_last_error(ctx)[0] != '\0', "error %d without a message", r);
    }
    cgp_ctx_free(ctx);
    put(f->path, f->content, strlen(f->content));
    return 0;
}
