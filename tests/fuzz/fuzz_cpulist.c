/* libFuzzer target for the list and hex-mask parsers (lib/bitmap.c).
 * Invariants checked on every input:
 *  - success: *out set; format -> parse gives an equal bitmap and the same
 *    canonical string; every id is below the limit;
 *  - failure: -EINVAL/-ERANGE (-ENOMEM tolerated), *out untouched,
 *    err_pos <= strlen(input).
 * The input is used as a NUL-terminated string (bytes after a NUL ignored). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace.h"
#include "fuzz_check.h"

static void roundtrip(const cgp_bitmap *b, const char *in)
{
    char *f = cgp_bitmap_format(b);
    if (!f)
        return; /* ENOMEM */
    cgp_bitmap *b2 = NULL;
    size_t pos = 0;
    int r = cgp_bitmap_parse(f, 0, &b2, &pos);
    if (*f == '\0') {
        /* the empty set formats as "", which is not a valid list */
        CHECK(r == -EINVAL, "parse(\"\") = %d for input \"%.80s\"", r, in);
        CHECK(cgp_bitmap_is_empty(b), "\"\" formatted from a non-empty map");
    } else if (r != -ENOMEM) {
        CHECK(r == 0, "reparse of \"%.80s\" = %d at %zu (input \"%.80s\")", f, r, pos, in);
        CHECK(cgp_bitmap_equal(b, b2), "round trip differs for \"%.80s\"", in);
        CHECK(cgp_bitmap_count(b) == cgp_bitmap_count(b2), "count differs");
        char *f2 = cgp_bitmap_format(b2);
        if (f2) {
            CHECK(strcmp(f, f2) == 0, "format not canonical: \"%.80s\" vs \"%.80s\"", f, f2);
            free(f2);
        }
        cgp_bitmap_free(b2);
    }
    /* iteration agrees with count and last */
    unsigned n = 0;
    int last = -1;
    cgp_bitmap_foreach(b, i) {
        CHECK(i > last, "foreach not ascending");
        CHECK(cgp_bitmap_test(b, (unsigned)i), "foreach gave a clear bit %d", i);
        last = i;
        n++;
    }
    CHECK(n == cgp_bitmap_count(b), "foreach %u vs count %u", n, cgp_bitmap_count(b));
    CHECK(last == cgp_bitmap_last(b), "last %d vs %d", last, cgp_bitmap_last(b));
    if (last >= 0)
        CHECK(!cgp_bitmap_test(b, (unsigned)cgp_bitmap_next_clear(b, 0)), "next_clear set");
    free(f);
}

static void check_fail(int r, const cgp_bitmap *out, const cgp_bitmap *sentinel, size_t pos,
                       size_t len, const char *what, const char *in)
{
    CHECK(r == -EINVAL || r == -ERANGE || r == -ENOMEM, "%s returned %d", what, r);
    CHECK(out == sentinel, "%s failed but wrote *out (input \"%.80s\")", what, in);
    if (r != -ENOMEM)
        CHECK(pos <= len, "%s: err_pos %zu > len %zu (input \"%.80s\")", what, pos, len, in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s);
    cgp_bitmap *sentinel = cgp_bitmap_new();
    if (!sentinel) {
        free(s);
        return 0;
    }

    /* list syntax, default limit */
    cgp_bitmap *b = sentinel;
    size_t pos = (size_t)-1;
    int r = cgp_bitmap_parse(s, 0, &b, &pos);
    if (r == 0) {
        CHECK(b && b != sentinel, "success without a map");
        CHECK(cgp_bitmap_last(b) < (int)CGP_MAX_ID, "id beyond CGP_MAX_ID");
        roundtrip(b, s);
        cgp_bitmap_free(b);
    } else {
        check_fail(r, b, sentinel, pos, len, "parse", s);
    }

    /* list syntax, small limit: every id below it */
    b = sentinel;
    pos = (size_t)-1;
    r = cgp_bitmap_parse(s, 64, &b, &pos);
    if (r == 0) {
        CHECK(cgp_bitmap_last(b) < 64, "id %d beyond limit 64", cgp_bitmap_last(b));
        cgp_bitmap_free(b);
    } else {
        check_fail(r, b, sentinel, pos, len, "parse(limit 64)", s);
    }

    /* kernel hex mask */
    b = sentinel;
    pos = (size_t)-1;
    r = cgp_bitmap_parse_hex(s, &b, &pos);
    if (r == 0) {
        CHECK(b && b != sentinel, "hex success without a map");
        /* each comma-separated word holds at most 32 bits */
        size_t words = 1;
        for (const char *p = s; *p; p++)
            words += *p == ',';
        CHECK(cgp_bitmap_last(b) < (int)(32 * words), "hex: bit %d from %zu words",
              cgp_bitmap_last(b), words);
        roundtrip(b, s);
        cgp_bitmap_free(b);
    } else {
        check_fail(r, b, sentinel, pos, len, "parse_hex", s);
    }

    cgp_bitmap_free(sentinel);
    free(s);
    return 0;
}
