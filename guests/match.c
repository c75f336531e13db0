/* Which policy block a QEMU process is (spec §5): the match lines of a block
 * against what discovery read. The pipeline matches once, when the policy is
 * compiled with the running guests (cgp_policy_compile_running); everything
 * after it reads that result. */
#include "guests-int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Does the pidfile at path (under the root directory root_fd) hold pid? */
static bool pidfile_holds(int root_fd, const char *path, int pid)
{
    while (*path == '/')
        path++;
    char *s CGP_AUTOFREE = NULL;
    ssize_t n = *path ? cgp_read_file(root_fd, path, 4096, &s) : -EINVAL;
    int64_t v;
    return n > 0 && cgp_parse_i64(s, &v) == 0 && v == pid;
}

bool cgp_match_holds(int root_fd, const struct cgp_guest *g, const struct cgp_match *m, size_t n)
{
    if (!g || !n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *v = m[i].value;
        if (!v)
            return false;
        bool ok = false;
        switch (m[i].kind) {
        case CGP_MATCH_NAME:
            ok = g->name && !strcmp(g->name, v);
            break;
        case CGP_MATCH_UUID:
            ok = g->uuid && !strcasecmp(g->uuid, v);
            break;
        case CGP_MATCH_PIDFILE:
            ok = (g->pidfile && !strcmp(g->pidfile, v)) || (root_fd >= 0 && pidfile_holds(root_fd, v, g->pid));
            break;
        case CGP_MATCH_QMP:
            ok = g->qmp && !strcmp(g->qmp, v);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

CGP_EXPORT bool cgp_guest_matches(cgp_ctx *ctx, const struct cgp_guest *g, const struct cgp_guest_placement *gp)
{
    if (!g || !gp)
        return false;
    if (!gp->n_matches)
        return g->name && gp->name && !strcmp(g->name, gp->name);
    return cgp_match_holds(ctx ? ctx->root_fd : -1, g, gp->matches, gp->n_matches);
}
