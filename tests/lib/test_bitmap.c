/* Unit tests for cgp_bitmap: libvirt's virbitmaptest cases (described in
 * section 3 of the oracles README) adapted to our API, plus cgplace's own
 * extensions (spec §3: "^N-M" removal, precise error positions, kernel hex
 * masks). Every expectation below is derived from the case definition, never
 * from the library's output. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Parse s (must succeed) with the given limit. */
static cgp_bitmap *P(const char *s, unsigned limit)
{
    cgp_bitmap *b = NULL;
    size_t pos = 12345;
    int r = cgp_bitmap_parse(s, limit, &b, &pos);
    cr_assert_eq(r, 0, "parse(\"%s\", %u) = %d (%s), err_pos %zu", s, limit, r, strerror(-r), pos);
    cr_assert_not_null(b);
    return b;
}

static cgp_bitmap *H(const char *s)
{
    cgp_bitmap *b = NULL;
    size_t pos = 12345;
    int r = cgp_bitmap_parse_hex(s, &b, &pos);
    cr_assert_eq(r, 0, "parse_hex(\"%s\") = %d (%s), err_pos %zu", s, r, strerror(-r), pos);
    cr_assert_not_null(b);
    return b;
}

/* Build a bitmap from an explicit list of ids (independent of the parser). */
static cgp_bitmap *B(size_t n, const unsigned *ids)
{
    cgp_bitmap *b = cgp_bitmap_new();
    cr_assert_not_null(b);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(cgp_bitmap_set(b, ids[i]), 0, "set(%u)", ids[i]);
    return b;
}
#define BITS(...) B(sizeof((unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned), (unsigned[]){ __VA_ARGS__ })

static cgp_bitmap *E(void)
{
    cgp_bitmap *b = cgp_bitmap_new();
    cr_assert_not_null(b);
    return b;
}

/* Range lo..hi built bit by bit. */
static cgp_bitmap *R(unsigned lo, unsigned hi)
{
    cgp_bitmap *b = E();
    for (unsigned i = lo; i <= hi; i++)
        cr_assert_eq(cgp_bitmap_set(b, i), 0);
    return b;
}

static void expect_fmt(const cgp_bitmap *b, const char *want)
{
    char *s = cgp_bitmap_format(b);
    cr_assert_not_null(s);
    cr_expect_str_eq(s, want, "format: got \"%s\", want \"%s\"", s, want);
    free(s);
}

static void expect_eq(const cgp_bitmap *got, const cgp_bitmap *want, const char *what)
{
    if (!cgp_bitmap_equal(got, want)) {
        char *g = cgp_bitmap_format(got), *w = cgp_bitmap_format(want);
        cr_expect(0, "%s: got {%s}, want {%s}", what, g, w);
        free(g);
        free(w);
    }
}

/* Parse must fail with want_r and leave *out untouched; returns err_pos. */
static size_t expect_parse_fail(const char *s, unsigned limit, int want_r)
{
    cgp_bitmap *sentinel = cgp_bitmap_new();
    cgp_bitmap *b = sentinel;
    size_t pos = (size_t)-1;
    int r = cgp_bitmap_parse(s, limit, &b, &pos);
    cr_expect_eq(r, want_r, "parse(\"%s\", %u) = %d, want %d", s, limit, r, want_r);
    cr_expect_eq(b, sentinel, "parse(\"%s\") failed but wrote *out", s);
    cr_expect_leq(pos, strlen(s), "parse(\"%s\"): err_pos %zu beyond the string", s, pos);
    cgp_bitmap_free(sentinel);
    return pos;
}

static size_t expect_hex_fail(const char *s)
{
    cgp_bitmap *sentinel = cgp_bitmap_new();
    cgp_bitmap *b = sentinel;
    size_t pos = (size_t)-1;
    int r = cgp_bitmap_parse_hex(s, &b, &pos);
    cr_expect_eq(r, -EINVAL, "parse_hex(\"%s\") = %d, want -EINVAL", s, r);
    cr_expect_eq(b, sentinel, "parse_hex(\"%s\") failed but wrote *out", s);
    cr_expect_leq(pos, strlen(s), "parse_hex(\"%s\"): err_pos %zu beyond the string", s, pos);
    cgp_bitmap_free(sentinel);
    return pos;
}

/* ------------------------------------------------------------------ */
/* virbitmaptest: parse + format round trip                             */
/* ------------------------------------------------------------------ */

Test(bitmap_libvirt, parse_format_roundtrip_1025)
{
    const char *s = "1-32,50,88-99,1021-1023";
    cgp_bitmap *b = P(s, 1025);
    cr_expect_eq(cgp_bitmap_count(b), 48u); /* 32 + 1 + 12 + 3 */
    for (unsigned i = 0; i < 1025; i++) {
        bool want = (i >= 1 && i <= 32) || i == 50 || (i >= 88 && i <= 99) || (i >= 1021 && i <= 1023);
        cr_expect_eq(cgp_bitmap_test(b, i), want, "bit %u", i);
    }
    expect_fmt(b, s);
    cgp_bitmap_free(b);
}

Test(bitmap_libvirt, parse_with_spaces_and_iteration)
{
    cgp_bitmap *b = P("0, 2-4, 6-10, 12, 14-18, 20, 22, 25", 40);
    const unsigned want[] = { 0, 2, 3, 4, 6, 7, 8, 9, 10, 12, 14, 15, 16, 17, 18, 20, 22, 25 };
    const size_t nw = sizeof want / sizeof *want;
    cr_expect_eq(cgp_bitmap_count(b), nw);

    /* next-set-bit walk */
    size_t k = 0;
    for (int i = cgp_bitmap_next(b, 0); i >= 0; i = cgp_bitmap_next(b, (unsigned)i + 1)) {
        cr_assert_lt(k, nw, "too many set bits");
        cr_expect_eq((unsigned)i, want[k], "set bit #%zu", k);
        k++;
    }
    cr_expect_eq(k, nw);

    /* next-clear-bit walk over the 40-bit range */
    unsigned clear[40];
    size_t nc = 0;
    for (unsigned i = 0; i < 40; i++) {
        bool set = false;
        for (size_t j = 0; j < nw; j++)
            set |= want[j] == i;
        if (!set)
            clear[nc++] = i;
    }
    k = 0;
    for (int i = cgp_bitmap_next_clear(b, 0); i < 40; i = cgp_bitmap_next_clear(b, (unsigned)i + 1)) {
        cr_assert_lt(k, nc);
        cr_expect_eq((unsigned)i, clear[k], "clear bit #%zu", k);
        k++;
    }
    cr_expect_eq(k, nc);
    /* our maps are unbounded: past the last set bit everything is clear */
    cr_expect_eq(cgp_bitmap_next_clear(b, 40), 40);
    cr_expect_eq(cgp_bitmap_next(b, 26), -1);
    cr_expect_eq(cgp_bitmap_last(b), 25);
    expect_fmt(b, "0,2-4,6-10,12,14-18,20,22,25");
    cgp_bitmap_free(b);
}

Test(bitmap_libvirt, format)
{
    cgp_bitmap *b = E();
    expect_fmt(b, "");
    cgp_bitmap_set(b, 0);
    expect_fmt(b, "0");
    cgp_bitmap_set(b, 4);
    cgp_bitmap_set(b, 5);
    expect_fmt(b, "0,4-5");
    cgp_bitmap_set(b, 6);
    expect_fmt(b, "0,4-6");
    for (unsigned i = 13; i <= 16; i++)
        cgp_bitmap_set(b, i);
    expect_fmt(b, "0,4-6,13-16");
    cgp_bitmap_set(b, 62);
    cgp_bitmap_set(b, 63);
    expect_fmt(b, "0,4-6,13-16,62-63");
    cgp_bitmap_free(b);
}

Test(bitmap_libvirt, out_of_range_fails_and_leaves_no_map)
{
    expect_parse_fail("100000000", 20, -ERANGE);
    expect_parse_fail("1-1000000000", 20, -ERANGE);
    /* "1-10" is in range; "^..." right after a number is malformed here */
    cgp_bitmap *sentinel = cgp_bitmap_new(), *b = sentinel;
    int r = cgp_bitmap_parse("1-10^10000000000", 20, &b, NULL);
    cr_expect(r == -EINVAL || r == -ERANGE, "got %d", r);
    cr_expect_eq(b, sentinel);
    cgp_bitmap_free(sentinel);
    /* the limit itself is out of range, one below is not */
    expect_parse_fail("20", 20, -ERANGE);
    cgp_bitmap *ok = P("19", 20);
    cr_expect(cgp_bitmap_test(ok, 19));
    cgp_bitmap_free(ok);
}

Test(bitmap_libvirt, zero_caret_zero_is_empty)
{
    cgp_bitmap *b = P("0,^0", 0);
    cr_expect(cgp_bitmap_is_empty(b));
    cr_expect_eq(cgp_bitmap_count(b), 0u);
    cr_expect_eq(cgp_bitmap_last(b), -1);
    expect_fmt(b, "");
    cgp_bitmap_free(b);
}

Test(bitmap_libvirt, custom_terminator_not_supported)
{
    /* libvirt stops at a caller-given terminator; ours reports the byte. */
    const char *s = "0-3,5-8,11-15f16";
    size_t pos = expect_parse_fail(s, 0, -EINVAL);
    cr_expect_eq(pos, (size_t)(strchr(s, 'f') - s), "err_pos %zu, want 13", pos);
}

Test(bitmap_libvirt, overlaps)
{
    cgp_bitmap *a = P("0-3,5-8,11-15", 0);
    cgp_bitmap *b = P("4,9,10,16-19", 0);
    cgp_bitmap *c = P("15", 0);
    cgp_bitmap *e = P("0,^0", 0);
    cr_expect(!cgp_bitmap_overlaps(a, b));
    cr_expect(!cgp_bitmap_overlaps(b, a));
    cr_expect(cgp_bitmap_overlaps(a, c));
    cr_expect(cgp_bitmap_overlaps(c, a));
    cr_expect(!cgp_bitmap_overlaps(a, e));
    cr_expect(!cgp_bitmap_overlaps(e, a));
    cr_expect(!cgp_bitmap_overlaps(e, e));
    cgp_bitmap_free(a);
    cgp_bitmap_free(b);
    cgp_bitmap_free(c);
    cgp_bitmap_free(e);
}

/* op: 'a' and, 'n' andnot, 'o' or.  All lists parsed with limit 256 like libvirt. */
static void binop(const char *x, const char *y, char op, const char *want)
{
    cgp_bitmap *a = P(x, 256), *b = P(y, 256), *w = P(want, 256);
    char what[128];
    snprintf(what, sizeof what, "{%s} %c {%s}", x, op, y);
    if (op == 'a')
        cgp_bitmap_and(a, b);
    else if (op == 'n')
        cgp_bitmap_andnot(a, b);
    else
        cr_assert_eq(cgp_bitmap_or(a, b), 0);
    expect_eq(a, w, what);
    cgp_bitmap_free(a);
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);
}
#define EMPTY "0,^0"

Test(bitmap_libvirt, intersection)
{
    binop("0", "0", 'a', "0");
    binop("0-3", "0", 'a', "0");
    binop("0-3", "0,3", 'a', "0,3");
    binop(EMPTY, "0", 'a', EMPTY);
    binop("0-3", "0-3", 'a', "0-3");
    binop("0-3", EMPTY, 'a', EMPTY);
    binop("0,2", "1,3", 'a', EMPTY);
}

Test(bitmap_libvirt, subtraction)
{
    binop("0", "0", 'n', EMPTY);
    binop("0-3", "0", 'n', "1-3");
    binop("0-3", "0,3", 'n', "1-2");
    binop(EMPTY, "0", 'n', EMPTY);
    binop("0-3", "0-3", 'n', EMPTY);
    binop("0-3", EMPTY, 'n', "0-3");
    binop("0,2", "1,3", 'n', "0,2");
}

Test(bitmap_libvirt, union_grows)
{
    binop("0-1", "0-1", 'o', "0-1");
    binop("0", "1", 'o', "0-1");
    binop("0-1", "2-3", 'o', "0-3");
    binop("0-3", "1-2", 'o', "0-3");
    binop(EMPTY, EMPTY, 'o', EMPTY);
    /* 12345 does not fit a 256-bit map: build these directly */
    for (int order = 0; order < 2; order++) {
        cgp_bitmap *e = E(), *x = BITS(12345);
        cgp_bitmap *dst = order ? x : e, *src = order ? e : x;
        cr_assert_eq(cgp_bitmap_or(dst, src), 0);
        cr_expect_eq(cgp_bitmap_count(dst), 1u);
        cr_expect(cgp_bitmap_test(dst, 12345));
        cr_expect_eq(cgp_bitmap_last(dst), 12345);
        expect_fmt(dst, "12345");
        cgp_bitmap_free(e);
        cgp_bitmap_free(x);
    }
}

Test(bitmap_libvirt, growth_to_1024)
{
    cgp_bitmap *b = P("34,1023", 1024);
    cr_expect_eq(cgp_bitmap_count(b), 2u);
    cr_expect(cgp_bitmap_test(b, 34));
    cr_expect(cgp_bitmap_test(b, 1023));
    cr_expect_eq(cgp_bitmap_last(b), 1023);
    expect_fmt(b, "34,1023");
    cgp_bitmap_free(b);
    expect_parse_fail("34,1024", 1024, -ERANGE);
    /* an empty map grows when a high bit is set */
    cgp_bitmap *g = E();
    cr_expect_eq(cgp_bitmap_set(g, 1023), 0);
    cr_expect(cgp_bitmap_test(g, 1023));
    cr_expect(!cgp_bitmap_test(g, 1022));
    cr_expect(!cgp_bitmap_test(g, 1024));
    cr_expect_eq(cgp_bitmap_last(g), 1023);
    cgp_bitmap_free(g);
}

/* Check b against the 64-bit value v (bits >= 64 must be clear). */
static void expect_value(const cgp_bitmap *b, uint64_t v, const char *what)
{
    for (unsigned i = 0; i < 64; i++)
        cr_expect_eq(cgp_bitmap_test(b, i), (bool)((v >> i) & 1), "%s: bit %u", what, i);
    cr_expect_eq(cgp_bitmap_next(b, 64), -1, "%s: bits above 63", what);
}

Test(bitmap_libvirt, hex_strings_parse)
{
    /* libvirt's comma-less round-trip strings, written as kernel masks
     * (32-bit words, most significant first). */
    cgp_bitmap *b = H("12,34feebee");
    expect_value(b, UINT64_C(0x1234feebee), "1234feebee");
    cgp_bitmap_free(b);
    b = H("0,00c0fefe");
    expect_value(b, UINT64_C(0xc0fefe), "000c0fefe");
    cgp_bitmap_free(b);
    b = H("00c0fefe"); /* leading zeros within a word */
    expect_value(b, UINT64_C(0xc0fefe), "00c0fefe");
    cgp_bitmap_free(b);
    b = H("0");
    cr_expect(cgp_bitmap_is_empty(b));
    cgp_bitmap_free(b);
    b = H("804"); /* bits {2,11} print as "804" in libvirt */
    cgp_bitmap *w = BITS(2, 11);
    expect_eq(b, w, "804");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);
    /* a word wider than 32 bits is not a kernel mask */
    expect_hex_fail("1234feebee");
    expect_hex_fail("000c0fefe");
}

Test(bitmap_libvirt, raw_bytes_via_hex)
{
    /* bytes {01 02 00 00 04} (byte 0 = bits 0-7) = 0x0400000201 */
    cgp_bitmap *b = H("04,00000201");
    cgp_bitmap *w = BITS(0, 9, 34);
    expect_eq(b, w, "raw bytes");
    cgp_bitmap_set(b, 2);
    cgp_bitmap_set(b, 15);
    expect_fmt(b, "0,2,9,15,34");
    /* {05 82 00 00 04} */
    cgp_bitmap *b2 = H("4,00008205");
    expect_eq(b, b2, "bytes after setting 2 and 15");
    cgp_bitmap_free(b);
    cgp_bitmap_free(b2);
    cgp_bitmap_free(w);
}

/* ------------------------------------------------------------------ */
/* kernel hex masks                                                    */
/* ------------------------------------------------------------------ */

Test(bitmap_hex, kernel_cpumap_words)
{
    cgp_bitmap *b = H("00000000,000000ff");
    cgp_bitmap *w = R(0, 7);
    expect_eq(b, w, "00000000,000000ff");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);

    b = H("0000000f,00000000");
    w = R(32, 35);
    expect_eq(b, w, "0000000f,00000000");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);

    /* short words are still 32 bits each */
    b = H("ff,ff");
    w = R(0, 7);
    cgp_bitmap *hi = R(32, 39);
    cgp_bitmap_or(w, hi);
    expect_eq(b, w, "ff,ff");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);
    cgp_bitmap_free(hi);

    /* upper case and the s390 node0 style of many words */
    b = H("FFFFFFFF,80000001");
    w = BITS(0, 31);
    hi = R(32, 63);
    cgp_bitmap_or(w, hi);
    expect_eq(b, w, "FFFFFFFF,80000001");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);
    cgp_bitmap_free(hi);
}

Test(bitmap_hex, terminators)
{
    cgp_bitmap *w = R(0, 7);
    const char *forms[] = { "000000ff\n", "00000000,000000ff\n", "ff \n", " ff", "ff\n\0junk" };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        cgp_bitmap *b = H(forms[i]);
        expect_eq(b, w, forms[i]);
        cgp_bitmap_free(b);
    }
    cgp_bitmap_free(w);
}

Test(bitmap_hex, wide_1024)
{
    char s[33 * 9 + 1] = "";
    for (int i = 0; i < 32; i++)
        strcat(s, i ? ",ffffffff" : "ffffffff");
    cgp_bitmap *b = H(s);
    cr_expect_eq(cgp_bitmap_count(b), 1024u);
    cr_expect_eq(cgp_bitmap_last(b), 1023);
    cr_expect_eq(cgp_bitmap_next_clear(b, 0), 1024);
    expect_fmt(b, "0-1023");
    cgp_bitmap_free(b);
    /* a single top bit in 33 words */
    char t[34 * 9 + 1] = "1";
    for (int i = 0; i < 32; i++)
        strcat(t, ",00000000");
    b = H(t);
    cr_expect_eq(cgp_bitmap_count(b), 1u);
    cr_expect(cgp_bitmap_test(b, 1024));
    cgp_bitmap_free(b);
}

Test(bitmap_hex, errors)
{
    size_t pos;
    pos = expect_hex_fail("");
    cr_expect_eq(pos, 0u);
    expect_hex_fail("\n");
    pos = expect_hex_fail("00ff,zz");
    cr_expect(pos == 5 || pos == 6, "err_pos %zu", pos);
    pos = expect_hex_fail("0x10");
    cr_expect_eq(pos, 1u, "'x' is at 1, got %zu", pos);
    pos = expect_hex_fail("00,,ff");
    cr_expect(pos == 2 || pos == 3, "err_pos %zu", pos);
    pos = expect_hex_fail(",ff");
    cr_expect_eq(pos, 0u);
    pos = expect_hex_fail("ff,");
    cr_expect_eq(pos, 2u);
    pos = expect_hex_fail("f f");
    cr_expect_eq(pos, 1u);
    pos = expect_hex_fail("-1");
    cr_expect_eq(pos, 0u);
}

/* ------------------------------------------------------------------ */
/* cgplace list syntax extensions and errors                          */
/* ------------------------------------------------------------------ */

Test(bitmap_list, caret_single_and_range)
{
    cgp_bitmap *b = P("0-7,^3", 0);
    cgp_bitmap *w = BITS(0, 1, 2, 4, 5, 6, 7);
    expect_eq(b, w, "0-7,^3");
    expect_fmt(b, "0-2,4-7");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);

    b = P("0-15,^4-7", 0);
    w = R(0, 3);
    cgp_bitmap *x = R(8, 15);
    cgp_bitmap_or(w, x);
    expect_eq(b, w, "0-15,^4-7");
    expect_fmt(b, "0-3,8-15");
    cgp_bitmap_free(b);
    cgp_bitmap_free(w);
    cgp_bitmap_free(x);

    /* applied in order: a later item re-adds */
    b = P("0-7,^2-5,4", 0);
    expect_fmt(b, "0-1,4,6-7");
    cgp_bitmap_free(b);
    /* removing what is not there, even far beyond the map, is harmless */
    b = P("1,^100000-200000,^0", 0);
    expect_fmt(b, "1");
    cgp_bitmap_free(b);
    /* whitespace around tokens, including after '^' and around '-' */
    b = P(" 0 - 7 , ^ 3 - 4 ", 0);
    expect_fmt(b, "0-2,5-7");
    cgp_bitmap_free(b);
    /* a leading removal leaves an empty set */
    b = P("^3", 0);
    cr_expect(cgp_bitmap_is_empty(b));
    cgp_bitmap_free(b);
    /* duplicates and unordered items */
    b = P("9,3,1-2,3,2", 0);
    expect_fmt(b, "1-3,9");
    cgp_bitmap_free(b);
    b = P("4-4", 0);
    expect_fmt(b, "4");
    cgp_bitmap_free(b);
}

Test(bitmap_list, newline_terminated)
{
    cgp_bitmap *b = P("0-3,8\n", 0);
    expect_fmt(b, "0-3,8");
    cgp_bitmap_free(b);
    b = P("5\n", 0);
    expect_fmt(b, "5");
    cgp_bitmap_free(b);
}

Test(bitmap_list, reversed_range_is_erange)
{
    size_t pos = expect_parse_fail("3-1", 0, -ERANGE);
    cr_expect(pos == 0 || pos == 2, "err_pos %zu should point at the range", pos);
    pos = expect_parse_fail("0,^7-6", 0, -ERANGE);
    cr_expect(pos >= 2 && pos <= 5, "err_pos %zu", pos);
}

Test(bitmap_list, empty_and_blank_are_einval)
{
    size_t pos = expect_parse_fail("", 0, -EINVAL);
    cr_expect_eq(pos, 0u);
    expect_parse_fail("   ", 0, -EINVAL);
    expect_parse_fail("\t", 0, -EINVAL);
    expect_parse_fail("\n", 0, -EINVAL);
}

Test(bitmap_list, error_positions)
{
    struct {
        const char *s;
        size_t pos;
    } cases[] = {
        { "0-3,x", 4 },   { "1,,2", 2 },  { "5-", 2 },    { "0-3 4", 4 }, { "^", 1 },
        { "-1", 0 },      { "1,", 2 },    { ",1", 0 },    { "1-2-3", 3 }, { "a", 0 },
        { "0-3,5;7", 5 }, { "1 2", 2 },   { "^^1", 1 },   { "0x1", 1 },   { "+1", 0 },
        { "1.5", 1 },     { "3,-4", 2 },  { "1-^2", 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t pos = expect_parse_fail(cases[i].s, 0, -EINVAL);
        cr_expect_eq(pos, cases[i].pos, "\"%s\": err_pos %zu, want %zu", cases[i].s, pos,
                     cases[i].pos);
    }
    /* NULL err_pos is allowed */
    cgp_bitmap *b = NULL;
    cr_expect_eq(cgp_bitmap_parse("x", 0, &b, NULL), -EINVAL);
    cr_expect_null(b);
    cr_expect_eq(cgp_bitmap_parse_hex("x", &b, NULL), -EINVAL);
    cr_expect_null(b);
}

Test(bitmap_list, erange_positions)
{
    size_t pos = expect_parse_fail("0-3,64", 64, -ERANGE);
    cr_expect_eq(pos, 4u);
    pos = expect_parse_fail("1,2-100", 64, -ERANGE);
    cr_expect_eq(pos, 4u);
}

Test(bitmap_list, ids_near_max)
{
    char s[64];
    snprintf(s, sizeof s, "%u", CGP_MAX_ID - 1);
    cgp_bitmap *b = P(s, 0);
    cr_expect_eq(cgp_bitmap_count(b), 1u);
    cr_expect_eq(cgp_bitmap_last(b), (int)(CGP_MAX_ID - 1));
    expect_fmt(b, s);
    cgp_bitmap_free(b);

    snprintf(s, sizeof s, "%u", CGP_MAX_ID);
    size_t pos = expect_parse_fail(s, 0, -ERANGE);
    cr_expect_eq(pos, 0u);

    snprintf(s, sizeof s, "%u-%u", CGP_MAX_ID - 6, CGP_MAX_ID - 1);
    b = P(s, 0);
    cr_expect_eq(cgp_bitmap_count(b), 6u);
    cr_expect_eq(cgp_bitmap_next(b, 0), (int)(CGP_MAX_ID - 6));
    expect_fmt(b, s);
    cgp_bitmap_free(b);

    snprintf(s, sizeof s, "0-%u", CGP_MAX_ID - 1);
    b = P(s, 0);
    cr_expect_eq(cgp_bitmap_count(b), CGP_MAX_ID);
    cr_expect_eq(cgp_bitmap_next_clear(b, 0), (int)CGP_MAX_ID);
    expect_fmt(b, s);
    cgp_bitmap_free(b);

    snprintf(s, sizeof s, "0-%u", CGP_MAX_ID);
    pos = expect_parse_fail(s, 0, -ERANGE);
    cr_expect_eq(pos, 2u);

    /* values that would wrap a 32- or 64-bit accumulator */
    expect_parse_fail("4294967297", 0, -ERANGE);           /* 2^32 + 1 */
    expect_parse_fail("18446744073709551617", 0, -ERANGE); /* 2^64 + 1 */
    expect_parse_fail("99999999999999999999999999999999999999", 0, -ERANGE);
    expect_parse_fail("0-18446744073709551616", 0, -ERANGE);

    /* set/set_range refuse ids >= CGP_MAX_ID */
    b = E();
    cr_expect_eq(cgp_bitmap_set(b, CGP_MAX_ID), -ERANGE);
    cr_expect_eq(cgp_bitmap_set_range(b, CGP_MAX_ID - 1, CGP_MAX_ID), -ERANGE);
    cr_expect_eq(cgp_bitmap_set_range(b, 5, 4), -ERANGE);
    cr_expect(cgp_bitmap_is_empty(b));
    cr_expect_eq(cgp_bitmap_set(b, CGP_MAX_ID - 1), 0);
    cr_expect_eq(cgp_bitmap_last(b), (int)(CGP_MAX_ID - 1));
    cgp_bitmap_free(b);
}

Test(bitmap_list, limit_is_exclusive)
{
    cgp_bitmap *b = P("0-63", 64);
    cr_expect_eq(cgp_bitmap_count(b), 64u);
    cgp_bitmap_free(b);
    expect_parse_fail("63-64", 64, -ERANGE);
    b = P("0", 1);
    cr_expect(cgp_bitmap_test(b, 0));
    cgp_bitmap_free(b);
    expect_parse_fail("1", 1, -ERANGE);
}

/* ------------------------------------------------------------------ */
/* operations on large sparse maps                                    */
/* ------------------------------------------------------------------ */

Test(bitmap_ops, sparse_next_last_count)
{
    const unsigned ids[] = { 0, 63, 64, 1000, 65535, CGP_MAX_ID - 1 };
    cgp_bitmap *b = B(6, ids);
    cr_expect_eq(cgp_bitmap_count(b), 6u);
    cr_expect_eq(cgp_bitmap_next(b, 0), 0);
    cr_expect_eq(cgp_bitmap_next(b, 1), 63);
    cr_expect_eq(cgp_bitmap_next(b, 63), 63);
    cr_expect_eq(cgp_bitmap_next(b, 64), 64);
    cr_expect_eq(cgp_bitmap_next(b, 65), 1000);
    cr_expect_eq(cgp_bitmap_next(b, 1001), 65535);
    cr_expect_eq(cgp_bitmap_next(b, 65536), (int)(CGP_MAX_ID - 1));
    cr_expect_eq(cgp_bitmap_next(b, CGP_MAX_ID), -1);
    cr_expect_eq(cgp_bitmap_next(b, 4000000000u), -1);
    cr_expect_eq(cgp_bitmap_next_clear(b, 0), 1);
    cr_expect_eq(cgp_bitmap_next_clear(b, 63), 65);
    cr_expect_eq(cgp_bitmap_next_clear(b, 65535), 65536);
    cr_expect_eq(cgp_bitmap_next_clear(b, CGP_MAX_ID - 1), (int)CGP_MAX_ID);
    cr_expect_eq(cgp_bitmap_last(b), (int)(CGP_MAX_ID - 1));

    size_t k = 0;
    cgp_bitmap_foreach(b, i) {
        cr_assert_lt(k, 6u);
        cr_expect_eq((unsigned)i, ids[k]);
        k++;
    }
    cr_expect_eq(k, 6u);

    char want[128];
    snprintf(want, sizeof want, "0,63-64,1000,65535,%u", CGP_MAX_ID - 1);
    expect_fmt(b, want);

    cgp_bitmap_clear(b, CGP_MAX_ID - 1);
    cr_expect_eq(cgp_bitmap_last(b), 65535);
    cgp_bitmap_clear(b, 4000000000u); /* beyond the map: no-op */
    cr_expect_eq(cgp_bitmap_count(b), 5u);
    cgp_bitmap_clear_all(b);
    cr_expect(cgp_bitmap_is_empty(b));
    cr_expect_eq(cgp_bitmap_last(b), -1);
    cr_expect_eq(cgp_bitmap_next(b, 0), -1);
    cr_expect_eq(cgp_bitmap_count(b), 0u);
    cgp_bitmap_free(b);
}

Test(bitmap_ops, set_range_word_boundaries)
{
    struct {
        unsigned lo, hi;
    } rs[] = { { 0, 0 }, { 0, 63 }, { 64, 127 }, { 60, 200 }, { 63, 64 }, { 1, 62 }, { 100, 1000 } };
    for (size_t i = 0; i < sizeof rs / sizeof *rs; i++) {
        cgp_bitmap *b = E();
        cr_assert_eq(cgp_bitmap_set_range(b, rs[i].lo, rs[i].hi), 0);
        cgp_bitmap *w = R(rs[i].lo, rs[i].hi);
        char what[64];
        snprintf(what, sizeof what, "set_range(%u, %u)", rs[i].lo, rs[i].hi);
        expect_eq(b, w, what);
        cr_expect_eq(cgp_bitmap_count(b), rs[i].hi - rs[i].lo + 1, "%s count", what);
        cr_expect_eq(cgp_bitmap_next(b, 0), (int)rs[i].lo);
        cr_expect_eq(cgp_bitmap_last(b), (int)rs[i].hi);
        cr_expect_eq(cgp_bitmap_next_clear(b, rs[i].lo), (int)rs[i].hi + 1);
        cgp_bitmap_free(b);
        cgp_bitmap_free(w);
    }
}

Test(bitmap_ops, equal_subset_dup_across_sizes)
{
    cgp_bitmap *small = BITS(1, 2);
    cgp_bitmap *big = BITS(1, 2, 5000);
    cr_expect(!cgp_bitmap_equal(small, big));
    cr_expect(cgp_bitmap_subset(small, big));
    cr_expect(!cgp_bitmap_subset(big, small));
    cgp_bitmap_clear(big, 5000); /* big keeps its words, all zero up there */
    cr_expect(cgp_bitmap_equal(small, big));
    cr_expect(cgp_bitmap_equal(big, small));
    cr_expect(cgp_bitmap_subset(big, small));
    cgp_bitmap *e = E();
    cr_expect(cgp_bitmap_subset(e, small));
    cr_expect(!cgp_bitmap_subset(small, e));
    cr_expect(cgp_bitmap_equal(e, e));

    cgp_bitmap *d = cgp_bitmap_dup(small);
    cr_assert_not_null(d);
    cr_expect(cgp_bitmap_equal(d, small));
    cgp_bitmap_set(d, 7); /* deep copy: the original does not change */
    cr_expect(!cgp_bitmap_test(small, 7));
    cgp_bitmap *de = cgp_bitmap_dup(e);
    cr_assert_not_null(de);
    cr_expect(cgp_bitmap_is_empty(de));

    /* and/andnot with a shorter source clear/keep the high part correctly */
    cgp_bitmap *x = BITS(1, 3000);
    cgp_bitmap *y = BITS(1);
    cgp_bitmap_and(x, y);
    expect_fmt(x, "1");
    cgp_bitmap_set(x, 3000);
    cgp_bitmap_andnot(x, y);
    expect_fmt(x, "3000");
    /* overlaps across sizes */
    cr_expect(!cgp_bitmap_overlaps(x, y));
    cr_expect(cgp_bitmap_overlaps(x, x));

    cgp_bitmap_free(small);
    cgp_bitmap_free(big);
    cgp_bitmap_free(e);
    cgp_bitmap_free(d);
    cgp_bitmap_free(de);
    cgp_bitmap_free(x);
    cgp_bitmap_free(y);
    cgp_bitmap_free(NULL); /* documented no-op */
}

Test(bitmap_ops, format_parse_roundtrip_pattern)
{
    /* every third bit below 3000, plus runs: format then parse gives it back */
    cgp_bitmap *b = E();
    for (unsigned i = 0; i < 3000; i += 3)
        cgp_bitmap_set(b, i);
    cgp_bitmap_set_range(b, 4000, 4100);
    char *s = cgp_bitmap_format(b);
    cr_assert_not_null(s);
    cgp_bitmap *b2 = P(s, 0);
    expect_eq(b2, b, "round trip");
    cr_expect_eq(cgp_bitmap_count(b2), 1000u + 101u);
    cr_expect_eq(strncmp(s, "0,3,6,", 6), 0);
    cr_expect_neq(strstr(s, ",2997,4000-4100"), NULL, "tail of %s", s + strlen(s) - 30);
    free(s);
    cgp_bitmap_free(b);
    cgp_bitmap_free(b2);
}
