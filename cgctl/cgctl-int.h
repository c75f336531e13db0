/* Internal interface of the enforcement engine (cgctl/). Not installed.
 *
 * The path from a placement to the kernel:
 *   match.c     placement + processes -> per guest: its process, state, detail
 *   desired.c   -> the desired state ("the plan"): per guest its groups, each
 *               group's CPUs and nodes, which thread goes to which group, the
 *               memory policy only `exec` can set; backend-neutral
 *   model.c     desired state + a backend's view of the live tree -> ordered
 *               actions (diff), each with its inverse (the journal)
 *   execute.c   carry the actions out through the backend, roll back
 *   readback.c  what the kernel granted (effective sets, task affinities)
 *   migrate.c   numa_maps and migrate_pages(2) for leftover pages
 *   verify.c    the drift audit
 *   cgfs.c      the cgroupfs backend (and the "empty" one that plans against
 *               an absent tree); a systemd backend plugs in beside them
 *               through struct cgctl_backend_ops.
 *   libvirt.c   libvirt's guests: their own small planner (one API call per
 *               difference, with the previous value as its undo), the
 *               libvirt backend that makes the calls (virt.c: the client),
 *               their read-back from /proc.
 *
 * Error style: int functions return 0 or a negative errno; the detail goes to
 * the context with cgp_ctx_errorf; every exported entry point clears it first.
 *
 * Test hooks: tests linking the static archive may set cgctl_hooks to watch
 * and fail every cgroup mutation the cgroupfs backend makes (the symbol is
 * hidden in the shared library). `before` runs first: a negative return fails
 * the operation with that errno without doing it (fault injection). `after`
 * runs once the operation succeeded: a fake cgroupfs made of plain files uses
 * it to play the kernel's part (effective sets, memberships,
 * /proc/PID/task/TID/status). `undo` is true for rollback operations.
 * `dirfd_max` shrinks the backend's directory fd cache so that a small test
 * exercises its flushing. */
#ifndef CGCTL_INT_H
#define CGCTL_INT_H

#include "internal.h"
#include "cgplace_cgctl.h"

#include <string.h>

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

/* Fault points for the real-kernel tests, compiled in only by the test build
 * (make B=build/test CGP_TESTING=1, cgctl/testing.c): before the seq-th
 * forward action of a run, CGPLACE_STOP_WRITE=seq stops the process (SIGSTOP)
 * and CGPLACE_FAULT_WRITE=seq fails the action with EIO. The release engine
 * has neither the code nor the strings. */
#ifdef CGP_TESTING
int cgctl_test_fault(unsigned seq);
#else
static inline int cgctl_test_fault(unsigned seq)
{
    (void)seq;
    return 0;
}
#endif

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

struct cgctl_msgs {
    size_t n, cap;
    struct cgp_enforce_msg *v;
    struct cgp_arena *arena;     /* holds the texts */
};

/* Append a message. 0 or -ENOMEM. */
int cgctl_msgf(struct cgctl_msgs *m, enum cgp_msg_level lv, const char *guest, int pid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ------------------------------------------------------------------ */
/* Matching (to be lifted into the pipeline)                            */
/* ------------------------------------------------------------------ */

struct cgctl_match {             /* one per policy guest, in policy order */
    const struct cgp_guest *proc;    /* the matching process, or NULL */
    enum cgp_guest_state state;      /* NOT_RUNNING (also when matched), FOREIGN, INVALID */
    const char *detail;              /* arena string or literal; NULL */
    bool managed;                    /* running, ours, valid: to be placed */
    bool split;                      /* threads told apart: threaded children */
    enum cgp_guest_owner owner;      /* of a running guest */
    bool libvirt;                    /* running, libvirt's, valid: placed through libvirt's API */    bool contested;                  /* two processes match it: refused alone */
};

/* The QEMU processes no block matches (cgp_enforce_stray). */
struct cgctl_strays {
    size_t n, cap;
    struct cgp_enforce_stray *v;
};

/* Match the processes to the guests of pl: out[cgp_placement_n_guests(pl)].
 * A process the placement was compiled with (cgp_policy_compile_running)
 * keeps the matching made then; only others are matched here, by the same
 * matcher (pidfiles read under ctx's sysroot).
 * (zeroed by the caller). The processes no block matches go to strays, and
 * into sum their counts (n_unmanaged: those floating free, libvirt's only
 * under `unmanaged deny-all`; n_unmanaged_libvirt) and unmanaged_denied
 * (`unmanaged deny`, some counted, not dry); each is named in msgs at the
 * level `unmanaged` says (error under deny, a warning in a dry run; a
 * libvirt guest not counted is at most a warning). Returns 0, -EINVAL after
 * recording errors in msgs (a process matching two blocks, a block matching
 * two processes, an invalid cgroup name, per-thread placement without
 * thread names), -ENOMEM. */
int cgctl_match_guests(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *procs, size_t n_procs,
                       bool dry, struct cgctl_match *out, struct cgp_enforce_summary *sum,
                       struct cgctl_strays *strays, struct cgctl_msgs *msgs);

/* Cgroup path (relative) is base or below it. */
static inline bool cgctl_under(const char *path, const char *base)
{
    size_t n = strlen(base);
    return !strncmp(path, base, n) && (path[n] == '\0' || path[n] == '/');
}

/* A path component the cgroupfs accepts and that stays where it is put. */
bool cgctl_valid_component(const char *s, size_t n);
bool cgctl_valid_path(const char *p);

/* ------------------------------------------------------------------ */
/* The desired state: one builder for plan, apply and verify            */
/* ------------------------------------------------------------------ */

struct cgctl_dgroup {
    const char *path;            /* relative to the cgroup root */
    bool threaded;               /* a threaded child (emulator, vcpuN, iothread-ID) */
    const cgp_bitmap *cpus, *mems;   /* NULL: not written (inherits) */
};

struct cgctl_dthread {
    const struct cgp_guest_thread *th;
    size_t group;                /* index into its guest's groups */
};

struct cgctl_dguest {
    const struct cgp_guest_placement *gp;
    const struct cgp_guest *proc;    /* NULL: planned without a process (empty tree) */
    const char *path;                /* the guest's group, PARENT/NAME (systemd: SLICE/cgplace-NAME.scope/NAME) */
    const char *unit;                /* systemd: the scope's group holding it (SLICE/cgplace-NAME.scope); NULL */
    bool planned;                    /* groups and threads below are filled */
    bool split;                      /* groups[1..] are threaded children */
    /* The memory policy a cgroup cannot express (needs_exec: mode preferred
     * or interleave): only a process started under it gets it; exec_note
     * says so on the report's cpuset.mems ops (NULL when the cgroup says it
     * all). */
    bool needs_exec;
    enum cgp_mem_mode mode;
    const char *exec_note;
    size_t n_groups;                 /* [0] the guest's own group */
    struct cgctl_dgroup *groups;
    size_t n_threads;
    struct cgctl_dthread *threads;
};

struct cgctl_desired {
    size_t n_shared;                 /* "" then each component of PARENT: only when a guest is planned */
    const char **shared;
    size_t n;                        /* one per policy guest */
    struct cgctl_dguest *g;
};

struct cgctl_backend;

/* Build the desired state of pl for the guests m says are managed (m NULL:
 * every guest, split, without a process: the tree `plan` shows for an empty
 * hierarchy). The backend says where each guest's place is; everything is
 * kept in msgs' arena. Warnings (a vCPU beyond the policy's) go to msgs.
 * 0, -EINVAL (an invalid cgroup name), -ENOMEM. */
int cgctl_desired_build(const cgp_placement *pl, const struct cgctl_match *m, struct cgctl_backend *be,
                        struct cgctl_msgs *msgs, struct cgctl_desired *d);

/* ------------------------------------------------------------------ */
/* Backends                                                             */
/* ------------------------------------------------------------------ */

/* What the planner asks a backend to do. Each has an inverse the journal
 * keeps for rollback (CREATE/REMOVE, CPUSET_ON/OFF, a set/move with the old
 * value; THREADED is undone by removing the group it was made in). */
enum cgctl_act {
    CGCTL_CREATE,        /* the group `path` */
    CGCTL_REMOVE,
    CGCTL_CPUSET_ON,     /* cpuset for the children of `path` */
    CGCTL_CPUSET_OFF,
    CGCTL_THREADED,      /* make `path` a threaded child */
    CGCTL_SET_CPUS,      /* value: a CPU list ("" empty: inherit) */
    CGCTL_SET_MEMS,      /* value: a node list */
    CGCTL_MOVE_PROCESS,  /* value: a pid; `path` the guest's group */
    CGCTL_MOVE_THREAD,   /* value: a tid */
    /* systemd: the guest's transient scope, `path` its cgroup */
    CGCTL_UNIT_START,    /* value: the pid; the properties come from the unit's group */
    CGCTL_UNIT_STOP,     /* undo of START, value "PID OLDGROUP": the process back, then stop if empty */
    CGCTL_UNIT_CPUS,     /* SetUnitProperties AllowedCPUs=value */
    CGCTL_UNIT_MEMS,     /* SetUnitProperties AllowedMemoryNodes=value */
    CGCTL_MACHINE_REGISTER,    /* machined RegisterMachine, value "Name=N Leader=PID [Id=UUID]" */
    CGCTL_MACHINE_UNREGISTER,  /* its undo: UnregisterMachine, value "Name=N" */
    /* libvirt: `path` the domain, value "ITEM VALUE [FLAGS]" (ITEM: vcpu N, emulator,
     * iothread ID, numatune (VALUE a node list), numatune mode (VALUE a mode);
     * FLAGS: none for the live domain, "live+config" or "config") */
    CGCTL_LV_VCPU,
    CGCTL_LV_EMULATOR,
    CGCTL_LV_IOTHREAD,
    CGCTL_LV_NUMA,
};

/* A group's live state, as far as planning looks at it. */
struct cgctl_live {
    bool exists, threaded, cpuset_on;
    cgp_bitmap *cpus, *mems;     /* own sets; NULL = empty (inherits) */
};
enum {
    CGCTL_LIVE_TYPE = 1u << 0,   /* threaded */
    CGCTL_LIVE_CTL = 1u << 1,    /* cpuset_on */
    CGCTL_LIVE_CPUS = 1u << 2,
    CGCTL_LIVE_MEMS = 1u << 3,
};

struct cgctl_dirfd;

struct cgctl_backend {
    const struct cgctl_backend_ops *ops;
    cgp_ctx *ctx;
    int rootfd;                  /* cgroupfs: the root directory */
    char *prefix;                /* the root as /proc/PID/cgroup names it */
    struct cgctl_dirfd *dfd;     /* cgroupfs: directory fds by path */
    size_t n_dfd;
    void *priv;                  /* the backend's own state (systemd: the bus; libvirt: connection, domains) */
};

struct cgctl_backend_ops {
    const char *name;
    bool no_shared;              /* writes nothing above the guests' places (systemd owns it) */
    bool host_units;             /* can confine systemd's own units (`confine host`) */
    /* Find and open the hierarchy: -ENOENT/-ENOTDIR/-EOPNOTSUPP as
     * cgp_cgroup_root(), with the context's error set. */
    int (*open)(struct cgctl_backend *be);
    void (*close)(struct cgctl_backend *be);
    /* The guest's group (*path) and the unit group holding it (*unit; NULL
     * when the backend has none), in arena a. 0 or -ENOMEM. */
    int (*place)(struct cgctl_backend *be, const struct cgp_host_settings *hs, const char *guest,
                 struct cgp_arena *a, const char **path, const char **unit);
    /* Live state of a group (what = CGCTL_LIVE_*); absent: exists false. */
    int (*read_group)(struct cgctl_backend *be, const char *path, unsigned what, struct cgctl_live *st);
    /* How the report names an action: its kind, the file written (NULL: a
     * directory operation; the method or function of a call), the value
     * when the action has a fixed one, the item a call sets (or NULL). */
    void (*describe)(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                     const char **item);
    /* Create or remove a group, enable cpuset, make threaded, set cpus/mems,
     * move a process or a thread: one entry, act says which (undo: part of
     * a rollback). 0 or -errno. */
    int (*act)(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo);
    /* Read back an effective set (cpus, or mems): 0 with *out (NULL: empty
     * or missing), -ENOENT when the group is absent, -errno. */
    int (*read_effective)(struct cgctl_backend *be, const char *path, bool mems, cgp_bitmap **out);
    /* The group of a task: 0 and *path (malloc'd) relative to the root, or
     * as /proc names it with *inside false; -ENOENT/-ESRCH gone; -errno. */
    int (*task_group)(struct cgctl_backend *be, int pid, int tid, char **path, bool *inside);
};

extern const struct cgctl_backend_ops cgctl_backend_cgroupfs;
/* The cgroupfs description of the cgroup actions (others: a write of nothing). */
void cgctl_fs_describe(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                       const char **item);
extern const struct cgctl_backend_ops cgctl_backend_empty;
extern const struct cgctl_backend_ops cgctl_backend_systemd;
extern const struct cgctl_backend_ops cgctl_backend_empty_systemd;   /* its layout on an empty tree */
int cgctl_sd_place(struct cgctl_backend *be, const struct cgp_host_settings *hs, const char *guest,
                   struct cgp_arena *a, const char **path, const char **unit);
void cgctl_sd_describe(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                       const char **item);

/* The backend of the host's own guests: hs->backend, `auto` resolved (systemd
 * when it is PID 1 on a unified hierarchy and its bus answers; never for a
 * fixture tree). *warning (static) when the choice deserves one: cgroupfs
 * forced under systemd, or systemd's bus silent. */
const struct cgctl_backend_ops *cgctl_backend_choose(cgp_ctx *ctx, const struct cgp_host_settings *hs,
                                                     const char **warning);

/* The cgroupfs backend's entries, for the backends built on it (systemd
 * writes below its scopes as cgroupfs does). */
int cgctl_fs_open(struct cgctl_backend *be);
void cgctl_fs_close(struct cgctl_backend *be);
int cgctl_fs_read_group(struct cgctl_backend *be, const char *path, unsigned what, struct cgctl_live *st);
int cgctl_fs_act(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo);
int cgctl_fs_read_effective(struct cgctl_backend *be, const char *path, bool mems, cgp_bitmap **out);
int cgctl_fs_task_group(struct cgctl_backend *be, int pid, int tid, char **path, bool *inside);

/* The directory fd of a group (cgroupfs and backends built on it): borrowed,
 * valid until the next call. -errno. */
int cgctl_fs_dir(struct cgctl_backend *be, const char *path);

/* Test hooks playing systemd's manager for the systemd backend (hidden in
 * the shared library): when start is set, no bus is used. start gets the
 * scope's group, the StartTransientUnit properties as the report shows them
 * and the pid; set a unit property; stop the scope. 0 or -errno. */
struct cgctl_unit_hooks {
    int (*start)(void *ud, const char *path, const char *props, int pid);
    int (*set)(void *ud, const char *path, const char *key, const char *value);
    int (*stop)(void *ud, const char *path);
    /* machined: RegisterMachine (value as the op's) or UnregisterMachine ("Name=N") */
    int (*machine)(void *ud, bool reg, const char *value);
    void *ud;
};
extern struct cgctl_unit_hooks cgctl_unit_hooks;
/* libvirt's guests (libvirt.c): only describe and act are used, for the
 * ops of guests whose eguest.lv is set. */
extern const struct cgctl_backend_ops cgctl_backend_libvirt;

/* Read a cpuset list file relative to dfd: 0 with *out (NULL: missing or
 * empty), -EIO unparsable, -errno. */
int cgctl_read_set(int dfd, const char *file, cgp_bitmap **out);

/* Open the cgroup root of ctx: *fd a directory fd, *prefix the root's path in
 * the hierarchy as /proc/PID/cgroup names it ("" for the hierarchy root;
 * malloc'd). -errno with ctx's last error set. */
int cgctl_open_root(cgp_ctx *ctx, int *fd, char **prefix);

/* Take the apply lock (CGPLACE_LOCK or CGP_LOCK_DEFAULT). fd or -errno. */
int cgctl_lock(cgp_ctx *ctx);

/* ------------------------------------------------------------------ */
/* The engine's state                                                   */
/* ------------------------------------------------------------------ */

struct cgn {                     /* one group of the model */
    const char *path;            /* relative to the root */
    int gi;                      /* guest index, -1 shared ancestor */
    bool threaded_child;
    bool unit;                   /* a unit's group (systemd scope): sets are unit properties */
    bool want_cpuset_ctl;        /* needs cpuset for its children */
    const cgp_bitmap *want_cpus, *want_mems;   /* NULL: not written */
    /* live state, updated as actions are planned */
    struct cgctl_live live;
    bool created;
};

struct task {
    int gi;
    const struct cgp_guest_thread *th;
    int tid;
    char *cg;                    /* current group (relative), NULL unknown/gone */
    size_t target;               /* cgn index */
};

struct eop {                     /* one journal entry */
    struct cgp_op pub;
    struct cgctl_backend *be;    /* the backend that carries it out (one run may use several) */
    int gi;
    enum cgctl_act act;
    const char *path;            /* the action's path (pub.path is the report's: a unit, a domain) */
    const char *value;           /* the action's value (pub.value is the report's) */
    bool has_undo;
    enum cgctl_act uact;
    const char *upath, *uvalue;
    bool done, undone;
    bool tidy;                   /* removes a stale empty group: run last, best effort (tidy.c) */
    int tid;                     /* membership actions: the task (pid for a process) */
};

struct eguest {
    struct cgp_enforce_guest pub;
    const struct cgp_guest_placement *gp;
    bool managed;                /* running, ours: planned */
    size_t cg_first, cg_n;       /* its cgns: its group, then the threaded children */
    bool has_unit;               /* and the unit's group holding them (systemd) */
    size_t unit_cg;
    bool lv;                     /* running, libvirt's: planned through libvirt (libvirt.c) */
};

struct cgp_enforce {
    cgp_ctx *ctx;
    const cgp_placement *pl;
    struct cgctl_backend be;
    struct cgctl_backend lv;     /* libvirt's guests: opened on the first one */
    struct cgp_enforce_summary sum;
    struct cgp_arena arena;      /* strings, bitmaps, arrays named by the report */
    struct cgctl_msgs msgs;
    struct cgctl_strays strays;
    struct cgctl_desired want;
    size_t n_g;
    struct eguest *g;
    size_t n_cg, cap_cg;
    struct cgn *cg;
    size_t n_t, cap_t;
    struct task *t;
    size_t n_op, cap_op;
    struct eop *op;
    size_t n_kept;
    struct cgp_op *kept;         /* public view of the kept ops */
    unsigned n_forward;          /* forward actions tried in this run */
    bool no_tidy;                /* plan no removal of stale groups (verify) */
};

enum {
    CGCTL_PLAN_ALL = 1u << 16,   /* internal flag: every guest, no process (empty tree) */
};

/* Journal an action of guest gi (-1: a shared ancestor) on backend be; the
 * report's view is filled from be's describe(). NULL on -ENOMEM (also when
 * path, or the value of an action that needs one, is NULL: an arena
 * allocation failed). The caller sets the undo. */
struct eop *cgctl_add_op(cgp_enforce *e, struct cgctl_backend *be, int gi, enum cgctl_act act, const char *path,
                         const char *value, const char *old);

/* model.c: create the engine on backend ops (NULL: the host's choice,
 * cgctl_backend_choose), match, build the model from
 * the desired state (prepare); read the live tree and plan (start). Both
 * return 0 or -errno; a refused or failed run is recorded in e->sum. */
int cgctl_prepare(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests, size_t n_guests,
                  unsigned flags, const struct cgctl_backend_ops *ops, cgp_enforce **out);
int cgctl_start(cgp_enforce *e);
/* Make the public op list: the planned ops (dry) or the kept ones. */
int cgctl_publish(cgp_enforce *e, bool dry);
/* The run behind cgp_enforce_run, on any backend. */
int cgctl_enforce(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *guests, size_t n_guests,
                  unsigned flags, const struct cgctl_backend_ops *ops, cgp_enforce **out);

/* tidy.c: after the plan, the removals of the empty groups the placement
 * no longer has (eop.tidy). 0 or -ENOMEM. */
int cgctl_tidy_plan(cgp_enforce *e);

/* execute.c */
int cgctl_execute(cgp_enforce *e);   /* 0, or -EIO after a failure (rolled back) */
void cgctl_vanish(cgp_enforce *e, size_t gi, const char *when);
void cgctl_fail_run(cgp_enforce *e, int err, const char *guest, const char *what);

/* readback.c: one guest's effective sets and thread affinities. 0, or
 * -errno with *why (arena). */
int cgctl_readback(cgp_enforce *e, size_t gi, const char **why);
/* One group's effective sets against its intent; the same returns. */
int cgctl_readback_group(cgp_enforce *e, const struct cgn *c, const char **why);

/* libvirt.c */
/* Why libvirt's API cannot express gp (per-thread memory nodes, an I/O
 * thread libvirt cannot name), or NULL. */
const char *cgctl_lv_inexpressible(const struct cgp_guest_placement *gp);
/* After the cgroup plan: the calls for every guest with lv set. A guest
 * libvirt cannot be asked about (no library, no daemon, no such domain)
 * fails alone, with libvirt's message. 0 or -ENOMEM. */
int cgctl_lv_plan(cgp_enforce *e);
/* The CPUs and nodes libvirt should give thread th of guest gi. */
void cgctl_lv_want(const cgp_enforce *e, size_t gi, const struct cgp_guest_thread *th, const cgp_bitmap **cpus,
                   const cgp_bitmap **mems);
/* Every thread's Cpus_allowed_list / Mems_allowed_list against that. 0, or
 * -errno with *why (arena). */
int cgctl_lv_readback(cgp_enforce *e, size_t gi, const char **why);
/* desired.c: does a policy I/O thread id name this thread's id? ("7" names
 * libvirt's "iothread7"). */
bool cgctl_iothread_is(const char *policy_id, const char *thread_id);

/* migrate.c */
void cgctl_migrate_leftovers(cgp_enforce *e, size_t gi);
/* Pages of pid per node from numa_maps: *pages gets 2 * *n_nodes counts, all
 * mappings first, then anonymous ones only. 0 or -errno. */
int cgctl_read_numa_maps(cgp_ctx *ctx, int pid, uint64_t **pages, size_t *n_nodes);

#endif
