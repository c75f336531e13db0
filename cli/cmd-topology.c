/* cgplace topology — every node with kind, CPUs, memory, distances, HMAT, tiers. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static struct json_object *node_json(const cgp_topology *t, const struct cgp_node *n)
{
    struct json_object *o = json_object_new_object();
    cli_jadd(o, "id", json_object_new_int(n->id));
    cli_jadd(o, "online", json_object_new_boolean(n->online));
    cli_jadd(o, "kind", json_object_new_string(cgp_node_kind_name(n->kind)));
    cli_jadd(o, "cpus", cli_json_set(n->cpus));
    cli_jadd(o, "memory_kib", cli_json_u64(n->mem_total_kib));
    cli_jadd(o, "free_kib", cli_json_u64(n->mem_free_kib));
    struct json_object *hp = json_object_new_array();
    for (size_t h = 0; h < n->n_hugepages; h++) {
        struct json_object *e = json_object_new_object();
        cli_jadd(e, "size_kib", json_object_new_uint64(n->hugepages[h].size_kib));
        cli_jadd(e, "total", cli_json_u64(n->hugepages[h].total));
        cli_jadd(e, "free", cli_json_u64(n->hugepages[h].free));
        json_object_array_add(hp, e);
    }
    cli_jadd(o, "hugepages", hp);
    /* {"<node id>": distance}: one object per row (a {node, value} object per
     * entry costs 5,000 json-c objects on a 72-node host). */
    struct json_object *d = json_object_new_object();
    for (size_t j = 0; j < cgp_topology_n_nodes(t); j++) {
        int other = cgp_topology_node(t, j)->id;
        int v = cgp_topology_distance(t, n->id, other);
        if (v < 0)
            continue;
        char key[24];
        key[cli_fmt_u64(key, (uint64_t)other)] = '\0';   /* ids are >= 0; snprintf cost 6% here */
        json_object_object_add_ex(d, key, json_object_new_int(v), JSON_C_OBJECT_ADD_KEY_IS_NEW);
    }
    cli_jadd(o, "distances", d);
    cli_jadd(o, "initiators", cli_json_set(n->initiators));
    struct json_object *acc = NULL;
    if (n->initiators) {
        acc = json_object_new_object();
        cli_jadd(acc, "read_latency_ns", cli_json_int_or_null(n->read_latency, n->read_latency >= 0));
        cli_jadd(acc, "write_latency_ns", cli_json_int_or_null(n->write_latency, n->write_latency >= 0));
        cli_jadd(acc, "read_bandwidth_mbps", cli_json_int_or_null(n->read_bandwidth, n->read_bandwidth >= 0));
        cli_jadd(acc, "write_bandwidth_mbps", cli_json_int_or_null(n->write_bandwidth, n->write_bandwidth >= 0));
    }
    cli_jadd(o, "access0", acc);
    cli_jadd(o, "tier", cli_json_int_or_null(n->tier, n->tier >= 0));
    return o;
}

static struct json_object *cpu_json(const struct cgp_cpu *c)
{
    struct json_object *o = json_object_new_object();
    cli_jadd(o, "id", json_object_new_int(c->id));
    cli_jadd(o, "online", json_object_new_boolean(c->online));
    cli_jadd(o, "node", cli_json_int_or_null(c->node, c->node >= 0));
    cli_jadd(o, "package", cli_json_int_or_null(c->package, c->package_known));
    cli_jadd(o, "die", cli_json_int_or_null(c->die, c->die >= 0));
    cli_jadd(o, "cluster", cli_json_int_or_null(c->cluster, c->cluster >= 0));
    cli_jadd(o, "core", cli_json_int_or_null(c->core, c->core >= 0));
    cli_jadd(o, "siblings", cli_json_set(c->siblings));
    return o;
}

static void put_kib(uint64_t v)
{
    if (v == CGP_UNKNOWN_U64)
        printf(" %12s", "?");
    else
        printf(" %12llu", (unsigned long long)v);
}

static int print_text(const cgp_topology *t)
{
    char *on = cgp_bitmap_format(cgp_topology_nodes_online(t));
    char *pos = cgp_bitmap_format(cgp_topology_nodes_possible(t));
    cgp_bitmap *off = cgp_bitmap_dup(cgp_topology_cpus_present(t));
    if (off)
        cgp_bitmap_andnot(off, cgp_topology_cpus_online(t));
    char *pres = cgp_bitmap_format(cgp_topology_cpus_present(t));
    char *offs = off ? cgp_bitmap_format(off) : NULL;
    printf("Nodes online: %s (possible %s)\n", on ? on : "?", pos ? pos : "?");
    printf("CPUs present: %s, offline: %s\n\n", pres ? pres : "?", offs && *offs ? offs : "none");
    free(on); free(pos); free(pres); free(offs); cgp_bitmap_free(off);

    printf("%4s  %-11s %-16s %12s %12s %4s  %s\n", "NODE", "KIND", "CPUS", "MEM(KiB)", "FREE(KiB)",
           "TIER", "HUGEPAGES");
    size_t n = cgp_topology_n_nodes(t);
    for (size_t i = 0; i < n; i++) {
        const struct cgp_node *nd = cgp_topology_node(t, i);
        char *cpus = cgp_bitmap_format(nd->cpus);
        printf("%4d  %-11s %-16s", nd->id, nd->online ? cgp_node_kind_name(nd->kind) : "offline",
               cpus && *cpus ? cpus : "-");
        free(cpus);
        put_kib(nd->mem_total_kib);
        put_kib(nd->mem_free_kib);
        if (nd->tier >= 0)
            printf(" %4d ", nd->tier);
        else
            printf(" %4s ", "?");
        for (size_t h = 0; h < nd->n_hugepages; h++) {
            const struct cgp_hugepages *hp = &nd->hugepages[h];
            printf(" %lluK:", (unsigned long long)hp->size_kib);
            if (hp->total == CGP_UNKNOWN_U64)
                printf("?");
            else
                printf("%llu", (unsigned long long)hp->total);
            if (hp->free != CGP_UNKNOWN_U64)
                printf("(%llu free)", (unsigned long long)hp->free);
        }
        printf("\n");
    }

    bool any_hmat = false;
    for (size_t i = 0; i < n; i++)
        any_hmat |= cgp_topology_node(t, i)->initiators != NULL;
    if (any_hmat) {
        printf("\nHMAT access class 0 (nearest initiators):\n");
        for (size_t i = 0; i < n; i++) {
            const struct cgp_node *nd = cgp_topology_node(t, i);
            if (!nd->initiators)
                continue;
            char *ini = cgp_bitmap_format(nd->initiators);
            printf("  node %d: initiators %s", nd->id, ini && *ini ? ini : "-");
            free(ini);
            const struct { const char *name, *unit; int64_t v; } f[] = {
                { "read latency", "ns", nd->read_latency }, { "write latency", "ns", nd->write_latency },
                { "read bandwidth", "MB/s", nd->read_bandwidth }, { "write bandwidth", "MB/s", nd->write_bandwidth } };
            for (size_t k = 0; k < 4; k++)
                if (f[k].v >= 0)
                    printf(", %s %lld %s", f[k].name, (long long)f[k].v, f[k].unit);
            printf("\n");
        }
    }

    printf("\nnode distances:\n%4s", "node");
    for (size_t j = 0; j < n; j++)
        printf(" %4d", cgp_topology_node(t, j)->id);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        int a = cgp_topology_node(t, i)->id;
        printf("%3d:", a);
        for (size_t j = 0; j < n; j++) {
            int d = cgp_topology_distance(t, a, cgp_topology_node(t, j)->id);
            if (d < 0)
                printf(" %4s", "?");
            else
                printf(" %4d", d);
        }
        printf("\n");
    }
    return EXIT_OK;
}

int cmd_topology(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_error(EXIT_USAGE, "topology", "takes no arguments");
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    int rc = cli_load_topology(cli, &ctx, &t);
    if (rc || (rc = cli_sandbox(cli, "topology")))
        return rc;
    if (!cli->json)
        return print_text(t);
    struct json_object *o = json_object_new_object();
    cli_jadd(o, "nodes_online", cli_json_set(cgp_topology_nodes_online(t)));
    cli_jadd(o, "nodes_possible", cli_json_set(cgp_topology_nodes_possible(t)));
    cli_jadd(o, "cpus_present", cli_json_set(cgp_topology_cpus_present(t)));
    cli_jadd(o, "cpus_online", cli_json_set(cgp_topology_cpus_online(t)));
    struct json_object *nodes = json_object_new_array();
    for (size_t i = 0; i < cgp_topology_n_nodes(t); i++)
        json_object_array_add(nodes, node_json(t, cgp_topology_node(t, i)));
    cli_jadd(o, "nodes", nodes);
    struct json_object *cpus = json_object_new_array();
    for (size_t i = 0; i < cgp_topology_n_cpus(t); i++)
        json_object_array_add(cpus, cpu_json(cgp_topology_cpu(t, i)));
    cli_jadd(o, "cpus", cpus);
    return cli_print_json(o);
}
