/* JSON output: json-c's pretty format (JSON_C_TO_STRING_PRETTY | SPACED |
 * NOSLASHESCAPE), byte for byte, written without json-c's printer. json-c
 * formats every integer with snprintf and frees the whole tree object by
 * object: on a 1024-CPU host that was two thirds of `topology --json`.
 * One formatter, the streaming writer cli_jw_*; cli_json_format walks a
 * json-c tree through it. tests/cli/test_json_out.c compares both entry
 * points with json-c's printer on random trees. */
#include "cli.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void indent(struct jbuf *b, int level)
{
    static const char sp[] = "                                                                ";
    for (size_t n = (size_t)level * 2; n;) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        put(b, sp, k);
        n -= k;
    }
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
size_t cli_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (!len || len > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* json-c's json_escape_str with NOSLASHESCAPE, except that bytes which are
 * not UTF-8 become U+FFFD: json-c passes them through, and a document with
 * them is not JSON (RFC 8259 section 8.1). Names from other processes are
 * escaped before (cli_escape); this holds for any string that was not. */
static void escape(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char u[6];
        if (c >= 0x80) {
            size_t k = cli_utf8_len((const unsigned char *)s + i, n - i);
            if (k) {
                i += k - 1;
                continue;
            }
            put(b, s + start, i - start);
            PUTS(b, "\xef\xbf\xbd");
            start = i + 1;
            continue;
        }
        switch (c) {
        case '\b': rep = "\\b"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = "\\r"; break;
        case '\t': rep = "\\t"; break;
        case '\f': rep = "\\f"; break;
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        default:
            if (c >= ' ')
                continue;
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 0xf];
        }
        put(b, s + start, i - start);
        if (rep)
            put(b, rep, 2);
        else
            put(b, u, 6);
        start = i + 1;
    }
    put(b, s + start, n - start);
}

size_t cli_fmt_u64(char *p, uint64_t v)
{
    char d[20];
    size_t i = sizeof d;
    do
        d[--i] = (char)('0' + v % 10);
    while ((v /= 10));
    memcpy(p, d + i, sizeof d - i);
    return sizeof d - i;
}

static void put_u64(struct jbuf *b, uint64_t v, bool neg)
{
    char d[21];
    size_t n = 0;
    if (neg)
        d[n++] = '-';
    n += cli_fmt_u64(d + n, v);
    put(b, d, n);
}

/* ------------------------------------------------------------------ */
/* Streaming writer: the same format, written while walking the model,
 * for documents too big to build as json-c objects first (topology --json
 * on a 1024-CPU host: 9,000 objects, two thirds of the process's memory). */

#define JW_DEPTH 32

struct jw_level {
    int level;          /* emit()'s level of this container */
    size_t count;       /* members so far */
    bool arr;
    bool keyed;         /* an object's key was written, its value not yet */
};

struct cli_jw {
    struct jbuf b;
    int depth;
    struct jw_level st[JW_DEPTH];
    bool bad;                   /* nesting error: a bug in the caller */
};

struct cli_jw *cli_jw_new(void) { return calloc(1, sizeof(struct cli_jw)); }

/* Separator and indentation before the next member of container t. */
static void jw_member(struct cli_jw *w, struct jw_level *t)
{
    if (t->count++)
        PUTS(&w->b, ",\n");
    indent(&w->b, t->level + 1);
}

/* Before a value: in an array, its member separator (an object's key
 * already wrote it). Callers have checked w. */
static void jw_value(struct cli_jw *w)
{
    if (!w->depth)
        return;
    struct jw_level *t = &w->st[w->depth - 1];
    if (!t->arr) {
        if (!t->keyed)
            w->bad = true;  /* a member without a key */
        t->keyed = false;
        return;
    }
    jw_member(w, t);
}

static void jw_open(struct cli_jw *w, bool arr)
{
    if (!w)
        return;
    jw_value(w);
    if (w->depth == JW_DEPTH) {
        w->bad = true;
        return;
    }
    int level = w->depth ? w->st[w->depth - 1].level + 1 : 0;
    w->st[w->depth++] = (struct jw_level){ level, 0, arr, false };
    if (arr)
        PUTS(&w->b, "[\n");
    else
        PUTS(&w->b, "{\n");
}

void cli_jw_obj(struct cli_jw *w) { jw_open(w, false); }
void cli_jw_arr(struct cli_jw *w) { jw_open(w, true); }

void cli_jw_end(struct cli_jw *w)
{
    if (!w)
        return;
    if (!w->depth) {
        w->bad = true;
        return;
    }
    if (w->st[w->depth - 1].keyed)
        w->bad = true;      /* a key without its value */
    struct jw_level *t = &w->st[--w->depth];
    if (t->count)
        PUTS(&w->b, "\n");
    indent(&w->b, t->level);
    if (t->arr)
        PUTS(&w->b, "]");
    else
        PUTS(&w->b, "}");
}

void cli_jw_key(struct cli_jw *w, const char *k)
{
    if (!w)
        return;
    if (!w->depth || w->st[w->depth - 1].arr || w->st[w->depth - 1].keyed) {
        w->bad = true;
        return;
    }
    struct jw_level *t = &w->st[w->depth - 1];
    t->keyed = true;
    jw_member(w, t);
    PUTS(&w->b, "\"");
    escape(&w->b, k, strlen(k));
    PUTS(&w->b, "\": ");
}

void cli_jw_null(struct cli_jw *w)
{
    if (!w)
        return;
    jw_value(w);
    PUTS(&w->b, "null");
}

void cli_jw_bool(struct cli_jw *w, bool v)
{
    if (!w)
        return;
    jw_value(w);
    if (v)
        PUTS(&w->b, "true");
    else
        PUTS(&w->b, "false");
}

void cli_jw_int(struct cli_jw *w, long long v)
{
    if (!w)
        return;
    jw_value(w);
    put_u64(&w->b, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void cli_jw_u64(struct cli_jw *w, uint64_t v)
{
    if (!w)
        return;
    jw_value(w);
    put_u64(&w->b, v, false);
}

static void jw_strn(struct cli_jw *w, const char *s, size_t n)
{
    jw_value(w);
    PUTS(&w->b, "\"");
    escape(&w->b, s, n);
    PUTS(&w->b, "\"");
}

void cli_jw_str(struct cli_jw *w, const char *s)
{
    if (!w)
        return;
    if (!s)
        cli_jw_null(w);
    else
        jw_strn(w, s, strlen(s));
}

char *cli_jw_finish(struct cli_jw *w, size_t *len)
{
    char *s = NULL;
    if (w && !w->bad && !w->depth && !w->b.oom && w->b.p) {
        w->b.p[w->b.len] = '\0';
        s = w->b.p;
        if (len)
            *len = w->b.len;
    } else if (w) {
        free(w->b.p);
    }
    free(w);
    return s;
}

/* ------------------------------------------------------------------ */
/* A json-c tree through the writer: one formatter for both.            */

/* 0, or -1 for what the writer does not handle (doubles, custom
 * serializers): the caller then uses json-c's printer. */
static int walk(struct cli_jw *w, struct json_object *o)
{
    switch (o ? json_object_get_type(o) : json_type_null) {
    case json_type_null:
        cli_jw_null(w);
        return 0;
    case json_type_boolean:
        cli_jw_bool(w, json_object_get_boolean(o));
        return 0;
    case json_type_int: {
        /* an uint64 above INT64_MAX reads as INT64_MAX through get_int64 */
        int64_t v = json_object_get_int64(o);
        if (v == INT64_MAX)
            cli_jw_u64(w, json_object_get_uint64(o));
        else
            cli_jw_int(w, v);
        return 0;
    }
    case json_type_string:   /* may hold NUL bytes: by length */
        jw_strn(w, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        return 0;
    case json_type_object: {
        cli_jw_obj(w);
        json_object_object_foreach(o, key, val) {
            cli_jw_key(w, key);
            if (walk(w, val) < 0)
                return -1;
        }
        cli_jw_end(w);
        return 0;
    }
    case json_type_array: {
        cli_jw_arr(w);
        for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
            if (walk(w, json_object_array_get_idx(o, i)) < 0)
                return -1;
        cli_jw_end(w);
        return 0;
    }
    default:
        return -1;
    }
}

char *cli_json_format(struct json_object *o, size_t *len)
{
    struct cli_jw *w = cli_jw_new();
    if (!w)
        return NULL;
    if (walk(w, o) == 0)
        return cli_jw_finish(w, len);    /* NULL only when out of memory */
    free(cli_jw_finish(w, NULL));
    const char *s = json_object_to_json_string_ext(o, CLI_JSON_FLAGS);
    char *c = s ? strdup(s) : NULL;
    if (c && len)
        *len = strlen(c);
    return c;
}
