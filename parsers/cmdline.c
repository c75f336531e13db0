/* QEMU command line parsing for guest discovery (spec §5). Pure: no I/O. */
#include "cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cgp_qemu_bool(const char *v)
{
    if (!v)
        return -1;
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "y"))
        return 1;
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "n"))
        return 0;
    return -1;
}

/* Copy the value at p up to an unescaped ',' (",," is a comma) into a new
 * string; *end is where parsing goes on (after the ',' or at the NUL). */
static char *opt_value(const char *p, const char **end)
{
    size_t n = 0;
    const char *q = p;
    while (*q) {
        if (*q == ',') {
            if (q[1] != ',')
                break;
            q++;
        }
        q++;
        n++;
    }
    char *v = malloc(n + 1);
    if (!v)
        return NULL;
    size_t k = 0;
    for (q = p; *q;) {
        if (*q == ',') {
            if (q[1] != ',')
                break;
            q++;
        }
        v[k++] = *q++;
    }
    v[k] = '\0';
    *end = *q == ',' ? q + 1 : q;
    return v;
}

int cgp_qemu_opt_get(const char *opts, const char *implied, const char *key, char **value)
{
    char *found = NULL;
    bool first = true;
    const char *p = opts;
    size_t klen = strlen(key);
    while (*p) {
        size_t len = strcspn(p, "=,");
        const char *name = p;
        size_t nlen = len;
        char *v = NULL;
        const char *next;
        if (p[len] == '=') {
            if (!(v = opt_value(p + len + 1, &next))) {
                free(found);
                return -ENOMEM;
            }
        } else if (first && implied) {
            name = implied;
            nlen = strlen(implied);
            if (!(v = opt_value(p, &next))) {
                free(found);
                return -ENOMEM;
            }
        } else {
            bool no = len >= 2 && !strncmp(p, "no", 2);
            if (no) {
                name = p + 2;
                nlen = len - 2;
            }
            if (!(v = strdup(no ? "off" : "on"))) {
                free(found);
                return -ENOMEM;
            }
            next = p[len] == ',' ? p + len + 1 : p + len;
        }
        first = false;
        if (nlen == klen && !strncmp(name, key, klen)) {
            free(found);
            found = v;
        } else {
            free(v);
        }
        p = next;
    }
    if (!found)
        return 0;
    *value = found;
    return 1;
}

/* QEMU options that take no argument (qemu-options.hx, HAS_ARG 0), old and
 * new. Every other option consumes the next argument, as QEMU's own parser
 * does, so an option's value is never mistaken for an option. */
static const char *const noarg_opts[] = {
    "h", "help", "version", "snapshot", "nographic", "full-screen", "S", "s", "daemonize",
    "enable-kvm", "no-kvm", "no-kvm-irqchip", "no-kvm-pit", "no-kvm-pit-reinjection",
    "no-reboot", "no-shutdown", "nodefaults", "no-user-config", "nouserconfig", "usb",
    "no-acpi", "no-hpet", "no-fd-bootchk", "win2k-hack", "rtc-td-hack", "only-migratable",
    "enable-sync-profile", "preconfig", "portrait", "singlestep", "xen-attach",
    "xen-domid-restrict", "mem-prealloc", "audio-help", "async-teardown", "alt-grab",
    "ctrl-grab", "no-quit", "no-frame", "curses", "sdl", "enable-fips", "semihosting",
    "old-param", "no-graphic", "nographic", "vga-help", NULL,
};

static bool is_noarg(const char *name, size_t len)
{
    for (const char *const *o = noarg_opts; *o; o++)
        if (strlen(*o) == len && !strncmp(*o, name, len))
            return true;
    return false;
}

struct chardev {
    char *id, *path;
    bool socket;
};

struct qmp_cand {
    size_t pos;
    char *path;         /* -qmp: the path */
    char *chardev;      /* -mon: the chardev id */
};

static bool opt_is(const char *name, size_t len, const char *what)
{
    return strlen(what) == len && !strncmp(name, what, len);
}

void cgp_qemu_cmdline_clear(struct cgp_qemu_cmdline *c)
{
    free(c->name);
    free(c->uuid);
    free(c->pidfile);
    free(c->qmp);
    memset(c, 0, sizeof *c);
}

static char *steal(char **p)
{
    char *v = *p;
    *p = NULL;
    return v;
}

/* Replace *slot with v (taking ownership). */
static void take(char **slot, char *v)
{
    free(*slot);
    *slot = v;
}

int cgp_qemu_cmdline_parse(const char *buf, size_t len, struct cgp_qemu_cmdline *out)
{
    memset(out, 0, sizeof *out);
    if (!len)
        return -EINVAL;
    /* NUL-terminated copy (a cmdline cut at a page boundary may lack the final NUL). */
    char *img = malloc(len + 1);
    if (!img)
        return -ENOMEM;
    memcpy(img, buf, len);
    img[len] = '\0';
    size_t nargs = 1;       /* arguments = NULs, plus one when the last lacks its NUL */
    for (size_t i = 0; i + 1 < len; i++)
        if (img[i] == '\0')
            nargs++;
    char **argv = calloc(nargs + 1, sizeof *argv);
    struct chardev *cds = calloc(nargs + 1, sizeof *cds);
    struct qmp_cand *cands = calloc(nargs + 1, sizeof *cands);
    size_t ncd = 0, ncand = 0;
    int r = -ENOMEM;
    if (!argv || !cds || !cands)
        goto done;
    size_t k = 0;
    for (size_t i = 0; i < len && k < nargs;) {
        argv[k++] = img + i;
        i += strlen(img + i) + 1;
    }
    nargs = k;

    for (size_t i = 1; i < nargs; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1])
            continue;                     /* a positional argument (disk image) */
        const char *name = a + 1;
        if (name[0] == '-')
            name++;
        if (!*name)
            continue;                     /* "--" */
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        if (is_noarg(name, nlen))
            continue;
        const char *val;
        size_t pos = i;
        if (eq)
            val = eq + 1;
        else if (i + 1 < nargs)
            val = argv[++i];
        else
            break;
        char *v = NULL;
        int rr;
        if (opt_is(name, nlen, "name")) {
            if ((rr = cgp_qemu_opt_get(val, "guest", "guest", &v)) < 0)
                goto done;
            if (rr)
                take(&out->name, v);
            v = NULL;
            if ((rr = cgp_qemu_opt_get(val, "guest", "debug-threads", &v)) < 0)
                goto done;
            if (rr)
                out->debug_threads = cgp_qemu_bool(v) == 1;
            free(v);
        } else if (opt_is(name, nlen, "uuid")) {
            if (!(v = strdup(val)))
                goto done;
            take(&out->uuid, v);
        } else if (opt_is(name, nlen, "pidfile")) {
            if (!(v = strdup(val)))
                goto done;
            take(&out->pidfile, v);
        } else if (opt_is(name, nlen, "qmp") || opt_is(name, nlen, "qmp-pretty")) {
            if (strncmp(val, "unix:", 5))
                continue;                 /* tcp:, stdio, ...: not a unix socket */
            if ((rr = cgp_qemu_opt_get(val + 5, "path", "path", &v)) < 0)
                goto done;
            if (rr && *v)
                cands[ncand++] = (struct qmp_cand){ .pos = pos, .path = v };
            else
                free(v);
        } else if (opt_is(name, nlen, "chardev")) {
            struct chardev *c = &cds[ncd];
            char *backend = NULL;
            if ((rr = cgp_qemu_opt_get(val, "backend", "backend", &backend)) < 0)
                goto done;
            c->socket = rr && !strcmp(backend, "socket");
            free(backend);
            if ((rr = cgp_qemu_opt_get(val, "backend", "id", &c->id)) < 0)
                goto done;
            if ((rr = cgp_qemu_opt_get(val, "backend", "path", &c->path)) < 0)
                goto done;
            ncd++;
        } else if (opt_is(name, nlen, "mon")) {
            char *mode = NULL;
            if ((rr = cgp_qemu_opt_get(val, "chardev", "mode", &mode)) < 0)
                goto done;
            bool control = rr && !strcmp(mode, "control");
            free(mode);
            if (!control)
                continue;
            if ((rr = cgp_qemu_opt_get(val, "chardev", "chardev", &v)) < 0)
                goto done;
            if (rr)
                cands[ncand++] = (struct qmp_cand){ .pos = pos, .chardev = v };
        }
    }
    /* The first QMP monitor on the command line that is a unix socket. */
    for (size_t c = 0; c < ncand && !out->qmp; c++) {
        if (cands[c].path) {
            out->qmp = steal(&cands[c].path);
            continue;
        }
        /* the last -chardev with that id is the one QEMU would refuse as a
         * duplicate; take the first */
        for (size_t d = 0; d < ncd; d++) {
            if (cds[d].id && !strcmp(cds[d].id, cands[c].chardev)) {
                if (cds[d].socket && cds[d].path && *cds[d].path)
                    out->qmp = steal(&cds[d].path);
                break;
            }
        }
    }
    r = 0;
done:
    for (size_t c = 0; c < ncand; c++) {
        free(cands[c].path);
        free(cands[c].chardev);
    }
    for (size_t d = 0; cds && d <= ncd; d++) {
        free(cds[d].id);
        free(cds[d].path);
    }
    free(cands);
    free(cds);
    free(argv);
    free(img);
    if (r < 0)
        cgp_qemu_cmdline_clear(out);
    return r;
}
