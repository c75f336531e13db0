/* cgplace check POLICY — parse and validate a policy against this host;
 * with --json the resolved placement of every guest (spec §2). */
#include "cli.h"

#include <stdlib.h>

static struct json_object *thread_json(const struct cgp_thread_placement *t)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cpus", cli_json_set(t->cpus));
    json_object_object_add(o, "mems", cli_json_set(t->mems));
    return o;
}

static struct json_object *guest_json(const struct cgp_guest_placement *g)
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

static int check_json(const struct cli_env *env)
{
    struct json_object *o = json_object_new_object();
    struct json_object *gs = json_object_new_array();
    for (size_t i = 0; i < cgp_placement_n_guests(env->pl); i++)
        json_object_array_add(gs, guest_json(cgp_placement_guest(env->pl, i)));
    json_object_object_add(o, "guests", gs);
    json_object_object_add(o, "warnings", cli_warnings_json(env));
    return cli_print_json(o);
}

static int check_text(const char *path, const cgp_placement *pl)
{
    for (size_t i = 0; i < cgp_placement_n_guests(pl); i++) {
        const struct cgp_guest_placement *g = cgp_placement_guest(pl, i);
        char *c CLI_AUTO_FREE = cgp_bitmap_format(g->cpus);
        char *m CLI_AUTO_FREE = cgp_bitmap_format(g->mems);
        printf("guest %s: %u vCPUs on CPUs %s, memory on nodes %s, mode %s%s\n", g->name,
               g->n_vcpus, c ? c : "?", m ? m : "?", cgp_mem_mode_name(g->mode),
               g->auto_placed ? " (auto)" : "");
    }
    printf("%s: valid (%zu guest%s)\n", path, cgp_placement_n_guests(pl),
           cgp_placement_n_guests(pl) == 1 ? "" : "s");
    return EXIT_OK;
}

int cmd_check(struct cli *cli, struct cli_env *env)
{
    if (cli->json)
        return check_json(env);
    return cli->verbose >= 0 ? check_text(env->policy_path, env->pl) : EXIT_OK;
}
