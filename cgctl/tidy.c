/* Removing the groups cgplace made that the placement no longer has: a
 * running guest's threaded children it does not want any more (vcpu3 after
 * `vcpus 2`, an I/O thread's group after the I/O thread went, the children
 * of a guest no longer split per thread), and under the cgroupfs backend
 * the group of a policy guest that is not running and the group under
 * PARENT, named for no guest, that a running guest's process leaves (the
 * guest was renamed). systemd collects its
 * scopes itself; libvirt's groups are libvirt's.
 *
 * Only what is empty once the plan has run is removed: a child whose every
 * thread is one of the guest's that the plan moves elsewhere, a group of a
 * stopped guest that the kernel says holds no task (cgroup.events
 * "populated 0"), neither with a group of its own below. The removals run
 * last, after the read-back proved the placement, and never fail the run: a
 * group that filled up in between stays (the kernel refuses to remove a
 * populated group) and a warning says so. Nothing to roll back: what is
 * removed is empty and no longer wanted. verify plans none (a stale empty
 * group is no drift). */
#include "cgctl-int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIDY_MAX_IDS 65536   /* a cgroup.threads larger than this is not ours to clear */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The subdirectories of group path (arena strings, full paths, sorted: the
 * plan reads the same on every run): 0, -ENOENT
 * when the group is absent, -errno. */
static int children(cgp_enforce *e, const char *path, const char ***out, size_t *n_out)
{
    int dfd = cgctl_fs_dir(&e->be, path);
    if (dfd < 0)
        return dfd;
    DIR *d;
    int r = cgp_opendir_fd(dfd, &d);
    if (r < 0)
        return r;
    rewinddir(d);
    const char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        bool dir = de->d_type == DT_DIR;
        struct stat st;
        if (de->d_type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            dir = S_ISDIR(st.st_mode);
        if (!dir)
            continue;
        const char *p = cgp_arena_printf(&e->arena, "%s%s%s", path, *path ? "/" : "", de->d_name);
        if (!p || !CGP_GROW(v, n, cap)) {
            r = -ENOMEM;
            break;
        }
        v[n++] = p;
    }
    closedir(d);
    if (r < 0 || (v && !cgp_arena_keep(&e->arena, v, free))) {
        free(v);
        return r < 0 ? r : -ENOMEM;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *n_out = n;
    return 0;
}

/* Every thread in group path is one of guest gi's that the plan puts
 * somewhere else. Unreadable: false. */
static bool emptied_by_plan(cgp_enforce *e, size_t gi, const char *path)
{
    int dfd = cgctl_fs_dir(&e->be, path);
    char *ids CGP_AUTOFREE = NULL;
    if (dfd < 0 || cgp_read_file(dfd, "cgroup.threads", TIDY_MAX_IDS * 12, &ids) < 0)
        return false;
    for (char *s = ids, *end; *s; s = end) {
        long tid = strtol(s, &end, 10);
        if (end == s || tid <= 0)
            return false;
        bool moves = false;
        for (size_t i = 0; i < e->n_t && !moves; i++)
            moves = e->t[i].gi == (int)gi && e->t[i].tid == tid && e->t[i].cg && !cgctl_under(e->t[i].cg, path);
        if (!moves)
            return false;
        while (*end == '\n' || *end == ' ')
            end++;
    }
    return true;
}

/* The kernel says no task is in group path or below (cgroup.events). */
static bool unpopulated(cgp_enforce *e, const char *path)
{
    int dfd = cgctl_fs_dir(&e->be, path);
    char *ev CGP_AUTOFREE = NULL;
    if (dfd < 0 || cgp_read_one(dfd, "cgroup.events", 4096, &ev) < 0)
        return false;
    const char *p = strstr(ev, "populated ");
    return p && (p == ev || p[-1] == '\n') && p[10] == '0';
}

static int plan_remove(cgp_enforce *e, int gi, const char *path)
{
    struct eop *o = cgctl_add_op(e, &e->be, gi, CGCTL_REMOVE, path, NULL, NULL);
    if (!o)
        return -ENOMEM;
    o->tidy = true;
    return 0;
}

/* A running guest's children that its desired groups do not name. */
static int tidy_running(cgp_enforce *e, size_t gi)
{
    const struct eguest *g = &e->g[gi];
    const struct cgn *G = &e->cg[g->cg_first];
    if (!G->live.exists || G->created)
        return 0;
    const char **kids = NULL;
    size_t n = 0;
    int r = children(e, G->path, &kids, &n);
    if (r < 0)
        return r == -ENOMEM ? r : 0;
    for (size_t i = 0; i < n; i++) {
        bool wanted = false;
        for (size_t k = 1; k < g->cg_n && !wanted; k++)
            wanted = !strcmp(e->cg[g->cg_first + k].path, kids[i]);
        const char **sub = NULL;
        size_t n_sub = 0;
        if (wanted || children(e, kids[i], &sub, &n_sub) < 0 || n_sub || !emptied_by_plan(e, gi, kids[i]))
            continue;
        if ((r = plan_remove(e, (int)gi, kids[i])) < 0)
            return r;
    }
    return 0;
}

/* Group path and its children (none with a group below) of guest gi,
 * children first, when they are empty: by the kernel's word (kernel:
 * cgroup.events) or once the plan has moved gi's threads out
 * (cgroup.threads). */
static int tidy_subtree(cgp_enforce *e, size_t gi, const char *path, bool kernel)
{
    const char **kids = NULL;
    size_t n = 0;
    if (children(e, path, &kids, &n) < 0 || !(kernel ? unpopulated(e, path) : emptied_by_plan(e, gi, path)))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char **sub = NULL;
        size_t n_sub = 0;
        if (children(e, kids[i], &sub, &n_sub) < 0 || n_sub || (!kernel && !emptied_by_plan(e, gi, kids[i])))
            return 0;
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = plan_remove(e, (int)gi, kids[i]);
    return r < 0 ? r : plan_remove(e, (int)gi, path);
}

/* The group of a policy guest that is not running (cgroupfs), when the
 * kernel says nothing runs there. */
static int tidy_stopped(cgp_enforce *e, size_t gi)
{
    const char *path = gi < e->want.n ? e->want.g[gi].path : NULL;
    return path ? tidy_subtree(e, gi, path, true) : 0;
}

/* A running guest whose process the plan moves out of another group under
 * PARENT that is named for no guest of the policy (cgroupfs: the guest was
 * renamed, or matched by another block): that group goes too, once every
 * thread in it has left. */
static int tidy_renamed(cgp_enforce *e, size_t gi)
{
    if (e->be.ops != &cgctl_backend_cgroupfs || e->want.n_shared < 2)
        return 0;
    const char *parent = e->want.shared[e->want.n_shared - 1];
    size_t pl = strlen(parent);
    for (size_t i = 0; i < e->n_op; i++) {
        const struct eop *o = &e->op[i];
        if (o->gi != (int)gi || o->act != CGCTL_MOVE_PROCESS || !o->has_undo || !o->upath ||
            strncmp(o->upath, parent, pl) || o->upath[pl] != '/')
            continue;
        const char *x = o->upath + pl + 1;
        size_t xl = strcspn(x, "/");
        for (size_t k = 0; k < e->n_g; k++)
            if (strlen(e->g[k].pub.name) == xl && !strncmp(e->g[k].pub.name, x, xl))
                return 0;   /* another guest's place: that guest's business */
        const char *root = cgp_arena_printf(&e->arena, "%.*s", (int)(pl + 1 + xl), o->upath);
        return root ? tidy_subtree(e, gi, root, false) : -ENOMEM;
    }
    return 0;
}

int cgctl_tidy_plan(cgp_enforce *e)
{
    bool fs = e->be.ops == &cgctl_backend_cgroupfs;
    if (e->no_tidy || e->sum.outcome != CGP_ENFORCE_OK || !(fs || e->be.ops == &cgctl_backend_systemd))
        return 0;
    int r = 0;
    for (size_t gi = 0; gi < e->n_g && r == 0; gi++) {
        const struct eguest *g = &e->g[gi];
        if (g->managed && g->pub.state != CGP_GUEST_VANISHED) {
            if ((r = tidy_running(e, gi)) == 0)
                r = tidy_renamed(e, gi);
        }
        else if (fs && !g->managed && !g->lv && !g->pub.proc && g->pub.state == CGP_GUEST_NOT_RUNNING)
            r = tidy_stopped(e, gi);
    }
    return r == -ENOMEM ? r : 0;
}
