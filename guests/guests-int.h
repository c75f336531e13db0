/* Internal declarations of guest discovery (guests/). Not installed. */
#ifndef CGP_GUESTS_INT_H
#define CGP_GUESTS_INT_H

#include "cgplace_guests.h"
#include "internal.h"
#include "../parsers/qmp.h"

#define CGP_QMP_TIMEOUT_MS CGP_QMP_DEFAULT_TIMEOUT_MS /* for all of a run's questions: QEMU under load
                                                      * (TCG, a busy host) can take seconds to accept */

/* Talk QMP to the unix socket at path (absolute, resolved under the sysroot
 * whose directory is root_fd and whose name is sysroot) for at most
 * timeout_ms. 0 and *out on success; -errno otherwise (err gets a reason). */
int cgp_qmp_query(int root_fd, const char *sysroot, const char *path, int timeout_ms,
                  struct cgp_qmp_threads *out, char *err, size_t errlen);
/* The same for n sockets at once, all within one deadline of timeout_ms:
 * res[i] is 0 (out[i] set) or -errno for paths[i]. Returns how many
 * sockets were connected to, or -ENOMEM. */
int cgp_qmp_query_all(int root_fd, const char *sysroot, const char *const *paths, size_t n, int timeout_ms,
                      struct cgp_qmp_threads *out, int *res);


/* Do all n match lines m hold for process g? (n == 0: false.) Pidfiles
 * are read relative to root_fd, the sysroot (-1: only -pidfile counts). */
bool cgp_match_holds(int root_fd, const struct cgp_guest *g, const struct cgp_match *m, size_t n);

/* Numeric field number `field` (1-based, >= 3, as in proc(5)) of a
 * /proc/PID/stat image, parsed after the last ')'. 0 or -EINVAL. */
int cgp_guests_stat_field(const char *stat, int field, uint64_t *out);
/* Field 22 (starttime). 0 or -EINVAL. */
int cgp_guests_stat_start_time(const char *stat, uint64_t *out);

/* Thread role from a task comm: "CPU N/KVM", "CPU N/TCG" → vCPU N; "IO ID" →
 * I/O thread ID (*iothread points into comm); anything else the emulator. */
enum cgp_thread_role cgp_guests_classify_comm(const char *comm, int *vcpu, const char **iothread);

/* Cgroup v2 path from a /proc/PID/cgroup image ("0::PATH" line), malloc'd;
 * NULL when there is none (or ENOMEM: *err set). */
char *cgp_guests_cgroup_path(const char *img, int *err);
/* Task facts from SYSROOT/proc, one reader each (discovery, cgctl, verify). */
/* The cgroup v2 path of a task (tid 0: of the process): 0 and *out (malloc'd;
 * NULL when the file has no "0::" line), or -errno (-ENOENT/-ESRCH: gone). */
int cgp_task_cgroup(int root_fd, int pid, int tid, char **out);
/* Cpus_allowed_list / Mems_allowed_list of a task (either out may be NULL):
 * 0, -EIO with *bad naming the line that is missing or invalid, -ENOMEM, or
 * -errno of the read (-ENOENT/-ESRCH: gone). */
int cgp_task_allowed(int root_fd, int pid, int tid, cgp_bitmap **cpus, cgp_bitmap **mems, const char **bad);
/* Under machine.slice or machine/ (libvirt, systemd-machined). */
bool cgp_guests_cgroup_foreign(const char *path);

/* Who counts as a guest (trust.c). */
/* Read what trust is judged on into g (exe, its owner and mode and its
 * directory's, the uids): 0 (unreadable facts stay unknown) or -ENOMEM. */
int cgp_trust_read_facts(int root_fd, const char *pdir, bool live, struct cgp_guest *g);
/* The "Uid:" line of a proc status image into u[4] (-1 where missing). */
void cgp_trust_parse_uids(const char *status, long long u[4]);
/* The judgement on facts alone: 1 trusted, 0 not (why set). uids are the
 * allowed users' uids besides root (-1 entries match nothing). */
int cgp_trust_judge(const struct cgp_guest *g, const char *const *bins, size_t n_bins, const long long *uids,
                    size_t n_uids, char *why, size_t whylen);
/* The file name in directory dir_fd is one only root (or the running user)
 * can have written: both owned so, neither writable by group or others, the
 * file regular and no symlink. 1, 0 (why set), -errno. */
int cgp_trust_file_ok(int dir_fd, const char *name, char *why, size_t whylen);
/* An absolute path opened O_PATH (plus flags) under root_fd, symlinks
 * resolved inside the root (openat2 RESOLVE_IN_ROOT). fd or -errno. */
int cgp_trust_open_in_root(int root_fd, const char *path, int flags);
/* The uid of a user name (SYSROOT/etc/passwd) or of a number; -1 none. */
long long cgp_trust_user_uid(int root_fd, const char *user);

#endif
