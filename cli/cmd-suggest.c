/* cgplace suggest --vcpus N --memory SIZE [-p POLICY] [--libvirt] — best-fit
 * cpuset and nodeset for a new guest (like virt-install --cpuset=auto). */
#include "cli.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *argval(int *i, int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (!strcmp(argv[*i], name) && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int cmd_suggest(struct cli *cli, int argc, char **argv)
{
    const char *vc = NULL, *mem = NULL, *policy = NULL;
    bool libvirt_only = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = argval(&i, argc, argv, "--vcpus")))
            vc = v;
        else if ((v = argval(&i, argc, argv, "--memory")))
            mem = v;
        else if ((v = argval(&i, argc, argv, "-p")) || (v = argval(&i, argc, argv, "--policy")))
            policy = v;
        else if (!strcmp(argv[i], "--libvirt"))
            libvirt_only = true;
        else
            return cli_error(EXIT_USAGE, "suggest", "unexpected argument '%s' (usage: suggest --vcpus N "
                             "--memory SIZE [-p POLICY] [--libvirt])", argv[i]);
    }
    if (!vc || !mem)
        return cli_error(EXIT_USAGE, "suggest", "--vcpus N and --memory SIZE are required");
    char *end;
    errno = 0;
    unsigned long nv = strtoul(vc, &end, 10);
    if (errno || *end || end == vc || vc[0] == '-' || nv == 0 || nv > CGP_POLICY_MAX_VCPUS)
        return cli_error(EXIT_USAGE, "suggest", "invalid --vcpus '%s': expected an integer from 1 to %u",
                         vc, CGP_POLICY_MAX_VCPUS);
    uint64_t kib = 0;
    bool needs_unit = false;
    int r = cgp_parse_size_kib(mem, &kib, &needs_unit);
    if (r < 0 || kib == 0)
        return cli_error(EXIT_USAGE, "suggest", "invalid --memory '%s': %s", mem,
                         needs_unit ? "a unit is needed (K, M, G or T)" :
                         r == -ERANGE ? "too large" : "expected a size such as 4G or 512M");
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    cgp_placement *pl = NULL;
    int rc;
    if (policy)
        rc = cmdpol_load(cli, "suggest", policy, &t, &ctx, &pl, NULL);
    else
        rc = cli_load_topology(cli, &ctx, &t);
    if (rc)
        return rc;
    if ((rc = cli_sandbox(cli, "suggest"))) {
        cgp_placement_free(pl);
        return rc;
    }
    struct cgp_suggestion s = { 0 };
    r = cgp_suggest(pl, t, (unsigned)nv, kib, &s);
    cgp_placement_free(pl);
    if (r == -ENOSPC)
        return cli_error(EXIT_RUNTIME, "suggest", "no placement for %lu vCPUs and %s on this host%s", nv,
                         mem, policy ? " after the policy's commitments" : "");
    if (r < 0)
        return cli_error(EXIT_RUNTIME, "suggest", "%s", strerror(-r));
    char *c = cgp_bitmap_format(s.cpus), *m = cgp_bitmap_format(s.mems), *cn = cgp_bitmap_format(s.cpu_nodes);
    char *xml = NULL;
    if (!c || !m || !cn ||
        asprintf(&xml, "<vcpu placement='static' cpuset='%s'>%lu</vcpu>\n<numatune>\n"
                       "  <memory mode='strict' nodeset='%s'/>\n</numatune>\n", c, nv, m) < 0)
        xml = NULL;
    if (!xml) {
        free(c), free(m), free(cn);
        cgp_suggestion_clear(&s);
        return cli_error(EXIT_RUNTIME, "suggest", "%s", strerror(ENOMEM));
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "vcpus", json_object_new_int64((int64_t)nv));
        json_object_object_add(o, "memory_kib", json_object_new_uint64(kib));
        json_object_object_add(o, "cpus", json_object_new_string(c));
        json_object_object_add(o, "mems", json_object_new_string(m));
        json_object_object_add(o, "cpu_nodes", json_object_new_string(cn));
        json_object_object_add(o, "libvirt", json_object_new_string(xml));
        rc = cli_print_json(o);
    } else {
        if (!libvirt_only)
            printf("cpuset:  %s\nnodeset: %s\n\n", c, m);
        fputs(xml, stdout);
        rc = EXIT_OK;
    }
    free(c), free(m), free(cn), free(xml);
    cgp_suggestion_clear(&s);
    return rc;
}
