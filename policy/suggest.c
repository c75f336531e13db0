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
    return cgp_suggest_nodes(pl, t, vcpus, memory_kib, NULL, out);
}

/* The policy's commitments, as the compiler counts them: guests with fixed
 * CPUs per vCPU first (their pins decide the tiers), then the auto ones. */
static void commit_policy(struct hostview *hv, const cgp_placement *pl, bool auto_placed)
{
    for (size_t i = 0; pl && i < pl->n; i++) {
        const struct cgp_guest_placement *g = &pl->g[i].pub;
        if (g->auto_placed != auto_placed)
            continue;
        hv_commit_mem(hv, g->mems, g->memory_kib, +1);
        if (!auto_placed) {
            for (unsigned v = 0; v < g->n_vcpus; v++)
                hv_commit_vcpu(hv, g->vcpu[v].cpus);
            continue;
        }
        cgp_bitmap *cn = NULL;
        if (hv_nodes_of_cpus(hv, g->cpus, &cn) == 0) {
            (void)hv_commit_auto(hv, cn, g->cpus, g->n_vcpus, NULL);
            cgp_bitmap_free(cn);
        }
    }
}

CGP_EXPORT int cgp_suggest_nodes(const cgp_placement *pl, const cgp_topology *t, unsigned vcpus,
                                 uint64_t memory_kib, const cgp_bitmap *mem_nodes,
                                 struct cgp_suggestion *out)
{
    if (!t || !out || vcpus == 0 || vcpus > CGP_POLICY_MAX_VCPUS)
        return -EINVAL;
    if (mem_nodes) {
        if (cgp_bitmap_is_empty(mem_nodes))
            return -EINVAL;
        cgp_bitmap_foreach(mem_nodes, id) {
            const struct cgp_node *nd = cgp_topology_node_by_id(t, id);
            if (!nd || !nd->online || nd->mem_total_kib == CGP_UNKNOWN_U64 || !nd->mem_total_kib)
                return -EINVAL;
        }
    }
    struct hostview hv;
    int r = hv_init(&hv, t, pl ? pl->host.reserved_cpus : NULL,
                    pl ? pl->host.overcommit_milli : 1000, pl ? pl->host.reserve_memory_kib : 0);
    if (r < 0)
        return r;
    hv.use_free = true;
    commit_policy(&hv, pl, false);
    if ((r = hv_tiers(&hv)) < 0)
        goto out;
    commit_policy(&hv, pl, true);
    if (mem_nodes) {
        /* memory named: it has to fit there, as the compiler checks */
        unsigned k = cgp_bitmap_count(mem_nodes);
        cgp_bitmap_foreach(mem_nodes, id) {
            int i = hv_index(&hv, id);
            if (i < 0 || hv_avail(&hv, (size_t)i) < (int64_t)((memory_kib + k - 1) / k)) {
                r = -ENOSPC;
                goto out;
            }
        }
    }
    struct solve_req rq = { .vcpus = vcpus, .mem_kib = memory_kib, .fixed_mem_nodes = mem_nodes };
    struct solved s = { 0 };
    if ((r = solve_place(&hv, &rq, &s, NULL)) < 0)
        goto out;
    cgp_bitmap *cn = NULL;
    if ((r = hv_nodes_of_cpus(&hv, s.cpus, &cn)) < 0) {
        solved_clear(&s);
        goto out;
    }
    cgp_bitmap_free(s.cpu_nodes);
    *out = (struct cgp_suggestion){ .cpus = s.cpus, .mems = s.mem_nodes, .cpu_nodes = cn };
out:
    hv_clear(&hv);
    return r;
}
