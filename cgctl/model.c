/* The engine's model and the diff (spec §6): the desired state laid over the
 * backend's view of the live tree, planned into the fewest actions in a safe
 * order (widen parents first, narrow children first), each journalled with
 * its inverse. The planner does not know which backend runs. */
#include "cgctl-int.h"

#include <errno.h>
#include <string.h>

static const char *const state_names[] = {
    [CGP_GUEST_NOT_RUNNING] = "not running", [CGP_GUEST_FOREIGN] = "foreign",
    [CGP_GUEST_UNCHANGED] = "unchanged", [CGP_GUEST_CHANGED] = "changed",
    [CGP_GUEST_VANISHED] = "vanished", [CGP_GUEST_FAILED] = "failed",
    [CGP_GUEST_INVALID] = "invalid",
};

CGP_EXPORT const char *cgp_guest_state_name(enum cgp_guest_state s)
{
    return (unsigned)s < sizeof state_names / sizeof *state_names ? state_names[s] : "?";
}

static const char *const owner_names[] = {
    [CGP_OWNER_NONE] = "none", [CGP_OWNER_CGPLACE] = "cgplace", [CGP_OWNER_LIBVIRT] = "libvirt",
    [CGP_OWNER_OTHER] = "other",
};

CGP_EXPORT const char *cgp_guest_owner_name(enum cgp_guest_owner o)
{
    return (unsigned)o < sizeof owner_names / sizeof *owner_names ? owner_names[o] : "?";
}

CGP_EXPORT void cgp_enforce_free(cgp_enforce *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_cg; i++) {
        cgp_bitmap_free(e->cg[i].live.cpus);
        cgp_bitmap_free(e->cg[i].live.mems);
    }
    for (size_t i = 0; i < e->n_t; i++)
        free(e->t[i].cg);
    if (e->be.ops)
        e->be.ops->close(&e->be);
    if (e->lv.ops)
        e->lv.ops->close(&e->lv);
    cgp_arena_clear(&e->arena);
    free(e->g);
    free(e->cg);
    free(e->t);
    free(e->op);
    free(e->kept);
    free(e->msgs.v);
    free(e->strays.v);
    free(e);
}

CGP_EXPORT const struct cgp_enforce_summary *cgp_enforce_summary(const cgp_enforce *e) { return &e->sum; }
CGP_EXPORT size_t cgp_enforce_n_ops(const cgp_enforce *e) { return e ? e->n_kept : 0; }
CGP_EXPORT const struct cgp_op *cgp_enforce_op(const cgp_enforce *e, size_t i)
{
    return e && i < e->n_kept ? &e->kept[i] : NULL;
}
CGP_EXPORT size_t cgp_enforce_n_guests(const cgp_enforce *e) { return e ? e->n_g : 0; }
CGP_EXPORT const struct cgp_enforce_guest *cgp_enforce_guest(const cgp_enforce *e, size_t i)
{
    return e && i < e->n_g ? &e->g[i].pub : NULL;
}
CGP_EXPORT size_t cgp_enforce_n_msgs(const cgp_enforce *e) { return e ? e->msgs.n : 0; }
CGP_EXPORT const struct cgp_enforce_msg *cgp_enforce_msg(const cgp_enforce *e, size_t i)
{
    return e && i < e->msgs.n ? &e->msgs.v[i] : NULL;
}
CGP_EXPORT size_t cgp_enforce_n_strays(const cgp_enforce *e) { return e ? e->strays.n : 0; }
CGP_EXPORT const struct cgp_enforce_stray *cgp_enforce_stray(const cgp_enforce *e, size_t i)
{
    return e && i < e->strays.n ? &e->strays.v[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Planning                                                             */
/* ------------------------------------------------------------------ */

struct eop *cgctl_add_op(cgp_enforce *e, struct cgctl_backend *be, int gi, enum cgctl_act act, const char *path,
                         const char *value, const char *old)
{
    enum cgp_op_kind kind;
    const char *file, *fixed, *item;
    be->ops->describe(act, &kind, &file, &fixed, &item);
    if (!path || (!fixed && kind != CGP_OP_MKDIR && kind != CGP_OP_RMDIR && !value) ||
        !CGP_GROW(e->op, e->n_op, e->cap_op))
        return NULL;
    struct eop *o = &e->op[e->n_op++];
    *o = (struct eop){ .be = be, .gi = gi, .act = act, .path = path, .value = value };
    /* a unit is named by its cgroup's last component */
    const char *slash = kind == CGP_OP_DBUS ? strrchr(path, '/') : NULL;
    o->pub = (struct cgp_op){ kind, slash ? slash + 1 : path, file, fixed ? fixed : value, old,
                              gi >= 0 ? e->g[gi].pub.name : NULL, NULL, item };
    if (gi >= 0 && act == CGCTL_SET_MEMS)
        o->pub.note = e->want.g[gi].exec_note;
    return o;
}

static struct eop *add_op(cgp_enforce *e, int gi, enum cgctl_act act, const char *path, const char *value,
                          const char *old)
{
    return cgctl_add_op(e, &e->be, gi, act, path, value, old);
}

static int op_undo(struct eop *o, enum cgctl_act uact, const char *path, const char *value)
{
    if (!o || !path)
        return -ENOMEM;
    o->has_undo = true;
    o->uact = uact;
    o->upath = path;
    o->uvalue = value;
    return 0;
}

static int plan_mkdir(cgp_enforce *e, struct cgn *c)
{
    if (c->live.exists)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_CREATE, c->path, NULL, NULL);
    int r = op_undo(o, CGCTL_REMOVE, c->path, NULL);
    cgp_bitmap_free(c->live.cpus);
    cgp_bitmap_free(c->live.mems);
    c->live = (struct cgctl_live){ .exists = true };
    c->created = true;
    return r;
}

static int plan_ctl(cgp_enforce *e, struct cgn *c)
{
    if (c->live.cpuset_on)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_CPUSET_ON, c->path, NULL, NULL);
    c->live.cpuset_on = true;
    return op_undo(o, CGCTL_CPUSET_OFF, c->path, NULL);
}

static int plan_threaded(cgp_enforce *e, struct cgn *c)
{
    if (c->live.threaded)
        return 0;
    struct eop *o = add_op(e, c->gi, CGCTL_THREADED, c->path, NULL, NULL);
    if (!o)
        return -ENOMEM;
    if (!c->created)
        o->pub.note = "an existing cgroup made threaded cannot be made a domain again";
    c->live.threaded = true;
    return 0;   /* undone by the removal of a group we created */
}

/* Set `want` (or the union with the current set when widen) when it differs
 * from what is there. */
static int plan_set(cgp_enforce *e, struct cgn *c, bool mems, const cgp_bitmap *want, bool widen)
{
    cgp_bitmap **cur = mems ? &c->live.mems : &c->live.cpus;
    if (!want)
        return 0;
    cgp_bitmap *target = NULL;
    if (widen) {
        /* an empty set inherits the parent's: it is already wider */
        if (!*cur || cgp_bitmap_subset(want, *cur))
            return 0;
        if (!(target = cgp_bitmap_dup(*cur)) || cgp_bitmap_or(target, want) < 0) {
            cgp_bitmap_free(target);
            return -ENOMEM;
        }
    } else {
        if (*cur && cgp_bitmap_equal(*cur, want))
            return 0;
        if (!(target = cgp_bitmap_dup(want)))
            return -ENOMEM;
    }
    enum cgctl_act act = c->unit ? (mems ? CGCTL_UNIT_MEMS : CGCTL_UNIT_CPUS) : mems ? CGCTL_SET_MEMS : CGCTL_SET_CPUS;
    const char *old = cgp_arena_str(&e->arena, *cur ? cgp_bitmap_format(*cur) : strdup(""));
    const char *val = cgp_arena_str(&e->arena, cgp_bitmap_format(target));
    struct eop *o = val ? add_op(e, c->gi, act, c->path, val, old) : NULL;
    int r = op_undo(o, act, c->path, old);
    cgp_bitmap_free(*cur);
    *cur = target;
    return r;
}

/* Move a task (the process into the guest's group, or a thread into its
 * child) from the group it is in. */
static int plan_move(cgp_enforce *e, size_t gi, enum cgctl_act act, const char *to, const char *from, int tid)
{
    struct cgp_arena *a = &e->arena;
    const char *id = cgp_arena_printf(a, "%d", tid);
    const char *back = cgp_arena_strdup(a, from);
    struct eop *o = id ? add_op(e, (int)gi, act, to, id, cgp_arena_printf(a, "/%s", from)) : NULL;
    if (!o || !o->pub.old_value)
        return -ENOMEM;
    o->tid = tid;
    return op_undo(o, act, back, id);
}

/* The group the guest's process is in: its leader's, or (the leader is
 * gone) any thread's; NULL when unknown. */
static const char *process_group(const cgp_enforce *e, size_t gi)
{
    const char *lcg = NULL;
    for (size_t i = 0; i < e->n_t; i++)
        if (e->t[i].gi == (int)gi && e->t[i].tid == e->g[gi].pub.proc->pid)
            lcg = e->t[i].cg;
    for (size_t i = 0; !lcg && i < e->n_t; i++)
        if (e->t[i].gi == (int)gi && e->t[i].cg)
            lcg = e->t[i].cg;
    return lcg;
}

/* Every known thread of guest gi is now in group path. */
static int tasks_now_in(cgp_enforce *e, size_t gi, const char *path)
{
    for (size_t i = 0; i < e->n_t; i++) {
        if (e->t[i].gi != (int)gi || !e->t[i].cg)
            continue;
        free(e->t[i].cg);
        if (!(e->t[i].cg = strdup(path)))
            return -ENOMEM;
    }
    return 0;
}

/* The process once into the guest's group (never again once there: that
 * would undo the threads' placement). */
static int plan_process(cgp_enforce *e, size_t gi)
{
    const struct cgn *G = &e->cg[e->g[gi].cg_first];
    const char *lcg = process_group(e, gi);
    if (lcg && cgctl_under(lcg, G->path))
        return 0;
    int r = plan_move(e, gi, CGCTL_MOVE_PROCESS, G->path, lcg ? lcg : "", e->g[gi].pub.proc->pid);
    return r < 0 ? r : tasks_now_in(e, gi, G->path);
}

/* Memberships: the process once into the guest's group, then each thread. */
static int plan_members(cgp_enforce *e, size_t gi)
{
    int r = plan_process(e, gi);
    if (r < 0)
        return r;
    for (size_t i = 0; i < e->n_t; i++) {
        struct task *t = &e->t[i];
        if (t->gi != (int)gi || !t->cg)
            continue;
        const struct cgn *c = &e->cg[t->target];
        if (!strcmp(t->cg, c->path))
            continue;
        if ((r = plan_move(e, gi, CGCTL_MOVE_THREAD, c->path, t->cg, t->tid)) < 0)
            return r;
        free(t->cg);
        if (!(t->cg = strdup(c->path)))
            return -ENOMEM;
    }
    return 0;
}

static int plan_sets(cgp_enforce *e, struct cgn *c, bool widen)
{
    int r = plan_set(e, c, false, c->want_cpus, widen);
    return r < 0 ? r : plan_set(e, c, true, c->want_mems, widen);
}

/* `machined yes`: the scope just started registered as a machine, its name
 * the guest's with what machined refuses in a machine name ('_') as '-'. */
static int plan_machine(cgp_enforce *e, size_t gi, const char *unit_path, int pid)
{
    struct eguest *g = &e->g[gi];
    char *name = cgp_arena_printf(&e->arena, "%s", g->pub.name);
    if (!name)
        return -ENOMEM;
    for (char *s = name; *s; s++)
        if (*s == '_')
            *s = '-';
    /* QEMU's -uuid is its owner's text: only a UUID's 36 characters pass */
    const char *uuid = g->pub.proc && g->pub.proc->uuid ? g->pub.proc->uuid : NULL;
    if (uuid && (strlen(uuid) != 36 || strspn(uuid, "0123456789abcdefABCDEF-") != 36))
        uuid = NULL;
    const char *val = cgp_arena_printf(&e->arena, "Name=%s Leader=%s%s%s", name,
                                       pid ? cgp_arena_printf(&e->arena, "%d", pid) : "PID", uuid ? " Id=" : "",
                                       uuid ? uuid : "");
    struct eop *o = val ? add_op(e, (int)gi, CGCTL_MACHINE_REGISTER, unit_path, val, NULL) : NULL;
    return op_undo(o, CGCTL_MACHINE_UNREGISTER, unit_path, cgp_arena_printf(&e->arena, "Name=%s", name));
}

/* A unit (systemd's scope) is started with the process in it and its
 * envelope set; the process then goes down into the guest's group at once,
 * so that cpuset can be enabled for the scope's children (no process may
 * stay in a group whose children get controllers). */
static int plan_unit(cgp_enforce *e, size_t gi)
{
    struct eguest *g = &e->g[gi];
    struct cgn *U = &e->cg[g->unit_cg];
    struct cgn *G = &e->cg[g->cg_first];
    struct cgp_arena *a = &e->arena;
    int r;
    if (!U->live.exists) {
        const char *lcg = g->pub.proc ? process_group(e, gi) : NULL;
        char *cpus CGP_AUTOFREE = cgp_bitmap_format(U->want_cpus);
        char *mems CGP_AUTOFREE = cgp_bitmap_format(U->want_mems);
        int pid = g->pub.proc ? g->pub.proc->pid : 0;
        /* planned without a process (an empty tree): the pid is the guest's, when it runs */
        const char *pids = pid ? cgp_arena_printf(a, "%d", pid) : "PID";
        const char *val = cpus && mems && pids ? cgp_arena_printf(a, "PIDs=%s Slice=%s Delegate=yes AllowedCPUs=%s "
                                                                  "AllowedMemoryNodes=%s", pids,
                                                                  cgp_placement_host(e->pl)->slice, cpus, mems)
                                               : NULL;
        struct eop *o = val ? add_op(e, (int)gi, CGCTL_UNIT_START, U->path, val, NULL) : NULL;
        if ((r = op_undo(o, CGCTL_UNIT_STOP, U->path, cgp_arena_printf(a, "%d /%s", pid, lcg ? lcg : ""))) < 0)
            return r;
        o->tid = pid;
        if (cgp_placement_host(e->pl)->register_machine && (r = plan_machine(e, gi, U->path, pid)) < 0)
            return r;
        U->live = (struct cgctl_live){ .exists = true, .cpus = cgp_bitmap_dup(U->want_cpus),
                                       .mems = cgp_bitmap_dup(U->want_mems) };
        U->created = true;
        if (!U->live.cpus || !U->live.mems || (r = tasks_now_in(e, gi, U->path)) < 0)
            return -ENOMEM;
    } else if ((r = plan_sets(e, U, true)) < 0) {
        return r;
    }
    if ((r = plan_mkdir(e, G)) < 0 || (g->pub.proc && (r = plan_process(e, gi)) < 0))
        return r;
    return plan_ctl(e, U);
}

static int plan_guest(cgp_enforce *e, size_t gi)
{
    struct eguest *g = &e->g[gi];
    struct cgn *G = &e->cg[g->cg_first];
    int r;
    if (g->has_unit && (r = plan_unit(e, gi)) < 0)
        return r;
    if ((r = plan_mkdir(e, G)) < 0)
        return r;
    /* A group made in this run has no tasks and no children yet: its own
     * sets go first, as on an empty tree. */
    if (G->created && (r = plan_sets(e, G, false)) < 0)
        return r;
    for (size_t k = 1; k < g->cg_n; k++) {
        struct cgn *c = &e->cg[g->cg_first + k];
        if ((r = plan_mkdir(e, c)) < 0 || (r = plan_threaded(e, c)) < 0)
            return r;
    }
    if (g->cg_n > 1 && (r = plan_ctl(e, G)) < 0)
        return r;
    /* widen the guest's group first, then the children, then narrow it */
    if ((r = plan_sets(e, G, true)) < 0)
        return r;
    for (size_t k = 1; k < g->cg_n; k++)
        if ((r = plan_sets(e, &e->cg[g->cg_first + k], false)) < 0)
            return r;
    if ((r = plan_sets(e, G, false)) < 0 || (g->has_unit && (r = plan_sets(e, &e->cg[g->unit_cg], false)) < 0))
        return r;
    return g->pub.proc ? plan_members(e, gi) : 0;
}

/* `confine host`: systemd's own units on the reserved CPUs, after the
 * guests have left them. */
static int plan_confine(cgp_enforce *e)
{
    int r;
    for (size_t i = 0; i < e->n_cg; i++) {
        struct cgn *c = &e->cg[i];
        if (c->unit && c->gi < 0 && c->live.exists && (r = plan_set(e, c, false, c->want_cpus, false)) < 0)
            return r;
    }
    return 0;
}

static int plan_all(cgp_enforce *e)
{
    int r;
    bool any = false;
    for (size_t i = 0; i < e->n_g; i++)
        any |= e->g[i].managed;
    if (!any)
        return plan_confine(e);
    /* shared ancestors: root and PARENT components */
    for (size_t i = 0; i < e->n_cg && e->cg[i].gi < 0 && !e->cg[i].unit; i++) {
        struct cgn *c = &e->cg[i];
        if ((i > 0 && (r = plan_mkdir(e, c)) < 0) || (r = plan_ctl(e, c)) < 0)
            return r;
    }
    for (size_t gi = 0; gi < e->n_g; gi++)
        if (e->g[gi].managed && (r = plan_guest(e, gi)) < 0)
            return r;
    return plan_confine(e);
}

/* ------------------------------------------------------------------ */
/* The model: the desired state, then the live one                      */
/* ------------------------------------------------------------------ */

static int add_cg(cgp_enforce *e, const char *path, int gi, bool threaded, const cgp_bitmap *cpus,
                  const cgp_bitmap *mems, bool ctl)
{
    if (!CGP_GROW(e->cg, e->n_cg, e->cap_cg))
        return -ENOMEM;
    e->cg[e->n_cg++] = (struct cgn){ .path = path, .gi = gi, .threaded_child = threaded,
                                     .want_cpuset_ctl = ctl, .want_cpus = cpus, .want_mems = mems };
    return 0;
}

/* The unit's group, after the guest's own groups: it holds the guest's
 * sets and enables cpuset for the guest's group. */
static int add_unit_cg(cgp_enforce *e, size_t gi, const struct cgctl_dguest *dg)
{
    struct eguest *g = &e->g[gi];
    int r = add_cg(e, dg->unit, (int)gi, false, dg->gp->cpus, dg->gp->mems, true);
    if (r < 0)
        return r;
    g->has_unit = true;
    g->unit_cg = e->n_cg - 1;
    e->cg[g->unit_cg].unit = true;
    return 0;
}

/* `confine host`: the units systemd runs the host in, held to the
 * reserved CPUs (memory stays free: confining the host's memory to a node
 * would make it run out there first). */
static int add_host_units(cgp_enforce *e)
{
    static const char *const units[] = { "init.scope", "system.slice", "user.slice" };
    const struct cgp_host_settings *hs = cgp_placement_host(e->pl);
    if (!hs->confine_host)
        return 0;
    if (!e->be.ops->host_units)
        return cgctl_msgf(&e->msgs, CGP_MSG_WARNING, NULL, 0, "'confine host' needs the systemd backend "
                          "(the %s backend has no units to confine): ignored", e->be.ops->name);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        int r = add_cg(e, units[i], -1, false, hs->reserved_cpus, NULL, false);
        if (r < 0)
            return r;
        e->cg[e->n_cg - 1].unit = true;
    }
    return 0;
}

/* Shared ancestors, then per managed guest its groups; the tasks with their
 * targets; the host's units to confine. */
static int build_model(cgp_enforce *e)
{
    const struct cgctl_desired *d = &e->want;
    int r;
    for (size_t i = 0; i < d->n_shared; i++)
        if ((r = add_cg(e, d->shared[i], -1, false, NULL, NULL, true)) < 0)
            return r;
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        const struct cgctl_dguest *dg = &d->g[gi];
        if (!g->managed)
            continue;
        g->cg_first = e->n_cg;
        for (size_t k = 0; k < dg->n_groups; k++) {
            const struct cgctl_dgroup *w = &dg->groups[k];
            if ((r = add_cg(e, w->path, (int)gi, w->threaded, w->cpus, w->mems, k == 0 && dg->split)) < 0)
                return r;
        }
        g->cg_n = e->n_cg - g->cg_first;
        if (dg->unit && (r = add_unit_cg(e, gi, dg)) < 0)
            return r;
        for (size_t k = 0; k < dg->n_threads; k++) {
            if (!CGP_GROW(e->t, e->n_t, e->cap_t))
                return -ENOMEM;
            e->t[e->n_t++] = (struct task){ .gi = (int)gi, .th = dg->threads[k].th, .tid = dg->threads[k].th->tid,
                                            .target = g->cg_first + dg->threads[k].group };
        }
    }
    return add_host_units(e);
}

static void guest_out(struct eguest *g, enum cgp_guest_state st, const char *detail)
{
    g->managed = false;
    g->pub.state = st;
    g->pub.detail = detail;
}

/* Read the live tree and the tasks' groups. A guest whose process is gone is
 * marked vanished; one living outside the managed hierarchy fails the run
 * (-EXDEV, messages say why). */
static int read_model(cgp_enforce *e)
{
    int r;
    for (size_t i = 0; i < e->n_cg; i++) {
        struct cgn *c = &e->cg[i];
        unsigned what = (c->threaded_child ? CGCTL_LIVE_TYPE : 0) | (c->want_cpuset_ctl ? CGCTL_LIVE_CTL : 0) |
                        (c->want_cpus ? CGCTL_LIVE_CPUS : 0) | (c->want_mems ? CGCTL_LIVE_MEMS : 0);
        if ((r = e->be.ops->read_group(&e->be, c->path, what, &c->live)) < 0)
            return r;
    }
    for (size_t i = 0; i < e->n_t; i++) {
        struct task *t = &e->t[i];
        struct eguest *g = &e->g[t->gi];
        if (!g->managed)
            continue;
        char *v = NULL;
        bool inside = false;
        r = e->be.ops->task_group(&e->be, g->pub.proc->pid, t->tid, &v, &inside);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            continue;   /* the thread is gone */
        if (!inside) {
            guest_out(g, CGP_GUEST_FAILED,
                      cgp_arena_printf(&e->arena, "thread %d is in cgroup %s, outside the managed hierarchy %s",
                                       t->tid, v, e->ctx->cgroup_root));
            cgctl_msgf(&e->msgs, CGP_MSG_ERROR, g->pub.name, g->pub.proc->pid, "guest '%s': %s", g->pub.name,
                       g->pub.detail ? g->pub.detail : "outside the managed hierarchy");
            free(v);
            return -EXDEV;
        }
        t->cg = v;
    }
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        if (!g->managed || !g->pub.proc)
            continue;
        bool any = false;
        for (size_t i = 0; i < e->n_t; i++)
            any |= e->t[i].gi == (int)gi && e->t[i].cg;
        if (!any || cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
            guest_out(g, CGP_GUEST_VANISHED, "exited before any write");
            cgctl_msgf(&e->msgs, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid, "guest '%s' (pid %d) exited: skipped",
                       g->pub.name, g->pub.proc->pid);
        }
    }
    return 0;
}

int cgctl_publish(cgp_enforce *e, bool dry)
{
    free(e->kept);
    e->kept = calloc(e->n_op ? e->n_op : 1, sizeof *e->kept);
    if (!e->kept)
        return -ENOMEM;
    e->n_kept = 0;
    for (size_t i = 0; i < e->n_op; i++) {
        const struct eop *o = &e->op[i];
        if (dry || (o->done && !o->undone)) {
            e->kept[e->n_kept++] = o->pub;
            if (o->gi >= 0)
                e->g[o->gi].pub.n_ops++;
        }
    }
    e->sum.n_writes = e->n_kept;
    for (size_t i = 0; i < e->n_g; i++) {
        struct eguest *g = &e->g[i];
        if ((g->managed || g->lv) && (g->pub.state == CGP_GUEST_NOT_RUNNING))
            g->pub.state = g->pub.n_ops ? CGP_GUEST_CHANGED : CGP_GUEST_UNCHANGED;
    }
    return 0;
}

static void refuse(cgp_enforce *e, int r)
{
    e->sum.outcome = CGP_ENFORCE_INVALID;
    e->sum.error = r;
    for (size_t i = 0; i < e->n_g; i++)
        e->g[i].managed = e->g[i].lv = false;
}

/* The process lives in the place cgplace made for the guest. */
static bool made_by_us(const cgp_enforce *e, const struct cgctl_dguest *dg)
{
    const char *cg = dg->proc ? dg->proc->cgroup : NULL;
    const char *pre = e->be.prefix ? e->be.prefix : "";
    size_t pl = strlen(pre);
    if (!cg || strncmp(cg, pre, pl) || (cg[pl] && cg[pl] != '/'))
        return false;
    cg += pl;
    while (*cg == '/')
        cg++;
    const char *place = dg->unit ? dg->unit : dg->path;
    return place && cgctl_under(cg, place);
}

/* Match the guests (or, under CGCTL_PLAN_ALL, take every guest without a
 * process) and build the model of their desired state. */
static int match_and_model(cgp_enforce *e, const struct cgp_guest *const *guests, size_t n_guests, unsigned flags)
{
    size_t n = cgp_placement_n_guests(e->pl);
    struct cgctl_match *m CGP_AUTOFREE = NULL;
    e->g = calloc(n ? n : 1, sizeof *e->g);
    if (!e->g)
        return -ENOMEM;
    e->n_g = n;
    int r = 0;
    if (!(flags & CGCTL_PLAN_ALL)) {
        if (!(m = calloc(n ? n : 1, sizeof *m)))
            return -ENOMEM;
        r = cgctl_match_guests(e->ctx, e->pl, guests, n_guests, flags & CGP_ENFORCE_DRY_RUN, m, &e->sum,
                               &e->strays, &e->msgs);
        if (r == -ENOMEM)
            return r;
        if (r < 0) {
            refuse(e, r);
            for (size_t i = 0; i < n; i++)
                m[i].managed = false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct eguest *g = &e->g[i];
        g->gp = cgp_placement_guest(e->pl, i);
        g->pub.name = g->gp->name;
        g->pub.state = m ? m[i].state : CGP_GUEST_NOT_RUNNING;
        g->pub.proc = m ? m[i].proc : NULL;
        g->pub.detail = m ? m[i].detail : NULL;
        g->managed = m ? m[i].managed : true;
        g->pub.owner = m ? m[i].owner : CGP_OWNER_NONE;
        g->lv = m && m[i].libvirt;
        if (g->managed)
            g->pub.backend = e->be.ops->name;
        else if (g->lv)
            g->pub.backend = cgctl_backend_libvirt.name;
    }
    int rb = cgctl_desired_build(e->pl, m, &e->be, &e->msgs, &e->want);
    if (rb == -ENOMEM)
        return rb;
    for (size_t i = 0; i < n && i < e->want.n; i++) {
        e->g[i].pub.cgroup = e->want.g[i].path;
        if (e->g[i].pub.owner == CGP_OWNER_OTHER && made_by_us(e, &e->want.g[i]))
            e->g[i].pub.owner = CGP_OWNER_CGPLACE;
        if (e->g[i].lv && e->g[i].pub.proc->cgroup)   /* libvirt's, as /proc names it */
            e->g[i].pub.cgroup = e->g[i].pub.proc->cgroup + (e->g[i].pub.proc->cgroup[0] == '/');
    }
    if (r < 0)
        return 0;
    if (rb == 0)
        rb = build_model(e);
    if (rb == -ENOMEM)
        return rb;
    if (rb < 0) {
        refuse(e, rb);
        cgctl_msgf(&e->msgs, CGP_MSG_ERROR, NULL, 0, "an I/O thread id cannot be used as a cgroup name");
    }
    return 0;
}

int cgctl_prepare(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests, size_t n_guests,
                  unsigned flags, const struct cgctl_backend_ops *ops, cgp_enforce **out)
{
    if (!ctx || !pl || (n_guests && !guests) || !out)
        return -EINVAL;
    cgp_enforce *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->ctx = ctx;
    e->pl = pl;
    e->msgs.arena = &e->arena;
    const char *warning = NULL;
    if (!ops)
        ops = cgctl_backend_choose(ctx, cgp_placement_host(pl), &warning);
    e->be = (struct cgctl_backend){ .ops = ops, .ctx = ctx, .rootfd = -1 };
    int r = warning ? cgctl_msgf(&e->msgs, CGP_MSG_WARNING, NULL, 0, "%s", warning) : 0;
    if (r == 0)
        r = ops->open(&e->be);
    if (r == 0)
        r = match_and_model(e, guests, n_guests, flags);
    if (r < 0) {
        cgp_enforce_free(e);
        return r;
    }
    *out = e;
    return 0;
}

int cgctl_start(cgp_enforce *e)
{
    int r = read_model(e);
    if (r == -ENOMEM)
        return r;
    if (r < 0 && r != -EXDEV)   /* -EXDEV has its message */
        cgctl_msgf(&e->msgs, CGP_MSG_ERROR, NULL, 0, "%s", cgp_ctx_last_error(e->ctx));
    if (r == 0 && (r = plan_all(e)) == -ENOMEM)
        return r;
    if (r == 0 && (r = cgctl_lv_plan(e)) == -ENOMEM)
        return r;
    if (r == 0 && (r = cgctl_tidy_plan(e)) == -ENOMEM)
        return r;
    if (r < 0) {
        e->sum.outcome = CGP_ENFORCE_FAILED;
        e->sum.error = r;
    }
    return 0;
}
