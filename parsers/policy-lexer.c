/* Tokenizer of the policy language (spec §3): words, double-quoted strings
 * with \" and \\ escapes, ';', '{', '}', and '#' line comments. */
#include "policy-lexer.h"

#include <errno.h>
#include <string.h>

void pol_lexer_init(struct pol_lexer *lx, const char *file, const char *buf, size_t len,
                    cgp_diags *diags)
{
    *lx = (struct pol_lexer){ .buf = buf, .len = len, .line = 1, .col = 1, .file = file,
                              .diags = diags };
}

void pol_token_clear(struct pol_token *tok)
{
    free(tok->text);
    tok->text = NULL;
    tok->len = 0;
}

static int peek(const struct pol_lexer *lx)
{
    return lx->pos < lx->len ? (unsigned char)lx->buf[lx->pos] : -1;
}

static void bump(struct pol_lexer *lx)
{
    if (lx->pos >= lx->len)
        return;
    if (lx->buf[lx->pos] == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
    lx->pos++;
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_word(int c)
{
    return c > 0x20 && c != 0x7f && c != ';' && c != '{' && c != '}' && c != '"' && c != '#';
}

static struct pol_loc here(const struct pol_lexer *lx)
{
    return (struct pol_loc){ lx->file, lx->line, lx->col };
}

int pol_lex_next(struct pol_lexer *lx, struct pol_token *tok)
{
    tok->text = NULL;
    tok->len = 0;
    for (;;) {
        int c = peek(lx);
        if (c < 0) {
            tok->kind = POL_TOK_EOF;
            tok->loc = here(lx);
            return 0;
        }
        if (is_space(c)) {
            bump(lx);
        } else if (c == '#') {
            while (peek(lx) >= 0 && peek(lx) != '\n')
                bump(lx);
        } else {
            break;
        }
    }
    tok->loc = here(lx);
    int c = peek(lx);
    switch (c) {
    case ';': bump(lx); tok->kind = POL_TOK_SEMI; return 0;
    case '{': bump(lx); tok->kind = POL_TOK_LBRACE; return 0;
    case '}': bump(lx); tok->kind = POL_TOK_RBRACE; return 0;
    default: break;
    }
    if (c == '"') {
        bump(lx);
        char *buf CGP_AUTOFREE = malloc(CGP_POLICY_MAX_TOKEN + 1);
        if (!buf)
            return -ENOMEM;
        size_t n = 0;
        bool bad = false;
        for (;;) {
            int ch = peek(lx);
            if (ch < 0 || ch == '\n') {
                tok->kind = POL_TOK_ERROR;
                return pol_error(lx->diags, &tok->loc,
                                 "unterminated string: expected a closing '\"' before the end of the %s",
                                 ch < 0 ? "file" : "line");
            }
            struct pol_loc at = here(lx);
            bump(lx);
            if (ch == '"')
                break;
            if (ch == '\\') {
                int e = peek(lx);
                if (e == '"' || e == '\\') {
                    ch = e;
                    bump(lx);
                } else {
                    if (!bad && pol_error(lx->diags, &at,
                                          "invalid escape in string: only \\\" and \\\\ are allowed") < 0)
                        return -ENOMEM;
                    bad = true;
                    continue;
                }
            } else if (ch == 0) {
                if (!bad && pol_error(lx->diags, &at, "NUL byte in string") < 0)
                    return -ENOMEM;
                bad = true;
                continue;
            }
            if (n >= CGP_POLICY_MAX_TOKEN) {
                if (!bad && pol_error(lx->diags, &tok->loc, "string longer than %u bytes",
                                      CGP_POLICY_MAX_TOKEN) < 0)
                    return -ENOMEM;
                bad = true;
                continue;
            }
            buf[n++] = (char)ch;
        }
        if (bad) {
            tok->kind = POL_TOK_ERROR;
            return 0;
        }
        buf[n] = '\0';
        tok->kind = POL_TOK_STRING;
        tok->len = n;
        tok->text = CGP_STEAL(buf);
        return 0;
    }
    if (!is_word(c)) {
        /* control byte, NUL or DEL: report once per run */
        while (peek(lx) >= 0 && !is_space(peek(lx)) && !is_word(peek(lx)) && peek(lx) != ';' &&
               peek(lx) != '{' && peek(lx) != '}' && peek(lx) != '"' && peek(lx) != '#')
            bump(lx);
        tok->kind = POL_TOK_ERROR;
        return pol_error(lx->diags, &tok->loc, "unexpected control character 0x%02x", c);
    }
    size_t start = lx->pos;
    while (is_word(peek(lx)))
        bump(lx);
    size_t n = lx->pos - start;
    if (n > CGP_POLICY_MAX_TOKEN) {
        tok->kind = POL_TOK_ERROR;
        return pol_error(lx->diags, &tok->loc, "word longer than %u bytes", CGP_POLICY_MAX_TOKEN);
    }
    tok->text = strndup(lx->buf + start, n);
    if (!tok->text)
        return -ENOMEM;
    tok->len = n;
    tok->kind = POL_TOK_WORD;
    return 0;
}
