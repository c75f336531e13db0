/* Built against the installed header and library by tests/install/run.sh:
 * the libvirt-equivalent API on the live host or a --sysroot tree. */
#include <cgplace.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    cgp_ctx *ctx;
    cgp_topology *t;
    if (cgp_ctx_new(argc > 1 ? argv[1] : NULL, NULL, &ctx) < 0 || cgp_topology_read(ctx, &t) < 0)
        return 1;
    struct cgp_nodeinfo ni;
    cgp_node_get_info(t, &ni);
    uint64_t freeb[64];
    int n = cgp_node_get_cells_free_memory(t, freeb, cgp_topology_node(t, 0)->id, 64);
    char *xml = NULL;
    int r = cgp_get_capabilities(t, &xml);
    printf("cpus=%u cells=%u free_entries=%d caps=%s\n", ni.cpus, ni.nodes, n, r == 0 ? "ok" : "fail");
    free(xml);
    cgp_topology_free(t);
    cgp_ctx_free(ctx);
    return n > 0 && r == 0 ? 0 : 1;
}
