/* cgplace freecell [CELL] [--all] — like virsh freecell. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Free KiB of a node, CGP_UNKNOWN_U64 when unknown. */
static uint64_t cell_free(const struct cgp_node *n)
{
    return n->mem_total_kib == 0 ? 0 : n->mem_free_kib; /* a cell without memory has nothing free */
}

static void print_kib(uint64_t v)
{
    if (v == CGP_UNKNOWN_U64)
        printf("unknown\n");
    else
        printf("%llu KiB\n", (unsigned long long)v);
}

int prep_freecell(struct cli *cli, struct cli_env *env)
{
    (void)env;
    struct cli_args *a = &cli->args;
    if (a->cellno && a->n_operands)
        return cli_error(EXIT_USAGE, "freecell", "give the cell once: '%s' or --cellno '%s'", a->operands[0], a->cellno);
    const char *cell = a->cellno ? a->cellno : a->n_operands ? a->operands[0] : NULL;
    a->cell = -1;
    if (a->all && cell)
        return cli_error(EXIT_USAGE, "freecell", "give a CELL or --all, not both");
    if (cell) {
        char *end;
        errno = 0;
        a->cell = strtol(cell, &end, 10);
        if (errno || *end || end == cell || a->cell < 0 || a->cell > 0x7fffffff)
            return cli_error(EXIT_USAGE, "freecell", "invalid cell '%s': expected a node number", cell);
    }
    return EXIT_OK;
}

struct cell {
    int id;
    uint64_t kib;       /* CGP_UNKNOWN_U64: unknown */
};

static int one_json(const struct cell *c)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cell", json_object_new_int(c->id));
    json_object_object_add(o, "free_kib", cli_json_u64(c->kib));
    return cli_print_json(o);
}

static int one_text(const struct cell *c)
{
    printf("%d: ", c->id);
    print_kib(c->kib);
    return EXIT_OK;
}

/* cells: n rows with --all, none without; total CGP_UNKNOWN_U64 when unknown. */
static int all_json(const struct cell *cells, size_t n, bool all, uint64_t total)
{
    struct json_object *o = json_object_new_object();
    if (all) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
            struct json_object *c = json_object_new_object();
            json_object_object_add(c, "cell", json_object_new_int(cells[i].id));
            json_object_object_add(c, "free_kib", cli_json_u64(cells[i].kib));
            json_object_array_add(a, c);
        }
        json_object_object_add(o, "cells", a);
    }
    json_object_object_add(o, "total_kib", cli_json_u64(total));
    return cli_print_json(o);
}

static int all_text(const struct cell *cells, size_t n, bool all, uint64_t total)
{
    for (size_t i = 0; all && i < n; i++) {
        printf("%5d: ", cells[i].id);
        print_kib(cells[i].kib);
    }
    if (all)
        printf("--------------------\n");
    printf("Total: ");
    print_kib(total);
    return EXIT_OK;
}

int cmd_freecell(struct cli *cli, struct cli_env *env)
{
    const cgp_topology *t = env->topo;
    long cellno = cli->args.cell;
    if (cellno >= 0) {
        const struct cgp_node *n = cgp_topology_node_by_id(t, (int)cellno);
        if (!n) {
            char *ids CLI_AUTO_FREE = cgp_bitmap_format(cgp_topology_nodes_online(t));
            return cli_error(EXIT_USAGE, "freecell", "no such cell: %ld (cells: %s)", cellno, ids ? ids : "?");
        }
        struct cell c = { n->id, cell_free(n) };
        return cli->json ? one_json(&c) : one_text(&c);
    }
    struct cell *cells CLI_AUTO_FREE = calloc(cgp_topology_n_nodes(t) + 1, sizeof *cells);
    if (!cells)
        return cli_error(EXIT_RUNTIME, "freecell", "%s", strerror(ENOMEM));
    size_t nc = 0;
    for (size_t i = 0; i < cgp_topology_n_nodes(t); i++) {
        const struct cgp_node *n = cgp_topology_node(t, i);
        if (n->online)
            cells[nc++] = (struct cell){ n->id, cell_free(n) };
    }
    uint64_t total = cgp_topology_mem_free_kib(t); /* checked: unknown rather than wrapped */
    bool all = cli->args.all;
    return cli->json ? all_json(cells, nc, all, total) : all_text(cells, nc, all, total);
}
