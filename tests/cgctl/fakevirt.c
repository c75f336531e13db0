/* A fake libvirt.so.0 for tests: the functions cgctl/virt.c resolves,
 * over a small state file, with every call appended to a log.
 *
 * FAKEVIRT_STATE names the state file (read at virConnectOpen, rewritten
 * after each successful change); FAKEVIRT_LOG the log (default STATE.log).
 * Only this test library reads them. State, one directive a line:
 *   ncpus N                      host CPUs (virNodeGetCPUMap)
 *   connect refuse               virConnectOpen fails
 *   proc DIR                     a fake /proc: successful LIVE pins rewrite
 *                                DIR/PID/task/TID/status as libvirt's cgroup
 *                                writes would (Cpus_ / Mems_allowed_list)
 *   lie                          accept pins without touching DIR (a broken daemon)
 *   fail CALL K CODE MESSAGE     the K-th call of CALL ("*": any, "set": any
 *                                setter) in this process fails with CODE
 *   domain NAME UUID             then, for that domain:
 *   pid PID
 *   vcpu I CPUS [TID]
 *   emulator CPUS [TID,TID...]
 *   iothread ID CPUS [TID]
 *   numa MODE NODESET            libvirt's mode number; "-" for none
 * Like libvirt 9.0 on a running domain, a LIVE numatune refuses a mode
 * change and a nodeset change unless the mode is strict or restrictive.
 * Log lines: "CALL DOMAIN ARGS flags=F", " -> error CODE" appended on failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAXD 8
#define MAXV 64
#define MAXIO 16
#define MAXT 64
#define MAXF 8
#define MAXCPU 1024
#define SETLEN 256

struct fdom {
    char name[SETLEN], uuid[SETLEN];
    int pid;
    unsigned nv, nio;
    char vcpu[MAXV][SETLEN];
    int vtid[MAXV];
    char emu[SETLEN];
    int etid[MAXT], n_etid;
    unsigned io_id[MAXIO];
    char io[MAXIO][SETLEN];
    int iotid[MAXIO];
    int mode;                 /* -1 none */
    char nodeset[SETLEN];     /* "" none */
};

struct ffail {
    char call[64];
    int k, code, seen;
    char msg[512];
};

static struct {
    bool loaded, refuse, lie;
    unsigned ncpus;
    char proc[512];
    size_t nd, nf;
    struct fdom d[MAXD];
    struct ffail f[MAXF];
    int err_code;
    char err_msg[512];
} S;

typedef struct { int idx; } fake_conn;
typedef struct { int idx; } fake_dom;

typedef struct {
    char field[80];
    int type;
    union { int i; unsigned ui; long long l; unsigned long long ul; double d; char b; char *s; } value;
} tparam;

typedef struct {
    unsigned int iothread_id;
    unsigned char *cpumap;
    int cpumaplen;
} iothread_info;

/* ---- state file ---- */

static const char *state_path(void) { return getenv("FAKEVIRT_STATE"); }

static void load(void)
{
    if (S.loaded)
        return;
    memset(&S, 0, sizeof S);
    S.loaded = true;
    S.ncpus = 8;
    const char *p = state_path();
    FILE *f = p ? fopen(p, "r") : NULL;
    if (!f)
        return;
    char line[1024];
    struct fdom *d = NULL;
    while (fgets(line, sizeof line, f)) {
        char a[SETLEN] = "", b[SETLEN] = "", c[SETLEN] = "";
        int n = 0;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "ncpus %u", &S.ncpus) == 1)
            continue;
        if (!strcmp(line, "connect refuse")) {
            S.refuse = true;
        } else if (!strcmp(line, "lie")) {
            S.lie = true;
        } else if (sscanf(line, "proc %511s", S.proc) == 1) {
        } else if (!strncmp(line, "fail ", 5) && S.nf < MAXF) {
            struct ffail *x = &S.f[S.nf++];
            if (sscanf(line, "fail %63s %d %d %n", x->call, &x->k, &x->code, &n) >= 3 && n > 0)
                snprintf(x->msg, sizeof x->msg, "%s", line + n);
        } else if (sscanf(line, "domain %255s %255s", a, b) == 2 && S.nd < MAXD) {
            d = &S.d[S.nd++];
            snprintf(d->name, sizeof d->name, "%s", a);
            snprintf(d->uuid, sizeof d->uuid, "%s", b);
            d->mode = -1;
        } else if (!d) {
            continue;
        } else if (sscanf(line, "pid %d", &d->pid) == 1) {
        } else if (sscanf(line, "vcpu %255s %255s %255s", a, b, c) >= 2) {
            unsigned i = (unsigned)atoi(a);
            if (i < MAXV) {
                snprintf(d->vcpu[i], SETLEN, "%s", b);
                d->vtid[i] = atoi(c);
                if (i + 1 > d->nv)
                    d->nv = i + 1;
            }
        } else if (sscanf(line, "emulator %255s %255s", a, b) >= 1) {
            snprintf(d->emu, SETLEN, "%s", a);
            for (char *s = b; *s && d->n_etid < MAXT; s = strchr(s, ',') ? strchr(s, ',') + 1 : s + strlen(s))
                d->etid[d->n_etid++] = atoi(s);
        } else if (sscanf(line, "iothread %255s %255s %255s", a, b, c) >= 2 && d->nio < MAXIO) {
            d->io_id[d->nio] = (unsigned)atoi(a);
            snprintf(d->io[d->nio], SETLEN, "%s", b);
            d->iotid[d->nio++] = atoi(c);
        } else if (sscanf(line, "numa %255s %255s", a, b) == 2) {
            d->mode = strcmp(a, "-") ? atoi(a) : -1;
            snprintf(d->nodeset, SETLEN, "%s", strcmp(b, "-") ? b : "");
        }
    }
    fclose(f);
}

/* A file this fake rewrites (its state, a thread's /proc status): opened
 * without O_CREAT when it exists, as cgplace's seccomp filter makes no file
 * once sandboxed (this library plays libvirtd and the kernel inside it). */
static FILE *rewrite(const char *path)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && fd >= 0)
        close(fd);
    return f;
}

static void save(void)
{
    const char *p = state_path();
    if (!p)
        return;
    /* rewritten in place: cgplace's seccomp filter has no rename */
    FILE *f = rewrite(p);
    if (!f)
        return;
    fprintf(f, "ncpus %u\n", S.ncpus);
    if (S.refuse)
        fprintf(f, "connect refuse\n");
    if (S.lie)
        fprintf(f, "lie\n");
    if (*S.proc)
        fprintf(f, "proc %s\n", S.proc);
    for (size_t i = 0; i < S.nf; i++)
        fprintf(f, "fail %s %d %d %s\n", S.f[i].call, S.f[i].k, S.f[i].code, S.f[i].msg);
    for (size_t i = 0; i < S.nd; i++) {
        const struct fdom *d = &S.d[i];
        fprintf(f, "domain %s %s\npid %d\n", d->name, d->uuid, d->pid);
        for (unsigned v = 0; v < d->nv; v++)
            fprintf(f, "vcpu %u %s %d\n", v, d->vcpu[v], d->vtid[v]);
        fprintf(f, "emulator %s ", d->emu);
        for (int t = 0; t < d->n_etid; t++)
            fprintf(f, "%s%d", t ? "," : "", d->etid[t]);
        fprintf(f, "\n");
        for (unsigned k = 0; k < d->nio; k++)
            fprintf(f, "iothread %u %s %d\n", d->io_id[k], d->io[k], d->iotid[k]);
        if (d->mode >= 0 || *d->nodeset)
            fprintf(f, "numa %d %s\n", d->mode, *d->nodeset ? d->nodeset : "-");
    }
    fclose(f);
}

/* ---- the log and failures ---- */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    /* opened at the first call (virConnectOpen, before the sandbox) and kept:
     * Landlock leaves a read-only verb (plan) no file to open afterwards */
    static FILE *f;
    char path[600];
    const char *l = getenv("FAKEVIRT_LOG");
    if (!l && state_path()) {
        snprintf(path, sizeof path, "%s.log", state_path());
        l = path;
    }
    if (!f && l)
        f = fopen(l, "ae");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

static bool is_setter(const char *call)
{
    return !strcmp(call, "virDomainPinVcpuFlags") || !strcmp(call, "virDomainPinEmulator") ||
           !strcmp(call, "virDomainPinIOThread") || !strcmp(call, "virDomainSetNumaParameters");
}

static void set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    S.err_code = code;
    vsnprintf(S.err_msg, sizeof S.err_msg, fmt, ap);
    va_end(ap);
}

static char pending[1200];

/* Start logging a call; true when an injected failure hits it (error set).
 * done() finishes the log line with the outcome. */
static bool call(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool call(const char *name, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(pending, sizeof pending, "%s%s%s", name, *args ? " " : "", args);
    bool hit = false;
    for (size_t i = 0; i < S.nf; i++) {
        struct ffail *x = &S.f[i];
        if (!strcmp(x->call, "*") || !strcmp(x->call, name) || (!strcmp(x->call, "set") && is_setter(name)))
            if (++x->seen == x->k && !hit) {
                hit = true;
                set_error(x->code, "%s", x->msg);
            }
    }
    return hit;
}

static int done(int r)
{
    if (r < 0)
        logf_("%s -> error %d\n", pending, S.err_code);
    else
        logf_("%s\n", pending);
    return r;
}

/* ---- CPU lists and maps ---- */

static void parse_list(const char *s, bool *bits, unsigned max)
{
    memset(bits, 0, max);
    while (s && *s) {
        char *end;
        long lo = strtol(s, &end, 10), hi = lo;
        if (end == s)
            break;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        for (long i = lo; i <= hi && i >= 0 && (unsigned long)i < max; i++)
            bits[i] = true;
        s = *end == ',' ? end + 1 : NULL;
    }
}

static void fmt_list(const bool *bits, unsigned max, char *out, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < max; i++) {
        if (!bits[i])
            continue;
        unsigned j = i;
        while (j + 1 < max && bits[j + 1])
            j++;
        o += (size_t)snprintf(out + o, o < n ? n - o : 0, o ? ",%u" : "%u", i);
        if (j > i)
            o += (size_t)snprintf(out + o, o < n ? n - o : 0, "-%u", j);
        i = j;
    }
}

static void map_to_list(const unsigned char *map, int len, char *out, size_t n)
{
    bool bits[MAXCPU] = { 0 };
    for (unsigned c = 0; c < MAXCPU && c / 8 < (unsigned)len; c++)
        bits[c] = map[c / 8] >> (c % 8) & 1;
    fmt_list(bits, MAXCPU, out, n);
}

static void list_to_map(const char *list, unsigned char *map, int len)
{
    bool bits[MAXCPU];
    parse_list(list, bits, MAXCPU);
    memset(map, 0, (size_t)len);
    for (unsigned c = 0; c < MAXCPU && c / 8 < (unsigned)len; c++)
        if (bits[c])
            map[c / 8] |= (unsigned char)(1u << (c % 8));
}

/* Rewrite one line of DIR/PID/task/TID/status, as the kernel would after
 * libvirt's cgroup write. */
static void play_kernel(const struct fdom *d, int tid, const char *key, const char *list)
{
    if (!*S.proc || S.lie || tid <= 0)
        return;
    char path[700], buf[4096] = "", out[4200] = "";
    snprintf(path, sizeof path, "%s/%d/task/%d/status", S.proc, d->pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    size_t klen = strlen(key);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t o = strlen(out);
        if (!strncmp(line, key, klen) && line[klen] == ':')
            snprintf(out + o, sizeof out - o, "%s:\t%s\n", key, list);
        else
            snprintf(out + o, sizeof out - o, "%s\n", line);
        line = nl ? nl + 1 : NULL;
    }
    if ((f = rewrite(path))) {
        fputs(out, f);
        fclose(f);
    }
}

/* ---- the API ---- */

static struct fdom *dom_of(const void *p) { return &S.d[((const fake_dom *)p)->idx]; }

EXPORT void *virConnectOpen(const char *uri)
{
    S.loaded = false;
    load();
    if (call("virConnectOpen", "%s", uri ? uri : "(null)"))
        return done(-1), NULL;
    if (S.refuse) {
        set_error(38, "Failed to connect socket to '/run/libvirt/virtqemud-sock': No such file or directory");
        done(-1);
        return NULL;
    }
    done(0);
    return calloc(1, sizeof(fake_conn));
}

EXPORT int virConnectClose(void *c)
{
    call("virConnectClose", "%s", "");
    free(c);
    return done(0);
}

EXPORT int virNodeGetCPUMap(void *c, unsigned char **map, unsigned *online, unsigned flags)
{
    (void)c;
    (void)flags;
    if (call("virNodeGetCPUMap", "%s", ""))
        return done(-1);
    if (map) {
        *map = calloc((S.ncpus + 7) / 8, 1);
        for (unsigned i = 0; i < S.ncpus; i++)
            (*map)[i / 8] |= (unsigned char)(1u << (i % 8));
    }
    if (online)
        *online = S.ncpus;
    return done((int)S.ncpus);
}

static void *lookup(const char *call_name, const char *key, bool by_uuid)
{
    if (call(call_name, "%s", key))
        return done(-1), NULL;
    for (size_t i = 0; i < S.nd; i++)
        if (by_uuid ? !strcasecmp(S.d[i].uuid, key) : !strcmp(S.d[i].name, key)) {
            fake_dom *d = calloc(1, sizeof *d);
            d->idx = (int)i;
            done(0);
            return d;
        }
    set_error(42, "Domain not found: no domain with matching %s '%s'", by_uuid ? "uuid" : "name", key);
    done(-1);
    return NULL;
}

EXPORT void *virDomainLookupByUUIDString(void *c, const char *uuid)
{
    (void)c;
    return lookup("virDomainLookupByUUIDString", uuid, true);
}

EXPORT void *virDomainLookupByName(void *c, const char *name)
{
    (void)c;
    return lookup("virDomainLookupByName", name, false);
}

EXPORT const char *virDomainGetName(void *d) { return dom_of(d)->name; }

EXPORT int virDomainGetUUIDString(void *d, char *buf)
{
    snprintf(buf, 37, "%s", dom_of(d)->uuid);
    return 0;
}

EXPORT int virDomainFree(void *d)
{
    free(d);
    return 0;
}

EXPORT int virDomainGetVcpusFlags(void *dp, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    if (call("virDomainGetVcpusFlags", "%s flags=%u", d->name, flags))
        return done(-1);
    return done((int)d->nv);
}

EXPORT int virDomainGetVcpuPinInfo(void *dp, int ncpumaps, unsigned char *maps, int maplen, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    if (call("virDomainGetVcpuPinInfo", "%s flags=%u", d->name, flags))
        return done(-1);
    int n = ncpumaps < (int)d->nv ? ncpumaps : (int)d->nv;
    for (int i = 0; i < n; i++)
        list_to_map(d->vcpu[i], maps + (size_t)i * (size_t)maplen, maplen);
    return done(n);
}

EXPORT int virDomainGetEmulatorPinInfo(void *dp, unsigned char *map, int maplen, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    if (call("virDomainGetEmulatorPinInfo", "%s flags=%u", d->name, flags))
        return done(-1);
    list_to_map(d->emu, map, maplen);
    return done(1);
}

EXPORT int virDomainGetIOThreadInfo(void *dp, iothread_info ***info, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    if (call("virDomainGetIOThreadInfo", "%s flags=%u", d->name, flags))
        return done(-1);
    int len = (int)((S.ncpus + 7) / 8);
    *info = calloc(d->nio + 1, sizeof **info);
    for (unsigned k = 0; k < d->nio; k++) {
        iothread_info *x = calloc(1, sizeof *x);
        x->iothread_id = d->io_id[k];
        x->cpumaplen = len;
        x->cpumap = calloc((size_t)len, 1);
        list_to_map(d->io[k], x->cpumap, len);
        (*info)[k] = x;
    }
    return done((int)d->nio);
}

EXPORT void virDomainIOThreadInfoFree(iothread_info *x)
{
    if (x)
        free(x->cpumap);
    free(x);
}

EXPORT int virDomainGetNumaParameters(void *dp, tparam *pa, int *n, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    if (call("virDomainGetNumaParameters", "%s n=%d flags=%u", d->name, *n, flags))
        return done(-1);
    if (*n == 0) {
        *n = 2;
        return done(0);
    }
    int k = 0;
    if (k < *n) {
        snprintf(pa[k].field, sizeof pa[k].field, "numa_mode");
        pa[k].type = 1;
        pa[k++].value.i = d->mode < 0 ? 0 : d->mode;
    }
    if (k < *n && (flags & 4)) {
        snprintf(pa[k].field, sizeof pa[k].field, "numa_nodeset");
        pa[k].type = 7;
        pa[k++].value.s = strdup(d->nodeset);
    }
    *n = k;
    return done(0);
}

EXPORT void virTypedParamsClear(tparam *pa, int n)
{
    for (int i = 0; pa && i < n; i++)
        if (pa[i].type == 7)
            free(pa[i].value.s);
}

static void play_all(const struct fdom *d, const char *key, const char *list)
{
    for (unsigned v = 0; v < d->nv; v++)
        play_kernel(d, d->vtid[v], key, list);
    for (int t = 0; t < d->n_etid; t++)
        play_kernel(d, d->etid[t], key, list);
    for (unsigned k = 0; k < d->nio; k++)
        play_kernel(d, d->iotid[k], key, list);
}

/* A pin libvirt accepted: keep it, play the kernel for its threads, save. */
static int pinned(struct fdom *d, char *dst, const int *tids, int n, const char *list, unsigned flags)
{
    snprintf(dst, SETLEN, "%s", list);
    for (int t = 0; (flags & 1) && t < n; t++)
        play_kernel(d, tids[t], "Cpus_allowed_list", list);
    save();
    return done(0);
}

EXPORT int virDomainPinVcpuFlags(void *dp, unsigned vcpu, unsigned char *map, int maplen, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    char list[SETLEN];
    map_to_list(map, maplen, list, sizeof list);
    if (call("virDomainPinVcpuFlags", "%s vcpu=%u cpus=%s flags=%u", d->name, vcpu, list, flags))
        return done(-1);
    if (vcpu >= d->nv) {
        set_error(8, "invalid argument: vcpu %u is out of range of live cpu count %u", vcpu, d->nv);
        return done(-1);
    }
    return pinned(d, d->vcpu[vcpu], &d->vtid[vcpu], 1, list, flags);
}

EXPORT int virDomainPinEmulator(void *dp, unsigned char *map, int maplen, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    char list[SETLEN];
    map_to_list(map, maplen, list, sizeof list);
    if (call("virDomainPinEmulator", "%s cpus=%s flags=%u", d->name, list, flags))
        return done(-1);
    return pinned(d, d->emu, d->etid, d->n_etid, list, flags);
}

EXPORT int virDomainPinIOThread(void *dp, unsigned id, unsigned char *map, int maplen, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    char list[SETLEN];
    map_to_list(map, maplen, list, sizeof list);
    if (call("virDomainPinIOThread", "%s iothread=%u cpus=%s flags=%u", d->name, id, list, flags))
        return done(-1);
    for (unsigned k = 0; k < d->nio; k++)
        if (d->io_id[k] == id)
            return pinned(d, d->io[k], &d->iotid[k], 1, list, flags);
    set_error(8, "invalid argument: cannot find IOThread '%u' in iothreadpids", id);
    return done(-1);
}

EXPORT int virDomainSetNumaParameters(void *dp, tparam *pa, int n, unsigned flags)
{
    struct fdom *d = dom_of(dp);
    int mode = -1;
    const char *nodeset = NULL;
    char args[600] = "";
    for (int i = 0; i < n; i++) {
        size_t o = strlen(args);
        if (!strcmp(pa[i].field, "numa_mode") && pa[i].type == 1) {
            mode = pa[i].value.i;
            snprintf(args + o, sizeof args - o, " numa_mode=%d", mode);
        } else if (!strcmp(pa[i].field, "numa_nodeset") && pa[i].type == 7) {
            nodeset = pa[i].value.s;
            snprintf(args + o, sizeof args - o, " numa_nodeset=%s", nodeset);
        }
    }
    if (call("virDomainSetNumaParameters", "%s%s flags=%u", d->name, args, flags))
        return done(-1);
    int cur = d->mode < 0 ? 0 : d->mode;
    if ((flags & 1) && mode >= 0 && mode != cur) {
        set_error(55, "Requested operation is not valid: can't change numatune mode for running domain");
        return done(-1);
    }
    if ((flags & 1) && nodeset && cur != 0 && cur != 3) {
        set_error(55, "Requested operation is not valid: change of nodeset for running domain requires strict "
                      "or restrictive numa mode");
        return done(-1);
    }
    if (mode >= 0)
        d->mode = mode;
    if (nodeset) {
        snprintf(d->nodeset, SETLEN, "%s", nodeset);
        if (flags & 1)
            play_all(d, "Mems_allowed_list", nodeset);
    }
    save();
    return done(0);
}

EXPORT int virGetLastErrorCode(void) { return S.err_code; }
EXPORT const char *virGetLastErrorMessage(void) { return S.err_code ? S.err_msg : "no error"; }

EXPORT void virResetLastError(void)
{
    S.err_code = 0;
    S.err_msg[0] = '\0';
}

EXPORT void virSetErrorFunc(void *ud, void *handler)
{
    (void)ud;
    (void)handler;
    logf_("virSetErrorFunc handler=%s\n", handler ? "set" : "none");
}
