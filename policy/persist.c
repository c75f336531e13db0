/* --persist: a runtime change written into the guest's block of the policy
 * file, as a text edit of the statement it changes (or one new statement
 * before the block's '}'), so comments, layout and includes stay. The new
 * text must parse and compile against the host before anything is written;
 * it goes to a temporary file in the same directory (fsync'd), and only
 * cgp_persist_commit renames it over the file. */
#include "policy-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cgp_persist {
    int dirfd;
    char *tmp, *base;      /* names in dirfd */
    char *file;            /* the file rewritten (the block's, maybe an included one) */
    bool committed;
};

struct edit {
    size_t at, del;
    char *ins;
};

struct text {
    char *s;
    size_t n;
    struct edit e[4];
    size_t n_e;
};

static int add_edit(struct text *t, size_t at, size_t del, char *ins)
{
    if (!ins)
        return -ENOMEM;
    t->e[t->n_e++] = (struct edit){ at, del, ins };
    return 0;
}

static size_t offset_of(const struct text *t, const struct pol_loc *l)
{
    size_t off = 0;
    for (unsigned line = 1; line < l->line && off < t->n; off++)
        line += t->s[off] == '\n';
    return off + l->col - 1 < t->n ? off + l->col - 1 : t->n;
}

/* Skip blanks and # comments from i. */
static size_t skip_space(const struct text *t, size_t i)
{
    while (i < t->n) {
        if (t->s[i] == '#')
            while (i < t->n && t->s[i] != '\n')
                i++;
        else if (t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\n' || t->s[i] == '\r')
            i++;
        else
            break;
    }
    return i;
}

/* The end of the word or quoted string at i. */
static size_t token_end(const struct text *t, size_t i)
{
    if (i < t->n && t->s[i] == '"') {
        for (i++; i < t->n && t->s[i] != '"'; i++)
            i += t->s[i] == '\\';
        return i < t->n ? i + 1 : i;
    }
    while (i < t->n && !strchr(" \t\r\n;{}#", t->s[i]))
        i++;
    return i;
}

/* The tokens of the statement starting at loc, up to its ';': their starts
 * and ends. Count. */
static size_t statement(const struct text *t, const struct pol_loc *loc, size_t *start, size_t *end, size_t max)
{
    size_t n = 0;
    for (size_t i = offset_of(t, loc); n < max;) {
        i = skip_space(t, i);
        if (i >= t->n || t->s[i] == ';' || t->s[i] == '{' || t->s[i] == '}')
            break;
        start[n] = i;
        end[n] = i = token_end(t, i);
        n++;
    }
    return n;
}

static bool token_is(const struct text *t, size_t a, size_t b, const char *w)
{
    return b - a == strlen(w) && !memcmp(t->s + a, w, b - a);
}

/* Replace token k of the statement at loc by value. */
static int replace_token(struct text *t, const struct pol_loc *loc, size_t k, const char *value)
{
    size_t a[8], b[8];
    if (statement(t, loc, a, b, 8) <= k)
        return -EINVAL;
    return add_edit(t, a[k], b[k] - a[k], strdup(value));
}

/* A new statement before the '}' that closes the block at loc, indented
 * like the block's other lines. */
static int append_statement(struct text *t, const struct pol_loc *loc, const char *stmt)
{
    size_t i = offset_of(t, loc);
    int depth = 0;
    for (; i < t->n; i++) {
        i = skip_space(t, i);
        if (i >= t->n)
            break;
        if (t->s[i] == '"') {
            i = token_end(t, i) - 1;
        } else if (t->s[i] == '{') {
            depth++;
        } else if (t->s[i] == '}' && --depth == 0) {
            break;
        }
    }
    if (i >= t->n)
        return -EINVAL;
    size_t bol = i;
    while (bol > 0 && (t->s[bol - 1] == ' ' || t->s[bol - 1] == '\t'))
        bol--;
    if (bol > 0 && t->s[bol - 1] == '\n') {
        /* '}' alone on its line: a line of its own, indented like the one above */
        size_t prev = bol - 1, p0 = prev;
        while (p0 > 0 && t->s[p0 - 1] != '\n')
            p0--;
        size_t ind = strspn(t->s + p0, " \t");
        if (ind > prev - p0 || ind > 64)
            ind = 4;
        char *s = NULL;
        return add_edit(t, bol, 0, asprintf(&s, "%.*s%s\n", (int)ind, t->s + p0, stmt) < 0 ? NULL : s);
    }
    char *s = NULL;
    return add_edit(t, i, 0, asprintf(&s, "%s ", stmt) < 0 ? NULL : s);
}

static int edit_pin(struct text *t, const struct pol_guest *g, const struct cgp_runtime_change *chg,
                    const char *list)
{
    char *stmt = NULL;
    int r;
    if (chg->what == CGP_CHANGE_EMULATOR) {
        if (g->emulatorpin)
            return replace_token(t, &g->emu_loc, 1, list);
        r = asprintf(&stmt, "emulatorpin %s;", list);
    } else if (chg->what == CGP_CHANGE_VCPU) {
        for (size_t k = 0; k < g->n_vcpupins; k++) {
            const cgp_bitmap *v = g->vcpupins[k].vcpus;
            if (cgp_bitmap_count(v) == 1 && cgp_bitmap_test(v, (unsigned)chg->vcpu))
                return replace_token(t, &g->vcpupins[k].loc, 2, list);
        }
        r = asprintf(&stmt, "vcpupin %d %s;", chg->vcpu, list);
    } else {
        for (size_t k = 0; k < g->n_iopins; k++) {
            const char *id = g->iopins[k].id, *want = chg->iothread;
            const char *a = strncmp(id, "iothread", 8) ? id : id + 8, *b = strncmp(want, "iothread", 8) ? want : want + 8;
            if (!strcmp(id, want) || (*a && !strcmp(a, b) && strspn(a, "0123456789") == strlen(a)))
                return replace_token(t, &g->iopins[k].loc, 2, list);
        }
        r = asprintf(&stmt, "iothreadpin %s %s;", chg->iothread, list);
    }
    if (r < 0)
        return -ENOMEM;
    r = append_statement(t, &g->loc, stmt);
    free(stmt);
    return r;
}

/* memory SIZE [nodes X] [mode M]: the nodes (and the mode) replaced or added. */
static int edit_memory(struct text *t, const struct pol_guest *g, const struct cgp_runtime_change *chg,
                       const char *list, cgp_diags *d)
{
    if (!g->has_memory)
        return pol_error(d, &g->loc, "guest '%s' has no 'memory' statement to write the nodes into", g->name)
               ?: -EINVAL;
    size_t a[8], b[8], n = statement(t, &g->mem_loc, a, b, 8);
    size_t nodes = 0, mode = 0;
    for (size_t k = 2; k + 1 < n; k++) {
        nodes = token_is(t, a[k], b[k], "nodes") ? k + 1 : nodes;
        mode = token_is(t, a[k], b[k], "mode") ? k + 1 : mode;
    }
    if (n < 2)
        return -EINVAL;
    int r;
    char *s = NULL;
    if (nodes)
        r = add_edit(t, a[nodes], b[nodes] - a[nodes], strdup(list));
    else
        r = add_edit(t, b[1], 0, asprintf(&s, " nodes %s", list) < 0 ? NULL : s);
    if (r < 0 || !chg->set_mode)
        return r;
    const char *m = cgp_mem_mode_name(chg->mode);
    s = NULL;
    if (mode)
        return add_edit(t, a[mode], b[mode] - a[mode], strdup(m));
    return add_edit(t, nodes ? b[nodes] : b[1], 0, asprintf(&s, " mode %s", m) < 0 ? NULL : s);
}

static int cmp_edit(const void *x, const void *y)
{
    const struct edit *a = x, *b = y;
    return a->at < b->at ? 1 : a->at > b->at ? -1 : 0;
}

/* The edits applied, last first: a new malloc'd text. */
static char *apply_edits(struct text *t, size_t *len)
{
    qsort(t->e, t->n_e, sizeof *t->e, cmp_edit);
    size_t n = t->n;
    for (size_t k = 0; k < t->n_e; k++)
        n += strlen(t->e[k].ins);
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    memcpy(o, t->s, t->n);
    n = t->n;
    for (size_t k = 0; k < t->n_e; k++) {
        const struct edit *e = &t->e[k];
        size_t il = strlen(e->ins);
        memmove(o + e->at + il, o + e->at + e->del, n - e->at - e->del);
        memcpy(o + e->at, e->ins, il);
        n = n - e->del + il;
    }
    o[n] = '\0';
    *len = n;
    return o;
}

static ssize_t read_all(int dirfd, const char *name, char **out, mode_t *mode)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    char *b = NULL;
    ssize_t n = fstat(fd, &st) < 0 ? -errno
              : !S_ISREG(st.st_mode) || st.st_size > (off_t)CGP_POLICY_MAX_FILE ? -EINVAL
              : (b = malloc((size_t)st.st_size + 1)) ? 0 : -ENOMEM;
    for (size_t o = 0; n == 0 && o < (size_t)st.st_size;) {
        ssize_t k = pread(fd, b + o, (size_t)st.st_size - o, (off_t)o);
        n = k < 0 ? -errno : k == 0 ? -EIO : 0;
        o += k > 0 ? (size_t)k : 0;
    }
    close(fd);
    if (n < 0) {
        free(b);
        return n;
    }
    b[st.st_size] = '\0';
    *mode = st.st_mode & 07777;
    *out = b;
    return (ssize_t)st.st_size;
}

/* The rewritten text must make a valid policy on this host. */
static int check_text(const char *name, const char *buf, size_t len, const cgp_topology *t, cgp_diags *d)
{
    cgp_policy *p = NULL;
    cgp_placement *pl = NULL;
    int r = cgp_policy_parse_buffer(name, buf, len, d, &p);
    if (r == 0)
        r = cgp_policy_compile(p, t, d, &pl);
    cgp_placement_free(pl);
    cgp_policy_free(p);
    return r;
}

static int write_tmp(struct cgp_persist *ps, const char *buf, size_t len, mode_t mode)
{
    int fd = openat(ps->dirfd, ps->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return -errno;
    int r = 0;
    for (size_t o = 0; r == 0 && o < len;) {
        ssize_t w = write(fd, buf + o, len - o);
        r = w < 0 ? -errno : 0;
        o += w > 0 ? (size_t)w : 0;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r < 0)
        unlinkat(ps->dirfd, ps->tmp, 0);
    return r;
}

CGP_EXPORT void cgp_persist_free(cgp_persist *ps)
{
    if (!ps)
        return;
    if (!ps->committed && ps->dirfd >= 0 && ps->tmp)
        unlinkat(ps->dirfd, ps->tmp, 0);
    if (ps->dirfd >= 0)
        close(ps->dirfd);
    free(ps->tmp);
    free(ps->base);
    free(ps->file);
    free(ps);
}

CGP_EXPORT const char *cgp_persist_file(const cgp_persist *ps)
{
    return ps ? ps->file : NULL;
}

static int prepare(const cgp_policy *p, const char *path, const struct pol_guest *g,
                   const struct cgp_runtime_change *chg, const cgp_topology *t, cgp_diags *d, struct cgp_persist *ps)
{
    char *dir = strdup(g->loc.file), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!dir)
        return -ENOMEM;
    const char *base = slash ? slash + 1 : dir;
    if (slash)
        *slash = '\0';
    ps->dirfd = open(slash ? (*dir ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ps->base = strdup(base);
    ps->file = strdup(g->loc.file);
    free(dir);
    if (ps->dirfd < 0)
        return -errno;
    if (!ps->base || !ps->file || asprintf(&ps->tmp, ".%s.cgplace-%d", ps->base, (int)getpid()) < 0)
        return -ENOMEM;
    struct text tx = { 0 };
    mode_t mode = 0644;
    ssize_t n = read_all(ps->dirfd, ps->base, &tx.s, &mode);
    if (n < 0)
        return (int)n;
    tx.n = (size_t)n;
    char *list = cgp_bitmap_format(chg->set);
    int r = !list ? -ENOMEM : chg->what == CGP_CHANGE_MEMS ? edit_memory(&tx, g, chg, list, d) : edit_pin(&tx, g, chg, list);
    size_t len = 0;
    char *out = r == 0 ? apply_edits(&tx, &len) : NULL;
    if (r == 0 && !out)
        r = -ENOMEM;
    /* the file that holds the block is checked whole: the top-level policy
     * (includes and all), or an included file on its own */
    if (r == 0)
        r = check_text(strcmp(g->loc.file, path) ? g->loc.file : path, out, len, t, d);
    if (r == 0)
        r = write_tmp(ps, out, len, mode);
    for (size_t k = 0; k < tx.n_e; k++)
        free(tx.e[k].ins);
    free(tx.s);
    free(list);
    free(out);
    (void)p;
    return r;
}

CGP_EXPORT int cgp_persist_prepare(const char *path, const char *guest, const struct cgp_runtime_change *chg,
                                   const cgp_topology *t, cgp_diags *d, cgp_persist **out)
{
    if (!path || !guest || !chg || !t || !d || !out || !chg->set ||
        (chg->what != CGP_CHANGE_VCPU && chg->what != CGP_CHANGE_EMULATOR && chg->what != CGP_CHANGE_IOTHREAD &&
         chg->what != CGP_CHANGE_MEMS))
        return -EINVAL;
    cgp_policy *p = NULL;
    int r = cgp_policy_parse_file(path, d, &p);
    if (r < 0)
        return r;
    const struct pol_guest *g = NULL;
    for (size_t i = 0; i < p->n_guests && !g; i++)
        if (!strcmp(p->guests[i].name, guest))
            g = &p->guests[i];
    struct cgp_persist *ps = calloc(1, sizeof *ps);
    if (!ps)
        r = -ENOMEM;
    else if (!g)
        r = pol_error(d, NULL, "%s: no guest block '%s' to write the change into", path, guest) ?: -ENOENT;
    else
        ps->dirfd = -1, r = prepare(p, path, g, chg, t, d, ps);
    cgp_policy_free(p);
    if (r < 0) {
        cgp_persist_free(ps);
        return r;
    }
    *out = ps;
    return 0;
}

CGP_EXPORT int cgp_persist_commit(cgp_persist *ps)
{
    if (!ps || ps->committed)
        return -EINVAL;
    if (renameat(ps->dirfd, ps->tmp, ps->dirfd, ps->base) < 0)
        return -errno;
    ps->committed = true;
    return fsync(ps->dirfd) < 0 ? -errno : 0;   /* the rename itself on disk */
}
