/* cgplace_policy.h — the placement policy language (spec §3): parse,
 * validate against a host, solve `auto`, compile to a placement and to the
 * ordered cgroup operations that realise it (spec §6).
 *
 * Conventions are those of cgplace.h:
 *  - int-returning functions return 0 (or a count) on success and a negative
 *    errno on failure; they never print and never exit.
 *  - Out-parameters are written only on success.
 *  - Objects returned through out-parameters are owned by the caller and are
 *    released with the matching *_free(); *_free(NULL) is a no-op.
 *  - Pointers from accessors are borrowed from the owning object.
 *
 * Diagnostics: a cgp_diags object is created by the caller and passed to the
 * parser and the compiler, which append errors and warnings to it (it is an
 * in/out object, filled on failure as well as on success). Every diagnostic
 * carries the FILE:LINE:COL of the statement (or token) at fault; columns are
 * 1-based byte offsets. At most CGP_POLICY_MAX_ERRORS errors are recorded; a
 * final "too many errors" error marks the cut.
 *
 * Errno meanings: -EINVAL the policy has errors (see the diags); -ENOMEM;
 * -ENOENT/-EACCES/... the top-level file could not be opened, -ELOOP it is a
 * symbolic link (not followed), -EISDIR a directory, -ENXIO not a regular
 * file (FIFO, device), -EFBIG larger than CGP_POLICY_MAX_FILE (no diagnostic
 * is added for these: the caller names the file).
 */
#ifndef CGPLACE_POLICY_H
#define CGPLACE_POLICY_H

#include "cgplace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CGP_POLICY_MAX_ERRORS 20
#define CGP_POLICY_MAX_FILE (16u << 20)     /* bytes per file */
#define CGP_POLICY_MAX_TOTAL (64u << 20)    /* bytes over all included files */
#define CGP_POLICY_MAX_TOKEN 4096           /* bytes per token */
#define CGP_POLICY_MAX_INCLUDE_DEPTH 8
#define CGP_POLICY_MAX_FILES 1000           /* files over all includes (each read once) */
#define CGP_POLICY_MAX_VCPUS 16384

/* ------------------------------------------------------------------ */
/* Diagnostics                                                          */
/* ------------------------------------------------------------------ */

struct cgp_diag {
    bool warning;        /* false: error */
    const char *file;    /* as named by the user or the include statement */
    unsigned line, col;  /* 1-based; 0 when the diagnostic is about the whole file */
    const char *msg;     /* without the "FILE:LINE:COL: error: " prefix */
};

typedef struct cgp_diags cgp_diags;

/* New empty list; NULL on ENOMEM. */
CGP_EXPORT cgp_diags *cgp_diags_new(void);
CGP_EXPORT void cgp_diags_free(cgp_diags *d);
CGP_EXPORT size_t cgp_diags_count(const cgp_diags *d);
CGP_EXPORT size_t cgp_diags_errors(const cgp_diags *d);
/* i-th diagnostic in the order found (borrowed). */
CGP_EXPORT const struct cgp_diag *cgp_diags_get(const cgp_diags *d, size_t i);
/* "FILE:LINE:COL: error: MSG" (or "warning"); caller frees. NULL on ENOMEM. */
CGP_EXPORT char *cgp_diag_format(const struct cgp_diag *dg);

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

typedef struct cgp_policy cgp_policy;

/* Parse the policy file at path (and what it includes). Files are opened
 * with O_NOFOLLOW|O_NONBLOCK and must be regular files no larger than
 * CGP_POLICY_MAX_FILE. Returns 0, -EINVAL (syntax errors, in diags), -ENOMEM,
 * or -errno when path itself cannot be opened/read. */
CGP_EXPORT int cgp_policy_parse_file(const char *path, cgp_diags *diags, cgp_policy **out);
/* The same with flags. CGP_POLICY_STRICT_FILES: path and every file it
 * includes must be owned by root or the caller's real uid and not writable
 * by group or others (like sshd's StrictModes), else -EINVAL with a
 * diagnostic naming the file (line 0 for path itself). Other flags: -EINVAL. */
#define CGP_POLICY_STRICT_FILES 1u
CGP_EXPORT int cgp_policy_parse_file_ex(const char *path, unsigned flags, cgp_diags *diags,
                                        cgp_policy **out);
/* Parse len bytes of buf as if read from a file named name (includes are
 * relative to name's directory). Same returns. buf need not be NUL-terminated. */
CGP_EXPORT int cgp_policy_parse_buffer(const char *name, const char *buf, size_t len,
                                       cgp_diags *diags, cgp_policy **out);
CGP_EXPORT void cgp_policy_free(cgp_policy *p);
/* Number of guest blocks parsed. */
CGP_EXPORT size_t cgp_policy_n_guests(const cgp_policy *p);

/* ------------------------------------------------------------------ */
/* Compilation: validation, defaults, auto placement                    */
/* ------------------------------------------------------------------ */

enum cgp_mem_mode {
    CGP_MODE_STRICT,
    CGP_MODE_RESTRICTIVE,
    CGP_MODE_PREFERRED,
    CGP_MODE_INTERLEAVE,
};
CGP_EXPORT const char *cgp_mem_mode_name(enum cgp_mem_mode m);

enum cgp_unmanaged { CGP_UNMANAGED_IGNORE, CGP_UNMANAGED_WARN, CGP_UNMANAGED_DENY };

/* Which cgroup backend places guests that libvirt does not own (spec §6). */
enum cgp_backend {
    CGP_BACKEND_AUTO,      /* systemd when it is PID 1 and its bus answers, else cgroupfs */
    CGP_BACKEND_CGROUPFS,  /* PARENT/GUEST at the cgroup root */
    CGP_BACKEND_SYSTEMD,   /* a transient, delegated scope per guest in SLICE */
};
CGP_EXPORT const char *cgp_backend_name(enum cgp_backend b);

enum cgp_match_kind { CGP_MATCH_NAME, CGP_MATCH_UUID, CGP_MATCH_PIDFILE, CGP_MATCH_QMP,
                      CGP_MATCH_USER /* appended: every uid of the process is NAME's or UID */ };

struct cgp_match {
    enum cgp_match_kind kind;
    const char *value;
};

struct cgp_thread_placement {
    const cgp_bitmap *cpus;
    const cgp_bitmap *mems;
};

struct cgp_iothread_placement {
    const char *id;          /* as written in the policy */
    const cgp_bitmap *cpus;
    const cgp_bitmap *mems;
};

/* A guest NUMA cell (a `cell` block): what emit turns into libvirt's
 * <cell>/<memnode>, QEMU's -numa node and xl's vnuma. */
struct cgp_cell_placement {
    unsigned index;          /* the cell's number in the policy */
    const cgp_bitmap *vcpus; /* the guest's vCPU indexes */
    uint64_t memory_kib;
    const cgp_bitmap *mems;  /* host nodes of its memory */
    enum cgp_mem_mode mode;  /* the cell's own mode, else the guest's */
};

struct cgp_guest_placement {
    const char *name;        /* block name, also the cgroup directory name */
    const char *file;        /* where the guest block starts */
    unsigned line, col;
    bool running;            /* a process matches it (cgp_policy_compile_running) */
    unsigned n_vcpus;
    uint64_t memory_kib;     /* 0 when the guest gives no memory statement */
    enum cgp_mem_mode mode;
    bool needs_exec;         /* preferred/interleave: a cgroup can only restrict */
    bool auto_placed;        /* cpus auto or nodes auto was solved */
    const cgp_bitmap *cpus;  /* guest cgroup: union of its threads' CPUs */
    const cgp_bitmap *mems;  /* guest cgroup: union of its threads' nodes */
    struct cgp_thread_placement emulator;
    const struct cgp_thread_placement *vcpu;     /* [n_vcpus] */
    size_t n_iothreads;
    const struct cgp_iothread_placement *iothreads;
    size_t n_matches;        /* >= 1: an implicit name match when none given */
    const struct cgp_match *matches;
    /* The process that runs as this guest (cgp_policy_compile_running): the
     * first one, in the order given, whose first matching block this is;
     * NULL when none. Borrowed from the caller's list. */
    const struct cgp_guest *proc;
    /* Added after the interface was fixed (appended): */
    size_t n_cells;          /* the guest's cells in policy order (0 for runtime placements) */
    const struct cgp_cell_placement *cells;
};

struct cgp_trust;   /* who counts as a guest (cgplace_guests.h) */

struct cgp_host_settings {
    const cgp_bitmap *reserved_cpus;  /* never NULL */
    uint64_t reserve_memory_kib;      /* per node with memory */
    const char *parent;               /* "cgplace" by default */
    enum cgp_unmanaged unmanaged;     /* default CGP_UNMANAGED_WARN */
    unsigned overcommit_milli;        /* vCPUs per host CPU x 1000; default 1000 */
    /* Added after the interface was fixed (appended): */
    enum cgp_backend backend;         /* default CGP_BACKEND_AUTO */
    const char *slice;                /* systemd backend: the slice of the guests' scopes, "cgplace.slice" */
    bool confine_host;                /* `confine host`: systemd's own slices on the reserved CPUs */
    bool libvirt_persist;             /* `libvirt persist;`: libvirt's guests get their placement in the
                                       * persistent definition too (VIR_DOMAIN_AFFECT_CONFIG) */
    bool oversubscribe_deny;          /* `oversubscribe deny;`: fixed guests over overcommit are an error */
    bool register_machine;            /* `machined yes;`: systemd backend: each scope cgplace starts is
                                       * registered with systemd-machined (machinectl list) */
    bool unmanaged_libvirt;           /* `unmanaged deny-all;` (unmanaged is then CGP_UNMANAGED_DENY):
                                       * libvirt's guests no block places count as unmanaged too. Without
                                       * it they are managed by libvirt, reported but not counted */
    unsigned qmp_timeout_ms;          /* `qmp-timeout`: one deadline for every QMP question of a run */
    const struct cgp_trust *trust;    /* `qemu-binaries`, `guest-users` (cgplace_guests.h); never NULL */
};

typedef struct cgp_placement cgp_placement;
struct cgp_guest;   /* a running QEMU process (cgplace_guests.h) */

/* Validate p against host t, resolve defaults and `auto`, and compile, with
 * no guest running. Errors and warnings go to diags. Returns 0 (possibly
 * with warnings), -EINVAL when an error was found, -ENOMEM. */
CGP_EXPORT int cgp_policy_compile(const cgp_policy *p, const cgp_topology *t,
                                  cgp_diags *diags, cgp_placement **out);

/* The same with the running QEMU processes as an input (normally every
 * guest of one cgp_guests_discover()): each process is matched to the blocks
 * once, here (every match line of a block must hold; `match pidfile` files
 * are read under ctx's sysroot). A block some process matches is running:
 * its memory is already out of MemFree and its placement says running.
 * The placement keeps the matching (cgp_placement_proc, and each guest's
 * proc) for plan, apply, verify and guests, which never match again.
 * procs are borrowed: they must outlive *out. ctx may be NULL when n_procs
 * is 0. Same returns as cgp_policy_compile; -EINVAL also for bad arguments. */
CGP_EXPORT int cgp_policy_compile_running(const cgp_policy *p, const cgp_topology *t, cgp_ctx *ctx,
                                          const struct cgp_guest *const *procs, size_t n_procs,
                                          cgp_diags *diags, cgp_placement **out);

/* How one process matched (cgp_policy_compile_running). */
struct cgp_proc_match {
    const struct cgp_guest *proc;   /* borrowed from the caller's list */
    size_t n_guests;                /* blocks whose match lines all hold: 0 unmanaged, > 1 ambiguous */
    const size_t *guests;           /* their indices in the placement, ascending */    /* Appended: why the process is no guest at all (cgp_guest_trusted);
     * then n_guests is 0. NULL: trusted. Owned by the placement. */
    const char *untrusted;
};
/* The processes given to cgp_policy_compile_running, in the order given. */
CGP_EXPORT size_t cgp_placement_n_procs(const cgp_placement *pl);
CGP_EXPORT const struct cgp_proc_match *cgp_placement_proc(const cgp_placement *pl, size_t i);
CGP_EXPORT void cgp_placement_free(cgp_placement *pl);
CGP_EXPORT const struct cgp_host_settings *cgp_placement_host(const cgp_placement *pl);
/* Guests in policy order. */
CGP_EXPORT size_t cgp_placement_n_guests(const cgp_placement *pl);
CGP_EXPORT const struct cgp_guest_placement *cgp_placement_guest(const cgp_placement *pl, size_t i);
CGP_EXPORT const struct cgp_guest_placement *cgp_placement_find(const cgp_placement *pl,
                                                                const char *name);
/* Why `auto` put guest i (policy order) where it did: the candidates the
 * solver compared, best first, with their distances, as one line in *out
 * (malloc'd, the caller frees it). 0; -ENOENT when the guest has no `auto`
 * (or i is out of range); -ENOMEM. */
CGP_EXPORT int cgp_placement_reason(const cgp_placement *pl, size_t i, char **out);

/* ------------------------------------------------------------------ */
/* Suggest: the auto solver for one new guest                           */
/* ------------------------------------------------------------------ */

struct cgp_suggestion {
    cgp_bitmap *cpus;        /* owned by the caller: cgp_bitmap_free() */
    cgp_bitmap *mems;
    cgp_bitmap *cpu_nodes;   /* the nodes whose CPUs were chosen */
};

/* Best fit for a new guest of vcpus vCPUs and memory_kib KiB, after the
 * commitments of pl (NULL: an empty policy: no reservation, overcommit 1).
 * Memory also has to fit the nodes' MemFree minus the reserve (the guest
 * starts now). Returns 0, -ENOSPC when no placement exists, -EINVAL
 * (vcpus == 0), -ENOMEM. */
CGP_EXPORT int cgp_suggest(const cgp_placement *pl, const cgp_topology *t, unsigned vcpus,
                           uint64_t memory_kib, struct cgp_suggestion *out);
/* The same for a guest whose memory is bound to mem_nodes (node ids; NULL:
 * chosen like cgp_suggest): where should its CPUs be? -EINVAL also when a
 * node of mem_nodes does not exist or has no memory; -ENOSPC when the
 * memory does not fit there. */
CGP_EXPORT int cgp_suggest_nodes(const cgp_placement *pl, const cgp_topology *t, unsigned vcpus,
                                 uint64_t memory_kib, const cgp_bitmap *mem_nodes,
                                 struct cgp_suggestion *out);
CGP_EXPORT void cgp_suggestion_clear(struct cgp_suggestion *s);

/* ------------------------------------------------------------------ */
/* Plan: ordered cgroup operations (spec §6)                            */
/* ------------------------------------------------------------------ */

enum cgp_op_kind {
    CGP_OP_MKDIR,   /* create the cgroup `path` */
    CGP_OP_WRITE,   /* write `value` to `path`/`file` */
    CGP_OP_DBUS,    /* a systemd manager call: `path` the unit, `file` the method, `item` the property */
    CGP_OP_LIBVIRT, /* a libvirt API call: `path` the domain, `file` the function, `item` what it sets */
    /* Added after the interface was fixed (appended): */
    CGP_OP_RMDIR,   /* remove the empty cgroup `path` the placement no longer has */
};

struct cgp_op {
    enum cgp_op_kind kind;
    const char *path;       /* cgroup path relative to the cgroup root ("" = root) */
    const char *file;       /* CGP_OP_WRITE: the cgroup file; NULL for MKDIR */
    const char *value;      /* CGP_OP_WRITE: the value written; NULL for MKDIR */
    const char *old_value;  /* the value it replaces; NULL when unknown/new */
    const char *guest;      /* guest it belongs to, NULL for shared ancestors */
    const char *note;       /* NULL, or why the write is not the whole story */
    /* Added after the interface was fixed (appended): */
    const char *item;       /* DBUS: the unit property ("AllowedCPUs"), NULL when value lists several;
                             * LIBVIRT: "vcpu N", "emulator", "iothread ID", "numatune"; else NULL */
};

/* The desired cgroup tree of a placement: one entry per cgroup, parents
 * before children (PARENT's components, then each guest's cgroup and its
 * threaded children). The enforcement engine diffs the same desired state
 * against the live tree (cgplace_cgctl.h). */
struct cgp_cgroup_spec {
    const char *path;        /* relative to the cgroup root */
    const char *guest;       /* NULL for PARENT */
    bool threaded;           /* a threaded child (emulator, vcpuN, iothread-ID) */
    const cgp_bitmap *cpus;  /* NULL: not written (inherits) */
    const cgp_bitmap *mems;
};

typedef struct cgp_plan cgp_plan;

/* The ops `apply` would make on a host where no cgroup of pl exists yet (no
 * cgroup v2 hierarchy to diff against): a dry run of the enforcement engine
 * on a backend where every cgroup is absent, with every guest of pl planned
 * without a process, so there are no cgroup.procs / cgroup.threads writes
 * and every old_value is NULL. Returns 0, -EINVAL (a cgroup name that would
 * escape PARENT, an I/O thread id that is no cgroup name), -ENOMEM. The plan
 * and everything it points to are owned by *out (cgp_plan_free). */
CGP_EXPORT int cgp_plan_from_empty(const cgp_placement *pl, cgp_plan **out);
CGP_EXPORT void cgp_plan_free(cgp_plan *plan);
CGP_EXPORT size_t cgp_plan_n_ops(const cgp_plan *plan);
CGP_EXPORT const struct cgp_op *cgp_plan_op(const cgp_plan *plan, size_t i);
CGP_EXPORT size_t cgp_plan_n_cgroups(const cgp_plan *plan);
CGP_EXPORT const struct cgp_cgroup_spec *cgp_plan_cgroup(const cgp_plan *plan, size_t i);

/* Parse a SIZE word ("512M", "3GiB"): 0, -EINVAL (no unit: *needs_unit set
 * true when given), -ERANGE, into KiB. Used by the CLI for --memory. */
CGP_EXPORT int cgp_parse_size_kib(const char *s, uint64_t *kib, bool *needs_unit);


/* ------------------------------------------------------------------ */
/* Runtime tuning: one guest, one change (appended)                     */
/* ------------------------------------------------------------------ */

enum cgp_change_kind {
    CGP_CHANGE_NONE,       /* the guest as it is (numatune without --nodeset) */
    CGP_CHANGE_VCPU,       /* vcpupin: vCPU `vcpu` gets CPUs `set` */
    CGP_CHANGE_EMULATOR,   /* emulatorpin: the emulator threads get CPUs `set` */
    CGP_CHANGE_IOTHREAD,   /* iothreadpin: I/O thread `iothread` gets CPUs `set` */
    CGP_CHANGE_MEMS,       /* numatune: the guest and every thread get nodes `set` */
};

struct cgp_runtime_change {
    enum cgp_change_kind what;
    int vcpu;
    const char *iothread;      /* as in the policy: "io1", "1" (= libvirt's iothread1) */
    const cgp_bitmap *set;     /* borrowed; copied into the placement */
    bool set_mode;             /* CGP_CHANGE_MEMS: also change the mode */
    enum cgp_mem_mode mode;
};

/* A one-guest placement for running guest g with one change, for
 * cgp_enforce_run(): the guest's block of base when base was compiled with
 * g and a block matches it, else the guest as its threads run now (each
 * thread's Cpus_allowed_list / Mems_allowed_list, the emulator the main
 * thread's; named after the cgroup cgplace gave it, else -name, else
 * qemu-PID), with base's host settings (base NULL: the defaults). The
 * guest's own sets become the union of its threads'. The change is checked
 * against t and the host settings first. Returns 0 and *out (caller frees),
 * or, with the context's last error saying why: -EINVAL (CPUs not present,
 * offline or reserved; nodes absent, offline or without memory; an empty
 * set), -ERANGE (vCPU index out of range), -ENOENT (no such I/O thread),
 * -ENXIO (vCPU/I/O threads cannot be told apart: needs debug-threads=on or
 * QMP), -ESRCH (the process is gone), -ENOMEM. */
CGP_EXPORT int cgp_placement_runtime(cgp_ctx *ctx, const cgp_placement *base, const cgp_topology *t,
                                     const struct cgp_guest *g, const struct cgp_runtime_change *chg,
                                     cgp_placement **out);

/* `exec`: a one-guest placement of block `name` of base for process g
 * (paired with it whatever the block's match lines say). whole_guest: every
 * thread gets the guest's own sets (before QEMU starts its vCPU threads, the
 * process is one thread: it goes into the guest's group, not a thread's);
 * else the block's per-thread placement. Returns 0 and *out (caller frees),
 * -ENOENT (no such block; the context's last error says so), -EINVAL,
 * -ENOMEM. */
CGP_EXPORT int cgp_placement_exec(cgp_ctx *ctx, const cgp_placement *base, const char *name,
                                  const struct cgp_guest *g, bool whole_guest, cgp_placement **out);

/* --persist: the change also written into the policy file. */
typedef struct cgp_persist cgp_persist;

/* Rewrite the block of guest `guest` in the policy at path (or in the file
 * it includes that holds the block) with change chg (a CPU or node change):
 * the statement it changes is edited in place (vcpupin N / emulatorpin /
 * iothreadpin ID: the CPU list; memory: the nodes, and the mode when
 * chg->set_mode), else one statement is added before the block's '}';
 * comments, layout and includes stay. The new text must parse and compile
 * against t (the file holding the block is checked whole); then it is
 * written to a temporary file in the same directory and fsync'd. Nothing
 * replaces the policy until cgp_persist_commit(); cgp_persist_free()
 * without a commit removes the temporary file. Returns 0 and *out, -EINVAL
 * (the new text is invalid: errors in diags; or bad arguments), -ENOENT (no
 * such block: in diags), -errno of the file, -ENOMEM. */
CGP_EXPORT int cgp_persist_prepare(const char *path, const char *guest, const struct cgp_runtime_change *chg,
                                   const cgp_topology *t, cgp_diags *diags, cgp_persist **out);
/* Rename the temporary file over the policy file and fsync the directory.
 * 0 or -errno (the policy file is then unchanged). */
CGP_EXPORT int cgp_persist_commit(cgp_persist *ps);
/* The file rewritten (borrowed). */
CGP_EXPORT const char *cgp_persist_file(const cgp_persist *ps);
CGP_EXPORT void cgp_persist_free(cgp_persist *ps);

#ifdef __cplusplus
}
#endif
#endif
