/* cgplace vcpuinfo GUEST [--all] — per vCPU (and with --all per emulator
 * and I/O thread): the host CPU it last ran on, its state, its CPU time and
 * its affinity map over the possible CPUs, in virsh vcpuinfo's format. */
#include "cli.h"

#include <errno.h>
#include <string.h>

int prep_vcpuinfo(struct cli *cli, struct cli_env *env)
{
    (void)env;
    return cli->args.n_operands == 1 ? EXIT_OK : cli_error(EXIT_USAGE, cli->cmd, "give the GUEST (a name, UUID or pid)");
}

/* One character per possible CPU: 'y' where the thread may run. */
static char *affinity_map(const cgp_bitmap *possible, const cgp_bitmap *cpus)
{
    int last = cgp_bitmap_last(possible);
    char *m = malloc((size_t)(last + 1) + 1);
    for (int i = 0; m && i <= last; i++)
        m[i] = cgp_bitmap_test(cpus, (unsigned)i) ? 'y' : '-';
    if (m)
        m[last + 1] = '\0';
    return m;
}

/* vCPUs by index, then (--all) the emulator's threads, then the I/O threads. */
static int rank(const struct cgp_thread_info *t)
{
    return t->role == CGP_THREAD_VCPU ? 0 : t->role == CGP_THREAD_EMULATOR ? 1 : 2;
}

static int cmp_info(const void *a, const void *b)
{
    const struct cgp_thread_info *x = a, *y = b;
    if (rank(x) != rank(y))
        return rank(x) - rank(y);
    if (x->vcpu != y->vcpu)
        return x->vcpu < y->vcpu ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void block_text(const struct cgp_thread_info *t, const char *map)
{
    if (t->role == CGP_THREAD_VCPU) {
        printf("%-16s%d\n", "VCPU:", t->vcpu);
    } else if (t->role == CGP_THREAD_EMULATOR) {
        printf("%-16s%d\n", "Emulator:", t->tid);
    } else {
        char *id CLI_AUTO_FREE = cli_escape(t->iothread);
        printf("%-16s%s (%d)\n", "IOThread:", id ? id : "?", t->tid);
    }
    if (t->cpu >= 0)
        printf("%-16s%d\n", "CPU:", t->cpu);
    else
        printf("%-16s%s\n", "CPU:", "unknown");
    printf("%-16s%s\n", "State:", cgp_task_state_name(t->state));
    /* rounded to a tenth, as virsh's %.1lf */
    uint64_t tenths = t->cpu_time_ms / 100 + (t->cpu_time_ms % 100 >= 50);
    printf("%-16s%llu.%llus\n", "CPU time:", (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10));
    printf("%-16s%s\n\n", "CPU Affinity:", map ? map : "?");
}

static struct json_object *block_json(const struct cgp_thread_info *t, const char *map)
{
    struct json_object *o = json_object_new_object();
    if (t->role == CGP_THREAD_VCPU)
        cli_jadd(o, "vcpu", json_object_new_int(t->vcpu));
    if (t->role == CGP_THREAD_IOTHREAD)
        cli_jadd(o, "id", t->iothread ? cli_json_untrusted(t->iothread) : json_object_new_string(""));
    cli_jadd(o, "tid", json_object_new_int(t->tid));
    cli_jadd(o, "cpu", cli_json_int_or_null(t->cpu, t->cpu >= 0));
    cli_jadd(o, "state", json_object_new_string(cgp_task_state_name(t->state)));
    cli_jadd(o, "cpu_time_ms", json_object_new_uint64(t->cpu_time_ms));
    cli_jadd(o, "affinity", json_object_new_string(map ? map : ""));
    cli_jadd(o, "cpus", cli_json_set(t->cpus));
    cli_jadd(o, "mems", cli_json_set(t->mems));
    return o;
}

int cmd_vcpuinfo(struct cli *cli, struct cli_env *env)
{
    const struct cgp_guest *g = env->guest;
    if (g->thread_source == CGP_THREADS_UNKNOWN)
        return cli_error(EXIT_USAGE, cli->cmd, "process %d: its vCPU threads cannot be told apart: start QEMU with "
                         "-name ...,debug-threads=on, or give it a QMP socket (-qmp unix:PATH,server=on)", g->pid);
    cgp_bitmap *possible CLI_AUTO_BITMAP = NULL;
    int r = cgp_cpus_possible(env->ctx, &possible);
    struct cgp_thread_info *v = NULL;
    size_t n = 0;
    if (r < 0 || (r = cgp_guest_threads_info(env->ctx, g, &v, &n)) < 0)
        return cli_engine_error(env->ctx, cli->cmd, r == -EINVAL ? -EIO : r);
    qsort(v, n, sizeof *v, cmp_info);
    struct json_object *o = cli->json ? json_object_new_object() : NULL;
    struct json_object *arr[3] = { NULL, NULL, NULL };
    if (o) {
        cli_jadd(o, "pid", json_object_new_int(g->pid));
        cli_jadd(o, "name", cli_json_untrusted(g->name));
        cli_jadd(o, "vcpus", arr[0] = json_object_new_array());
        if (cli->args.all) {
            cli_jadd(o, "emulator", arr[1] = json_object_new_array());
            cli_jadd(o, "iothreads", arr[2] = json_object_new_array());
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rank(&v[i]) && !cli->args.all)
            continue;
        char *map CLI_AUTO_FREE = affinity_map(possible, v[i].cpus);
        if (o)
            json_object_array_add(arr[rank(&v[i])], block_json(&v[i], map));
        else
            block_text(&v[i], map);
    }
    cgp_thread_info_free(v, n);
    return o ? cli_print_json(o) : EXIT_OK;
}
