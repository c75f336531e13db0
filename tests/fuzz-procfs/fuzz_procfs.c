/* libFuzzer target for the /proc and cgroup file readers of guest discovery
 * and enforcement: the input (after its first byte) becomes the content of
 * one file of a fake /proc with one QEMU process (pid 100: a main thread and
 * a vCPU thread 101) and one cgroup (the first byte picks which: stat,
 * mem (argv at stat's arg_start), status, cgroup, numa_maps, comm, cmdline,
 * cpuset.*.effective, mountinfo,
 * cgroup.controllers), then run:
 * discovery (cgp_guests_discover), every thread's stat/status
 * (cgp_guest_threads_info, cgp_guest_thread_affinity), cgp_guest_alive,
 * numa_maps (cgctl_read_numa_maps), the cgroup line (cgp_task_cgroup),
 * the effective sets (cgctl_read_set), the cgroup2 mount in
 * proc/self/mountinfo and its cgroup.controllers (cgp_cgroup_root), and the
 * string parsers on the raw
 * input (stat fields, thread comm, "0::" line).
 * Invariants: no crash/leak/UB/hang; each result is 0/1 or a negative errno
 * from the documented set; out-parameters untouched on failure; parsed
 * values consistent (anonymous pages never exceed all pages of a node, a
 * cgroup path has no newline, a vCPU index is >= 0). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>

#include "cgplace.h"
#include "cgplace_guests.h"
#include "../fuzz/fuzz_tree.h"
#include "../../cgctl/cgctl-int.h"
#include "../../guests/guests-int.h"

/* fields 48 and 49 (arg_start, arg_end): where discovery reads argv in
 * proc/PID/mem; 0 0 sends it to cmdline */
#define STAT(pid, comm, state, args) #pid " (" comm ") " state " 1 " #pid " " #pid " 0 -1 4194560 31225 0 2 0 " \
    "812 309 0 0 20 0 4 0 2291 3355443200 131072 18446744073709551615 94058212323328 94058212343209 " \
    "140736684460256 0 0 0 0 4096 17638 0 0 0 17 1 0 0 0 0 0 94058212359216 94058212360832 " \
    "94058737459200 " args " 0 0 0\n"
#define MEM_STAT STAT(100, "qemu-system-x86", "S", "1 %zu")
#define ARGV "qemu-system-x86_64\0-name\0guest=g1,debug-threads=on\0-smp\0002\0"
#define STATUS(name, pid) "Name:\t" name "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t100\nPid:\t" #pid \
    "\nPPid:\t1\nUid:\t64055\t64055\t64055\t64055\nGid:\t64055\t64055\t64055\t64055\nThreads:\t2\n" \
    "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t00000000,00000001\nMems_allowed_list:\t0\n" \
    "voluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t3\n"

/* The baseline tree: path relative to root, content (length: sizeof - 1,
 * so cmdline keeps its NULs). */
static const struct file {
    const char *path, *content;
    size_t len;
} files[] = {
#define F(p, c) { p, c, sizeof c - 1 }
    F("proc/100/stat", STAT(100, "qemu-system-x86", "S", "0 0")),
    F("proc/100/cgroup", "0::/machine.slice/machine-qemu\\x2d1\\x2dg1.scope/libvirt/emulator\n"),
    F("proc/100/numa_maps", "563c6e1f0000 default file=/usr/bin/qemu-system-x86_64 mapped=2 N0=2 kernelpagesize_kB=4\n"
                            "7f0000000000 bind:0 anon=262144 dirty=262144 N0=200000 N1=62144 kernelpagesize_kB=4\n"
                            "7f4000000000 default anon=3 dirty=3 active=0 N1=3 kernelpagesize_kB=4\n"),
    F("proc/100/comm", "qemu-system-x86\n"),
    F("proc/100/cmdline", ARGV "-m\0001024\0"),
    F("proc/100/task/100/comm", "qemu-system-x86\n"),
    F("proc/100/task/100/stat", STAT(100, "qemu-system-x86", "S", "0 0")),
    F("proc/100/task/100/status", STATUS("qemu-system-x86", 100)),
    F("proc/100/task/100/cgroup", "0::/machine.slice/machine-qemu\\x2d1\\x2dg1.scope/libvirt/emulator\n"),
    F("proc/100/task/101/comm", "CPU 0/KVM\n"),
    F("proc/100/task/101/stat", STAT(101, "CPU 0/KVM", "R", "0 0")),
    F("proc/100/task/101/status", STATUS("CPU 0/KVM", 101)),
    F("proc/100/task/101/cgroup", "0::/machine.slice/machine-qemu\\x2d1\\x2dg1.scope/libvirt/vcpu0\n"),
    F("sys/fs/cgroup/g1/cpuset.cpus.effective", "0-1\n"),
    F("sys/fs/cgroup/g1/cpuset.mems.effective", "0\n"),
    F("proc/self/mountinfo", "24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                             "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
                             "rw,nsdelegate,memory_recursiveprot\n"),
    F("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"),
    /* argv in the process's memory: read when stat's arg_start/arg_end say
     * where, which they do while mem is the file fuzzed (MEM_STAT) */
    F("proc/100/mem", "\177" ARGV),
#undef F
};
#define NFILES (sizeof files / sizeof *files)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_tree_init("procfs");
    for (size_t i = 0; i < NFILES; i++)
        put(files[i].path, files[i].content, files[i].len);
    return 0;
}

/* An errno a reader may return for a file it cannot use. */
static bool reader_errno(int r)
{
    return r == -EIO || r == -EINVAL || r == -ENOMEM || r == -EFBIG || r == -ENOENT || r == -ESRCH ||
           r == -ERANGE || r == -EOVERFLOW;
}

static void guests(cgp_ctx *ctx)
{
    cgp_guest_list *l = NULL;
    int r = cgp_guests_discover(ctx, 0, &l);
    CHECK(r == 0 || reader_errno(r), "discover = %d (%s): %s", r, strerror(-r), cgp_ctx_last_error(ctx));
    if (r < 0) {
        CHECK(!l, "failed discover wrote *out");
        return;
    }
    for (size_t i = 0; i < cgp_guests_count(l); i++) {
        const struct cgp_guest *g = cgp_guests_get(l, i);
        CHECK(g && g->pid == 100, "guest pid");
        CHECK(!g->cgroup || !strchr(g->cgroup, '\n'), "cgroup path with a newline");
        for (size_t k = 0; k < g->n_threads; k++) {
            const struct cgp_guest_thread *t = &g->threads[k];
            CHECK(k == 0 || t->tid > g->threads[k - 1].tid, "threads not ascending");
            CHECK(t->role != CGP_THREAD_VCPU || t->vcpu >= 0, "vcpu index %d", t->vcpu);
            cgp_bitmap *c = NULL, *m = NULL;
            r = cgp_guest_thread_affinity(ctx, g, t->tid, &c, &m);
            CHECK(r == 0 || reader_errno(r), "thread_affinity = %d", r);
            CHECK(r < 0 ? !c && !m : c && m, "affinity out-parameters (%d)", r);
            cgp_bitmap_free(c);
            cgp_bitmap_free(m);
        }
        struct cgp_thread_info *ti = NULL;
        size_t n = 0;
        r = cgp_guest_threads_info(ctx, g, &ti, &n);
        CHECK(r == 0 || reader_errno(r), "threads_info = %d", r);
        if (r == 0)
            cgp_thread_info_free(ti, n);
        else
            CHECK(!ti, "failed threads_info wrote *out");
        r = cgp_guest_alive(ctx, g);
        CHECK(r == 0 || r == -ESRCH, "alive = %d", r);
    }
    cgp_guests_free(l);
}

static void files_direct(cgp_ctx *ctx, int root_fd)
{
    uint64_t *pages = NULL;
    size_t top = 99;
    int r = cgctl_read_numa_maps(ctx, 100, &pages, &top);
    CHECK(r == 0 || reader_errno(r), "numa_maps = %d", r);
    if (r == 0) {
        CHECK(top <= 4096, "numa_maps: %zu nodes", top);
        for (size_t i = 0; i < top; i++)
            CHECK(pages[top + i] <= pages[i], "node %zu: %" PRIu64 " anonymous of %" PRIu64, i, pages[top + i],
                  pages[i]);
        free(pages);
    } else
        CHECK(top == 99 && !pages, "failed numa_maps wrote its out-parameters");
    for (int tid = 0; tid <= 101; tid += 101) {
        char *cg = NULL;
        r = cgp_task_cgroup(root_fd, 100, tid, &cg);
        CHECK(r == 0 || reader_errno(r), "task_cgroup = %d", r);
        CHECK(!cg || !strchr(cg, '\n'), "cgroup path with a newline");
        if (cg)
            (void)cgp_guests_cgroup_foreign(cg);
        free(cg);
    }
    int cfd = openat(root_fd, "sys/fs/cgroup/g1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(cfd >= 0, "cgroup dir");
    for (int mems = 0; mems < 2; mems++) {
        cgp_bitmap *b = NULL;
        r = cgctl_read_set(cfd, mems ? "cpuset.mems.effective" : "cpuset.cpus.effective", &b);
        CHECK(r == 0 || reader_errno(r), "read_set = %d", r);
        CHECK(!b || !cgp_bitmap_is_empty(b), "empty set not NULL");
        cgp_bitmap_free(b);
    }
    close(cfd);
    char *path = NULL;
    r = cgp_cgroup_root(ctx, &path);
    /* any -errno of open(2)/read(2) may come back (a mount point that is
     * too long gave -ENAMETOOLONG: seed mountinfo_name_too_long), always
     * with a message */
    CHECK(r <= 0 && r > -4096, "cgroup_root = %d", r);
    CHECK(r == 0 || r == -ENOMEM || cgp_ctx_last_error(ctx)[0], "cgroup_root = %d without a message", r);
    CHECK(r == 0 ? path != NULL : path == NULL, "cgroup_root out-parameter (%d)", r);
    free(path);
}

/* The in-memory parsers on the raw input, as a C string. */
static void strings(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t v = 7;
    for (int field = 3; field <= 60; field++) {
        int r = cgp_guests_stat_field(s, field, &v);
        CHECK(r == 0 || r == -EINVAL, "stat_field = %d", r);
    }
    int r = cgp_guests_stat_start_time(s, &v);
    CHECK(r == 0 || r == -EINVAL, "start_time = %d", r);
    int vcpu = -5;
    const char *io = NULL;
    enum cgp_thread_role role = cgp_guests_classify_comm(s, &vcpu, &io);
    CHECK(role != CGP_THREAD_VCPU || vcpu >= 0, "classify: vcpu %d", vcpu);
    CHECK(role != CGP_THREAD_IOTHREAD || (io && io >= s && io <= s + size), "classify: iothread id");
    int err = 0;
    char *cg = cgp_guests_cgroup_path(s, &err);
    CHECK(err == 0 || err == -ENOMEM, "cgroup_path err %d", err);
    CHECK(!cg || !strchr(cg, '\n'), "cgroup path with a newline");
    free(cg);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct file *f = &files[data[0] % NFILES];
    put(f->path, data + 1, size - 1);
    bool mem = !strcmp(f->path, "proc/100/mem");
    if (mem) {
        char st[512];
        int n = snprintf(st, sizeof st, MEM_STAT, size > 2 ? size - 1 : (size_t)2);
        put("proc/100/stat", st, (size_t)n);
    }
    cgp_ctx *ctx = NULL;
    if (cgp_ctx_new(root, NULL, &ctx) < 0)
        abort();
    int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(root_fd >= 0, "root");
    guests(ctx);
    files_direct(ctx, root_fd);
    strings(data + 1, size - 1);
    close(root_fd);
    cgp_ctx_free(ctx);
    put(f->path, f->content, f->len);
    if (mem)
        put(files[0].path, files[0].content, files[0].len);
    return 0;
}
