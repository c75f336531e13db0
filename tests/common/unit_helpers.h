/* Helpers for unit tests that build small sysfs/procfs trees in a temporary
 * directory. Header-only; every test file that needs them includes this. */
#ifndef CGP_UNIT_HELPERS_H
#define CGP_UNIT_HELPERS_H

/* Not every test file uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgplace.h"

/* The tree of the running test (Criterion runs each test in its own process). */
static char tree_root[256];

static void tree_mkdirs(const char *path)
{
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                cr_assert_fail("mkdir %s: %s", tmp, strerror(errno));
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        cr_assert_fail("mkdir %s: %s", tmp, strerror(errno));
}

static void tree_new(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tree_root, sizeof tree_root, "%s/cgp-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(tree_root), "mkdtemp: %s", strerror(errno));
}

static int tree_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        return rmdir(p);
    return unlink(p);
}

static void tree_free(void)
{
    if (tree_root[0])
        nftw(tree_root, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tree_root[0] = '\0';
}

/* Full path of a tree-relative path built from fmt. */
static void tree_path(char *out, size_t n, const char *fmt, va_list ap)
{
    char rel[1024];
    vsnprintf(rel, sizeof rel, fmt, ap);
    snprintf(out, n, "%s/%s", tree_root, rel);
}

/* Write len bytes of content to the tree-relative path (parents created). */
static void tree_write_n(const char *content, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tree_write_n(const char *content, size_t len, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    tree_path(path, sizeof path, fmt, ap);
    va_end(ap);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    tree_mkdirs(path);
    *slash = '/';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, content, len), (ssize_t)len, "write %s", path);
    close(fd);
}

/* Write a string (used as-is; sysfs values normally end with "\n"). */
#define tree_write(content, ...)                                                                   \
    do {                                                                                           \
        const char *c_ = (content);                                                                \
        tree_write_n(c_, strlen(c_), __VA_ARGS__);                                                 \
    } while (0)

/* Shorthand: a file under sys/devices/system/. */
#define sysw(content, fmt, ...) tree_write(content, "sys/devices/system/" fmt, ##__VA_ARGS__)

static void tree_mkdir(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tree_mkdir(const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    tree_path(path, sizeof path, fmt, ap);
    va_end(ap);
    tree_mkdirs(path);
}

static void tree_symlink(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tree_symlink(const char *target, const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    tree_path(path, sizeof path, fmt, ap);
    va_end(ap);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    tree_mkdirs(path);
    *slash = '/';
    cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, strerror(errno));
}

static void tree_unlink(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tree_unlink(const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    tree_path(path, sizeof path, fmt, ap);
    va_end(ap);
    cr_assert_eq(unlink(path), 0, "unlink %s: %s", path, strerror(errno));
}

/* A CPU directory with topology files (pkg/core as text, siblings as list;
 * NULL leaves a file out). */
static void tree_cpu(int id, const char *pkg, const char *core, const char *siblings)
{
    tree_mkdir("sys/devices/system/cpu/cpu%d", id);
    if (pkg)
        sysw(pkg, "cpu/cpu%d/topology/physical_package_id", id);
    if (core)
        sysw(core, "cpu/cpu%d/topology/core_id", id);
    if (siblings)
        sysw(siblings, "cpu/cpu%d/topology/thread_siblings_list", id);
}

/* Node meminfo in the kernel's format. */
static void tree_meminfo(int node, unsigned long long total, unsigned long long free_kb)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "Node %d MemTotal:       %llu kB\nNode %d MemFree:        %llu kB\n"
             "Node %d MemUsed:        %llu kB\nNode %d Active:         0 kB\n",
             node, total, node, free_kb, node, total - free_kb, node);
    sysw(buf, "node/node%d/meminfo", node);
}

/* Open ctx on the tree and read the topology; both must succeed. */
static cgp_topology *tree_read(cgp_ctx **ctxp)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(tree_root, NULL, &ctx), 0);
    cgp_topology *t = NULL;
    int r = cgp_topology_read(ctx, &t);
    if (r != 0) {
        char err[600];
        snprintf(err, sizeof err, "%s", cgp_ctx_last_error(ctx));
        cgp_ctx_free(ctx); /* no leak report on top of the failure */
        cr_assert_fail("cgp_topology_read = %d (%s): %s", r, strerror(-r), err);
    }
    cr_assert_not_null(t);
    if (ctxp)
        *ctxp = ctx;
    else
        cgp_ctx_free(ctx);
    return t;
}

/* Read expecting failure; returns r, copies the last error into err. */
static int tree_read_fail(char *err, size_t n)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(tree_root, NULL, &ctx), 0);
    cgp_topology *sentinel = (cgp_topology *)&tree_root, *t = sentinel;
    int r = cgp_topology_read(ctx, &t);
    if (r == 0 && t != sentinel)
        cgp_topology_free(t); /* unexpected success: the caller's check reports it */
    else
        cr_expect_eq(t, sentinel, "failed read wrote *out");
    snprintf(err, n, "%s", cgp_ctx_last_error(ctx));
    cgp_ctx_free(ctx);
    return r;
}

static char *fmt_set(const cgp_bitmap *b)
{
    if (!b)
        return strdup("(null)");
    char *s = cgp_bitmap_format(b);
    cr_assert_not_null(s);
    return s;
}

/* Expect bitmap b to format as want (the canonical list); what names it. */
#define expect_set(b, want, what)                                                                  \
    do {                                                                                           \
        char *s_ = fmt_set(b);                                                                     \
        cr_expect_str_eq(s_, want, "%s: got {%s}, want {%s}", (what), s_, (want));                 \
        free(s_);                                                                                  \
    } while (0)

#endif
