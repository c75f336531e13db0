/* What plan, apply and verify report of the engine's work, one printer per
 * format: its ops (the writes made or planned) and its messages. */
#include "cli.h"

#include <errno.h>
#include <string.h>

static const struct cgp_op *enforce_op(const void *src, size_t i)
{
    return cgp_enforce_op(src, i);
}

static const struct cgp_op *plan_op(const void *src, size_t i)
{
    return cgp_plan_op(src, i);
}

struct cli_ops cli_ops_of_enforce(const cgp_enforce *e)
{
    return (struct cli_ops){ e, cgp_enforce_n_ops(e), enforce_op };
}

struct cli_ops cli_ops_of_plan(const cgp_plan *p)
{
    return (struct cli_ops){ p, cgp_plan_n_ops(p), plan_op };
}

void cli_ops_text(const struct cli_ops *ops, enum cli_ops_style style)
{
    const char *indent = style == CLI_OPS_APPLY ? "  " : "";
    const char *last_note = NULL;
    for (size_t i = 0; i < ops->n; i++) {
        const struct cgp_op *op = ops->get(ops->src, i);
        const char *p = *op->path ? op->path : ".";
        if (op->kind == CGP_OP_MKDIR || op->kind == CGP_OP_RMDIR)
            printf("%s%s %s\n", indent, op->kind == CGP_OP_RMDIR ? "rmdir" : "mkdir", p);
        else if (op->kind == CGP_OP_DBUS || op->kind == CGP_OP_LIBVIRT) {
            /* dbus SetUnitProperties UNIT AllowedCPUs=4-7; libvirt virDomainPinVcpuFlags DOMAIN vcpu 0 4-5 */
            bool dbus = op->kind == CGP_OP_DBUS;
            printf("%s%s %s %s%s%s%s%s", indent, dbus ? "dbus" : "libvirt", op->file, p, op->item ? " " : "",
                   op->item ? op->item : "", op->item ? (dbus ? "=" : " ") : " ", op->value);
            if (style == CLI_OPS_APPLY && op->old_value)
                printf(" (was %s)", *op->old_value ? op->old_value : "empty");
            putchar('\n');
        } else if (style == CLI_OPS_APPLY && op->old_value)
            printf("%swrite %s/%s %s (was %s)\n", indent, p, op->file, op->value,
                   *op->old_value ? op->old_value : "empty");
        else
            printf("%swrite %s/%s %s\n", indent, p, op->file, op->value);
        if (style != CLI_OPS_PLAN || !op->note)
            continue;
        /* a note shared by a guest's ops once */
        if (op->note != last_note && !(last_note && !strcmp(op->note, last_note)))
            printf("  # note: %s: %s\n", op->guest ? op->guest : "", op->note);
        last_note = op->note;
    }
}

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

struct json_object *cli_ops_json(const struct cli_ops *ops)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < ops->n; i++) {
        const struct cgp_op *op = ops->get(ops->src, i);
        struct json_object *o = json_object_new_object();
        static const char *const kinds[] = { [CGP_OP_MKDIR] = "mkdir", [CGP_OP_WRITE] = "write",
                                             [CGP_OP_DBUS] = "dbus", [CGP_OP_LIBVIRT] = "libvirt",
                                             [CGP_OP_RMDIR] = "rmdir" };
        json_object_object_add(o, "op", json_object_new_string(kinds[op->kind]));
        if (op->kind == CGP_OP_DBUS || op->kind == CGP_OP_LIBVIRT) {
            json_object_object_add(o, "call", json_object_new_string(op->file));
            json_object_object_add(o, op->kind == CGP_OP_DBUS ? "unit" : "domain", json_object_new_string(op->path));
            if (op->item)
                json_object_object_add(o, op->kind == CGP_OP_DBUS ? "property" : "item",
                                       json_object_new_string(op->item));
            json_object_object_add(o, "value", json_object_new_string(op->value));
            json_object_object_add(o, "old", str_or_null(op->old_value));
        } else
            json_object_object_add(o, "path", json_object_new_string(op->path));
        if (op->kind == CGP_OP_WRITE) {
            json_object_object_add(o, "file", json_object_new_string(op->file));
            json_object_object_add(o, "value", json_object_new_string(op->value));
            json_object_object_add(o, "old", str_or_null(op->old_value));
        }
        json_object_object_add(o, "guest", str_or_null(op->guest));
        if (op->note)
            json_object_object_add(o, "note", json_object_new_string(op->note));
        json_object_array_add(a, o);
    }
    return a;
}

static const char *level_name(enum cgp_msg_level l)
{
    return l == CGP_MSG_ERROR ? "error" : l == CGP_MSG_WARNING ? "warning" : "info";
}

struct json_object *cli_msgs_json(const cgp_enforce *e)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++) {
        const struct cgp_enforce_msg *m = cgp_enforce_msg(e, i);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "level", json_object_new_string(level_name(m->level)));
        json_object_object_add(o, "guest", str_or_null(m->guest));
        json_object_object_add(o, "pid", m->pid ? json_object_new_int(m->pid) : NULL);
        char *text CLI_AUTO_FREE = cli_escape_n(m->text, CLI_TEXT_MAX);
        json_object_object_add(o, "text", str_or_null(text));
        json_object_array_add(a, o);
    }
    return a;
}

void cli_msgs_text(struct cli *cli, const cgp_enforce *e)
{
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++) {
        const struct cgp_enforce_msg *m = cgp_enforce_msg(e, i);
        if ((m->level == CGP_MSG_INFO && cli->verbose < 1) || (m->level == CGP_MSG_WARNING && cli->verbose < 0))
            continue;
        /* the engine escapes the names it quotes; this holds for any it missed */
        char *text CLI_AUTO_FREE = cli_escape_n(m->text, CLI_TEXT_MAX);
        fprintf(stderr, "cgplace: %s%s\n", m->level == CGP_MSG_ERROR ? "error: " : m->level == CGP_MSG_WARNING ? "warning: " : "",
                text ? text : "?");
    }
}

struct json_object *cli_warnings_json(const struct cli_env *env)
{
    return env->warnings ? json_object_get(env->warnings) : json_object_new_array();
}

int cli_engine_error(cgp_ctx *ctx, const char *what, int r)
{
    const char *d = cgp_ctx_last_error(ctx);
    /* a detail may quote what a guest's owner chose (a cgroup path) */
    char *e CLI_AUTO_FREE = *d ? cli_escape_n(d, CLI_TEXT_MAX) : NULL;
    return cli_error(r == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME, what, "%s", e ? e : strerror(-r));
}

struct json_object *cli_strays_json(const cgp_enforce *e)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < cgp_enforce_n_strays(e); i++) {
        const struct cgp_enforce_stray *st = cgp_enforce_stray(e, i);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(st->proc->pid));
        json_object_object_add(o, "name", cli_json_untrusted(st->proc->name));
        json_object_object_add(o, "cgroup", cli_json_untrusted(st->proc->cgroup));
        json_object_object_add(o, "libvirt", json_object_new_boolean(st->libvirt));
        json_object_object_add(o, "counted", json_object_new_boolean(st->counted));
        json_object_array_add(a, o);
    }
    return a;
}

void cli_strays_add_json(struct json_object *o, const cgp_enforce *e)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    json_object_object_add(o, "unmanaged_libvirt", json_object_new_int64((int64_t)s->n_unmanaged_libvirt));
    json_object_object_add(o, "unmanaged_denied", json_object_new_boolean(s->unmanaged_denied));
    json_object_object_add(o, "unmanaged_processes", cli_strays_json(e));
}

int cli_outcome_code(const cgp_enforce *e)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    enum cgp_enforce_outcome o = s->outcome;
    /* a guest that failed alone (libvirt unreachable) fails the command too */
    for (size_t i = 0; o == CGP_ENFORCE_OK && i < cgp_enforce_n_guests(e); i++)
        if (cgp_enforce_guest(e, i)->state == CGP_GUEST_FAILED)
            o = CGP_ENFORCE_FAILED;
    int rc = o == CGP_ENFORCE_OK ? EXIT_OK : o == CGP_ENFORCE_INVALID ? EXIT_USAGE : EXIT_RUNTIME;
    /* the placements stand, but a guest floats free under `unmanaged deny` */
    if (rc == EXIT_OK && s->unmanaged_denied)
        rc = EXIT_DRIFT;
    /* an error: line never goes with exit 0 (an engine error the cases
     * above do not cover fails the command) */
    for (size_t i = 0; rc == EXIT_OK && i < cgp_enforce_n_msgs(e); i++)
        if (cgp_enforce_msg(e, i)->level == CGP_MSG_ERROR)
            rc = EXIT_RUNTIME;
    return rc;
}

/* Untrusted bytes as printable ASCII (docs/SECURITY.md, "Escaped output"):
 * a terminal must not act on them, a JSON document must stay valid UTF-8,
 * and a 3 MB name must not be printed on every run. '\\' passes as is:
 * cgroup paths and unit names carry systemd's own \xHH escapes, which must
 * print as systemd prints them (the pid beside a name tells processes apart). */
char *cli_escape_n(const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    if (!s)
        return strdup("-");
    size_t n = strnlen(s, max + 1), m = n > max ? max : n;
    char *o = malloc(4 * m + sizeof CLI_ELLIPSIS), *p = o;
    for (size_t i = 0; o && i < m; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    if (o)
        strcpy(p, n > max ? CLI_ELLIPSIS : "");
    return o;
}

char *cli_escape(const char *s)
{
    return cli_escape_n(s, CLI_NAME_MAX);
}

struct json_object *cli_json_untrusted(const char *s)
{
    if (!s)
        return NULL;
    char *e = cli_escape(s);
    struct json_object *o = e ? json_object_new_string(e) : NULL;
    free(e);
    return o;
}
