/* Carrying out the planned actions through the backend, with the journal
 * that rolls them back (spec §6 steps 3-7), and the apply run around it:
 * lock, execute, read back, move leftover pages. */
#include "cgctl-int.h"

#include <errno.h>
#include <string.h>

static int run_act(cgp_enforce *e, struct cgctl_backend *be, enum cgctl_act act, const char *path,
                   const char *value, bool undo)
{
    if (!undo) {
        int r = cgctl_test_fault(++e->n_forward);
        if (r < 0)
            return r;
    }
    cgp_ctx_clear_error(e->ctx);
    return be->ops->act(be, act, path, value, undo);
}

/* Why an action failed: what the backend said (libvirt's message), else
 * the errno. */
static const char *act_why(cgp_enforce *e, int r)
{
    const char *d = cgp_ctx_last_error(e->ctx);
    return *d ? cgp_arena_strdup(&e->arena, d) : strerror(-r);
}

/* "mkdir /P", "rmdir /P", "write 'V' to /P/FILE", "StartTransientUnit(...)" */
static const char *act_text(cgp_enforce *e, struct cgctl_backend *be, enum cgctl_act act, const char *path,
                            const char *value)
{
    enum cgp_op_kind kind;
    const char *file, *fixed, *item;
    be->ops->describe(act, &kind, &file, &fixed, &item);
    if (kind == CGP_OP_MKDIR || kind == CGP_OP_RMDIR)
        return cgp_arena_printf(&e->arena, "%s /%s", kind == CGP_OP_RMDIR ? "rmdir" : "mkdir", path);
    if (kind != CGP_OP_WRITE)
        return cgp_arena_printf(&e->arena, "%s %s%s%s %s", file, path, item ? " " : "", item ? item : "",
                                fixed ? fixed : value);
    return cgp_arena_printf(&e->arena, "write '%s' to /%s%s%s", fixed ? fixed : value, path, *path ? "/" : "",
                            file);
}

static bool is_membership(enum cgctl_act act)
{
    return act == CGCTL_MOVE_PROCESS || act == CGCTL_MOVE_THREAD;
}

/* Undo, in reverse, the done actions of guest gi (or all when gi == -2). */
static void rollback(cgp_enforce *e, int gi)
{
    for (size_t i = e->n_op; i-- > 0;) {
        struct eop *o = &e->op[i];
        if (!o->done || o->undone || (gi != -2 && o->gi != gi))
            continue;
        o->undone = true;
        e->sum.n_undone++;
        if (!o->has_undo)
            continue;
        int r = run_act(e, o->be, o->uact, o->upath, o->uvalue, true);
        if (r == -ESRCH && is_membership(o->uact))
            continue;   /* the task is gone: nothing to put back */
        if (r < 0) {
            e->sum.rollback_incomplete = true;
            cgctl_msgf(&e->msgs, CGP_MSG_ERROR, o->pub.guest, 0, "rollback: %s failed: %s",
                       act_text(e, o->be, o->uact, o->upath, o->uvalue), act_why(e, r));
        }
    }
}

void cgctl_vanish(cgp_enforce *e, size_t gi, const char *when)
{
    struct eguest *g = &e->g[gi];
    rollback(e, (int)gi);
    g->pub.state = CGP_GUEST_VANISHED;
    g->pub.detail = cgp_arena_printf(&e->arena, "exited %s; its changes were rolled back", when);
    cgctl_msgf(&e->msgs, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid,
               "guest '%s' (pid %d) exited %s; its changes were rolled back", g->pub.name, g->pub.proc->pid, when);
}

void cgctl_fail_run(cgp_enforce *e, int err, const char *guest, const char *what)
{
    e->sum.outcome = CGP_ENFORCE_FAILED;
    e->sum.error = err;
    cgctl_msgf(&e->msgs, CGP_MSG_ERROR, guest, 0, "%s", what ? what : strerror(-err));
    rollback(e, -2);
    for (size_t i = 0; i < e->n_g; i++)
        if ((e->g[i].managed || e->g[i].lv) && e->g[i].pub.state != CGP_GUEST_VANISHED)
            e->g[i].pub.state = CGP_GUEST_FAILED;
}

int cgctl_execute(cgp_enforce *e)
{
    for (size_t i = 0; i < e->n_op; i++) {
        struct eop *o = &e->op[i];
        struct eguest *g = o->gi >= 0 ? &e->g[o->gi] : NULL;
        if (o->tidy || (g && g->pub.state == CGP_GUEST_VANISHED))
            continue;
        if (g && cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
            cgctl_vanish(e, (size_t)o->gi, "during apply");
            continue;
        }
        int r = run_act(e, o->be, o->act, o->path, o->value, false);
        if (r < 0 && g && cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
            cgctl_vanish(e, (size_t)o->gi, "during apply");
            continue;
        }
        if (r == -ESRCH && g && is_membership(o->act)) {
            /* one thread ended (QEMU's worker threads come and go): nothing to move */
            cgctl_msgf(&e->msgs, CGP_MSG_INFO, g->pub.name, o->tid, "thread %d of guest '%s' ended during apply",
                       o->tid, g->pub.name);
            continue;
        }
        if (r < 0) {
            const char *what = cgp_arena_printf(&e->arena, "%s: %s; every change was rolled back",
                                                act_text(e, o->be, o->act, o->path, o->value), act_why(e, r));
            cgctl_fail_run(e, r, g ? g->pub.name : NULL, what);
            if (g && o->be != &e->be)
                g->pub.detail = what;   /* libvirt refused: its message names the guest's failure */
            return r;
        }
        o->done = true;
    }
    return 0;
}

/* Read back what this run touched: a guest's groups and threads when it had
 * a write, everyone's when a shared ancestor changed. A re-apply with nothing
 * to do reads nothing back. */
static int readback_all(cgp_enforce *e)
{
    bool shared = false;
    bool *touched CGP_AUTOFREE = calloc(e->n_g ? e->n_g : 1, sizeof *touched);
    if (!touched)
        return -ENOMEM;
    for (size_t i = 0; i < e->n_op; i++) {
        if (!e->op[i].done)
            continue;
        if (e->op[i].gi < 0)
            shared = true;
        else
            touched[e->op[i].gi] = true;
    }
    for (size_t i = 0; shared && i < e->n_cg; i++) {
        const struct cgn *c = &e->cg[i];
        const char *why = NULL;
        if (c->unit && c->gi < 0 && c->live.exists && cgctl_readback_group(e, c, &why) < 0) {
            cgctl_fail_run(e, -EIO, NULL, cgp_arena_printf(&e->arena, "%s; every change was rolled back",
                                                           why ? why : "read-back failed"));
            return 0;
        }
    }
    for (size_t gi = 0; gi < e->n_g; gi++) {
        struct eguest *g = &e->g[gi];
        if (!(g->managed || g->lv) || g->pub.state == CGP_GUEST_VANISHED || !(shared || touched[gi]))
            continue;
        const char *why = NULL;
        if ((g->lv ? cgctl_lv_readback(e, gi, &why) : cgctl_readback(e, gi, &why)) < 0) {
            if (cgp_guest_alive(e->ctx, g->pub.proc) < 0) {
                cgctl_vanish(e, gi, "during the read-back");
                continue;
            }
            cgctl_fail_run(e, -EIO, g->pub.name,
                           cgp_arena_printf(&e->arena, "guest '%s': %s; every change was rolled back", g->pub.name,
                                            why ? why : "read-back failed"));
            break;
        }
    }
    return 0;
}

/* Last, once the placement is proven: remove the stale empty groups
 * (tidy.c). A failure is a warning, and the groups above the one that
 * stayed are left too. */
static void tidy_all(cgp_enforce *e)
{
    const char *kept = NULL;
    for (size_t i = 0; i < e->n_op; i++) {
        struct eop *o = &e->op[i];
        if (!o->tidy || (o->gi >= 0 && e->g[o->gi].pub.state == CGP_GUEST_VANISHED) ||
            (kept && cgctl_under(kept, o->path)))
            continue;
        int r = run_act(e, o->be, o->act, o->path, o->value, false);
        if (r < 0) {
            kept = o->path;
            cgctl_msgf(&e->msgs, CGP_MSG_WARNING, o->pub.guest, 0, "the group /%s is no longer used: %s; left",
                       o->path, r == -EBUSY ? "something runs in it" : act_why(e, r));
            continue;
        }
        o->done = true;
    }
}

int cgctl_enforce(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests, size_t n_guests,
                  unsigned flags, const struct cgctl_backend_ops *ops, cgp_enforce **out)
{
    cgp_enforce *e = NULL;
    int r = cgctl_prepare(ctx, pl, guests, n_guests, flags, ops, &e);
    if (r < 0)
        return r;
    bool dry = flags & CGP_ENFORCE_DRY_RUN;
    int lockfd CGP_AUTOCLOSE = -1;
    if (e->sum.outcome == CGP_ENFORCE_OK && !dry && !(flags & CGP_ENFORCE_NO_LOCK)) {
        lockfd = cgctl_lock(ctx);
        if (lockfd < 0) {
            r = lockfd;
            goto fail;
        }
    }
    if (e->sum.outcome == CGP_ENFORCE_OK && (r = cgctl_start(e)) < 0)
        goto fail;
    if (e->sum.outcome == CGP_ENFORCE_OK && !dry && cgctl_execute(e) == 0) {
        if ((r = readback_all(e)) < 0)
            goto fail;
        if (e->sum.outcome == CGP_ENFORCE_OK && !(flags & CGP_ENFORCE_NO_MIGRATE))
            for (size_t gi = 0; gi < e->n_g; gi++)
                if (e->g[gi].managed && e->g[gi].pub.state != CGP_GUEST_VANISHED)
                    cgctl_migrate_leftovers(e, gi);
        if (e->sum.outcome == CGP_ENFORCE_OK)
            tidy_all(e);
    }
    if ((r = cgctl_publish(e, dry)) < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    cgp_enforce_free(e);
    return r;
}

CGP_EXPORT int cgp_enforce_run(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests,
                               size_t n_guests, unsigned flags, cgp_enforce **out)
{
    if (!ctx || !pl)
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    return cgctl_enforce(ctx, pl, guests, n_guests, flags & ~(unsigned)CGCTL_PLAN_ALL, NULL, out);
}
