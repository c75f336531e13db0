/* Validation of a parsed policy against the host (spec §3): CPU and node
 * lists, per-guest static checks, pins, duplicate names, blocks whose match
 * lines can match the same process. Errors carry the statement's location. */
#include "compile-int.h"

#include <errno.h>
#include <string.h>

char *cc_loc_str(const struct pol_loc *l)
{
    char *s = NULL;
    return asprintf(&s, "%s:%u:%u", l->file, l->line, l->col) < 0 ? NULL : s;
}

/* "1 GiB"/"512 MiB"/"100 KiB" for messages */
void cc_size_str(uint64_t kib, char *buf, size_t n)
{
    if (kib && kib % (1u << 20) == 0)
        snprintf(buf, n, "%llu GiB", (unsigned long long)(kib >> 20));
    else if (kib && kib % 1024 == 0)
        snprintf(buf, n, "%llu MiB", (unsigned long long)(kib >> 10));
    else
        snprintf(buf, n, "%llu KiB", (unsigned long long)kib);
}


/* Check a CPU list against the host: existing, online, not reserved. */
static bool check_cpus(struct cc *c, const cgp_bitmap *cpus, const struct pol_loc *loc)
{
    bool ok = true;
    const cgp_bitmap *present = cgp_topology_cpus_present(c->t);
    const cgp_bitmap *online = cgp_topology_cpus_online(c->t);
    cgp_bitmap *x CGP_AUTOBITMAP = cgp_bitmap_dup(cpus);
    if (!x)
        return oom(c, -ENOMEM), false;
    cgp_bitmap_andnot(x, present);
    if (!cgp_bitmap_is_empty(x)) {
        char *s CGP_AUTOFREE = fmt(x), *h CGP_AUTOFREE = fmt(present);
        ERR(c, loc, "CPU%s %s %s not exist on this host (present CPUs: %s)", plural(x) ? "s" : "",
            s ? s : "?", plural(x) ? "do" : "does", h ? h : "?");
        ok = false;
    }
    cgp_bitmap_clear_all(x);
    if (cgp_bitmap_or(x, cpus) < 0)
        return oom(c, -ENOMEM), false;
    cgp_bitmap_and(x, present);
    cgp_bitmap_andnot(x, online);
    if (!cgp_bitmap_is_empty(x)) {
        char *s CGP_AUTOFREE = fmt(x);
        ERR(c, loc, "CPU%s %s %s offline", plural(x) ? "s" : "", s ? s : "?", plural(x) ? "are" : "is");
        ok = false;
    }
    const struct pol_host *h = &c->p->host;
    if (h->reserve_cpus && cgp_bitmap_overlaps(cpus, h->reserve_cpus)) {
        cgp_bitmap_clear_all(x);
        if (cgp_bitmap_or(x, cpus) < 0)
            return oom(c, -ENOMEM), false;
        cgp_bitmap_and(x, h->reserve_cpus);
        char *s CGP_AUTOFREE = fmt(x), *r CGP_AUTOFREE = cc_loc_str(&h->reserve_cpus_loc);
        ERR(c, loc, "CPU%s %s %s reserved for the host ('reserve cpus' at %s)", plural(x) ? "s" : "",
            s ? s : "?", plural(x) ? "are" : "is", r ? r : "?");
        ok = false;
    }
    return ok;
}

/* Check memory target nodes: exist, online, have memory. */
bool cc_check_mem_nodes(struct cc *c, const cgp_bitmap *nodes, const struct pol_loc *loc)
{
    bool ok = true;
    cgp_bitmap_foreach(nodes, id) {
        const struct cgp_node *nd = cgp_topology_node_by_id(c->t, id);
        if (!nd) {
            char *h CGP_AUTOFREE = fmt(cgp_topology_nodes_online(c->t));
            ERR(c, loc, "node %d does not exist on this host (nodes: %s)", id, h ? h : "?");
            ok = false;
        } else if (!nd->online) {
            ERR(c, loc, "node %d is offline", id);
            ok = false;
        } else if (nd->mem_total_kib == CGP_UNKNOWN_U64) {
            ERR(c, loc, "the memory of node %d is unknown (its meminfo cannot be read)", id);
            ok = false;
        } else if (nd->mem_total_kib == 0) {
            ERR(c, loc, "node %d has no memory (it is %s); a memory target needs a node with memory",
                id, cgp_bitmap_is_empty(nd->cpus) ? "empty" : "CPU-only");
            ok = false;
        }
    }
    return ok;
}

/* Resolve `cpus` of guest gi; NULL (auto) or a new bitmap in c->cpus. */
void cc_resolve_cpus(struct cc *c, size_t gi)
{
    const struct pol_guest *g = &c->p->guests[gi];
    const cgp_bitmap *online = cgp_topology_cpus_online(c->t);
    const cgp_bitmap *reserved = c->pl->host.reserved_cpus;
    cgp_bitmap *b = NULL;
    switch (g->cpus_kind) {
    case POL_CPUS_AUTO:
        return;
    case POL_CPUS_LIST:
        if (!check_cpus(c, g->cpus, &g->cpus_arg_loc)) {
            c->bad[gi] = true;
            return;
        }
        b = cgp_bitmap_dup(g->cpus);
        break;
    case POL_CPUS_NODE: {
        if (!(b = cgp_bitmap_new()))
            break;
        bool ok = true;
        cgp_bitmap_foreach(g->cpus, id) {
            const struct cgp_node *nd = cgp_topology_node_by_id(c->t, id);
            if (!nd) {
                char *h CGP_AUTOFREE = fmt(cgp_topology_nodes_online(c->t));
                ERR(c, &g->cpus_arg_loc, "node %d does not exist on this host (nodes: %s)", id,
                    h ? h : "?");
                ok = false;
            } else if (!nd->online) {
                ERR(c, &g->cpus_arg_loc, "node %d is offline", id);
                ok = false;
            } else if (cgp_bitmap_is_empty(nd->cpus)) {
                ERR(c, &g->cpus_arg_loc,
                    "node %d has no CPUs (it is memory-only); 'cpus node' needs a node with CPUs", id);
                ok = false;
            } else if (cgp_bitmap_or(b, nd->cpus) < 0) {
                oom(c, -ENOMEM);
            }
        }
        if (!ok) {
            c->bad[gi] = true;
            cgp_bitmap_free(b);
            return;
        }
        cgp_bitmap_and(b, online);
        cgp_bitmap_andnot(b, reserved);
        if (cgp_bitmap_is_empty(b)) {
            char *s CGP_AUTOFREE = fmt(g->cpus);
            ERR(c, &g->cpus_arg_loc, "node%s %s %s no online CPU that is not reserved",
                plural(g->cpus) ? "s" : "", s ? s : "?", plural(g->cpus) ? "have" : "has");
            c->bad[gi] = true;
            cgp_bitmap_free(b);
            return;
        }
        break;
    }
    case POL_CPUS_UNSET:
        if ((b = cgp_bitmap_dup(online)))
            cgp_bitmap_andnot(b, reserved);
        if (b && cgp_bitmap_is_empty(b)) {
            ERR(c, &g->loc, "guest '%s': no online CPU is left outside 'reserve cpus'", g->name);
            c->bad[gi] = true;
            cgp_bitmap_free(b);
            return;
        }
        break;
    }
    if (!b)
        oom(c, -ENOMEM);
    c->cpus[gi] = b;
}

/* Effective memory of a guest: the memory statement, else the cells' sum. */
uint64_t cc_guest_mem(const struct pol_guest *g)
{
    if (g->has_memory)
        return g->memory_kib;
    uint64_t s = 0;
    for (size_t i = 0; i < g->n_cells; i++)
        s = cgp_sat_add(s, g->cells[i].memory_kib);
    return s;
}

bool cc_is_auto(const struct pol_guest *g)
{
    return g->cpus_kind == POL_CPUS_AUTO || g->nodes_kind == POL_NODES_AUTO;
}

/* Per-guest checks that need no placement. */
void cc_check_guest_static(struct cc *c, size_t gi)
{
    const struct pol_guest *g = &c->p->guests[gi];
    if (g->vcpus < 0) {
        ERR(c, &g->loc, "guest '%s' has no 'vcpus N;' statement (the number of vCPUs is required)",
            g->name);
        c->bad[gi] = true;
        return;
    }
    unsigned nv = (unsigned)g->vcpus;
    /* matches: contradictory values of one kind can never all hold */
    for (size_t i = 0; i < g->n_matches; i++)
        for (size_t j = 0; j < i; j++)
            if (g->matches[i].kind == g->matches[j].kind &&
                strcmp(g->matches[i].value, g->matches[j].value)) {
                char *f CGP_AUTOFREE = cc_loc_str(&g->matches[j].loc);
                ERR(c, &g->matches[i].loc,
                    "this match contradicts the one at %s: all match lines must hold, so guest '%s' "
                    "could never match", f ? f : "?", g->name);
                c->bad[gi] = true;
            }
    if (g->has_memory && g->nodes_kind == POL_NODES_LIST &&
        !cc_check_mem_nodes(c, g->nodes, &g->nodes_loc))
        c->bad[gi] = true;
    if (g->nodes_kind == POL_NODES_AUTO && g->n_cells) {
        ERR(c, &g->nodes_loc, "'nodes auto' cannot be used with cells: give the guest's nodes, or "
            "drop the cells");
        c->bad[gi] = true;
    }
    /* vcpupin indexes */
    cgp_bitmap *pinned CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!pinned)
        return oom(c, -ENOMEM);
    for (size_t i = 0; i < g->n_vcpupins; i++) {
        const struct pol_pin *pn = &g->vcpupins[i];
        int last = cgp_bitmap_last(pn->vcpus);
        if (last >= (int)nv) {
            ERR(c, &pn->arg_loc, "vCPU %d is out of range: guest '%s' has %u vCPU%s (0-%u)", last,
                g->name, nv, nv == 1 ? "" : "s", nv - 1);
            c->bad[gi] = true;
            continue;
        }
        if (cgp_bitmap_overlaps(pinned, pn->vcpus)) {
            int v = -1;
            cgp_bitmap_foreach(pn->vcpus, x) if (v < 0 && cgp_bitmap_test(pinned, x)) v = x;
            size_t first = 0;
            while (first < i && !cgp_bitmap_test(g->vcpupins[first].vcpus, (unsigned)v))
                first++;
            char *f CGP_AUTOFREE = cc_loc_str(&g->vcpupins[first].loc);
            ERR(c, &pn->arg_loc, "vCPU %d is pinned twice (first at %s)", v, f ? f : "?");
            c->bad[gi] = true;
            continue;
        }
        oom(c, cgp_bitmap_or(pinned, pn->vcpus));
    }
    for (size_t i = 0; i < g->n_iopins; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(g->iopins[i].id, g->iopins[j].id)) {
                char *f CGP_AUTOFREE = cc_loc_str(&g->iopins[j].loc);
                ERR(c, &g->iopins[i].arg_loc, "I/O thread '%s' is pinned twice (first at %s)",
                    g->iopins[i].id, f ? f : "?");
                c->bad[gi] = true;
            }
    /* cells */
    cgp_bitmap *used CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!used)
        return oom(c, -ENOMEM);
    uint64_t sum = 0;
    for (size_t i = 0; i < g->n_cells; i++) {
        const struct pol_cell *cl = &g->cells[i];
        if (!cl->vcpus || !cl->has_memory) {
            c->bad[gi] = true; /* reported by the parser */
            continue;
        }
        int last = cgp_bitmap_last(cl->vcpus);
        if (last >= (int)nv) {
            ERR(c, &cl->vcpus_loc, "vCPU %d of cell %u is out of range: guest '%s' has %u vCPU%s (0-%u)",
                last, cl->index, g->name, nv, nv == 1 ? "" : "s", nv - 1);
            c->bad[gi] = true;
        } else if (cgp_bitmap_overlaps(used, cl->vcpus)) {
            cgp_bitmap *x CGP_AUTOBITMAP = cgp_bitmap_dup(cl->vcpus);
            if (!x)
                return oom(c, -ENOMEM);
            cgp_bitmap_and(x, used);
            char *s CGP_AUTOFREE = fmt(x);
            ERR(c, &cl->vcpus_loc, "cell %u shares vCPU%s %s with another cell (cells must not share "
                "vCPUs)", cl->index, plural(x) ? "s" : "", s ? s : "?");
            c->bad[gi] = true;
        } else {
            oom(c, cgp_bitmap_or(used, cl->vcpus));
        }
        if (!cc_check_mem_nodes(c, cl->nodes, &cl->nodes_loc))
            c->bad[gi] = true;
        sum = cgp_sat_add(sum, cl->memory_kib);
    }
    if (g->n_cells && g->has_memory && sum != g->memory_kib) {
        char a[32], b[32];
        cc_size_str(sum, a, sizeof a);
        cc_size_str(g->memory_kib, b, sizeof b);
        ERR(c, &g->mem_loc, "the cells' memory adds up to %s, not the guest's %s", a, b);
        c->bad[gi] = true;
    }
    if (g->n_cells && (g->mode < 0 || g->mode == CGP_MODE_STRICT) && !c->bad[gi])
        WARN(c, &g->cells[0].loc, "guest '%s': under mode strict every thread may allocate on all of its "
             "cells' nodes, so cgroups do not keep a cell's memory on that cell's nodes (its vCPUs do "
             "run near them); 'mode restrictive' gives each vCPU its cell's nodes, and QEMU binds each "
             "cell's memory itself with one memory backend per cell (host-nodes=,policy=bind)", g->name);
}

/* After cpus are known: pins within the guest's CPUs. */
void cc_check_pins(struct cc *c, size_t gi)
{
    const struct pol_guest *g = &c->p->guests[gi];
    const cgp_bitmap *cpus = c->cpus[gi];
    char *gs CGP_AUTOFREE = NULL; /* formatted when needed */
    for (size_t k = 0; k < g->n_vcpupins + g->n_iopins + (g->emulatorpin ? 1 : 0); k++) {
        const cgp_bitmap *pin;
        const struct pol_loc *loc;
        if (k < g->n_vcpupins) {
            pin = g->vcpupins[k].cpus;
            loc = &g->vcpupins[k].cpus_loc;
        } else if (k < g->n_vcpupins + g->n_iopins) {
            pin = g->iopins[k - g->n_vcpupins].cpus;
            loc = &g->iopins[k - g->n_vcpupins].cpus_loc;
        } else {
            pin = g->emulatorpin;
            loc = &g->emu_loc;
        }
        if (cgp_bitmap_subset(pin, cpus))
            continue;
        cgp_bitmap *x CGP_AUTOBITMAP = cgp_bitmap_dup(pin);
        if (!x)
            return oom(c, -ENOMEM);
        cgp_bitmap_andnot(x, cpus);
        char *s CGP_AUTOFREE = fmt(x);
        if (!gs)
            gs = fmt(cpus);
        ERR(c, loc, "CPU%s %s %s not within guest '%s''s cpus %s", plural(x) ? "s" : "", s ? s : "?",
            plural(x) ? "are" : "is", g->name, gs ? gs : "?");
        c->bad[gi] = true;
    }
}

static int cmp_name(const void *a, const void *b, void *arg)
{
    const cgp_policy *p = arg;
    size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
    int r = strcmp(p->guests[ia].name, p->guests[ib].name);
    return r ? r : (ia > ib) - (ia < ib);
}

void cc_check_duplicates(struct cc *c)
{
    size_t n = c->p->n_guests;
    size_t *idx CGP_AUTOFREE = calloc(n ? n : 1, sizeof *idx);
    if (!idx)
        return oom(c, -ENOMEM);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_name, (void *)c->p);
    for (size_t i = 1; i < n; i++) {
        const struct pol_guest *a = &c->p->guests[idx[i - 1]], *b = &c->p->guests[idx[i]];
        if (!strcmp(a->name, b->name)) {
            /* report at the later one, pointing at the first of the run */
            size_t first = i - 1;
            while (first > 0 && !strcmp(c->p->guests[idx[first - 1]].name, b->name))
                first--;
            char *f CGP_AUTOFREE = cc_loc_str(&c->p->guests[idx[first]].loc);
            ERR(c, &b->loc, "duplicate guest '%s' (first defined at %s)", b->name, f ? f : "?");
            c->bad[idx[i]] = true;
        }
    }
}

/* Two guests can match the same process when they constrain at least one
 * common attribute (name, uuid, pidfile, qmp) and agree on every attribute
 * they both constrain. A guest without match lines constrains its name. */
struct mkey {
    size_t guest;
    enum cgp_match_kind kind;
    const char *value;
};

static int cmp_mkey(const void *a, const void *b)
{
    const struct mkey *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int r = strcmp(x->value, y->value);
    return r ? r : (x->guest > y->guest) - (x->guest < y->guest);
}

static const char *match_of(const struct pol_guest *g, enum cgp_match_kind k)
{
    if (!g->n_matches)
        return k == CGP_MATCH_NAME ? g->name : NULL;
    for (size_t i = 0; i < g->n_matches; i++)
        if (g->matches[i].kind == k)
            return g->matches[i].value;
    return NULL;
}

static const struct pol_loc *match_loc(const struct pol_guest *g)
{
    return g->n_matches ? &g->matches[0].loc : &g->loc;
}

void cc_check_overlaps(struct cc *c)
{
    const cgp_policy *p = c->p;
    size_t n = 0;
    for (size_t i = 0; i < p->n_guests; i++)
        n += p->guests[i].n_matches ? p->guests[i].n_matches : 1;
    struct mkey *v CGP_AUTOFREE = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return oom(c, -ENOMEM);
    size_t k = 0;
    for (size_t i = 0; i < p->n_guests; i++) {
        const struct pol_guest *g = &p->guests[i];
        if (!g->n_matches)
            v[k++] = (struct mkey){ i, CGP_MATCH_NAME, g->name };
        for (size_t j = 0; j < g->n_matches; j++)
            v[k++] = (struct mkey){ i, g->matches[j].kind, g->matches[j].value };
    }
    qsort(v, n, sizeof *v, cmp_mkey);
    for (size_t a = 0; a < n; a++) {
        for (size_t b = a + 1; b < n && v[b].kind == v[a].kind && !strcmp(v[b].value, v[a].value); b++) {
            size_t ga = v[a].guest, gb = v[b].guest;
            if (ga == gb || c->bad[ga] || c->bad[gb])
                continue;
            const struct pol_guest *A = &p->guests[ga], *B = &p->guests[gb];
            if (!strcmp(A->name, B->name))
                continue; /* duplicate names are reported as such */
            bool agree = true;
            for (int kk = 0; kk < 4 && agree; kk++) {
                const char *x = match_of(A, (enum cgp_match_kind)kk), *y = match_of(B, (enum cgp_match_kind)kk);
                if (x && y && strcmp(x, y))
                    agree = false;
            }
            /* report once per pair: at the first key they share */
            bool first_key = true;
            for (int kk = 0; kk < (int)v[a].kind; kk++)
                if (match_of(A, (enum cgp_match_kind)kk) && match_of(B, (enum cgp_match_kind)kk))
                    first_key = false;
            if (agree && first_key) {
                const struct pol_guest *later = gb > ga ? B : A, *earlier = gb > ga ? A : B;
                char *f CGP_AUTOFREE = cc_loc_str(&earlier->loc);
                static const char *const kn[] = { "name", "uuid", "pidfile", "qmp" };
                ERR(c, match_loc(later),
                    "guests '%s' and '%s' (at %s) can match the same process (both match %s \"%s\"); "
                    "add a match line that tells them apart", later->name, earlier->name, f ? f : "?",
                    kn[v[a].kind], v[a].value);
                c->bad[gb > ga ? gb : ga] = true;
            }
        }
    }
}

/* Commitments per CPU (spec §3): a set S of CPUs that the vCPUs of the
 * fixed guests can run nowhere but in must hold them at `overcommit`. The
 * sets looked at are the ones the policy names (pins, and the cpus of
 * guests with unpinned vCPUs); a vCPU counts on S when its own CPUs lie
 * within S (two one-to-one pins on a CPU, 16 vCPUs on `cpus 4-5`). */
struct cset {
    const cgp_bitmap *cpus;
    size_t gi;
    unsigned nv;
    const struct pol_loc *loc;
};

#define CSET_PAIRS_MAX 4096

static void report_cset(struct cc *c, const struct cset *v, size_t ne, size_t e, uint64_t total)
{
    const struct cset *s = &v[e];
    unsigned ncpu = cgp_bitmap_count(s->cpus), oc = c->pl->host.overcommit_milli;
    char names[256] = "";
    size_t o = 0, shown = 0, last = e;
    for (size_t f = 0; f < ne; f++) {
        if (!cgp_bitmap_subset(v[f].cpus, s->cpus))
            continue;
        if (f > last)
            last = f;
        bool dup = false;
        for (size_t h = 0; h < f && !dup; h++)
            dup = v[h].gi == v[f].gi && cgp_bitmap_subset(v[h].cpus, s->cpus);
        if (dup || o >= sizeof names)
            continue;
        o += (size_t)snprintf(names + o, sizeof names - o, "%s'%s'", shown ? ", " : "",
                              c->p->guests[v[f].gi].name);
        shown++;
    }
    char *cs CGP_AUTOFREE = fmt(s->cpus);
    bool deny = c->p->host.oversubscribe == 1;
    const char *msg = "CPU%s %s can take %u.%03u vCPUs at overcommit %u.%03u, but %llu vCPU%s of %s "
                      "can run nowhere else%s";
    const char *hint = deny ? "" : " (host 'oversubscribe deny;' makes this an error)";
    uint64_t capm = (uint64_t)ncpu * oc;
    if (deny)
        ERR(c, v[last].loc, msg, plural(s->cpus) ? "s" : "", cs ? cs : "?", (unsigned)(capm / 1000),
            (unsigned)(capm % 1000), oc / 1000, oc % 1000, (unsigned long long)total, total == 1 ? "" : "s",
            names, hint);
    else
        WARN(c, v[last].loc, msg, plural(s->cpus) ? "s" : "", cs ? cs : "?", (unsigned)(capm / 1000),
             (unsigned)(capm % 1000), oc / 1000, oc % 1000, (unsigned long long)total, total == 1 ? "" : "s",
             names, hint);
}

void cc_check_commitments(struct cc *c)
{
    const cgp_policy *p = c->p;
    struct cset *v CGP_AUTOFREE = NULL;
    size_t ne = 0, cap = 0;
    for (size_t gi = 0; gi < p->n_guests; gi++) {
        const struct pol_guest *g = &p->guests[gi];
        if (c->bad[gi] || !c->cpus[gi] || g->vcpus <= 0)
            continue;
        unsigned pinned = 0;
        for (size_t i = 0; i < g->n_vcpupins; i++) {
            if (!CGP_GROW(v, ne, cap))
                return oom(c, -ENOMEM);
            unsigned k = cgp_bitmap_count(g->vcpupins[i].vcpus);
            pinned += k;
            v[ne++] = (struct cset){ g->vcpupins[i].cpus, gi, k, &g->vcpupins[i].cpus_loc };
        }
        if (pinned < (unsigned)g->vcpus) {
            if (!CGP_GROW(v, ne, cap))
                return oom(c, -ENOMEM);
            v[ne++] = (struct cset){ c->cpus[gi], gi, (unsigned)g->vcpus - pinned,
                                     g->cpus_kind == POL_CPUS_UNSET ? &g->loc : &g->cpus_arg_loc };
        }
    }
    uint64_t oc = c->pl->host.overcommit_milli;
    bool pairs = ne <= CSET_PAIRS_MAX;
    for (size_t e = 0; e < ne; e++) {
        bool seen = false;
        for (size_t f = 0; pairs && f < e && !seen; f++)
            seen = cgp_bitmap_equal(v[f].cpus, v[e].cpus);
        if (seen)
            continue;
        uint64_t total = 0;
        for (size_t f = 0; f < ne; f++)
            if (f == e || (pairs && cgp_bitmap_subset(v[f].cpus, v[e].cpus)))
                total += v[f].nv;
        if (total * 1000 > (uint64_t)cgp_bitmap_count(v[e].cpus) * oc)
            report_cset(c, v, pairs ? ne : e + 1, e, total);
    }
}
