/* The fixture host the fuzz targets that compile policies run on:
 * FUZZ_POLICY_SYSROOT (tests/fuzz/fuzz.mk sets it), read once. */
#ifndef CGP_FUZZ_HOST_H
#define CGP_FUZZ_HOST_H

#include <stdlib.h>

#include "cgplace.h"

/* The topology of FUZZ_POLICY_SYSROOT, or NULL when unset or unreadable. */
static inline cgp_topology *fuzz_host(void)
{
    const char *root = getenv("FUZZ_POLICY_SYSROOT");
    cgp_ctx *ctx = NULL;
    cgp_topology *t = NULL;
    if (root && cgp_ctx_new(root, NULL, &ctx) == 0) {
        if (cgp_topology_read(ctx, &t) < 0)
            t = NULL;
        cgp_ctx_free(ctx);
    }
    return t;
}

#endif
