/* cgp_placement_reason(): why `auto` put a guest where it did, formatted
 * only when asked (plan -v) from what the solver kept. */
#include "policy-int.h"

#include <errno.h>
#include <stdio.h>

/* "node 0 + memory 3 (distance 17, 2.000 vCPUs of room left)" */
static void fmt_cand(FILE *f, const struct solve_trace *tr, size_t i)
{
    const char *sep = tr->c[i].ncn == 1 ? "node " : "nodes ";
    for (size_t x = 0; x < tr->c[i].ncn && x < 8; x++, sep = ",")
        fprintf(f, "%s%u", sep, tr->c[i].cn[x]);
    sep = " + memory ";
    for (size_t y = 0; y < tr->c[i].nmn && y < 8; y++, sep = ",")
        fprintf(f, "%s%u", sep, tr->c[i].mn[y]);
    int64_t left = tr->c[i].cpu_left;
    fprintf(f, "%s (distance %llu, %lld.%03lld vCPUs of room left)", tr->c[i].ncn > 8 || tr->c[i].nmn > 8 ? ",..." : "",
            (unsigned long long)tr->c[i].dist, (long long)(left / 1000), (long long)(left % 1000));
}

CGP_EXPORT int cgp_placement_reason(const cgp_placement *pl, size_t i, char **out)
{
    if (!pl || i >= pl->n || !pl->g[i].why.set)
        return -ENOENT;
    const struct why *w = &pl->g[i].why;
    const struct solve_trace *tr = w->tr;
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        return -ENOMEM;
    if (w->best) {
        fprintf(f, "placed by the search for the least total distance of all auto guests (less than "
                "one guest at a time gave), distance %llu", (unsigned long long)w->dist);
    } else if (w->all || (!w->fast && !tr)) {
        fprintf(f, "placed by the search over all auto guests at once (one guest at a time left one "
                "without a place, or on CPUs others pin to), distance %llu", (unsigned long long)w->dist);
    } else if (w->fast) {
        fprintf(f, "node %d + memory %d (distance %llu, %lld.%03lld vCPUs of room left): a node with its "
                "own memory, at the least distance of the host; among such nodes the least room left "
                "decides", w->node, w->node, (unsigned long long)w->dist, (long long)(w->left / 1000),
                (long long)(w->left % 1000));
    } else {
        fmt_cand(f, tr, 0);
        fputs(tr->n > 1 ? "; next: " : "; no other candidate fits", f);
        for (size_t k = 1; k < tr->n; k++) {
            if (k > 1)
                fputs("; ", f);
            fmt_cand(f, tr, k);
        }
    }
    if (w->tier == 1)
        fputs("; it shares cores with CPUs other guests pin vCPUs to one to one (no room on other cores)", f);
    else if (w->tier == 2 && !w->all)
        fputs("; it fits only on CPUs other guests pin vCPUs to one to one", f);
    if (fclose(f) != 0 || !s) {
        free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}
