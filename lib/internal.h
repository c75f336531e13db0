/* Internal helpers shared by libcgplace's modules. Not installed. */
#ifndef CGP_INTERNAL_H
#define CGP_INTERNAL_H

#include "cgplace.h"

#include <stdarg.h>
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
    char err[512];
};

/* Record a failure detail in ctx and return r (negative errno). */
int cgp_ctx_errorf(cgp_ctx *ctx, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Number of set bits below bit. */
unsigned cgp_bitmap_rank(const cgp_bitmap *b, unsigned bit);

/* Open a directory relative to dirfd (O_DIRECTORY|O_CLOEXEC; the last
 * component is not followed when it is a symlink unless follow). -errno. */
int cgp_open_dir(int dirfd, const char *rel, bool follow);

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

#endif
