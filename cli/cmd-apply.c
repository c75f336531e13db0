/* cgplace apply POLICY — enforce the policy on the running guests (spec §6).
 * Also the helpers shared with plan and verify (cmdenf_*). */
#include "cli.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>



void cmdenf_free(struct cmdenf *c)
{
    free(c->g);
    cgp_guests_free(c->list);
    cgp_placement_free(c->pl);
    cgp_topology_free(c->topo);
    cgp_ctx_free(c->ctx);
    json_object_put(c->warnings);
    memset(c, 0, sizeof *c);
}

int cmdenf_args(const char *what, int argc, char **argv, const char **path)
{
    *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--policy")) && i + 1 < argc && !*path)
            *path = argv[++i];
        else if (argv[i][0] != '-' && !*path)
            *path = argv[i];
        else
            return cli_error(EXIT_USAGE, what, "unexpected argument '%s' (usage: %s POLICY)", argv[i], what);
    }
    if (!*path)
        *path = "/etc/cgplace/policy.conf";
    return EXIT_OK;
}

int cmdenf_load(struct cli *cli, const char *what, const char *path, struct cmdenf *c)
{
    memset(c, 0, sizeof *c);
    int rc = cmdpol_load_ex(cli, what, path, &c->topo, &c->ctx, &c->pl, cli->json ? &c->warnings : NULL,
                            CGP_DISCOVER_QMP, &c->list);
    if (rc)
        return rc;
    int r = c->list ? 0 : cgp_guests_discover(c->ctx, CGP_DISCOVER_QMP, &c->list);
    if (r < 0) {
        rc = cli_error(EXIT_RUNTIME, what, "discovering guests: %s%s%s", strerror(-r),
                       *cgp_ctx_last_error(c->ctx) ? ": " : "", cgp_ctx_last_error(c->ctx));
        cmdenf_free(c);
        return rc;
    }
    c->n = cgp_guests_count(c->list);
    c->g = calloc(c->n ? c->n : 1, sizeof *c->g);
    if (!c->g) {
        cmdenf_free(c);
        return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
    }
    for (size_t i = 0; i < c->n; i++)
        c->g[i] = cgp_guests_get(c->list, i);
    return EXIT_OK;
}

int cmdenf_root_error(cgp_ctx *ctx, const char *what, int r)
{
    const char *d = cgp_ctx_last_error(ctx);
    return cli_error(r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME, what, "%s", *d ? d : strerror(-r));
}

struct json_object *cmdenf_ops_json(const cgp_enforce *e)
{
    struct json_object *ops = json_object_new_array();
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++) {
        const struct cgp_op *op = cgp_enforce_op(e, i);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "op", json_object_new_string(op->kind == CGP_OP_MKDIR ? "mkdir" : "write"));
        json_object_object_add(o, "path", json_object_new_string(op->path));
        if (op->kind == CGP_OP_WRITE) {
            json_object_object_add(o, "file", json_object_new_string(op->file));
            json_object_object_add(o, "value", json_object_new_string(op->value));
            json_object_object_add(o, "old", op->old_value ? json_object_new_string(op->old_value) : NULL);
        }
        json_object_object_add(o, "guest", op->guest ? json_object_new_string(op->guest) : NULL);
        if (op->note)
            json_object_object_add(o, "note", json_object_new_string(op->note));
        json_object_array_add(ops, o);
    }
    return ops;
}

static const char *level_name(enum cgp_msg_level l)
{
    return l == CGP_MSG_ERROR ? "error" : l == CGP_MSG_WARNING ? "warning" : "info";
}

struct json_object *cmdenf_msgs_json(const cgp_enforce *e)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++) {
        const struct cgp_enforce_msg *m = cgp_enforce_msg(e, i);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "level", json_object_new_string(level_name(m->level)));
        json_object_object_add(o, "guest", m->guest ? json_object_new_string(m->guest) : NULL);
        json_object_object_add(o, "pid", m->pid ? json_object_new_int(m->pid) : NULL);
        json_object_object_add(o, "text", json_object_new_string(m->text));
        json_object_array_add(a, o);
    }
    return a;
}

/* Messages on stderr: errors and warnings always (unless -q: errors only),
 * infos with -v. */
void cmdenf_print_msgs(struct cli *cli, const cgp_enforce *e)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++) {
        const struct cgp_enforce_msg *m = cgp_enforce_msg(e, i);
        if ((m->level == CGP_MSG_INFO && cli->verbose < 1) || (m->level == CGP_MSG_WARNING && cli->verbose < 0))
            continue;
        fprintf(stderr, "cgplace: %s%s\n", m->level == CGP_MSG_ERROR ? "error: " : m->level == CGP_MSG_WARNING ? "warning: " : "",
                m->text);
    }
}

static void print_op(const struct cgp_op *op)
{
    const char *p = *op->path ? op->path : ".";
    if (op->kind == CGP_OP_MKDIR)
        printf("  mkdir %s\n", p);
    else if (op->old_value)
        printf("  write %s/%s %s (was %s)\n", p, op->file, op->value, *op->old_value ? op->old_value : "empty");
    else
        printf("  write %s/%s %s\n", p, op->file, op->value);
}

int cmd_apply(struct cli *cli, int argc, char **argv)
{
    const char *path;
    int rc = cmdenf_args("apply", argc, argv, &path);
    if (rc)
        return rc;
    struct cmdenf c;
    if ((rc = cmdenf_load(cli, "apply", path, &c)))
        return rc;
    if ((rc = cli_sandbox(cli, "apply"))) {
        cmdenf_free(&c);
        return rc;
    }
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(c.ctx, c.pl, c.g, c.n, 0, &e);
    if (r < 0) {
        rc = cmdenf_root_error(c.ctx, "apply", r);
        cmdenf_free(&c);
        return rc;
    }
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    rc = s->outcome == CGP_ENFORCE_OK ? EXIT_OK : s->outcome == CGP_ENFORCE_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    if (!cli->json)
        cmdenf_print_msgs(cli, e);
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "outcome", json_object_new_string(
            s->outcome == CGP_ENFORCE_OK ? "ok" : s->outcome == CGP_ENFORCE_INVALID ? "invalid" : "failed"));
        json_object_object_add(o, "writes", json_object_new_int64((int64_t)s->n_writes));
        json_object_object_add(o, "undone", json_object_new_int64((int64_t)s->n_undone));
        json_object_object_add(o, "rollback_complete", json_object_new_boolean(!s->rollback_incomplete));
        json_object_object_add(o, "unmanaged", json_object_new_int64((int64_t)s->n_unmanaged));
        struct json_object *ga = json_object_new_array();
        for (size_t i = 0; i < cgp_enforce_n_guests(e); i++) {
            const struct cgp_enforce_guest *g = cgp_enforce_guest(e, i);
            struct json_object *go = json_object_new_object();
            json_object_object_add(go, "name", json_object_new_string(g->name));
            json_object_object_add(go, "pid", g->proc ? json_object_new_int(g->proc->pid) : NULL);
            json_object_object_add(go, "cgroup", json_object_new_string(g->cgroup));
            json_object_object_add(go, "state", json_object_new_string(cgp_guest_state_name(g->state)));
            json_object_object_add(go, "writes", json_object_new_int64((int64_t)g->n_ops));
            json_object_object_add(go, "detail", g->detail ? json_object_new_string(g->detail) : NULL);
            json_object_array_add(ga, go);
        }
        json_object_object_add(o, "guests", ga);
        json_object_object_add(o, "ops", cmdenf_ops_json(e));
        json_object_object_add(o, "messages", cmdenf_msgs_json(e));
        json_object_object_add(o, "warnings", c.warnings ? json_object_get(c.warnings) : json_object_new_array());
        cli_print_json(o);
    } else {
        for (size_t i = 0; i < cgp_enforce_n_guests(e); i++) {
            const struct cgp_enforce_guest *g = cgp_enforce_guest(e, i);
            printf("%-16s %-12s", g->name, cgp_guest_state_name(g->state));
            if (g->proc)
                printf(" pid %-7d", g->proc->pid);
            if (g->state == CGP_GUEST_CHANGED)
                printf(" %zu write%s", g->n_ops, g->n_ops == 1 ? "" : "s");
            if (g->detail && g->state != CGP_GUEST_CHANGED && g->state != CGP_GUEST_UNCHANGED)
                printf(" (%s)", g->detail);
            printf("\n");
        }
        if (cli->verbose > 0)
            for (size_t i = 0; i < cgp_enforce_n_ops(e); i++)
                print_op(cgp_enforce_op(e, i));
        if (s->outcome == CGP_ENFORCE_OK)
            printf("%zu write%s%s\n", s->n_writes, s->n_writes == 1 ? "" : "s",
                   s->n_writes ? "" : ": the host already complies");
        else if (s->outcome == CGP_ENFORCE_FAILED)
            printf("failed: %zu write%s rolled back%s\n", s->n_undone, s->n_undone == 1 ? "" : "s",
                   s->rollback_incomplete ? " (INCOMPLETE: see the errors above)" : "");
        else
            printf("refused: nothing written\n");
    }
    cgp_enforce_free(e);
    cmdenf_free(&c);
    return rc;
}
