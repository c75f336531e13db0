/* The command line, parsed with getopt_long in two passes: the global options
 * up to the verb, then the verb's own options together with the global ones
 * (global options may come after the verb too), from the tables in
 * cli/commands.c. Also every usage and help text. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

const struct cli_opt cli_global_opts[] = {
    { "sysroot", 0, CLI_OPT_VALUE, offsetof(struct cli, sysroot), "DIR", "read sysfs and procfs under DIR (default /)" },
    { "cgroup-root", 0, CLI_OPT_VALUE, offsetof(struct cli, cgroup_root), "DIR",
      "the cgroup v2 hierarchy to manage (default: the cgroup2 mount)" },
    { "json", 0, CLI_OPT_FLAG, offsetof(struct cli, json), NULL, "print one JSON document on stdout" },
    { "no-sandbox", 0, CLI_OPT_FLAG, offsetof(struct cli, no_sandbox), NULL, "do not install the seccomp self-sandbox" },
    { "wait", 0, CLI_OPT_VALUE, offsetof(struct cli, wait), "SECONDS",
      "wait at most SECONDS for the apply lock another cgplace holds (default 30, 0: fail at once)" },
    { "no-strict-files", 0, CLI_OPT_FLAG, offsetof(struct cli, no_strict_files), NULL,
      "read policy files whatever their owner and mode (tests, fixtures)" },
    { "verbose", 'v', CLI_OPT_MORE, offsetof(struct cli, verbose), NULL, "more output" },
    { "quiet", 'q', CLI_OPT_LESS, offsetof(struct cli, verbose), NULL, "less output" },
    { "help", 'h', CLI_OPT_FLAG, offsetof(struct cli, help), NULL, "print the help and exit" },
    { "version", 'V', CLI_OPT_FLAG, offsetof(struct cli, version), NULL, "print the version and exit" },
    CLI_OPT_END,
};

enum { MAX_OPTS = 32, LONG_ONLY = 256 };

/* One getopt_long table built from a verb's options and the global ones.
 * A long-only option's val is LONG_ONLY + its index. */
struct optset {
    const struct cli_opt *o[MAX_OPTS];
    size_t n;
    struct option lo[MAX_OPTS + 1];
    char shorts[2 * MAX_OPTS + 3];
};

static void optset_add(struct optset *s, const struct cli_opt *t)
{
    size_t k = strlen(s->shorts);
    for (; t && t->name && s->n < MAX_OPTS; t++) {
        bool value = t->kind == CLI_OPT_VALUE;
        s->o[s->n] = t;
        s->lo[s->n] = (struct option){ t->name, value ? required_argument : no_argument, NULL,
                                       t->short_name ? t->short_name : LONG_ONLY + (int)s->n };
        if (t->short_name) {
            s->shorts[k++] = t->short_name;
            if (value)
                s->shorts[k++] = ':';
        }
        s->n++;
    }
    s->shorts[k] = '\0';
    s->lo[s->n] = (struct option){ 0 };
}

/* mode "+": stop at the verb; "-": operands in order, whatever
 * POSIXLY_CORRECT says. ":" so that a missing value is told apart. */
static void optset_build(struct optset *s, const char *mode, const struct cli_opt *verb)
{
    memset(s, 0, sizeof *s);
    snprintf(s->shorts, sizeof s->shorts, "%s:", mode);
    optset_add(s, verb);
    optset_add(s, cli_global_opts);
}

static const struct cli_opt *optset_find(const struct optset *s, int val)
{
    if (val >= LONG_ONLY)
        return (size_t)(val - LONG_ONLY) < s->n ? s->o[val - LONG_ONLY] : NULL;
    for (size_t i = 0; i < s->n; i++)
        if (val && s->o[i]->short_name == val)
            return s->o[i];
    return NULL;
}

/* "cgplace: VERB: MSG (usage: cgplace VERB ...)", or without a verb
 * "cgplace: MSG (see cgplace --help)"; exit 2. */
static int __attribute__((format(printf, 2, 3))) usage_error(const struct command *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c)
        return cli_error(EXIT_USAGE, "usage", "%s (see cgplace --help)", msg);
    return cli_error(EXIT_USAGE, c->name, "%s (usage: cgplace %s%s%s)", msg, c->name, *c->usage ? " " : "",
                     c->usage);
}

static int opt_error(const struct optset *s, int ch, char **argv, const struct command *c)
{
    const struct cli_opt *o = optopt ? optset_find(s, optopt) : NULL;
    if (ch == ':')
        return usage_error(c, "option '--%s' needs a value: %s", o ? o->name : "?", o && o->arg ? o->arg : "?");
    if (o)
        return usage_error(c, "option '--%s' takes no value", o->name);
    if (optopt)
        return usage_error(c, "unknown option '-%c'", optopt);
    return usage_error(c, "unknown or ambiguous option '%s'", argv[optind - 1]);
}

/* One pass of getopt_long over argv (argv[0] is skipped); operands go to
 * cli->args.operands when c is given. Returns -1, or an exit code. */
static int getopt_pass(const struct optset *s, int argc, char **argv, struct cli *cli, const struct command *c)
{
    opterr = 0;
    optind = 0;     /* glibc: start over, re-reading the mode */
    int ch;
    while ((ch = getopt_long(argc, argv, s->shorts, s->lo, NULL)) != -1) {
        if (ch == 1) {
            cli->args.operands[cli->args.n_operands++] = optarg;
            continue;
        }
        const struct cli_opt *o = ch == '?' || ch == ':' ? NULL : optset_find(s, ch);
        if (!o)
            return opt_error(s, ch, argv, c);
        char *field = (char *)cli + o->off;
        switch (o->kind) {
        case CLI_OPT_FLAG:
            *(bool *)field = true;
            break;
        case CLI_OPT_VALUE:
            if (*(const char **)field)
                return usage_error(c, "option '--%s' given twice", o->name);
            *(const char **)field = optarg;
            break;
        case CLI_OPT_MORE:
            ++*(int *)field;
            break;
        case CLI_OPT_LESS:
            *(int *)field = -1;
            break;
        }
    }
    if (c && optind > 1 && optind <= argc && !strcmp(argv[optind - 1], "--"))
        cli->args.dashdash = cli->args.n_operands + 1;
    if (c)  /* after "--" */
        while (optind < argc)
            cli->args.operands[cli->args.n_operands++] = argv[optind++];
    return -1;
}

static void print_opts(FILE *f, const struct cli_opt *t)
{
    for (; t->name; t++) {
        char left[64];
        snprintf(left, sizeof left, "%c%c%c --%s%s%s", t->short_name ? '-' : ' ', t->short_name ? t->short_name : ' ',
                 t->short_name ? ',' : ' ', t->name, t->arg ? " " : "", t->arg ? t->arg : "");
        fprintf(f, "  %-24s %s\n", left, t->help);
    }
}

static void global_usage(FILE *f)
{
    fprintf(f, "usage: cgplace [--sysroot DIR] [--cgroup-root DIR] [--json] [--no-sandbox] [--wait SECONDS] [-v|-q] COMMAND [ARGS]\n\ncommands:\n");
    for (const struct command *c = cli_commands; c->name; c++) {
        if (!c->run)
            continue;
        char line[128];
        snprintf(line, sizeof line, "%s%s%s", c->name, *c->usage ? " " : "", c->usage);
        if (strlen(line) > 28)     /* a long usage gets a line of its own */
            fprintf(f, "  %s\n  %-28s %s\n", line, "", c->summary);
        else
            fprintf(f, "  %-28s %s\n", line, c->summary);
    }
    fprintf(f, "\n'cgplace COMMAND --help' lists a command's options. See cgplace(1).\n");
}

static void verb_usage(FILE *f, const struct command *c)
{
    fprintf(f, "usage: cgplace [GLOBAL OPTIONS] %s%s%s\n%c%s.\n", c->name, *c->usage ? " " : "", c->usage,
            toupper((unsigned char)c->summary[0]), c->summary + 1);
    if (c->needs.policy_default)
        fprintf(f, "POLICY defaults to %s.\n", c->needs.policy_default);
    if (c->opts->name) {
        fprintf(f, "\noptions:\n");
        print_opts(f, c->opts);
    }
    fprintf(f, "\nglobal options (before or after the command):\n");
    print_opts(f, cli_global_opts);
}

/* The operands: a CLI_POLICY_ARG verb's one operand is its POLICY. */
static int check_operands(struct cli *cli, const struct command *c)
{
    struct cli_args *a = &cli->args;
    if (a->n_operands > c->max_operands)
        return usage_error(c, "unexpected argument '%s'", a->operands[c->max_operands]);
    if (c->needs.policy == CLI_POLICY_ARG && a->n_operands == 1) {
        if (a->policy)
            return usage_error(c, "give the policy once: '%s' or -p '%s'", a->operands[0], a->policy);
        a->policy = a->operands[0];
        a->n_operands = 0;
    }
    return -1;
}

static int version(void)
{
    printf("cgplace %s\n", cgp_version());
    return EXIT_OK;
}

int cli_parse(int argc, char **argv, struct cli *cli, const struct command **cmd)
{
    struct optset s;
    optset_build(&s, "+", NULL);
    int rc = getopt_pass(&s, argc, argv, cli, NULL);
    if (rc >= 0)
        return rc;
    int verb = optind;
    if (cli->version)
        return version();
    if (verb >= argc) {
        global_usage(cli->help ? stdout : stderr);
        return cli->help ? EXIT_OK : EXIT_USAGE;
    }
    const struct command *c = cli_commands;
    while (c->name && !(c->run && !strcmp(c->name, argv[verb])))
        c++;
    if (!c->name)
        return cli_error(EXIT_USAGE, argv[verb], "unknown command (see cgplace --help)");
    cli->cmd = c->name;
    *cmd = c;
    if (!(cli->args.operands = calloc((size_t)argc, sizeof *cli->args.operands)))
        return cli_error(EXIT_RUNTIME, "startup", "%s", strerror(ENOMEM));
    optset_build(&s, "-", c->opts);
    if ((rc = getopt_pass(&s, argc - verb, argv + verb, cli, c)) >= 0)
        return rc;
    if (cli->version)
        return version();
    if (cli->help) {
        verb_usage(stdout, c);
        return EXIT_OK;
    }
    cli->wait_s = CGP_LOCK_WAIT_DEFAULT;
    long v;
    if (cli->wait) {
        if (!cli_seconds(cli->wait, 0, 86400, &v))
            return usage_error(c, "--wait '%s': a number of seconds, 0 to 86400", cli->wait);
        cli->wait_s = (int)v;
    }
    return check_operands(cli, c);
}

bool cli_seconds(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
