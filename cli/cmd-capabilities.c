/* cgplace capabilities — libvirt's <capabilities><host> with the NUMA cells. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmd_capabilities(struct cli *cli, struct cli_env *env)
{
    char *xml CLI_AUTO_FREE = NULL;
    int r = cgp_get_capabilities(env->topo, &xml);
    if (r == -ELIBACC)
        return cli_error(EXIT_RUNTIME, "capabilities", "libxml2 (libxml2.so.2) cannot be loaded: install libxml2");
    if (r < 0)
        return cli_error(EXIT_RUNTIME, "capabilities", "%s", strerror(-r));
    /* after the first use of libxml2 (dlopen) */
    int rc = cli_sandbox(cli, "capabilities");
    if (rc)
        return rc;
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "xml", json_object_new_string(xml));
        return cli_print_json(o);
    }
    fputs(xml, stdout);
    return EXIT_OK;
}
