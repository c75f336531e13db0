/* A fake cgroup v2 file system made of plain files, driven through the
 * engine's test hooks (cgctl/cgctl-int.h), plus a fake /proc for the tasks.
 *
 * The engine writes the files itself (O_TRUNC plain writes, real mkdir and
 * rmdir); the `after` hook plays the kernel: it normalises
 * cgroup.subtree_control, moves tasks on cgroup.procs / cgroup.threads
 * writes, recomputes every cpuset.*.effective (own ∩ parent's effective, or
 * the parent's when empty or disjoint — the fallback measured on Linux 6.1)
 * and rewrites each task's /proc/PID/task/TID/{cgroup,status}. The `before`
 * hook refuses what the kernel refuses (a thread moved outside its threaded
 * domain, a process moved into a threaded cgroup, cpuset files of a cgroup
 * whose parent has not enabled cpuset, +cpuset in a domain with tasks, rmdir
 * of a populated cgroup) and injects the k-th forward failure (EIO). After
 * each forward operation the simulator records every populated cgroup's
 * effective sets, so a test can check that none was ever wider than the union
 * of its first and last value, or empty. */
#ifndef FAKECG_H
#define FAKECG_H

#include <stdbool.h>
#include <stddef.h>

#include "cgctl-int.h"

#define FAKE_MAX_TASKS 512

struct fake_task {
    int pid, tid;
    char cg[256];        /* relative to the fake root, "" = root */
};

struct fake {
    char dir[256];       /* tmpdir */
    char root[300];      /* dir/cg: the cgroup root */
    char sys[300];       /* dir/sys: the sysroot (proc/) */
    char all_cpus[64], all_mems[64];
    size_t n_tasks;
    struct fake_task t[FAKE_MAX_TASKS];
    unsigned fail_at;    /* fail the k-th forward op with EIO (0: never) */
    unsigned n_forward;  /* forward ops seen */
    unsigned n_undo;
    int vanish_pid;      /* after forward op vanish_after, remove this process */
    unsigned vanish_after;
    bool record;         /* keep effective-set snapshots */
    size_t n_snap, cap_snap;
    char **snap;         /* "path\tcpus\tmems" of populated cgroups, "--" between ops */
    char log[16384];     /* forward ops, one per line */
};

void fake_init(struct fake *f, const char *all_cpus, const char *all_mems);
void fake_destroy(struct fake *f);
/* Create cgroup rel (parents must exist) as the kernel would. */
void fake_mkcg(struct fake *f, const char *rel);
void fake_write(struct fake *f, const char *rel, const char *file, const char *value);
/* A process with threads tids[0..n) (tids[0] = pid) in cgroup rel. */
void fake_add_process(struct fake *f, int pid, const int *tids, size_t n, const char *rel);
void fake_remove_process(struct fake *f, int pid);
void fake_recompute(struct fake *f);
/* Another manager's own operation (systemd's, say): done as the kernel
 * would, without the fault injection and not in the log. 0 or -errno. */
int fake_play(struct fake *f, enum cgctl_io io, const char *path, const char *file, const char *value);
/* Install the hooks / remove them. */
void fake_hook(struct fake *f);
void fake_unhook(void);
/* Everything observable (tree, file contents, memberships, affinities) as
 * one string; caller frees. */
char *fake_snapshot(struct fake *f);
/* Check the recorded effective sets: NULL when fine, else a message (static). */
/* Record the populated cgroups' effective sets now (baseline). */
void fake_record(struct fake *f);
const char *fake_check_transients(struct fake *f);
/* Read a file of the fake tree ("" when missing); caller frees. */
char *fake_read(struct fake *f, const char *rel, const char *file);
const char *fake_task_cg(struct fake *f, int tid);
/* Write a whole file (asserts); read one ("" when missing, trailing
 * newlines and spaces stripped; caller frees). */
void fake_wfile(const char *path, const char *content);
char *fake_rfile(const char *path);
/* The setter calls (virDomainPin*, virDomainSetNuma*) in the fake
 * libvirt's log (tests/cgctl/fakevirt.c), one a line ("" when none);
 * caller frees. clear: empty the log afterwards. */
char *fake_virt_setters(const char *log, bool clear);

/* The start of an engine test: the topology of the two-socket-smt fixture
 * (CGCTL_FIXTURE) in *topo_ctx and *topo, a fake tree (CPUs 0-15, nodes 0-1)
 * with an empty user.slice, *ctx on it, the lock file in it, the hooks on.
 * close undoes all of it. */
void fake_session_open(struct fake *f, cgp_ctx **topo_ctx, cgp_topology **topo, cgp_ctx **ctx);
void fake_session_close(struct fake *f, cgp_ctx *topo_ctx, cgp_topology *topo, cgp_ctx *ctx);

/* A QEMU process pid in user.slice with named threads pid..pid+6: two
 * emulator threads, vCPUs 0-3, I/O thread io1; g describes it. */
#define FAKE_QEMU_THREADS 7
void fake_qemu(struct fake *f, struct cgp_guest *g, struct cgp_guest_thread th[FAKE_QEMU_THREADS], int pid,
               const char *name);

/* Parse and compile a policy text on topology t (asserts success). */
cgp_placement *fake_compile(const cgp_topology *t, const char *text);
/* Assert that thread tid of process pid may use exactly cpus and mems (its
 * fake status file's Cpus_allowed_list / Mems_allowed_list). */
void fake_expect_allowed(struct fake *f, int pid, int tid, const char *cpus, const char *mems);

#endif
