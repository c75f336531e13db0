/* cgplace check POLICY — parse and validate a policy against this host;
 * with --json the resolved placement of every guest (spec §2).
 * Also the policy loading shared by plan and suggest (cmdpol_load). */
#include "cli.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


void cmdpol_print_diags(const cgp_diags *d, bool errors, bool warnings);
struct json_object *cmdpol_guest_json(const struct cgp_guest_placement *g);

void cmdpol_print_diags(const cgp_diags *d, bool errors, bool warnings)
{
    for (size_t i = 0; i < cgp_diags_count(d); i++) {
        const struct cgp_diag *dg = cgp_diags_get(d, i);
        if (dg->warning ? !warnings : !errors)
            continue;
        char *s = cgp_diag_format(dg);
        fprintf(stderr, "%s\n", s ? s : dg->msg);
        free(s);
    }
}

/* Parse path, read the topology, compile. On success *out (and *topo, *ctx)
 * are set; warnings are printed (text) or returned as a JSON array (json
 * mode, warnings non-NULL). Returns an exit code. */
/* Mark the blocks that some QEMU process under the sysroot matches (command
 * line only, no QMP). Returns how many; a sysroot without proc/ has none. */
static int mark_running(cgp_ctx *ctx, cgp_policy *p, const cgp_placement *pl, unsigned flags,
                        cgp_guest_list **keep)
{
    cgp_guest_list *list = NULL;
    if (cgp_guests_discover(ctx, flags, &list) < 0)
        return 0;
    int n = 0;
    for (size_t i = 0; i < cgp_placement_n_guests(pl); i++) {
        const struct cgp_guest_placement *gp = cgp_placement_guest(pl, i);
        for (size_t k = 0; k < cgp_guests_count(list); k++) {
            if (cgp_guest_matches(cgp_guests_get(list, k), gp)) {
                n += cgp_policy_set_running(p, gp->name, true) == 0;
                break;
            }
        }
    }
    if (keep)
        *keep = list;
    else
        cgp_guests_free(list);
    return n;
}

int cmdpol_load(struct cli *cli, const char *what, const char *path, cgp_topology **topo,
                cgp_ctx **ctx, cgp_placement **out, struct json_object **warnings)
{
    return cmdpol_load_ex(cli, what, path, topo, ctx, out, warnings, 0, NULL);
}

int cmdpol_load_ex(struct cli *cli, const char *what, const char *path, cgp_topology **topo,
                   cgp_ctx **ctx, cgp_placement **out, struct json_object **warnings,
                   unsigned discover_flags, cgp_guest_list **guests)
{
    cgp_guest_list *list CLI_AUTO_GUESTS = NULL;
    cgp_diags *d = cgp_diags_new();
    if (!d)
        return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
    cgp_policy *p = NULL;
    int r = cgp_policy_parse_file(path, d, &p);
    if (r == -EINVAL) {
        cmdpol_print_diags(d, true, true);
        cgp_diags_free(d);
        return EXIT_USAGE;
    }
    if (r < 0) {
        const char *why = r == -ELOOP ? "is a symbolic link (policy files are not followed through links)"
                        : r == -ENXIO ? "is not a regular file"
                        : r == -EFBIG ? "is too large" : strerror(-r);
        cgp_diags_free(d);
        return cli_error(r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, what, "%s: %s", path, why);
    }
    cgp_ctx *c = NULL;
    cgp_topology *t = NULL;
    int rc = cli_load_topology(cli, &c, &t);
    if (rc) {
        cgp_policy_free(p);
        cgp_diags_free(d);
        return rc;
    }
    cgp_placement *pl = NULL;
    r = cgp_policy_compile(p, t, d, &pl);
    if (r == 0 && mark_running(c, p, pl, discover_flags, guests ? &list : NULL) > 0) {
        /* Compile again knowing which guests run: their memory is already
         * out of MemFree, and placements say running. */
        cgp_placement_free(pl);
        pl = NULL;
        cgp_diags_free(d);
        if (!(d = cgp_diags_new())) {
            cgp_policy_free(p);
            cgp_topology_free(t);
            cgp_ctx_free(c);
            return cli_error(EXIT_RUNTIME, what, "%s", strerror(ENOMEM));
        }
        r = cgp_policy_compile(p, t, d, &pl);
    }
    cgp_policy_free(p);
    if (r < 0) {
        cmdpol_print_diags(d, true, true);
        cgp_diags_free(d);
        cgp_topology_free(t);
        cgp_ctx_free(c);
        return r == -EINVAL ? EXIT_USAGE : cli_error(EXIT_RUNTIME, what, "%s", strerror(-r));
    }
    if (warnings) {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < cgp_diags_count(d); i++) {
            char *s = cgp_diag_format(cgp_diags_get(d, i));
            if (s)
                json_object_array_add(a, json_object_new_string(s));
            free(s);
        }
        *warnings = a;
    } else if (cli->verbose >= 0) {
        cmdpol_print_diags(d, false, true);
    }
    cgp_diags_free(d);
    *out = pl;
    *topo = t;
    *ctx = c;
    if (guests) {
        *guests = list;
        list = NULL;
    }
    return EXIT_OK;
}

static struct json_object *thread_json(const struct cgp_thread_placement *t)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cpus", cli_json_set(t->cpus));
    json_object_object_add(o, "mems", cli_json_set(t->mems));
    return o;
}

struct json_object *cmdpol_guest_json(const struct cgp_guest_placement *g)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(g->name));
    json_object_object_add(o, "running", json_object_new_boolean(g->running));
    json_object_object_add(o, "cpus", cli_json_set(g->cpus));
    json_object_object_add(o, "mems", cli_json_set(g->mems));
    json_object_object_add(o, "mode", json_object_new_string(cgp_mem_mode_name(g->mode)));
    json_object_object_add(o, "emulator", thread_json(&g->emulator));
    struct json_object *v = json_object_new_array();
    for (unsigned i = 0; i < g->n_vcpus; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "vcpu", json_object_new_int((int)i));
        json_object_object_add(e, "cpus", cli_json_set(g->vcpu[i].cpus));
        json_object_object_add(e, "mems", cli_json_set(g->vcpu[i].mems));
        json_object_array_add(v, e);
    }
    json_object_object_add(o, "vcpus", v);
    struct json_object *io = json_object_new_array();
    for (size_t i = 0; i < g->n_iothreads; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_string(g->iothreads[i].id));
        json_object_object_add(e, "cpus", cli_json_set(g->iothreads[i].cpus));
        json_object_object_add(e, "mems", cli_json_set(g->iothreads[i].mems));
        json_object_array_add(io, e);
    }
    json_object_object_add(o, "iothreads", io);
    return o;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
    const char *path;
    int rc0 = cmdenf_args("check", argc, argv, &path);
    if (rc0)
        return rc0;
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    cgp_placement *pl = NULL;
    struct json_object *warnings = NULL;
    int rc = cmdpol_load(cli, "check", path, &t, &ctx, &pl, cli->json ? &warnings : NULL);
    if (rc)
        return rc;
    if ((rc = cli_sandbox(cli, "check"))) {
        cgp_placement_free(pl);
        json_object_put(warnings);
        return rc;
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        struct json_object *gs = json_object_new_array();
        for (size_t i = 0; i < cgp_placement_n_guests(pl); i++)
            json_object_array_add(gs, cmdpol_guest_json(cgp_placement_guest(pl, i)));
        json_object_object_add(o, "guests", gs);
        json_object_object_add(o, "warnings", warnings ? warnings : json_object_new_array());
        cgp_placement_free(pl);
        return cli_print_json(o);
    }
    if (cli->verbose >= 0) {
        for (size_t i = 0; i < cgp_placement_n_guests(pl); i++) {
            const struct cgp_guest_placement *g = cgp_placement_guest(pl, i);
            char *c = cgp_bitmap_format(g->cpus), *m = cgp_bitmap_format(g->mems);
            printf("guest %s: %u vCPUs on CPUs %s, memory on nodes %s, mode %s%s\n", g->name,
                   g->n_vcpus, c ? c : "?", m ? m : "?", cgp_mem_mode_name(g->mode),
                   g->auto_placed ? " (auto)" : "");
            free(c);
            free(m);
        }
        printf("%s: valid (%zu guest%s)\n", path, cgp_placement_n_guests(pl),
               cgp_placement_n_guests(pl) == 1 ? "" : "s");
    }
    cgp_placement_free(pl);
    return EXIT_OK;
}
