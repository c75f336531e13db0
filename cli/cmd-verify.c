/* cgplace verify POLICY — drift audit of every guest thread (spec §6): per
 * guest and thread the intended and actual CPUs and nodes, the cgroups'
 * effective sets, and where the memory is (numa_maps). Exit 3 on drift. */
#include "cli.h"
#include "cgplace_cgctl.h"
#include "cgplace_guests.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


static char *fmt(const cgp_bitmap *b)
{
    return b ? cgp_bitmap_format(b) : strdup("-");
}

static const char *role(const struct cgp_verify_thread *t, char *buf, size_t n)
{
    if (t->role == CGP_THREAD_VCPU)
        snprintf(buf, n, "vcpu%d", t->vcpu);
    else if (t->role == CGP_THREAD_IOTHREAD)
        snprintf(buf, n, "iothread %s", t->iothread ? t->iothread : "?");
    else
        snprintf(buf, n, "emulator");
    return buf;
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

int cmd_verify(struct cli *cli, int argc, char **argv)
{
    const char *path;
    int rc = cmdenf_args("verify", argc, argv, &path);
    if (rc)
        return rc;
    struct cmdenf c;
    if ((rc = cmdenf_load(cli, "verify", path, &c)))
        return rc;
    if ((rc = cli_sandbox(cli, "verify"))) {
        cmdenf_free(&c);
        return rc;
    }
    cgp_verify *v = NULL;
    int r = cgp_verify_run(c.ctx, c.pl, c.g, c.n, &v);
    if (r < 0) {
        rc = cmdenf_root_error(c.ctx, "verify", r);
        cmdenf_free(&c);
        return rc;
    }
    const cgp_enforce *e = cgp_verify_plan(v);
    rc = cgp_verify_drift(v) ? EXIT_DRIFT : EXIT_OK;
    if (cgp_enforce_summary(e)->outcome == CGP_ENFORCE_INVALID)
        rc = EXIT_USAGE;
    if (!cli->json)
        cmdenf_print_msgs(cli, e);
    struct json_object *root = cli->json ? json_object_new_object() : NULL;
    struct json_object *ga = cli->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < cgp_verify_n_guests(v); i++) {
        const struct cgp_verify_guest *g = cgp_verify_guest(v, i);
        const struct cgp_enforce_guest *eg = cgp_enforce_guest(e, i);
        struct json_object *go = NULL, *cga = NULL, *tha = NULL;
        if (cli->json) {
            go = json_object_new_object();
            json_object_object_add(go, "name", json_object_new_string(g->name));
            json_object_object_add(go, "pid", g->proc ? json_object_new_int(g->proc->pid) : NULL);
            json_object_object_add(go, "state", json_object_new_string(cgp_guest_state_name(eg->state)));
            json_object_object_add(go, "drift", json_object_new_boolean(g->drift));
            cga = json_object_new_array();
            tha = json_object_new_array();
        } else {
            printf("guest %s", g->name);
            if (g->proc)
                printf(" (pid %d)", g->proc->pid);
            if (!g->proc)
                printf(": not running\n");
            else if (g->foreign)
                printf(": managed by libvirt/machined, not checked\n");
            else if (eg->state == CGP_GUEST_INVALID || eg->state == CGP_GUEST_FAILED || eg->state == CGP_GUEST_VANISHED)
                printf(": %s%s%s\n", cgp_guest_state_name(eg->state), eg->detail ? ": " : "", eg->detail ? eg->detail : "");
            else
                printf(": %s\n", g->drift ? "DRIFT" : "compliant");
        }
        for (size_t k = 0; k < g->n_cgroups; k++) {
            const struct cgp_verify_cgroup *cg = &g->cgroups[k];
            char *cw = fmt(cg->cpus_want), *ce = fmt(cg->cpus_eff), *mw = fmt(cg->mems_want), *me = fmt(cg->mems_eff);
            if (cli->json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "path", json_object_new_string(cg->path));
                json_object_object_add(o, "exists", json_object_new_boolean(cg->exists));
                json_object_object_add(o, "cpus", cli_json_set(cg->cpus_want));
                json_object_object_add(o, "cpus_effective", cli_json_set(cg->cpus_eff));
                json_object_object_add(o, "mems", cli_json_set(cg->mems_want));
                json_object_object_add(o, "mems_effective", cli_json_set(cg->mems_eff));
                json_object_object_add(o, "drift", json_object_new_boolean(cg->drift));
                json_object_array_add(cga, o);
            } else {
                printf("  %s cgroup %-28s cpus %s (effective %s)  mems %s (effective %s)%s\n", cg->drift ? "!" : " ",
                       cg->path, cw, cg->exists ? ce : "missing", mw, cg->exists ? me : "missing", cg->drift ? "  DRIFT" : "");
            }
            free(cw);
            free(ce);
            free(mw);
            free(me);
        }
        for (size_t k = 0; k < g->n_threads; k++) {
            const struct cgp_verify_thread *t = &g->threads[k];
            char rb[80];
            char *cw = fmt(t->cpus_want), *ch = fmt(t->cpus_have), *mw = fmt(t->mems_want), *mh = fmt(t->mems_have);
            if (cli->json) {
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "tid", json_object_new_int(t->tid));
                json_object_object_add(o, "role", json_object_new_string(role(t, rb, sizeof rb)));
                json_object_object_add(o, "cgroup", json_object_new_string(t->cgroup_want));
                json_object_object_add(o, "cgroup_actual", t->cgroup_have ? json_object_new_string(t->cgroup_have) : NULL);
                json_object_object_add(o, "cpus", cli_json_set(t->cpus_want));
                json_object_object_add(o, "cpus_actual", cli_json_set(t->cpus_have));
                json_object_object_add(o, "mems", cli_json_set(t->mems_want));
                json_object_object_add(o, "mems_actual", cli_json_set(t->mems_have));
                json_object_object_add(o, "drift", json_object_new_boolean(t->drift));
                json_object_array_add(tha, o);
            } else if (!t->cgroup_have && !t->cpus_have) {
                printf("    thread %-7d %-12s ended\n", t->tid, role(t, rb, sizeof rb));
            } else {
                bool cgok = t->cgroup_have && !strcmp(t->cgroup_have, t->cgroup_want);
                printf("  %s thread %-7d %-12s cpus %s (intended %s)  nodes %s (intended %s)  cgroup %s%s%s%s\n",
                       t->drift ? "!" : " ", t->tid, role(t, rb, sizeof rb), ch, cw, mh, mw,
                       t->cgroup_have ? t->cgroup_have : "?", cgok ? "" : " (intended ", cgok ? "" : t->cgroup_want,
                       cgok ? "" : ")");
            }
            free(cw);
            free(ch);
            free(mw);
            free(mh);
        }
        if (g->proc && !g->foreign && g->n_cgroups) {
            if (cli->json) {
                json_object_object_add(go, "pages", g->n_nodes ? pages_json(g, g->pages) : NULL);
                json_object_object_add(go, "anon_pages", g->n_nodes ? pages_json(g, g->anon_pages) : NULL);
                json_object_object_add(go, "anon_pages_outside", json_object_new_int64((int64_t)g->anon_outside));
            } else if (g->n_nodes) {
                printf("  %s memory pages per node:", g->anon_outside ? "!" : " ");
                for (size_t n = 0; n < g->n_nodes; n++)
                    printf(" N%zu=%llu", n, (unsigned long long)g->pages[n]);
                printf("  (anonymous:");
                for (size_t n = 0; n < g->n_nodes; n++)
                    printf(" N%zu=%llu", n, (unsigned long long)g->anon_pages[n]);
                printf("; %llu outside the guest's nodes)\n", (unsigned long long)g->anon_outside);
            } else {
                printf("    memory: numa_maps unreadable\n");
            }
        }
        if (cli->json) {
            json_object_object_add(go, "cgroups", cga);
            json_object_object_add(go, "threads", tha);
            json_object_array_add(ga, go);
        }
    }
    size_t pending = cgp_enforce_n_ops(e);
    if (cli->json) {
        json_object_object_add(root, "drift", json_object_new_boolean(cgp_verify_drift(v)));
        json_object_object_add(root, "guests", ga);
        json_object_object_add(root, "ops", cmdenf_ops_json(e));
        json_object_object_add(root, "unmanaged", json_object_new_int64((int64_t)cgp_enforce_summary(e)->n_unmanaged));
        json_object_object_add(root, "messages", cmdenf_msgs_json(e));
        cli_print_json(root);
    } else {
        if (pending)
            printf("%zu cgroup write%s pending (see 'cgplace plan')\n", pending, pending == 1 ? "" : "s");
        printf("%s\n", cgp_verify_drift(v) ? "drift found" : "no drift");
    }
    cgp_verify_free(v);
    cmdenf_free(&c);
    return rc;
}
