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

int cmd_freecell(struct cli *cli, int argc, char **argv)
{
    bool all = false;
    const char *cell = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "--cellno") && i + 1 < argc && !cell)
            cell = argv[++i];
        else if (argv[i][0] != '-' && !cell)
            cell = argv[i];
        else
            return cli_error(EXIT_USAGE, "freecell", "unexpected argument '%s' (usage: freecell [CELL] [--all])", argv[i]);
    }
    if (all && cell)
        return cli_error(EXIT_USAGE, "freecell", "give a CELL or --all, not both");
    long cellno = -1;
    if (cell) {
        char *end;
        errno = 0;
        cellno = strtol(cell, &end, 10);
        if (errno || *end || end == cell || cellno < 0 || cellno > 0x7fffffff)
            return cli_error(EXIT_USAGE, "freecell", "invalid cell '%s': expected a node number", cell);
    }
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    int rc = cli_load_topology(cli, &ctx, &t);
    if (rc || (rc = cli_sandbox(cli, "freecell")))
        return rc;
    if (cell) {
        const struct cgp_node *n = cgp_topology_node_by_id(t, (int)cellno);
        if (!n) {
            char *ids = cgp_bitmap_format(cgp_topology_nodes_online(t));
            rc = cli_error(EXIT_USAGE, "freecell", "no such cell: %ld (cells: %s)", cellno, ids ? ids : "?");
            free(ids);
            return rc;
        }
        uint64_t v = cell_free(n);
        if (cli->json) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "cell", json_object_new_int(n->id));
            json_object_object_add(o, "free_kib", cli_json_u64(v));
            return cli_print_json(o);
        }
        printf("%d: ", n->id);
        print_kib(v);
        return EXIT_OK;
    }
    uint64_t total = cgp_topology_mem_free_kib(t);
    struct json_object *cells = cli->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < cgp_topology_n_nodes(t); i++) {
        const struct cgp_node *n = cgp_topology_node(t, i);
        if (!n->online)
            continue;
        if (!all)
            continue;
        uint64_t v = cell_free(n);
        if (cells) {
            struct json_object *c = json_object_new_object();
            json_object_object_add(c, "cell", json_object_new_int(n->id));
            json_object_object_add(c, "free_kib", cli_json_u64(v));
            json_object_array_add(cells, c);
        } else {
            printf("%5d: ", n->id);
            print_kib(v);
        }
    }
    if (cells) {
        struct json_object *o = json_object_new_object();
        if (all)
            json_object_object_add(o, "cells", cells);
        else
            json_object_put(cells);
        json_object_object_add(o, "total_kib", cli_json_u64(total));
        return cli_print_json(o);
    }
    if (all)
        printf("--------------------\n");
    printf("Total: ");
    print_kib(total);
    return EXIT_OK;
}
