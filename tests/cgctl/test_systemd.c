/* The systemd backend on a fake cgroup tree (fakecg.c plays the kernel) with
 * a fake manager behind the unit hooks (it plays systemd: creates the scope
 * with the process in it, applies AllowedCPUs=/AllowedMemoryNodes=, stops
 * the scope). What is checked: the layout (SLICE/cgplace-NAME.scope/NAME/
 * with the threaded children), that cgplace writes nothing outside the
 * scope and never the scope's own cpuset files, the envelope as unit
 * properties, idempotence, widening and narrowing through the properties,
 * and rollback at every step, down to the scope stopped once empty. */
#include "fakecg.h"
#include "cgctl-int.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* two-socket-smt fixture: 16 CPUs, nodes 0 and 1 */
static const char *POL_1 =
    "host { backend systemd; }\n"
    "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; vcpupin 3 3;"
    " emulatorpin 0-1; iothreadpin io1 2-3; }\n";
/* moves to disjoint CPUs and widens its nodes */
static const char *POL_2 =
    "host { backend systemd; }\n"
    "guest web { vcpus 4; cpus 8-11; memory 1G nodes 0-1; vcpupin 0 8; vcpupin 1 9; vcpupin 2 10; vcpupin 3 11;"
    " emulatorpin 8-9; iothreadpin io1 10-11; }\n";
#define SCOPE "cgplace.slice/cgplace-web.scope"

static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;
static struct cgp_guest_thread TH[FAKE_QEMU_THREADS];
static struct cgp_guest G;
static const struct cgp_guest *GS[1] = { &G };

/* ---- the fake manager ---- */
static char SDLOG[8192];
static int stop_calls;

static void sdlog(const char *fmt, const char *a, const char *b)
{
    size_t l = strlen(SDLOG);
    snprintf(SDLOG + l, sizeof SDLOG - l, fmt, a, b);
}

static const char *prop(const char *props, const char *key, char *buf, size_t n)
{
    const char *p = strstr(props, key);
    cr_assert(p, "no %s in '%s'", key, props);
    p += strlen(key);
    size_t k = strcspn(p, " ");
    snprintf(buf, n, "%.*s", (int)(k < n ? k : n - 1), p);
    return buf;
}

static int sd_start(void *ud, const char *path, const char *props, int pid)
{
    struct fake *f = ud;
    sdlog("start %s %s\n", path, props);
    char cpus[64], mems[64], pids[32];
    cr_assert(strstr(props, "Slice=cgplace.slice") && strstr(props, "Delegate=yes"), "%s", props);
    /* systemd enables cpuset down to a delegated unit */
    fake_play(f, CGCTL_IO_WRITE, "", "cgroup.subtree_control", "+cpuset");
    struct stat st;
    char p[600];
    snprintf(p, sizeof p, "%s/cgplace.slice", f->root);
    if (stat(p, &st) < 0)
        fake_play(f, CGCTL_IO_MKDIR, "cgplace.slice", NULL, NULL);
    fake_play(f, CGCTL_IO_WRITE, "cgplace.slice", "cgroup.subtree_control", "+cpuset");
    fake_play(f, CGCTL_IO_MKDIR, path, NULL, NULL);
    fake_play(f, CGCTL_IO_WRITE, path, "cpuset.cpus", prop(props, "AllowedCPUs=", cpus, sizeof cpus));
    fake_play(f, CGCTL_IO_WRITE, path, "cpuset.mems", prop(props, "AllowedMemoryNodes=", mems, sizeof mems));
    snprintf(pids, sizeof pids, "%d", pid);
    cr_assert_str_eq(prop(props, "PIDs=", mems, sizeof mems), pids);
    return fake_play(f, CGCTL_IO_WRITE, path, "cgroup.procs", pids);
}

static int sd_set(void *ud, const char *path, const char *key, const char *value)
{
    sdlog("set %s %s", path, key);
    sdlog("=%s%s\n", value, "");
    return fake_play(ud, CGCTL_IO_WRITE, path, !strcmp(key, "AllowedCPUs") ? "cpuset.cpus" : "cpuset.mems", value);
}

static int sd_stop(void *ud, const char *path)
{
    sdlog("stop %s%s\n", path, "");
    stop_calls++;
    return fake_play(ud, CGCTL_IO_RMDIR, path, NULL, NULL);
}

/* machined: registrations held, in order */
static char MACHINES[256];

static int sd_machine(void *ud, bool reg, const char *value)
{
    (void)ud;
    sdlog("%s %s\n", reg ? "register" : "unregister", value);
    char name[64];
    snprintf(name, sizeof name, "%.*s;", (int)strcspn(value + 5, " "), value + 5);   /* after "Name=" */
    char *at = strstr(MACHINES, name);
    if (reg == (at != NULL))
        return reg ? -EEXIST : -ENXIO;
    if (reg)
        strcat(MACHINES, name);
    else
        memmove(at, at + strlen(name), strlen(at + strlen(name)) + 1);
    return 0;
}

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G, TH, 1000, "web");
    cgctl_unit_hooks = (struct cgctl_unit_hooks){ .start = sd_start, .set = sd_set, .stop = sd_stop,
                                                  .machine = sd_machine, .ud = &F };
    SDLOG[0] = '\0';
    MACHINES[0] = '\0';
    stop_calls = 0;
}

static void teardown(void)
{
    memset(&cgctl_unit_hooks, 0, sizeof cgctl_unit_hooks);
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

static cgp_placement *compile(const char *text)
{
    return fake_compile(TOPO, text);
}

static cgp_enforce *run(const cgp_placement *pl, unsigned flags)
{
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(CTX, pl, GS, 1, flags, &e);
    cr_assert(r == 0, "cgp_enforce_run: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return e;
}

/* Where each thread must be, with what the kernel lets it use. */
static void check_threads(const char *emu, const char *v0, const char *io, const char *mems)
{
    static const char *const dirs[7] = { "emulator", "emulator", "vcpu0", "vcpu1", "vcpu2", "vcpu3", "iothread-io1" };
    for (int i = 0; i < 7; i++) {
        char want[128];
        snprintf(want, sizeof want, SCOPE "/web/%s", dirs[i]);
        cr_assert_str_eq(fake_task_cg(&F, 1000 + i), want, "thread %d", 1000 + i);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/proc/1000/task/1002/status", F.sys);
    FILE *fp = fopen(p, "r");
    cr_assert(fp);
    char line[256], cpus[64] = "", nodes[64] = "";
    while (fgets(line, sizeof line, fp)) {
        sscanf(line, "Cpus_allowed_list: %63s", cpus);
        sscanf(line, "Mems_allowed_list: %63s", nodes);
    }
    fclose(fp);
    cr_assert_str_eq(cpus, v0);
    cr_assert_str_eq(nodes, mems);
    char *e = fake_read(&F, SCOPE "/web/emulator", "cpuset.cpus.effective");
    char *i = fake_read(&F, SCOPE "/web/iothread-io1", "cpuset.cpus.effective");
    cr_assert(!strncmp(e, emu, strlen(emu)) && !strncmp(i, io, strlen(io)), "emulator %s, iothread %s", e, i);
    free(e);
    free(i);
}

/* cgplace's own writes stay below the scope and never touch its sets. */
static void check_confined(void)
{
    char *log = strdup(F.log);
    for (char *save = NULL, *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        const char *path = strchr(l, ' ') + 1;
        cr_assert(!strncmp(path, SCOPE "/", strlen(SCOPE) + 1) ||
                      !strncmp(path, SCOPE "/cgroup.subtree_control", strlen(SCOPE) + 23),
                  "write outside the delegated scope: %s", l);
        cr_assert(strncmp(path, SCOPE "/cpuset.", strlen(SCOPE) + 8), "the scope's own set written: %s", l);
    }
    free(log);
}

TestSuite(systemd, .init = setup, .fini = teardown);

Test(systemd, plan_is_calls_then_writes_below_the_scope)
{
    cgp_placement *pl = compile(POL_1);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    const struct cgp_op *o = cgp_enforce_op(e, 0);
    cr_assert(o && o->kind == CGP_OP_DBUS);
    cr_assert_str_eq(o->file, "StartTransientUnit");
    cr_assert_str_eq(o->path, "cgplace-web.scope");
    cr_assert_str_eq(o->value, "PIDs=1000 Slice=cgplace.slice Delegate=yes AllowedCPUs=0-3 AllowedMemoryNodes=0");
    /* then the guest's group, the process into it, cpuset for the scope's children */
    o = cgp_enforce_op(e, 1);
    cr_assert(o->kind == CGP_OP_MKDIR && !strcmp(o->path, SCOPE "/web"));
    o = cgp_enforce_op(e, 2);
    cr_assert(!strcmp(o->file, "cgroup.procs") && !strcmp(o->path, SCOPE "/web") && !strcmp(o->value, "1000"));
    o = cgp_enforce_op(e, 3);
    cr_assert(!strcmp(o->file, "cgroup.subtree_control") && !strcmp(o->path, SCOPE));
    for (size_t i = 1; i < cgp_enforce_n_ops(e); i++) {
        o = cgp_enforce_op(e, i);
        cr_assert(o->kind != CGP_OP_DBUS, "op %zu: a second call", i);
        cr_assert(!strncmp(o->path, SCOPE, strlen(SCOPE)), "op %zu outside the scope: %s", i, o->path);
        cr_assert(strcmp(o->path, SCOPE) || !strcmp(o->file, "cgroup.subtree_control"), "op %zu: %s", i, o->file);
    }
    cr_assert_str_eq(cgp_enforce_guest(e, 0)->backend, "systemd");
    cr_assert_eq(cgp_enforce_guest(e, 0)->owner, CGP_OWNER_OTHER);
    cr_assert_str_eq(SDLOG, "", "a dry run called the manager: %s", SDLOG);
    cr_assert_str_eq(F.log, "");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(systemd, apply_places_in_a_delegated_scope_then_nothing_to_do)
{
    cgp_placement *pl = compile(POL_1);
    cgp_enforce *e = run(pl, 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK, "%s", cgp_enforce_n_msgs(e) ? cgp_enforce_msg(e, 0)->text : "");
    cr_assert_str_eq(SDLOG, "start " SCOPE " PIDs=1000 Slice=cgplace.slice Delegate=yes AllowedCPUs=0-3 "
                            "AllowedMemoryNodes=0\n");
    check_threads("0-1", "0", "2-3", "0");
    check_confined();
    cgp_enforce_free(e);
    /* the second run: the process is ours, nothing differs */
    G.cgroup = "/" SCOPE "/web/emulator";
    F.log[0] = '\0';
    e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(cgp_enforce_n_ops(e), 0, "re-apply made %zu ops", cgp_enforce_n_ops(e));
    cr_assert_eq(cgp_enforce_guest(e, 0)->owner, CGP_OWNER_CGPLACE);
    cr_assert_str_eq(F.log, "");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(systemd, envelope_widens_and_narrows_through_unit_properties)
{
    cgp_placement *pl = compile(POL_1);
    cgp_enforce_free(run(pl, 0));
    cgp_placement_free(pl);
    SDLOG[0] = '\0';
    F.log[0] = '\0';
    fake_record(&F);
    pl = compile(POL_2);
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_str_eq(SDLOG, "set " SCOPE " AllowedCPUs=0-3,8-11\n"
                            "set " SCOPE " AllowedMemoryNodes=0-1\n"
                            "set " SCOPE " AllowedCPUs=8-11\n");
    check_threads("8-9", "8", "10-11", "0-1");
    check_confined();
    const char *bad = fake_check_transients(&F);
    cr_assert(!bad, "%s", bad);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* Fail each forward step of a first apply in turn: everything is undone,
 * the process is back where it was and the scope is gone. */
Test(systemd, rollback_at_every_step_stops_the_empty_scope)
{
    cgp_placement *pl = compile(POL_1);
    /* what systemd did at boot: the slice exists, cpuset enabled down to it */
    fake_play(&F, CGCTL_IO_WRITE, "", "cgroup.subtree_control", "+cpuset");
    fake_play(&F, CGCTL_IO_MKDIR, "cgplace.slice", NULL, NULL);
    fake_play(&F, CGCTL_IO_WRITE, "cgplace.slice", "cgroup.subtree_control", "+cpuset");
    char *before = fake_snapshot(&F);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    size_t n = cgp_enforce_n_ops(e);
    cgp_enforce_free(e);
    cr_assert(n > 10);
    /* the start is not a cgroupfs operation: the fake kernel counts from the mkdir */
    for (unsigned k = 1; k < n; k++) {
        F.fail_at = k;
        F.n_forward = 0;
        stop_calls = 0;
        e = run(pl, 0);
        cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED, "fail at %u", k);
        cr_assert(!cgp_enforce_summary(e)->rollback_incomplete, "fail at %u", k);
        cr_assert_eq(stop_calls, 1, "fail at %u: the scope was stopped %d times", k, stop_calls);
        char *after = fake_snapshot(&F);
        cr_assert_str_eq(after, before, "fail at %u: the tree differs after rollback", k);
        free(after);
        cgp_enforce_free(e);
    }
    free(before);
    cgp_placement_free(pl);
}

Test(systemd, fixture_trees_never_choose_systemd)
{
    struct cgp_host_settings hs = { .backend = CGP_BACKEND_AUTO, .slice = "cgplace.slice", .parent = "cgplace" };
    const char *warn = NULL;
    cr_assert_eq(cgctl_backend_choose(CTX, &hs, &warn), &cgctl_backend_cgroupfs);
    cr_assert_null(warn);
    hs.backend = CGP_BACKEND_CGROUPFS;
    cr_assert_eq(cgctl_backend_choose(CTX, &hs, &warn), &cgctl_backend_cgroupfs);
    cr_assert_null(warn, "a fixture tree is not systemd's");
    hs.backend = CGP_BACKEND_SYSTEMD;
    cr_assert_eq(cgctl_backend_choose(CTX, &hs, &warn), &cgctl_backend_systemd);
}

Test(systemd, nested_slice_path)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    const char *t = "host { backend systemd; slice \"vm-numa.slice\"; }\nguest web { vcpus 1; cpus 0; }\n";
    cr_assert(cgp_policy_parse_buffer("t.conf", t, strlen(t), d, &p) == 0);
    cgp_placement *pl = NULL;
    cr_assert(cgp_policy_compile(p, TOPO, d, &pl) == 0);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    cr_assert_str_eq(cgp_enforce_guest(e, 0)->cgroup, "vm.slice/vm-numa.slice/cgplace-web.scope/web");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
    cgp_policy_free(p);
    cgp_diags_free(d);
}

/* `confine host`: systemd's own units on the reserved CPUs, as unit
 * properties, after the guest was placed; nothing to do the second time. */
Test(systemd, confine_host_sets_the_host_units)
{
    static const char *const units[] = { "init.scope", "system.slice", "user.slice" };
    for (size_t i = 0; i < 2; i++)   /* user.slice exists already */
        fake_mkcg(&F, units[i]);
    cgp_placement *pl = fake_compile(TOPO, "host { backend systemd; reserve cpus 14-15; confine host; }\n"
                                           "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; }\n");
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK,
                 "%s", cgp_enforce_n_msgs(e) ? cgp_enforce_msg(e, 0)->text : "");
    cr_assert(strstr(SDLOG, "start " SCOPE " "), "%s", SDLOG);
    const char *tail = strstr(SDLOG, "set init.scope");
    cr_assert(tail, "%s", SDLOG);
    cr_assert_str_eq(tail, "set init.scope AllowedCPUs=14-15\nset system.slice AllowedCPUs=14-15\n"
                           "set user.slice AllowedCPUs=14-15\n");
    for (size_t i = 0; i < 3; i++) {
        char *eff = fake_read(&F, units[i], "cpuset.cpus.effective");
        cr_assert(!strncmp(eff, "14-15", 5), "%s: %s", units[i], eff);
        free(eff);
    }
    cgp_enforce_free(e);
    G.cgroup = "/" SCOPE "/web/emulator";
    SDLOG[0] = '\0';
    e = run(pl, 0);
    cr_assert_eq(cgp_enforce_n_ops(e), 0);
    cr_assert_str_eq(SDLOG, "");
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(systemd, confine_host_needs_the_systemd_backend)
{
    cgp_placement *pl = fake_compile(TOPO, "host { backend cgroupfs; reserve cpus 14-15; confine host; }\n"
                                           "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; }\n");
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    bool warned = false;
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        warned |= strstr(cgp_enforce_msg(e, i)->text, "'confine host' needs the systemd backend") != NULL;
    cr_assert(warned);
    for (size_t i = 0; i < cgp_enforce_n_ops(e); i++)
        cr_assert_neq(cgp_enforce_op(e, i)->kind, CGP_OP_DBUS);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* The undo of a start puts the process back in its old cgroup even when that
 * cgroup's name has a space in it. */
Test(systemd, rollback_returns_to_a_cgroup_with_a_space)
{
    fake_mkcg(&F, "my vms");
    fake_play(&F, CGCTL_IO_WRITE, "my vms", "cgroup.procs", "1000");
    G.cgroup = "/my vms";
    cgp_placement *pl = compile(POL_1);
    F.fail_at = 1;   /* the first cgroupfs action, right after the scope's start */
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED);
    cr_assert(!cgp_enforce_summary(e)->rollback_incomplete);
    cr_assert_eq(stop_calls, 1);
    for (int t = 1000; t < 1000 + FAKE_QEMU_THREADS; t++)
        cr_assert_str_eq(fake_task_cg(&F, t), "my vms", "thread %d", t);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* `machined yes`: the scope started is registered right after (QEMU's -uuid
 * as its id, '_' of the name as '-'); a rollback unregisters it before the
 * scope stops; a second run registers nothing. */
Test(systemd, machined_registers_the_new_scope)
{
    static const char *pol = "host { backend systemd; machined yes; }\n"
                             "guest web_1 { match name web; vcpus 4; cpus 0-3; memory 1G nodes 0; }\n";
    G.uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    cgp_placement *pl = compile(pol);
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    const struct cgp_op *o = cgp_enforce_op(e, 1);
    cr_assert(o && o->kind == CGP_OP_DBUS && !strcmp(o->file, "RegisterMachine"), "op 1: %s", o ? o->file : "-");
    cr_assert_str_eq(o->path, "cgplace-web_1.scope");
    cr_assert_str_eq(o->value, "Name=web-1 Leader=1000 Id=0f8fad5b-d9cb-469f-a165-70867728950e");
    cgp_enforce_free(e);
    e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_OK);
    cr_assert_str_eq(MACHINES, "web-1;");
    cr_assert(strstr(SDLOG, "register Name=web-1 Leader=1000 Id=0f8fad5b"), "%s", SDLOG);
    cgp_enforce_free(e);
    /* placed: nothing to do, no second registration */
    G.cgroup = "/cgplace.slice/cgplace-web_1.scope/web_1";
    e = run(pl, 0);
    cr_assert_eq(cgp_enforce_n_ops(e), 0);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

Test(systemd, machined_registration_rolled_back)
{
    static const char *pol = "host { backend systemd; machined yes; }\n"
                             "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; }\n";
    G.uuid = "x Leader=1";   /* not a UUID: no id, nothing injected */
    cgp_placement *pl = compile(pol);
    F.fail_at = 1;   /* the first cgroupfs step after the start and the registration */
    cgp_enforce *e = run(pl, 0);
    cr_assert_eq(cgp_enforce_summary(e)->outcome, CGP_ENFORCE_FAILED);
    cr_assert(!cgp_enforce_summary(e)->rollback_incomplete);
    cr_assert_str_eq(MACHINES, "", "still registered: %s", MACHINES);
    const char *reg = strstr(SDLOG, "register Name=web Leader=1000\n");
    const char *unreg = strstr(SDLOG, "unregister Name=web\n"), *stop = strstr(SDLOG, "stop ");
    cr_assert(reg && unreg && stop && unreg < stop, "%s", SDLOG);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}
