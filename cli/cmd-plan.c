/* cgplace plan POLICY — the ordered cgroup writes `apply` would make now:
 * the policy diffed against the live cgroup tree and the running guests
 * (--cgroup-root DIR, or the cgroup2 mount in SYSROOT/proc/self/mountinfo).
 * Only when there is no cgroup v2 hierarchy at all does it plan the whole
 * tree against an empty hierarchy, and says so on stderr. */
#include "cli.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


static void print_notes(const struct cgp_op *op, const char **last_note)
{
    if (op->note && op->note != *last_note && !(*last_note && !strcmp(op->note, *last_note)))
        printf("  # note: %s: %s\n", op->guest ? op->guest : "", op->note);
    if (op->note)
        *last_note = op->note;
}

/* 0 and *rc set when the live plan was printed; 1 when there is no cgroup v2
 * hierarchy (fall back to the empty tree). */
static int plan_live(struct cli *cli, const char *path, int *rc)
{
    cgp_ctx *probe = NULL;
    char *root = NULL;
    int r = cgp_ctx_new(cli->sysroot, cli->cgroup_root, &probe);
    if (r == 0 && (r = cgp_cgroup_root(probe, &root)) == -ENOENT && !cli->cgroup_root) {
        fprintf(stderr, "cgplace: plan: %s; planning against an empty hierarchy\n", cgp_ctx_last_error(probe));
        cgp_ctx_free(probe);
        return 1;
    }
    cgp_ctx_free(probe);
    free(root);
    struct cmdenf c;
    if ((*rc = cmdenf_load(cli, "plan", path, &c)))
        return 0;
    if ((*rc = cli_sandbox(cli, "plan"))) {
        cmdenf_free(&c);
        return 0;
    }
    cgp_enforce *e = NULL;
    if (r == 0)
        r = cgp_enforce_run(c.ctx, c.pl, c.g, c.n, CGP_ENFORCE_DRY_RUN, &e);
    if (r < 0) {
        *rc = cmdenf_root_error(c.ctx, "plan", r);
        cmdenf_free(&c);
        return 0;
    }
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    *rc = s->outcome == CGP_ENFORCE_OK ? EXIT_OK : s->outcome == CGP_ENFORCE_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "ops", cmdenf_ops_json(e));
        json_object_object_add(o, "warnings", c.warnings ? json_object_get(c.warnings) : json_object_new_array());
        json_object_object_add(o, "messages", cmdenf_msgs_json(e));
        cli_print_json(o);
    } else {
        cmdenf_print_msgs(cli, e);
        const char *last_note = NULL;
        for (size_t i = 0; i < cgp_enforce_n_ops(e); i++) {
            const struct cgp_op *op = cgp_enforce_op(e, i);
            const char *p = *op->path ? op->path : ".";
            if (op->kind == CGP_OP_MKDIR)
                printf("mkdir %s\n", p);
            else
                printf("write %s/%s %s\n", p, op->file, op->value);
            print_notes(op, &last_note);
        }
        if (cli->verbose >= 0 && s->outcome == CGP_ENFORCE_OK && !cgp_enforce_n_ops(e))
            fprintf(stderr, "cgplace: plan: nothing to do: the running guests comply\n");
    }
    cgp_enforce_free(e);
    cmdenf_free(&c);
    return 0;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
    const char *path;
    int rc0 = cmdenf_args("plan", argc, argv, &path);
    if (rc0)
        return rc0;
    int lrc = 0;
    if (plan_live(cli, path, &lrc) == 0)
        return lrc;
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    cgp_placement *pl = NULL;
    struct json_object *warnings = NULL;
    int rc = cmdpol_load(cli, "plan", path, &t, &ctx, &pl, cli->json ? &warnings : NULL);
    if (rc)
        return rc;
    if ((rc = cli_sandbox(cli, "plan"))) {
        cgp_placement_free(pl);
        json_object_put(warnings);
        return rc;
    }
    cgp_plan *plan = NULL;
    int r = cgp_plan_from_empty(pl, &plan);
    if (r < 0) {
        cgp_placement_free(pl);
        json_object_put(warnings);
        return cli_error(EXIT_RUNTIME, "plan", "%s", strerror(-r));
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        struct json_object *ops = json_object_new_array();
        for (size_t i = 0; i < cgp_plan_n_ops(plan); i++) {
            const struct cgp_op *op = cgp_plan_op(plan, i);
            struct json_object *e = json_object_new_object();
            json_object_object_add(e, "op", json_object_new_string(op->kind == CGP_OP_MKDIR ? "mkdir" : "write"));
            json_object_object_add(e, "path", json_object_new_string(op->path));
            if (op->kind == CGP_OP_WRITE) {
                json_object_object_add(e, "file", json_object_new_string(op->file));
                json_object_object_add(e, "value", json_object_new_string(op->value));
                json_object_object_add(e, "old", op->old_value ? json_object_new_string(op->old_value) : NULL);
            }
            json_object_object_add(e, "guest", op->guest ? json_object_new_string(op->guest) : NULL);
            if (op->note)
                json_object_object_add(e, "note", json_object_new_string(op->note));
            json_object_array_add(ops, e);
        }
        json_object_object_add(o, "ops", ops);
        json_object_object_add(o, "warnings", warnings ? warnings : json_object_new_array());
        cgp_plan_free(plan);
        cgp_placement_free(pl);
        return cli_print_json(o);
    }
    const char *last_note = NULL;
    for (size_t i = 0; i < cgp_plan_n_ops(plan); i++) {
        const struct cgp_op *op = cgp_plan_op(plan, i);
        const char *path_s = *op->path ? op->path : ".";
        if (op->kind == CGP_OP_MKDIR)
            printf("mkdir %s\n", path_s);
        else
            printf("write %s/%s %s\n", path_s, op->file, op->value);
        if (op->note && op->note != last_note && !(last_note && !strcmp(op->note, last_note)))
            printf("  # note: %s: %s\n", op->guest ? op->guest : "", op->note);
        if (op->note)
            last_note = op->note;
    }
    cgp_plan_free(plan);
    cgp_placement_free(pl);
    return EXIT_OK;
}
