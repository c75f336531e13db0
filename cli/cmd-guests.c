/* cgplace guests [-p POLICY] [--no-qmp] — running QEMU guests, how their
 * threads were told apart, their cgroup, the policy guest each matches and
 * whether every thread is where the policy wants it (docs/guests.md). */
#include "cli.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

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
    if (r->g->foreign)
        return strdup("libvirt");
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
    json_object_object_add(o, "name", str_or_null(g->name));
    json_object_object_add(o, "pid", json_object_new_int(g->pid));
    json_object_object_add(o, "uuid", str_or_null(g->uuid));
    json_object_object_add(o, "pidfile", str_or_null(g->pidfile));
    json_object_object_add(o, "qmp", str_or_null(g->qmp));
    json_object_object_add(o, "cgroup", str_or_null(g->cgroup));
    json_object_object_add(o, "foreign", json_object_new_boolean(g->foreign));
    json_object_object_add(o, "managed_by", g->foreign ? json_object_new_string("libvirt") : NULL);
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
            json_object_object_add(e, "id", str_or_null(t->iothread));
        json_object_array_add(th, e);
    }
    json_object_object_add(o, "threads", th);
    struct json_object *m = json_object_new_array();
    for (size_t i = 0; i < r->n_matched; i++)
        json_object_array_add(m, json_object_new_string(r->matched[i]->name));
    json_object_object_add(o, "matches", m);
    json_object_object_add(o, "policy", have_policy && !g->foreign && r->n_matched == 1
                                            ? json_object_new_string(r->matched[0]->name) : NULL);
    json_object_object_add(o, "conflict", json_object_new_boolean(r->n_matched > 1));
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

int cmd_guests(struct cli *cli, int argc, char **argv)
{
    const char *policy = NULL;
    unsigned flags = CGP_DISCOVER_QMP;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--policy")) && i + 1 < argc && !policy)
            policy = argv[++i];
        else if (!strncmp(argv[i], "--policy=", 9) && !policy)
            policy = argv[i] + 9;
        else if (!strcmp(argv[i], "--no-qmp"))
            flags &= ~(unsigned)CGP_DISCOVER_QMP;
        else
            return cli_error(EXIT_USAGE, "guests", "unexpected argument '%s' (usage: guests [-p POLICY] [--no-qmp])",
                             argv[i]);
    }
    cgp_ctx *ctx CLI_AUTO_CTX = NULL;
    cgp_topology *t CLI_AUTO_TOPO = NULL;
    cgp_placement *pl = NULL;
    int rc;
    if (policy) {
        if ((rc = cmdpol_load(cli, "guests", policy, &t, &ctx, &pl, NULL)))
            return rc;
    } else {
        int r = cgp_ctx_new(cli->sysroot, cli->cgroup_root, &ctx);
        if (r < 0)
            return cli_error(r == -ENOMEM ? EXIT_RUNTIME : EXIT_USAGE, "--sysroot", "%s: %s",
                             cli->sysroot ? cli->sysroot : "/", strerror(-r));
    }
    cgp_guest_list *gl = NULL;
    int r = cgp_guests_discover(ctx, flags, &gl);
    if (r < 0) {
        cgp_placement_free(pl);
        const char *d = cgp_ctx_last_error(ctx);
        return cli_error(EXIT_RUNTIME, "discovering guests", "%s", *d ? d : strerror(-r));
    }
    /* after discovery: QMP needs AF_UNIX sockets */
    if ((rc = cli_sandbox(cli, "guests"))) {
        cgp_guests_free(gl);
        cgp_placement_free(pl);
        return rc;
    }
    size_t n = cgp_guests_count(gl), np = pl ? cgp_placement_n_guests(pl) : 0;
    struct row *rows = calloc(n ? n : 1, sizeof *rows);
    const struct cgp_guest_placement **mbuf = calloc(n * np + 1, sizeof *mbuf);
    rc = EXIT_OK;
    if (!rows || !mbuf) {
        rc = cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct row *rw = &rows[i];
        rw->g = cgp_guests_get(gl, i);
        rw->matched = mbuf + i * np;
        rw->comp = COMP_UNKNOWN;
        count_threads(rw);
        for (size_t j = 0; j < np; j++)
            if (cgp_guest_matches(rw->g, cgp_placement_guest(pl, j)))
                rw->matched[rw->n_matched++] = cgp_placement_guest(pl, j);
        if (rw->n_matched > 1 && cli->verbose >= 0) {
            fprintf(stderr, "cgplace: guests: process %d (%s) matches more than one policy guest:",
                    rw->g->pid, rw->g->name ? rw->g->name : "no name");
            for (size_t j = 0; j < rw->n_matched; j++)
                fprintf(stderr, " '%s'", rw->matched[j]->name);
            fputc('\n', stderr);
        }
        if (rw->n_matched == 1 && !rw->g->foreign) {
            rw->gp = rw->matched[0];
            if (check_compliance(ctx, rw) < 0) {
                rc = cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
                goto out;
            }
        }
    }
    if (cli->json) {
        struct json_object *o = json_object_new_object();
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(a, guest_json(&rows[i], pl != NULL));
        json_object_object_add(o, "guests", a);
        rc = cli_print_json(o);
        goto out;
    }
    /* Text: one row per process, columns aligned. */
    enum { NCOL = 8 };
    static const char *const head[NCOL] = { "NAME", "PID", "VCPUS", "IOTHREADS", "THREADS", "CGROUP",
                                            "POLICY", "COMPLIANT" };
    char **cells = calloc((n + 1) * NCOL, sizeof *cells);
    if (!cells) {
        rc = cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
        goto out;
    }
    size_t w[NCOL] = { 0 };
    bool oom = false;
    for (size_t c = 0; c < NCOL; c++)
        oom |= !(cells[c] = strdup(head[c]));
    for (size_t i = 0; i < n; i++) {
        const struct row *rw = &rows[i];
        char **cl = cells + (i + 1) * NCOL;
        oom |= asprintf(&cl[0], "%s", rw->g->name ? rw->g->name : "-") < 0;
        oom |= asprintf(&cl[1], "%d", rw->g->pid) < 0;
        oom |= (rw->vcpus < 0 ? asprintf(&cl[2], "?") : asprintf(&cl[2], "%d", rw->vcpus)) < 0;
        oom |= (rw->iothreads < 0 ? asprintf(&cl[3], "?") : asprintf(&cl[3], "%d", rw->iothreads)) < 0;
        oom |= asprintf(&cl[4], "%s", cgp_thread_source_name(rw->g->thread_source)) < 0;
        oom |= asprintf(&cl[5], "%s", rw->g->cgroup ? rw->g->cgroup : "-") < 0;
        oom |= !(cl[6] = policy_str(rw, pl != NULL));
        oom |= asprintf(&cl[7], "%s", comp_str(rw->comp)) < 0;
        if (oom) {
            for (size_t c = 0; c < NCOL; c++)
                cl[c] = NULL;      /* asprintf leaves them undefined on failure */
            break;
        }
    }
    if (oom) {
        rc = cli_error(EXIT_RUNTIME, "guests", "%s", strerror(ENOMEM));
    } else {
        for (size_t i = 0; i <= n; i++)
            for (size_t c = 0; c < NCOL; c++) {
                size_t l = strlen(cells[i * NCOL + c]);
                if (l > w[c])
                    w[c] = l;
            }
        for (size_t i = 0; i <= n; i++) {
            if (i == 0 && cli->verbose < 0)
                continue;
            for (size_t c = 0; c < NCOL; c++) {
                const char *s = cells[i * NCOL + c];
                if (c == NCOL - 1)
                    printf("%s\n", s);
                else
                    printf("%-*s  ", (int)w[c], s);
            }
        }
    }
    for (size_t i = 0; i < (n + 1) * NCOL; i++)
        free(cells[i]);
    free(cells);
out:
    free(rows);
    free(mbuf);
    cgp_guests_free(gl);
    cgp_placement_free(pl);
    return rc;
}
