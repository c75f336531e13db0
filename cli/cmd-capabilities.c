/* cgplace capabilities — libvirt's <capabilities><host> with the NUMA cells. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmd_capabilities(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_error(EXIT_USAGE, "capabilities", "takes no arguments");
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    int rc = cli_load_topology(cli, &ctx, &t);
    if (rc)
        return rc;
    char *xml = NULL;
    int r = cgp_get_capabilities(t, &xml);
    if (r == -ELIBACC)
        return cli_error(EXIT_RUNTIME, "capabilities", "libxml2 (libxml2.so.2) cannot be loaded: install libxml2");
    if (r < 0)
        return cli_error(EXIT_RUNTIME, "capabilities", "%s", strerror(-r));
    /* after the first use of libxml2 (dlopen) */
    if ((rc = cli_sandbox(cli, "capabilities"))) {
        free(xml);
        return rc;
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "xml", json_object_new_string(xml));
        free(xml);
        return cli_print_json(o);
    }
    fputs(xml, stdout);
    free(xml);
    return EXIT_OK;
}
