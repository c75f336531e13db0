/* cgplace nodeinfo — like virsh nodeinfo, honest on asymmetric hosts. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void print_int(const char *label, long long v)
{
    if (v < 0)
        printf("%-21sunknown\n", label);
    else
        printf("%-21s%lld\n", label, v);
}

/* Online cells without CPUs (want_cpus) or without memory. */
static cgp_bitmap *lacking(const cgp_topology *t, bool cpus)
{
    cgp_bitmap *b = cgp_bitmap_new();
    if (!b)
        return NULL;
    for (size_t i = 0; i < cgp_topology_n_nodes(t); i++) {
        const struct cgp_node *n = cgp_topology_node(t, i);
        if (!n->online)
            continue;
        bool hit = cpus ? (n->kind == CGP_NODE_MEMORY_ONLY || n->kind == CGP_NODE_NEITHER ||
                           (n->kind == CGP_NODE_UNKNOWN && cgp_bitmap_is_empty(n->cpus)))
                        : (n->kind == CGP_NODE_CPU_ONLY || n->kind == CGP_NODE_NEITHER);
        if (hit && cgp_bitmap_set(b, (unsigned)n->id) < 0) {
            cgp_bitmap_free(b);
            return NULL;
        }
    }
    return b;
}

static int nodeinfo_json(const struct cgp_nodeinfo *ni, const cgp_bitmap *cpuless, const cgp_bitmap *memless)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cpu_model", json_object_new_string(ni->model));
    json_object_object_add(o, "cpus", json_object_new_int64(ni->cpus));
    json_object_object_add(o, "mhz", cli_json_int_or_null(ni->mhz, ni->mhz >= 0));
    json_object_object_add(o, "sockets", cli_json_int_or_null(ni->sockets, ni->sockets >= 0));
    json_object_object_add(o, "cores_per_socket", cli_json_int_or_null(ni->cores, ni->cores >= 0));
    json_object_object_add(o, "threads_per_core", cli_json_int_or_null(ni->threads, ni->threads >= 0));
    json_object_object_add(o, "cells", json_object_new_int64(ni->nodes));
    json_object_object_add(o, "memory_kib", cli_json_u64(ni->memory_kib));
    json_object_object_add(o, "cpuless_cells", cli_json_set(cpuless));
    json_object_object_add(o, "memoryless_cells", cli_json_set(memless));
    return cli_print_json(o);
}

static int nodeinfo_text(const struct cgp_nodeinfo *ni, const cgp_bitmap *cpuless, const cgp_bitmap *memless)
{
    printf("%-21s%s\n", "CPU model:", ni->model);
    print_int("CPU(s):", ni->cpus);
    if (ni->mhz < 0)
        printf("%-21sunknown\n", "CPU frequency:");
    else
        printf("%-21s%d MHz\n", "CPU frequency:", ni->mhz);
    print_int("CPU socket(s):", ni->sockets);
    print_int("Core(s) per socket:", ni->cores);
    print_int("Thread(s) per core:", ni->threads);
    print_int("NUMA cell(s):", ni->nodes);
    if (ni->memory_kib == CGP_UNKNOWN_U64)
        printf("%-21sunknown\n", "Memory size:");
    else
        printf("%-21s%llu KiB\n", "Memory size:", (unsigned long long)ni->memory_kib);
    const struct { const char *label; const cgp_bitmap *set; } extra[] = {
        { "CPU-less cell(s):", cpuless }, { "Memory-less cell(s):", memless } };
    for (size_t i = 0; i < 2; i++) {
        if (cgp_bitmap_is_empty(extra[i].set))
            continue;
        char *s = cgp_bitmap_format(extra[i].set);
        printf("%-21s%u (%s)\n", extra[i].label, cgp_bitmap_count(extra[i].set), s ? s : "?");
        free(s);
    }
    return EXIT_OK;
}

int cmd_nodeinfo(struct cli *cli, struct cli_env *env)
{
    struct cgp_nodeinfo ni;
    cgp_node_get_info(env->topo, &ni);
    cgp_bitmap *cpuless CLI_AUTO_BITMAP = lacking(env->topo, true);
    cgp_bitmap *memless CLI_AUTO_BITMAP = lacking(env->topo, false);
    if (!cpuless || !memless)
        return cli_error(EXIT_RUNTIME, "nodeinfo", "out of memory");
    return cli->json ? nodeinfo_json(&ni, cpuless, memless) : nodeinfo_text(&ni, cpuless, memless);
}
