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

static int nodeinfo_json(const struct cgp_nodeinfo *ni, bool virsh)
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
    json_object_object_add(o, "cpuless_cells", cli_json_set(ni->cpuless_cells));
    json_object_object_add(o, "memoryless_cells", cli_json_set(ni->memless_cells));
    if (virsh)
        json_object_object_add(o, "meaning", json_object_new_string("libvirt"));
    return cli_print_json(o);
}

static int nodeinfo_text(const struct cgp_nodeinfo *ni, bool virsh)
{
    printf("%-21s%s\n", "CPU model:", ni->model);
    print_int("CPU(s):", ni->cpus);
    if (ni->mhz < 0 && !virsh)
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
    if (virsh) /* virsh prints no more than this */
        return EXIT_OK;
    const struct { const char *label; const cgp_bitmap *set; } extra[] = {
        { "CPU-less cell(s):", ni->cpuless_cells }, { "Memory-less cell(s):", ni->memless_cells } };
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
    bool virsh = cli->args.virsh;
    if (virsh)
        cgp_node_get_info_libvirt(env->topo, &ni);
    else
        cgp_node_get_info(env->topo, &ni);
    return cli->json ? nodeinfo_json(&ni, virsh) : nodeinfo_text(&ni, virsh);
}
