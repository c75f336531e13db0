/* suggest: the auto solver for one new guest after a policy's commitments. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>

CGP_EXPORT void cgp_suggestion_clear(struct cgp_suggestion *s)
{
    if (!s)
        return;
    cgp_bitmap_free(s->cpus);
    cgp_bitmap_free(s->mems);
    cgp_bitmap_free(s->cpu_nodes);
    memset(s, 0, sizeof *s);
}

CGP_EXPORT int cgp_suggest(const cgp_placement *pl, const cgp_topology *t, unsigned vcpus,
                           uint64_t memory_kib, struct cgp_suggestion *out)
{
    if (!t || !out || vcpus == 0 || vcpus > CGP_POLICY_MAX_VCPUS)
        return -EINVAL;
    struct hostview hv;
    int r = hv_init(&hv, t, pl ? pl->host.reserved_cpus : NULL,
                    pl ? pl->host.overcommit_milli : 1000, pl ? pl->host.reserve_memory_kib : 0);
    if (r < 0)
        return r;
    hv.use_free = true;
    for (size_t i = 0; pl && i < pl->n; i++) {
        const struct cgp_guest_placement *g = &pl->g[i].pub;
        cgp_bitmap *cn = NULL;
        if ((r = hv_nodes_of_cpus(&hv, g->cpus, &cn)) < 0)
            goto out;
        hv_commit(&hv, cn, g->n_vcpus, g->mems, g->memory_kib);
        cgp_bitmap_free(cn);
    }
    struct solve_req rq = { .vcpus = vcpus, .mem_kib = memory_kib };
    cgp_bitmap *cn = NULL, *mn = NULL;
    if ((r = solve_one(&hv, &rq, &cn, &mn)) < 0)
        goto out;
    cgp_bitmap *cpus = cgp_bitmap_new();
    r = cpus ? 0 : -ENOMEM;
    for (size_t x = 0; r == 0 && x < hv.n; x++)
        if (cgp_bitmap_test(cn, (unsigned)hv.id[x]))
            r = cgp_bitmap_or(cpus, hv.ucpus[x]);
    if (r < 0) {
        cgp_bitmap_free(cpus);
        cgp_bitmap_free(cn);
        cgp_bitmap_free(mn);
        goto out;
    }
    *out = (struct cgp_suggestion){ .cpus = cpus, .mems = mn, .cpu_nodes = cn };
out:
    hv_clear(&hv);
    return r;
}
