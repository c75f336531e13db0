/* cgplace emit --format libvirt|qemu|xl GUEST [-p POLICY] — the guest's
 * compiled placement (what check --json prints) in another tool's words. */
#include "cli.h"
#include "cgplace_interop.h"

#include <errno.h>
#include <string.h>

static const char *const formats[] = { [CGP_EMIT_LIBVIRT] = "libvirt", [CGP_EMIT_QEMU] = "qemu",
                                       [CGP_EMIT_XL] = "xl" };

static int format_of(const char *s)
{
    for (int i = 0; s && i < (int)(sizeof formats / sizeof *formats); i++)
        if (!strcmp(s, formats[i]))
            return i;
    return -1;
}

int prep_emit(struct cli *cli, struct cli_env *env)
{
    (void)env;
    const struct cli_args *a = &cli->args;
    if (!a->emit_format)
        return cli_error(EXIT_USAGE, "emit", "--format libvirt, qemu or xl is required");
    if (format_of(a->emit_format) < 0) {
        char *f CLI_AUTO_FREE = cli_escape(a->emit_format);
        return cli_error(EXIT_USAGE, "emit", "unknown --format '%s': expected libvirt, qemu or xl", f ? f : "?");
    }
    if (a->n_operands != 1)
        return cli_error(EXIT_USAGE, "emit", "give the GUEST (a guest block of the policy)");
    return EXIT_OK;
}

int cmd_emit(struct cli *cli, struct cli_env *env)
{
    enum cgp_emit_format fmt = (enum cgp_emit_format)format_of(cli->args.emit_format);
    const char *guest = cli->args.operands[0];
    if (fmt == CGP_EMIT_LIBVIRT && cgp_libxml_load() < 0)
        return cli_error(EXIT_RUNTIME, "emit", "libxml2 (libxml2.so.2) cannot be loaded: install libxml2");
    int rc = cli_sandbox(cli, "emit");
    if (rc)
        return rc;
    char *out CLI_AUTO_FREE = NULL;
    int r = cgp_emit(env->pl, env->topo, guest, fmt, &out);
    if (r < 0) {
        char *g CLI_AUTO_FREE = cli_escape(guest);
        if (r == -ENOENT)
            return cli_error(EXIT_USAGE, "emit", "no guest '%s' in %s", g ? g : "?", env->policy_path);
        if (r == -ENODATA)
            return cli_error(EXIT_USAGE, "emit", "guest '%s' has no memory statement: no memory for QEMU to bind",
                             g ? g : "?");
        return cli_error(EXIT_RUNTIME, "emit", "%s", strerror(-r));
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        cli_jadd(o, "guest", json_object_new_string(guest));
        cli_jadd(o, "format", json_object_new_string(formats[fmt]));
        cli_jadd(o, "text", json_object_new_string(out));
        cli_jadd(o, "warnings", cli_warnings_json(env));
        return cli_print_json(o);
    }
    fputs(out, stdout);
    return EXIT_OK;
}
