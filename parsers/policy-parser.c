/* Recursive-descent parser of the policy language (spec §3): the AST's life
 * cycle, token and value helpers, include, the top level and the entry
 * points. The host and guest statements are in policy-stmts.c.
 *
 * Every error is reported with the location of the token at fault and what
 * was expected; after an error the parser skips to the end of the statement
 * (';' or the '}' closing the block) and goes on, so all errors of a file are
 * reported, up to CGP_POLICY_MAX_ERRORS. */
#include "policy-parse.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SKIP_NESTING 64

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

const char *pol_interface_prefix(const char *s)
{
    /* the kernel's interface files: cgroup core and every controller v2 has */
    static const char *const pfx[] = { "cgroup", "cpu", "cpuset", "io", "memory", "pids", "rdma", "hugetlb",
                                       "misc", "irq", "perf_event", "freezer", "net_cls", "net_prio", "blkio",
                                       "devices" };
    const char *dot = strchr(s, '.');
    for (size_t i = 0; dot && i < sizeof pfx / sizeof *pfx; i++)
        if (strlen(pfx[i]) == (size_t)(dot - s) && !strncmp(s, pfx[i], (size_t)(dot - s)))
            return pfx[i];
    return NULL;
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
    free(p->read);
    cgp_bitmap_free(p->host.reserve_cpus);
    free(p->host.parent);
    free(p->host.slice);
    pol_words_free(p->host.qemu_binaries, p->host.n_qemu_binaries);
    pol_words_free(p->host.guest_users, p->host.n_guest_users);
    free(p);
}

CGP_EXPORT size_t cgp_policy_n_guests(const cgp_policy *p)
{
    return p ? p->n_guests : 0;
}

/* A copy of name kept in the policy's file list (diagnostics point at it). */
static int intern_file(cgp_policy *p, const char *name, const char **out)
{
    if (!CGP_GROW(p->files, p->n_files, p->cap_files))
        return -ENOMEM;
    if (!(p->files[p->n_files] = strdup(name)))
        return -ENOMEM;
    *out = p->files[p->n_files++];
    return 0;
}

/* ------------------------------------------------------------------ */
/* Token helpers                                                        */
/* ------------------------------------------------------------------ */

void ps_advance(struct parser *ps)
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

void ps_expected(struct parser *ps, const char *what)
{
    if (ps->tok.kind == POL_TOK_ERROR)
        return;
    char b[64];
    ERR(ps, &ps->tok.loc, "expected %s, got %s", what, tok_desc(&ps->tok, b, sizeof b));
}

void ps_sync_stmt(struct parser *ps)
{
    int nest = 0;
    for (;;) {
        switch (ps->tok.kind) {
        case POL_TOK_EOF:
            return;
        case POL_TOK_SEMI:
            if (nest == 0) {
                ps_advance(ps);
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
                ps_advance(ps);
                return;  /* a skipped block ends the statement */
            }
            break;
        default:
            break;
        }
        ps_advance(ps);
    }
}

bool ps_end_stmt(struct parser *ps, const char *after)
{
    if (ps->tok.kind == POL_TOK_SEMI) {
        ps_advance(ps);
        return true;
    }
    char what[96];
    snprintf(what, sizeof what, "';' after %s", after);
    ps_expected(ps, what);
    ps_sync_stmt(ps);
    return false;
}

bool ps_fail(struct parser *ps, const char *what)
{
    ps_expected(ps, what);
    ps_sync_stmt(ps);
    return false;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

bool ps_take_list(struct parser *ps, const char *what, cgp_bitmap **out, struct pol_loc *loc)
{
    if (!ps_is_value(ps))
        return ps_fail(ps, what);
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
        ps_sync_stmt(ps);
        return false;
    }
    if (cgp_bitmap_is_empty(b)) {
        ERR(ps, &ps->tok.loc, "list '%s' is empty", ps->tok.text);
        cgp_bitmap_free(b);
        ps_sync_stmt(ps);
        return false;
    }
    if (loc)
        *loc = ps->tok.loc;
    *out = b;
    ps_advance(ps);
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

bool ps_take_uint(struct parser *ps, const char *what, unsigned long min, unsigned long max,
                  unsigned long *out, struct pol_loc *loc)
{
    if (ps->tok.kind != POL_TOK_WORD)
        return ps_fail(ps, what);
    unsigned long v;
    if (!parse_uint(ps->tok.text, max, &v) || v < min) {
        ERR(ps, &ps->tok.loc, "expected %s (an integer from %lu to %lu), got '%s'", what, min, max,
            ps->tok.text);
        ps_sync_stmt(ps);
        return false;
    }
    if (loc)
        *loc = ps->tok.loc;
    *out = v;
    ps_advance(ps);
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

bool ps_take_size(struct parser *ps, const char *what, uint64_t *out)
{
    if (ps->tok.kind != POL_TOK_WORD)
        return ps_fail(ps, what);
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
        ps_sync_stmt(ps);
        return false;
    }
    *out = v;
    ps_advance(ps);
    return true;
}

bool ps_take_mode(struct parser *ps, int *mode)
{
    static const char *const modes[] = { "strict", "restrictive", "preferred", "interleave" };
    if (ps->tok.kind == POL_TOK_WORD) {
        for (int i = 0; i < 4; i++) {
            if (!strcmp(ps->tok.text, modes[i])) {
                *mode = i;
                ps_advance(ps);
                return true;
            }
        }
    }
    return ps_fail(ps, "a memory mode (strict, restrictive, preferred or interleave)");
}

char *ps_loc_str(const struct pol_loc *l)
{
    char *s = NULL;
    if (asprintf(&s, "%s:%u:%u", l->file, l->line, l->col) < 0)
        return NULL;
    return s;
}

bool ps_once(struct parser *ps, bool given, const struct pol_loc *at, const char *what,
             const struct pol_loc *first)
{
    if (!given)
        return true;
    char *f CGP_AUTOFREE = ps_loc_str(first);
    ERR(ps, at, "duplicate '%s' (first given at %s)", what, f ? f : "?");
    return false;
}

/* ------------------------------------------------------------------ */
/* include                                                              */
/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Open a policy file: regular files only, never blocks on a FIFO or a
 * device. The fd, or -errno: -EFBIG larger than CGP_POLICY_MAX_FILE;
 * -EISDIR a directory; -ENXIO not a regular file. Symbolic links are
 * followed, as for any configuration file (config management, NixOS and
 * alternatives link /etc files): what they lead to must still be a regular
 * file, and include cycles are found by device and inode. */
static int open_policy_file(const char *path, struct stat *st)
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
    int r = fd;
    fd = -1;
    return r;
}

/* Why a file that decides placement as root may not be trusted (sshd's
 * StrictModes): NULL when it is owned by root or the invoking user and not
 * writable by group or others. */
static const char *untrusted_file(const struct stat *st, char *buf, size_t size)
{
    if (st->st_uid != 0 && st->st_uid != getuid())
        snprintf(buf, size, "owned by uid %u, not by root or the invoking user", (unsigned)st->st_uid);
    else if (st->st_mode & (S_IWGRP | S_IWOTH))
        snprintf(buf, size, "writable by %s (mode %04o)", st->st_mode & S_IWOTH ? "others" : "its group",
                 (unsigned)(st->st_mode & 07777));
    else
        return NULL;
    return buf;
}

/* Read what open_policy_file opened (fd closed here), at most
 * CGP_POLICY_MAX_FILE bytes. */
static int read_policy_fd(int fd_, const struct stat *st, char **out, size_t *len)
{
    int fd CGP_AUTOCLOSE = fd_;
    /* room for one byte more than fstat says (a file that grows) and the NUL */
    size_t cap = (size_t)st->st_size + 2, n = 0;
    char *buf CGP_AUTOFREE = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (n + 1 == cap) {
            if (n > CGP_POLICY_MAX_FILE)
                return -EFBIG;
            char *nb = cgp_grow_array(buf, &cap, 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
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

/* The first read of a file (by device and inode): true, and it is recorded
 * (ps->err on ENOMEM); false when it was read already. */
static bool first_read(struct parser *ps, const struct stat *st)
{
    cgp_policy *p = ps->p;
    for (size_t i = 0; i < p->n_read; i++)
        if (p->read[i].dev == st->st_dev && p->read[i].ino == st->st_ino)
            return false;
    if (!CGP_GROW(p->read, p->n_read, p->cap_read))
        ps->err = -ENOMEM;
    else
        p->read[p->n_read++] = (struct pol_file_id){ st->st_dev, st->st_ino };
    return true;
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
    char why[96];
    int r = open_policy_file(path, &st);
    if (r >= 0) {
        for (int i = 0; i <= ps->depth; i++) {
            if (ps->stack[i].dev == st.st_dev && ps->stack[i].ino == st.st_ino) {
                close(r);
                ERR(ps, at, "cannot include '%s': include cycle (the file is already being read)", path);
                return;
            }
        }
        /* read once: a file included again (a diamond, or 10 files that
         * each include the same 10, 8 levels deep) adds nothing new */
        if (!first_read(ps, &st)) {
            close(r);
            return;
        }
        if (ps->p->n_read > CGP_POLICY_MAX_FILES) {
            close(r);
            ERR(ps, at, "cannot include '%s': the policy has more than %u files", path, CGP_POLICY_MAX_FILES);
            ps->stop = true;
            return;
        }
        if ((ps->p->flags & CGP_POLICY_STRICT_FILES) && untrusted_file(&st, why, sizeof why)) {
            close(r);
            ERR(ps, at, "cannot include '%s': %s", path, why);
            return;
        }
        r = read_policy_fd(r, &st, &buf, &len);
    }
    if (r == -ENOMEM) {
        ps->err = r;
        return;
    }
    if (r < 0) {
        ERR(ps, at, "cannot include '%s': %s", path, read_error_text(r));
        return;
    }
    if (ps->p->total_bytes + len > CGP_POLICY_MAX_TOTAL) {
        ERR(ps, at, "cannot include '%s': the policy's files exceed 64 MiB in total", path);
        return;
    }
    ps->p->total_bytes += len;
    const char *name;
    if ((r = intern_file(ps->p, path, &name)) < 0) {
        ps->err = r;
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
    ps_advance(ps);
    if (!ps_is_value(ps)) {
        ps_fail(ps, "a quoted file name or glob after 'include'");
        return;
    }
    char *pattern CGP_AUTOFREE = CGP_STEAL(ps->tok.text);
    ps_advance(ps);
    if (!ps_end_stmt(ps, "'include \"PATTERN\"'"))
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
    ps_advance(&ps);
    while (!ps.err && !ps.stop && !pol_diags_full(d) && ps.tok.kind != POL_TOK_EOF) {
        if (ps_is_word(&ps, "include")) {
            include_stmt(&ps);
        } else if (ps_is_word(&ps, "host")) {
            ps_host_block(&ps);
        } else if (ps_is_word(&ps, "guest")) {
            ps_guest_block(&ps);
        } else if (ps.tok.kind == POL_TOK_WORD) {
            ERR(&ps, &ps.tok.loc, "unknown statement '%.40s': expected include, host or guest",
                ps.tok.text);
            ps_sync_stmt(&ps);
        } else if (ps.tok.kind == POL_TOK_RBRACE) {
            ERR(&ps, &ps.tok.loc, "unexpected '}': no block is open");
            ps_advance(&ps);
        } else {
            ps_fail(&ps, "a statement (include, host or guest)");
            if (ps.tok.kind == POL_TOK_RBRACE)
                ps_advance(&ps);
        }
    }
    pol_token_clear(&ps.tok);
    return ps.err;
}

static int parse_top(const char *name, const char *buf, size_t len, const struct stat *st,
                     unsigned flags, cgp_diags *diags, cgp_policy **out)
{
    cgp_policy *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->flags = flags;
    p->host.unmanaged = -1;
    p->host.oversubscribe = -1;
    p->host.backend = -1;
    p->host.libvirt = -1;
    p->host.machined = -1;
    p->total_bytes = len;
    struct incframe stack[CGP_POLICY_MAX_INCLUDE_DEPTH + 2];
    stack[0] = st ? (struct incframe){ st->st_dev, st->st_ino } : (struct incframe){ 0, 0 };
    size_t errors_before = cgp_diags_errors(diags);
    const char *file;
    int r = intern_file(p, name, &file);
    if (r == 0 && st) {
        struct parser ps = { .p = p };
        first_read(&ps, st);
        r = ps.err;
    }
    if (r == 0)
        r = parse_buffer(p, diags, file, buf, len, 0, stack);
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
    return parse_top(name, buf, len, NULL, 0, diags, out);
}

CGP_EXPORT int cgp_policy_parse_file_ex(const char *path, unsigned flags, cgp_diags *diags, cgp_policy **out)
{
    if (!path || !diags || !out || (flags & ~(unsigned)CGP_POLICY_STRICT_FILES))
        return -EINVAL;
    char *buf CGP_AUTOFREE = NULL;
    size_t len = 0;
    struct stat st;
    char why[96];
    int r = open_policy_file(path, &st);
    if (r >= 0 && (flags & CGP_POLICY_STRICT_FILES) && untrusted_file(&st, why, sizeof why)) {
        close(r);
        /* a diagnostic about the whole file (line 0): "PATH: error: ..." */
        struct pol_loc at = { path, 0, 0 };
        r = pol_error(diags, &at, "%s (policy files decide placement as root; see --no-strict-files)", why);
        return r < 0 ? r : -EINVAL;
    }
    if (r >= 0)
        r = read_policy_fd(r, &st, &buf, &len);
    if (r < 0)
        return r;
    return parse_top(path, buf, len, &st, flags, diags, out);
}

CGP_EXPORT int cgp_policy_parse_file(const char *path, cgp_diags *diags, cgp_policy **out)
{
    return cgp_policy_parse_file_ex(path, 0, diags, out);
}
