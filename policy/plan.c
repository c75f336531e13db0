/* The desired cgroup tree of a placement and the ordered operations that
 * create it (spec §6). Against an empty hierarchy for now; the desired tree
 * (cgp_plan_cgroup) is what the enforcement engine diffs against a live one. */
#include "policy-int.h"

#include <errno.h>
#include <string.h>

struct cgp_plan {
    size_t n_ops, cap_ops;
    struct cgp_op *ops;
    size_t n_cg, cap_cg;
    struct cgp_cgroup_spec *cg;
    size_t n_str, cap_str;
    char **str;
};

CGP_EXPORT void cgp_plan_free(cgp_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_str; i++)
        free(plan->str[i]);
    free(plan->str);
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

/* Keep s (malloc'd) in the plan; NULL on ENOMEM (s freed). */
static char *keep(cgp_plan *pl, char *s)
{
    if (!s)
        return NULL;
    if (pl->n_str == pl->cap_str) {
        size_t cap = pl->cap_str ? pl->cap_str * 2 : 64;
        char **v = realloc(pl->str, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        pl->str = v;
        pl->cap_str = cap;
    }
    return pl->str[pl->n_str++] = s;
}

static char *keepf(cgp_plan *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *keepf(cgp_plan *pl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : keep(pl, s);
}

static int add_op(cgp_plan *pl, enum cgp_op_kind kind, const char *path, const char *file,
                  const char *value, const char *guest, const char *note)
{
    if (!path || (kind == CGP_OP_WRITE && (!file || !value)))
        return -ENOMEM;
    if (pl->n_ops == pl->cap_ops) {
        size_t cap = pl->cap_ops ? pl->cap_ops * 2 : 64;
        struct cgp_op *v = realloc(pl->ops, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        pl->ops = v;
        pl->cap_ops = cap;
    }
    pl->ops[pl->n_ops++] = (struct cgp_op){ kind, path, file, value, NULL, guest, note };
    return 0;
}

static int add_cg(cgp_plan *pl, const char *path, const char *guest, bool threaded,
                  const cgp_bitmap *cpus, const cgp_bitmap *mems)
{
    if (!path)
        return -ENOMEM;
    if (pl->n_cg == pl->cap_cg) {
        size_t cap = pl->cap_cg ? pl->cap_cg * 2 : 64;
        struct cgp_cgroup_spec *v = realloc(pl->cg, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        pl->cg = v;
        pl->cap_cg = cap;
    }
    pl->cg[pl->n_cg++] = (struct cgp_cgroup_spec){ path, guest, threaded, cpus, mems };
    return 0;
}

static int write_set(cgp_plan *pl, const char *path, const char *file, const cgp_bitmap *b,
                     const char *guest, const char *note)
{
    return add_op(pl, CGP_OP_WRITE, path, file, keep(pl, cgp_bitmap_format(b)), guest, note);
}

static int plan_guest(cgp_plan *pl, const char *parent, const struct cgp_guest_placement *g)
{
    int r;
    const char *gpath = keepf(pl, "%s/%s", parent, g->name);
    const char *note = NULL;
    if (g->needs_exec) {
        note = keepf(pl, "mode %s cannot be set through a cgroup, which only restricts: start the "
                     "guest with 'cgplace exec' (or emit --format qemu) for the real policy",
                     cgp_mem_mode_name(g->mode));
        if (!note)
            return -ENOMEM;
    }
    if ((r = add_cg(pl, gpath, g->name, false, g->cpus, g->mems)) < 0 ||
        (r = add_op(pl, CGP_OP_MKDIR, gpath, NULL, NULL, g->name, NULL)) < 0 ||
        (r = write_set(pl, gpath, "cpuset.cpus", g->cpus, g->name, NULL)) < 0 ||
        (r = write_set(pl, gpath, "cpuset.mems", g->mems, g->name, note)) < 0)
        return r;
    size_t nchild = 1 + g->n_vcpus + g->n_iothreads;
    size_t first = pl->n_cg;
    for (size_t k = 0; k < nchild; k++) {
        const char *path;
        const struct cgp_thread_placement *tp;
        if (k == 0) {
            path = keepf(pl, "%s/emulator", gpath);
            tp = &g->emulator;
        } else if (k <= g->n_vcpus) {
            path = keepf(pl, "%s/vcpu%zu", gpath, k - 1);
            tp = &g->vcpu[k - 1];
        } else {
            const struct cgp_iothread_placement *io = &g->iothreads[k - 1 - g->n_vcpus];
            path = keepf(pl, "%s/iothread-%s", gpath, io->id);
            if ((r = add_cg(pl, path, g->name, true, io->cpus, io->mems)) < 0 ||
                (r = add_op(pl, CGP_OP_MKDIR, path, NULL, NULL, g->name, NULL)) < 0 ||
                (r = add_op(pl, CGP_OP_WRITE, path, "cgroup.type", "threaded", g->name, NULL)) < 0)
                return r;
            continue;
        }
        if ((r = add_cg(pl, path, g->name, true, tp->cpus, tp->mems)) < 0 ||
            (r = add_op(pl, CGP_OP_MKDIR, path, NULL, NULL, g->name, NULL)) < 0 ||
            (r = add_op(pl, CGP_OP_WRITE, path, "cgroup.type", "threaded", g->name, NULL)) < 0)
            return r;
    }
    /* cpuset in the threaded subtree, then each thread's sets */
    if ((r = add_op(pl, CGP_OP_WRITE, gpath, "cgroup.subtree_control", "+cpuset", g->name, NULL)) < 0)
        return r;
    for (size_t k = first; k < pl->n_cg; k++) {
        const struct cgp_cgroup_spec *cg = &pl->cg[k];
        if ((r = write_set(pl, cg->path, "cpuset.cpus", cg->cpus, g->name, NULL)) < 0 ||
            (r = write_set(pl, cg->path, "cpuset.mems", cg->mems, g->name, note)) < 0)
            return r;
    }
    return 0;
}

CGP_EXPORT int cgp_plan_from_empty(const cgp_placement *placement, cgp_plan **out)
{
    if (!placement || !out)
        return -EINVAL;
    cgp_plan *pl = calloc(1, sizeof *pl);
    if (!pl)
        return -ENOMEM;
    const char *parent = placement->host.parent;
    int r = add_op(pl, CGP_OP_WRITE, "", "cgroup.subtree_control", "+cpuset", NULL, NULL);
    /* every component of PARENT, outermost first */
    for (const char *s = parent; r == 0 && s;) {
        const char *slash = strchr(s, '/');
        const char *path = keepf(pl, "%.*s", (int)(slash ? (size_t)(slash - parent) : strlen(parent)), parent);
        if ((r = add_cg(pl, path, NULL, false, NULL, NULL)) < 0 ||
            (r = add_op(pl, CGP_OP_MKDIR, path, NULL, NULL, NULL, NULL)) < 0 ||
            (r = add_op(pl, CGP_OP_WRITE, path, "cgroup.subtree_control", "+cpuset", NULL, NULL)) < 0)
            break;
        s = slash ? slash + 1 : NULL;
    }
    for (size_t i = 0; r == 0 && i < placement->n; i++)
        r = plan_guest(pl, parent, &placement->g[i].pub);
    if (r < 0) {
        cgp_plan_free(pl);
        return r;
    }
    *out = pl;
    return 0;
}
