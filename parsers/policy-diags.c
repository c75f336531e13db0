/* Diagnostics list of the policy parser and compiler. */
#include "policy-ast.h"

#include <errno.h>
#include <string.h>

CGP_EXPORT cgp_diags *cgp_diags_new(void)
{
    return calloc(1, sizeof(cgp_diags));
}

CGP_EXPORT void cgp_diags_free(cgp_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free((char *)d->v[i].file);
        free((char *)d->v[i].msg);
    }
    free(d->v);
    free(d);
}

CGP_EXPORT size_t cgp_diags_count(const cgp_diags *d)
{
    return d ? d->n : 0;
}

CGP_EXPORT size_t cgp_diags_errors(const cgp_diags *d)
{
    return d ? d->n_errors : 0;
}

CGP_EXPORT const struct cgp_diag *cgp_diags_get(const cgp_diags *d, size_t i)
{
    return d && i < d->n ? &d->v[i] : NULL;
}

CGP_EXPORT char *cgp_diag_format(const struct cgp_diag *dg)
{
    char *s = NULL;
    const char *kind = dg->warning ? "warning" : "error";
    int r;
    if (dg->line)
        r = asprintf(&s, "%s:%u:%u: %s: %s", dg->file, dg->line, dg->col, kind, dg->msg);
    else
        r = asprintf(&s, "%s: %s: %s", dg->file ? dg->file : "policy", kind, dg->msg);
    return r < 0 ? NULL : s;
}

bool pol_diags_full(const cgp_diags *d)
{
    return d->truncated;
}

static int push(cgp_diags *d, bool warning, const struct pol_loc *loc, char *msg)
{
    if (!CGP_GROW(d->v, d->n, d->cap)) {
        free(msg);
        return -ENOMEM;
    }
    char *file = NULL;
    if (loc && loc->file && !(file = strdup(loc->file))) {
        free(msg);
        return -ENOMEM;
    }
    d->v[d->n++] = (struct cgp_diag){ .warning = warning, .file = file,
                                      .line = loc ? loc->line : 0, .col = loc ? loc->col : 0,
                                      .msg = msg };
    if (!warning)
        d->n_errors++;
    return 0;
}

int pol_diag(cgp_diags *d, bool warning, const struct pol_loc *loc, const char *fmt, ...)
{
    if (!d)
        return 0;
    if (d->truncated)
        return 0;
    if (!warning && d->n_errors >= CGP_POLICY_MAX_ERRORS) {
        d->truncated = true;
        char *m = strdup("too many errors; stopping here");
        if (!m)
            return -ENOMEM;
        return push(d, false, loc, m);
    }
    if (warning && d->n >= 1000)
        return 0; /* bound warnings too */
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    return push(d, warning, loc, msg);
}
