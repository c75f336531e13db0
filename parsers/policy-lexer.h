/* Internal: tokenizer of the policy language. */
#ifndef CGP_POLICY_LEXER_H
#define CGP_POLICY_LEXER_H

#include "policy-ast.h"

enum pol_tok_kind {
    POL_TOK_EOF,
    POL_TOK_WORD,     /* a run of bytes other than space, ; { } " # */
    POL_TOK_STRING,   /* double-quoted, escapes resolved */
    POL_TOK_SEMI,
    POL_TOK_LBRACE,
    POL_TOK_RBRACE,
    POL_TOK_ERROR,    /* a lexical error, already reported */
};

struct pol_token {
    enum pol_tok_kind kind;
    char *text;       /* WORD/STRING: malloc'd, NUL-terminated; else NULL */
    size_t len;
    struct pol_loc loc;
};

struct pol_lexer {
    const char *buf;
    size_t len, pos;
    unsigned line, col;
    const char *file;  /* interned */
    cgp_diags *diags;
};

void pol_lexer_init(struct pol_lexer *lx, const char *file, const char *buf, size_t len,
                    cgp_diags *diags);
/* Read the next token into *tok (its previous text must have been freed).
 * Lexical errors are reported to the diags and give POL_TOK_ERROR.
 * Returns 0 or -ENOMEM. */
int pol_lex_next(struct pol_lexer *lx, struct pol_token *tok);
void pol_token_clear(struct pol_token *tok);

#endif
