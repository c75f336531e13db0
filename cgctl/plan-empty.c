/* The plan of a placement against an empty cgroup hierarchy (spec §6):
 * a dry run of the enforcement engine on its "empty" backend, where every
 * group is absent and every guest of the policy is planned without a
 * process. The desired tree and the ordered ops are therefore the ones
 * apply makes on a fresh host; this file only copies them out. It lives in
 * cgctl/ (declared with the plan types in cgplace_policy.h) because it is
 * the engine: data flows policy -> cgctl, never back. */
#include "cgctl-int.h"

#include <errno.h>
#include <string.h>

struct cgp_plan {
    cgp_enforce *e;              /* owns every string and set named below */
    size_t n_ops;
    struct cgp_op *ops;
    size_t n_cg;
    struct cgp_cgroup_spec *cg;
};

CGP_EXPORT void cgp_plan_free(cgp_plan *plan)
{
    if (!plan)
        return;
    cgp_enforce_free(plan->e);
    free(plan->ops);
    free(plan->cg);
    free(plan);
}

CGP_EXPORT size_t cgp_plan_n_ops(const cgp_plan *plan)
{
    return plan ? plan->n_ops : 0;
}

CGP_EXPORT const struct cgp_op *cgp_plan_op(const cgp_plan *plan, size_t i)
{
    return plan && i < plan->n_ops ? &plan->ops[i] : NULL;
}

CGP_EXPORT size_t cgp_plan_n_cgroups(const cgp_plan *plan)
{
    return plan ? plan->n_cg : 0;
}

CGP_EXPORT const struct cgp_cgroup_spec *cgp_plan_cgroup(const cgp_plan *plan, size_t i)
{
    return plan && i < plan->n_cg ? &plan->cg[i] : NULL;
}

/* The desired tree: PARENT's components, then each guest's groups. */
static int copy_tree(cgp_plan *plan)
{
    const struct cgctl_desired *d = &plan->e->want;
    size_t n = d->n_shared;
    for (size_t i = 0; i < d->n; i++)
        n += d->g[i].n_groups + (d->g[i].unit != NULL);
    if (!(plan->cg = calloc(n ? n : 1, sizeof *plan->cg)))
        return -ENOMEM;
    for (size_t i = 1; i < d->n_shared; i++)   /* [0] is the root */
        plan->cg[plan->n_cg++] = (struct cgp_cgroup_spec){ d->shared[i], NULL, false, NULL, NULL };
    for (size_t i = 0; i < d->n; i++) {
        const struct cgp_guest_placement *gp = d->g[i].gp;
        if (d->g[i].unit)   /* systemd's scope: its envelope holds the guest's sets */
            plan->cg[plan->n_cg++] = (struct cgp_cgroup_spec){ d->g[i].unit, gp->name, false, gp->cpus, gp->mems };
        for (size_t k = 0; k < d->g[i].n_groups; k++) {
            const struct cgctl_dgroup *w = &d->g[i].groups[k];
            plan->cg[plan->n_cg++] = (struct cgp_cgroup_spec){ w->path, gp->name, w->threaded, w->cpus,
                                                               w->mems };
        }
    }
    return 0;
}

CGP_EXPORT int cgp_plan_from_empty(const cgp_placement *placement, cgp_plan **out)
{
    if (!placement || !out)
        return -EINVAL;
    /* The empty backend opens nothing and reads nothing: a context without
     * a sysroot serves the engine's error reporting only. */
    struct cgp_ctx ctx = { .root_fd = -1 };
    cgp_plan *plan = calloc(1, sizeof *plan);
    if (!plan)
        return -ENOMEM;
    const struct cgctl_backend_ops *ops = cgp_placement_host(placement)->backend == CGP_BACKEND_SYSTEMD
                                              ? &cgctl_backend_empty_systemd : &cgctl_backend_empty;
    int r = cgctl_enforce(&ctx, placement, NULL, 0, CGP_ENFORCE_DRY_RUN | CGCTL_PLAN_ALL, ops, &plan->e);
    if (r == 0 && cgp_enforce_summary(plan->e)->outcome != CGP_ENFORCE_OK)
        r = cgp_enforce_summary(plan->e)->error < 0 ? cgp_enforce_summary(plan->e)->error : -EINVAL;
    if (r == 0) {
        plan->n_ops = cgp_enforce_n_ops(plan->e);
        if (!(plan->ops = calloc(plan->n_ops ? plan->n_ops : 1, sizeof *plan->ops)))
            r = -ENOMEM;
        for (size_t i = 0; r == 0 && i < plan->n_ops; i++) {
            plan->ops[i] = *cgp_enforce_op(plan->e, i);
            plan->ops[i].old_value = NULL;   /* nothing is replaced on an empty tree */
        }
    }
    if (r == 0)
        r = copy_tree(plan);
    if (r < 0) {
        cgp_plan_free(plan);
        return r;
    }
    *out = plan;
    return 0;
}
