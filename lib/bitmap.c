/* Dynamic bitmaps and libvirt-style list syntax. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cgp_bitmap {
    size_t nwords;
    uint64_t *w;
};

CGP_EXPORT cgp_bitmap *cgp_bitmap_new(void)
{
    return calloc(1, sizeof(cgp_bitmap));
}

CGP_EXPORT void cgp_bitmap_free(cgp_bitmap *b)
{
    if (!b)
        return;
    free(b->w);
    free(b);
}

CGP_EXPORT cgp_bitmap *cgp_bitmap_dup(const cgp_bitmap *b)
{
    cgp_bitmap *n = cgp_bitmap_new();
    if (!n)
        return NULL;
    if (b->nwords) {
        n->w = malloc(b->nwords * sizeof(uint64_t));
        if (!n->w) {
            free(n);
            return NULL;
        }
        memcpy(n->w, b->w, b->nwords * sizeof(uint64_t));
        n->nwords = b->nwords;
    }
    return n;
}

static int grow(cgp_bitmap *b, size_t nwords)
{
    if (nwords <= b->nwords)
        return 0;
    uint64_t *w = realloc(b->w, nwords * sizeof(uint64_t));
    if (!w)
        return -ENOMEM;
    memset(w + b->nwords, 0, (nwords - b->nwords) * sizeof(uint64_t));
    b->w = w;
    b->nwords = nwords;
    return 0;
}

CGP_EXPORT int cgp_bitmap_set(cgp_bitmap *b, unsigned bit)
{
    if (bit >= CGP_MAX_ID)
        return -ERANGE;
    int r = grow(b, bit / 64 + 1);
    if (r < 0)
        return r;
    b->w[bit / 64] |= UINT64_C(1) << (bit % 64);
    return 0;
}

CGP_EXPORT int cgp_bitmap_set_range(cgp_bitmap *b, unsigned lo, unsigned hi)
{
    if (lo > hi || hi >= CGP_MAX_ID)
        return -ERANGE;
    int r = grow(b, hi / 64 + 1);
    if (r < 0)
        return r;
    for (unsigned i = lo; i <= hi;) {
        if (i % 64 == 0 && hi - i >= 63) {
            b->w[i / 64] = UINT64_MAX;
            i += 64;
        } else {
            b->w[i / 64] |= UINT64_C(1) << (i % 64);
            i++;
        }
    }
    return 0;
}

CGP_EXPORT void cgp_bitmap_clear(cgp_bitmap *b, unsigned bit)
{
    if (bit / 64 < b->nwords)
        b->w[bit / 64] &= ~(UINT64_C(1) << (bit % 64));
}

CGP_EXPORT void cgp_bitmap_clear_all(cgp_bitmap *b)
{
    if (b->nwords)
        memset(b->w, 0, b->nwords * sizeof(uint64_t));
}

CGP_EXPORT bool cgp_bitmap_test(const cgp_bitmap *b, unsigned bit)
{
    return bit / 64 < b->nwords && (b->w[bit / 64] >> (bit % 64)) & 1;
}

CGP_EXPORT unsigned cgp_bitmap_count(const cgp_bitmap *b)
{
    unsigned n = 0;
    for (size_t i = 0; i < b->nwords; i++)
        n += (unsigned)__builtin_popcountll(b->w[i]);
    return n;
}

CGP_EXPORT bool cgp_bitmap_is_empty(const cgp_bitmap *b)
{
    for (size_t i = 0; i < b->nwords; i++)
        if (b->w[i])
            return false;
    return true;
}

CGP_EXPORT int cgp_bitmap_next(const cgp_bitmap *b, unsigned from)
{
    size_t i = from / 64;
    if (i >= b->nwords)
        return -1;
    uint64_t w = b->w[i] & (UINT64_MAX << (from % 64));
    for (;;) {
        if (w)
            return (int)(i * 64 + (size_t)__builtin_ctzll(w));
        if (++i >= b->nwords)
            return -1;
        w = b->w[i];
    }
}

CGP_EXPORT int cgp_bitmap_next_clear(const cgp_bitmap *b, unsigned from)
{
    unsigned i = from;
    while (cgp_bitmap_test(b, i))
        i++;
    return (int)i;
}

CGP_EXPORT int cgp_bitmap_last(const cgp_bitmap *b)
{
    for (size_t i = b->nwords; i-- > 0;)
        if (b->w[i])
            return (int)(i * 64 + 63 - (size_t)__builtin_clzll(b->w[i]));
    return -1;
}

unsigned cgp_bitmap_rank(const cgp_bitmap *b, unsigned bit)
{
    unsigned n = 0;
    size_t w = bit / 64;
    for (size_t i = 0; i < w && i < b->nwords; i++)
        n += (unsigned)__builtin_popcountll(b->w[i]);
    if (w < b->nwords && bit % 64)
        n += (unsigned)__builtin_popcountll(b->w[w] & ((UINT64_C(1) << (bit % 64)) - 1));
    return n;
}

static uint64_t word(const cgp_bitmap *b, size_t i)
{
    return i < b->nwords ? b->w[i] : 0;
}

CGP_EXPORT bool cgp_bitmap_equal(const cgp_bitmap *a, const cgp_bitmap *b)
{
    size_t n = a->nwords > b->nwords ? a->nwords : b->nwords;
    for (size_t i = 0; i < n; i++)
        if (word(a, i) != word(b, i))
            return false;
    return true;
}

CGP_EXPORT bool cgp_bitmap_subset(const cgp_bitmap *sub, const cgp_bitmap *super)
{
    for (size_t i = 0; i < sub->nwords; i++)
        if (sub->w[i] & ~word(super, i))
            return false;
    return true;
}

CGP_EXPORT bool cgp_bitmap_overlaps(const cgp_bitmap *a, const cgp_bitmap *b)
{
    size_t n = a->nwords < b->nwords ? a->nwords : b->nwords;
    for (size_t i = 0; i < n; i++)
        if (a->w[i] & b->w[i])
            return true;
    return false;
}

CGP_EXPORT int cgp_bitmap_or(cgp_bitmap *dst, const cgp_bitmap *src)
{
    int r = grow(dst, src->nwords);
    if (r < 0)
        return r;
    for (size_t i = 0; i < src->nwords; i++)
        dst->w[i] |= src->w[i];
    return 0;
}

CGP_EXPORT void cgp_bitmap_and(cgp_bitmap *dst, const cgp_bitmap *src)
{
    for (size_t i = 0; i < dst->nwords; i++)
        dst->w[i] &= word(src, i);
}

CGP_EXPORT void cgp_bitmap_andnot(cgp_bitmap *dst, const cgp_bitmap *src)
{
    for (size_t i = 0; i < dst->nwords; i++)
        dst->w[i] &= ~word(src, i);
}

static void clear_range(cgp_bitmap *b, unsigned lo, unsigned hi)
{
    for (unsigned i = lo; i <= hi && i / 64 < b->nwords;) {
        if (i % 64 == 0 && hi - i >= 63) {
            b->w[i / 64] = 0;
            i += 64;
        } else {
            cgp_bitmap_clear(b, i++);
        }
    }
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Decimal number below limit; *pp advanced. -EINVAL when no digit, -ERANGE when too big. */
static int parse_num(const char **pp, unsigned limit, unsigned *out)
{
    const char *p = *pp;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    uint64_t v = 0;
    bool big = false;
    while (isdigit((unsigned char)*p)) {
        if (!big) {
            v = v * 10 + (uint64_t)(*p - '0');
            if (v >= limit)
                big = true;
        }
        p++;
    }
    *pp = p;
    if (big)
        return -ERANGE;
    *out = (unsigned)v;
    return 0;
}

CGP_EXPORT int cgp_bitmap_parse(const char *s, unsigned limit, cgp_bitmap **out, size_t *err_pos)
{
    if (limit == 0 || limit > CGP_MAX_ID)
        limit = CGP_MAX_ID;
    cgp_bitmap *b CGP_CLEANUP(cgp_bitmap_freep) = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    const char *p = skip_ws(s);
    const char *fault = p;
    int r = -EINVAL;
    if (!*p)
        goto fail;
    for (;;) {
        p = skip_ws(p);
        bool neg = false;
        if (*p == '^') {
            neg = true;
            p = skip_ws(p + 1);
        }
        unsigned lo, hi;
        fault = p;
        r = parse_num(&p, limit, &lo);
        if (r < 0)
            goto fail;
        hi = lo;
        p = skip_ws(p);
        if (*p == '-') {
            p = skip_ws(p + 1);
            fault = p;
            r = parse_num(&p, limit, &hi);
            if (r < 0)
                goto fail;
            if (hi < lo) {
                r = -ERANGE;
                goto fail;
            }
            p = skip_ws(p);
        }
        if (neg) {
            clear_range(b, lo, hi);
        } else if ((r = cgp_bitmap_set_range(b, lo, hi)) < 0) {
            goto fail;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0' || *p == '\n')
            break;
        fault = p;
        r = -EINVAL;
        goto fail;
    }
    *out = CGP_STEAL(b);
    return 0;
fail:
    if (err_pos)
        *err_pos = (size_t)(fault - s);
    return r;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

CGP_EXPORT int cgp_bitmap_parse_hex(const char *s, cgp_bitmap **out, size_t *err_pos)
{
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t start = 0;
    while (start < len && (s[start] == ' ' || s[start] == '\t'))
        start++;
    cgp_bitmap *b CGP_CLEANUP(cgp_bitmap_freep) = cgp_bitmap_new();
    if (!b)
        return -ENOMEM;
    if (start == len)
        goto bad_at_start;
    /* Walk from the least significant digit; commas separate 32-bit words. */
    unsigned bit = 0, digits_in_word = 0;
    for (size_t i = len; i-- > start;) {
        char c = s[i];
        if (c == ',') {
            if (digits_in_word == 0 || digits_in_word > 8 || i == start) {
                if (err_pos)
                    *err_pos = i;
                return -EINVAL;
            }
            bit = (bit + 31) / 32 * 32;
            digits_in_word = 0;
            continue;
        }
        int v = hexval(c);
        if (v < 0) {
            if (err_pos)
                *err_pos = i;
            return -EINVAL;
        }
        if (++digits_in_word > 8) {
            if (err_pos)
                *err_pos = i;
            return -EINVAL;
        }
        for (int k = 0; k < 4; k++) {
            if (v & (1 << k)) {
                int r = cgp_bitmap_set(b, bit + (unsigned)k);
                if (r < 0) {
                    if (err_pos)
                        *err_pos = i;
                    return r;
                }
            }
        }
        bit += 4;
    }
    *out = CGP_STEAL(b);
    return 0;
bad_at_start:
    if (err_pos)
        *err_pos = start;
    return -EINVAL;
}

/* Decimal digits of v at p (no NUL); their count. snprintf costs ten times
 * as much, and formatting 1024-CPU lists is most of a JSON report. */
int cgp_fmt_uint(char *p, unsigned v)
{
    char d[12];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    for (int k = 0; k < n; k++)
        p[k] = d[n - 1 - k];
    return n;
}

CGP_EXPORT char *cgp_bitmap_format(const cgp_bitmap *b)
{
    size_t cap = 16, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    int i = cgp_bitmap_next(b, 0);
    while (i >= 0) {
        int j = i;
        while (cgp_bitmap_test(b, (unsigned)j + 1))
            j++;
        char item[32];
        int n = 0;
        if (len)
            item[n++] = ',';
        n += cgp_fmt_uint(item + n, (unsigned)i);
        if (i != j) {
            item[n++] = '-';
            n += cgp_fmt_uint(item + n, (unsigned)j);
        }
        item[n] = '\0';
        while (len + (size_t)n + 1 > cap) {
            char *ns = cgp_grow_array(s, &cap, 1);
            if (!ns) {
                free(s);
                return NULL;
            }
            s = ns;
        }
        memcpy(s + len, item, (size_t)n + 1);
        len += (size_t)n;
        i = cgp_bitmap_next(b, (unsigned)j + 1);
    }
    return s;
}
