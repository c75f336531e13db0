/* cli/json-out.c (the streaming writer, through cli_json_format) against
 * json-c's own printer: byte for byte on random trees
 * (every byte value in strings and keys, empty and nested containers,
 * integer extremes, uint64 above INT64_MAX, nulls, booleans, a double). */
#include "cli.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void rnd_bytes(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(rnd() % 8);
        /* mostly the escaped and control bytes, some UTF-8 and text (bytes
         * that are not UTF-8 differ from json-c on purpose: not_utf8 below) */
        if (r >= 3 && r < 5 && i + 1 < n) {
            unsigned cp = 0x80 + (unsigned)(rnd() % 0x780);     /* U+0080..U+07FF */
            s[i++] = (char)(0xc0 | cp >> 6);
            s[i] = (char)(0x80 | (cp & 0x3f));
            continue;
        }
        s[i] = r < 3 ? (char)("\b\n\r\t\f\"\\/\x01\x1f\x7f"[rnd() % 11]) : (char)('a' + rnd() % 26);
    }
}

static struct json_object *tree(int depth, bool doubles)
{
    unsigned k = (unsigned)(rnd() % (depth > 0 ? 9 : 6));
    char s[40];
    size_t n = (size_t)(rnd() % sizeof s);
    switch (k) {
    case 0: return NULL;
    case 1: return json_object_new_boolean(rnd() & 1);
    case 2: {
        static const int64_t ex[] = { 0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT32_MIN };
        return json_object_new_int64(rnd() & 1 ? ex[rnd() % 10] : (int64_t)rnd());
    }
    case 3: return json_object_new_uint64(rnd() & 1 ? UINT64_MAX - rnd() % 3 : rnd());
    case 4: rnd_bytes(s, n); return json_object_new_string_len(s, (int)n);
    case 5: return doubles ? json_object_new_double((double)(int64_t)rnd() / 7.0) : json_object_new_int(7);
    case 6: case 7: {
        struct json_object *o = json_object_new_object();
        for (unsigned i = 0, m = (unsigned)(rnd() % 5); i < m; i++) {
            char key[12];
            size_t kl = (size_t)(rnd() % (sizeof key - 1));
            rnd_bytes(key, kl);
            key[kl] = '\0';
            for (size_t j = 0; j < kl; j++)
                if (!key[j])
                    key[j] = 'z';
            json_object_object_add(o, key, tree(depth - 1, doubles));
        }
        return o;
    }
    default: {
        struct json_object *a = json_object_new_array();
        for (unsigned i = 0, m = (unsigned)(rnd() % 5); i < m; i++)
            json_object_array_add(a, tree(depth - 1, doubles));
        return a;
    }
    }
}

static void same(struct json_object *o, const char *what, int i)
{
    size_t len = 0;
    char *mine = cli_json_format(o, &len);
    const char *ref = json_object_to_json_string_ext(o, CLI_JSON_FLAGS);
    cr_assert_not_null(mine);
    cr_assert_eq(len, strlen(ref), "%s %d: length %zu, json-c %zu", what, i, len, strlen(ref));
    cr_assert(memcmp(mine, ref, len) == 0, "%s %d: differs:\n%s\n---- json-c:\n%s", what, i, mine, ref);
    free(mine);
}

Test(json_out, same_bytes_as_json_c_on_random_trees)
{
    for (int i = 0; i < 3000; i++) {
        struct json_object *o = tree(5, false);
        same(o, "tree", i);
        json_object_put(o);
    }
}

Test(json_out, doubles_fall_back_to_json_c)
{
    for (int i = 0; i < 300; i++) {
        struct json_object *o = json_object_new_array();
        json_object_array_add(o, tree(4, true));
        json_object_array_add(o, json_object_new_double(0.1 * i));
        same(o, "tree with doubles", i);
        json_object_put(o);
    }
}

Test(json_out, fixed_shapes)
{
    struct json_object *o = json_object_new_object();
    struct json_object *a = json_object_new_array();
    json_object_object_add(o, "a", a);
    json_object_array_add(a, json_object_new_object());
    json_object_array_add(a, json_object_new_array());
    json_object_array_add(a, NULL);
    json_object_object_add(o, "path", json_object_new_string("/sys/fs/cgroup"));
    size_t len;
    char *s = cli_json_format(o, &len);
    cr_assert_str_eq(s, "{\n  \"a\": [\n    {\n    },\n    [\n    ],\n    null\n  ],\n  \"path\": \"/sys/fs/cgroup\"\n}");
    free(s);
    json_object_put(o);
}

/* Bytes that are not UTF-8 (a name another process chose) become U+FFFD, so
 * the document stays JSON; valid sequences, 2 to 4 bytes, pass unchanged. */
Test(json_out, not_utf8)
{
    static const char *const in[] = { "bad\xffname", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x80", "\xf4\x90\x80\x80",
                                      "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80" };
    static const char *const out[] = { "\"bad\xef\xbf\xbdname\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"",
                                       "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"",
                                       "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
                                       "\"caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80\"" };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        struct json_object *o = json_object_new_string(in[i]);
        char *s = cli_json_format(o, NULL);
        cr_assert_str_eq(s, out[i], "case %zu", i);
        free(s);
        json_object_put(o);
    }
}

/* cli_json_format is the streaming writer driven by a walk of the tree, so
 * the random trees above test the writer; here, calls that do not nest. */
Test(json_out, streaming_writer_refuses_bad_nesting)
{
    struct cli_jw *w = cli_jw_new();
    cli_jw_obj(w);
    cli_jw_int(w, 1);      /* a member without a key */
    cli_jw_end(w);
    cr_assert_null(cli_jw_finish(w, NULL));
    w = cli_jw_new();
    cli_jw_obj(w);
    cli_jw_key(w, "a");
    cli_jw_arr(w);
    cli_jw_key(w, "k");    /* a key in an array */
    cli_jw_end(w);
    cli_jw_end(w);
    cr_assert_null(cli_jw_finish(w, NULL));
    w = cli_jw_new();
    cli_jw_obj(w);
    cli_jw_key(w, "a");    /* a key without its value */
    cli_jw_end(w);
    cr_assert_null(cli_jw_finish(w, NULL));
    w = cli_jw_new();
    cli_jw_obj(w);
    cli_jw_key(w, "a");
    cli_jw_key(w, "b");    /* two keys in a row */
    cli_jw_int(w, 1);
    cli_jw_end(w);
    cr_assert_null(cli_jw_finish(w, NULL));
    w = cli_jw_new();
    cli_jw_obj(w);         /* never closed */
    cr_assert_null(cli_jw_finish(w, NULL));
    w = cli_jw_new();
    cli_jw_end(w);         /* closes nothing */
    cr_assert_null(cli_jw_finish(w, NULL));
    cr_assert_null(cli_jw_finish(NULL, NULL), "out of memory in cli_jw_new");
    cli_jw_obj(NULL);      /* and every call accepts it */
    cli_jw_key(NULL, "k");
    cli_jw_str(NULL, "v");
    cli_jw_end(NULL);
}
