/* cgplace guests [-p POLICY] [--no-qmp] — running QEMU guests, how their
 * threads were told apart, their cgroup, the policy guest each matches and
 * whether every thread is where the policy wants it (docs/guests.md). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum compliance { COMP_UNKNOWN = -1, COMP_NO = 0, COMP_YES = 1 };

struct row {
    const struct cgp_guest *g;
    const struct cgp_guest_placement *gp;   /* the one block that matches; NULL */
    size_t n_matched;
    const struct cgp_guest_placement **matched;
    int vcpus, iothreads;                   /* -1 unknown */
    enum compliance comp;
    size_t n_off;                           /* threads not where the policy wants them */
    enum cgp_guest_owner owner;
    const char *backend;
    char *untrusted;                        /* why it is no guest (escaped); NULL: a guest */
};

/* The policy's I/O thread for an id read from a comm: "IO " + id is cut at
 * 15 bytes, so a 12-byte id may be the prefix of the policy's. */
static const struct cgp_iothread_placement *find_iothread(const struct cgp_guest_placement *gp,
                                                          const char *id)
{
    for (size_t i = 0; i < gp->n_iothreads; i++) {
        const char *pid = gp->iothreads[i].id;
        /* a bare integer N also names libvirt's "iothreadN" (spec §3) */
        bool digits = *pid && strspn(pid, "0123456789") == strlen(pid);
        if (!strcmp(pid, id) || (digits && !strncmp(id, "iothread", 8) && !strcmp(id + 8, pid)))
            return &gp->iothreads[i];
    }
    if (strlen(id) == 12)
        for (size_t i = 0; i < gp->n_iothreads; i++)
            if (!strncmp(gp->iothreads[i].id, id, 12))
                return &gp->iothreads[i];
    return NULL;
}

/* The sets a thread should have. */
static void intended(const struct cgp_guest *g, const struct cgp_guest_thread *t,
                     const struct cgp_guest_placement *gp, const cgp_bitmap **cpus,
                     const cgp_bitmap **mems)
{
    *cpus = gp->cpus;
    *mems = gp->mems;
    if (g->thread_source == CGP_THREADS_UNKNOWN)
        return;                                  /* whole-guest placement */
    if (t->role == CGP_THREAD_VCPU) {
        if (t->vcpu >= 0 && (unsigned)t->vcpu < gp->n_vcpus) {
            *cpus = gp->vcpu[t->vcpu].cpus;
            *mems = gp->vcpu[t->vcpu].mems;
        }
        return;
    }
    const struct cgp_iothread_placement *io = NULL;
    if (t->role == CGP_THREAD_IOTHREAD && t->iothread)
        io = find_iothread(gp, t->iothread);
    if (io) {
        *cpus = io->cpus;
        *mems = io->mems;
    } else {
        *cpus = gp->emulator.cpus;
        *mems = gp->emulator.mems;
    }
}

static int check_compliance(cgp_ctx *ctx, struct row *r)
{
    r->comp = COMP_YES;
    for (size_t i = 0; i < r->g->n_threads; i++) {
        const struct cgp_guest_thread *t = &r->g->threads[i];
        const cgp_bitmap *wc, *wm;
        intended(r->g, t, r->gp, &wc, &wm);
        cgp_bitmap *c = NULL, *m = NULL;
        int e = cgp_guest_thread_affinity(ctx, r->g, t->tid, &c, &m);
        if (e == -ENOMEM)
            return e;
        if (e < 0)
            continue;                             /* the thread exited meanwhile */
        bool ok = (!wc || cgp_bitmap_equal(c, wc)) && (!wm || cgp_bitmap_equal(m, wm));
        cgp_bitmap_free(c);
        cgp_bitmap_free(m);
        if (!ok) {
            r->comp = COMP_NO;
            r->n_off++;
        }
    }
    return 0;
}

static const char *comp_str(enum compliance c)
{
    return c == COMP_YES ? "yes" : c == COMP_NO ? "no" : "-";
}

static char *policy_str(const struct row *r, bool have_policy)
{
    char *s = NULL;
    if (r->untrusted)
        return strdup("untrusted");
    if (!have_policy || r->n_matched == 0)
        return strdup("-");
    if (r->n_matched == 1)
        return strdup(r->matched[0]->name);
    size_t len = strlen("conflict:") + 1;
    for (size_t i = 0; i < r->n_matched; i++)
        len += strlen(r->matched[i]->name) + 1;
    if (!(s = malloc(len)))
        return NULL;
    strcpy(s, "conflict:");
    for (size_t i = 0; i < r->n_matched; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, r->matched[i]->name);
    }
    return s;
}

static struct json_object *str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static struct json_object *guest_json(const struct row *r, bool have_policy)
{
    const struct cgp_guest *g = r->g;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", cli_json_untrusted(g->name));
    json_object_object_add(o, "pid", json_object_new_int(g->pid));
    json_object_object_add(o, "uuid", cli_json_untrusted(g->uuid));
    json_object_object_add(o, "pidfile", cli_json_untrusted(g->pidfile));
    json_object_object_add(o, "qmp", cli_json_untrusted(g->qmp));
    json_object_object_add(o, "cgroup", cli_json_untrusted(g->cgroup));
    json_object_object_add(o, "foreign", json_object_new_boolean(g->foreign));
    json_object_object_add(o, "managed_by", g->foreign ? json_object_new_string("libvirt") : NULL);
    json_object_object_add(o, "owner", json_object_new_string(cgp_guest_owner_name(r->owner)));
    json_object_object_add(o, "backend", str_or_null(r->backend));
    json_object_object_add(o, "thread_source", json_object_new_string(cgp_thread_source_name(g->thread_source)));
    json_object_object_add(o, "vcpus", cli_json_int_or_null(r->vcpus, r->vcpus >= 0));
    json_object_object_add(o, "iothreads", cli_json_int_or_null(r->iothreads, r->iothreads >= 0));
    struct json_object *th = json_object_new_array();
    for (size_t i = 0; i < g->n_threads; i++) {
        const struct cgp_guest_thread *t = &g->threads[i];
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "tid", json_object_new_int(t->tid));
        json_object_object_add(e, "role", json_object_new_string(cgp_thread_role_name(t->role)));
        if (t->role == CGP_THREAD_VCPU)
            json_object_object_add(e, "vcpu", json_object_new_int(t->vcpu));
        if (t->role == CGP_THREAD_IOTHREAD)
            json_object_object_add(e, "id", cli_json_untrusted(t->iothread));
        json_object_array_add(th, e);
    }
    json_object_object_add(o, "threads", th);
    struct json_object *m = json_object_new_array();
    for (size_t i = 0; i < r->n_matched; i++)
        json_object_array_add(m, json_object_new_string(r->matched[i]->name));
    json_object_object_add(o, "matches", m);
    json_object_object_add(o, "policy", have_policy && r->n_matched == 1
                                            ? json_object_new_string(r->matched[0]->name) : NULL);
    json_object_object_add(o, "conflict", json_object_new_boolean(r->n_matched > 1));
    json_object_object_add(o, "untrusted", str_or_null(r->untrusted));
    json_object_object_add(o, "compliant", r->comp == COMP_UNKNOWN ? NULL : json_object_new_boolean(r->comp == COMP_YES));
    return o;
}

static void count_threads(struct row *r)
{
    const struct cgp_guest *g = r->g;
    r->vcpus = r->iothreads = -1;
    if (g->thread_source == CGP_THREADS_UNKNOWN)
        return;
    r->vcpus = r->iothreads = 0;
    for (size_t i = 0; i < g->n_threads; i++) {
        if (g->threads[i].role == CGP_THREAD_VCPU)
            r->vcpus++;
        else if (g->threads[i].role == CGP_THREAD_IOTHREAD)
            r->iothreads++;
    }
}

int prep_guests(struct cli *cli, struct cli_env *env)
{
    if (cli->args.no_qmp)
        env->needs.discover &= ~(unsigned)CGP_DISCOVER_QMP;
    return EXIT_OK;
}

static int guests_json(const struct row *rows, size_t n, bool have_policy)
{
    struct json_object *o = json_object_new_object();
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, guest_json(&rows[i], have_policy));
    json_object_object_add(o, "guests", a);
    return cli_print_json(o);
}

enum { NCOL = 10 };

/* The cells of one row; false when out of memory (then none is set). */
static bool row_cells(const struct row *rw, bool have_policy, char **cl)
{
    bool oom = false;
    oom |= !(cl[0] = cli_escape(rw->g->name));
    oom |= asprintf(&cl[1], "%d", rw->g->pid) < 0;
    oom |= (rw->vcpus < 0 ? asprintf(&cl[2], "?") : asprintf(&cl[2], "%d", rw->vcpus)) < 0;
    oom |= (rw->iothreads < 0 ? asprintf(&cl[3], "?") : asprintf(&cl[3], "%d", rw->iothreads)) < 0;
    oom |= asprintf(&cl[4], "%s", cgp_thread_source_name(rw->g->thread_source)) < 0;
    oom |= !(cl[5] = cli_escape(rw->g->cgroup));
    oom |= asprintf(&cl[6], "%s", cgp_guest_owner_name(rw->owner)) < 0;
    oom |= asprintf(&cl[7], "%s", rw->backend ? rw->backend : "-") < 0;
    oom |= !(cl[8] = policy_str(rw, have_policy));
    oom |= asprintf(&cl[9], "%s", comp_str(rw->comp)) < 0;
    if (oom)
        for (size_t c = 0; c < NCOL; c++)
            cl[c] = NULL;      /* asprintf leaves them undefined on failure */
    return !oom;
}

/* One row per process, columns aligned; -q drops the header. */
static int guests_text(struct cli *cli, const struct row *rows, size_t n, bool have_policy)
{
    static const char *const head[NCOL] = { "NAME", "PID", "VCPUS", "IOTHREADS", "THREADS", "CGROUP",
                                            "OWNER", "BACKEND", "POLICY", "COMPLIANT" };
    char **cells = calloc((n + 1) * NCOL, sizeof *cells);
    if (!cells)
        return cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
    bool ok = true;
    for (size_t c = 0; c < NCOL; c++)
        ok &= !!(cells[c] = strdup(head[c]));
    for (size_t i = 0; ok && i < n; i++)
        ok = row_cells(&rows[i], have_policy, cells + (i + 1) * NCOL);
    int rc = ok ? EXIT_OK : cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
    size_t w[NCOL] = { 0 };
    for (size_t i = 0; ok && i <= n; i++)
        for (size_t c = 0; c < NCOL; c++) {
            size_t l = strlen(cells[i * NCOL + c]);
            if (l > w[c])
                w[c] = l;
        }
    for (size_t i = cli->verbose < 0; ok && i <= n; i++)
        for (size_t c = 0; c < NCOL; c++) {
            const char *s = cells[i * NCOL + c];
            if (c == NCOL - 1)
                printf("%s\n", s);
            else
                printf("%-*s  ", (int)w[c], s);
        }
    for (size_t i = 0; i < (n + 1) * NCOL; i++)
        free(cells[i]);
    free(cells);
    return rc;
}

/* Whether the process is a guest at all: the compiler's judgement with a
 * policy, the default trust without; reported once on stderr. */
static int trust_of(struct cli *cli, struct cli_env *env, struct row *rw, const struct cgp_proc_match *pm)
{
    char why[512];
    const char *w = NULL;
    if (pm && pm->proc == rw->g) {
        w = pm->untrusted;
    } else {
        int t = cgp_guest_trusted(env->ctx, rw->g, NULL, why, sizeof why);
        if (t < 0)
            return t;
        w = t ? NULL : why;
    }
    if (!w)
        return 0;
    if (!(rw->untrusted = cli_escape(w)))
        return -ENOMEM;
    char *name CLI_AUTO_FREE = cli_escape(rw->g->name ? rw->g->name : "no name");
    if (cli->verbose >= 0 && name)
        fprintf(stderr, "cgplace: guests: process %d (%s) is not a guest: %s\n", rw->g->pid, name, rw->untrusted);
    return 0;
}

int cmd_guests(struct cli *cli, struct cli_env *env)
{
    const cgp_placement *pl = env->pl;
    size_t n = env->n, np = pl ? cgp_placement_n_guests(pl) : 0;
    struct row *rows CLI_AUTO_FREE = calloc(n ? n : 1, sizeof *rows);
    const struct cgp_guest_placement **mbuf CLI_AUTO_FREE = calloc(n * np + 1, sizeof *mbuf);
    if (!rows || !mbuf)
        return cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
    for (size_t i = 0; i < n; i++) {
        struct row *rw = &rows[i];
        rw->g = env->g[i];
        rw->matched = mbuf + i * np;
        rw->comp = COMP_UNKNOWN;
        rw->owner = cgp_guest_owner_of(env->ctx, pl ? cgp_placement_host(pl) : NULL, rw->g, &rw->backend);
        count_threads(rw);
        /* the matching the compiler made of these very processes */
        const struct cgp_proc_match *pm = pl ? cgp_placement_proc(pl, i) : NULL;
        if (trust_of(cli, env, rw, pm) < 0)
            return cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
        for (size_t j = 0; pm && pm->proc == rw->g && j < pm->n_guests; j++)
            rw->matched[rw->n_matched++] = cgp_placement_guest(pl, pm->guests[j]);
        if (rw->n_matched > 1 && cli->verbose >= 0) {
            char *name CLI_AUTO_FREE = rw->g->name ? cli_escape(rw->g->name) : NULL;
            fprintf(stderr, "cgplace: guests: process %d (%s) matches more than one policy guest:",
                    rw->g->pid, name ? name : "no name");
            for (size_t j = 0; j < rw->n_matched; j++)
                fprintf(stderr, " '%s'", rw->matched[j]->name);
            fputc('\n', stderr);
        }
        if (rw->n_matched == 1) {   /* libvirt's guests too: libvirt gives their threads the same sets */
            rw->gp = rw->matched[0];
            if (check_compliance(env->ctx, rw) < 0)
                return cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
        }
    }
    int rc = cli->json ? guests_json(rows, n, pl != NULL) : guests_text(cli, rows, n, pl != NULL);
    for (size_t i = 0; i < n; i++)
        free(rows[i].untrusted);
    return rc;
}
