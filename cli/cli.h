/* Shared declarations of the cgplace command. Only cli/ prints. */
#ifndef CGP_CLI_H
#define CGP_CLI_H

#include "cgplace.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DRIFT = 3 };

struct cli {
    const char *sysroot;
    const char *cgroup_root;
    bool json;
    bool no_sandbox;
    int verbose;        /* -v count; -q sets -1 */
    const char *cmd;
};

struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *usage;
    const char *summary;
};

extern const struct command cli_commands[];

/* "cgplace: what: why" on stderr; returns code. */
int cli_error(int code, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Open the context and read the topology; prints the error and returns the
 * exit code (non-zero) on failure. */
int cli_load_topology(struct cli *cli, cgp_ctx **ctx, cgp_topology **topo);
/* Install the seccomp allow-list (cli/sandbox.c, spec §7) once the
 * command's inputs are read: no exec, no sockets; other calls fail with
 * EPERM. Nothing with --no-sandbox or under ASan. Returns an exit code. */
int cli_sandbox(struct cli *cli, const char *what);
/* The flags of every JSON document cgplace prints. */
#define CLI_JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
/* o in exactly json_object_to_json_string_ext(o, CLI_JSON_FLAGS)'s format:
 * malloc'd, *len its length; NULL when out of memory (cli/json-out.c). */
char *cli_json_format(struct json_object *o, size_t *len);
/* A streaming writer of the same format (cli/json-out.c), for documents
 * written straight from the model: open containers with cli_jw_obj/arr and
 * close them with cli_jw_end; in an object, cli_jw_key before each value.
 * cli_jw_str(NULL) writes null. cli_jw_finish returns the document
 * (malloc'd, *len its length) and frees w; NULL when out of memory or when
 * the calls did not nest. Every function accepts what cli_jw_new returned. */
struct cli_jw;
struct cli_jw *cli_jw_new(void);
void cli_jw_obj(struct cli_jw *w);
void cli_jw_arr(struct cli_jw *w);
void cli_jw_end(struct cli_jw *w);
void cli_jw_key(struct cli_jw *w, const char *k);
void cli_jw_null(struct cli_jw *w);
void cli_jw_bool(struct cli_jw *w, bool v);
void cli_jw_int(struct cli_jw *w, long long v);
void cli_jw_u64(struct cli_jw *w, uint64_t v);
void cli_jw_str(struct cli_jw *w, const char *s);
char *cli_jw_finish(struct cli_jw *w, size_t *len);
/* Print a finished document on stdout (cli_jw_finish) and free it; an exit code. */
int cli_print_jw(struct cli_jw *w);
/* Decimal digits of v at p (at most 20, no NUL); their count. */
size_t cli_fmt_u64(char *p, uint64_t v);
/* Print a JSON document on stdout; takes ownership. Returns an exit code. */
int cli_print_json(struct json_object *o);
/* json string of a bitmap (canonical list) or json null for NULL. */
struct json_object *cli_json_set(const cgp_bitmap *b);
/* u64 or null when unknown. */
struct json_object *cli_json_u64(uint64_t v);
struct json_object *cli_json_int_or_null(long long v, bool known);
/* Add a member under a string-literal key that is new in o (no key copy, no
 * lookup: big documents build much faster). */
static inline void cli_jadd(struct json_object *o, const char *literal_key, struct json_object *v)
{
    json_object_object_add_ex(o, literal_key, v,
                              JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

int cmd_nodeinfo(struct cli *cli, int argc, char **argv);
int cmd_capabilities(struct cli *cli, int argc, char **argv);
int cmd_freecell(struct cli *cli, int argc, char **argv);
int cmd_topology(struct cli *cli, int argc, char **argv);
/* Policy commands (cli/cmd-check.c, cmd-plan.c, cmd-suggest.c): weak so that
 * the dispatch table lists only the commands that are built. */
int cmd_check(struct cli *cli, int argc, char **argv) __attribute__((weak));
int cmd_plan(struct cli *cli, int argc, char **argv) __attribute__((weak));
int cmd_suggest(struct cli *cli, int argc, char **argv) __attribute__((weak));
int cmd_guests(struct cli *cli, int argc, char **argv) __attribute__((weak));
int cmd_apply(struct cli *cli, int argc, char **argv) __attribute__((weak));
int cmd_verify(struct cli *cli, int argc, char **argv) __attribute__((weak));

/* Parse and compile POLICY against the host (cmd-check.c); shared by the
 * policy commands. Prints diagnostics; returns an exit code. */
int cmdpol_load(struct cli *cli, const char *what, const char *path, cgp_topology **topo,
                cgp_ctx **ctx, cgp_placement **out, struct json_object **warnings);
/* The same, also handing over the guests it discovered (with discover_flags)
 * to tell which blocks run: *guests, NULL when discovery failed. One /proc
 * scan per run instead of two. */
int cmdpol_load_ex(struct cli *cli, const char *what, const char *path, cgp_topology **topo,
                   cgp_ctx **ctx, cgp_placement **out, struct json_object **warnings,
                   unsigned discover_flags, cgp_guest_list **guests);

/* Everything apply/plan/verify need: policy compiled, guests discovered
 * (cmd-apply.c). */
struct cmdenf {
    cgp_ctx *ctx;
    cgp_topology *topo;
    cgp_placement *pl;
    cgp_guest_list *list;
    const struct cgp_guest **g;
    size_t n;
    struct json_object *warnings;
};
void cmdenf_free(struct cmdenf *c);
/* "WHAT [-p|--policy] POLICY" (default /etc/cgplace/policy.conf); an exit code. */
int cmdenf_args(const char *what, int argc, char **argv, const char **path);
int cmdenf_load(struct cli *cli, const char *what, const char *path, struct cmdenf *c);
struct json_object *cmdenf_ops_json(const cgp_enforce *e);
struct json_object *cmdenf_msgs_json(const cgp_enforce *e);
void cmdenf_print_msgs(struct cli *cli, const cgp_enforce *e);
int cmdenf_root_error(cgp_ctx *ctx, const char *what, int r);

static inline void cli_ctx_freep(cgp_ctx **c) { cgp_ctx_free(*c); }
static inline void cli_topo_freep(cgp_topology **t) { cgp_topology_free(*t); }
static inline void cli_json_putp(struct json_object **o) { json_object_put(*o); }
static inline void cli_guests_freep(cgp_guest_list **l) { cgp_guests_free(*l); }
#define CLI_AUTO_GUESTS __attribute__((cleanup(cli_guests_freep)))
#define CLI_AUTO_CTX __attribute__((cleanup(cli_ctx_freep)))
#define CLI_AUTO_TOPO __attribute__((cleanup(cli_topo_freep)))

#endif
