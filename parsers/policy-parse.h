/* Internal: the policy parser's state and the helpers shared by the top
 * level (policy-parser.c) and the statements (policy-stmts.c).
 *
 * Statement readers return false when the statement failed: the error is
 * reported (or ps->err holds -ENOMEM) and the parser has resynced. */
#ifndef CGP_POLICY_PARSE_H
#define CGP_POLICY_PARSE_H

#include "policy-lexer.h"

#include <string.h>
#include <sys/types.h>

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

/* Keep the first -errno of a diagnostic that could not be recorded. */
static inline void ps_oom(struct parser *ps, int r)
{
    if (r < 0 && !ps->err)
        ps->err = r;
}
#define ERR(ps, loc, ...) ps_oom((ps), pol_error((ps)->d, (loc), __VA_ARGS__))

static inline bool ps_is_word(const struct parser *ps, const char *w)
{
    return ps->tok.kind == POL_TOK_WORD && !strcmp(ps->tok.text, w);
}
static inline bool ps_is_value(const struct parser *ps)
{
    return ps->tok.kind == POL_TOK_WORD || ps->tok.kind == POL_TOK_STRING;
}

/* The next token (EOF once ps->err is set). */
void ps_advance(struct parser *ps);
/* Report "expected WHAT, got TOKEN" at the current token (silently when the
 * token is a lexical error, which was reported already). */
void ps_expected(struct parser *ps, const char *what);
/* Skip to the end of the current statement: past the next ';' at this
 * level, or up to (not past) the '}' that closes the enclosing block. */
void ps_sync_stmt(struct parser *ps);
/* Expect ';' closing a statement; report and resync otherwise. */
bool ps_end_stmt(struct parser *ps, const char *after);
/* Fail the current statement: report (unless already) and resync. */
bool ps_fail(struct parser *ps, const char *what);

/* Values: on success *out (and *loc when not NULL) is set and the token
 * consumed; else reported and resynced, *out untouched. */
/* A list (CPUS/NODES/VCPUS) from the current word or string. */
bool ps_take_list(struct parser *ps, const char *what, cgp_bitmap **out, struct pol_loc *loc);
bool ps_take_uint(struct parser *ps, const char *what, unsigned long min, unsigned long max,
                  unsigned long *out, struct pol_loc *loc);
bool ps_take_size(struct parser *ps, const char *what, uint64_t *out);
bool ps_take_mode(struct parser *ps, int *mode);

/* "FILE:LINE:COL", malloc'd (NULL: ENOMEM). */
char *ps_loc_str(const struct pol_loc *l);
/* A statement that may be given once: true when it was not (the caller then
 * records it), else "duplicate 'WHAT' (first given at F:L:C)" is reported at
 * `at` and false returned; first is read only when given. */
bool ps_once(struct parser *ps, bool given, const struct pol_loc *at, const char *what,
             const struct pol_loc *first);

/* host { ... } and guest NAME { ... }, the current token at 'host' or 'guest'. */
void ps_host_block(struct parser *ps);
void ps_guest_block(struct parser *ps);

#endif
