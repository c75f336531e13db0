/* Internal interface of the enforcement engine (cgctl/). Not installed.
 *
 * Test hooks: tests linking the static archive may set cgctl_hooks to watch
 * and fail every cgroup mutation the engine makes (the symbol is hidden in
 * the shared library). `before` runs first: a negative return fails the
 * operation with that errno without doing it (fault injection). `after` runs
 * once the operation succeeded: a fake cgroupfs made of plain files uses it to
 * play the kernel's part (effective sets, memberships, /proc/PID/task/TID/
 * status). `undo` is true for rollback operations. `dirfd_max` shrinks the
 * engine's directory fd cache so that a small test exercises its flushing.
 *
 * Environment (for the real-kernel tests, where no hook can be linked):
 * CGPLACE_FAULT_WRITE=k makes the k-th forward operation (mkdir or write) of a
 * run fail with EIO; CGPLACE_STOP_WRITE=k stops the process (SIGSTOP) just
 * before it, so that a test can change the world (kill a guest) and resume it. */
#ifndef CGCTL_INT_H
#define CGCTL_INT_H

#include "internal.h"
#include "cgplace_cgctl.h"

enum cgctl_io { CGCTL_IO_MKDIR, CGCTL_IO_RMDIR, CGCTL_IO_WRITE };

struct cgctl_hooks {
    int (*before)(void *ud, enum cgctl_io io, const char *path, const char *file,
                  const char *value, bool undo);
    void (*after)(void *ud, enum cgctl_io io, const char *path, const char *file,
                  const char *value, bool undo);
    void *ud;
    size_t dirfd_max;            /* cached cgroup dir fds, 0: the default */
};

extern struct cgctl_hooks cgctl_hooks;

/* Open the cgroup root of ctx: *fd a directory fd, *prefix the root's path in
 * the hierarchy as /proc/PID/cgroup names it ("" for the hierarchy root;
 * malloc'd). -errno with ctx's last error set. */
int cgctl_open_root(cgp_ctx *ctx, int *fd, char **prefix);


/* Map a /proc/PID/cgroup path to one relative to the root with the given
 * prefix; NULL when outside (or ENOMEM). malloc'd. */
char *cgctl_rel_path(const char *prefix, const char *v);

/* The "0::PATH" line of SYSROOT/proc/PID/task/TID/cgroup (tid 0: /proc/PID/cgroup).
 * malloc'd path or NULL (errno set). */
char *cgctl_task_cgroup(cgp_ctx *ctx, int pid, int tid);

/* Cpus_allowed_list / Mems_allowed_list of a task. 0 or -errno. */
int cgctl_task_allowed(cgp_ctx *ctx, int pid, int tid, cgp_bitmap **cpus, cgp_bitmap **mems);

/* Take the apply lock (CGPLACE_LOCK or CGP_LOCK_DEFAULT). fd or -errno. */
int cgctl_lock(cgp_ctx *ctx);

#endif
