/* Read-back (spec §6 step 6): never trust a write. The kernel accepts a set
 * outside the parent's and silently falls back to the parent's: compare the
 * effective sets and every thread's affinity with the intent, as sets. */
#include "cgctl-int.h"
#include "../guests/guests-int.h"

#include <errno.h>
#include <string.h>

static int check_set(cgp_enforce *e, const struct cgn *c, bool mems, const char **why)
{
    const cgp_bitmap *want = mems ? c->want_mems : c->want_cpus;
    const char *file = mems ? "cpuset.mems.effective" : "cpuset.cpus.effective";
    if (!want)
        return 0;
    cgp_bitmap *have CGP_AUTOBITMAP = NULL;
    int r = e->be.ops->read_effective(&e->be, c->path, mems, &have);
    if (r < 0) {
        *why = cgp_arena_printf(&e->arena, "cgroup /%s: cannot read %s: %s", c->path, file, strerror(-r));
        return r;
    }
    if (have ? cgp_bitmap_equal(have, want) : cgp_bitmap_is_empty(want))
        return 0;
    char *h CGP_AUTOFREE = have ? cgp_bitmap_format(have) : strdup("");
    char *w CGP_AUTOFREE = cgp_bitmap_format(want);
    *why = cgp_arena_printf(&e->arena, "cgroup /%s: %s is '%s', not the intended '%s' (the kernel fell back to the "
                            "parent's set)", c->path, file, h ? h : "?", w ? w : "?");
    return -EIO;
}

static int check_thread(cgp_enforce *e, int pid, const struct task *t, const char **why)
{
    const struct cgn *c = &e->cg[t->target];
    cgp_bitmap *cpus CGP_AUTOBITMAP = NULL, *mems CGP_AUTOBITMAP = NULL;
    const char *bad = NULL;
    int r = cgp_task_allowed(e->ctx->root_fd, pid, t->tid, &cpus, &mems, &bad);
    if (r == -ENOENT || r == -ESRCH)
        return 0;   /* the thread ended */
    if (r < 0) {
        *why = cgp_arena_printf(&e->arena, "thread %d: status: %s", t->tid, strerror(-r));
        return r;
    }
    if ((!c->want_cpus || cgp_bitmap_equal(cpus, c->want_cpus)) && (!c->want_mems || cgp_bitmap_equal(mems, c->want_mems)))
        return 0;
    char *hc CGP_AUTOFREE = cgp_bitmap_format(cpus);
    char *hm CGP_AUTOFREE = cgp_bitmap_format(mems);
    char *wc CGP_AUTOFREE = c->want_cpus ? cgp_bitmap_format(c->want_cpus) : NULL;
    char *wm CGP_AUTOFREE = c->want_mems ? cgp_bitmap_format(c->want_mems) : NULL;
    *why = cgp_arena_printf(&e->arena, "thread %d: Cpus_allowed_list %s / Mems_allowed_list %s, intended %s / %s "
                            "(cgroup /%s)", t->tid, hc ? hc : "?", hm ? hm : "?", wc ? wc : "-", wm ? wm : "-", c->path);
    return -EIO;
}

int cgctl_readback_group(cgp_enforce *e, const struct cgn *c, const char **why)
{
    int r = check_set(e, c, false, why);
    return r < 0 ? r : check_set(e, c, true, why);
}

int cgctl_readback(cgp_enforce *e, size_t gi, const char **why)
{
    const struct eguest *g = &e->g[gi];
    int r;
    for (size_t k = 0; k < g->cg_n + g->has_unit; k++) {
        const struct cgn *c = &e->cg[k < g->cg_n ? g->cg_first + k : g->unit_cg];
        if ((r = check_set(e, c, false, why)) < 0 || (r = check_set(e, c, true, why)) < 0)
            return r;
    }
    for (size_t i = 0; i < e->n_t; i++) {
        const struct task *t = &e->t[i];
        if (t->gi == (int)gi && t->cg && (r = check_thread(e, g->pub.proc->pid, t, why)) < 0)
            return r;
    }
    return 0;
}
