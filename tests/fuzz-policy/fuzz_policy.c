/* libFuzzer target: the policy parser, and (when FUZZ_POLICY_SYSROOT names a
 * fixture host) the compiler and plan on what parses. Invariants: parsing
 * fails exactly when an error was reported; every diagnostic has a file and a
 * 1-based location; no leak, no overflow, no hang. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace_policy.h"
#include "../fuzz/fuzz_host.h"

static cgp_topology *topo;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    topo = fuzz_host();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    cgp_diags *d = cgp_diags_new();
    if (!d)
        return 0;
    cgp_policy *p = NULL;
    /* a directory that does not exist: relative includes find nothing */
    int r = cgp_policy_parse_buffer("/nonexistent-cgplace-fuzz/p.conf", (const char *)data, size, d, &p);
    if ((r == 0) != (cgp_diags_errors(d) == 0) && r != -ENOMEM)
        abort();
    for (size_t i = 0; i < cgp_diags_count(d); i++) {
        const struct cgp_diag *dg = cgp_diags_get(d, i);
        if (!dg->file || !dg->msg || !dg->line || !dg->col)
            abort();
        free(cgp_diag_format(dg));
    }
    if (r == 0 && topo) {
        cgp_placement *pl = NULL;
        size_t before = cgp_diags_errors(d);
        r = cgp_policy_compile(p, topo, d, &pl);
        if ((r == 0) != (cgp_diags_errors(d) == before) && r != -ENOMEM)
            abort();
        if (r == 0) {
            cgp_plan *plan = NULL;
            if (cgp_plan_from_empty(pl, &plan) == 0) {
                for (size_t i = 0; i < cgp_plan_n_ops(plan); i++)
                    if (!cgp_plan_op(plan, i)->path)
                        abort();
                cgp_plan_free(plan);
            }
            cgp_placement_free(pl);
        }
    }
    cgp_policy_free(p);
    cgp_diags_free(d);
    return 0;
}
