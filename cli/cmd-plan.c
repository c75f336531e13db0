/* cgplace plan POLICY — the ordered cgroup writes `apply` would make.
 * Until guest discovery and the enforcement engine exist it plans against an
 * empty cgroup hierarchy (nothing of PARENT exists yet). */
#include "cli.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmdpol_load(struct cli *cli, const char *what, const char *path, cgp_topology **topo,
                cgp_ctx **ctx, cgp_placement **out, struct json_object **warnings);

int cmd_plan(struct cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--policy")) && i + 1 < argc && !path)
            path = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return cli_error(EXIT_USAGE, "plan", "unexpected argument '%s' (usage: plan POLICY)", argv[i]);
    }
    if (!path)
        path = "/etc/cgplace/policy.conf";
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    cgp_placement *pl = NULL;
    struct json_object *warnings = NULL;
    int rc = cmdpol_load(cli, "plan", path, &t, &ctx, &pl, cli->json ? &warnings : NULL);
    if (rc)
        return rc;
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
