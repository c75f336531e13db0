/* The running guests as an input of compilation: every process is matched to
 * the policy's blocks once, here, and the placement keeps the result, so that
 * plan, apply, verify and guests never match again. */
#include "policy-int.h"
#include "../guests/guests-int.h"

#include <errno.h>
#include <string.h>

/* The match lines of block g as the matcher takes them (values borrowed from
 * the AST); no line is an implicit name match. */
static int match_lines(const struct pol_guest *g, struct cgp_match **out, size_t *n)
{
    size_t k = g->n_matches ? g->n_matches : 1;
    struct cgp_match *m = calloc(k, sizeof *m);
    if (!m)
        return -ENOMEM;
    if (!g->n_matches)
        m[0] = (struct cgp_match){ CGP_MATCH_NAME, g->name };
    for (size_t i = 0; i < g->n_matches; i++)
        m[i] = (struct cgp_match){ g->matches[i].kind, g->matches[i].value };
    *out = m;
    *n = k;
    return 0;
}

/* A copy of n words in the placement's arena (NULL when n is 0). */
static const char *const *arena_words(cgp_placement *pl, char *const *v, size_t n, int *r)
{
    if (!n)
        return NULL;
    const char **w = cgp_arena_keep(&pl->arena, calloc(n, sizeof *w), free);
    for (size_t i = 0; w && i < n; i++)
        if (!(w[i] = pl_strdup(pl, v[i])))
            w = NULL;
    if (!w)
        *r = -ENOMEM;
    return w;
}

int pl_trust_settings(cgp_placement *pl, const struct pol_host *h)
{
    int r = 0;
    pl->trust = (struct cgp_trust){ .n_binaries = h->n_qemu_binaries, .n_users = h->n_guest_users,
                                    .users_given = h->guest_users != NULL };
    pl->trust.binaries = arena_words(pl, h->qemu_binaries, h->n_qemu_binaries, &r);
    pl->trust.users = arena_words(pl, h->guest_users, h->n_guest_users, &r);
    return r;
}

int pl_match_procs(cgp_placement *pl, const cgp_policy *p, cgp_ctx *ctx, const struct cgp_guest *const *procs,
                   size_t n_procs, bool *running)
{
    int root_fd = ctx ? ctx->root_fd : -1;
    size_t nb = p->n_guests;
    struct cgp_match **lines CGP_AUTOFREE = calloc(nb ? nb : 1, sizeof *lines);
    size_t *n_lines CGP_AUTOFREE = calloc(nb ? nb : 1, sizeof *n_lines);
    bool *hit CGP_AUTOFREE = calloc((nb ? nb : 1) * (n_procs ? n_procs : 1), sizeof *hit);
    const char **why CGP_AUTOFREE = calloc(n_procs ? n_procs : 1, sizeof *why);
    int r = lines && n_lines && hit && why ? 0 : -ENOMEM;
    for (size_t b = 0; b < nb && r == 0; b++)
        r = match_lines(&p->guests[b], &lines[b], &n_lines[b]);
    size_t total = 0;
    for (size_t i = 0; i < n_procs && r == 0; i++) {
        if (!procs[i])
            continue;
        /* a process that is no guest matches no block: it can neither take
         * a guest's place nor contest it */
        char reason[512];
        int t = cgp_guest_trusted(ctx, procs[i], &pl->trust, reason, sizeof reason);
        if (t < 0) {
            r = t;
            break;
        }
        if (!t) {
            if (!(why[i] = pl_strdup(pl, reason)))
                r = -ENOMEM;
            continue;
        }
        for (size_t b = 0; b < nb; b++)
            if (cgp_match_holds(root_fd, procs[i], lines[b], n_lines[b])) {
                hit[i * nb + b] = true;
                total++;
            }
    }
    for (size_t b = 0; lines && b < nb; b++)
        free(lines[b]);
    if (r < 0)
        return r;
    pl->procs = calloc(n_procs ? n_procs : 1, sizeof *pl->procs);
    pl->proc_guests = calloc(total ? total : 1, sizeof *pl->proc_guests);
    if (!pl->procs || !pl->proc_guests)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n_procs; i++) {
        struct cgp_proc_match *pm = &pl->procs[i];
        pm->proc = procs[i];
        pm->untrusted = why[i];
        pm->guests = pl->proc_guests + k;
        for (size_t b = 0; b < nb; b++)
            if (hit[i * nb + b]) {
                pl->proc_guests[k++] = b;
                pm->n_guests++;
                running[b] = true;
            }
    }
    pl->n_procs = n_procs;
    return 0;
}

void pl_assign_procs(cgp_placement *pl)
{
    for (size_t i = 0; i < pl->n_procs; i++) {
        const struct cgp_proc_match *pm = &pl->procs[i];
        if (pm->n_guests && pm->guests[0] < pl->n && !pl->g[pm->guests[0]].pub.proc)
            pl->g[pm->guests[0]].pub.proc = pm->proc;
    }
}

CGP_EXPORT size_t cgp_placement_n_procs(const cgp_placement *pl)
{
    return pl ? pl->n_procs : 0;
}

CGP_EXPORT const struct cgp_proc_match *cgp_placement_proc(const cgp_placement *pl, size_t i)
{
    return pl && i < pl->n_procs ? &pl->procs[i] : NULL;
}
