/* Where a guest's memory is (numa_maps), and moving what a cpuset move left
 * behind (migrate_pages(2)). */
#include "cgctl-int.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#define MAX_NODE 4096

/* Anonymous pages: a private file mapping mixes COW pages with shared page
 * cache, which is not the guest's to migrate. */
int cgctl_read_numa_maps(cgp_ctx *ctx, int pid, uint64_t **pages, size_t *n_nodes)
{
    char rel[64];
    snprintf(rel, sizeof rel, "proc/%d/numa_maps", pid);
    char *buf CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_file(ctx->root_fd, rel, 64u << 20, &buf);
    if (n < 0)
        return (int)n;
    uint64_t *pg CGP_AUTOFREE = calloc(2 * MAX_NODE, sizeof *pg);
    if (!pg)
        return -ENOMEM;
    size_t top = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        bool anon = strstr(line, " anon=") != NULL && !strstr(line, " file=");
        for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (tok[0] != 'N' || !isdigit((unsigned char)tok[1]))
                continue;
            char *eq = strchr(tok, '=');
            if (!eq)
                continue;
            *eq = '\0';
            int64_t node;
            uint64_t cnt;
            if (cgp_parse_i64(tok + 1, &node) < 0 || node < 0 || node >= MAX_NODE || cgp_parse_u64(eq + 1, &cnt) < 0)
                continue;
            pg[node] = cgp_sat_add(pg[node], cnt);
            if (anon)
                pg[MAX_NODE + node] = cgp_sat_add(pg[MAX_NODE + node], cnt);
            if ((size_t)node + 1 > top)
                top = (size_t)node + 1;
        }
    }
    uint64_t *out = calloc(2 * (top ? top : 1), sizeof *out);
    if (!out)
        return -ENOMEM;
    memcpy(out, pg, top * sizeof *out);
    memcpy(out + top, pg + MAX_NODE, top * sizeof *out);
    *pages = out;
    *n_nodes = top;
    return 0;
}

/* Anonymous pages of pid outside mems: *outside gets the nodes that hold
 * some, the return value their count (or -errno). */
static long long pages_outside(cgp_ctx *ctx, int pid, const cgp_bitmap *mems, cgp_bitmap *outside)
{
    uint64_t *pg CGP_AUTOFREE = NULL;
    size_t top = 0;
    int r = cgctl_read_numa_maps(ctx, pid, &pg, &top);
    if (r < 0)
        return r;
    long long total = 0;
    for (size_t node = 0; node < top; node++) {
        uint64_t anon = pg[top + node];
        if (!anon || cgp_bitmap_test(mems, (unsigned)node))
            continue;
        total += (long long)anon;
        if (cgp_bitmap_set(outside, (unsigned)node) < 0)
            return -ENOMEM;
    }
    return total;
}

/* Moving a process into a cpuset migrates its pages, but the kernel skips
 * pages it cannot move at that instant (and threads may fault pages in while
 * their nodemask changes). Finish the job with migrate_pages(2), as
 * numactl's migratepages does, so verify finds the memory where it belongs. */
void cgctl_migrate_leftovers(cgp_enforce *e, size_t gi)
{
    struct eguest *g = &e->g[gi];
    const cgp_bitmap *mems = g->gp->mems;
    /* Only a process pinned by a pidfd on the live host (never a fixture's pid),
     * and still the one we placed. */
    if (g->pub.proc->pidfd < 0 || cgp_guest_alive(e->ctx, g->pub.proc) < 0)
        return;
    cgp_bitmap *from CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!from || !mems || cgp_bitmap_is_empty(mems))
        return;
    long long n = pages_outside(e->ctx, g->pub.proc->pid, mems, from);
    if (n <= 0)
        return;
    int top = cgp_bitmap_last(from) > cgp_bitmap_last(mems) ? cgp_bitmap_last(from) : cgp_bitmap_last(mems);
    size_t words = (size_t)top / (8 * sizeof(unsigned long)) + 1;
    unsigned long *fm = calloc(words, sizeof *fm), *tm = calloc(words, sizeof *tm);
    if (fm && tm) {
        cgp_bitmap_foreach(from, b)
            fm[(size_t)b / (8 * sizeof *fm)] |= 1UL << ((size_t)b % (8 * sizeof *fm));
        cgp_bitmap_foreach(mems, b)
            tm[(size_t)b / (8 * sizeof *tm)] |= 1UL << ((size_t)b % (8 * sizeof *tm));
        long left = syscall(SYS_migrate_pages, g->pub.proc->pid, (unsigned long)top + 2, fm, tm);
        int err = errno;
        char *fs CGP_AUTOFREE = cgp_bitmap_format(from);
        char *ts CGP_AUTOFREE = cgp_bitmap_format(mems);
        if (left < 0)
            cgctl_msgf(&e->msgs, CGP_MSG_WARNING, g->pub.name, g->pub.proc->pid,
                       "%lld pages remain on nodes %s outside %s: migrate_pages: %s", n, fs ? fs : "?",
                       ts ? ts : "?", strerror(err));
        else
            cgctl_msgf(&e->msgs, CGP_MSG_INFO, g->pub.name, g->pub.proc->pid,
                       "moved %lld leftover pages from nodes %s to %s%s", n, fs ? fs : "?", ts ? ts : "?",
                       left > 0 ? " (some could not be moved)" : "");
    }
    free(fm);
    free(tm);
}

