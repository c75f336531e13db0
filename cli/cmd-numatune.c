/* cgplace numatune GUEST [--nodeset LIST] [--mode strict|restrictive] —
 * show, or change live, the memory nodes of a running guest (virsh numatune
 * --live). A change goes through the engine like a pin (cgroup v2 moves the
 * pages when cpuset.mems changes, migrate_pages(2) what is left); the pages
 * per node before and after (numa_maps) and the time it took are printed. */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int prep_numatune(struct cli *cli, struct cli_env *env)
{
    const struct cli_args *a = &cli->args;
    if (a->n_operands != 1)
        return cli_error(EXIT_USAGE, cli->cmd, "give the GUEST (a name, UUID or pid)");
    if (a->mode && strcmp(a->mode, "strict") && strcmp(a->mode, "restrictive"))
        return cli_error(EXIT_USAGE, cli->cmd, "--mode '%s': strict or restrictive (a cgroup cannot express "
                         "preferred or interleave on a running guest)", a->mode);
    if ((a->mode || a->persist) && !a->nodeset)
        return cli_error(EXIT_USAGE, cli->cmd, "--%s goes with --nodeset", a->mode ? "mode" : "persist");
    if (a->persist && !a->policy)
        return cli_error(EXIT_USAGE, cli->cmd, "--persist needs -p POLICY: the file to write the change into");
    return a->nodeset ? cli_parse_list(cli->cmd, a->nodeset, &env->set) : EXIT_OK;
}

struct pages {
    uint64_t *v;    /* all then anonymous, n each */
    size_t n;
};

static void pages_text(const struct pages *before, const struct pages *after)
{
    size_t n = before->n > after->n ? before->n : after->n;
    printf("%-15s %12s %12s\n", "pages per node", after->v ? "before" : "all", after->v ? "after" : "anonymous");
    for (size_t i = 0; i < n; i++) {
        uint64_t b = i < before->n ? before->v[i] : 0, ba = i < before->n ? before->v[before->n + i] : 0;
        uint64_t x = after->v && i < after->n ? after->v[i] : 0;
        if (!b && !x)
            continue;
        printf("  node %-8zu %12llu %12llu\n", i, (unsigned long long)b,
               (unsigned long long)(after->v ? x : ba));
    }
}

static struct json_object *pages_json(const struct pages *p, bool anon)
{
    struct json_object *o = json_object_new_object();
    for (size_t i = 0; p->v && i < p->n; i++) {
        char k[24];
        snprintf(k, sizeof k, "%zu", i);
        json_object_object_add(o, k, json_object_new_uint64(p->v[(anon ? p->n : 0) + i]));
    }
    return o;
}

static const char *mode_of(const struct cli_env *env)
{
    for (size_t i = 0; env->pl && i < cgp_placement_n_guests(env->pl); i++)
        if (cgp_placement_guest(env->pl, i)->proc == env->guest)
            return cgp_mem_mode_name(cgp_placement_guest(env->pl, i)->mode);
    return "strict";
}

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int cmd_numatune(struct cli *cli, struct cli_env *env)
{
    struct pages before = { 0 }, after = { 0 };
    int r = cgp_guest_numa_pages(env->ctx, env->guest, &before.v, &before.n);
    if (r < 0)
        return cli_engine_error(env->ctx, cli->cmd, r == -EINVAL ? -EIO : r);
    cgp_bitmap *mems CLI_AUTO_BITMAP = NULL;
    struct json_object *doc = NULL;
    double secs = 0;
    int rc = EXIT_OK;
    if (env->set) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = cli_runtime_apply(cli, env, &doc);
        secs = since(&t0);
        if (rc == EXIT_OK && cgp_guest_numa_pages(env->ctx, env->guest, &after.v, &after.n) < 0)
            rc = cli_engine_error(env->ctx, cli->cmd, -EIO);
    }
    if (rc == EXIT_OK && (r = cgp_guest_thread_affinity(env->ctx, env->guest, env->guest->pid, NULL, &mems)) < 0)
        rc = cli_engine_error(env->ctx, cli->cmd, r);
    if (cli->json && (rc == EXIT_OK || doc)) {
        /* a change: the engine's report, then the pages before and after */
        struct json_object *o = doc ? doc : json_object_new_object();
        char *l CLI_AUTO_FREE = mems ? cgp_bitmap_format(mems) : NULL;
        if (!doc)
            cli_jadd(o, "pid", json_object_new_int(env->guest->pid));
        cli_jadd(o, "mode", json_object_new_string(cli->args.mode ? cli->args.mode : mode_of(env)));
        cli_jadd(o, "nodeset", l ? json_object_new_string(l) : NULL);
        cli_jadd(o, doc ? "pages_before" : "pages", pages_json(&before, false));
        cli_jadd(o, doc ? "anon_pages_before" : "anon_pages", pages_json(&before, true));
        if (doc) {
            cli_jadd(o, "pages_after", after.v ? pages_json(&after, false) : NULL);
            cli_jadd(o, "anon_pages_after", after.v ? pages_json(&after, true) : NULL);
            char t[32];
            snprintf(t, sizeof t, "%.3f", secs);
            cli_jadd(o, "seconds", json_object_new_double_s(secs, t));
        }
        int prc = cli_print_json(o);
        rc = rc == EXIT_OK ? prc : rc;
    } else if (rc == EXIT_OK && !cli->json) {
        char *l CLI_AUTO_FREE = cgp_bitmap_format(mems);
        printf("%-15s: %s\n%-15s: %s\n", "numa_mode", cli->args.mode ? cli->args.mode : mode_of(env),
               "numa_nodeset", l ? l : "?");
        pages_text(&before, &after);
        if (env->set)
            printf("moved in %.3f s\n", secs);
    }
    free(before.v);
    free(after.v);
    return rc;
}
