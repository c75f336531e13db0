/* Growing arrays and the arena that owns a report's strings and bitmaps
 * (lib/internal.h). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

void *cgp_grow_array(void *v, size_t *cap, size_t elem)
{
    size_t c = *cap ? *cap : 8;
    size_t bytes;
    if (__builtin_mul_overflow(c, (size_t)2, &c) || __builtin_mul_overflow(c, elem, &bytes))
        return NULL;
    void *nv = realloc(v, bytes ? bytes : 1);
    if (!nv)
        return NULL;
    *cap = c;
    return nv;
}

void *cgp_arena_keep(struct cgp_arena *a, void *p, void (*fn)(void *))
{
    if (!p)
        return NULL;
    if (!CGP_GROW(a->it, a->n, a->cap)) {
        fn(p);
        return NULL;
    }
    a->it[a->n++] = (struct cgp_arena_item){ p, fn };
    return p;
}

char *cgp_arena_str(struct cgp_arena *a, char *s)
{
    return cgp_arena_keep(a, s, free);
}

char *cgp_arena_strdup(struct cgp_arena *a, const char *s)
{
    return s ? cgp_arena_str(a, strdup(s)) : NULL;
}

char *cgp_arena_printf(struct cgp_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return r < 0 ? NULL : cgp_arena_str(a, s);
}

static void bitmap_free(void *b)
{
    cgp_bitmap_free(b);
}

cgp_bitmap *cgp_arena_bitmap(struct cgp_arena *a, cgp_bitmap *b)
{
    return cgp_arena_keep(a, b, bitmap_free);
}

void cgp_arena_clear(struct cgp_arena *a)
{
    while (a->n) {
        a->n--;
        a->it[a->n].fn(a->it[a->n].p);
    }
    free(a->it);
    *a = (struct cgp_arena){ 0 };
}
