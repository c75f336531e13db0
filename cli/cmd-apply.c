/* cgplace apply POLICY — enforce the policy on the running guests (spec §6). */
#include "cli.h"

static const char *outcome_name(enum cgp_enforce_outcome o)
{
    return o == CGP_ENFORCE_OK ? "ok" : o == CGP_ENFORCE_INVALID ? "invalid" : "failed";
}

static void apply_json(const struct cli_env *env, const cgp_enforce *e)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "outcome", json_object_new_string(outcome_name(s->outcome)));
    json_object_object_add(o, "writes", json_object_new_int64((int64_t)s->n_writes));
    json_object_object_add(o, "undone", json_object_new_int64((int64_t)s->n_undone));
    json_object_object_add(o, "rollback_complete", json_object_new_boolean(!s->rollback_incomplete));
    json_object_object_add(o, "unmanaged", json_object_new_int64((int64_t)s->n_unmanaged));
    cli_strays_add_json(o, e);
    struct json_object *ga = json_object_new_array();
    for (size_t i = 0; i < cgp_enforce_n_guests(e); i++) {
        const struct cgp_enforce_guest *g = cgp_enforce_guest(e, i);
        struct json_object *go = json_object_new_object();
        json_object_object_add(go, "name", json_object_new_string(g->name));
        json_object_object_add(go, "pid", g->proc ? json_object_new_int(g->proc->pid) : NULL);
        json_object_object_add(go, "cgroup", json_object_new_string(g->cgroup));
        json_object_object_add(go, "state", json_object_new_string(cgp_guest_state_name(g->state)));
        json_object_object_add(go, "writes", json_object_new_int64((int64_t)g->n_ops));
        char *detail CLI_AUTO_FREE = g->detail ? cli_escape_n(g->detail, CLI_TEXT_MAX) : NULL;
        json_object_object_add(go, "detail", detail ? json_object_new_string(detail) : NULL);
        json_object_array_add(ga, go);
    }
    json_object_object_add(o, "guests", ga);
    struct cli_ops ops = cli_ops_of_enforce(e);
    json_object_object_add(o, "ops", cli_ops_json(&ops));
    json_object_object_add(o, "messages", cli_msgs_json(e));
    json_object_object_add(o, "warnings", cli_warnings_json(env));
    cli_print_json(o);
}

static void apply_text(struct cli *cli, const cgp_enforce *e)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cli_msgs_text(cli, e);
    for (size_t i = 0; i < cgp_enforce_n_guests(e); i++) {
        const struct cgp_enforce_guest *g = cgp_enforce_guest(e, i);
        printf("%-16s %-12s", g->name, cgp_guest_state_name(g->state));
        if (g->proc)
            printf(" pid %-7d", g->proc->pid);
        if (g->state == CGP_GUEST_CHANGED)
            printf(" %zu write%s", g->n_ops, g->n_ops == 1 ? "" : "s");
        if (g->detail && g->state != CGP_GUEST_CHANGED && g->state != CGP_GUEST_UNCHANGED) {
            /* a detail may quote a cgroup path read from /proc */
            char *detail CLI_AUTO_FREE = cli_escape_n(g->detail, CLI_TEXT_MAX);
            printf(" (%s)", detail ? detail : "?");
        }
        printf("\n");
    }
    if (cli->verbose > 0) {
        struct cli_ops ops = cli_ops_of_enforce(e);
        cli_ops_text(&ops, CLI_OPS_APPLY);
    }
    if (s->outcome == CGP_ENFORCE_OK)
        printf("%zu write%s%s\n", s->n_writes, s->n_writes == 1 ? "" : "s",
               s->n_writes ? "" : ": the host already complies");
    else if (s->outcome == CGP_ENFORCE_FAILED)
        printf("failed: %zu write%s rolled back%s\n", s->n_undone, s->n_undone == 1 ? "" : "s",
               s->rollback_incomplete ? " (INCOMPLETE: see the errors above)" : "");
    else
        printf("refused: nothing written\n");
    if (s->unmanaged_denied)
        printf("denied: %zu QEMU process%s no block places (unmanaged deny): see the errors above\n",
               s->n_unmanaged, s->n_unmanaged == 1 ? "" : "es");
}

int cmd_apply(struct cli *cli, struct cli_env *env)
{
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    int r = cgp_enforce_run(env->ctx, env->pl, env->g, env->n, 0, &e);
    if (r < 0)
        return cli_engine_error(env->ctx, "apply", r);
    if (cli->json)
        apply_json(env, e);
    else
        apply_text(cli, e);
    return cli_outcome_code(e);
}
