/* cgplace topology — every node with kind, CPUs, memory, distances, HMAT, tiers. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The JSON document is written straight from the model (cli_jw): the same
 * bytes json-c would print, without building 9,000 objects on a 1024-CPU host. */
static void jw_set(struct cli_jw *w, const char *key, const cgp_bitmap *b)
{
    cli_jw_key(w, key);
    char *s = b ? cgp_bitmap_format(b) : NULL;
    cli_jw_str(w, s);       /* NULL: unknown (or out of memory, which the format cannot say) */
    free(s);
}

static void jw_u64(struct cli_jw *w, const char *key, uint64_t v)
{
    cli_jw_key(w, key);
    if (v == CGP_UNKNOWN_U64)
        cli_jw_null(w);
    else
        cli_jw_u64(w, v);
}

static void jw_int(struct cli_jw *w, const char *key, long long v, bool known)
{
    cli_jw_key(w, key);
    if (known)
        cli_jw_int(w, v);
    else
        cli_jw_null(w);
}

static void node_json(struct cli_jw *w, const cgp_topology *t, const struct cgp_node *n)
{
    cli_jw_obj(w);
    jw_int(w, "id", n->id, true);
    cli_jw_key(w, "online");
    cli_jw_bool(w, n->online);
    cli_jw_key(w, "kind");
    cli_jw_str(w, cgp_node_kind_name(n->kind));
    jw_set(w, "cpus", n->cpus);
    jw_u64(w, "memory_kib", n->mem_total_kib);
    jw_u64(w, "free_kib", n->mem_free_kib);
    cli_jw_key(w, "hugepages");
    cli_jw_arr(w);
    for (size_t h = 0; h < n->n_hugepages; h++) {
        cli_jw_obj(w);
        cli_jw_key(w, "size_kib");
        cli_jw_u64(w, n->hugepages[h].size_kib);
        jw_u64(w, "total", n->hugepages[h].total);
        jw_u64(w, "free", n->hugepages[h].free);
        cli_jw_end(w);
    }
    cli_jw_end(w);
    /* {"<node id>": distance}: one object per row */
    cli_jw_key(w, "distances");
    cli_jw_obj(w);
    for (size_t j = 0; j < cgp_topology_n_nodes(t); j++) {
        int other = cgp_topology_node(t, j)->id;
        int v = cgp_topology_distance(t, n->id, other);
        if (v < 0)
            continue;
        char key[24];
        key[cli_fmt_u64(key, (uint64_t)other)] = '\0';   /* ids are >= 0 */
        jw_int(w, key, v, true);
    }
    cli_jw_end(w);
    jw_set(w, "initiators", n->initiators);
    cli_jw_key(w, "access0");
    if (n->initiators) {
        cli_jw_obj(w);
        jw_int(w, "read_latency_ns", n->read_latency, n->read_latency >= 0);
        jw_int(w, "write_latency_ns", n->write_latency, n->write_latency >= 0);
        jw_int(w, "read_bandwidth_mbps", n->read_bandwidth, n->read_bandwidth >= 0);
        jw_int(w, "write_bandwidth_mbps", n->write_bandwidth, n->write_bandwidth >= 0);
        cli_jw_end(w);
    } else {
        cli_jw_null(w);
    }
    jw_int(w, "tier", n->tier, n->tier >= 0);
    cli_jw_end(w);
}

static void cpu_json(struct cli_jw *w, const struct cgp_cpu *c)
{
    cli_jw_obj(w);
    jw_int(w, "id", c->id, true);
    cli_jw_key(w, "online");
    cli_jw_bool(w, c->online);
    jw_int(w, "node", c->node, c->node >= 0);
    jw_int(w, "package", c->package, c->package_known);
    jw_int(w, "die", c->die, c->die >= 0);
    jw_int(w, "cluster", c->cluster, c->cluster >= 0);
    jw_int(w, "core", c->core, c->core >= 0);
    jw_set(w, "siblings", c->siblings);
    cli_jw_end(w);
}

static void put_kib(uint64_t v)
{
    if (v == CGP_UNKNOWN_U64)
        printf(" %12s", "?");
    else
        printf(" %12llu", (unsigned long long)v);
}

static int topology_text(const cgp_topology *t)
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

static int topology_json(const cgp_topology *t)
{
    struct cli_jw *w = cli_jw_new();
    cli_jw_obj(w);
    jw_set(w, "nodes_online", cgp_topology_nodes_online(t));
    jw_set(w, "nodes_possible", cgp_topology_nodes_possible(t));
    jw_set(w, "cpus_present", cgp_topology_cpus_present(t));
    jw_set(w, "cpus_online", cgp_topology_cpus_online(t));
    cli_jw_key(w, "nodes");
    cli_jw_arr(w);
    for (size_t i = 0; i < cgp_topology_n_nodes(t); i++)
        node_json(w, t, cgp_topology_node(t, i));
    cli_jw_end(w);
    cli_jw_key(w, "cpus");
    cli_jw_arr(w);
    for (size_t i = 0; i < cgp_topology_n_cpus(t); i++)
        cpu_json(w, cgp_topology_cpu(t, i));
    cli_jw_end(w);
    cli_jw_end(w);
    return cli_print_jw(w);
}

int cmd_topology(struct cli *cli, struct cli_env *env)
{
    return cli->json ? topology_json(env->topo) : topology_text(env->topo);
}
