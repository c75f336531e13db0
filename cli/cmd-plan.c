/* cgplace plan POLICY — the ordered cgroup writes `apply` would make now:
 * the policy diffed against the live cgroup tree and the running guests
 * (--cgroup-root DIR, or the cgroup2 mount in SYSROOT/proc/self/mountinfo).
 * Only when there is no cgroup v2 hierarchy at all does it plan the whole
 * tree against an empty hierarchy, and says so on stderr. */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* Before the prologue: with no hierarchy the plan needs no guests beyond
 * telling the compiler which run (and a sysroot without /proc is fine). */
int prep_plan(struct cli *cli, struct cli_env *env)
{
    cgp_ctx *probe CLI_AUTO_CTX = NULL;
    char *root CLI_AUTO_FREE = NULL;
    int r = cgp_ctx_new(cli->sysroot, cli->cgroup_root, &probe);
    if (r == 0 && (r = cgp_cgroup_root(probe, &root)) == -ENOENT && !cli->cgroup_root) {
        fprintf(stderr, "cgplace: plan: %s; planning against an empty hierarchy\n", cgp_ctx_last_error(probe));
        env->empty_tree = true;
        env->needs.guests = CLI_GUESTS_MARK;
        return EXIT_OK;
    }
    env->root_err = r;
    return EXIT_OK;
}

static int plan_json(const struct cli_env *env, const struct cli_ops *ops, const cgp_enforce *e)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ops", cli_ops_json(ops));
    json_object_object_add(o, "warnings", cli_warnings_json(env));
    if (e) {
        json_object_object_add(o, "messages", cli_msgs_json(e));
        json_object_object_add(o, "unmanaged", json_object_new_int64((int64_t)cgp_enforce_summary(e)->n_unmanaged));
        cli_strays_add_json(o, e);
    }
    return cli_print_json(o);
}

/* -v: why each auto guest went where it did (the candidates the solver
 * compared, best first, with their distances). */
static void plan_reasons(const struct cli *cli, const cgp_placement *pl)
{
    for (size_t i = 0; cli->verbose > 0 && i < cgp_placement_n_guests(pl); i++) {
        char *why CLI_AUTO_FREE = NULL;
        if (cgp_placement_reason(pl, i, &why) == 0)
            fprintf(stderr, "cgplace: plan: guest %s (auto): %s\n", cgp_placement_guest(pl, i)->name, why);
    }
}

static void plan_text(struct cli *cli, const struct cli_ops *ops, const cgp_enforce *e)
{
    if (e)
        cli_msgs_text(cli, e);
    cli_ops_text(ops, CLI_OPS_PLAN);
    if (e && cli->verbose >= 0 && cgp_enforce_summary(e)->outcome == CGP_ENFORCE_OK && !ops->n)
        fprintf(stderr, "cgplace: plan: nothing to do: the running guests comply\n");
}

int cmd_plan(struct cli *cli, struct cli_env *env)
{
    if (env->empty_tree) {
        cgp_plan *plan CLI_AUTO_PLAN = NULL;
        int r = cgp_plan_from_empty(env->pl, &plan);
        if (r < 0)
            return cli_error(EXIT_RUNTIME, "plan", "%s", strerror(-r));
        struct cli_ops ops = cli_ops_of_plan(plan);
        if (cli->json)
            return plan_json(env, &ops, NULL);
        plan_reasons(cli, env->pl);
        plan_text(cli, &ops, NULL);
        return EXIT_OK;
    }
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    int r = env->root_err;
    if (r == 0)
        r = cgp_enforce_run(env->ctx, env->pl, env->g, env->n, CGP_ENFORCE_DRY_RUN, &e);
    if (r < 0)
        return cli_engine_error(env->ctx, "plan", r);
    int rc = cli_outcome_code(e);
    struct cli_ops ops = cli_ops_of_enforce(e);
    if (cli->json) {
        plan_json(env, &ops, e);
    } else {
        plan_reasons(cli, env->pl);
        plan_text(cli, &ops, e);
    }
    return rc;
}
