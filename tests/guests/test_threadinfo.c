/* Thread facts of a running guest (guests/threadinfo.c) on fake proc trees:
 * the last CPU, state and CPU time from task/TID/stat, the affinity from
 * task/TID/status, the possible CPUs, and which guest a name, UUID or pid
 * names. */
#include "fakeproc.h"
#include "cgplace_guests.h"

#define QEMU "/usr/bin/qemu-system-x86_64"
#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define UUID "8f0c5e6a-1d2b-4c3d-9e4f-000000000005"

TestSuite(threadinfo, .init = fk_setup, .fini = fk_teardown);

/* task/TID/stat with state, utime, stime (ticks) and processor (field 39) */
static void task_stat(int pid, int tid, const char *comm, char state, int ut, int st, int cpu)
{
    char s[512];
    snprintf(s, sizeof s, "%d (%s) %c 1 1 1 0 -1 0 0 0 0 0 %d %d 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 17 %d 0 0\n",
             tid, comm, state, ut, st, cpu);
    fk_text(s, "proc/%d/task/%d/stat", pid, tid);
}

static cgp_guest_list *scan(cgp_ctx **ctx)
{
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(*ctx, 0, &l), 0, "%s", cgp_ctx_last_error(*ctx));
    return l;
}

static void guest_100(void)
{
    fk_proc(100, QEMU, "qemu-system-x86", A(QEMU, "-name", "guest=web,debug-threads=on", "-uuid", UUID), 5, "/",
            A("100:qemu-system-x86", "101:CPU 0/KVM", "102:CPU 1/KVM", "103:IO io1"));
    task_stat(100, 100, "qemu-system-x86", 'S', 50, 25, 3);
    task_stat(100, 101, "CPU 0/KVM", 'R', 3000, 222, 4);
    task_stat(100, 102, "CPU 1/KVM", 'D', 1, 0, 5);
    task_stat(100, 103, "IO io1", 't', 0, 0, 0);
    fk_status(100, 100, "0-7", "0");
    fk_status(100, 101, "4", "1");
    fk_status(100, 102, "5-6", "0-1");
    fk_status(100, 103, "0-7", "0");
}

Test(threadinfo, every_thread_from_stat_and_status)
{
    guest_100();
    cgp_ctx *ctx = NULL;
    cgp_guest_list *l = scan(&ctx);
    struct cgp_thread_info *v = NULL;
    size_t n = 0;
    cr_assert_eq(cgp_guest_threads_info(ctx, cgp_guests_get(l, 0), &v, &n), 0, "%s", cgp_ctx_last_error(ctx));
    cr_assert_eq(n, 4);
    cr_assert_eq(v[1].tid, 101);
    cr_assert_eq(v[1].role, CGP_THREAD_VCPU);
    cr_assert_eq(v[1].vcpu, 0);
    cr_assert_eq(v[1].cpu, 4);
    cr_assert_eq(v[1].state, 'R');
    cr_assert_eq(v[1].cpu_time_ms, 32220);   /* 3222 ticks at 100 Hz */
    char *c = cgp_bitmap_format(v[2].cpus), *m = cgp_bitmap_format(v[2].mems);
    cr_assert_str_eq(c, "5-6");
    cr_assert_str_eq(m, "0-1");
    free(c);
    free(m);
    cr_assert_str_eq(cgp_task_state_name(v[2].state), "disk sleep");
    cr_assert_str_eq(cgp_task_state_name(v[3].state), "tracing stop");
    cr_assert_str_eq(v[3].iothread, "io1");
    cgp_thread_info_free(v, n);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

Test(threadinfo, ended_thread_skipped_and_bad_stat_named)
{
    guest_100();
    cgp_ctx *ctx = NULL;
    cgp_guest_list *l = scan(&ctx);
    fk_unlink("proc/100/task/102/stat");
    struct cgp_thread_info *v = NULL;
    size_t n = 0;
    cr_assert_eq(cgp_guest_threads_info(ctx, cgp_guests_get(l, 0), &v, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(v[2].tid, 103);
    cgp_thread_info_free(v, n);
    fk_text("101 (CPU 0/KVM) R 1 2\n", "proc/100/task/101/stat");
    v = (void *)1;
    cr_assert_eq(cgp_guest_threads_info(ctx, cgp_guests_get(l, 0), &v, &n), -EIO);
    cr_assert_eq(v, (void *)1, "out-parameter written on failure");
    cr_assert(strstr(cgp_ctx_last_error(ctx), "proc/100/task/101/stat"), "%s", cgp_ctx_last_error(ctx));
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}

Test(threadinfo, possible_cpus)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_bitmap *b = NULL;
    cr_assert_eq(cgp_cpus_possible(ctx, &b), -ENOENT);
    fk_text("0-7\n", "sys/devices/system/cpu/possible");
    cr_assert_eq(cgp_cpus_possible(ctx, &b), 0);
    cr_assert_eq(cgp_bitmap_count(b), 8);
    cgp_bitmap_free(b);
    fk_text("zz\n", "sys/devices/system/cpu/possible");
    cr_assert_eq(cgp_cpus_possible(ctx, &b), -EIO);
    cgp_ctx_free(ctx);
}

Test(threadinfo, guest_by_name_uuid_or_pid)
{
    guest_100();
    fk_proc(200, QEMU, "qemu-system-x86", A(QEMU, "-name", "db"), 5, "/", NULL);
    fk_proc(300, QEMU, "qemu-system-x86", A(QEMU, "-name", "twin"), 5, "/", NULL);
    fk_proc(301, QEMU, "qemu-system-x86", A(QEMU, "-name", "twin"), 5, "/", NULL);
    cgp_ctx *ctx = NULL;
    cgp_guest_list *l = scan(&ctx);
    const struct cgp_guest *g = NULL;
    cr_assert_eq(cgp_guests_find(l, "web", &g), 0);
    cr_assert_eq(g->pid, 100);
    cr_assert_eq(cgp_guests_find(l, "200", &g), 0);
    cr_assert_str_eq(g->name, "db");
    cr_assert_eq(cgp_guests_find(l, "8F0C5E6A-1D2B-4C3D-9E4F-000000000005", &g), 0);
    cr_assert_eq(g->pid, 100);
    g = NULL;
    cr_assert_eq(cgp_guests_find(l, "twin", &g), -EEXIST);
    cr_assert_eq(cgp_guests_find(l, "nosuch", &g), -ENOENT);
    cr_assert_eq(cgp_guests_find(l, "999", &g), -ENOENT);
    cr_assert_null(g);
    cr_assert_eq(cgp_guests_find(l, "301", &g), 0);
    cr_assert_eq(g->pid, 301);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
}
