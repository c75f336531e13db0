/* cgplace: entry point (parse, prepare, prologue, run) and the JSON output
 * helpers. The verbs are in cli/commands.c. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    struct cli cli = { 0 };
    const struct command *c = NULL;
    int rc = cli_parse(argc, argv, &cli, &c);
    if (rc < 0) {
        struct cli_env env = { .needs = c->needs };
        cli.env = &env;
        env.policy_path = cli.args.policy ? cli.args.policy : env.needs.policy_default;
        rc = c->prepare ? c->prepare(&cli, &env) : EXIT_OK;
        if (rc == EXIT_OK)
            rc = cli_prologue(&cli, &env);
        if (rc == EXIT_OK)
            rc = c->run(&cli, &env);
        cli_env_free(&env);
    }
    free(cli.args.operands);
    if (fflush(stdout) != 0 && rc == EXIT_OK)
        rc = cli_error(EXIT_RUNTIME, "stdout", "%s", strerror(errno));
    return rc;
}
