/* libvirt's guests (spec §5): a QEMU in libvirt's cgroups is placed through
 * libvirt's API, never by writing libvirt's cgroup files (libvirt rewrites
 * them at start, on vCPU hotplug and on daemon restart). The planner here
 * compares libvirt's pins with the placement and journals one call per
 * difference, with the previous value as its undo; the libvirt backend makes
 * the calls (virt.c); the read-back trusts /proc, not the call. */
#include "cgctl-int.h"
#include "virt.h"
#include "../guests/guests-int.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The connection: one per context, opened before a sandbox if asked    */
/* ------------------------------------------------------------------ */

struct lv_conn {
    struct cgctl_virt *v;        /* NULL: err says why */
    int err;
    char why[512];
};

static void conn_free(void *p)
{
    struct lv_conn *c = p;
    if (c)
        cgctl_virt_close(c->v);
    free(c);
}

/* ctx's connection, opened (or its failure recorded) on first use. NULL
 * only on ENOMEM. */
static struct lv_conn *conn_of(cgp_ctx *ctx)
{
    if (ctx->conn_free == conn_free)
        return ctx->conn;
    struct lv_conn *c = calloc(1, sizeof *c);
    if (!c || ctx->conn)
        return free(c), NULL;
    c->err = cgctl_virt_open(ctx, &c->v);
    if (c->err == -ENOMEM)
        return free(c), NULL;
    snprintf(c->why, sizeof c->why, "%s", c->err ? cgp_ctx_last_error(ctx) : "");
    ctx->conn = c;
    ctx->conn_free = conn_free;
    return c;
}

CGP_EXPORT int cgp_libvirt_prepare(cgp_ctx *ctx, const cgp_placement *pl)
{
    if (!ctx || !pl)
        return -EINVAL;
    cgp_ctx_clear_error(ctx);
    bool any = false;
    for (size_t k = 0; k < cgp_placement_n_procs(pl); k++) {
        const struct cgp_proc_match *pm = cgp_placement_proc(pl, k);
        any |= pm->proc->foreign && pm->n_guests > 0;
    }
    if (!any)
        return 0;
    struct lv_conn *c = conn_of(ctx);
    if (!c)
        return -ENOMEM;
    return c->err ? cgp_ctx_errorf(ctx, c->err, "%s", c->why) : 0;
}

/* ------------------------------------------------------------------ */
/* What the placement asks of libvirt                                   */
/* ------------------------------------------------------------------ */

/* libvirt numbers I/O threads: policy id N or iothreadN. -1: no number. */
static long iothread_number(const char *id)
{
    const char *s = !strncmp(id, "iothread", 8) ? id + 8 : id;
    char *end;
    long n = *s >= '0' && *s <= '9' ? strtol(s, &end, 10) : -1;
    return n > 0 && n <= UINT32_MAX && !*end ? n : -1;
}

const char *cgctl_lv_inexpressible(const struct cgp_guest_placement *gp)
{
    bool one = cgp_bitmap_equal(gp->emulator.mems, gp->mems);
    for (unsigned v = 0; one && v < gp->n_vcpus; v++)
        one = cgp_bitmap_equal(gp->vcpu[v].mems, gp->mems);
    for (size_t k = 0; one && k < gp->n_iothreads; k++)
        one = cgp_bitmap_equal(gp->iothreads[k].mems, gp->mems);
    if (!one)
        return "libvirt sets one memory nodeset per domain (numatune): per-thread memory nodes cannot be expressed";
    for (size_t k = 0; k < gp->n_iothreads; k++)
        if (iothread_number(gp->iothreads[k].id) < 0)
            return "libvirt numbers its I/O threads: name them N or iothreadN in the policy";
    return NULL;
}

/* The policy's CPUs for libvirt's I/O thread id (the emulator's when the
 * policy does not name it, as the cgroup layout does). */
static const cgp_bitmap *iothread_cpus(const struct cgp_guest_placement *gp, unsigned id)
{
    for (size_t k = 0; k < gp->n_iothreads; k++)
        if (iothread_number(gp->iothreads[k].id) == (long)id)
            return gp->iothreads[k].cpus;
    return gp->emulator.cpus;
}

void cgctl_lv_want(const cgp_enforce *e, size_t gi, const struct cgp_guest_thread *th, const cgp_bitmap **cpus,
                   const cgp_bitmap **mems)
{
    const struct cgp_guest_placement *gp = e->g[gi].gp;
    *mems = gp->mems;
    *cpus = gp->emulator.cpus;
    if (th->role == CGP_THREAD_VCPU && th->vcpu >= 0 && (unsigned)th->vcpu < gp->n_vcpus)
        *cpus = gp->vcpu[th->vcpu].cpus;
    else if (th->role == CGP_THREAD_IOTHREAD && th->iothread)
        for (size_t k = 0; k < gp->n_iothreads; k++)
            if (cgctl_iothread_is(gp->iothreads[k].id, th->iothread))
                *cpus = gp->iothreads[k].cpus;
}

/* ------------------------------------------------------------------ */
/* The backend: the calls                                               */
/* ------------------------------------------------------------------ */

struct lv_state {
    struct cgctl_virt *v;        /* borrowed from the context's connection */
    size_t n;                    /* one slot per policy guest */
    struct cgctl_vdom **dom;
    const char **name;           /* the ops' path: the domain's name (escaped) */
};

static struct lv_state *state_of(struct cgctl_backend *be) { return be->priv; }

static void lv_close(struct cgctl_backend *be)
{
    struct lv_state *st = state_of(be);
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        cgctl_vdom_free(st->dom[i]);
    free(st->dom);
    free(st->name);
    free(st);
    be->priv = NULL;
}

static const char *const lv_calls[] = {
    [CGCTL_LV_VCPU - CGCTL_LV_VCPU] = "virDomainPinVcpuFlags",
    [CGCTL_LV_EMULATOR - CGCTL_LV_VCPU] = "virDomainPinEmulator",
    [CGCTL_LV_IOTHREAD - CGCTL_LV_VCPU] = "virDomainPinIOThread",
    [CGCTL_LV_NUMA - CGCTL_LV_VCPU] = "virDomainSetNumaParameters",
};

static bool is_lv(enum cgctl_act act)
{
    return act >= CGCTL_LV_VCPU && act <= CGCTL_LV_NUMA;
}

static void lv_describe(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                        const char **item)
{
    *kind = CGP_OP_LIBVIRT;
    *file = is_lv(act) ? lv_calls[act - CGCTL_LV_VCPU] : "?";
    *value = NULL;
    *item = NULL;   /* the planner names it: "vcpu 3" */
}

static unsigned flags_of(const char *tok)
{
    return !tok ? CGCTL_VIRT_LIVE : !strcmp(tok, "config") ? CGCTL_VIRT_CONFIG : CGCTL_VIRT_LIVE | CGCTL_VIRT_CONFIG;
}

/* value "ITEM VALUE [FLAGS]" (cgctl-int.h) on the domain named path. */
static int lv_act(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo)
{
    (void)undo;
    struct lv_state *st = state_of(be);
    struct cgctl_vdom *d = NULL;
    for (size_t i = 0; st && i < st->n && !d; i++)
        if (st->name[i] && !strcmp(st->name[i], path))
            d = st->dom[i];
    char *copy CGP_AUTOFREE = strdup(value);
    if (!copy)
        return -ENOMEM;
    char *tok[5] = { 0 }, *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(copy, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
        tok[n++] = t;
    if (!d || !is_lv(act) || n < 2)
        return -EINVAL;
    bool id = act == CGCTL_LV_VCPU || act == CGCTL_LV_IOTHREAD || (act == CGCTL_LV_NUMA && !strcmp(tok[1], "mode"));
    const char *list = tok[id ? 2 : 1];
    if (!list)
        return -EINVAL;
    unsigned fl = flags_of(tok[id ? 3 : 2]);
    if (act == CGCTL_LV_NUMA && id) {
        int mode = -1;
        for (int m = 0; m < 4; m++)
            if (!strcmp(list, cgp_mem_mode_name((enum cgp_mem_mode)m)))
                mode = m;
        return mode < 0 ? -EINVAL : cgctl_virt_set_numa(d, NULL, mode, fl);
    }
    cgp_bitmap *set CGP_AUTOBITMAP = NULL;
    int r = cgp_bitmap_parse(list, 0, &set, NULL);
    if (r < 0)
        return r;
    unsigned num = id ? (unsigned)strtoul(tok[1], NULL, 10) : 0;
    switch (act) {
    case CGCTL_LV_VCPU: return cgctl_virt_pin_vcpu(d, num, set, fl);
    case CGCTL_LV_EMULATOR: return cgctl_virt_pin_emulator(d, set, fl);
    case CGCTL_LV_IOTHREAD: return cgctl_virt_pin_iothread(d, num, set, fl);
    default: return cgctl_virt_set_numa(d, set, -1, fl);
    }
}

const struct cgctl_backend_ops cgctl_backend_libvirt = {
    .name = "libvirt",
    .close = lv_close,
    .describe = lv_describe,
    .act = lv_act,
};

/* ------------------------------------------------------------------ */
/* Planning                                                             */
/* ------------------------------------------------------------------ */

struct lvp {                     /* one guest being planned */
    cgp_enforce *e;
    size_t gi;
    const char *dom;
    bool persist;
};

static const char *const flag_words[] = { NULL, "live+config", "config" };
static const char *const flag_notes[] = {
    NULL, "live and in the persistent definition (VIR_DOMAIN_AFFECT_LIVE|VIR_DOMAIN_AFFECT_CONFIG)",
    "in the persistent definition only (VIR_DOMAIN_AFFECT_CONFIG)",
};

/* One call: item set to want (old: what it replaces), with its undo. */
static int add_call(struct lvp *p, enum cgctl_act act, const char *item, const char *want, const char *old, int fw)
{
    struct cgp_arena *a = &p->e->arena;
    const char *f = flag_words[fw];
    const char *val = cgp_arena_printf(a, "%s %s%s%s", item, want, f ? " " : "", f ? f : "");
    const char *undo = cgp_arena_printf(a, "%s %s%s%s", item, old, f ? " " : "", f ? f : "");
    const char *it = cgp_arena_strdup(a, item), *w = cgp_arena_strdup(a, want), *o = cgp_arena_strdup(a, old);
    if (!val || !undo || !it || !w || !o)
        return -ENOMEM;
    struct eop *op = cgctl_add_op(p->e, &p->e->lv, (int)p->gi, act, p->dom, val, o);
    if (!op)
        return -ENOMEM;
    op->pub.value = w;
    op->pub.item = it;
    op->pub.note = flag_notes[fw];
    op->has_undo = true;
    op->uact = act;
    op->upath = p->dom;
    op->uvalue = undo;
    return 0;
}

/* The calls that make item want, live and (persist) in the definition:
 * one call for both when they agree, else one each. */
static int plan_item(struct lvp *p, enum cgctl_act act, const char *item, const char *want, const char *live,
                     const char *conf)
{
    bool dl = strcmp(want, live) != 0, dc = conf && strcmp(want, conf) != 0;
    int r = 0;
    if (dl && dc && !strcmp(live, conf))
        return add_call(p, act, item, want, live, 1);
    if (dl)
        r = add_call(p, act, item, want, live, 0);
    if (r == 0 && dc)
        r = add_call(p, act, item, want, conf, 2);
    return r;
}

/* A set as the report writes it (NULL: the default). */
static char *list_or(const cgp_bitmap *b, const char *dflt)
{
    return b ? cgp_bitmap_format(b) : strdup(dflt);
}

/* dflt: what an unset item means live; dconf: in the definition (NULL: the same). */
static int plan_set(struct lvp *p, enum cgctl_act act, const char *item, const cgp_bitmap *want,
                    const cgp_bitmap *live, const cgp_bitmap *conf, const char *dflt, const char *dconf)
{
    char *w CGP_AUTOFREE = list_or(want, dflt), *l CGP_AUTOFREE = list_or(live, dflt);
    char *c CGP_AUTOFREE = p->persist ? list_or(conf, dconf ? dconf : dflt) : NULL;
    if (!w || !l || (p->persist && !c))
        return -ENOMEM;
    return plan_item(p, act, item, w, l, c);
}

static const cgp_bitmap *iothread_of(const struct cgctl_vpins *pins, unsigned id)
{
    for (size_t k = 0; pins && k < pins->n_iothreads; k++)
        if (pins->iothread_id[k] == id)
            return pins->iothread[k];
    return NULL;
}

static const char *mode_word(int m)
{
    return cgp_mem_mode_name(m < 0 ? CGP_MODE_STRICT : (enum cgp_mem_mode)m);   /* libvirt's default */
}

/* Memory: the mode, then the nodeset. A domain without a nodeset has the
 * nodes its threads have now: that is what a rollback restores. Its
 * definition without one has every node with memory (no <numatune>: no
 * restriction), so a nodeset set live only still differs from it, and a
 * rollback writes that "every node" back. */
static int plan_numa(struct lvp *p, const struct cgctl_vpins *live, const struct cgctl_vpins *conf,
                     const char *now, const char *allmem)
{
    const struct cgp_guest_placement *gp = p->e->g[p->gi].gp;
    if (!gp->mems)
        return 0;
    const char *wm = cgp_mem_mode_name(gp->mode);
    int r = plan_item(p, CGCTL_LV_NUMA, "numatune mode", wm, mode_word(live->mode), conf ? mode_word(conf->mode) : NULL);
    return r < 0 ? r
                 : plan_set(p, CGCTL_LV_NUMA, "numatune", gp->mems, live->nodeset, conf ? conf->nodeset : NULL, now,
                            allmem);
}

static int plan_pins(struct lvp *p, const struct cgctl_vpins *live, const struct cgctl_vpins *conf, const char *all)
{
    const struct cgp_guest_placement *gp = p->e->g[p->gi].gp;
    struct cgp_arena *a = &p->e->arena;
    int r = 0;
    for (unsigned v = 0; r == 0 && v < live->n_vcpus; v++) {
        const cgp_bitmap *w = v < gp->n_vcpus ? gp->vcpu[v].cpus : gp->emulator.cpus;
        const char *item = cgp_arena_printf(a, "vcpu %u", v);
        r = item ? plan_set(p, CGCTL_LV_VCPU, item, w, live->vcpu[v], conf && v < conf->n_vcpus ? conf->vcpu[v] : NULL,
                            all, NULL)
                 : -ENOMEM;
    }
    if (r == 0)
        r = plan_set(p, CGCTL_LV_EMULATOR, "emulator", gp->emulator.cpus, live->emulator, conf ? conf->emulator : NULL,
                     all, NULL);
    for (size_t k = 0; r == 0 && k < live->n_iothreads; k++) {
        unsigned id = live->iothread_id[k];
        const char *item = cgp_arena_printf(a, "iothread %u", id);
        r = item ? plan_set(p, CGCTL_LV_IOTHREAD, item, iothread_cpus(gp, id), live->iothread[k],
                            iothread_of(conf, id), all, NULL)
                 : -ENOMEM;
    }
    for (size_t k = 0; r == 0 && k < gp->n_iothreads; k++) {
        long id = iothread_number(gp->iothreads[k].id);
        if (id > 0 && !iothread_of(live, (unsigned)id))
            r = cgctl_msgf(&p->e->msgs, CGP_MSG_WARNING, gp->name, p->e->g[p->gi].pub.proc->pid,
                           "guest '%s': domain %s has no I/O thread %ld: its iothreadpin is not applied", gp->name,
                           p->dom, id);
    }
    return r;
}

/* The nodes the guest's main thread may use now, as a list. */
static char *mems_now(cgp_enforce *e, const struct cgp_guest *proc)
{
    cgp_bitmap *m CGP_AUTOBITMAP = NULL;
    const char *bad;
    if (cgp_task_allowed(e->ctx->root_fd, proc->pid, proc->pid, NULL, &m, &bad) < 0)
        return strdup("");
    return cgp_bitmap_format(m);
}

static int plan_guest(cgp_enforce *e, size_t gi, struct lv_state *st)
{
    struct eguest *g = &e->g[gi];
    const struct cgp_guest *proc = g->pub.proc;
    struct cgctl_vdom *d = NULL;
    /* QEMU's -uuid (libvirt always passes it), else its -name */
    int r = cgctl_virt_lookup(st->v, proc->uuid, proc->uuid ? NULL : proc->name, &d);
    if (r < 0)
        return r;
    st->dom[gi] = d;
    struct lvp p = { e, gi, cgp_arena_strdup(&e->arena, cgctl_vdom_name(d)),
                     cgp_placement_host(e->pl)->libvirt_persist };
    st->name[gi] = p.dom;
    if (!p.dom)
        return -ENOMEM;
    struct cgctl_vpins live = { .mode = -1 }, conf = { .mode = -1 };
    if ((r = cgctl_virt_read(d, CGCTL_VIRT_LIVE, &live)) < 0)
        return r;
    if (p.persist && (r = cgctl_virt_read(d, CGCTL_VIRT_CONFIG, &conf)) < 0) {
        cgctl_vpins_clear(&live);
        return r;
    }
    const char *every = cgp_arena_printf(&e->arena, "0-%u", cgctl_virt_ncpus(st->v) - 1);
    char *now CGP_AUTOFREE = mems_now(e, proc);
    char *allmem CGP_AUTOFREE = NULL;
    if (p.persist && cgp_read_one(e->ctx->root_fd, "sys/devices/system/node/has_memory", 4096, &allmem) < 0)
        allmem = strdup(now ? now : "");
    r = every && now && (!p.persist || allmem) ? plan_pins(&p, &live, p.persist ? &conf : NULL, every) : -ENOMEM;
    if (r == 0)
        r = plan_numa(&p, &live, p.persist ? &conf : NULL, now, allmem);
    cgctl_vpins_clear(&live);
    cgctl_vpins_clear(&conf);
    return r;
}

/* The guest cannot be placed through libvirt: it fails alone. */
static int fail_guest(cgp_enforce *e, size_t gi, const char *why)
{
    struct eguest *g = &e->g[gi];
    g->lv = false;
    g->pub.state = CGP_GUEST_FAILED;
    g->pub.detail = cgp_arena_printf(&e->arena, "libvirt: %s", why);
    return cgctl_msgf(&e->msgs, CGP_MSG_ERROR, g->pub.name, g->pub.proc->pid, "guest '%s' (pid %d): %s", g->pub.name,
                      g->pub.proc->pid, g->pub.detail ? g->pub.detail : why);
}

static int open_state(cgp_enforce *e, const char **why)
{
    struct lv_conn *c = conn_of(e->ctx);
    if (!c)
        return -ENOMEM;
    if (c->err) {
        *why = cgp_arena_strdup(&e->arena, c->why);
        return *why ? c->err : -ENOMEM;
    }
    struct lv_state *st = calloc(1, sizeof *st);
    if (!st || !(st->dom = calloc(e->n_g, sizeof *st->dom)) || !(st->name = calloc(e->n_g, sizeof *st->name))) {
        if (st)
            free(st->dom);
        free(st);
        return -ENOMEM;
    }
    st->v = c->v;
    st->n = e->n_g;
    e->lv = (struct cgctl_backend){ .ops = &cgctl_backend_libvirt, .ctx = e->ctx, .rootfd = -1, .priv = st };
    return 0;
}

int cgctl_lv_plan(cgp_enforce *e)
{
    for (size_t gi = 0; gi < e->n_g; gi++) {
        if (!e->g[gi].lv)
            continue;
        const char *why = NULL;
        int r = e->lv.priv ? 0 : open_state(e, &why);
        if (r == 0) {
            cgp_ctx_clear_error(e->ctx);
            if ((r = plan_guest(e, gi, e->lv.priv)) < 0 && r != -ENOMEM)
                why = cgp_arena_strdup(&e->arena, *cgp_ctx_last_error(e->ctx) ? cgp_ctx_last_error(e->ctx)
                                                                                 : strerror(-r));
        }
        if (r == -ENOMEM || (r < 0 && fail_guest(e, gi, why ? why : strerror(-r)) < 0))
            return -ENOMEM;
    }
    return 0;
}

int cgctl_lv_readback(cgp_enforce *e, size_t gi, const char **why)
{
    const struct cgp_guest *proc = e->g[gi].pub.proc;
    for (size_t i = 0; i < proc->n_threads; i++) {
        const struct cgp_guest_thread *th = &proc->threads[i];
        const cgp_bitmap *wc, *wm;
        cgctl_lv_want(e, gi, th, &wc, &wm);
        cgp_bitmap *c CGP_AUTOBITMAP = NULL, *m CGP_AUTOBITMAP = NULL;
        const char *bad = NULL;
        int r = cgp_task_allowed(e->ctx->root_fd, proc->pid, th->tid, &c, &m, &bad);
        if (r == -ENOENT || r == -ESRCH)
            continue;   /* the thread ended */
        if (r < 0) {
            *why = cgp_arena_printf(&e->arena, "thread %d: status: %s", th->tid, strerror(-r));
            return r;
        }
        if ((!wc || cgp_bitmap_equal(c, wc)) && (!wm || cgp_bitmap_equal(m, wm)))
            continue;
        char *hc CGP_AUTOFREE = cgp_bitmap_format(c), *hm CGP_AUTOFREE = cgp_bitmap_format(m);
        char *xc CGP_AUTOFREE = wc ? cgp_bitmap_format(wc) : NULL, *xm CGP_AUTOFREE = wm ? cgp_bitmap_format(wm) : NULL;
        *why = cgp_arena_printf(&e->arena, "thread %d: Cpus_allowed_list %s / Mems_allowed_list %s, intended %s / %s "
                                "(libvirt accepted the calls)", th->tid, hc ? hc : "?", hm ? hm : "?",
                                xc ? xc : "-", xm ? xm : "-");
        return -EIO;
    }
    return 0;
}
