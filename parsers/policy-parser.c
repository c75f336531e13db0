/* Recursive-descent parser of the policy language (spec §3).
 *
 * Every error is reported with the location of the token at fault and what
 * was expected; after an error the parser skips to the end of the statement
 * (';' or the '}' closing the block) and goes on, so all errors of a file are
 * reported, up to CGP_POLICY_MAX_ERRORS. */
#include "policy-lexer.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SKIP_NESTING 64

struct incframe {
    dev_t dev;
    ino_t ino;
};

struct parser {
    struct pol_lexer lx;
    struct pol_token tok;
    cgp_policy *p;
    cgp_diags *d;
    int depth;                /* include depth of this file (0: top) */
    struct incframe *stack;   /* [depth + 1] files being read */
    int err;                  /* -ENOMEM once it happened */
    bool stop;                /* abandon this file */
};

static int parse_buffer(cgp_policy *p, cgp_diags *d, const char *file, const char *buf,
                        size_t len, int depth, struct incframe *stack);

/* ------------------------------------------------------------------ */

bool pol_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return false;
    }
    return true;
}

static void pin_clear(struct pol_pin *pn)
{
    cgp_bitmap_free(pn->vcpus);
    cgp_bitmap_free(pn->cpus);
    free(pn->id);
}

void pol_guest_clear(struct pol_guest *g)
{
    free(g->name);
    for (size_t i = 0; i < g->n_matches; i++)
        free(g->matches[i].value);
    free(g->matches);
    cgp_bitmap_free(g->cpus);
    cgp_bitmap_free(g->nodes);
    for (size_t i = 0; i < g->n_vcpupins; i++)
        pin_clear(&g->vcpupins[i]);
    free(g->vcpupins);
    for (size_t i = 0; i < g->n_iopins; i++)
        pin_clear(&g->iopins[i]);
    free(g->iopins);
    for (size_t i = 0; i < g->n_cells; i++) {
        cgp_bitmap_free(g->cells[i].vcpus);
        cgp_bitmap_free(g->cells[i].nodes);
    }
    free(g->cells);
    cgp_bitmap_free(g->emulatorpin);
    memset(g, 0, sizeof *g);
}

CGP_EXPORT void cgp_policy_free(cgp_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_guests; i++)
        pol_guest_clear(&p->guests[i]);
    free(p->guests);
    for (size_t i = 0; i < p->n_files; i++)
        free(p->files[i]);
    free(p->files);
    cgp_bitmap_free(p->host.reserve_cpus);
    free(p->host.parent);
    free(p);
}

CGP_EXPORT size_t cgp_policy_n_guests(const cgp_policy *p)
{
    return p ? p->n_guests : 0;
}

CGP_EXPORT int cgp_policy_set_running(cgp_policy *p, const char *name, bool running)
{
    for (size_t i = 0; i < p->n_guests; i++) {
        if (!strcmp(p->guests[i].name, name)) {
            p->guests[i].running = running;
            return 0;
        }
    }
    return -ENOENT;
}

static const char *intern_file(cgp_policy *p, const char *name)
{
    char **v = realloc(p->files, (p->n_files + 1) * sizeof *v);
    if (!v)
        return NULL;
    p->files = v;
    if (!(v[p->n_files] = strdup(name)))
        return NULL;
    return v[p->n_files++];
}

/* ------------------------------------------------------------------ */
/* Token helpers                                                        */
/* ------------------------------------------------------------------ */

static void advance(struct parser *ps)
{
    pol_token_clear(&ps->tok);
    if (ps->err)
        return;
    int r = pol_lex_next(&ps->lx, &ps->tok);
    if (r < 0) {
        ps->err = r;
        ps->tok.kind = POL_TOK_EOF;
    }
}

static void oom_check(struct parser *ps, int r)
{
    if (r < 0 && !ps->err)
        ps->err = r;
}

#define ERR(ps, loc, ...) oom_check((ps), pol_error((ps)->d, (loc), __VA_ARGS__))
#define WARN(ps, loc, ...) oom_check((ps), pol_warn((ps)->d, (loc), __VA_ARGS__))

/* Human description of the current token, for "got ..." */
static const char *tok_desc(const struct pol_token *t, char *buf, size_t n)
{
    switch (t->kind) {
    case POL_TOK_EOF: return "end of file";
    case POL_TOK_SEMI: return "';'";
    case POL_TOK_LBRACE: return "'{'";
    case POL_TOK_RBRACE: return "'}'";
    case POL_TOK_ERROR: return "an invalid token";
    case POL_TOK_WORD:
        snprintf(buf, n, "'%.40s%s'", t->text, t->len > 40 ? "..." : "");
        return buf;
    case POL_TOK_STRING:
        snprintf(buf, n, "string \"%.40s%s\"", t->text, t->len > 40 ? "..." : "");
        return buf;
    }
    return "?";
}

/* Report "expected WHAT, got TOKEN" at the current token (silently when the
 * token is a lexical error, which was reported already). */
static void expected(struct parser *ps, const char *what)
{
    if (ps->tok.kind == POL_TOK_ERROR)
        return;
    char b[64];
    ERR(ps, &ps->tok.loc, "expected %s, got %s", what, tok_desc(&ps->tok, b, sizeof b));
}

/* Skip to the end of the current statement: past the next ';' at this
 * level, or up to (not past) the '}' that closes the enclosing block. */
static void sync_stmt(struct parser *ps)
{
    int nest = 0;
    for (;;) {
        switch (ps->tok.kind) {
        case POL_TOK_EOF:
            return;
        case POL_TOK_SEMI:
            if (nest == 0) {
                advance(ps);
                return;
            }
            break;
        case POL_TOK_LBRACE:
            if (++nest > MAX_SKIP_NESTING) {
                ERR(ps, &ps->tok.loc, "blocks nested too deeply (more than %d levels)",
                    MAX_SKIP_NESTING);
                ps->stop = true;
                return;
            }
            break;
        case POL_TOK_RBRACE:
            if (nest == 0)
                return;
            if (--nest == 0) {
                advance(ps);
                return;  /* a skipped block ends the statement */
            }
            break;
        default:
            break;
        }
        advance(ps);
    }
}

static bool is_word(const struct parser *ps, const char *w)
{
    return ps->tok.kind == POL_TOK_WORD && !strcmp(ps->tok.text, w);
}

static bool is_value(const struct parser *ps)
{
    return ps->tok.kind == POL_TOK_WORD || ps->tok.kind == POL_TOK_STRING;
}

/* Expect ';' closing a statement; report and resync otherwise. */
static bool end_stmt(struct parser *ps, const char *after)
{
    if (ps->tok.kind == POL_TOK_SEMI) {
        advance(ps);
        return true;
    }
    char what[96];
    snprintf(what, sizeof what, "';' after %s", after);
    expected(ps, what);
    sync_stmt(ps);
    return false;
}

/* Fail the current statement: report (unless already) and resync. */
static bool fail(struct parser *ps, const char *what)
{
    expected(ps, what);
    sync_stmt(ps);
    return false;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

/* A list (CPUS/NODES/VCPUS) from the current word or string. */
static bool take_list(struct parser *ps, const char *what, cgp_bitmap **out, struct pol_loc *loc)
{
    if (!is_value(ps))
        return fail(ps, what);
    size_t pos = 0;
    cgp_bitmap *b = NULL;
    int r = cgp_bitmap_parse(ps->tok.text, 0, &b, &pos);
    if (r == -ENOMEM) {
        ps->err = r;
        return false;
    }
    struct pol_loc at = ps->tok.loc;
    if (ps->tok.kind == POL_TOK_WORD && pos <= ps->tok.len)
        at.col += (unsigned)pos;
    if (r < 0) {
        ERR(ps, &at, "invalid list '%s': %s", ps->tok.text,
            r == -ERANGE ? "id out of range or a range whose start exceeds its end"
                         : "expected items N, N-M, ^N or ^N-M separated by commas");
        sync_stmt(ps);
        return false;
    }
    if (cgp_bitmap_is_empty(b)) {
        ERR(ps, &ps->tok.loc, "list '%s' is empty", ps->tok.text);
        cgp_bitmap_free(b);
        sync_stmt(ps);
        return false;
    }
    if (loc)
        *loc = ps->tok.loc;
    *out = b;
    advance(ps);
    return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!*s || strlen(s) > 12)
        return false;
    unsigned long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool take_uint(struct parser *ps, const char *what, unsigned long min, unsigned long max,
                      unsigned long *out, struct pol_loc *loc)
{
    if (ps->tok.kind != POL_TOK_WORD)
        return fail(ps, what);
    unsigned long v;
    if (!parse_uint(ps->tok.text, max, &v) || v < min) {
        ERR(ps, &ps->tok.loc, "expected %s (an integer from %lu to %lu), got '%s'", what, min, max,
            ps->tok.text);
        sync_stmt(ps);
        return false;
    }
    if (loc)
        *loc = ps->tok.loc;
    *out = v;
    advance(ps);
    return true;
}

CGP_EXPORT int cgp_parse_size_kib(const char *s, uint64_t *kib, bool *needs_unit)
{
    const char *c = s;
    uint64_t v = 0;
    if (*c < '0' || *c > '9')
        return -EINVAL;
    for (; *c >= '0' && *c <= '9'; c++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    static const struct { const char *u; unsigned shift; } units[] = {
        { "K", 0 }, { "KiB", 0 }, { "M", 10 }, { "MiB", 10 },
        { "G", 20 }, { "GiB", 20 }, { "T", 30 }, { "TiB", 30 },
    };
    if (!*c) {
        if (needs_unit)
            *needs_unit = true;
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcmp(c, units[i].u)) {
            if (v > (UINT64_MAX >> 2) >> units[i].shift)
                return -ERANGE;
            *kib = v << units[i].shift;
            return 0;
        }
    }
    return -EINVAL;
}

static bool take_size(struct parser *ps, const char *what, uint64_t *out)
{
    if (ps->tok.kind != POL_TOK_WORD)
        return fail(ps, what);
    bool needs_unit = false;
    uint64_t v = 0;
    int r = cgp_parse_size_kib(ps->tok.text, &v, &needs_unit);
    if (r == -EINVAL && needs_unit) {
        ERR(ps, &ps->tok.loc,
            "size '%s' needs a unit: K, M, G or T (powers of 1024; KiB, MiB, GiB, TiB accepted)",
            ps->tok.text);
    } else if (r == -ERANGE) {
        ERR(ps, &ps->tok.loc, "size '%s' is too large", ps->tok.text);
    } else if (r < 0) {
        ERR(ps, &ps->tok.loc, "expected %s (an integer with a unit K, M, G or T), got '%s'", what,
            ps->tok.text);
    } else if (v == 0) {
        ERR(ps, &ps->tok.loc, "%s must be larger than 0", what);
        r = -EINVAL;
    }
    if (r < 0) {
        sync_stmt(ps);
        return false;
    }
    *out = v;
    advance(ps);
    return true;
}

static bool take_mode(struct parser *ps, int *mode)
{
    static const char *const modes[] = { "strict", "restrictive", "preferred", "interleave" };
    if (ps->tok.kind == POL_TOK_WORD) {
        for (int i = 0; i < 4; i++) {
            if (!strcmp(ps->tok.text, modes[i])) {
                *mode = i;
                advance(ps);
                return true;
            }
        }
    }
    return fail(ps, "a memory mode (strict, restrictive, preferred or interleave)");
}

static char *loc_str(const struct pol_loc *l)
{
    char *s = NULL;
    if (asprintf(&s, "%s:%u:%u", l->file, l->line, l->col) < 0)
        return NULL;
    return s;
}

/* "duplicate 'X' (first at F:L:C)" */
static void duplicate(struct parser *ps, const struct pol_loc *at, const char *what,
                      const struct pol_loc *first)
{
    char *f CGP_AUTOFREE = loc_str(first);
    ERR(ps, at, "duplicate '%s' (first given at %s)", what, f ? f : "?");
}

/* ------------------------------------------------------------------ */
/* host { }                                                             */
/* ------------------------------------------------------------------ */

static bool host_stmt(struct parser *ps)
{
    struct pol_host *h = &ps->p->host;
    struct pol_loc loc = ps->tok.loc;
    if (is_word(ps, "reserve")) {
        advance(ps);
        if (is_word(ps, "cpus")) {
            advance(ps);
            cgp_bitmap *b = NULL;
            if (!take_list(ps, "a CPU list", &b, NULL))
                return false;
            if (h->reserve_cpus) {
                duplicate(ps, &loc, "reserve cpus", &h->reserve_cpus_loc);
                cgp_bitmap_free(b);
            } else {
                h->reserve_cpus = b;
                h->reserve_cpus_loc = loc;
            }
            return end_stmt(ps, "'reserve cpus LIST'");
        }
        if (is_word(ps, "memory")) {
            advance(ps);
            uint64_t v;
            if (!take_size(ps, "a memory size", &v))
                return false;
            if (h->has_reserve_mem) {
                duplicate(ps, &loc, "reserve memory", &h->reserve_mem_loc);
            } else {
                h->has_reserve_mem = true;
                h->reserve_mem_kib = v;
                h->reserve_mem_loc = loc;
            }
            return end_stmt(ps, "'reserve memory SIZE'");
        }
        return fail(ps, "'cpus' or 'memory' after 'reserve'");
    }
    if (is_word(ps, "parent")) {
        advance(ps);
        if (!is_value(ps))
            return fail(ps, "a cgroup name after 'parent'");
        /* PARENT is a relative cgroup path: NAME components joined by '/' */
        bool ok = ps->tok.len > 0 && ps->tok.len < 256;
        char *copy CGP_AUTOFREE = strdup(ps->tok.text);
        if (!copy) {
            ps->err = -ENOMEM;
            return false;
        }
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); ok && c; c = strtok_r(NULL, "/", &save))
            ok = pol_valid_name(c);
        if (ok)
            ok = ps->tok.text[0] != '/' && ps->tok.text[ps->tok.len - 1] != '/' &&
                 !strstr(ps->tok.text, "//");
        if (!ok) {
            ERR(ps, &ps->tok.loc,
                "invalid parent '%s': expected a relative cgroup path of names made of "
                "[A-Za-z0-9_.-], not starting with '.' or '-'", ps->tok.text);
            sync_stmt(ps);
            return false;
        }
        if (h->parent) {
            duplicate(ps, &loc, "parent", &h->parent_loc);
        } else {
            h->parent = CGP_STEAL(ps->tok.text);
            h->parent_loc = loc;
        }
        advance(ps);
        return end_stmt(ps, "'parent NAME'");
    }
    if (is_word(ps, "unmanaged")) {
        advance(ps);
        int v = -1;
        if (is_word(ps, "ignore"))
            v = CGP_UNMANAGED_IGNORE;
        else if (is_word(ps, "warn"))
            v = CGP_UNMANAGED_WARN;
        else if (is_word(ps, "deny"))
            v = CGP_UNMANAGED_DENY;
        else
            return fail(ps, "'ignore', 'warn' or 'deny' after 'unmanaged'");
        if (h->unmanaged >= 0) {
            duplicate(ps, &loc, "unmanaged", &h->unmanaged_loc);
        } else {
            h->unmanaged = v;
            h->unmanaged_loc = loc;
        }
        advance(ps);
        return end_stmt(ps, "'unmanaged MODE'");
    }
    if (is_word(ps, "overcommit")) {
        advance(ps);
        if (ps->tok.kind != POL_TOK_WORD)
            return fail(ps, "a number after 'overcommit'");
        /* NUMBER: digits with at most 3 decimals, 0 < n <= 1000 */
        const char *s = ps->tok.text;
        unsigned long ip = 0, frac = 0;
        int nfrac = 0;
        bool ok = *s >= '0' && *s <= '9';
        for (; ok && *s >= '0' && *s <= '9'; s++)
            ok = (ip = ip * 10 + (unsigned long)(*s - '0')) <= 1000;
        if (ok && *s == '.') {
            s++;
            ok = *s >= '0' && *s <= '9';
            for (; ok && *s >= '0' && *s <= '9'; s++)
                ok = ++nfrac <= 3 && ((frac = frac * 10 + (unsigned long)(*s - '0')), true);
        }
        for (int i = nfrac; i < 3; i++)
            frac *= 10;
        unsigned long milli = ip * 1000 + frac;
        if (!ok || *s || milli == 0 || milli > 1000000) {
            ERR(ps, &ps->tok.loc,
                "expected a number of vCPUs per host CPU greater than 0 and at most 1000 "
                "(up to 3 decimals), got '%s'", ps->tok.text);
            sync_stmt(ps);
            return false;
        }
        if (h->overcommit_milli) {
            duplicate(ps, &loc, "overcommit", &h->overcommit_loc);
        } else {
            h->overcommit_milli = (unsigned)milli;
            h->overcommit_loc = loc;
        }
        advance(ps);
        return end_stmt(ps, "'overcommit NUMBER'");
    }
    return fail(ps, "a host statement (reserve, parent, unmanaged or overcommit)");
}

/* ------------------------------------------------------------------ */
/* guest NAME { }                                                       */
/* ------------------------------------------------------------------ */

static bool grow(void **v, size_t n, size_t size)
{
    void *nv = realloc(*v, (n + 1) * size);
    if (!nv)
        return false;
    memset((char *)nv + n * size, 0, size);
    *v = nv;
    return true;
}

static bool cell_block(struct parser *ps, struct pol_guest *g)
{
    struct pol_loc loc = ps->tok.loc;
    advance(ps);
    unsigned long idx;
    if (!take_uint(ps, "a cell number", 0, CGP_POLICY_MAX_VCPUS, &idx, NULL))
        return false;
    if (ps->tok.kind != POL_TOK_LBRACE)
        return fail(ps, "'{' after 'cell N'");
    for (size_t i = 0; i < g->n_cells; i++) {
        if (g->cells[i].index == idx) {
            char w[32];
            snprintf(w, sizeof w, "cell %lu", idx);
            duplicate(ps, &loc, w, &g->cells[i].loc);
            sync_stmt(ps);
            return false;
        }
    }
    if (!grow((void **)&g->cells, g->n_cells, sizeof *g->cells)) {
        ps->err = -ENOMEM;
        return false;
    }
    struct pol_cell *c = &g->cells[g->n_cells++];
    c->index = (unsigned)idx;
    c->loc = loc;
    c->mode = -1;
    advance(ps);
    while (!ps->err && !ps->stop && ps->tok.kind != POL_TOK_RBRACE && ps->tok.kind != POL_TOK_EOF) {
        struct pol_loc sl = ps->tok.loc;
        if (is_word(ps, "vcpus")) {
            advance(ps);
            cgp_bitmap *b = NULL;
            struct pol_loc bl;
            if (!take_list(ps, "a vCPU list", &b, &bl))
                continue;
            if (c->vcpus) {
                duplicate(ps, &sl, "vcpus", &c->vcpus_loc);
                cgp_bitmap_free(b);
            } else {
                c->vcpus = b;
                c->vcpus_loc = bl;
            }
            end_stmt(ps, "'vcpus LIST'");
        } else if (is_word(ps, "memory")) {
            advance(ps);
            uint64_t v;
            if (!take_size(ps, "a memory size", &v))
                continue;
            if (!is_word(ps, "nodes")) {
                fail(ps, "'nodes LIST' after the cell's memory size");
                continue;
            }
            advance(ps);
            cgp_bitmap *b = NULL;
            struct pol_loc nl;
            if (!take_list(ps, "a node list", &b, &nl))
                continue;
            int mode = -1;
            if (is_word(ps, "mode")) {
                advance(ps);
                if (!take_mode(ps, &mode)) {
                    cgp_bitmap_free(b);
                    continue;
                }
            }
            if (c->has_memory) {
                duplicate(ps, &sl, "memory", &c->mem_loc);
                cgp_bitmap_free(b);
            } else {
                c->has_memory = true;
                c->memory_kib = v;
                c->nodes = b;
                c->nodes_loc = nl;
                c->mode = mode;
                c->mem_loc = sl;
            }
            end_stmt(ps, "'memory SIZE nodes LIST [mode MODE]'");
        } else {
            fail(ps, "'vcpus' or 'memory' in a cell block");
        }
    }
    if (ps->tok.kind != POL_TOK_RBRACE) {
        if (!ps->stop) {
            char *f CGP_AUTOFREE = loc_str(&loc);
            char what[128];
            snprintf(what, sizeof what, "'}' to close the cell block opened at %s", f ? f : "?");
            expected(ps, what);
        }
        return false;
    }
    advance(ps);
    if (!c->vcpus)
        ERR(ps, &loc, "cell %u has no 'vcpus LIST;'", c->index);
    if (!c->has_memory)
        ERR(ps, &loc, "cell %u has no 'memory SIZE nodes LIST;'", c->index);
    return true;
}

static bool guest_stmt(struct parser *ps, struct pol_guest *g)
{
    struct pol_loc loc = ps->tok.loc;
    if (is_word(ps, "match")) {
        advance(ps);
        static const char *const kinds[] = { "name", "uuid", "pidfile", "qmp" };
        int kind = -1;
        for (int i = 0; i < 4 && ps->tok.kind == POL_TOK_WORD; i++)
            if (!strcmp(ps->tok.text, kinds[i]))
                kind = i;
        if (kind < 0)
            return fail(ps, "'name', 'uuid', 'pidfile' or 'qmp' after 'match'");
        advance(ps);
        if (!is_value(ps))
            return fail(ps, "a value (a word or a double-quoted string)");
        if (ps->tok.len == 0) {
            ERR(ps, &ps->tok.loc, "empty match value");
            sync_stmt(ps);
            return false;
        }
        if (!grow((void **)&g->matches, g->n_matches, sizeof *g->matches)) {
            ps->err = -ENOMEM;
            return false;
        }
        g->matches[g->n_matches++] = (struct pol_match){ (enum cgp_match_kind)kind,
                                                         CGP_STEAL(ps->tok.text), loc };
        advance(ps);
        return end_stmt(ps, "'match KIND VALUE'");
    }
    if (is_word(ps, "vcpus")) {
        advance(ps);
        unsigned long v;
        if (!take_uint(ps, "a vCPU count", 1, CGP_POLICY_MAX_VCPUS, &v, NULL))
            return false;
        if (g->vcpus >= 0) {
            duplicate(ps, &loc, "vcpus", &g->vcpus_loc);
        } else {
            g->vcpus = (long)v;
            g->vcpus_loc = loc;
        }
        return end_stmt(ps, "'vcpus N'");
    }
    if (is_word(ps, "cpus")) {
        advance(ps);
        enum pol_cpus_kind k;
        cgp_bitmap *b = NULL;
        struct pol_loc al = ps->tok.loc;
        if (is_word(ps, "auto")) {
            k = POL_CPUS_AUTO;
            advance(ps);
        } else if (is_word(ps, "node")) {
            k = POL_CPUS_NODE;
            advance(ps);
            if (!take_list(ps, "a node list after 'cpus node'", &b, &al))
                return false;
        } else {
            k = POL_CPUS_LIST;
            if (!take_list(ps, "a CPU list, 'node LIST' or 'auto'", &b, &al))
                return false;
        }
        if (g->cpus_kind != POL_CPUS_UNSET) {
            duplicate(ps, &loc, "cpus", &g->cpus_loc);
            cgp_bitmap_free(b);
        } else {
            g->cpus_kind = k;
            g->cpus = b;
            g->cpus_loc = loc;
            g->cpus_arg_loc = al;
        }
        return end_stmt(ps, "'cpus ...'");
    }
    if (is_word(ps, "memory")) {
        advance(ps);
        uint64_t v;
        if (!take_size(ps, "a memory size", &v))
            return false;
        enum pol_nodes_kind nk = POL_NODES_UNSET;
        cgp_bitmap *b CGP_AUTOBITMAP = NULL;
        struct pol_loc nl = loc;
        int mode = -1;
        if (is_word(ps, "nodes")) {
            advance(ps);
            nl = ps->tok.loc;
            if (is_word(ps, "auto")) {
                nk = POL_NODES_AUTO;
                advance(ps);
            } else if (is_word(ps, "local")) {
                nk = POL_NODES_LOCAL;
                advance(ps);
            } else {
                nk = POL_NODES_LIST;
                if (!take_list(ps, "a node list, 'auto' or 'local'", &b, &nl))
                    return false;
            }
        }
        if (is_word(ps, "mode")) {
            advance(ps);
            if (!take_mode(ps, &mode))
                return false;
        }
        if (ps->tok.kind != POL_TOK_SEMI) {
            return fail(ps, nk == POL_NODES_UNSET && mode < 0 ? "'nodes', 'mode' or ';' after the memory size"
                            : mode < 0 ? "'mode' or ';' after the memory nodes"
                                       : "';' after the memory mode");
        }
        if (g->has_memory) {
            duplicate(ps, &loc, "memory", &g->mem_loc);
        } else {
            g->has_memory = true;
            g->memory_kib = v;
            g->nodes_kind = nk;
            g->nodes = CGP_STEAL(b);
            g->mode = mode;
            g->mem_loc = loc;
            g->nodes_loc = nl;
        }
        return end_stmt(ps, "'memory ...'");
    }
    if (is_word(ps, "vcpupin") || is_word(ps, "iothreadpin")) {
        bool io = ps->tok.text[0] == 'i';
        advance(ps);
        struct pol_pin pn = { .loc = loc, .arg_loc = ps->tok.loc };
        if (io) {
            if (!is_value(ps))
                return fail(ps, "an I/O thread id after 'iothreadpin'");
            if (!pol_valid_name(ps->tok.text)) {
                ERR(ps, &ps->tok.loc,
                    "invalid I/O thread id '%s': expected 1-64 of [A-Za-z0-9_.-], not starting "
                    "with '.' or '-'", ps->tok.text);
                sync_stmt(ps);
                return false;
            }
            pn.id = CGP_STEAL(ps->tok.text);
            advance(ps);
        } else if (!take_list(ps, "a vCPU list after 'vcpupin'", &pn.vcpus, NULL)) {
            return false;
        }
        pn.cpus_loc = ps->tok.loc;
        if (!take_list(ps, "a CPU list", &pn.cpus, NULL)) {
            pin_clear(&pn);
            return false;
        }
        struct pol_pin **v = io ? &g->iopins : &g->vcpupins;
        size_t *n = io ? &g->n_iopins : &g->n_vcpupins;
        if (!grow((void **)v, *n, sizeof **v)) {
            pin_clear(&pn);
            ps->err = -ENOMEM;
            return false;
        }
        (*v)[(*n)++] = pn;
        return end_stmt(ps, io ? "'iothreadpin ID LIST'" : "'vcpupin VCPUS LIST'");
    }
    if (is_word(ps, "emulatorpin")) {
        advance(ps);
        cgp_bitmap *b = NULL;
        if (!take_list(ps, "a CPU list after 'emulatorpin'", &b, NULL))
            return false;
        if (g->emulatorpin) {
            duplicate(ps, &loc, "emulatorpin", &g->emu_loc);
            cgp_bitmap_free(b);
        } else {
            g->emulatorpin = b;
            g->emu_loc = loc;
        }
        return end_stmt(ps, "'emulatorpin LIST'");
    }
    if (is_word(ps, "cell"))
        return cell_block(ps, g);
    if (ps->tok.kind == POL_TOK_WORD) {
        ERR(ps, &ps->tok.loc,
            "unknown guest statement '%.40s': expected match, vcpus, cpus, memory, vcpupin, "
            "emulatorpin, iothreadpin or cell", ps->tok.text);
        sync_stmt(ps);
        return false;
    }
    return fail(ps, "a guest statement or '}'");
}

/* Parse "{ stmt* }" with the current token at '{'. */
static void block(struct parser *ps, const char *what, const struct pol_loc *open,
                  bool (*stmt)(struct parser *, struct pol_guest *), struct pol_guest *g)
{
    if (ps->tok.kind != POL_TOK_LBRACE) {
        char w[96];
        snprintf(w, sizeof w, "'{' after '%s'", what);
        fail(ps, w);
        return;
    }
    advance(ps);
    while (!ps->err && !ps->stop && ps->tok.kind != POL_TOK_RBRACE && ps->tok.kind != POL_TOK_EOF)
        stmt(ps, g);
    if (ps->tok.kind == POL_TOK_RBRACE) {
        advance(ps);
        return;
    }
    if (!ps->stop && !ps->err) {
        char *f CGP_AUTOFREE = loc_str(open);
        char w[160];
        snprintf(w, sizeof w, "'}' to close the %s block opened at %s", what, f ? f : "?");
        expected(ps, w);
    }
}

static bool host_stmt_g(struct parser *ps, struct pol_guest *g)
{
    (void)g;
    return host_stmt(ps);
}

static void guest_block(struct parser *ps)
{
    struct pol_loc loc = ps->tok.loc;
    advance(ps);
    if (!is_value(ps)) {
        fail(ps, "a guest name after 'guest'");
        return;
    }
    bool name_ok = pol_valid_name(ps->tok.text);
    if (!name_ok)
        ERR(ps, &ps->tok.loc,
            "invalid guest name '%.70s': expected 1-64 of [A-Za-z0-9_.-], not starting with '.' or "
            "'-' (it becomes a cgroup directory name)", ps->tok.text);
    struct pol_guest g = { .vcpus = -1, .mode = -1, .loc = loc };
    g.name = CGP_STEAL(ps->tok.text);
    advance(ps);
    block(ps, "guest", &loc, guest_stmt, &g);
    cgp_policy *p = ps->p;
    if (!name_ok || ps->err) {
        pol_guest_clear(&g);
        return;
    }
    if (p->n_guests == p->cap_guests) {
        size_t cap = p->cap_guests ? p->cap_guests * 2 : 8;
        struct pol_guest *v = realloc(p->guests, cap * sizeof *v);
        if (!v) {
            pol_guest_clear(&g);
            ps->err = -ENOMEM;
            return;
        }
        p->guests = v;
        p->cap_guests = cap;
    }
    p->guests[p->n_guests++] = g;
}

/* ------------------------------------------------------------------ */
/* include                                                              */
/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a policy file: regular files only, never blocks on a FIFO or a
 * device, at most CGP_POLICY_MAX_FILE bytes. -errno; -EFBIG too large;
 * -EISDIR a directory; -ENXIO not a regular file. Symbolic links are
 * followed, as for any configuration file (config management, NixOS and
 * alternatives link /etc files): what they lead to must still be a regular
 * file, and include cycles are found by device and inode. */
static int read_policy_file(const char *path, char **out, size_t *len, struct stat *st)
{
    int fd CGP_AUTOCLOSE = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0)
        return -errno;
    if (S_ISDIR(st->st_mode))
        return -EISDIR;
    if (!S_ISREG(st->st_mode))
        return -ENXIO;
    if ((uint64_t)st->st_size > CGP_POLICY_MAX_FILE)
        return -EFBIG;
    size_t cap = (size_t)st->st_size + 1, n = 0;
    char *buf CGP_AUTOFREE = malloc(cap + 1);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > CGP_POLICY_MAX_FILE)
                return -EFBIG;
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > CGP_POLICY_MAX_FILE)
        return -EFBIG;
    buf[n] = '\0';
    *out = CGP_STEAL(buf);
    *len = n;
    return 0;
}

static const char *read_error_text(int r)
{
    switch (r) {
    case -ELOOP: return "too many levels of symbolic links";
    case -EISDIR: return "is a directory";
    case -ENXIO: return "is not a regular file";
    case -EFBIG: return "is too large (limit 16 MiB)";
    default: return strerror(-r);
    }
}

static void include_one(struct parser *ps, const struct pol_loc *at, const char *path)
{
    if (ps->depth + 1 > CGP_POLICY_MAX_INCLUDE_DEPTH) {
        ERR(ps, at, "cannot include '%s': includes nested more than %d levels deep", path,
            CGP_POLICY_MAX_INCLUDE_DEPTH);
        return;
    }
    char *buf CGP_AUTOFREE = NULL;
    size_t len = 0;
    struct stat st;
    int r = read_policy_file(path, &buf, &len, &st);
    if (r == -ENOMEM) {
        ps->err = r;
        return;
    }
    if (r < 0) {
        ERR(ps, at, "cannot include '%s': %s", path, read_error_text(r));
        return;
    }
    for (int i = 0; i <= ps->depth; i++) {
        if (ps->stack[i].dev == st.st_dev && ps->stack[i].ino == st.st_ino) {
            ERR(ps, at, "cannot include '%s': include cycle (the file is already being read)", path);
            return;
        }
    }
    if (ps->p->total_bytes + len > CGP_POLICY_MAX_TOTAL) {
        ERR(ps, at, "cannot include '%s': the policy's files exceed 64 MiB in total", path);
        return;
    }
    ps->p->total_bytes += len;
    const char *name = intern_file(ps->p, path);
    if (!name) {
        ps->err = -ENOMEM;
        return;
    }
    ps->stack[ps->depth + 1] = (struct incframe){ st.st_dev, st.st_ino };
    r = parse_buffer(ps->p, ps->d, name, buf, len, ps->depth + 1, ps->stack);
    if (r == -ENOMEM)
        ps->err = r;
}

static void include_stmt(struct parser *ps)
{
    struct pol_loc loc = ps->tok.loc;
    advance(ps);
    if (!is_value(ps)) {
        fail(ps, "a quoted file name or glob after 'include'");
        return;
    }
    char *pattern CGP_AUTOFREE = CGP_STEAL(ps->tok.text);
    advance(ps);
    if (!end_stmt(ps, "'include \"PATTERN\"'"))
        return;
    if (!*pattern) {
        ERR(ps, &loc, "empty include pattern");
        return;
    }
    char *full CGP_AUTOFREE = NULL;
    if (pattern[0] == '/') {
        full = strdup(pattern);
    } else {
        const char *slash = strrchr(loc.file, '/');
        if (slash && asprintf(&full, "%.*s/%s", (int)(slash - loc.file), loc.file, pattern) < 0)
            full = NULL;
        else if (!slash)
            full = strdup(pattern);
    }
    if (!full) {
        ps->err = -ENOMEM;
        return;
    }
    bool has_glob = strpbrk(pattern, "*?[") != NULL;
    if (!has_glob) {
        include_one(ps, &loc, full);
        return;
    }
    glob_t gl = { 0 };
    int r = glob(full, GLOB_NOSORT, NULL, &gl);
    if (r == GLOB_NOMATCH) {
        globfree(&gl);
        return; /* an empty policy.d is fine */
    }
    if (r != 0) {
        globfree(&gl);
        if (r == GLOB_NOSPACE)
            ps->err = -ENOMEM;
        else
            ERR(ps, &loc, "cannot include '%s': cannot read the directory", full);
        return;
    }
    qsort(gl.gl_pathv, gl.gl_pathc, sizeof *gl.gl_pathv, cmp_str);
    for (size_t i = 0; i < gl.gl_pathc && !ps->err && !pol_diags_full(ps->d); i++)
        include_one(ps, &loc, gl.gl_pathv[i]);
    globfree(&gl);
}

/* ------------------------------------------------------------------ */

static int parse_buffer(cgp_policy *p, cgp_diags *d, const char *file, const char *buf,
                        size_t len, int depth, struct incframe *stack)
{
    struct parser ps = { .p = p, .d = d, .depth = depth, .stack = stack };
    pol_lexer_init(&ps.lx, file, buf, len, d);
    advance(&ps);
    while (!ps.err && !ps.stop && !pol_diags_full(d) && ps.tok.kind != POL_TOK_EOF) {
        if (is_word(&ps, "include")) {
            include_stmt(&ps);
        } else if (is_word(&ps, "host")) {
            struct pol_loc loc = ps.tok.loc;
            advance(&ps);
            block(&ps, "host", &loc, host_stmt_g, NULL);
        } else if (is_word(&ps, "guest")) {
            guest_block(&ps);
        } else if (ps.tok.kind == POL_TOK_WORD) {
            ERR(&ps, &ps.tok.loc, "unknown statement '%.40s': expected include, host or guest",
                ps.tok.text);
            sync_stmt(&ps);
        } else if (ps.tok.kind == POL_TOK_RBRACE) {
            ERR(&ps, &ps.tok.loc, "unexpected '}': no block is open");
            advance(&ps);
        } else {
            fail(&ps, "a statement (include, host or guest)");
            if (ps.tok.kind == POL_TOK_RBRACE)
                advance(&ps);
        }
    }
    pol_token_clear(&ps.tok);
    return ps.err;
}

static int parse_top(const char *name, const char *buf, size_t len, const struct stat *st,
                     cgp_diags *diags, cgp_policy **out)
{
    cgp_policy *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->host.unmanaged = -1;
    p->total_bytes = len;
    struct incframe stack[CGP_POLICY_MAX_INCLUDE_DEPTH + 2];
    stack[0] = st ? (struct incframe){ st->st_dev, st->st_ino } : (struct incframe){ 0, 0 };
    size_t errors_before = cgp_diags_errors(diags);
    const char *file = intern_file(p, name);
    int r = file ? parse_buffer(p, diags, file, buf, len, 0, stack) : -ENOMEM;
    if (r == 0 && cgp_diags_errors(diags) > errors_before)
        r = -EINVAL;
    if (r < 0) {
        cgp_policy_free(p);
        return r;
    }
    *out = p;
    return 0;
}

CGP_EXPORT int cgp_policy_parse_buffer(const char *name, const char *buf, size_t len,
                                       cgp_diags *diags, cgp_policy **out)
{
    if (!name || !buf || !diags || !out)
        return -EINVAL;
    if (len > CGP_POLICY_MAX_FILE)
        return -EFBIG;
    return parse_top(name, buf, len, NULL, diags, out);
}

CGP_EXPORT int cgp_policy_parse_file(const char *path, cgp_diags *diags, cgp_policy **out)
{
    if (!path || !diags || !out)
        return -EINVAL;
    char *buf CGP_AUTOFREE = NULL;
    size_t len = 0;
    struct stat st;
    int r = read_policy_file(path, &buf, &len, &st);
    if (r < 0)
        return r;
    return parse_top(path, buf, len, &st, diags, out);
}
