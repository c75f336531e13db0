/* cgplace_guests.h — running QEMU guests (spec §5).
 *
 * Same conventions as cgplace.h: negative errno, no printing, out-params only
 * on success, caller frees what it receives with the matching *_free().
 */
#ifndef CGPLACE_GUESTS_H
#define CGPLACE_GUESTS_H

#include "cgplace.h"
#include "cgplace_policy.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cgp_thread_role {
    CGP_THREAD_EMULATOR,   /* every thread that is neither a vCPU nor an I/O thread */
    CGP_THREAD_VCPU,       /* comm "CPU N/KVM" or "CPU N/TCG", or QMP query-cpus-fast */
    CGP_THREAD_IOTHREAD,   /* comm "IO ID", or QMP query-iothreads */
};

struct cgp_guest_thread {
    int tid;
    enum cgp_thread_role role;
    int vcpu;              /* vCPU index for CGP_THREAD_VCPU, else -1 */
    const char *iothread;  /* I/O thread id for CGP_THREAD_IOTHREAD, else NULL */
};

/* How the vCPU threads were told apart. */
enum cgp_thread_source {
    CGP_THREADS_UNKNOWN,   /* not at all: whole-guest placement only */
    CGP_THREADS_NAMES,     /* debug-threads=on thread names */
    CGP_THREADS_QMP,       /* QMP query-cpus-fast / query-iothreads */
};

struct cgp_guest {
    int pid;
    int pidfd;                 /* pidfd_open(pid) taken at discovery, -1 if unsupported */
    uint64_t start_time;       /* /proc/PID/stat field 22, to detect pid reuse */
    const char *name;          /* -name NAME / -name guest=NAME,...; NULL if none */
    const char *uuid;          /* -uuid; NULL */
    const char *pidfile;       /* -pidfile; NULL */
    const char *qmp;           /* QMP unix socket path (-qmp unix:PATH or -chardev+-mon mode=control); NULL */
    const char *cgroup;        /* cgroup v2 path of the process ("/cgplace/web1"), from /proc/PID/cgroup "0::" */
    bool foreign;              /* under machine.slice or machine/: libvirt owns it (placed through its API) */
    enum cgp_thread_source thread_source;
    size_t n_threads;
    const struct cgp_guest_thread *threads;   /* ascending tid */
    /* Added after the interface was fixed (appended, layout above unchanged): */
    bool debug_threads;        /* -name ...,debug-threads=on was given */
    /* Who the process is (read at discovery, judged by cgp_guest_trusted): */
    const char *exe;           /* executable path as proc/PID/exe names it (" (deleted)" cut); NULL unreadable */
    int exe_err;               /* 0, or -errno of reading the executable's or its directory's owner and mode */
    unsigned exe_uid, exe_mode;    /* the executable file (live root: the running inode) */
    unsigned exe_dir_uid, exe_dir_mode;  /* the directory exe names, resolved under the sysroot */
    long long uids[4];         /* real, effective, saved, filesystem uid (status "Uid:"); -1 unknown */
};

typedef struct cgp_guest_list cgp_guest_list;

enum {
    CGP_DISCOVER_QMP = 1u << 0,   /* ask QMP for thread ids when thread names are missing: only processes
                                   * the default trust makes guests, one deadline for all
                                   * (CGP_QMP_DEFAULT_TIMEOUT_MS); see cgp_guests_query_qmp */
    CGP_DISCOVER_ANY = 1u << 1,   /* cgp_guests_read_pid: the process even if it is no QEMU (yet) */
};

/* Scan SYSROOT/proc for QEMU processes (executable or comm qemu-system-* /
 * qemu-kvm), whether or not they are guests (cgp_guest_trusted judges the
 * facts read here). Processes that vanish during the scan are skipped. Returns 0,
 * -ENOENT (no proc under the sysroot), -ENOMEM. */
CGP_EXPORT int cgp_guests_discover(cgp_ctx *ctx, unsigned flags, cgp_guest_list **out);
CGP_EXPORT void cgp_guests_free(cgp_guest_list *l);
/* The one process pid, read as discovery reads a guest (its command line,
 * cgroup, threads; QMP with CGP_DISCOVER_QMP), into a list of one (caller
 * frees). A process that is no QEMU counts only with CGP_DISCOVER_ANY
 * (`exec` reads its own child before the execve). Returns 0, -ESRCH (no
 * such process, a zombie, or no QEMU), -EINVAL, -ENOMEM. */
CGP_EXPORT int cgp_guests_read_pid(cgp_ctx *ctx, int pid, unsigned flags, cgp_guest_list **out);
CGP_EXPORT size_t cgp_guests_count(const cgp_guest_list *l);
CGP_EXPORT const struct cgp_guest *cgp_guests_get(const cgp_guest_list *l, size_t i);

/* True when every match line of the placement holds for the guest (with no
 * match line: the guest's name equals the block name); `match pidfile`
 * files are read under ctx's sysroot (ctx NULL: only -pidfile counts). The
 * pipeline matches once, in cgp_policy_compile_running; this is for tools
 * that ask about one pair. */
CGP_EXPORT bool cgp_guest_matches(cgp_ctx *ctx, const struct cgp_guest *g, const struct cgp_guest_placement *gp);

/* 0 when the process is still the one discovered (same pid, same start
 * time, pidfd not signalled), -ESRCH otherwise. */
CGP_EXPORT int cgp_guest_alive(cgp_ctx *ctx, const struct cgp_guest *g);

/* ---- Added after the interface was fixed (appended) ---- */

/* What the kernel allows thread tid of guest g now: Cpus_allowed_list and
 * Mems_allowed_list of SYSROOT/proc/PID/task/TID/status (tid == g->pid: the
 * main thread). Either out-pointer may be NULL. Returns 0, -ESRCH (the
 * thread is gone), -EIO (no such line / unparsable), -ENOMEM. */
CGP_EXPORT int cgp_guest_thread_affinity(cgp_ctx *ctx, const struct cgp_guest *g, int tid,
                                         cgp_bitmap **cpus, cgp_bitmap **mems);

/* "emulator", "vcpu", "iothread". */
CGP_EXPORT const char *cgp_thread_role_name(enum cgp_thread_role r);
/* "unknown", "names", "qmp". */
CGP_EXPORT const char *cgp_thread_source_name(enum cgp_thread_source s);


/* ---- Who counts as a guest (docs/SECURITY.md; appended) ---- */

/* What makes a process a guest. NULL lists take the defaults. */
struct cgp_trust {
    size_t n_binaries;
    const char *const *binaries;   /* fnmatch(3) globs (FNM_PATHNAME) for the executable path;
                                    * default CGP_TRUST_DEFAULT_BINARIES */
    size_t n_users;
    const char *const *users;      /* user names (SYSROOT/etc/passwd) or uids allowed besides
                                    * root; default CGP_TRUST_DEFAULT_USERS */
    bool users_given;              /* n_users == 0 with this: root only */
};
#define CGP_TRUST_DEFAULT_BINARIES \
    "/usr/bin/qemu-system-*", "/usr/libexec/qemu-kvm", "/usr/bin/qemu-kvm", "/usr/local/bin/qemu-system-*"
#define CGP_TRUST_DEFAULT_USERS "libvirt-qemu", "qemu"
#define CGP_QMP_DEFAULT_TIMEOUT_MS 5000

/* Is g a guest by trust t (NULL: the defaults)? Its executable must match
 * a glob and, like its directory, be owned by root (or by the user running
 * cgplace: that user's own files) and writable by neither group nor others;
 * every uid of the process must be root's, an allowed user's or the running
 * user's. Returns 1 (trusted), 0 (not: why gets the reason, why may be NULL),
 * -ENOMEM, -EINVAL. */
CGP_EXPORT int cgp_guest_trusted(cgp_ctx *ctx, const struct cgp_guest *g, const struct cgp_trust *t,
                                 char *why, size_t whylen);

/* Ask QMP for the thread ids of the guests of l that want[i] says (want
 * NULL: every guest) and that have a QMP socket and lack usable thread
 * names: all sockets at once, within one deadline of timeout_ms for all of
 * them (<= 0: CGP_QMP_DEFAULT_TIMEOUT_MS); a guest that has not answered by
 * then keeps its thread_source. Returns the number of sockets connected to
 * (>= 0), -EINVAL or -ENOMEM. */
CGP_EXPORT int cgp_guests_query_qmp(cgp_ctx *ctx, cgp_guest_list *l, const bool *want, int timeout_ms);

/* ---- Runtime tuning (vcpuinfo, vcpupin, numatune; appended) ---- */

/* One thread of a guest as it is now. */
struct cgp_thread_info {
    int tid;
    enum cgp_thread_role role;
    int vcpu;                  /* vCPU index, else -1 */
    const char *iothread;      /* borrowed from the guest, else NULL */
    int cpu;                   /* host CPU it last ran on (task/TID/stat field 39), -1 unknown */
    char state;                /* stat state letter ('R', 'S', ...), '?' unknown */
    uint64_t cpu_time_ms;      /* utime + stime */
    cgp_bitmap *cpus, *mems;   /* Cpus_allowed_list / Mems_allowed_list (owned by the array) */
};

/* Every thread of g still alive, in g's order (ascending tid), read from
 * SYSROOT/proc/PID/task/TID/{stat,status}. *out (cgp_thread_info_free) and
 * *n on success. Returns 0, -EIO (a file that does not parse: the context's
 * last error names it), -ENOMEM, -EINVAL (NULL arguments). */
CGP_EXPORT int cgp_guest_threads_info(cgp_ctx *ctx, const struct cgp_guest *g,
                                      struct cgp_thread_info **out, size_t *n);
CGP_EXPORT void cgp_thread_info_free(struct cgp_thread_info *v, size_t n);
/* "running", "sleeping", "disk sleep", "stopped", ... for a stat state letter. */
CGP_EXPORT const char *cgp_task_state_name(char state);
/* The possible CPUs (SYSROOT/sys/devices/system/cpu/possible): the width of
 * an affinity map. *out (caller frees). 0, -ENOENT, -EIO, -ENOMEM. */
CGP_EXPORT int cgp_cpus_possible(cgp_ctx *ctx, cgp_bitmap **out);
/* The guest an operator names by key: a pid (all digits), else its -name or
 * -uuid (case-insensitive). *out borrowed from l. Returns 0, -ENOENT (none),
 * -EEXIST (several processes carry that name), -EINVAL. */
CGP_EXPORT int cgp_guests_find(const cgp_guest_list *l, const char *key, const struct cgp_guest **out);
/* The same, where a name or UUID finds only processes that are guests by
 * the trust rules (cgp_guest_trusted with trust; NULL: the defaults): what
 * the runtime commands use, so that an impostor's -name neither answers nor
 * makes a guest ambiguous. A pid finds any QEMU process. Same returns, and
 * -EINVAL without ctx. */
CGP_EXPORT int cgp_guests_find_trusted(cgp_ctx *ctx, const cgp_guest_list *l, const char *key,
                                       const struct cgp_trust *trust, const struct cgp_guest **out);

#ifdef __cplusplus
}
#endif
#endif
