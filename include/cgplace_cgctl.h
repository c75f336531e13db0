/* cgplace_cgctl.h — the cgroup v2 enforcement engine (spec §6): diff a
 * compiled placement against the live cgroup tree, apply the difference with
 * the fewest writes in a safe order, read back what the kernel granted, roll
 * back on failure; and the drift audit behind `verify`.
 *
 * Conventions are those of cgplace.h: int-returning functions return 0 or a
 * negative errno, never print, never exit; out-parameters are written only on
 * success; returned objects are owned by the caller (*_free()); pointers from
 * accessors are borrowed from the owning object. Every function taking a ctx
 * clears its last error on entry, so cgp_ctx_last_error() describes this
 * call's failure or is "".
 *
 * apply, plan (CGP_ENFORCE_DRY_RUN), verify and cgp_plan_from_empty() share
 * one desired state of the placement and one planner; the cgroupfs backend
 * realises it (spec §6 without systemd: PARENT/GUEST at the cgroup root).
 *
 * The cgroup root is ctx's --cgroup-root, or else the cgroup2 mount found in
 * SYSROOT/proc/self/mountinfo (the mount point is taken relative to SYSROOT).
 * Every cgroup file is opened relative to directory fds with
 * O_NOFOLLOW|O_CLOEXEC; guest names containing '/' or equal to "." / ".."
 * are refused.
 *
 * Environment:
 *   CGPLACE_LOCK   path of the lock file apply takes with flock(LOCK_EX)
 *                  (default /run/cgplace.lock). Two applies never interleave:
 *                  the second waits for the first.
 */
#ifndef CGPLACE_CGCTL_H
#define CGPLACE_CGCTL_H

#include "cgplace.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CGP_LOCK_DEFAULT "/run/cgplace.lock"

/* The apply lock's path: CGPLACE_LOCK, else CGP_LOCK_DEFAULT (static or
 * the environment's; never NULL). A caller that sandboxes itself against
 * creating files (cgplace's seccomp filter) makes the file before. */
CGP_EXPORT const char *cgp_lock_path(void);

/* Find the cgroup v2 root of ctx and check it can be managed. On success
 * *path (caller frees) is the directory. Returns 0, -ENOENT (no cgroup2
 * mount and no --cgroup-root), -ENOTDIR, -EOPNOTSUPP (the cpuset controller
 * is not in the root's cgroup.controllers), -ENOMEM, or the -errno of
 * opening the root or reading its cgroup.controllers (-EACCES,
 * -ENAMETOOLONG, -EFBIG, ...). The context's last error says what was
 * missing. */
CGP_EXPORT int cgp_cgroup_root(cgp_ctx *ctx, char **path);

enum {
    CGP_ENFORCE_DRY_RUN = 1u << 0,   /* plan only: no lock, no write, no read-back */
    CGP_ENFORCE_NO_LOCK = 1u << 1,   /* do not take the lock (caller holds it) */
    CGP_ENFORCE_NO_MIGRATE = 1u << 2, /* do not move leftover pages with migrate_pages(2) */
};

enum cgp_enforce_outcome {
    CGP_ENFORCE_OK,        /* every placed guest complies (others reported) */
    CGP_ENFORCE_INVALID,   /* refused before the first write (messages say why) */
    CGP_ENFORCE_FAILED,    /* a write or the read-back failed: everything rolled back */
};

enum cgp_guest_state {
    CGP_GUEST_NOT_RUNNING, /* no process matches the block: skipped */
    CGP_GUEST_FOREIGN,     /* (no longer reported: libvirt's guests are placed through libvirt) */
    CGP_GUEST_UNCHANGED,   /* already complies: no write */
    CGP_GUEST_CHANGED,     /* writes made (dry run: planned) and verified */
    CGP_GUEST_VANISHED,    /* exited (or pid reused) during apply: its writes rolled back */
    CGP_GUEST_FAILED,      /* part of a failed run (rolled back) */
    CGP_GUEST_INVALID,     /* refused (e.g. per-vCPU policy without thread names) */
};
CGP_EXPORT const char *cgp_guest_state_name(enum cgp_guest_state s);

/* Who owns a running guest's place in the hierarchy (spec §5): its placement
 * goes through the owner's backend. */
enum cgp_guest_owner {
    CGP_OWNER_NONE,      /* not running */
    CGP_OWNER_CGPLACE,   /* in a group cgplace made (PARENT/NAME, or its cgplace-NAME.scope) */
    CGP_OWNER_LIBVIRT,   /* libvirt / machined (machine.slice/machine-qemu...scope) */
    CGP_OWNER_OTHER,     /* anywhere else: the host's backend adopts it */
};
/* "none", "cgplace", "libvirt", "other". */
CGP_EXPORT const char *cgp_guest_owner_name(enum cgp_guest_owner o);

/* Who owns process g's place, by its cgroup (hs: the host settings of a
 * policy, for PARENT and the slice; NULL: the defaults), and into *backend
 * (may be NULL) the backend that places it: "libvirt" for libvirt's, else
 * the host's choice ("cgroupfs" or "systemd"; ctx decides `auto`). g NULL:
 * CGP_OWNER_NONE, and the host's backend. */
CGP_EXPORT enum cgp_guest_owner cgp_guest_owner_of(cgp_ctx *ctx, const struct cgp_host_settings *hs,
                                                   const struct cgp_guest *g, const char **backend);

struct cgp_enforce_guest {
    const char *name;              /* policy block */
    const struct cgp_guest *proc;  /* the matching process (borrowed from the caller's list), or NULL */
    const char *cgroup;            /* PARENT/NAME, relative to the cgroup root */
    enum cgp_guest_state state;
    size_t n_ops;                  /* writes made (kept) or planned for this guest */
    const char *detail;            /* why not placed / what failed; NULL */
    /* Added after the interface was fixed (appended): */
    enum cgp_guest_owner owner;
    const char *backend;           /* "cgroupfs", "systemd", "libvirt"; NULL when it is not placed */
};

enum cgp_msg_level { CGP_MSG_INFO, CGP_MSG_WARNING, CGP_MSG_ERROR };

struct cgp_enforce_msg {
    enum cgp_msg_level level;
    const char *guest;   /* policy guest, or NULL */
    int pid;             /* process concerned, or 0 */
    const char *text;
};

struct cgp_enforce_summary {
    enum cgp_enforce_outcome outcome;
    int error;           /* -errno of the failure (FAILED/INVALID), else 0 */
    size_t n_writes;     /* writes made and kept (dry run: planned); mkdir counts as one */
    size_t n_undone;     /* writes undone by rollback (whole run or vanished guests) */
    bool rollback_incomplete;  /* an undo step failed (messages say which) */
    size_t n_unmanaged;  /* QEMU processes no block matches that float free: not libvirt's (under
                          * `unmanaged deny-all` libvirt's too), whatever `unmanaged` says */
    /* Added after the interface was fixed (appended): */
    size_t n_unmanaged_libvirt;  /* libvirt's guests no block matches (managed by libvirt; in
                                  * n_unmanaged too only under `unmanaged deny-all`) */
    bool unmanaged_denied;       /* `unmanaged deny` and n_unmanaged > 0, not a dry run: the run's
                                  * placements stand, but the command fails (cgplace: exit 3); the
                                  * messages name each process at CGP_MSG_ERROR. A dry run reports
                                  * them at CGP_MSG_WARNING and leaves this false */
};

/* A QEMU process no block of the policy matches (cgp_enforce_stray). */
struct cgp_enforce_stray {
    const struct cgp_guest *proc;  /* borrowed from the caller's list: pid, name, cgroup (raw: escape them) */
    bool libvirt;                  /* libvirt's (cgp_guest.foreign): managed by libvirt, not floating free */
    bool counted;                  /* in n_unmanaged: floats free (or libvirt's under `unmanaged deny-all`) */
};

typedef struct cgp_enforce cgp_enforce;

/* Enforce pl on the given processes (normally every guest of
 * cgp_guests_discover(), borrowed: they must outlive *out). The returned
 * report exists for all three outcomes: the return value is 0 whenever a
 * report was produced, and a negative errno only when no work could start:
 * -ENOENT/-ENOTDIR/-EOPNOTSUPP (no usable cgroup root: see cgp_cgroup_root),
 * -EWOULDBLOCK/-EACCES/... the lock file could not be taken, -ENOMEM.
 *
 * Ops (cgp_enforce_op) are, in order, the writes made and kept (apply) or
 * planned (dry run). For a cgroup.procs / cgroup.threads write old_value is
 * the process's or thread's previous cgroup ("/" for the root); for a set it
 * is the previous set in canonical form.
 *
 * A guest that exits during apply fails only itself: its writes are rolled
 * back (state VANISHED) and the outcome stays OK. Any other failure rolls
 * back every write of the run in reverse order (outcome FAILED). */
CGP_EXPORT int cgp_enforce_run(cgp_ctx *ctx, const cgp_placement *pl,
                               const struct cgp_guest *const *guests, size_t n_guests,
                               unsigned flags, cgp_enforce **out);
CGP_EXPORT void cgp_enforce_free(cgp_enforce *e);
CGP_EXPORT const struct cgp_enforce_summary *cgp_enforce_summary(const cgp_enforce *e);
CGP_EXPORT size_t cgp_enforce_n_ops(const cgp_enforce *e);
CGP_EXPORT const struct cgp_op *cgp_enforce_op(const cgp_enforce *e, size_t i);
/* One entry per policy guest, in policy order. */
CGP_EXPORT size_t cgp_enforce_n_guests(const cgp_enforce *e);
CGP_EXPORT const struct cgp_enforce_guest *cgp_enforce_guest(const cgp_enforce *e, size_t i);
CGP_EXPORT size_t cgp_enforce_n_msgs(const cgp_enforce *e);
CGP_EXPORT const struct cgp_enforce_msg *cgp_enforce_msg(const cgp_enforce *e, size_t i);
/* The QEMU processes no block matches, in the order given (appended API):
 * every one, whatever `unmanaged` says; n_unmanaged counts those with
 * counted set. */
CGP_EXPORT size_t cgp_enforce_n_strays(const cgp_enforce *e);
CGP_EXPORT const struct cgp_enforce_stray *cgp_enforce_stray(const cgp_enforce *e, size_t i);

/* `exec`: set the calling thread's memory policy (kept across fork and
 * execve) to gp's mode over gp->mems: strict → MPOL_BIND, interleave →
 * MPOL_INTERLEAVE, preferred → MPOL_PREFERRED_MANY (one node:
 * MPOL_PREFERRED; a kernel before 5.15: MPOL_PREFERRED on the first node,
 * and *note, if not NULL, says so; else *note is NULL); restrictive: the
 * default policy, the per-vCPU cgroups restrict. Returns 0, -EINVAL (an
 * empty node set, or nodes the kernel refuses), -errno of set_mempolicy(2),
 * -ENOMEM. */
CGP_EXPORT int cgp_mempolicy_set(const struct cgp_guest_placement *gp, const char **note);

/* ------------------------------------------------------------------ */
/* libvirt's guests (spec §5)                                           */
/* ------------------------------------------------------------------ */

/* A guest whose QEMU is in libvirt's cgroups (machine.slice/machine-qemu...,
 * or machine/) is placed through libvirt's API on qemu:///system:
 * virDomainPinVcpuFlags, virDomainPinEmulator, virDomainPinIOThread,
 * virDomainSetNumaParameters, live (and in the persistent definition under
 * the host's `libvirt persist;`), one CGP_OP_LIBVIRT op per difference from
 * libvirt's own pins; never by writing libvirt's cgroup files. The domain is
 * found by QEMU's -uuid, else its -name. libvirt.so.0 is loaded on first use
 * (nothing on a host without libvirt guests). A failed call rolls the run
 * back like a failed write (each pin set back to its previous value); a
 * guest libvirt cannot be asked about at all (library or daemon missing, no
 * such domain) is FAILED alone, with libvirt's message (escaped) in its
 * detail, and the outcome of the others stands.
 *
 * Open the libvirt connection the guests of pl need now, for the
 * cgp_enforce_run / cgp_verify_run calls on ctx that follow (it lives as
 * long as ctx): a caller that confines itself (a seccomp filter without
 * dlopen or sockets) calls this first. Without libvirt guests matched by pl
 * it loads nothing. Returns 0, -ELIBACC (no usable libvirt.so.0),
 * -ECONNREFUSED (no daemon), -ENOMEM; the context's last error says why,
 * and the runs that follow report it for those guests. */
CGP_EXPORT int cgp_libvirt_prepare(cgp_ctx *ctx, const cgp_placement *pl);

/* ------------------------------------------------------------------ */
/* Verify: drift audit (spec §6)                                        */
/* ------------------------------------------------------------------ */

struct cgp_verify_thread {
    int tid;
    enum cgp_thread_role role;
    int vcpu;                      /* or -1 */
    const char *iothread;          /* or NULL */
    const char *cgroup_want;       /* relative to the cgroup root */
    const char *cgroup_have;       /* NULL when unreadable (thread gone) */
    const cgp_bitmap *cpus_want, *mems_want;
    const cgp_bitmap *cpus_have, *mems_have;   /* Cpus_allowed_list / Mems_allowed_list; NULL gone */
    bool drift;
};

struct cgp_verify_cgroup {
    const char *path;
    bool exists;
    const cgp_bitmap *cpus_want, *mems_want;
    const cgp_bitmap *cpus_eff, *mems_eff;     /* cpuset.*.effective; NULL missing */
    bool drift;
};

struct cgp_verify_guest {
    const char *name;
    const struct cgp_guest *proc;  /* NULL: not running */
    bool foreign;                  /* state CGP_GUEST_FOREIGN: no longer (libvirt's guests are audited) */
    bool drift;
    size_t n_cgroups;              /* 0 for libvirt's guests: their cgroups are libvirt's */
    const struct cgp_verify_cgroup *cgroups;
    size_t n_threads;
    const struct cgp_verify_thread *threads;
    /* numa_maps: pages per node id (index = node id), all mappings and
     * anonymous ones (mappings with anon= and no file=: heap, stack, guest
     * RAM; private file mappings are left out, their page cache is shared);
     * n_nodes = 0 when numa_maps was unreadable. */
    size_t n_nodes;
    const uint64_t *pages, *anon_pages;
    uint64_t anon_outside;         /* anonymous pages on nodes outside mems_want (drift when > 0, strict/restrictive) */
};

typedef struct cgp_verify cgp_verify;

/* Audit every guest of pl against the live tree and the processes given.
 * *drift is true when anything differs (a cgroup write is pending, a set,
 * a thread's cgroup or affinity, memory outside the nodes) or, under
 * `unmanaged deny`, a QEMU process no block matches floats free (summary
 * unmanaged_denied of cgp_verify_plan; libvirt's guests count only under
 * `unmanaged deny-all`). Returns 0 or the
 * errors of cgp_cgroup_root(), -ENOMEM. */
CGP_EXPORT int cgp_verify_run(cgp_ctx *ctx, const cgp_placement *pl,
                              const struct cgp_guest *const *guests, size_t n_guests,
                              cgp_verify **out);
CGP_EXPORT void cgp_verify_free(cgp_verify *v);
CGP_EXPORT bool cgp_verify_drift(const cgp_verify *v);
CGP_EXPORT size_t cgp_verify_n_guests(const cgp_verify *v);
CGP_EXPORT const struct cgp_verify_guest *cgp_verify_guest(const cgp_verify *v, size_t i);
/* Ops a re-apply would make, and the messages (unmanaged processes, ...),
 * as in the enforce report. */
CGP_EXPORT const cgp_enforce *cgp_verify_plan(const cgp_verify *v);


/* ---- Runtime tuning (appended) ---- */

/* Where guest g's memory is now (SYSROOT/proc/PID/numa_maps): *pages
 * (caller frees) holds 2 * *n_nodes counts, first the pages on each node id
 * 0..n-1, then the anonymous ones (as in cgp_verify_guest). Returns 0,
 * -ENOENT/-ESRCH (gone), -EACCES, -ENOMEM. */
CGP_EXPORT int cgp_guest_numa_pages(cgp_ctx *ctx, const struct cgp_guest *g, uint64_t **pages, size_t *n_nodes);

#ifdef __cplusplus
}
#endif
#endif
