/* cgplace import-libvirt DOMAIN.xml... — libvirt domains' <vcpu>,
 * <cputune>, <numatune> and cells as policy blocks, one per domain, each
 * matching its domain by uuid. Every file is read first (at most
 * CGP_LIBVIRT_MAX_XML bytes each), the sandbox goes on, then the XML is
 * parsed: a hostile document meets libxml2 inside the filter. Every bad
 * file is reported (FILE:LINE: error: ...), and then nothing is printed on
 * stdout. */
#include "cli.h"
#include "cgplace_interop.h"

#include <errno.h>
#include <string.h>

int prep_import_libvirt(struct cli *cli, struct cli_env *env)
{
    (void)env;
    const struct cli_args *a = &cli->args;
    if (a->n_operands < 1)
        return cli_error(EXIT_USAGE, "import-libvirt", "give one or more libvirt domain XML files (- for stdin)");
    for (int i = 0, dash = 0; i < a->n_operands; i++)
        if (!strcmp(a->operands[i], "-") && dash++)
            return cli_error(EXIT_USAGE, "import-libvirt", "standard input (-) can be read once");
    return EXIT_OK;
}

struct doc {
    char *buf;
    size_t len;
    struct cgp_libvirt_import im;
};

static void docs_free(struct doc *d, int n)
{
    for (int i = 0; d && i < n; i++) {
        free(d[i].buf);
        cgp_libvirt_import_clear(&d[i].im);
    }
    free(d);
}

static int read_all(const struct cli_args *a, struct doc *d)
{
    int rc = EXIT_OK;
    for (int i = 0; i < a->n_operands; i++) {
        /* "-": standard input (virsh dumpxml NAME | cgplace import-libvirt -) */
        int r = strcmp(a->operands[i], "-") ? cgp_libvirt_read_file(a->operands[i], &d[i].buf, &d[i].len)
                                            : cgp_libvirt_read_fd(0, &d[i].buf, &d[i].len);
        if (r == 0)
            continue;
        char *f CLI_AUTO_FREE = cli_escape(a->operands[i]);
        if (r == -EFBIG)
            fprintf(stderr, "%s: error: larger than %u KiB: not a libvirt domain (refused unread)\n", f ? f : "?",
                    CGP_LIBVIRT_MAX_XML / 1024);
        else
            fprintf(stderr, "%s: error: %s\n", f ? f : "?",
                    r == -ELOOP ? "is a symbolic link (not followed)" :
                    r == -ENXIO ? "not a regular file" : strerror(-r));
        rc = r == -ENOMEM ? EXIT_RUNTIME : rc ? rc : EXIT_USAGE;
    }
    return rc;
}

static int parse_all(const struct cli_args *a, struct doc *d)
{
    int rc = EXIT_OK;
    for (int i = 0; i < a->n_operands; i++) {
        if (!d[i].buf)
            continue;   /* not read: read_all said why */
        struct cgp_xml_error e;
        int r = cgp_libvirt_import(d[i].buf, d[i].len, &d[i].im, &e);
        if (r == 0) {
            /* two files of one domain would give two blocks matching one guest */
            for (int j = 0; j < i; j++) {
                if (!d[j].im.uuid || strcmp(d[j].im.uuid, d[i].im.uuid))
                    continue;
                char *f CLI_AUTO_FREE = cli_escape(a->operands[i]);
                char *g CLI_AUTO_FREE = cli_escape(a->operands[j]);
                fprintf(stderr, "%s: error: domain uuid %s is also %s's: one block per domain\n", f ? f : "?",
                        d[i].im.uuid, g ? g : "?");
                rc = EXIT_USAGE;
                break;
            }
            continue;
        }
        if (r == -ELIBACC)
            return cli_error(EXIT_RUNTIME, "import-libvirt", "libxml2 (libxml2.so.2) cannot be loaded: install libxml2");
        if (r != -EINVAL)
            return cli_error(EXIT_RUNTIME, "import-libvirt", "%s", strerror(-r));
        char *f CLI_AUTO_FREE = cli_escape(a->operands[i]);
        if (e.line)
            fprintf(stderr, "%s:%u: error: %s\n", f ? f : "?", e.line, e.msg);
        else
            fprintf(stderr, "%s: error: %s\n", f ? f : "?", e.msg);
        rc = EXIT_USAGE;
    }
    return rc;
}

/* Blocks need distinct names: a later domain of the same <name> gets -2, -3... */
static int unique_names(struct doc *d, int n)
{
    for (int i = 0; i < n; i++) {
        for (unsigned k = 2;; k++) {
            bool taken = false;
            for (int j = 0; j < i && !taken; j++)
                taken = !strcmp(d[j].im.name, d[i].im.name);
            if (!taken)
                break;
            char *nn = NULL;
            if (asprintf(&nn, "%.56s-%u", d[i].im.name, k) < 0)
                return -ENOMEM;
            /* the block's first line names it: "guest NAME {" */
            const char *rest = strchr(d[i].im.block, '{');
            char *nb = NULL;
            if (!rest || asprintf(&nb, "guest %s %s", nn, rest) < 0) {
                free(nn);
                return -ENOMEM;
            }
            free(d[i].im.name);
            free(d[i].im.block);
            d[i].im.name = nn;
            d[i].im.block = nb;
        }
    }
    return 0;
}

int cmd_import_libvirt(struct cli *cli, struct cli_env *env)
{
    (void)env;
    const struct cli_args *a = &cli->args;
    if (cgp_libxml_load() < 0)
        return cli_error(EXIT_RUNTIME, "import-libvirt", "libxml2 (libxml2.so.2) cannot be loaded: install libxml2");
    struct doc *d = calloc((size_t)a->n_operands, sizeof *d);
    if (!d)
        return cli_error(EXIT_RUNTIME, "import-libvirt", "%s", strerror(ENOMEM));
    /* every file read is parsed, even when another could not be read */
    int rc = read_all(a, d);
    int rs = cli_sandbox(cli, "import-libvirt");
    if (rs) {
        docs_free(d, a->n_operands);
        return rs;
    }
    int rp = parse_all(a, d);
    rc = rc == EXIT_RUNTIME || rp == EXIT_RUNTIME ? EXIT_RUNTIME : rc ? rc : rp;
    if (!rc && unique_names(d, a->n_operands) < 0)
        rc = cli_error(EXIT_RUNTIME, "import-libvirt", "%s", strerror(ENOMEM));
    if (rc) {
        docs_free(d, a->n_operands);
        return rc;
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object(), *gs = json_object_new_array();
        for (int i = 0; i < a->n_operands; i++) {
            struct json_object *g = json_object_new_object();
            cli_jadd(g, "file", json_object_new_string(a->operands[i]));
            cli_jadd(g, "name", json_object_new_string(d[i].im.name));
            cli_jadd(g, "uuid", json_object_new_string(d[i].im.uuid));
            cli_jadd(g, "policy", json_object_new_string(d[i].im.block));
            json_object_array_add(gs, g);
        }
        cli_jadd(o, "guests", gs);
        docs_free(d, a->n_operands);
        return cli_print_json(o);
    }
    for (int i = 0; i < a->n_operands; i++) {
        char *f CLI_AUTO_FREE = cli_escape(a->operands[i]);
        printf("%s# libvirt domain from %s\n%s", i ? "\n" : "", f ? f : "?", d[i].im.block);
    }
    docs_free(d, a->n_operands);
    return EXIT_OK;
}
