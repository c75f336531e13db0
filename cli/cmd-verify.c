/* cgplace verify POLICY — drift audit of every guest thread (spec §6): per
 * guest and thread the intended and actual CPUs and nodes, the cgroups'
 * effective sets, and where the memory is (numa_maps). Exit 3 on drift. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fmt(const cgp_bitmap *b)
{
    return b ? cgp_bitmap_format(b) : strdup("-");
}

static const char *role(const struct cgp_verify_thread *t, char *buf, size_t n)
{
    cli_thread_role(t, ' ', buf, n);
    /* an I/O thread's id is its QEMU's (thread name, QMP): escaped */
    char *e CLI_AUTO_FREE = t->role == CGP_THREAD_IOTHREAD ? cli_escape(buf) : NULL;
    if (e)
        snprintf(buf, n, "%s", e);
    return buf;
}

/* Its memory was audited: a cgroupfs guest with groups, a libvirt guest with threads. */
static bool memory_audited(const struct cgp_verify_guest *g, const struct cgp_enforce_guest *eg)
{
    return g->proc && !g->foreign && (g->n_cgroups || (eg->owner == CGP_OWNER_LIBVIRT && g->n_threads));
}

static struct json_object *pages_json(const struct cgp_verify_guest *g, const uint64_t *p)
{
    struct json_object *o = json_object_new_object();
    for (size_t n = 0; n < g->n_nodes; n++) {
        char k[24];
        snprintf(k, sizeof k, "%zu", n);
        json_object_object_add(o, k, json_object_new_int64((int64_t)p[n]));
    }
    return o;
}

static struct json_object *cgroup_json(const struct cgp_verify_cgroup *cg)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "path", json_object_new_string(cg->path));
    json_object_object_add(o, "exists", json_object_new_boolean(cg->exists));
    json_object_object_add(o, "cpus", cli_json_set(cg->cpus_want));
    json_object_object_add(o, "cpus_effective", cli_json_set(cg->cpus_eff));
    json_object_object_add(o, "mems", cli_json_set(cg->mems_want));
    json_object_object_add(o, "mems_effective", cli_json_set(cg->mems_eff));
    json_object_object_add(o, "drift", json_object_new_boolean(cg->drift));
    return o;
}

static struct json_object *thread_json(const struct cgp_verify_thread *t)
{
    char rb[80];
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "tid", json_object_new_int(t->tid));
    json_object_object_add(o, "role", json_object_new_string(role(t, rb, sizeof rb)));
    json_object_object_add(o, "cgroup", json_object_new_string(t->cgroup_want));
    json_object_object_add(o, "cgroup_actual", cli_json_untrusted(t->cgroup_have));
    json_object_object_add(o, "cpus", cli_json_set(t->cpus_want));
    json_object_object_add(o, "cpus_actual", cli_json_set(t->cpus_have));
    json_object_object_add(o, "mems", cli_json_set(t->mems_want));
    json_object_object_add(o, "mems_actual", cli_json_set(t->mems_have));
    json_object_object_add(o, "drift", json_object_new_boolean(t->drift));
    return o;
}

static struct json_object *guest_json(const struct cgp_verify_guest *g, const struct cgp_enforce_guest *eg)
{
    struct json_object *go = json_object_new_object();
    json_object_object_add(go, "name", json_object_new_string(g->name));
    json_object_object_add(go, "pid", g->proc ? json_object_new_int(g->proc->pid) : NULL);
    json_object_object_add(go, "state", json_object_new_string(cgp_guest_state_name(eg->state)));
    json_object_object_add(go, "owner", json_object_new_string(cgp_guest_owner_name(eg->owner)));
    json_object_object_add(go, "drift", json_object_new_boolean(g->drift));
    if (memory_audited(g, eg)) {
        json_object_object_add(go, "pages", g->n_nodes ? pages_json(g, g->pages) : NULL);
        json_object_object_add(go, "anon_pages", g->n_nodes ? pages_json(g, g->anon_pages) : NULL);
        json_object_object_add(go, "anon_pages_outside", json_object_new_int64((int64_t)g->anon_outside));
    }
    struct json_object *cga = json_object_new_array(), *tha = json_object_new_array();
    for (size_t k = 0; k < g->n_cgroups; k++)
        json_object_array_add(cga, cgroup_json(&g->cgroups[k]));
    for (size_t k = 0; k < g->n_threads; k++)
        json_object_array_add(tha, thread_json(&g->threads[k]));
    json_object_object_add(go, "cgroups", cga);
    json_object_object_add(go, "threads", tha);
    return go;
}

static void verify_json(const cgp_verify *v)
{
    const cgp_enforce *e = cgp_verify_plan(v);
    struct json_object *root = json_object_new_object();
    struct json_object *ga = json_object_new_array();
    for (size_t i = 0; i < cgp_verify_n_guests(v); i++)
        json_object_array_add(ga, guest_json(cgp_verify_guest(v, i), cgp_enforce_guest(e, i)));
    json_object_object_add(root, "drift", json_object_new_boolean(cgp_verify_drift(v)));
    json_object_object_add(root, "guests", ga);
    struct cli_ops ops = cli_ops_of_enforce(e);
    json_object_object_add(root, "ops", cli_ops_json(&ops));
    json_object_object_add(root, "unmanaged", json_object_new_int64((int64_t)cgp_enforce_summary(e)->n_unmanaged));
    cli_strays_add_json(root, e);
    json_object_object_add(root, "messages", cli_msgs_json(e));
    cli_print_json(root);
}

static void guest_head_text(const struct cgp_verify_guest *g, const struct cgp_enforce_guest *eg)
{
    printf("guest %s", g->name);
    if (g->proc)
        printf(" (pid %d%s)", g->proc->pid, eg->owner == CGP_OWNER_LIBVIRT ? ", placed through libvirt" : "");
    /* a detail may quote a cgroup path read from /proc */
    char *detail CLI_AUTO_FREE = eg->detail ? cli_escape_n(eg->detail, CLI_TEXT_MAX) : NULL;
    if (!g->proc)
        printf(": not running\n");
    else if (eg->state == CGP_GUEST_INVALID || eg->state == CGP_GUEST_FAILED || eg->state == CGP_GUEST_VANISHED)
        printf(": %s%s%s\n", cgp_guest_state_name(eg->state), detail ? ": " : "", detail ? detail : "");
    else
        printf(": %s\n", g->drift ? "DRIFT" : "compliant");
}

static void cgroup_text(const struct cgp_verify_cgroup *cg)
{
    char *cw CLI_AUTO_FREE = fmt(cg->cpus_want), *ce CLI_AUTO_FREE = fmt(cg->cpus_eff);
    char *mw CLI_AUTO_FREE = fmt(cg->mems_want), *me CLI_AUTO_FREE = fmt(cg->mems_eff);
    printf("  %s cgroup %-28s cpus %s (effective %s)  mems %s (effective %s)%s\n", cg->drift ? "!" : " ",
           cg->path, cw, cg->exists ? ce : "missing", mw, cg->exists ? me : "missing", cg->drift ? "  DRIFT" : "");
}

static void thread_text(const struct cgp_verify_thread *t)
{
    char rb[80];
    if (!t->cgroup_have && !t->cpus_have) {
        printf("    thread %-7d %-12s ended\n", t->tid, role(t, rb, sizeof rb));
        return;
    }
    char *cw CLI_AUTO_FREE = fmt(t->cpus_want), *ch CLI_AUTO_FREE = fmt(t->cpus_have);
    char *mw CLI_AUTO_FREE = fmt(t->mems_want), *mh CLI_AUTO_FREE = fmt(t->mems_have);
    bool cgok = t->cgroup_have && !strcmp(t->cgroup_have, t->cgroup_want);
    char *have CLI_AUTO_FREE = t->cgroup_have ? cli_escape(t->cgroup_have) : NULL;
    printf("  %s thread %-7d %-12s cpus %s (intended %s)  nodes %s (intended %s)  cgroup %s%s%s%s\n",
           t->drift ? "!" : " ", t->tid, role(t, rb, sizeof rb), ch, cw, mh, mw,
           have ? have : "?", cgok ? "" : " (intended ", cgok ? "" : t->cgroup_want,
           cgok ? "" : ")");
}

static void pages_text(const struct cgp_verify_guest *g)
{
    if (!g->n_nodes) {
        printf("    memory: numa_maps unreadable\n");
        return;
    }
    printf("  %s memory pages per node:", g->anon_outside ? "!" : " ");
    for (size_t n = 0; n < g->n_nodes; n++)
        printf(" N%zu=%llu", n, (unsigned long long)g->pages[n]);
    printf("  (anonymous:");
    for (size_t n = 0; n < g->n_nodes; n++)
        printf(" N%zu=%llu", n, (unsigned long long)g->anon_pages[n]);
    printf("; %llu outside the guest's nodes)\n", (unsigned long long)g->anon_outside);
}

static void verify_text(struct cli *cli, const cgp_verify *v)
{
    const cgp_enforce *e = cgp_verify_plan(v);
    cli_msgs_text(cli, e);
    for (size_t i = 0; i < cgp_verify_n_guests(v); i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        guest_head_text(g, cgp_enforce_guest(e, i));
        for (size_t k = 0; k < g->n_cgroups; k++)
            cgroup_text(&g->cgroups[k]);
        for (size_t k = 0; k < g->n_threads; k++)
            thread_text(&g->threads[k]);
        if (memory_audited(g, cgp_enforce_guest(e, i)))
            pages_text(g);
    }
    size_t pending = cgp_enforce_n_ops(e);
    if (pending)
        printf("%zu change%s pending (see 'cgplace plan')\n", pending, pending == 1 ? "" : "s");
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    if (s->unmanaged_denied)
        printf("%zu QEMU process%s no block places (unmanaged deny)\n", s->n_unmanaged,
               s->n_unmanaged == 1 ? "" : "es");
    printf("%s\n", cgp_verify_drift(v) ? "drift found" : "no drift");
}

/* --format and --output are checked, and the output file's temporary made,
 * before anything is read or the sandbox is on. */
int prep_verify(struct cli *cli, struct cli_env *env)
{
    const char *fmt = cli->args.format;
    if (fmt && strcmp(fmt, "text") && strcmp(fmt, "json") && strcmp(fmt, "prometheus"))
        return cli_error(EXIT_USAGE, "verify", "--format %s: expected text, json or prometheus", fmt);
    if (fmt && cli->json && strcmp(fmt, "json"))
        return cli_error(EXIT_USAGE, "verify", "--json and --format %s: choose one", fmt);
    if (fmt && !strcmp(fmt, "json"))
        cli->json = true;
    if (cli->args.output) {
        int r = cli_textfile_open(cli->args.output, &env->textfile);
        if (r < 0)
            return cli_error(EXIT_USAGE, "verify", "--output %s: %s", cli->args.output, strerror(-r));
        cli->sandbox_persist = true; /* fsync + rename once written */
    }
    return EXIT_OK;
}

static void print_audit(struct cli *cli, const cgp_verify *v)
{
    if (cli->args.format && !strcmp(cli->args.format, "prometheus"))
        cli_prometheus_verify(stdout, v);
    else if (cli->json)
        verify_json(v);
    else
        verify_text(cli, v);
}

/* The audit into --output's temporary file (stdout pointed at it for the
 * while), then renamed over FILE. */
static int print_to_file(struct cli *cli, struct cli_env *env, const cgp_verify *v)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(cli_textfile_fd(env->textfile), STDOUT_FILENO) < 0)
        return cli_error(EXIT_RUNTIME, "verify", "--output %s: %s", cli->args.output, strerror(errno));
    print_audit(cli, v);
    int bad = fflush(stdout) != 0 || ferror(stdout);
    clearerr(stdout);
    (void)dup2(saved, STDOUT_FILENO);
    close(saved);
    int r = bad ? -EIO : cli_textfile_commit(env->textfile);
    if (r < 0)
        return cli_error(EXIT_RUNTIME, "verify", "--output %s: %s (not replaced)", cli->args.output, strerror(-r));
    return EXIT_OK;
}

int cmd_verify(struct cli *cli, struct cli_env *env)
{
    cgp_verify *v CLI_AUTO_VERIFY = NULL;
    int r = cgp_verify_run(env->ctx, env->pl, env->g, env->n, &v);
    if (r < 0)
        return cli_engine_error(env->ctx, "verify", r);
    int rc = cgp_verify_drift(v) ? EXIT_DRIFT : EXIT_OK;
    if (cgp_enforce_summary(cgp_verify_plan(v))->outcome == CGP_ENFORCE_INVALID)
        rc = EXIT_USAGE;
    if (env->textfile) {
        int wrc = print_to_file(cli, env, v);
        return wrc ? wrc : rc;
    }
    print_audit(cli, v);
    return rc;
}
