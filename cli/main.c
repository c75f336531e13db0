/* cgplace: entry point, global options and the command dispatch table. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct command cli_commands[] = {
    { "nodeinfo", cmd_nodeinfo, "nodeinfo", "host summary (like virsh nodeinfo)" },
    { "capabilities", cmd_capabilities, "capabilities", "host topology as libvirt capabilities XML" },
    { "freecell", cmd_freecell, "freecell [CELL] [--all]", "free memory of one cell or of every cell" },
    { "topology", cmd_topology, "topology", "every NUMA node: kind, CPUs, memory, distances, HMAT, tiers" },
    { "suggest", cmd_suggest, "suggest --vcpus N --memory SIZE [-p POLICY]", "best-fit cpuset and nodeset for a new guest" },
    { "check", cmd_check, "check POLICY", "parse and validate a policy against this host" },
    { "plan", cmd_plan, "plan POLICY", "the cgroup writes apply would make" },
    { "guests", cmd_guests, "guests [-p POLICY]", "running QEMU guests and the policy guest each matches" },
    { "apply", cmd_apply, "apply POLICY", "enforce the policy on the running guests" },
    { "verify", cmd_verify, "verify POLICY", "drift audit of every guest thread (exit 3 on drift)" },
    { NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: cgplace [--sysroot DIR] [--cgroup-root DIR] [--json] [--no-sandbox] [-v|-q] COMMAND [ARGS]\n\ncommands:\n");
    for (const struct command *c = cli_commands; c->name; c++)
        if (c->run)
            fprintf(f, "  %-28s %s\n", c->usage, c->summary);
    fprintf(f, "\nSee cgplace(1).\n");
}

int cli_load_topology(struct cli *cli, cgp_ctx **ctx, cgp_topology **topo)
{
    cgp_ctx *c = NULL;
    int r = cgp_ctx_new(cli->sysroot, cli->cgroup_root, &c);
    if (r < 0)
        return cli_error(r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, "--sysroot",
                         "%s: %s", cli->sysroot ? cli->sysroot : "/", strerror(-r));
    cgp_topology *t = NULL;
    r = cgp_topology_read(c, &t);
    if (r < 0) {
        const char *detail = cgp_ctx_last_error(c);
        int code = cli_error(EXIT_RUNTIME, "reading host topology", "%s",
                             *detail ? detail : strerror(-r));
        cgp_ctx_free(c);
        return code;
    }
    *ctx = c;
    *topo = t;
    return 0;
}

/* The document printed last: the process exits right after printing, so it
 * is not freed object by object (a fifth of `topology --json` on a 1024-CPU
 * host); kept reachable so that leak checkers stay quiet. */
static struct json_object *printed;

int cli_print_json(struct json_object *o)
{
    if (!o)
        return cli_error(EXIT_RUNTIME, "json", "%s", strerror(ENOMEM));
    size_t len = 0;
    char *s = cli_json_format(o, &len);
    int rc = (s && fwrite(s, 1, len, stdout) == len && putchar('\n') != EOF) ? EXIT_OK : EXIT_RUNTIME;
    free(s);
    json_object_put(printed);
    printed = o;
    return rc;
}

int cli_print_jw(struct cli_jw *w)
{
    size_t len = 0;
    char *s = cli_jw_finish(w, &len);
    if (!s)
        return cli_error(EXIT_RUNTIME, "json", "%s", strerror(ENOMEM));
    int rc = fwrite(s, 1, len, stdout) == len && putchar('\n') != EOF ? EXIT_OK : EXIT_RUNTIME;
    free(s);
    return rc;
}

struct json_object *cli_json_set(const cgp_bitmap *b)
{
    if (!b)
        return NULL;
    char *s = cgp_bitmap_format(b);
    if (!s)
        return NULL;
    struct json_object *o = json_object_new_string(s);
    free(s);
    return o;
}

struct json_object *cli_json_u64(uint64_t v)
{
    return v == CGP_UNKNOWN_U64 ? NULL : json_object_new_uint64(v);
}

struct json_object *cli_json_int_or_null(long long v, bool known)
{
    return known ? json_object_new_int64(v) : NULL;
}

static const char *optarg_of(int *i, int argc, char **argv, const char *name)
{
    size_t nl = strlen(name);
    if (!strncmp(argv[*i], name, nl) && argv[*i][nl] == '=')
        return argv[*i] + nl + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

int main(int argc, char **argv)
{
    struct cli cli = { 0 };
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return cli_error(EXIT_RUNTIME, "startup", "%s", strerror(ENOMEM));
    int nrest = 0;
    bool dashdash = false, help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || !a[1]) {
            rest[nrest++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = true;
            rest[nrest++] = argv[i];
        } else if (!strncmp(a, "--sysroot", 9) && (a[9] == '\0' || a[9] == '=')) {
            if (!(cli.sysroot = optarg_of(&i, argc, argv, "--sysroot")))
                return cli_error(EXIT_USAGE, "--sysroot", "needs a directory");
        } else if (!strncmp(a, "--cgroup-root", 13) && (a[13] == '\0' || a[13] == '=')) {
            if (!(cli.cgroup_root = optarg_of(&i, argc, argv, "--cgroup-root")))
                return cli_error(EXIT_USAGE, "--cgroup-root", "needs a directory");
        } else if (!strcmp(a, "--json")) {
            cli.json = true;
        } else if (!strcmp(a, "--no-sandbox")) {
            cli.no_sandbox = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            cli.verbose++;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            cli.verbose = -1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help = true;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("cgplace %s\n", cgp_version());
            free(rest);
            return EXIT_OK;
        } else {
            rest[nrest++] = argv[i]; /* a command's own option */
        }
    }
    if (help || nrest == 0) {
        usage(help ? stdout : stderr);
        free(rest);
        return help ? EXIT_OK : EXIT_USAGE;
    }
    cli.cmd = rest[0];
    for (const struct command *c = cli_commands; c->name; c++) {
        if (c->run && !strcmp(c->name, cli.cmd)) {
            int rc = c->run(&cli, nrest, rest);
            free(rest);
            if (fflush(stdout) != 0 && rc == EXIT_OK)
                rc = cli_error(EXIT_RUNTIME, "stdout", "%s", strerror(errno));
            return rc;
        }
    }
    int rc = cli_error(EXIT_USAGE, rest[0], "unknown command (see cgplace --help)");
    free(rest);
    return rc;
}
