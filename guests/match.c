/* Which policy block a QEMU process is (spec §5): the match lines of a block
 * against what discovery read. The pipeline matches once, when the policy is
 * compiled with the running guests (cgp_policy_compile_running); everything
 * after it reads that result. */
#include "guests-int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

/* Does the pidfile at path (absolute, under the root directory root_fd)
 * hold pid, and could only root have written it? The -pidfile argument
 * alone proves nothing: any process can name any file. */
static bool pidfile_holds(int root_fd, const char *path, int pid)
{
    if (root_fd < 0 || path[0] != '/')
        return false;
    const char *slash = strrchr(path, '/');
    if (!slash[1])
        return false;
    char *dir CGP_AUTOFREE = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (!dir)
        return false;
    int dfd CGP_AUTOCLOSE = cgp_trust_open_in_root(root_fd, dir, O_DIRECTORY);
    char why[160];
    if (dfd < 0 || cgp_trust_file_ok(dfd, slash + 1, why, sizeof why) != 1)
        return false;
    char *s CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_file(dfd, slash + 1, 4096, &s);
    int64_t v;
    return n > 0 && cgp_parse_i64(s, &v) == 0 && v == pid;
}

/* Every known uid of g is user's (a name under the sysroot, or a uid). */
static bool user_holds(int root_fd, const struct cgp_guest *g, const char *user)
{
    long long uid = cgp_trust_user_uid(root_fd, user);
    if (uid < 0)
        return false;
    for (int i = 0; i < 4; i++)
        if (g->uids[i] != uid)
            return false;
    return true;
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
            ok = pidfile_holds(root_fd, v, g->pid);
            break;
        case CGP_MATCH_USER:
            ok = user_holds(root_fd, g, v);
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
