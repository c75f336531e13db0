/* Helpers of the policy unit tests (one Criterion binary, several files):
 * fixture hosts (POLICY_FIXDIR, made by mkfixtures.py), hosts written by the
 * test itself, compiling a policy, looking at the result. */
#ifndef POLICY_TEST_H
#define POLICY_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgplace_guests.h"
#include "cgplace_policy.h"

static inline cgp_topology *topo(const char *fx)
{
    const char *dir = getenv("POLICY_FIXDIR");
    cr_assert(dir, "POLICY_FIXDIR not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, fx);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(path, NULL, &ctx), 0);
    cgp_topology *t = NULL;
    cr_assert_eq(cgp_topology_read(ctx, &t), 0, "%s", cgp_ctx_last_error(ctx));
    cgp_ctx_free(ctx);
    return t;
}

/* Compile src on fixture fx; returns the errno, fills *pl on success. */
static inline int compile(const char *fx, const char *src, cgp_diags **dout, cgp_placement **pl)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    int r = cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p);
    if (r == 0) {
        cgp_topology *t = topo(fx);
        r = cgp_policy_compile(p, t, d, pl);
        cgp_topology_free(t);
    }
    cgp_policy_free(p);
    *dout = d;
    return r;
}

static inline void expect_guest(const cgp_placement *pl, const char *name, const char *cpus, const char *mems)
{
    const struct cgp_guest_placement *g = cgp_placement_find(pl, name);
    cr_assert(g, "guest %s missing", name);
    char *c = cgp_bitmap_format(g->cpus), *m = cgp_bitmap_format(g->mems);
    cr_expect_str_eq(c, cpus, "guest %s cpus", name);
    cr_expect_str_eq(m, mems, "guest %s mems", name);
    free(c);
    free(m);
}

static inline bool has_error(const cgp_diags *d, const char *needle)
{
    for (size_t i = 0; i < cgp_diags_count(d); i++)
        if (!cgp_diags_get(d, i)->warning && strstr(cgp_diags_get(d, i)->msg, needle))
            return true;
    return false;
}

static inline bool has_warning(const cgp_diags *d, const char *needle)
{
    for (size_t i = 0; i < cgp_diags_count(d); i++)
        if (cgp_diags_get(d, i)->warning && strstr(cgp_diags_get(d, i)->msg, needle))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Hosts written by the test itself: a minimal sysfs tree (node online/
 * possible lists, per node cpulist, meminfo and distance; cpu present/
 * online lists and one directory per CPU), CPUs numbered in node order. */

struct hnode {
    unsigned cpus;           /* CPUs of the node */
    unsigned mem_mib;        /* MemTotal = MemFree, MiB (0: no memory) */
};

static inline void put(const char *root, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *q = path + strlen(root) + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            mkdir(path, 0755);
            *q = '/';
        }
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Writes the host into a new directory; returns its path (free it). */
static inline char *mkhost(const struct hnode *nd, size_t n, const int *dist)
{
    char *root = strdup("/tmp/cgp-test-host-XXXXXX");
    cr_assert(root && mkdtemp(root));
    char rel[256], text[4096];
    unsigned cpu = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%zu/cpulist", i);
        if (nd[i].cpus)
            snprintf(text, sizeof text, "%u-%u\n", cpu, cpu + nd[i].cpus - 1);
        else
            snprintf(text, sizeof text, "\n");
        put(root, rel, text);
        for (unsigned c = 0; c < nd[i].cpus; c++, cpu++) {
            snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%u/online", cpu);
            put(root, rel, "1\n");
        }
        unsigned long long kib = (unsigned long long)nd[i].mem_mib * 1024;
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%zu/meminfo", i);
        snprintf(text, sizeof text, "Node %zu MemTotal: %llu kB\nNode %zu MemFree: %llu kB\n", i, kib, i, kib);
        put(root, rel, text);
        size_t len = 0;
        for (size_t j = 0; j < n; j++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%d", j ? " " : "", dist[i * n + j]);
        snprintf(text + len, sizeof text - len, "\n");
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%zu/distance", i);
        put(root, rel, text);
    }
    snprintf(text, sizeof text, "0-%zu\n", n - 1);
    put(root, "sys/devices/system/node/online", text);
    put(root, "sys/devices/system/node/possible", text);
    snprintf(text, sizeof text, "0-%u\n", cpu - 1);
    put(root, "sys/devices/system/cpu/present", text);
    put(root, "sys/devices/system/cpu/online", text);
    put(root, "sys/devices/system/cpu/possible", text);
    return root;
}

static inline int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void rmhost(char *root)
{
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(root);
}

static inline int compile_on(const char *root, const char *src, cgp_diags **dout, cgp_placement **pl)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    int r = cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p);
    if (r == 0) {
        cgp_ctx *ctx = NULL;
        cr_assert_eq(cgp_ctx_new(root, NULL, &ctx), 0);
        cgp_topology *t = NULL;
        cr_assert_eq(cgp_topology_read(ctx, &t), 0, "%s", cgp_ctx_last_error(ctx));
        cgp_ctx_free(ctx);
        r = cgp_policy_compile(p, t, d, pl);
        cgp_topology_free(t);
    }
    cgp_policy_free(p);
    *dout = d;
    return r;
}

#endif
