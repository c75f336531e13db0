/* cgplace suggest --vcpus N --memory SIZE [--memory-nodes LIST] [-p POLICY]
 * [--libvirt] — best-fit cpuset and nodeset for a new guest (like
 * virt-install --cpuset=auto); with --memory-nodes, where a guest whose
 * memory is bound to those nodes should run. */
#include "cli.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int prep_suggest(struct cli *cli, struct cli_env *env)
{
    (void)env;
    struct cli_args *a = &cli->args;
    const char *vc = a->vcpus, *mem = a->memory;
    if (!vc || !mem)
        return cli_error(EXIT_USAGE, "suggest", "--vcpus N and --memory SIZE are required");
    char *end;
    errno = 0;
    a->n_vcpus = strtoul(vc, &end, 10);
    if (errno || *end || end == vc || vc[0] == '-' || a->n_vcpus == 0 || a->n_vcpus > CGP_POLICY_MAX_VCPUS)
        return cli_error(EXIT_USAGE, "suggest", "invalid --vcpus '%s': expected an integer from 1 to %u",
                         vc, CGP_POLICY_MAX_VCPUS);
    bool needs_unit = false;
    int r = cgp_parse_size_kib(mem, &a->memory_kib, &needs_unit);
    if (r < 0 || a->memory_kib == 0)
        return cli_error(EXIT_USAGE, "suggest", "invalid --memory '%s': %s", mem,
                         needs_unit ? "a unit is needed (K, M, G or T)" :
                         r == -ERANGE ? "too large" : "expected a size such as 4G or 512M");
    return EXIT_OK;
}

struct suggestion {
    unsigned long vcpus;
    uint64_t kib;
    char *cpus, *mems, *cpu_nodes, *xml;
};

static int suggest_json(const struct suggestion *s)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "vcpus", json_object_new_int64((int64_t)s->vcpus));
    json_object_object_add(o, "memory_kib", json_object_new_uint64(s->kib));
    json_object_object_add(o, "cpus", json_object_new_string(s->cpus));
    json_object_object_add(o, "mems", json_object_new_string(s->mems));
    json_object_object_add(o, "cpu_nodes", json_object_new_string(s->cpu_nodes));
    json_object_object_add(o, "libvirt", json_object_new_string(s->xml));
    return cli_print_json(o);
}

static int suggest_text(const struct suggestion *s, bool libvirt_only)
{
    if (!libvirt_only)
        printf("cpuset:  %s\nnodeset: %s\n\n", s->cpus, s->mems);
    fputs(s->xml, stdout);
    return EXIT_OK;
}

static void suggestion_clearp(struct cgp_suggestion *s) { cgp_suggestion_clear(s); }

/* --memory-nodes: a node list of nodes with memory (*out NULL without it). */
static int memory_nodes(const struct cli_args *a, const cgp_topology *t, cgp_bitmap **out)
{
    *out = NULL;
    if (!a->memory_nodes)
        return EXIT_OK;
    cgp_bitmap *b = NULL;
    if (cgp_bitmap_parse(a->memory_nodes, 4096, &b, NULL) < 0 || cgp_bitmap_is_empty(b)) {
        cgp_bitmap_free(b);
        return cli_error(EXIT_USAGE, "suggest", "invalid --memory-nodes '%s': expected a node list such as 0 or 1,3",
                         a->memory_nodes);
    }
    cgp_bitmap_foreach(b, id) {
        const struct cgp_node *nd = cgp_topology_node_by_id(t, id);
        if (!nd || !nd->online || nd->mem_total_kib == CGP_UNKNOWN_U64 || !nd->mem_total_kib) {
            cgp_bitmap_free(b);
            return cli_error(EXIT_USAGE, "suggest", "--memory-nodes: node %d %s", id,
                             !nd ? "does not exist on this host" : !nd->online ? "is offline" :
                             "has no memory");
        }
    }
    *out = b;
    return EXIT_OK;
}

int cmd_suggest(struct cli *cli, struct cli_env *env)
{
    const struct cli_args *a = &cli->args;
    struct cgp_suggestion s __attribute__((cleanup(suggestion_clearp))) = { 0 };
    cgp_bitmap *nodes CLI_AUTO_BITMAP = NULL;
    int rc = memory_nodes(a, env->topo, &nodes);
    if (rc != EXIT_OK)
        return rc;
    int r = cgp_suggest_nodes(env->pl, env->topo, (unsigned)a->n_vcpus, a->memory_kib, nodes, &s);
    if (r == -ENOSPC)
        return cli_error(EXIT_RUNTIME, "suggest", "no placement for %lu vCPUs and %s%s%s on this host%s",
                         a->n_vcpus, a->memory, nodes ? " on nodes " : "", nodes ? a->memory_nodes : "",
                         env->pl ? " after the policy's commitments" : "");
    if (r < 0)
        return cli_error(EXIT_RUNTIME, "suggest", "%s", strerror(-r));
    char *c CLI_AUTO_FREE = cgp_bitmap_format(s.cpus);
    char *m CLI_AUTO_FREE = cgp_bitmap_format(s.mems);
    char *cn CLI_AUTO_FREE = cgp_bitmap_format(s.cpu_nodes);
    char *xml CLI_AUTO_FREE = NULL;
    if (!c || !m || !cn ||
        asprintf(&xml, "<vcpu placement='static' cpuset='%s'>%lu</vcpu>\n<numatune>\n"
                       "  <memory mode='strict' nodeset='%s'/>\n</numatune>\n", c, a->n_vcpus, m) < 0) {
        xml = NULL;     /* asprintf leaves it undefined on failure */
        return cli_error(EXIT_RUNTIME, "suggest", "%s", strerror(ENOMEM));
    }
    struct suggestion out = { a->n_vcpus, a->memory_kib, c, m, cn, xml };
    return cli->json ? suggest_json(&out) : suggest_text(&out, a->libvirt);
}
