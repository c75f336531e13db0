/* The systemd backend (spec §6 with systemd as PID 1): systemd owns the
 * cgroup tree, so each guest gets a transient scope, cgplace-NAME.scope in
 * the host's slice, created over D-Bus with Delegate=yes; its envelope (the
 * scope's own cpuset.cpus/mems) is set as the unit properties AllowedCPUs=
 * and AllowedMemoryNodes=, never by writing the scope's files. cgplace
 * writes only below the scope: the domain group NAME/ that holds the process
 * (no process may stay in a group whose children get controllers, and
 * systemd puts its .control processes in the unit's own group), and the
 * threaded children under it. Everything below the scope is the cgroupfs
 * backend's work.
 *
 * Also the backend choice: `backend auto|cgroupfs|systemd` (host block). */
#include "cgctl-int.h"

#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MGR "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_US (30ull * 1000000)

struct cgctl_unit_hooks cgctl_unit_hooks;

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

/* The cgroup of a slice: a-b.slice lives in a.slice/a-b.slice. */
static const char *slice_path(struct cgp_arena *a, const char *slice)
{
    size_t n = strlen(slice) - strlen(".slice");
    const char *p = "";
    for (size_t i = 0; i <= n; i++)
        if (i == n || slice[i] == '-')
            p = cgp_arena_printf(a, "%s%s%.*s.slice", p ? p : "", p && *p ? "/" : "", (int)i, slice);
    return p;
}

int cgctl_sd_place(struct cgctl_backend *be, const struct cgp_host_settings *hs, const char *guest,
                    struct cgp_arena *a, const char **path, const char **unit)
{
    (void)be;
    const char *sp = slice_path(a, hs->slice);
    const char *u = sp ? cgp_arena_printf(a, "%s/cgplace-%s.scope", sp, guest) : NULL;
    const char *p = u ? cgp_arena_printf(a, "%s/%s", u, guest) : NULL;
    if (!p)
        return -ENOMEM;
    *path = p;
    *unit = u;
    return 0;
}

void cgctl_sd_describe(enum cgctl_act act, enum cgp_op_kind *kind, const char **file, const char **value,
                        const char **item)
{
    switch (act) {
    case CGCTL_UNIT_START:
        *kind = CGP_OP_DBUS, *file = "StartTransientUnit", *value = NULL, *item = NULL;
        return;
    case CGCTL_UNIT_STOP:
        *kind = CGP_OP_DBUS, *file = "StopUnit", *value = NULL, *item = NULL;
        return;
    case CGCTL_MACHINE_REGISTER:
    case CGCTL_MACHINE_UNREGISTER:
        *kind = CGP_OP_DBUS, *value = NULL, *item = NULL;
        *file = act == CGCTL_MACHINE_REGISTER ? "RegisterMachine" : "UnregisterMachine";
        return;
    case CGCTL_UNIT_CPUS:
    case CGCTL_UNIT_MEMS:
        *kind = CGP_OP_DBUS, *file = "SetUnitProperties", *value = NULL;
        *item = act == CGCTL_UNIT_CPUS ? "AllowedCPUs" : "AllowedMemoryNodes";
        return;
    default:
        cgctl_fs_describe(act, kind, file, value, item);
    }
}

/* ------------------------------------------------------------------ */
/* D-Bus                                                                */
/* ------------------------------------------------------------------ */

struct sd_state {
    sd_bus *bus;
    sd_bus_slot *jobs;   /* the JobRemoved match, once per connection */
    const char *job;     /* the job being waited for */
    char *job_result;
    bool job_done;
};

static int on_job_removed(sd_bus_message *m, void *ud, sd_bus_error *err);

static int bus_fail(struct cgctl_backend *be, int r, const sd_bus_error *err, const char *what)
{
    return cgp_ctx_errorf(be->ctx, r, "systemd: %s: %s", what,
                          err && sd_bus_error_is_set(err) ? err->message : strerror(-r));
}

static int bus_get(struct cgctl_backend *be, sd_bus **out)
{
    struct sd_state *st = be->priv;
    if (!st && !(st = be->priv = calloc(1, sizeof *st)))
        return -ENOMEM;
    if (!st->bus) {
        int r = sd_bus_open_system(&st->bus);
        if (r < 0)
            return bus_fail(be, r, NULL, "cannot connect to the system bus");
        /* before any job is queued, so that no JobRemoved can be missed */
        r = sd_bus_match_signal(st->bus, &st->jobs, SD_DEST, SD_PATH, SD_MGR, "JobRemoved", on_job_removed, st);
        if (r < 0)
            return bus_fail(be, r, NULL, "subscribing to systemd's JobRemoved");
    }
    *out = st->bus;
    return 0;
}

static int on_job_removed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
    (void)err;
    struct sd_state *st = ud;
    uint32_t id;
    const char *path, *unit, *result;
    if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || !st->job || strcmp(path, st->job))
        return 0;
    free(st->job_result);
    st->job_result = strdup(result);
    st->job_done = true;
    return 0;
}

/* Systemd's cpu and node sets: a little-endian bit mask, 8 per byte. */
static int append_mask(sd_bus_message *m, const char *list)
{
    cgp_bitmap *b CGP_AUTOBITMAP = NULL;
    int r = cgp_bitmap_parse(list, 0, &b, NULL);
    if (r < 0)
        return r;
    int last = cgp_bitmap_last(b);
    size_t n = last < 0 ? 0 : (size_t)last / 8 + 1;
    uint8_t *mask CGP_AUTOFREE = calloc(n ? n : 1, 1);
    if (!mask)
        return -ENOMEM;
    for (int i = cgp_bitmap_next(b, 0); i >= 0; i = cgp_bitmap_next(b, (unsigned)i + 1))
        mask[i / 8] |= (uint8_t)(1u << (i % 8));
    return sd_bus_message_append_array(m, 'y', mask, n);
}

static int append_prop(sd_bus_message *m, const char *key, const char *val)
{
    int r;
    if ((r = sd_bus_message_open_container(m, 'r', "sv")) < 0 || (r = sd_bus_message_append(m, "s", key)) < 0)
        return r;
    if (!strcmp(key, "AllowedCPUs") || !strcmp(key, "AllowedMemoryNodes")) {
        if ((r = sd_bus_message_open_container(m, 'v', "ay")) < 0 || (r = append_mask(m, val)) < 0)
            return r;
    } else if (!strcmp(key, "Delegate")) {
        r = sd_bus_message_append(m, "v", "b", 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    } else if (!strcmp(key, "PIDs")) {
        r = sd_bus_message_append(m, "v", "au", 1, (uint32_t)atoi(val));
        return r < 0 ? r : sd_bus_message_close_container(m);
    } else {
        r = sd_bus_message_append(m, "v", "s", val);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    if ((r = sd_bus_message_close_container(m)) < 0)
        return r;
    return sd_bus_message_close_container(m);
}

/* Call a manager method that queues a job and wait for the job to finish
 * (JobRemoved), so that the scope exists when this returns. */
static int call_job(struct cgctl_backend *be, sd_bus_message *m, const char *what)
{
    sd_bus *bus;
    int r = bus_get(be, &bus);
    if (r < 0)
        return r;
    struct sd_state *st = be->priv;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    r = sd_bus_call(bus, m, JOB_TIMEOUT_US, &err, &reply);
    const char *job = NULL;
    if (r >= 0)
        r = sd_bus_message_read(reply, "o", &job);
    if (r < 0) {
        bus_fail(be, r, &err, what);
        goto out;
    }
    st->job = job;
    st->job_done = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!st->job_done) {
        r = sd_bus_process(bus, NULL);
        if (r < 0) {
            bus_fail(be, r, NULL, what);
            goto out;
        }
        if (r > 0)
            continue;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        uint64_t spent = (uint64_t)(t.tv_sec - t0.tv_sec) * 1000000 + (uint64_t)((t.tv_nsec - t0.tv_nsec) / 1000);
        if (spent >= JOB_TIMEOUT_US) {
            r = cgp_ctx_errorf(be->ctx, -ETIMEDOUT, "systemd: %s: job %s did not finish in %llu s", what, job,
                               (unsigned long long)(JOB_TIMEOUT_US / 1000000));
            goto out;
        }
        if ((r = sd_bus_wait(bus, JOB_TIMEOUT_US - spent)) < 0) {
            bus_fail(be, r, NULL, what);
            goto out;
        }
    }
    if (!st->job_result || strcmp(st->job_result, "done"))
        r = cgp_ctx_errorf(be->ctx, -EIO, "systemd: %s: job %s", what, st->job_result ? st->job_result : "failed");
out:
    st->job = NULL;
    sd_bus_message_unref(reply);
    sd_bus_error_free(&err);
    return r;
}

static const char *unit_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* StartTransientUnit(name, "fail", properties, no aux units). value is the
 * report's text: "PIDs=N Slice=S Delegate=yes AllowedCPUs=L ...". */
static int start_scope(struct cgctl_backend *be, const char *path, const char *value)
{
    if (cgctl_unit_hooks.start) {
        const char *pids = strstr(value, "PIDs=");
        return cgctl_unit_hooks.start(cgctl_unit_hooks.ud, path, value, pids ? atoi(pids + 5) : 0);
    }
    char *props CGP_AUTOFREE = strdup(value);
    if (!props)
        return -ENOMEM;
    sd_bus *bus;
    int r = bus_get(be, &bus);
    if (r < 0)
        return r;
    sd_bus_message *m = NULL;
    r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MGR, "StartTransientUnit");
    if (r >= 0)
        r = sd_bus_message_append(m, "ss", unit_of(path), "fail");
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "(sv)");
    for (char *save = NULL, *kv = strtok_r(props, " ", &save); r >= 0 && kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        r = append_prop(m, kv, eq + 1);
    }
    /* named for `systemctl status`; collected even when it fails */
    char desc[320];
    snprintf(desc, sizeof desc, "cgplace guest %.*s", (int)(strlen(unit_of(path)) - strlen("cgplace-.scope")),
             unit_of(path) + strlen("cgplace-"));
    if (r >= 0)
        r = append_prop(m, "Description", desc);
    if (r >= 0)
        r = append_prop(m, "CollectMode", "inactive-or-failed");
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
    if (r < 0) {
        sd_bus_message_unref(m);
        return bus_fail(be, r, NULL, "StartTransientUnit: building the call");
    }
    char what[320];
    snprintf(what, sizeof what, "StartTransientUnit %s", unit_of(path));
    r = call_job(be, m, what);
    sd_bus_message_unref(m);
    return r;
}

static int set_prop(struct cgctl_backend *be, const char *path, const char *key, const char *value)
{
    if (cgctl_unit_hooks.set)
        return cgctl_unit_hooks.set(cgctl_unit_hooks.ud, path, key, value);
    sd_bus *bus;
    int r = bus_get(be, &bus);
    if (r < 0)
        return r;
    sd_bus_message *m = NULL;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MGR, "SetUnitProperties");
    /* runtime only for a guest's scope: it is transient, and so is what it
     * holds; the host's own units keep their confinement at every boot */
    bool runtime = !strncmp(unit_of(path), "cgplace-", 8);
    if (r >= 0)
        r = sd_bus_message_append(m, "sb", unit_of(path), runtime);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "(sv)");
    if (r >= 0)
        r = append_prop(m, key, value);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_call(bus, m, JOB_TIMEOUT_US, &err, NULL);
    if (r < 0)
        bus_fail(be, r, &err, "SetUnitProperties");
    sd_bus_message_unref(m);
    sd_bus_error_free(&err);
    return r;
}

/* Undo of a start: the process back where it was, then the scope stopped,
 * but only once nothing runs in it (stopping a scope kills what it holds). */
static int stop_scope(struct cgctl_backend *be, const char *path, const char *value)
{
    /* the old group is the rest of the value: a cgroup name may hold spaces */
    const char *sp = strchr(value, ' ');
    char pids[16];
    if (!sp || sp == value || (size_t)(sp - value) >= sizeof pids)
        return -EINVAL;
    snprintf(pids, sizeof pids, "%.*s", (int)(sp - value), value);
    const char *back = sp[1] == '/' ? sp + 2 : sp + 1;
    int r = cgctl_fs_act(be, CGCTL_MOVE_PROCESS, back, pids, true);
    if (r < 0 && r != -ESRCH)
        return r;
    char *procs CGP_AUTOFREE = NULL;
    int dfd = cgctl_fs_dir(be, path);
    if (dfd >= 0 && cgp_read_one(dfd, "cgroup.procs", 1 << 16, &procs) >= 0 && *procs)
        return 0;   /* something else runs there: leave it */
    if (cgctl_unit_hooks.stop)
        return cgctl_unit_hooks.stop(cgctl_unit_hooks.ud, path);
    sd_bus *bus;
    if ((r = bus_get(be, &bus)) < 0)
        return r;
    sd_bus_message *m = NULL;
    r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MGR, "StopUnit");
    if (r >= 0)
        r = sd_bus_message_append(m, "ss", unit_of(path), "replace");
    if (r >= 0)
        r = call_job(be, m, "StopUnit");
    else
        bus_fail(be, r, NULL, "StopUnit");
    sd_bus_message_unref(m);
    return r;
}

/* The word KEY=... of a "K=V K=V" value, into buf; "" when absent. */
static const char *word(const char *value, const char *key, char *buf, size_t size)
{
    size_t k = strlen(key);
    for (const char *s = value; s && *s; s = strchr(s, ' ') ? strchr(s, ' ') + 1 : NULL)
        if (!strncmp(s, key, k) && s[k] == '=') {
            snprintf(buf, size, "%.*s", (int)strcspn(s + k + 1, " "), s + k + 1);
            return buf;
        }
    return buf[0] = '\0', buf;
}

/* systemd-machined: the scope's process as machine NAME (class vm, service
 * cgplace), so `machinectl list` shows it; machined finds the scope from the
 * leader's cgroup and forgets the machine when the scope goes. */
static int machine(struct cgctl_backend *be, bool reg, const char *value)
{
    if (cgctl_unit_hooks.machine)
        return cgctl_unit_hooks.machine(cgctl_unit_hooks.ud, reg, value);
    char name[80], leader[16], id[64];
    word(value, "Name", name, sizeof name);
    word(value, "Leader", leader, sizeof leader);
    word(value, "Id", id, sizeof id);
    sd_id128_t uuid = SD_ID128_NULL;
    if (*id && sd_id128_from_string(id, &uuid) < 0)
        uuid = SD_ID128_NULL;
    sd_bus *bus;
    int r = bus_get(be, &bus);
    if (r < 0)
        return r;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                       "org.freedesktop.machine1.Manager", reg ? "RegisterMachine" : "UnregisterMachine");
    if (r >= 0)
        r = sd_bus_message_append(m, "s", name);
    if (r >= 0 && reg)   /* name, id (16 bytes or none), service, class, leader, root directory */
        r = sd_bus_message_append_array(m, 'y', uuid.bytes, sd_id128_is_null(uuid) ? 0 : 16);
    if (r >= 0 && reg)
        r = sd_bus_message_append(m, "ssus", "cgplace", "vm", (uint32_t)atoi(leader), "");
    if (r >= 0)
        r = sd_bus_call(bus, m, 0, &err, NULL);
    sd_bus_message_unref(m);
    if (r < 0)
        bus_fail(be, r, &err, reg ? "machined RegisterMachine" : "machined UnregisterMachine");
    sd_bus_error_free(&err);
    return r < 0 ? r : 0;
}

static int sd_act(struct cgctl_backend *be, enum cgctl_act act, const char *path, const char *value, bool undo)
{
    switch (act) {
    case CGCTL_UNIT_START:
        return start_scope(be, path, value);
    case CGCTL_UNIT_STOP:
        return stop_scope(be, path, value);
    case CGCTL_MACHINE_REGISTER:
    case CGCTL_MACHINE_UNREGISTER:
        return machine(be, act == CGCTL_MACHINE_REGISTER, value);
    case CGCTL_UNIT_CPUS:
        return set_prop(be, path, "AllowedCPUs", value);
    case CGCTL_UNIT_MEMS:
        return set_prop(be, path, "AllowedMemoryNodes", value);
    default:
        return cgctl_fs_act(be, act, path, value, undo);
    }
}

static void sd_close(struct cgctl_backend *be)
{
    struct sd_state *st = be->priv;
    if (st) {
        sd_bus_slot_unref(st->jobs);
        sd_bus_flush_close_unref(st->bus);
        free(st->job_result);
        free(st);
        be->priv = NULL;
    }
    cgctl_fs_close(be);
}

const struct cgctl_backend_ops cgctl_backend_systemd = {
    .name = "systemd",
    .no_shared = true,
    .host_units = true,
    .open = cgctl_fs_open,
    .close = sd_close,
    .place = cgctl_sd_place,
    .read_group = cgctl_fs_read_group,
    .describe = cgctl_sd_describe,
    .act = sd_act,
    .read_effective = cgctl_fs_read_effective,
    .task_group = cgctl_fs_task_group,
};

/* ------------------------------------------------------------------ */
/* The choice                                                           */
/* ------------------------------------------------------------------ */

/* systemd runs this host's cgroup tree: PID 1 (sd_booted) on a unified
 * cgroup2 hierarchy (in hybrid mode cpuset stays on v1 and cannot be
 * delegated). Fixture trees (--sysroot, --cgroup-root) never are. */
static bool systemd_owns_tree(cgp_ctx *ctx)
{
    struct statfs fs;
    if (!ctx->systemd_tree)
        ctx->systemd_tree = ctx->real_host && sd_booted() > 0 && statfs("/sys/fs/cgroup", &fs) == 0 &&
                                    (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC ? 2 : 1;
    return ctx->systemd_tree == 2;
}

/* Its system bus takes a connection. */
static bool systemd_bus_answers(cgp_ctx *ctx)
{
    if (!ctx->systemd_bus) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        sd_bus_flush_close_unref(bus);
        ctx->systemd_bus = r < 0 ? 1 : 2;
    }
    return ctx->systemd_bus == 2;
}

const struct cgctl_backend_ops *cgctl_backend_choose(cgp_ctx *ctx, const struct cgp_host_settings *hs,
                                                     const char **warning)
{
    *warning = NULL;
    switch (hs->backend) {
    case CGP_BACKEND_SYSTEMD:
        return &cgctl_backend_systemd;
    case CGP_BACKEND_CGROUPFS:
        if (systemd_owns_tree(ctx))
            *warning = "systemd is PID 1 and owns the cgroup tree, but the policy forces 'backend cgroupfs': "
                       "cgplace writes below the root, against systemd's delegation rules (a daemon-reload can "
                       "take cpuset away from the root's cgroup.subtree_control, and guests leave their units); "
                       "use 'backend systemd' or 'backend auto'";
        return &cgctl_backend_cgroupfs;
    case CGP_BACKEND_AUTO:
        break;
    }
    if (!systemd_owns_tree(ctx))
        return &cgctl_backend_cgroupfs;
    if (!systemd_bus_answers(ctx)) {
        *warning = "systemd is PID 1 but its system bus does not answer: falling back to the cgroupfs backend";
        return &cgctl_backend_cgroupfs;
    }
    return &cgctl_backend_systemd;
}

static bool cg_under(const char *cg, const char *base)
{
    size_t n = strlen(base);
    return cg[0] == '/' && !strncmp(cg + 1, base, n) && cg[n + 1] == '/';
}

CGP_EXPORT enum cgp_guest_owner cgp_guest_owner_of(cgp_ctx *ctx, const struct cgp_host_settings *hs,
                                                   const struct cgp_guest *g, const char **backend)
{
    static const struct cgp_host_settings defaults = { .parent = "cgplace", .slice = "cgplace.slice" };
    if (!hs)
        hs = &defaults;
    if (g && g->foreign) {
        if (backend)
            *backend = "libvirt";
        return CGP_OWNER_LIBVIRT;
    }
    if (backend) {
        const char *warning;
        *backend = ctx ? cgctl_backend_choose(ctx, hs, &warning)->name : cgp_backend_name(hs->backend);
    }
    if (!g)
        return CGP_OWNER_NONE;
    struct cgp_arena a = { 0 };
    const char *sp = g->cgroup ? slice_path(&a, hs->slice) : NULL;
    const char *scopes = sp ? cgp_arena_printf(&a, "%s/cgplace-", sp) : NULL;
    bool ours = g->cgroup && (cg_under(g->cgroup, hs->parent) ||
                              (scopes && g->cgroup[0] == '/' && !strncmp(g->cgroup + 1, scopes, strlen(scopes))));
    cgp_arena_clear(&a);
    return ours ? CGP_OWNER_CGPLACE : CGP_OWNER_OTHER;
}
