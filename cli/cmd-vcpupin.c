/* cgplace vcpupin GUEST [VCPU CPULIST], emulatorpin GUEST [CPULIST],
 * iothreadpin GUEST [ID CPULIST] — show, or change live, where a running
 * guest's threads may run (virsh vcpupin/emulatorpin/iothreadpin --live).
 * A change is a one-guest placement (cgp_placement_runtime) applied by the
 * same engine as `apply`: its backend, write order, read-back and rollback. */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* A CPU or node list operand: exit 2 naming the item at fault. */
int cli_parse_list(const char *what, const char *s, cgp_bitmap **out)
{
    size_t pos = 0;
    int r = cgp_bitmap_parse(s, 0, out, &pos);
    if (r == -ENOMEM)
        return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
    if (r < 0) {
        size_t len = strlen(s), a = pos > len ? len : pos;
        while (a > 0 && s[a - 1] != ',')
            a--;
        size_t b = a + strcspn(s + a, ",");
        return cli_error(EXIT_USAGE, what, "invalid list '%s' at '%.*s': %s", s, (int)(b - a), s + a,
                         r == -ERANGE ? "id out of range or a range whose start exceeds its end"
                                      : "expected items N, N-M, ^N or ^N-M separated by commas");
    }
    if (cgp_bitmap_is_empty(*out)) {
        cgp_bitmap_free(*out);
        *out = NULL;
        return cli_error(EXIT_USAGE, what, "list '%s' is empty", s);
    }
    return EXIT_OK;
}

/* The GUEST operand among the discovered guests. */
int derive_guest(struct cli *cli, struct cli_env *env)
{
    const char *key = cli->args.operands[0];
    const struct cgp_host_settings *hs = env->pl ? cgp_placement_host(env->pl) : NULL;
    int r = cgp_guests_find_trusted(env->ctx, env->guests, key, hs ? hs->trust : NULL, &env->guest);
    if (r == -EEXIST)
        return cli_error(EXIT_USAGE, cli->cmd, "several QEMU processes are named '%s': give the pid", key);
    if (r < 0)
        return cli_error(EXIT_USAGE, cli->cmd, "no running QEMU guest '%s' (a name, UUID or pid: see cgplace guests)",
                         key);
    return EXIT_OK;
}

static enum cgp_change_kind change_of(const struct cli *cli)
{
    if (!strcmp(cli->cmd, "numatune"))
        return cli->args.nodeset ? CGP_CHANGE_MEMS : CGP_CHANGE_NONE;
    int need = strcmp(cli->cmd, "emulatorpin") ? 3 : 2;
    if (cli->args.n_operands < need)
        return CGP_CHANGE_NONE;
    return !strcmp(cli->cmd, "vcpupin") ? CGP_CHANGE_VCPU
         : !strcmp(cli->cmd, "emulatorpin") ? CGP_CHANGE_EMULATOR : CGP_CHANGE_IOTHREAD;
}

/* --persist: the policy's block of the guest rewritten and checked now,
 * before the sandbox; put in place once the change holds. */
static int prepare_persist(struct cli *cli, struct cli_env *env, const struct cgp_runtime_change *chg)
{
    const char *block = NULL;
    for (size_t i = 0; env->pl && i < cgp_placement_n_guests(env->pl) && !block; i++)
        if (cgp_placement_guest(env->pl, i)->proc == env->guest)
            block = cgp_placement_guest(env->pl, i)->name;
    if (!block)
        return cli_error(EXIT_USAGE, cli->cmd, "--persist: no guest block of %s matches process %d",
                         env->policy_path, env->guest->pid);
    cgp_diags *d CLI_AUTO_DIAGS = cgp_diags_new();
    int r = d ? cgp_persist_prepare(env->policy_path, block, chg, env->topo, d, &env->persist) : -ENOMEM;
    for (size_t i = 0; d && i < cgp_diags_count(d); i++) {
        char *s = cgp_diag_format(cgp_diags_get(d, i));
        fprintf(stderr, "%s\n", s ? s : cgp_diags_get(d, i)->msg);
        free(s);
    }
    if (r < 0)
        return cli_error(r == -EINVAL || r == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME, cli->cmd,
                         "--persist: %s not rewritten, nothing changed%s%s", env->policy_path,
                         r == -EINVAL || r == -ENOENT ? "" : ": ", r == -EINVAL || r == -ENOENT ? "" : strerror(-r));
    cli->sandbox_persist = true;
    return EXIT_OK;
}

/* A change: the guest's placement with it, for the engine, and the guest
 * alone as its process list. */
int derive_runtime(struct cli *cli, struct cli_env *env)
{
    int rc = derive_guest(cli, env);
    struct cgp_runtime_change chg = { .what = change_of(cli), .set = env->set, .vcpu = (int)env->vcpu };
    if (rc || chg.what == CGP_CHANGE_NONE)
        return rc;
    if (chg.what == CGP_CHANGE_IOTHREAD)
        chg.iothread = cli->args.operands[1];
    if (cli->args.mode) {
        chg.set_mode = true;
        chg.mode = strcmp(cli->args.mode, "strict") ? CGP_MODE_RESTRICTIVE : CGP_MODE_STRICT;
    }
    cgp_placement *pl = NULL;
    int r = cgp_placement_runtime(env->ctx, env->pl, env->topo, env->guest, &chg, &pl);
    if (r < 0) {
        const char *d = cgp_ctx_last_error(env->ctx);
        bool usage = r == -EINVAL || r == -ERANGE || r == -ENOENT || r == -ENXIO;
        return cli_error(usage ? EXIT_USAGE : EXIT_RUNTIME, cli->cmd, "%s", *d ? d : strerror(-r));
    }
    if (cli->args.persist && (rc = prepare_persist(cli, env, &chg))) {
        cgp_placement_free(pl);
        return rc;
    }
    cgp_placement_free(env->pl);
    env->pl = pl;
    env->g[0] = env->guest;
    env->n = 1;
    return EXIT_OK;
}

int prep_vcpupin(struct cli *cli, struct cli_env *env)
{
    const struct cli_args *a = &cli->args;
    bool emu = !strcmp(cli->cmd, "emulatorpin");
    int full = emu ? 2 : 3;
    if (a->n_operands != 1 && a->n_operands != full)
        return cli_error(EXIT_USAGE, cli->cmd, "give GUEST alone (show) or GUEST %sCPULIST (change)",
                         emu ? "" : !strcmp(cli->cmd, "vcpupin") ? "VCPU " : "ID ");
    if (a->persist && !a->policy)
        return cli_error(EXIT_USAGE, cli->cmd, "--persist needs -p POLICY: the file to write the change into");
    if (a->n_operands == 1)
        return a->persist ? cli_error(EXIT_USAGE, cli->cmd, "--persist goes with a change") : EXIT_OK;
    if (!strcmp(cli->cmd, "vcpupin")) {
        const char *v = a->operands[1];
        char *end = NULL;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || errno || n >= CGP_POLICY_MAX_VCPUS || v[0] == '-' || v[0] == '+')
            return cli_error(EXIT_USAGE, cli->cmd, "VCPU '%s' is not a vCPU index", v);
        env->vcpu = n;
    }
    return cli_parse_list(cli->cmd, a->operands[full - 1], &env->set);
}

/* After a change: nothing on success (as virsh), the ops with -v; the
 * engine's messages on stderr. A read-back that found another set than the
 * one asked for (everything rolled back) is exit 3. */
static int cli_runtime_result(struct cli *cli, struct cli_env *env, const cgp_enforce *e, struct json_object **doc)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    struct cli_ops ops = cli_ops_of_enforce(e);
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        const struct cgp_enforce_guest *g = cgp_enforce_n_guests(e) ? cgp_enforce_guest(e, 0) : NULL;
        cli_jadd(o, "guest", g ? json_object_new_string(g->name) : NULL);
        cli_jadd(o, "pid", json_object_new_int(env->guest->pid));
        cli_jadd(o, "state", g ? json_object_new_string(cgp_guest_state_name(g->state)) : NULL);
        cli_jadd(o, "backend", g && g->backend ? json_object_new_string(g->backend) : NULL);
        cli_jadd(o, "writes", json_object_new_int64((int64_t)s->n_writes));
        cli_jadd(o, "undone", json_object_new_int64((int64_t)s->n_undone));
        cli_jadd(o, "ops", cli_ops_json(&ops));
        cli_jadd(o, "messages", cli_msgs_json(e));
        if (doc)
            *doc = o;
        else
            cli_print_json(o);
    } else {
        cli_msgs_text(cli, e);
        if (cli->verbose > 0)
            cli_ops_text(&ops, CLI_OPS_APPLY);
    }
    int rc = cli_outcome_code(e);
    if (s->outcome == CGP_ENFORCE_FAILED && s->error == -EIO)
        rc = EXIT_DRIFT;
    if (rc != EXIT_OK) {
        cli_error(rc, cli->cmd, "%s", s->outcome == CGP_ENFORCE_INVALID ? "refused, nothing changed"
                                      : "failed, every change rolled back");
    }
    return rc;
}

/* Apply env->pl (the guest with its change) and report. */
int cli_runtime_apply(struct cli *cli, struct cli_env *env, struct json_object **doc)
{
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    int r = cgp_enforce_run(env->ctx, env->pl, env->g, env->n, 0, &e);
    if (r < 0)
        return cli_engine_error(env->ctx, cli->cmd, r);
    int rc = cli_runtime_result(cli, env, e, doc);
    if (rc == EXIT_OK && env->persist && (r = cgp_persist_commit(env->persist)) < 0)
        rc = cli_error(EXIT_RUNTIME, cli->cmd, "the change holds, but %s could not be replaced: %s",
                       cgp_persist_file(env->persist), strerror(-r));
    return rc;
}

/* The union of the affinities of the threads of one role (and id). */
static char *affinity_of(const struct cgp_thread_info *v, size_t n, enum cgp_thread_role role, int vcpu,
                         const char *io)
{
    cgp_bitmap *u CLI_AUTO_BITMAP = cgp_bitmap_new();
    for (size_t i = 0; u && i < n; i++)
        if (v[i].role == role && v[i].vcpu == vcpu && (!io || (v[i].iothread && !strcmp(v[i].iothread, io))))
            cgp_bitmap_or(u, v[i].cpus);
    return u ? cgp_bitmap_format(u) : NULL;
}

static int show(struct cli *cli, struct cli_env *env)
{
    struct cgp_thread_info *v = NULL;
    size_t n = 0;
    int r = cgp_guest_threads_info(env->ctx, env->guest, &v, &n);
    if (r < 0)
        return cli_engine_error(env->ctx, cli->cmd, r == -EINVAL ? -EIO : r);
    enum cgp_thread_role role = !strcmp(cli->cmd, "vcpupin") ? CGP_THREAD_VCPU
                              : !strcmp(cli->cmd, "emulatorpin") ? CGP_THREAD_EMULATOR : CGP_THREAD_IOTHREAD;
    struct json_object *a = json_object_new_array();
    if (!cli->json)
        printf(role == CGP_THREAD_VCPU ? " VCPU   CPU Affinity\n----------------------\n"
               : role == CGP_THREAD_EMULATOR ? " emulator: CPU Affinity\n----------------------------------\n"
               : " IOThread ID   CPU Affinity\n-----------------------------\n");
    if (role == CGP_THREAD_EMULATOR) {
        char *l CLI_AUTO_FREE = affinity_of(v, n, role, -1, NULL);
        if (!cli->json)
            printf("        *: %s\n", l ? l : "?");
        struct json_object *o = json_object_new_object();
        cli_jadd(o, "cpus", json_object_new_string(l ? l : ""));
        json_object_put(a);
        a = o;   /* one set for all the emulator's threads */
    }
    for (size_t i = 0; i < n; i++) {
        bool first = v[i].role == role && role != CGP_THREAD_EMULATOR;
        for (size_t j = 0; first && j < i; j++)
            first = !(v[j].role == role && v[j].vcpu == v[i].vcpu &&
                      (!v[i].iothread || (v[j].iothread && !strcmp(v[j].iothread, v[i].iothread))));
        if (!first)
            continue;
        char *l CLI_AUTO_FREE = affinity_of(v, n, role, v[i].vcpu, v[i].iothread);
        char *id CLI_AUTO_FREE = cli_escape(v[i].iothread);
        struct json_object *o = json_object_new_object();
        if (role == CGP_THREAD_VCPU) {
            if (!cli->json)
                printf(" %-6d %s\n", v[i].vcpu, l ? l : "?");
            cli_jadd(o, "vcpu", json_object_new_int(v[i].vcpu));
        } else {
            if (!cli->json)
                printf(" %-13s %s\n", id ? id : "?", l ? l : "?");
            cli_jadd(o, "id", json_object_new_string(v[i].iothread && id ? id : ""));
        }
        cli_jadd(o, "cpus", json_object_new_string(l ? l : ""));
        json_object_array_add(a, o);
    }
    cgp_thread_info_free(v, n);
    if (!cli->json) {
        json_object_put(a);
        return EXIT_OK;
    }
    struct json_object *o = json_object_new_object();
    cli_jadd(o, "pid", json_object_new_int(env->guest->pid));
    cli_jadd(o, role == CGP_THREAD_VCPU ? "vcpus" : role == CGP_THREAD_EMULATOR ? "emulator" : "iothreads", a);
    return cli_print_json(o);
}

int cmd_vcpupin(struct cli *cli, struct cli_env *env)
{
    return change_of(cli) == CGP_CHANGE_NONE ? show(cli, env) : cli_runtime_apply(cli, env, NULL);
}
