/* Processes to policy blocks: which guest runs as which process, and whether
 * the engine may place it. Kept apart (placement + processes in, per guest
 * process/state/detail and messages out) so the pipeline can match once. */
#include "cgctl-int.h"
#include "virt.h"

#include <errno.h>
#include <string.h>

int cgctl_msgf(struct cgctl_msgs *m, enum cgp_msg_level lv, const char *guest, int pid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0 || !cgp_arena_str(m->arena, s) || !CGP_GROW(m->v, m->n, m->cap))
        return -ENOMEM;
    m->v[m->n++] = (struct cgp_enforce_msg){ lv, guest, pid, s };
    return 0;
}

bool cgctl_valid_component(const char *s, size_t n)
{
    if (n == 0 || n > 255 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == '\0' || s[i] == '\n')
            return false;
    return true;
}

bool cgctl_valid_path(const char *p)
{
    if (!*p)
        return false;
    for (const char *s = p;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (!cgctl_valid_component(s, n))
            return false;
        if (!slash)
            return true;
        s = slash + 1;
    }
}

static bool differs(const cgp_bitmap *a, const cgp_bitmap *b)
{
    return !cgp_bitmap_equal(a, b);
}

/* Does the placement give some thread other sets than the guest's? */
static bool needs_split(const struct cgp_guest_placement *gp)
{
    if (differs(gp->emulator.cpus, gp->cpus) || differs(gp->emulator.mems, gp->mems))
        return true;
    for (unsigned i = 0; i < gp->n_vcpus; i++)
        if (differs(gp->vcpu[i].cpus, gp->cpus) || differs(gp->vcpu[i].mems, gp->mems))
            return true;
    for (size_t i = 0; i < gp->n_iothreads; i++)
        if (differs(gp->iothreads[i].cpus, gp->cpus) || differs(gp->iothreads[i].mems, gp->mems))
            return true;
    return false;
}

/* The blocks process pr matches, ascending: the compiler's matching when pl
 * was compiled with pr (the normal case: matched once per run), else the
 * matcher's answer now. *v is malloc'd. Count or -ENOMEM. */
static ssize_t blocks_of(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *pr, size_t **v)
{
    for (size_t k = 0; k < cgp_placement_n_procs(pl); k++) {
        const struct cgp_proc_match *pm = cgp_placement_proc(pl, k);
        if (pm->proc != pr)
            continue;
        if (!(*v = calloc(pm->n_guests + 1, sizeof **v)))
            return -ENOMEM;
        memcpy(*v, pm->guests, pm->n_guests * sizeof **v);
        return (ssize_t)pm->n_guests;
    }
    size_t n = cgp_placement_n_guests(pl), c = 0;
    if (!(*v = calloc(n + 1, sizeof **v)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (cgp_guest_matches(ctx, pr, cgp_placement_guest(pl, i)))
            (*v)[c++] = i;
    return (ssize_t)c;
}

/* Process pr matches no block: list it, count it, say so at the level the
 * policy asks for. A libvirt guest is managed by libvirt, so it does not
 * float free: counted only under `unmanaged deny-all`, else at most a
 * warning. Under deny a counted one is an error, except in a dry run (plan),
 * which only warns: nothing fails there. */
static int stray(const struct cgp_host_settings *hs, const struct cgp_guest *pr, bool dry,
                 struct cgp_enforce_summary *sum, struct cgctl_strays *strays, struct cgctl_msgs *msgs)
{
    bool lv = pr->foreign, counted = !lv || hs->unmanaged_libvirt;
    if (!CGP_GROW(strays->v, strays->n, strays->cap))
        return -ENOMEM;
    strays->v[strays->n++] = (struct cgp_enforce_stray){ pr, lv, counted };
    sum->n_unmanaged += counted;
    sum->n_unmanaged_libvirt += lv;
    bool deny = counted && hs->unmanaged == CGP_UNMANAGED_DENY;
    sum->unmanaged_denied |= deny && !dry;
    if (hs->unmanaged == CGP_UNMANAGED_IGNORE)
        return 0;
    char *name CGP_AUTOFREE = cgctl_virt_escape(pr->name ? pr->name : "unnamed", 256);
    char *cg CGP_AUTOFREE = cgctl_virt_escape(pr->cgroup ? pr->cgroup : "?", 1024);
    if (!name || !cg)
        return -ENOMEM;
    enum cgp_msg_level lvl = deny && !dry ? CGP_MSG_ERROR : CGP_MSG_WARNING;
    if (lv && !counted)
        return cgctl_msgf(msgs, lvl, NULL, pr->pid,
                          "QEMU process %d (%s, cgroup %s) is managed by libvirt; no block places it "
                          "(not counted as unmanaged: 'unmanaged deny-all' would)", pr->pid, name, cg);
    return cgctl_msgf(msgs, lvl, NULL, pr->pid, "QEMU process %d (%s, cgroup %s) matches no guest of the policy%s%s",
                      pr->pid, name, cg, lv ? " (managed by libvirt)" : "",
                      deny ? dry ? ": it floats free (unmanaged deny: apply and verify will fail)"
                                 : ": it floats free (unmanaged deny)" : "");
}

/* Why pr is no guest (the compiler's judgement), NULL when it is one or
 * pl was not compiled with it. */
static const char *untrusted_why(const cgp_placement *pl, const struct cgp_guest *pr)
{
    for (size_t k = 0; k < cgp_placement_n_procs(pl); k++) {
        const struct cgp_proc_match *pm = cgp_placement_proc(pl, k);
        if (pm->proc == pr)
            return pm->untrusted;
    }
    return NULL;
}

/* Pair each process with the one block it matches. */
static int pair(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *procs, size_t n_procs,
                bool dry, struct cgctl_match *out, struct cgp_enforce_summary *sum, struct cgctl_strays *strays,
                struct cgctl_msgs *msgs)
{
    const struct cgp_host_settings *hs = cgp_placement_host(pl);
    int bad = 0;
    for (size_t p = 0; p < n_procs; p++) {
        const struct cgp_guest *pr = procs[p];
        if (!pr)
            continue;
        const char *untrusted = untrusted_why(pl, pr);
        if (untrusted) {
            /* no guest at all: it neither takes nor contests a guest's place */
            char *pn CGP_AUTOFREE = cgctl_virt_escape(pr->name ? pr->name : "unnamed", 256);
            char *why CGP_AUTOFREE = cgctl_virt_escape(untrusted, 1024);
            if (!pn || !why)
                return -ENOMEM;
            cgctl_msgf(msgs, CGP_MSG_WARNING, NULL, pr->pid, "process %d (%s) is not a guest: %s; not placed",
                       pr->pid, pn, why);
            continue;
        }
        size_t *blocks CGP_AUTOFREE = NULL;
        ssize_t nb = blocks_of(ctx, pl, pr, &blocks);
        if (nb < 0)
            return (int)nb;
        ssize_t hit = -1;
        for (ssize_t k = 0; k < nb; k++) {
            size_t i = blocks[k];
            if (hit >= 0) {
                char *pn CGP_AUTOFREE = cgctl_virt_escape(pr->name ? pr->name : "unnamed", 256);
                if (!pn)
                    return -ENOMEM;
                cgctl_msgf(msgs, CGP_MSG_ERROR, cgp_placement_guest(pl, i)->name, pr->pid,
                           "process %d (%s) matches both guest '%s' and guest '%s': make the match lines tell them apart",
                           pr->pid, pn, cgp_placement_guest(pl, (size_t)hit)->name, cgp_placement_guest(pl, i)->name);
                bad = -EINVAL;
                continue;
            }
            hit = (ssize_t)i;
        }
        if (hit < 0) {
            int r = stray(hs, pr, dry, sum, strays, msgs);
            if (r < 0)
                return r;
            continue;
        }
        struct cgctl_match *g = &out[hit];
        const char *name = cgp_placement_guest(pl, (size_t)hit)->name;
        if (g->proc) {
            /* only this guest is refused: the others are placed */
            cgctl_msgf(msgs, CGP_MSG_ERROR, name, pr->pid, "guest '%s' matches two processes, %d and %d: "
                       "not placed", name, g->proc->pid, pr->pid);
            g->contested = true;
            continue;
        }
        g->proc = pr;
    }
    return bad;
}

int cgctl_match_guests(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *procs, size_t n_procs,
                       bool dry, struct cgctl_match *out, struct cgp_enforce_summary *sum,
                       struct cgctl_strays *strays, struct cgctl_msgs *msgs)
{
    const struct cgp_host_settings *hs = cgp_placement_host(pl);
    size_t n = cgp_placement_n_guests(pl);
    for (size_t i = 0; i < n; i++)
        out[i].state = CGP_GUEST_NOT_RUNNING;
    int bad = pair(ctx, pl, procs, n_procs, dry, out, sum, strays, msgs);
    if (bad == -ENOMEM)
        return bad;
    for (size_t i = 0; i < n; i++) {
        struct cgctl_match *g = &out[i];
        const struct cgp_guest_placement *gp = cgp_placement_guest(pl, i);
        const char *name = gp->name;
        if (!g->proc) {
            cgctl_msgf(msgs, CGP_MSG_INFO, name, 0, "guest '%s' is not running: skipped", name);
            continue;
        }
        if (g->contested) {
            g->state = CGP_GUEST_INVALID;
            g->detail = "two processes claim it";
            continue;
        }
        g->owner = g->proc->foreign ? CGP_OWNER_LIBVIRT : CGP_OWNER_OTHER;
        const char *lv_no = g->proc->foreign ? cgctl_lv_inexpressible(gp) : NULL;
        if (lv_no) {
            g->state = CGP_GUEST_INVALID;
            g->detail = lv_no;
            cgctl_msgf(msgs, CGP_MSG_ERROR, name, g->proc->pid, "guest '%s' (pid %d) is libvirt's: %s", name,
                       g->proc->pid, lv_no);
            bad = -EINVAL;
            continue;
        }
        /* libvirt's guests keep libvirt's cgroups: no cgroup of ours is named */
        if (!g->proc->foreign && (!cgctl_valid_path(hs->parent) || !cgctl_valid_component(name, strlen(name)))) {
            g->state = CGP_GUEST_INVALID;
            g->detail = "the cgroup name would escape the parent cgroup";
            cgctl_msgf(msgs, CGP_MSG_ERROR, name, 0, "guest '%s': cgroup %s/%s would escape the parent", name,
                       hs->parent, name);
            bad = -EINVAL;
            continue;
        }
        g->split = g->proc->thread_source != CGP_THREADS_UNKNOWN;
        if (!g->split && needs_split(gp)) {
            g->state = CGP_GUEST_INVALID;
            g->detail = "its vCPU threads cannot be told apart, so per-thread placement is impossible";
            cgctl_msgf(msgs, CGP_MSG_ERROR, name, g->proc->pid,
                       "guest '%s' (pid %d): its vCPU threads cannot be told apart; start QEMU with "
                       "-name %s,debug-threads=on or add 'match qmp SOCKET' to use per-vCPU placement",
                       name, g->proc->pid, name);
            bad = -EINVAL;
            continue;
        }
        g->libvirt = g->proc->foreign;
        g->managed = !g->libvirt;
    }
    return bad;
}
