/* Internal helpers of lib/ (lib/internal.h): file reading with sysfs quirks,
 * integer parsing, the context's error and directory opening. */
#include "unit_helpers.h"

#include "internal.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>

TestSuite(io, .init = tree_new, .fini = tree_free);

static int root_fd(void)
{
    int fd = open(tree_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    return fd;
}

static void expect_read(int fd, const char *rel, const char *want)
{
    char *s = NULL;
    ssize_t n = cgp_read_file(fd, rel, 1u << 20, &s);
    cr_assert_geq(n, 0, "read %s: %zd", rel, n);
    cr_expect_str_eq(s, want, "%s: got \"%s\", want \"%s\"", rel, s, want);
    cr_expect_eq((size_t)n, strlen(want), "%s: length", rel);
    free(s);
}

Test(io, read_file_strips_sysfs_trailers)
{
    tree_write_n("0-7\n\0", 5, "nul");
    tree_write_n("0-7\n\0\0\0garbage", 15, "nul_then_junk");
    tree_write("10 21  \n\n", "spaces");
    tree_write("", "empty");
    tree_write("\n", "newline");
    tree_write(" 5", "leading_space");
    int fd = root_fd();
    expect_read(fd, "nul", "0-7");
    expect_read(fd, "nul_then_junk", "0-7");
    expect_read(fd, "spaces", "10 21");
    expect_read(fd, "empty", "");
    expect_read(fd, "newline", "");
    expect_read(fd, "leading_space", " 5");
    close(fd);
}

Test(io, read_file_errors)
{
    tree_mkdir("dir");
    tree_write("x", "target");
    tree_symlink("target", "link");
    int fd = root_fd();
    char *s = NULL;
    cr_expect_eq(cgp_read_file(fd, "missing", 4096, &s), -ENOENT);
    cr_expect_eq(cgp_read_file(fd, "dir", 4096, &s), -EISDIR);
    cr_expect_null(s, "out untouched on failure");
    /* the last component is not followed (O_NOFOLLOW) */
    cr_expect_lt(cgp_read_file(fd, "link", 4096, &s), 0);
    cr_expect_null(s);
    close(fd);
}

/* A FIFO, socket or device where a kernel attribute belongs is -ENXIO at
 * once (O_NONBLOCK: no wait for a writer), for every reader and for writes. */
Test(io, non_regular_files_are_refused)
{
    char path[512];
    tree_write("0-3\n", "reg");
    tree_mkdir("dir");
    snprintf(path, sizeof path, "%s/fifo", tree_root);
    cr_assert_eq(mkfifo(path, 0600), 0);
    int fd = root_fd();
    char buf[64], *s = NULL;
    cr_expect_eq(cgp_read_attr(fd, "fifo", buf, sizeof buf), -ENXIO);
    cr_expect_eq(cgp_read_file(fd, "fifo", 4096, &s), -ENXIO);
    cr_expect_eq(cgp_read_one(fd, "fifo", 4096, &s), -ENXIO);
    cr_expect_null(s);
    cr_expect_eq(cgp_open_reg(fd, "fifo", O_WRONLY), -ENXIO, "no reader: the open itself fails");
    cr_expect_eq(cgp_open_reg(fd, "dir", O_RDONLY), -EISDIR);
    int rfd = cgp_open_reg(fd, "reg", O_RDONLY);
    cr_expect_geq(rfd, 0);
    close(rfd);
    /* with a reader, a writer's open succeeds: the type check refuses it */
    int reader = open(path, O_RDONLY | O_NONBLOCK);
    cr_assert_geq(reader, 0);
    cr_expect_eq(cgp_open_reg(fd, "fifo", O_WRONLY), -ENXIO);
    close(reader);
    close(fd);
}

/* The live root: this host's sys/ and proc/ are sysfs and procfs. */
Test(io, live_root_file_systems_are_the_kernels)
{
    cgp_ctx *ctx = NULL;
    struct statfs fs;
    if (statfs("/sys", &fs) < 0 || fs.f_type != 0x62656572)
        cr_skip_test("/sys is not sysfs here");
    cr_expect_eq(cgp_ctx_new("/", NULL, &ctx), 0);
    cgp_ctx_free(ctx);
}

Test(io, read_file_size_limit)
{
    char big[10000];
    memset(big, '1', sizeof big);
    tree_write_n(big, sizeof big, "big");
    int fd = root_fd();
    char *s = NULL;
    cr_expect_eq(cgp_read_file(fd, "big", 5000, &s), -EFBIG);
    cr_expect_null(s);
    ssize_t n = cgp_read_file(fd, "big", 1u << 20, &s);
    cr_expect_eq(n, 10000);
    cr_assert_not_null(s);
    cr_expect_eq(s[9999], '1');
    cr_expect_eq(s[10000], '\0');
    free(s);
    close(fd);
}

/* internal.h: "at most max bytes; larger is -EFBIG" -- a file of exactly max
 * bytes is within the limit. */
Test(io, read_file_exactly_max_is_allowed)
{
    char big[10000];
    memset(big, '1', sizeof big);
    tree_write_n(big, sizeof big, "big");
    tree_write_n(big, 4096, "page");
    int fd = root_fd();
    char *s = NULL;
    ssize_t n = cgp_read_file(fd, "big", 10000, &s);
    cr_expect_eq(n, 10000, "10000-byte file, max 10000: got %zd", n);
    free(s);
    s = NULL;
    n = cgp_read_file(fd, "page", 4096, &s);
    cr_expect_eq(n, 4096, "4096-byte file, max 4096: got %zd", n);
    free(s);
    close(fd);
}

/* A max below the initial buffer size must still be enforced. */
Test(io, read_file_small_max_is_enforced)
{
    char buf[200];
    memset(buf, '7', sizeof buf);
    tree_write_n(buf, sizeof buf, "f200");
    int fd = root_fd();
    char *s = NULL;
    ssize_t n = cgp_read_file(fd, "f200", 100, &s);
    cr_expect_eq(n, -EFBIG, "200-byte file, max 100: got %zd", n);
    if (n >= 0)
        free(s);
    close(fd);
}

Test(io, parse_integers)
{
    int64_t v = 0;
    cr_expect_eq(cgp_parse_i64("-1", &v), 0);
    cr_expect_eq(v, -1);
    cr_expect_eq(cgp_parse_i64(" 42 \n", &v), 0);
    cr_expect_eq(v, 42);
    cr_expect_eq(cgp_parse_i64("131072", &v), 0);
    cr_expect_eq(v, 131072);
    v = 7;
    cr_expect_eq(cgp_parse_i64("zz", &v), -EINVAL);
    cr_expect_eq(cgp_parse_i64("", &v), -EINVAL);
    cr_expect_eq(cgp_parse_i64("   ", &v), -EINVAL);
    cr_expect_eq(cgp_parse_i64("1.5", &v), -EINVAL);
    cr_expect_eq(cgp_parse_i64("12 13", &v), -EINVAL);
    cr_expect_eq(cgp_parse_i64("99999999999999999999", &v), -ERANGE);
    cr_expect_eq(v, 7, "out untouched on failure");

    uint64_t u = 9;
    cr_expect_eq(cgp_parse_u64("18446744073709551615", &u), 0);
    cr_expect_eq(u, UINT64_MAX);
    cr_expect_eq(cgp_parse_u64("0\n", &u), 0);
    cr_expect_eq(u, 0u);
    u = 9;
    cr_expect_eq(cgp_parse_u64("-1", &u), -EINVAL, "no wrap of negative numbers");
    cr_expect_eq(cgp_parse_u64("+1", &u), -EINVAL);
    cr_expect_eq(cgp_parse_u64("18446744073709551616", &u), -ERANGE);
    cr_expect_eq(cgp_parse_u64("4k", &u), -EINVAL);
    cr_expect_eq(u, 9u);
}

Test(io, ctx_error_and_open_dir)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(tree_root, "/sys/fs/cgroup", &ctx), 0);
    cr_expect_str_eq(cgp_ctx_last_error(ctx), "");
    cr_expect_eq(cgp_ctx_errorf(ctx, -EIO, "%s: %d", "x/y", 3), -EIO);
    cr_expect_str_eq(cgp_ctx_last_error(ctx), "x/y: 3");
    tree_mkdir("d/e");
    tree_symlink("d", "l");
    int fd = cgp_open_dir(ctx->root_fd, "d/e", false);
    cr_expect_geq(fd, 0);
    if (fd >= 0)
        close(fd);
    cr_expect_lt(cgp_open_dir(ctx->root_fd, "l", false), 0, "symlink not followed");
    fd = cgp_open_dir(ctx->root_fd, "l", true);
    cr_expect_geq(fd, 0, "symlink followed");
    if (fd >= 0)
        close(fd);
    cr_expect_eq(cgp_open_dir(ctx->root_fd, "nope", true), -ENOENT);
    cgp_ctx_free(ctx);
}
