/* Shared declarations of the cgplace command. Only cli/ prints. */
#ifndef CGP_CLI_H
#define CGP_CLI_H

#include "cgplace.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DRIFT = 3 };

/* A verb's options and operands, as cli/args.c parsed them (each option
 * table entry names its field), and what the verb's prepare hook made of
 * them. */
struct cli_args {
    const char *policy;         /* -p/--policy, or the POLICY operand */
    const char *cellno;         /* freecell --cellno */
    const char *vcpus, *memory; /* suggest */
    const char *memory_nodes;   /* suggest --memory-nodes */
    bool all, libvirt, no_qmp;
    const char *nodeset, *mode; /* numatune */
    bool persist;               /* vcpupin, emulatorpin, iothreadpin, numatune */
    bool virsh;                 /* nodeinfo --virsh: libvirt's meaning of the numbers */
    const char *format;         /* verify --format text|json|prometheus */
    const char *output;         /* verify --output FILE, watch --metrics FILE */
    char **operands;
    int n_operands;
    int dashdash;               /* 1 + the operands before "--"; 0: no "--" */
    const char *interval;       /* watch --interval SECONDS */
    bool polling;               /* watch --polling: the /proc polling fallback, not the proc connector */
    long cell;                  /* freecell: the cell, -1 for none */
    unsigned long n_vcpus;      /* suggest */
    uint64_t memory_kib;
    const char *emit_format;    /* emit --format libvirt|qemu|xl */
};

struct cli {
    const char *sysroot;
    const char *cgroup_root;
    bool json;
    bool no_sandbox;
    bool sandbox_unix;          /* the filter lets AF_UNIX sockets through (systemd's bus, libvirt) */
    bool sandbox_persist;       /* ... and rename + fsync (--persist puts its policy file in place) */
    int sandbox_child;          /* exec: ... and waiting for this child, and signalling it */
    struct cli_env *env;        /* what the prologue read: cli_privilege's paths and verb */
    bool sandbox_watch;         /* watch: ... and its event loop (netlink/inotify fds opened before) */
    bool help, version;
    int verbose;        /* -v count; -q sets -1 */
    const char *wait;           /* --wait SECONDS for the apply lock, as given */
    int wait_s;                 /* ... parsed (cli_parse): CGP_LOCK_WAIT_DEFAULT when not given */
    bool no_strict_files;       /* --no-strict-files: any owner and mode for policy files */
    const char *cmd;
    struct cli_args args;
};

/* One option: getopt_long's entry is built from it (cli/args.c). */
enum cli_opt_kind {
    CLI_OPT_FLAG,   /* bool at off */
    CLI_OPT_VALUE,  /* const char * at off; given twice is an error */
    CLI_OPT_MORE,   /* int at off, +1 (-v) */
    CLI_OPT_LESS,   /* int at off, set to -1 (-q) */
};
struct cli_opt {
    const char *name;   /* long name */
    char short_name;    /* 0: long only */
    enum cli_opt_kind kind;
    size_t off;         /* offset in struct cli */
    const char *arg;    /* CLI_OPT_VALUE: what the value is, for usage */
    const char *help;
};
#define CLI_OPT_END { NULL, 0, CLI_OPT_FLAG, 0, NULL, NULL }

struct cli_env;
/* What a verb needs read before it runs; cli_prologue does it all. */
enum cli_policy_use {
    CLI_POLICY_NONE,
    CLI_POLICY_OPTION,  /* only with -p POLICY */
    CLI_POLICY_ARG,     /* POLICY operand or -p, else policy_default */
};
enum cli_guests_use {
    CLI_GUESTS_NONE,
    CLI_GUESTS_MARK,    /* with a policy: tell the compiler which blocks run; a failed scan is no guest */
    CLI_GUESTS_KEEP,    /* the verb uses them: a failed scan is an error */
};
enum cli_sandbox_at {
    CLI_SANDBOX_PROLOGUE,   /* at the end of cli_prologue */
    CLI_SANDBOX_VERB,       /* the verb calls cli_sandbox itself */
};
struct cli_needs {
    enum cli_policy_use policy;
    const char *policy_default;
    bool topology;              /* read even without a policy (a policy always reads it) */
    enum cli_guests_use guests;
    unsigned discover;          /* CGP_DISCOVER_* of a KEEP scan */
    bool json_warnings;         /* --json: policy warnings go in the document, not on stderr */
    enum cli_sandbox_at sandbox;
    bool libvirt;               /* connect to libvirt before the sandbox when its guests are in the policy */
    /* After the guests are read, before libvirt and the sandbox: a verb that
     * makes its own placement (runtime tuning) puts it in env->pl, and its
     * guest alone in env->g. Returns an exit code. */
    int (*derive)(struct cli *cli, struct cli_env *env);
};

/* What cli_prologue read for a verb; cli_env_free releases it. */
struct cli_env {
    struct cli_needs needs;     /* the verb's, as its prepare hook left them */
    const char *policy_path;    /* NULL: no policy */
    cgp_ctx *ctx;
    cgp_topology *topo;
    cgp_placement *pl;
    struct json_object *warnings;   /* needs.json_warnings and --json: an array */
    cgp_guest_list *guests;     /* CLI_GUESTS_KEEP */
    const struct cgp_guest **g; /* the same as an array for the engine */
    size_t n;
    bool empty_tree;            /* plan: no cgroup v2 hierarchy, plan against an empty one */
    int root_err;               /* plan: the cgroup root lookup's error, 0 when found */
    const struct cgp_guest *guest;  /* runtime verbs: the GUEST operand */
    cgp_bitmap *set;                /* ... the CPULIST / --nodeset of a change */
    unsigned long vcpu;             /* ... vcpupin's VCPU */
    cgp_persist *persist;           /* ... --persist: the policy rewritten, to commit after the change */
    struct cli_textfile *textfile;  /* verify --output: the temporary file, renamed once written */
};

struct command {
    const char *name;
    int (*run)(struct cli *cli, struct cli_env *env);
    /* Checks the options and operands before anything is read; may adjust
     * env->needs. NULL: nothing to check. Returns an exit code. */
    int (*prepare)(struct cli *cli, struct cli_env *env);
    const char *usage;          /* after "cgplace NAME " */
    const char *summary;
    const struct cli_opt *opts; /* ends with CLI_OPT_END */
    int max_operands;           /* a CLI_POLICY_ARG verb's POLICY counts */
    struct cli_needs needs;
};

extern const struct command cli_commands[];

/* An output file replaced atomically (cli/prometheus.c): a temporary file in
 * PATH's directory, opened before the sandbox; commit fsyncs it and renames
 * it over PATH; close removes it unless committed. 0 or -errno. */
struct cli_textfile;
int cli_textfile_open(const char *path, struct cli_textfile **out);
int cli_textfile_fd(const struct cli_textfile *tf);
/* Whether its directory is the effective user's and writable by it, so the
 * rename needs no CAP_DAC_OVERRIDE. */
bool cli_textfile_dir_writable(const struct cli_textfile *tf);
int cli_textfile_commit(struct cli_textfile *tf);
void cli_textfile_close(struct cli_textfile *tf);
/* A verified thread's role: vcpuN, emulator, or iothread<sep>ID (verify's
 * text and JSON say "iothread ID", its metrics "iothread-ID"). */
void cli_thread_role(const struct cgp_verify_thread *t, char sep, char *buf, size_t n);
/* verify's audit v as metrics into PATH, replaced atomically: through *tf
 * when the caller opened it before the sandbox (consumed, *tf set NULL),
 * else a new temporary file. 0 or -errno. */
int cli_prometheus_to_file(const char *path, struct cli_textfile **tf, const cgp_verify *v);
/* Audit placement pl on the n processes g (those it was compiled with) and
 * write the metrics into PATH as cli_prometheus_to_file does (watch
 * --metrics). 0 or -errno. */
int cli_prometheus_audit(cgp_ctx *ctx, const cgp_placement *pl, const struct cgp_guest *const *g, size_t n,
                         const char *path, struct cli_textfile **tf);
/* verify's audit as Prometheus text-format metrics. 0 or -EIO. */
int cli_prometheus_verify(FILE *f, const cgp_verify *v);
extern const struct cli_opt cli_global_opts[];

/* Parse argv (cli/args.c): global options, the verb, its options and
 * operands into cli and *cmd. Returns -1 to go on, else an exit code (help,
 * version and usage errors are handled there). */
int cli_parse(int argc, char **argv, struct cli *cli, const struct command **cmd);
/* The processes of l as an array (the engine's input), *n of them; caller
 * frees the array (the processes stay l's). NULL on ENOMEM. */
const struct cgp_guest **cli_guest_array(const cgp_guest_list *l, size_t *n);
/* Ask QMP (cgp_guests_query_qmp) of the processes of l that a block of pl
 * (compiled with them) matches, and of no other (a stranger's socket could
 * stall the run), within the host block's one deadline. 0 or -errno. */
int cli_query_qmp_matched(cgp_ctx *ctx, cgp_guest_list *l, const cgp_placement *pl);
/* A whole number of seconds in [lo, hi] (decimal digits only): true and *out. */
bool cli_seconds(const char *s, long lo, long hi, long *out);
/* Read what the verb needs (cli/prologue.c): the policy parsed, the host's
 * topology, the policy compiled, the guests discovered, the sandbox on.
 * Prints the error and returns its exit code on failure. */
int cli_prologue(struct cli *cli, struct cli_env *env);
void cli_env_free(struct cli_env *env);

/* "cgplace: what: why" on stderr; returns code. */
int cli_error(int code, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Install the seccomp allow-list (cli/sandbox.c, spec §7) once the
 * command's inputs are read: no exec, no sockets; other calls fail with
 * EPERM. Nothing with --no-sandbox or under ASan. Returns an exit code. */
int cli_sandbox(struct cli *cli, const char *what);
/* Least privilege (cli/privilege.c), from cli_sandbox before the filter:
 * capabilities cut to what the verb's remaining calls need (none for the
 * read-only verbs), bounding set emptied, no_new_privs, and Landlock where
 * the kernel has it: read-only SYSROOT/sys and /proc, read-write the cgroup
 * root and the lock file, --persist's rename in the policy's directory; no
 * other file. Returns an exit code. */
int cli_privilege(struct cli *cli, const char *what);
/* The flags of every JSON document cgplace prints. */
#define CLI_JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
/* o in exactly json_object_to_json_string_ext(o, CLI_JSON_FLAGS)'s format:
 * malloc'd, *len its length; NULL when out of memory (cli/json-out.c). */
char *cli_json_format(struct json_object *o, size_t *len);
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
size_t cli_utf8_len(const unsigned char *s, size_t n);
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

/* The verbs (cli/cmd-*.c): weak so that the dispatch table lists only the
 * verbs that are built. */
int cmd_nodeinfo(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_capabilities(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_freecell(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_topology(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_check(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_plan(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_suggest(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_guests(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_apply(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_exec(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_exec(struct cli *cli, struct cli_env *env);
int cmd_watch(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_watch(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_verify(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_verify(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_freecell(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_suggest(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_plan(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_guests(struct cli *cli, struct cli_env *env) __attribute__((weak));
/* Runtime tuning (cli/cmd-vcpuinfo.c, cmd-vcpupin.c, cmd-numatune.c). */
int cmd_vcpuinfo(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_vcpupin(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_numatune(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_vcpuinfo(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_vcpupin(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_numatune(struct cli *cli, struct cli_env *env) __attribute__((weak));
int derive_guest(struct cli *cli, struct cli_env *env) __attribute__((weak));
/* Other tools' formats (cli/cmd-emit.c, cli/cmd-import.c). */
int cmd_emit(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_emit(struct cli *cli, struct cli_env *env) __attribute__((weak));
int cmd_import_libvirt(struct cli *cli, struct cli_env *env) __attribute__((weak));
int prep_import_libvirt(struct cli *cli, struct cli_env *env) __attribute__((weak));
int derive_runtime(struct cli *cli, struct cli_env *env) __attribute__((weak));
/* Untrusted bytes (a name, path or id another process chose) as printable
 * ASCII: control bytes and bytes >= 0x7f as \\xHH ('\\' itself as is), the
 * first max bytes only, then CLI_ELLIPSIS when cut; "-" for NULL; malloc'd,
 * NULL when out of memory (cli/report.c). cli_escape: max CLI_NAME_MAX. */
#define CLI_NAME_MAX 256        /* bytes of a name, path or id printed */
#define CLI_TEXT_MAX 4096       /* bytes of a whole message printed */
#define CLI_ELLIPSIS "\xe2\x80\xa6"  /* U+2026 */
char *cli_escape_n(const char *s, size_t max);
char *cli_escape(const char *s);
/* cli_escape(s) as a JSON string; JSON null for NULL (and out of memory). */
struct json_object *cli_json_untrusted(const char *s);
/* Shared by the runtime verbs (cli/cmd-vcpupin.c): a list operand (exit 2
 * naming the bad item); apply env->pl and report (exit 3 when the read-back
 * differs; with --json and doc, the document is left in *doc for the verb to
 * add to and print). */
int cli_parse_list(const char *what, const char *s, cgp_bitmap **out);
int cli_runtime_apply(struct cli *cli, struct cli_env *env, struct json_object **doc);

/* The ops of a plan or of an enforcement run, whichever made them
 * (cli/report.c): one text printer and one JSON printer for plan, apply and
 * verify. */
struct cli_ops {
    const void *src;
    size_t n;
    const struct cgp_op *(*get)(const void *src, size_t i);
};
struct cli_ops cli_ops_of_enforce(const cgp_enforce *e);
struct cli_ops cli_ops_of_plan(const cgp_plan *p);
enum cli_ops_style {
    CLI_OPS_PLAN,   /* "write P/F V", then each new note as "  # note: ..." */
    CLI_OPS_APPLY,  /* "  write P/F V (was OLD)" */
};
void cli_ops_text(const struct cli_ops *ops, enum cli_ops_style style);
struct json_object *cli_ops_json(const struct cli_ops *ops);
/* The engine's messages: on stderr (errors and warnings, unless -q: errors
 * only; infos with -v), or as a JSON array. */
void cli_msgs_text(struct cli *cli, const cgp_enforce *e);
struct json_object *cli_msgs_json(const cgp_enforce *e);
/* The policy's warnings for a JSON document (a new reference; [] for none). */
struct json_object *cli_warnings_json(const struct cli_env *env);
/* The error of cgp_enforce_run/cgp_verify_run: EINVAL is bad usage. */
int cli_engine_error(cgp_ctx *ctx, const char *what, int r);
/* The exit code of an enforcement run: 2 refused, 1 failed (or a guest
 * failed alone), 3 a QEMU process floats free under `unmanaged deny` (the
 * other guests placed), else 0; an error message never goes with 0. */
int cli_outcome_code(const cgp_enforce *e);
/* The QEMU processes no block matches as a JSON array (pid, name and
 * cgroup escaped, libvirt, counted); and added to o with the counts
 * "unmanaged_libvirt" and "unmanaged_denied". */
struct json_object *cli_strays_json(const cgp_enforce *e);
void cli_strays_add_json(struct json_object *o, const cgp_enforce *e);

static inline void cli_ctx_freep(cgp_ctx **c) { cgp_ctx_free(*c); }
static inline void cli_topo_freep(cgp_topology **t) { cgp_topology_free(*t); }
static inline void cli_json_putp(struct json_object **o) { json_object_put(*o); }
static inline void cli_guests_freep(cgp_guest_list **l) { cgp_guests_free(*l); }
#define CLI_AUTO_GUESTS __attribute__((cleanup(cli_guests_freep)))
#define CLI_AUTO_CTX __attribute__((cleanup(cli_ctx_freep)))
#define CLI_AUTO_TOPO __attribute__((cleanup(cli_topo_freep)))
static inline void cli_placement_freep(cgp_placement **p) { cgp_placement_free(*p); }
static inline void cli_policy_freep(cgp_policy **p) { cgp_policy_free(*p); }
static inline void cli_diags_freep(cgp_diags **d) { cgp_diags_free(*d); }
static inline void cli_bitmap_freep(cgp_bitmap **b) { cgp_bitmap_free(*b); }
static inline void cli_enforce_freep(cgp_enforce **e) { cgp_enforce_free(*e); }
static inline void cli_verify_freep(cgp_verify **v) { cgp_verify_free(*v); }
static inline void cli_plan_freep(cgp_plan **p) { cgp_plan_free(*p); }
static inline void cli_freep(void *p) { free(*(void **)p); }
#define CLI_AUTO_PLACEMENT __attribute__((cleanup(cli_placement_freep)))
#define CLI_AUTO_POLICY __attribute__((cleanup(cli_policy_freep)))
#define CLI_AUTO_DIAGS __attribute__((cleanup(cli_diags_freep)))
#define CLI_AUTO_BITMAP __attribute__((cleanup(cli_bitmap_freep)))
#define CLI_AUTO_ENFORCE __attribute__((cleanup(cli_enforce_freep)))
#define CLI_AUTO_VERIFY __attribute__((cleanup(cli_verify_freep)))
#define CLI_AUTO_PLAN __attribute__((cleanup(cli_plan_freep)))
#define CLI_AUTO_FREE __attribute__((cleanup(cli_freep)))
#define CLI_AUTO_JSON __attribute__((cleanup(cli_json_putp)))

#endif
