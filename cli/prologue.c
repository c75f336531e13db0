/* The one prologue of every verb: what the dispatch table says the verb needs,
 * read in one order (policy parsed, host topology, policy compiled, guests
 * discovered), then the sandbox. */
#include "cli.h"

#include <errno.h>
#include <string.h>

void cli_env_free(struct cli_env *env)
{
    free(env->g);
    cgp_guests_free(env->guests);
    cgp_placement_free(env->pl);
    cgp_topology_free(env->topo);
    cgp_ctx_free(env->ctx);
    json_object_put(env->warnings);
    cgp_bitmap_free(env->set);
    cgp_persist_free(env->persist);
    cli_textfile_close(env->textfile);
    memset(env, 0, sizeof *env);
}

static void print_diags(const cgp_diags *d, bool errors, bool warnings)
{
    for (size_t i = 0; d && i < cgp_diags_count(d); i++) {
        const struct cgp_diag *dg = cgp_diags_get(d, i);
        if (dg->warning ? !warnings : !errors)
            continue;
        char *s = cgp_diag_format(dg);
        fprintf(stderr, "%s\n", s ? s : dg->msg);
        free(s);
    }
}

static int parse_policy(struct cli *cli, const char *path, cgp_diags *d, cgp_policy **p)
{
    const char *what = cli->cmd;
    int r = cgp_policy_parse_file_ex(path, cli->no_strict_files ? 0 : CGP_POLICY_STRICT_FILES, d, p);
    if (r == -EINVAL) {
        print_diags(d, true, true);
        return EXIT_USAGE;
    }
    if (r < 0) {
        const char *why = r == -ELOOP ? "is a symbolic link (policy files are not followed through links)"
                        : r == -ENXIO ? "is not a regular file"
                        : r == -EFBIG ? "is too large" : strerror(-r);
        return cli_error(r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, what, "%s: %s", path, why);
    }
    return EXIT_OK;
}

static int open_host(struct cli *cli, struct cli_env *env, bool topology)
{
    int r = cgp_ctx_new(cli->sysroot, cli->cgroup_root, &env->ctx);
    if (r < 0)
        return cli_error(r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, "--sysroot",
                         "%s: %s", cli->sysroot ? cli->sysroot : "/",
                         r == -EMEDIUMTYPE ? "sys/ is not sysfs or proc/ is not procfs" : strerror(-r));
    cgp_ctx_set_lock_wait(env->ctx, cli->wait_s);
    if (topology && (r = cgp_topology_read(env->ctx, &env->topo)) < 0) {
        const char *detail = cgp_ctx_last_error(env->ctx);
        return cli_error(EXIT_RUNTIME, "reading host topology", "%s", *detail ? detail : strerror(-r));
    }
    return EXIT_OK;
}

/* Scan /proc once and compile with the processes found as an input: the
 * library matches them to the blocks (a block that runs has its memory out
 * of MemFree already) and the placement keeps that matching for the verb.
 * The scan is kept for the verb and outlives the placement, which borrows
 * it. A failed scan means no guest is known to run; a KEEP verb reports it
 * after the policy's own errors (keep_guests). */
static int compile_policy(struct cli_env *env, cgp_policy *p, cgp_diags **d)
{
    bool keep = env->needs.guests == CLI_GUESTS_KEEP;
    unsigned qmp = keep ? env->needs.discover & CGP_DISCOVER_QMP : 0;
    if (cgp_guests_discover(env->ctx, keep ? env->needs.discover & ~qmp : 0, &env->guests) < 0)
        env->guests = NULL;
    size_t n;
    if (!(env->g = cli_guest_array(env->guests, &n)))
        return -ENOMEM;
    env->n = n;
    int r = cgp_policy_compile_running(p, env->topo, env->ctx, env->g, n, *d, &env->pl);
    if (r < 0 || !qmp)
        return r;
    return cli_query_qmp_matched(env->ctx, env->guests, env->pl);
}

int cli_query_qmp_matched(cgp_ctx *ctx, cgp_guest_list *l, const cgp_placement *pl)
{
    size_t n = cgp_guests_count(l);
    if (!n)
        return 0;
    bool *want CLI_AUTO_FREE = calloc(n, sizeof *want);
    if (!want)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct cgp_proc_match *pm = cgp_placement_proc(pl, i);
        want[i] = pm && pm->n_guests > 0;
    }
    const struct cgp_host_settings *hs = cgp_placement_host(pl);
    int r = cgp_guests_query_qmp(ctx, l, want, hs ? (int)hs->qmp_timeout_ms : 0);
    return r < 0 ? r : 0;
}

/* Warnings in the JSON document, or on stderr unless -q. */
static void policy_warnings(struct cli *cli, struct cli_env *env, const cgp_diags *d)
{
    if (!(cli->json && env->needs.json_warnings)) {
        if (cli->verbose >= 0)
            print_diags(d, false, true);
        return;
    }
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < cgp_diags_count(d); i++) {
        char *s = cgp_diag_format(cgp_diags_get(d, i));
        if (s)
            json_object_array_add(a, json_object_new_string(s));
        free(s);
    }
    env->warnings = a;
}

/* The guests a KEEP verb works on, as an array for the engine. */
static int keep_guests(struct cli_env *env, const char *what)
{
    if (env->guests)
        return EXIT_OK;     /* the scan compile_policy made */
    free(env->g);
    env->g = NULL;
    int r = cgp_guests_discover(env->ctx, env->needs.discover, &env->guests);
    if (r < 0) {
        const char *d = cgp_ctx_last_error(env->ctx);
        return cli_error(EXIT_RUNTIME, what, "discovering guests: %s%s%s", strerror(-r), *d ? ": " : "", d);
    }
    if (!(env->g = cli_guest_array(env->guests, &env->n)))
        return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
    return EXIT_OK;
}

const struct cgp_guest **cli_guest_array(const cgp_guest_list *l, size_t *n)
{
    *n = cgp_guests_count(l);
    const struct cgp_guest **g = calloc(*n ? *n : 1, sizeof *g);
    for (size_t i = 0; g && i < *n; i++)
        g[i] = cgp_guests_get(l, i);
    return g;
}

/* The run will talk to systemd's bus or to libvirtd: the host's backend is
 * systemd, or a guest is libvirt's. */
static bool needs_daemons(const struct cli_env *env)
{
    const struct cgp_host_settings *hs = env->pl ? cgp_placement_host(env->pl) : NULL;
    const char *backend = NULL;
    cgp_guest_owner_of(env->ctx, hs, NULL, &backend);
    bool any = backend && strcmp(backend, "cgroupfs");
    for (size_t i = 0; !any && i < env->n; i++)
        any = cgp_guest_owner_of(env->ctx, hs, env->g[i], NULL) == CGP_OWNER_LIBVIRT;
    return any;
}

int cli_prologue(struct cli *cli, struct cli_env *env)
{
    const char *what = cli->cmd;
    cgp_policy *p CLI_AUTO_POLICY = NULL;
    cgp_diags *d CLI_AUTO_DIAGS = NULL;
    int rc;
    if (env->policy_path) {
        if (!(d = cgp_diags_new()))
            return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
        if ((rc = parse_policy(cli, env->policy_path, d, &p)))
            return rc;
    }
    if ((rc = open_host(cli, env, env->needs.topology || p)))
        return rc;
    if (p) {
        int r = compile_policy(env, p, &d);
        if (r < 0) {
            print_diags(d, true, true);
            return r == -EINVAL ? EXIT_USAGE : cli_error(EXIT_RUNTIME, what, "%s", strerror(-r));
        }
        policy_warnings(cli, env, d);
    }
    if (env->needs.guests == CLI_GUESTS_KEEP && (rc = keep_guests(env, what)))
        return rc;
    if (env->needs.derive && (rc = env->needs.derive(cli, env)))
        return rc;
    /* libvirt.so.0 and its socket before the filter (no dlopen, no socket
     * after it); a failure is the engine's to report, per guest */
    if (env->needs.libvirt && env->pl && !env->empty_tree)
        (void)cgp_libvirt_prepare(env->ctx, env->pl);
    cli->sandbox_unix = env->needs.guests == CLI_GUESTS_KEEP && needs_daemons(env);
    return env->needs.sandbox == CLI_SANDBOX_PROLOGUE ? cli_sandbox(cli, what) : EXIT_OK;
}
