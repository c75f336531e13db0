/* Fake cgroup v2 tree for the engine's unit tests: see fakecg.h. */
#include "../common/trusted_guest.h"
#include "fakecg.h"
#include "cgctl-int.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cgp_bitmap_parse, with "" as the empty set */
static int bparse(const char *s, cgp_bitmap **out)
{
    if (!*s) {
        *out = cgp_bitmap_new();
        return 0;
    }
    return cgp_bitmap_parse(s, 0, out, NULL);
}

void fake_wfile(const char *path, const char *content)
{
    FILE *fp = fopen(path, "w");
    cr_assert(fp, "fopen %s: %s", path, strerror(errno));
    fputs(content, fp);
    fclose(fp);
}

char *fake_rfile(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return strdup("");
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, fp);
    fclose(fp);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

static void cgpath(struct fake *f, char *out, size_t n, const char *rel, const char *file)
{
    snprintf(out, n, "%s%s%s%s%s", f->root, *rel ? "/" : "", rel, file ? "/" : "", file ? file : "");
}

char *fake_read(struct fake *f, const char *rel, const char *file)
{
    char p[1024];
    cgpath(f, p, sizeof p, rel, file);
    return fake_rfile(p);
}

static void fput(struct fake *f, const char *rel, const char *file, const char *v)
{
    char p[1024];
    cgpath(f, p, sizeof p, rel, file);
    fake_wfile(p, v);
}

static void parent_of(const char *rel, char *out, size_t n)
{
    const char *s = strrchr(rel, '/');
    snprintf(out, n, "%.*s", s ? (int)(s - rel) : 0, rel);
}

static bool ctl_has_cpuset(struct fake *f, const char *rel)
{
    char *s = fake_read(f, rel, "cgroup.subtree_control");
    bool r = strstr(s, "cpuset") != NULL;
    free(s);
    return r;
}

void fake_mkcg(struct fake *f, const char *rel)
{
    char p[1024];
    cgpath(f, p, sizeof p, rel, NULL);
    if (mkdir(p, 0755) < 0)
        cr_assert(errno == EEXIST, "mkdir %s", p);
    char par[256];
    parent_of(rel, par, sizeof par);
    fput(f, rel, "cgroup.type", "domain\n");
    fput(f, rel, "cgroup.controllers", ctl_has_cpuset(f, par) ? "cpuset\n" : "\n");
    fput(f, rel, "cgroup.subtree_control", "\n");
    fput(f, rel, "cgroup.procs", "");
    fput(f, rel, "cgroup.threads", "");
    fput(f, rel, "cpuset.cpus", "\n");
    fput(f, rel, "cpuset.mems", "\n");
    fake_recompute(f);
}

void fake_write(struct fake *f, const char *rel, const char *file, const char *value)
{
    fput(f, rel, file, value);
    fake_recompute(f);
}

void fake_init(struct fake *f, const char *all_cpus, const char *all_mems)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cgp-fakecg.XXXXXX");
    cr_assert(mkdtemp(f->dir));
    snprintf(f->root, sizeof f->root, "%s/cg", f->dir);
    snprintf(f->sys, sizeof f->sys, "%s/sys", f->dir);
    snprintf(f->all_cpus, sizeof f->all_cpus, "%s", all_cpus);
    snprintf(f->all_mems, sizeof f->all_mems, "%s", all_mems);
    mkdir(f->root, 0755);
    mkdir(f->sys, 0755);
    char p[512];
    snprintf(p, sizeof p, "%s/proc", f->sys);
    mkdir(p, 0755);
    fput(f, "", "cgroup.controllers", "cpuset cpu io memory pids\n");
    fput(f, "", "cgroup.subtree_control", "\n");
    fput(f, "", "cgroup.procs", "");
    fput(f, "", "cgroup.threads", "");
    fput(f, "", "cpuset.cpus.effective", all_cpus);
    fput(f, "", "cpuset.mems.effective", all_mems);
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

void fake_destroy(struct fake *f)
{
    fake_unhook();
    for (size_t i = 0; i < f->n_snap; i++)
        free(f->snap[i]);
    free(f->snap);
    rm_rf(f->dir);
}

static void write_task(struct fake *f, struct fake_task *t)
{
    char p[512];
    snprintf(p, sizeof p, "%s/proc/%d/task/%d", f->sys, t->pid, t->tid);
    struct stat st;
    if (stat(p, &st) < 0)
        return;   /* removed (vanished process) */
    char *cpus = fake_read(f, t->cg, "cpuset.cpus.effective");
    char *mems = fake_read(f, t->cg, "cpuset.mems.effective");
    char q[600], buf[1024];
    snprintf(q, sizeof q, "%s/cgroup", p);
    snprintf(buf, sizeof buf, "0::/%s\n", t->cg);
    fake_wfile(q, buf);
    snprintf(q, sizeof q, "%s/status", p);
    snprintf(buf, sizeof buf, "Name:\tqemu\nPid:\t%d\nCpus_allowed_list:\t%s\nMems_allowed_list:\t%s\n", t->tid, cpus, mems);
    fake_wfile(q, buf);
    if (t->tid == t->pid) {
        snprintf(q, sizeof q, "%s/proc/%d/cgroup", f->sys, t->pid);
        snprintf(buf, sizeof buf, "0::/%s\n", t->cg);
        fake_wfile(q, buf);
    }
    free(cpus);
    free(mems);
}

/* effective sets, top-down */
static void recompute_dir(struct fake *f, const char *rel, const cgp_bitmap *pc, const cgp_bitmap *pm)
{
    const cgp_bitmap *par[2] = { pc, pm };
    const char *own_f[2] = { "cpuset.cpus", "cpuset.mems" };
    const char *eff_f[2] = { "cpuset.cpus.effective", "cpuset.mems.effective" };
    cgp_bitmap *eff[2] = { NULL, NULL };
    for (int k = 0; k < 2; k++) {
        if (!*rel) {
            char *s = fake_read(f, rel, eff_f[k]);
            cr_assert(bparse(s, &eff[k]) == 0);
            free(s);
            continue;
        }
        char *s = fake_read(f, rel, own_f[k]);
        cgp_bitmap *own = NULL;
        cr_assert(bparse(s, &own) == 0, "bad %s/%s: '%s'", rel, own_f[k], s);
        free(s);
        cgp_bitmap_and(own, par[k]);
        if (cgp_bitmap_is_empty(own)) {
            cgp_bitmap_free(own);
            own = cgp_bitmap_dup(par[k]);
        }
        eff[k] = own;
        char *o = cgp_bitmap_format(own);
        fput(f, rel, eff_f[k], o);
        free(o);
    }
    char p[1024];
    cgpath(f, p, sizeof p, rel, NULL);
    DIR *d = opendir(p);
    cr_assert(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        recompute_dir(f, sub, eff[0], eff[1]);
    }
    closedir(d);
    cgp_bitmap_free(eff[0]);
    cgp_bitmap_free(eff[1]);
}

void fake_recompute(struct fake *f)
{
    recompute_dir(f, "", NULL, NULL);
    for (size_t i = 0; i < f->n_tasks; i++)
        write_task(f, &f->t[i]);
}

void fake_add_process(struct fake *f, int pid, const int *tids, size_t n, const char *rel)
{
    char p[512], q[600];
    snprintf(p, sizeof p, "%s/proc/%d", f->sys, pid);
    mkdir(p, 0755);
    snprintf(q, sizeof q, "%s/task", p);
    mkdir(q, 0755);
    snprintf(q, sizeof q, "%s/stat", p);
    char buf[512];
    /* field 22 (starttime) = pid * 10 */
    snprintf(buf, sizeof buf, "%d (qemu-system-x86) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 %zu 0 %d 1000\n",
             pid, pid, pid, n, pid * 10);
    fake_wfile(q, buf);
    for (size_t i = 0; i < n; i++) {
        snprintf(q, sizeof q, "%s/task/%d", p, tids[i]);
        mkdir(q, 0755);
        cr_assert(f->n_tasks < FAKE_MAX_TASKS);
        struct fake_task *t = &f->t[f->n_tasks++];
        t->pid = pid;
        t->tid = tids[i];
        snprintf(t->cg, sizeof t->cg, "%s", rel);
        write_task(f, t);
    }
}

void fake_remove_process(struct fake *f, int pid)
{
    char p[512];
    snprintf(p, sizeof p, "%s/proc/%d", f->sys, pid);
    rm_rf(p);
}

const char *fake_task_cg(struct fake *f, int tid)
{
    for (size_t i = 0; i < f->n_tasks; i++)
        if (f->t[i].tid == tid)
            return f->t[i].cg;
    return NULL;
}

static bool task_exists(struct fake *f, const struct fake_task *t)
{
    char p[512];
    snprintf(p, sizeof p, "%s/proc/%d/task/%d", f->sys, t->pid, t->tid);
    return access(p, F_OK) == 0;
}

/* the threaded domain of a cgroup: nearest ancestor-or-self that is not "threaded" */
static void domain_of(struct fake *f, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s", rel);
    for (;;) {
        char *ty = fake_read(f, out, "cgroup.type");
        bool thr = !strcmp(ty, "threaded");
        free(ty);
        if (!thr || !*out)
            return;
        char par[256];
        parent_of(out, par, sizeof par);
        snprintf(out, n, "%s", par);
    }
}

static bool populated_direct(struct fake *f, const char *rel)
{
    for (size_t i = 0; i < f->n_tasks; i++)
        if (!strcmp(f->t[i].cg, rel) && task_exists(f, &f->t[i]))
            return true;
    return false;
}

static bool has_threaded_child(struct fake *f, const char *rel)
{
    char p[1024];
    cgpath(f, p, sizeof p, rel, NULL);
    DIR *d = opendir(p);
    bool r = false;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || de->d_type != DT_DIR)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        char *ty = fake_read(f, sub, "cgroup.type");
        r |= !strcmp(ty, "threaded");
        free(ty);
    }
    if (d)
        closedir(d);
    return r;
}

static struct fake *hooked;

static int before(void *ud, enum cgctl_io io, const char *path, const char *file, const char *value, bool undo)
{
    struct fake *f = ud;
    if (!undo) {
        f->n_forward++;
        if (f->fail_at && f->n_forward == f->fail_at)
            return -EIO;
    } else {
        f->n_undo++;
    }
    if (io == CGCTL_IO_RMDIR) {
        for (size_t i = 0; i < f->n_tasks; i++)
            if (!strcmp(f->t[i].cg, path) && task_exists(f, &f->t[i]))
                return -EBUSY;
        char p[1024];
        cgpath(f, p, sizeof p, path, NULL);
        DIR *d = opendir(p);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_type == DT_REG) {
                char q[1400];
                snprintf(q, sizeof q, "%s/%s", p, de->d_name);
                unlink(q);
            }
        }
        if (d)
            closedir(d);
        return 0;
    }
    if (io != CGCTL_IO_WRITE)
        return 0;
    char par[256];
    parent_of(path, par, sizeof par);
    if (!strncmp(file, "cpuset.", 7) && *path && !ctl_has_cpuset(f, par))
        return -ENOENT;
    if (!strcmp(file, "cgroup.subtree_control") && !strcmp(value, "+cpuset")) {
        if (*path && !ctl_has_cpuset(f, par))
            return -ENOENT;
        if (*path && populated_direct(f, path) && !has_threaded_child(f, path))
            return -EBUSY;
    }
    if (!strcmp(file, "cgroup.procs") || !strcmp(file, "cgroup.threads")) {
        /* the kernel takes one decimal id */
        char *end;
        long id = strtol(value, &end, 10);
        if (end == value || *end || id <= 0)
            return -EINVAL;
    }
    if (!strcmp(file, "cgroup.procs")) {
        char *ty = fake_read(f, path, "cgroup.type");
        bool thr = !strcmp(ty, "threaded");
        free(ty);
        if (thr)
            return -EOPNOTSUPP;
        int pid = atoi(value);
        bool any = false;
        for (size_t i = 0; i < f->n_tasks; i++)
            any |= f->t[i].pid == pid && task_exists(f, &f->t[i]);
        if (!any)
            return -ESRCH;
    }
    if (!strcmp(file, "cgroup.threads")) {
        int tid = atoi(value);
        struct fake_task *t = NULL;
        for (size_t i = 0; i < f->n_tasks; i++)
            if (f->t[i].tid == tid && task_exists(f, &f->t[i]))
                t = &f->t[i];
        if (!t)
            return -ESRCH;
        char d1[256], d2[256];
        domain_of(f, path, d1, sizeof d1);
        domain_of(f, t->cg, d2, sizeof d2);
        if (strcmp(d1, d2))
            return -EOPNOTSUPP;
    }
    if (!strcmp(file, "cgroup.type") && strcmp(value, "threaded"))
        return -EINVAL;
    return 0;
}

void fake_record(struct fake *f)
{
    if (!f->record)
        return;
    for (size_t i = 0; i < f->n_tasks; i++) {
        if (!task_exists(f, &f->t[i]))
            continue;
        char *c = fake_read(f, f->t[i].cg, "cpuset.cpus.effective");
        char *m = fake_read(f, f->t[i].cg, "cpuset.mems.effective");
        char *s = NULL;
        cr_assert(asprintf(&s, "%s\t%s\t%s", f->t[i].cg, c, m) > 0);
        free(c);
        free(m);
        if (f->n_snap == f->cap_snap) {
            f->cap_snap = f->cap_snap ? 2 * f->cap_snap : 256;
            f->snap = realloc(f->snap, f->cap_snap * sizeof *f->snap);
        }
        f->snap[f->n_snap++] = s;
    }
}

static void after(void *ud, enum cgctl_io io, const char *path, const char *file, const char *value, bool undo)
{
    struct fake *f = ud;
    if (!undo) {
        size_t l = strlen(f->log);
        snprintf(f->log + l, sizeof f->log - l, "%s %s%s%s %s\n",
                 io == CGCTL_IO_MKDIR ? "mkdir" : io == CGCTL_IO_RMDIR ? "rmdir" : "write", path,
                 file ? "/" : "", file ? file : "", value ? value : "");
    }
    if (io == CGCTL_IO_MKDIR) {
        fake_mkcg(f, path);
    } else if (io == CGCTL_IO_WRITE) {
        if (!strcmp(file, "cgroup.subtree_control")) {
            fput(f, path, file, !strcmp(value, "+cpuset") ? "cpuset\n" : "\n");
            /* children's cgroup.controllers */
            char p[1024];
            cgpath(f, p, sizeof p, path, NULL);
            DIR *d = opendir(p);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                    continue;
                char sub[512];
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "/" : "", de->d_name);
                fput(f, sub, "cgroup.controllers", !strcmp(value, "+cpuset") ? "cpuset\n" : "\n");
            }
            if (d)
                closedir(d);
        } else if (!strcmp(file, "cgroup.procs")) {
            int pid = atoi(value);
            for (size_t i = 0; i < f->n_tasks; i++)
                if (f->t[i].pid == pid)
                    snprintf(f->t[i].cg, sizeof f->t[i].cg, "%s", path);
            fput(f, path, file, "");
        } else if (!strcmp(file, "cgroup.threads")) {
            int tid = atoi(value);
            for (size_t i = 0; i < f->n_tasks; i++)
                if (f->t[i].tid == tid)
                    snprintf(f->t[i].cg, sizeof f->t[i].cg, "%s", path);
            fput(f, path, file, "");
        }
        fake_recompute(f);
    }
    if (!undo) {
        fake_record(f);
        if (f->vanish_pid && f->n_forward == f->vanish_after)
            fake_remove_process(f, f->vanish_pid);
    }
}

int fake_play(struct fake *f, enum cgctl_io io, const char *path, const char *file, const char *value)
{
    if (io == CGCTL_IO_RMDIR) {
        int r = before(f, io, path, file, value, true);
        f->n_undo--;
        char p[1024];
        cgpath(f, p, sizeof p, path, NULL);
        return r < 0 ? r : rmdir(p) < 0 ? -errno : 0;
    }
    if (io == CGCTL_IO_WRITE && strcmp(file, "cgroup.procs") && strcmp(file, "cgroup.threads"))
        fput(f, path, file, value);
    after(f, io, path, file, value, true);
    return 0;
}

void fake_hook(struct fake *f)
{
    hooked = f;
    cgctl_hooks.before = before;
    cgctl_hooks.after = after;
    cgctl_hooks.ud = f;
}

void fake_unhook(void)
{
    hooked = NULL;
    memset(&cgctl_hooks, 0, sizeof cgctl_hooks);
}

static void snap_dir(struct fake *f, const char *rel, FILE *out)
{
    char p[1024];
    cgpath(f, p, sizeof p, rel, NULL);
    struct dirent **ents;
    int n = scandir(p, &ents, NULL, alphasort);
    cr_assert(n >= 0);
    fprintf(out, "[/%s]\n", rel);
    for (int i = 0; i < n; i++) {
        struct dirent *de = ents[i];
        if (de->d_name[0] != '.' && de->d_type == DT_REG) {
            char *s = fake_read(f, rel, de->d_name);
            fprintf(out, "  %s=%s\n", de->d_name, s);
            free(s);
        }
    }
    for (int i = 0; i < n; i++) {
        struct dirent *de = ents[i];
        if (de->d_name[0] != '.' && de->d_type == DT_DIR) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
            snap_dir(f, sub, out);
        }
        free(de);
    }
    free(ents);
}

char *fake_snapshot(struct fake *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    snap_dir(f, "", out);
    for (size_t i = 0; i < f->n_tasks; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/proc/%d/task/%d/status", f->sys, f->t[i].pid, f->t[i].tid);
        char *s = fake_rfile(p);
        fprintf(out, "task %d cg=/%s %s\n", f->t[i].tid, f->t[i].cg, s);
        free(s);
    }
    fclose(out);
    return buf;
}

const char *fake_check_transients(struct fake *f)
{
    static char msg[1024];
    /* per cgroup: first and last value seen, then every value within their union */
    for (size_t i = 0; i < f->n_snap; i++) {
        char cg[256];
        const char *tab = strchr(f->snap[i], '\t');
        snprintf(cg, sizeof cg, "%.*s", (int)(tab - f->snap[i]), f->snap[i]);
        const char *first = NULL, *last = NULL;
        for (size_t j = 0; j < f->n_snap; j++) {
            if (strncmp(f->snap[j], cg, strlen(cg)) || f->snap[j][strlen(cg)] != '\t')
                continue;
            if (!first)
                first = f->snap[j];
            last = f->snap[j];
        }
        for (int k = 0; k < 2; k++) {
            char a[128], b[128], c[128];
            const char *fs = strchr(first, '\t') + 1, *ls = strchr(last, '\t') + 1, *cs = tab + 1;
            if (k == 1) {
                fs = strchr(fs, '\t') + 1;
                ls = strchr(ls, '\t') + 1;
                cs = strchr(cs, '\t') + 1;
            }
            snprintf(a, sizeof a, "%.*s", (int)strcspn(fs, "\t"), fs);
            snprintf(b, sizeof b, "%.*s", (int)strcspn(ls, "\t"), ls);
            snprintf(c, sizeof c, "%.*s", (int)strcspn(cs, "\t"), cs);
            cgp_bitmap *ba = NULL, *bb = NULL, *bc = NULL;
            bparse(a, &ba);
            bparse(b, &bb);
            bparse(c, &bc);
            cgp_bitmap_or(ba, bb);
            bool bad = cgp_bitmap_is_empty(bc) || !cgp_bitmap_subset(bc, ba);
            cgp_bitmap_free(ba);
            cgp_bitmap_free(bb);
            cgp_bitmap_free(bc);
            if (bad) {
                snprintf(msg, sizeof msg, "populated cgroup /%s: transient %s '%s' outside first '%s' + last '%s'",
                         cg, k ? "mems" : "cpus", c, a, b);
                return msg;
            }
        }
    }
    return NULL;
}

cgp_placement *fake_compile(const cgp_topology *t, const char *text)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert(cgp_policy_parse_buffer("test.conf", text, strlen(text), d, &p) == 0);
    cgp_placement *pl = NULL;
    int r = cgp_policy_compile(p, t, d, &pl);
    if (r < 0)
        for (size_t i = 0; i < cgp_diags_count(d); i++)
            fprintf(stderr, "%s\n", cgp_diags_get(d, i)->msg);
    cr_assert(r == 0, "compile failed");
    cgp_policy_free(p);
    cgp_diags_free(d);
    return pl;
}

char *fake_virt_setters(const char *log, bool clear)
{
    char *all = fake_rfile(log), *out = calloc(1, strlen(all) + 2);
    for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n"))
        if (!strncmp(line, "virDomainPin", 12) || !strncmp(line, "virDomainSetNuma", 16)) {
            strcat(out, line);
            strcat(out, "\n");
        }
    free(all);
    if (clear)
        fake_wfile(log, "");
    return out;
}

void fake_session_open(struct fake *f, cgp_ctx **topo_ctx, cgp_topology **topo, cgp_ctx **ctx)
{
    const char *fx = getenv("CGCTL_FIXTURE");
    cr_assert(fx, "CGCTL_FIXTURE not set (run through make check-cgctl)");
    cr_assert(cgp_ctx_new(fx, NULL, topo_ctx) == 0);
    cr_assert(cgp_topology_read(*topo_ctx, topo) == 0);
    fake_init(f, "0-15", "0-1");
    fake_mkcg(f, "user.slice");
    cr_assert(cgp_ctx_new(f->sys, f->root, ctx) == 0);
    char lock[400];
    snprintf(lock, sizeof lock, "%s/lock", f->dir);
    setenv("CGPLACE_LOCK", lock, 1);
    fake_hook(f);
}

void fake_session_close(struct fake *f, cgp_ctx *topo_ctx, cgp_topology *topo, cgp_ctx *ctx)
{
    fake_unhook();
    fake_destroy(f);
    cgp_ctx_free(ctx);
    cgp_topology_free(topo);
    cgp_ctx_free(topo_ctx);
}

void fake_qemu(struct fake *f, struct cgp_guest *g, struct cgp_guest_thread th[FAKE_QEMU_THREADS], int pid,
               const char *name)
{
    int tids[FAKE_QEMU_THREADS];
    for (int i = 0; i < FAKE_QEMU_THREADS; i++)
        tids[i] = pid + i;
    fake_add_process(f, pid, tids, FAKE_QEMU_THREADS, "user.slice");
    th[0] = (struct cgp_guest_thread){ pid, CGP_THREAD_EMULATOR, -1, NULL };
    th[1] = (struct cgp_guest_thread){ pid + 1, CGP_THREAD_EMULATOR, -1, NULL };
    for (int v = 0; v < 4; v++)
        th[2 + v] = (struct cgp_guest_thread){ pid + 2 + v, CGP_THREAD_VCPU, v, NULL };
    th[6] = (struct cgp_guest_thread){ pid + 6, CGP_THREAD_IOTHREAD, -1, "io1" };
    /* a root-run QEMU of /usr/bin: a guest by the trust rules */
    *g = (struct cgp_guest){ .pid = pid, .pidfd = -1, .start_time = (uint64_t)pid * 10, .name = name,
                             .cgroup = "/user.slice", .thread_source = CGP_THREADS_NAMES,
                             .n_threads = FAKE_QEMU_THREADS, .threads = th, CGP_TEST_TRUSTED };
}

void fake_expect_allowed(struct fake *f, int pid, int tid, const char *cpus, const char *mems)
{
    char p[512], want[160];
    snprintf(p, sizeof p, "%s/proc/%d/task/%d/status", f->sys, pid, tid);
    char *s = fake_rfile(p);
    snprintf(want, sizeof want, "Cpus_allowed_list:\t%s\nMems_allowed_list:\t%s", cpus, mems);
    cr_assert(strstr(s, want), "thread %d: want cpus %s mems %s, have\n%s", tid, cpus, mems, s);
    free(s);
}
