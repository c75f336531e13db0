/* Internal helpers shared by libcgplace's modules. Not installed. */
#ifndef CGP_INTERNAL_H
#define CGP_INTERNAL_H

#include "cgplace.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define CGP_CLEANUP(f) __attribute__((cleanup(f)))
/* Hand ownership out of a cleanup-managed variable. */
#define CGP_STEAL(p) ({ __typeof__(p) cgp_tmp_ = (p); (p) = NULL; cgp_tmp_; })

static inline void cgp_freep(void *p) { free(*(void **)p); }
static inline void cgp_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void cgp_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void cgp_bitmap_freep(cgp_bitmap **b) { cgp_bitmap_free(*b); }
#define CGP_AUTOFREE CGP_CLEANUP(cgp_freep)
#define CGP_AUTOCLOSE CGP_CLEANUP(cgp_closep)
#define CGP_AUTOBITMAP CGP_CLEANUP(cgp_bitmap_freep)

struct cgp_ctx {
    int root_fd;        /* sysroot */
    char *sysroot;
    char *cgroup_root;  /* NULL until known */
    bool real_host;     /* sysroot "/" and no --cgroup-root: the host's own cgroups and services */
    /* Host facts the backend choice asks for, found once per context
     * (cgctl/systemd.c): 0 not yet known, 1 no, 2 yes. */
    unsigned char systemd_tree, systemd_bus;
    int lock_wait;      /* cgp_ctx_set_lock_wait: seconds, -1 no limit */
    char err[512];
    /* A connection an upper layer keeps for the context's life (cgctl:
     * libvirt's, opened before a sandbox), released by conn_free. */
    void *conn;
    void (*conn_free)(void *conn);
};

/* Forget the last failure detail: entry points call it first, so that
 * cgp_ctx_last_error() never describes an earlier call. */
void cgp_ctx_clear_error(cgp_ctx *ctx);
/* Record a failure detail in ctx and return r (negative errno). */
int cgp_ctx_errorf(cgp_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A netlink socket of protocol proto (SOCK_NONBLOCK|SOCK_CLOEXEC) bound to
 * the multicast groups: the fd, or -errno (lib/netlink.c). */
int cgp_netlink_open(int proto, unsigned groups);

/* Number of set bits below bit. */
unsigned cgp_bitmap_rank(const cgp_bitmap *b, unsigned bit);

/* Open a directory relative to dirfd (O_DIRECTORY|O_CLOEXEC; the last
 * component is not followed when it is a symlink unless follow). -errno. */
int cgp_open_dir(int dirfd, const char *rel, bool follow);

/* A DIR reading dirfd's directory through a close-on-exec dup of it (the
 * offset is shared with dirfd: rewinddir before reading it again). 0 or
 * -errno. */
int cgp_opendir_fd(int dirfd, DIR **out);

/* Open a kernel file (sysfs, procfs, cgroupfs attribute) relative to dirfd:
 * flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, and it must be a regular file
 * (-EISDIR a directory, -ENXIO anything else: a FIFO planted in a fixture or
 * a delegated cgroup must be an error, not an empty read or a hang). The fd
 * or -errno. */
int cgp_open_reg(int dirfd, const char *rel, int flags);

/* Read a whole small file relative to dirfd (at most max bytes; larger is
 * -EFBIG). Trailing NUL bytes, newlines and spaces are stripped. *out is
 * malloc'd and NUL-terminated. Returns length or -errno. */
ssize_t cgp_read_file(int dirfd, const char *rel, size_t max, char **out);
/* The same with flags: CGP_READ_RAW keeps the content as read (NULs, trailing
 * newlines: /proc/PID/cmdline); CGP_READ_TRUNCATE returns the first max bytes
 * of a larger file instead of -EFBIG. */
enum { CGP_READ_RAW = 1u << 0, CGP_READ_TRUNCATE = 1u << 1 };
ssize_t cgp_read_file_ex(int dirfd, const char *rel, size_t max, unsigned flags, char **out);

/* Read a small attribute (sysfs file) into buf of size bytes in one read:
 * stripped like cgp_read_file. -EFBIG when it does not fit (the caller may
 * retry with cgp_read_file), else length or -errno. */
ssize_t cgp_read_attr(int dirfd, const char *rel, char *buf, size_t size);
/* The same on an open fd, which it closes. */
ssize_t cgp_read_attr_fd(int fd, char *buf, size_t size);

/* cgp_read_file for files the kernel produces in one show: one read into a
 * page-sized buffer when it fits (open, read, close), else cgp_read_file.
 * Only for single-record files (sysfs attributes, /proc/PID/{stat,status,
 * comm,cgroup}, cgroup files but cgroup.procs/threads): a multi-record
 * seq_file may return a short read before its end. */
ssize_t cgp_read_one(int dirfd, const char *rel, size_t max, char **out);

/* Decimal digits of v at p, no NUL (at most 10): their count. */
int cgp_fmt_uint(char *p, unsigned v);

/* Parse an integer (optional sign) from a sysfs value; -EINVAL on junk. */
int cgp_parse_i64(const char *s, int64_t *out);
int cgp_parse_u64(const char *s, uint64_t *out);

/* ---- Growing arrays: one helper for every append site ---- */

/* Room for at least one more element in v (capacity *cap, elem bytes each):
 * doubles from 16, overflow-checked. The new array (v is then stale) with
 * *cap updated, or NULL on ENOMEM/overflow with v and *cap untouched. */
void *cgp_grow_array(void *v, size_t *cap, size_t elem);
/* Make arr (with n used of cap) ready for arr[n]: true, or false on ENOMEM. */
#define CGP_GROW(arr, n, cap)                                                  \
    ({                                                                         \
        bool ok_ = true;                                                       \
        if ((n) >= (cap)) {                                                    \
            void *v_ = cgp_grow_array((arr), &(cap), sizeof *(arr));           \
            if (v_)                                                            \
                (arr) = v_;                                                    \
            else                                                               \
                ok_ = false;                                                   \
        }                                                                      \
        ok_;                                                                   \
    })

/* ---- Arena: objects that live as long as the report that names them ---- */

struct cgp_arena_item {
    void *p;
    void (*fn)(void *);
};
struct cgp_arena {
    size_t n, cap;
    struct cgp_arena_item *it;
};
/* Keep p, to be released by fn when the arena is cleared. Returns p; NULL
 * when p is NULL or on ENOMEM (p is then released at once). */
void *cgp_arena_keep(struct cgp_arena *a, void *p, void (*fn)(void *));
/* A malloc'd string kept in the arena (NULL: ENOMEM, s freed). */
char *cgp_arena_str(struct cgp_arena *a, char *s);
char *cgp_arena_strdup(struct cgp_arena *a, const char *s);
char *cgp_arena_printf(struct cgp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
cgp_bitmap *cgp_arena_bitmap(struct cgp_arena *a, cgp_bitmap *b);
/* Release everything kept, newest first; the arena is empty and reusable. */
void cgp_arena_clear(struct cgp_arena *a);

/* ---- Checked arithmetic on sizes and rates read from kernel files ----
 * A kernel file can hold any 64-bit number (a fuzzer, a broken firmware
 * table); derived values must say "unknown" rather than wrap. */

/* a * b for sizes: CGP_UNKNOWN_U64 when either is unknown or it overflows. */
static inline uint64_t cgp_size_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (a == CGP_UNKNOWN_U64 || b == CGP_UNKNOWN_U64 || __builtin_mul_overflow(a, b, &r) ||
        r == CGP_UNKNOWN_U64)
        return CGP_UNKNOWN_U64;
    return r;
}
/* a + b for sizes, the same way. */
static inline uint64_t cgp_size_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (a == CGP_UNKNOWN_U64 || b == CGP_UNKNOWN_U64 || __builtin_add_overflow(a, b, &r) ||
        r == CGP_UNKNOWN_U64)
        return CGP_UNKNOWN_U64;
    return r;
}
/* a + b for counters that may saturate (pages per node): UINT64_MAX at most. */
static inline uint64_t cgp_sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
/* a * b for signed rates (-1 unknown): -1 when negative or it overflows. */
static inline int64_t cgp_rate_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
        return -1;
    return r;
}
/* A size as int64 for signed arithmetic, saturated at INT64_MAX. */
static inline int64_t cgp_size_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

#endif
