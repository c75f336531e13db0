/* Runtime tuning's view of a guest's memory: numa_maps per node, read by the
 * same reader as verify and the leftover-page migration. */
#include "cgctl-int.h"

#include <errno.h>

CGP_EXPORT int cgp_guest_numa_pages(cgp_ctx *ctx, const struct cgp_guest *g, uint64_t **pages, size_t *n_nodes)
{
    if (!ctx || !g || !pages || !n_nodes)
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    int r = cgctl_read_numa_maps(ctx, g->pid, pages, n_nodes);
    return r < 0 ? cgp_ctx_errorf(ctx, r, "proc/%d/numa_maps: cannot be read", g->pid) : 0;
}
