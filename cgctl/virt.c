/* The libvirt client of the libvirt backend (see virt.h): libvirt.so.0
 * loaded on first use, the few calls placement needs, cpumaps and typed
 * parameters built by hand. */
#include "virt.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

struct cgctl_virt_hooks cgctl_virt_hooks;

/* ---- libvirt's ABI, as much as is used (libvirt-domain.h, virterror.h) ---- */
typedef struct vir_connect *virConnectPtr;
typedef struct vir_domain *virDomainPtr;

#define VIR_UUID_STRING_BUFLEN 37
#define VIR_TYPED_PARAM_FIELD_LENGTH 80
enum { VIR_TYPED_PARAM_INT = 1, VIR_TYPED_PARAM_STRING = 7 };
enum { VIR_TYPED_PARAM_STRING_OKAY = 1 << 2 };
enum { VIR_DOMAIN_AFFECT_LIVE = 1, VIR_DOMAIN_AFFECT_CONFIG = 2, VIR_DOMAIN_VCPU_MAXIMUM = 4 };
enum { VIR_ERR_NO_SUPPORT = 3, VIR_ERR_INVALID_ARG = 8, VIR_ERR_OPERATION_DENIED = 29, VIR_ERR_NO_DOMAIN = 42,
       VIR_ERR_CONFIG_UNSUPPORTED = 67, VIR_ERR_ARGUMENT_UNSUPPORTED = 74, VIR_ERR_OPERATION_UNSUPPORTED = 84,
       VIR_ERR_ACCESS_DENIED = 88 };

typedef struct {
    char field[VIR_TYPED_PARAM_FIELD_LENGTH];
    int type;
    union {
        int i;
        unsigned int ui;
        long long int l;
        unsigned long long int ul;
        double d;
        char b;
        char *s;
    } value;
} vir_tparam;

typedef struct {
    unsigned int iothread_id;
    unsigned char *cpumap;
    int cpumaplen;
} vir_iothread_info;

typedef void (*vir_error_func)(void *ud, void *err);

#define VIRT_FUNCS(F)                                                                                    \
    F(virConnectPtr, virConnectOpen, (const char *))                                                     \
    F(int, virConnectClose, (virConnectPtr))                                                             \
    F(int, virNodeGetCPUMap, (virConnectPtr, unsigned char **, unsigned int *, unsigned int))            \
    F(virDomainPtr, virDomainLookupByUUIDString, (virConnectPtr, const char *))                          \
    F(virDomainPtr, virDomainLookupByName, (virConnectPtr, const char *))                                \
    F(const char *, virDomainGetName, (virDomainPtr))                                                    \
    F(int, virDomainGetUUIDString, (virDomainPtr, char *))                                               \
    F(int, virDomainGetVcpusFlags, (virDomainPtr, unsigned int))                                         \
    F(int, virDomainGetVcpuPinInfo, (virDomainPtr, int, unsigned char *, int, unsigned int))             \
    F(int, virDomainGetEmulatorPinInfo, (virDomainPtr, unsigned char *, int, unsigned int))              \
    F(int, virDomainGetIOThreadInfo, (virDomainPtr, vir_iothread_info ***, unsigned int))                \
    F(void, virDomainIOThreadInfoFree, (vir_iothread_info *))                                            \
    F(int, virDomainGetNumaParameters, (virDomainPtr, vir_tparam *, int *, unsigned int))                \
    F(int, virDomainPinVcpuFlags, (virDomainPtr, unsigned int, unsigned char *, int, unsigned int))      \
    F(int, virDomainPinEmulator, (virDomainPtr, unsigned char *, int, unsigned int))                     \
    F(int, virDomainPinIOThread, (virDomainPtr, unsigned int, unsigned char *, int, unsigned int))       \
    F(int, virDomainSetNumaParameters, (virDomainPtr, vir_tparam *, int, unsigned int))                  \
    F(int, virDomainFree, (virDomainPtr))                                                                \
    F(void, virTypedParamsClear, (vir_tparam *, int))                                                    \
    F(int, virGetLastErrorCode, (void))                                                                  \
    F(const char *, virGetLastErrorMessage, (void))                                                      \
    F(void, virResetLastError, (void))                                                                   \
    F(void, virSetErrorFunc, (void *, vir_error_func))

static struct {
#define VIRT_DECL(ret, f, args) ret(*f) args;
    VIRT_FUNCS(VIRT_DECL)
#undef VIRT_DECL
} V;
static int virt_status = -ELIBACC;
static char virt_why[256];
static pthread_once_t virt_once = PTHREAD_ONCE_INIT;

/* libvirt prints every error on stderr unless a handler is set: the library
 * never prints, the message is read back with virGetLastErrorMessage. */
static void quiet(void *ud, void *err)
{
    (void)ud;
    (void)err;
}

static void virt_load(void)
{
    const char *lib = cgctl_virt_hooks.lib ? cgctl_virt_hooks.lib : CGCTL_VIRT_LIB;
    /* never closed: libvirt keeps global state (error slots, drivers) */
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(virt_why, sizeof virt_why, "%s", e ? e : lib);
        return;
    }
#define VIRT_SYM(ret, f, args)                                                                  \
    if (!(*(void **)&V.f = dlsym(h, #f))) {                                                     \
        snprintf(virt_why, sizeof virt_why, "%s has no %s (libvirt older than 4.5?)", lib, #f); \
        return;                                                                                 \
    }
    VIRT_FUNCS(VIRT_SYM)
#undef VIRT_SYM
    V.virSetErrorFunc(NULL, quiet);
    virt_status = 0;
}

struct cgctl_virt {
    cgp_ctx *ctx;
    virConnectPtr conn;
    unsigned ncpus;
};

struct cgctl_vdom {
    struct cgctl_virt *v;
    virDomainPtr dom;
    char *name, *uuid;
};

char *cgctl_virt_escape(const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = s ? strnlen(s, max + 1) : 0;
    char *out = malloc(4 * (n < max ? n : max) + 4);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 15];
    }
    if (n > max)
        p = stpcpy(p, "...");
    *p = '\0';
    return out;
}

/* libvirt's last error as -errno, its message (escaped) in ctx. */
static int virt_fail(cgp_ctx *ctx, const char *what)
{
    int code = V.virGetLastErrorCode();
    int r;
    switch (code) {
    case VIR_ERR_NO_DOMAIN: r = -ENOENT; break;
    case VIR_ERR_NO_SUPPORT: case VIR_ERR_OPERATION_UNSUPPORTED: case VIR_ERR_ARGUMENT_UNSUPPORTED:
        r = -EOPNOTSUPP; break;
    case VIR_ERR_INVALID_ARG: case VIR_ERR_CONFIG_UNSUPPORTED: r = -EINVAL; break;
    case VIR_ERR_OPERATION_DENIED: case VIR_ERR_ACCESS_DENIED: r = -EACCES; break;
    default: r = -EIO; break;
    }
    char *msg CGP_AUTOFREE = cgctl_virt_escape(V.virGetLastErrorMessage(), 300);
    V.virResetLastError();
    return cgp_ctx_errorf(ctx, r, "%s: %s", what, msg ? msg : "libvirt error");
}

int cgctl_virt_open(cgp_ctx *ctx, struct cgctl_virt **out)
{
    pthread_once(&virt_once, virt_load);
    if (virt_status < 0)
        return cgp_ctx_errorf(ctx, virt_status, "libvirt's client library cannot be loaded: %s", virt_why);
    const char *uri = cgctl_virt_hooks.uri ? cgctl_virt_hooks.uri : CGCTL_VIRT_URI;
    struct cgctl_virt *v = calloc(1, sizeof *v);
    if (!v)
        return -ENOMEM;
    v->ctx = ctx;
    if (!(v->conn = V.virConnectOpen(uri))) {
        char *msg CGP_AUTOFREE = cgctl_virt_escape(V.virGetLastErrorMessage(), 300);
        V.virResetLastError();
        free(v);
        return cgp_ctx_errorf(ctx, -ECONNREFUSED, "cannot connect to libvirt (%s): %s", uri, msg ? msg : "?");
    }
    int n = V.virNodeGetCPUMap(v->conn, NULL, NULL, 0);
    if (n <= 0 || (unsigned)n >= CGP_MAX_ID) {
        int r = n < 0 ? virt_fail(ctx, "virNodeGetCPUMap")
                      : cgp_ctx_errorf(ctx, -EIO, "virNodeGetCPUMap: %d CPUs", n);
        cgctl_virt_close(v);
        return r;
    }
    v->ncpus = (unsigned)n;
    *out = v;
    return 0;
}

void cgctl_virt_close(struct cgctl_virt *v)
{
    if (!v)
        return;
    if (v->conn)
        V.virConnectClose(v->conn);
    free(v);
}

unsigned cgctl_virt_ncpus(const struct cgctl_virt *v) { return v->ncpus; }

void cgctl_vdom_free(struct cgctl_vdom *d)
{
    if (!d)
        return;
    if (d->dom)
        V.virDomainFree(d->dom);
    free(d->name);
    free(d->uuid);
    free(d);
}

const char *cgctl_vdom_name(const struct cgctl_vdom *d) { return d->name; }
const char *cgctl_vdom_uuid(const struct cgctl_vdom *d) { return d->uuid; }

int cgctl_virt_lookup(struct cgctl_virt *v, const char *uuid, const char *name, struct cgctl_vdom **out)
{
    if (!uuid && !name)
        return -EINVAL;
    struct cgctl_vdom *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->v = v;
    d->dom = uuid ? V.virDomainLookupByUUIDString(v->conn, uuid) : V.virDomainLookupByName(v->conn, name);
    if (!d->dom) {
        free(d);
        return virt_fail(v->ctx, uuid ? "virDomainLookupByUUIDString" : "virDomainLookupByName");
    }
    char ubuf[VIR_UUID_STRING_BUFLEN] = "";
    if (V.virDomainGetUUIDString(d->dom, ubuf) < 0)
        ubuf[0] = '\0';
    ubuf[sizeof ubuf - 1] = '\0';
    d->name = cgctl_virt_escape(V.virDomainGetName(d->dom), 256);
    d->uuid = cgctl_virt_escape(ubuf, sizeof ubuf);
    if (!d->name || !d->uuid) {
        cgctl_vdom_free(d);
        return -ENOMEM;
    }
    *out = d;
    return 0;
}

/* ---- cpumaps: 8 CPUs a byte, least significant bit first ---- */

static int maplen(const struct cgctl_virt *v)
{
    return (int)((v->ncpus + 7) / 8);
}

static cgp_bitmap *from_map(const unsigned char *map, int len, unsigned ncpus)
{
    cgp_bitmap *b = cgp_bitmap_new();
    for (unsigned c = 0; b && c < ncpus && c / 8 < (unsigned)len; c++)
        if ((map[c / 8] >> (c % 8) & 1) && cgp_bitmap_set(b, c) < 0) {
            cgp_bitmap_free(b);
            return NULL;
        }
    return b;
}

/* *map (malloc'd) for cpus; -ERANGE for a CPU libvirt does not have. */
static int to_map(struct cgctl_vdom *d, const cgp_bitmap *cpus, unsigned char **map)
{
    int last = cgp_bitmap_last(cpus);
    if (last >= 0 && (unsigned)last >= d->v->ncpus)
        return cgp_ctx_errorf(d->v->ctx, -ERANGE, "domain %s: CPU %d is beyond the %u CPUs libvirt knows", d->name,
                              last, d->v->ncpus);
    if (!(*map = calloc((size_t)maplen(d->v), 1)))
        return -ENOMEM;
    for (int c = cgp_bitmap_next(cpus, 0); c >= 0; c = cgp_bitmap_next(cpus, (unsigned)c + 1))
        (*map)[c / 8] |= (unsigned char)(1u << (c % 8));
    return 0;
}

static unsigned vflags(unsigned flags)
{
    unsigned f = 0;
    if (flags & CGCTL_VIRT_LIVE || !flags)
        f |= VIR_DOMAIN_AFFECT_LIVE;
    if (flags & CGCTL_VIRT_CONFIG)
        f |= VIR_DOMAIN_AFFECT_CONFIG;
    return f;
}

/* ---- reading ---- */

int cgctl_virt_mode_to_libvirt(enum cgp_mem_mode m)
{
    switch (m) {
    case CGP_MODE_STRICT: return 0;
    case CGP_MODE_PREFERRED: return 1;
    case CGP_MODE_INTERLEAVE: return 2;
    case CGP_MODE_RESTRICTIVE: return 3;
    }
    return -1;
}

int cgctl_virt_mode_from_libvirt(int v)
{
    static const int m[] = { CGP_MODE_STRICT, CGP_MODE_PREFERRED, CGP_MODE_INTERLEAVE, CGP_MODE_RESTRICTIVE };
    return v >= 0 && v < 4 ? m[v] : -1;
}

void cgctl_vpins_clear(struct cgctl_vpins *p)
{
    for (unsigned i = 0; p->vcpu && i < p->n_vcpus; i++)
        cgp_bitmap_free(p->vcpu[i]);
    for (size_t i = 0; p->iothread && i < p->n_iothreads; i++)
        cgp_bitmap_free(p->iothread[i]);
    free(p->vcpu);
    free(p->iothread);
    free(p->iothread_id);
    cgp_bitmap_free(p->emulator);
    cgp_bitmap_free(p->nodeset);
    *p = (struct cgctl_vpins){ .mode = -1 };
}

#define VIRT_MAX_VCPUS 16384     /* CGP_POLICY_MAX_VCPUS */
#define VIRT_MAX_IOTHREADS 4096
#define VIRT_MAX_PARAMS 64

static int read_vcpus(struct cgctl_vdom *d, unsigned fl, struct cgctl_vpins *p)
{
    int n = V.virDomainGetVcpusFlags(d->dom, fl | VIR_DOMAIN_VCPU_MAXIMUM);
    if (n < 0)
        return virt_fail(d->v->ctx, "virDomainGetVcpusFlags");
    if (n > VIRT_MAX_VCPUS)
        return cgp_ctx_errorf(d->v->ctx, -EIO, "domain %s: %d vCPUs", d->name, n);
    int len = maplen(d->v);
    unsigned char *maps CGP_AUTOFREE = calloc((size_t)(n ? n : 1), (size_t)len);
    if (!maps || !(p->vcpu = calloc((size_t)(n ? n : 1), sizeof *p->vcpu)))
        return -ENOMEM;
    int got = n ? V.virDomainGetVcpuPinInfo(d->dom, n, maps, len, fl) : 0;
    if (got < 0)
        return virt_fail(d->v->ctx, "virDomainGetVcpuPinInfo");
    p->n_vcpus = (unsigned)(got < n ? got : n);
    for (unsigned i = 0; i < p->n_vcpus; i++)
        if (!(p->vcpu[i] = from_map(maps + (size_t)i * (size_t)len, len, d->v->ncpus)))
            return -ENOMEM;
    return 0;
}

static int read_emulator(struct cgctl_vdom *d, unsigned fl, struct cgctl_vpins *p)
{
    int len = maplen(d->v);
    unsigned char *map CGP_AUTOFREE = calloc((size_t)len, 1);
    if (!map)
        return -ENOMEM;
    int r = V.virDomainGetEmulatorPinInfo(d->dom, map, len, fl);
    if (r < 0)
        return virt_fail(d->v->ctx, "virDomainGetEmulatorPinInfo");
    if (r > 0 && !(p->emulator = from_map(map, len, d->v->ncpus)))
        return -ENOMEM;
    return 0;
}

static int read_iothreads(struct cgctl_vdom *d, unsigned fl, struct cgctl_vpins *p)
{
    vir_iothread_info **info = NULL;
    int n = V.virDomainGetIOThreadInfo(d->dom, &info, fl);
    if (n < 0)
        return virt_fail(d->v->ctx, "virDomainGetIOThreadInfo");
    int r = 0;
    if (n > VIRT_MAX_IOTHREADS)
        r = cgp_ctx_errorf(d->v->ctx, -EIO, "domain %s: %d I/O threads", d->name, n);
    else if (!(p->iothread = calloc((size_t)(n ? n : 1), sizeof *p->iothread)) ||
             !(p->iothread_id = calloc((size_t)(n ? n : 1), sizeof *p->iothread_id)))
        r = -ENOMEM;
    for (int i = 0; r == 0 && i < n; i++) {
        p->iothread_id[i] = info[i]->iothread_id;
        if (!(p->iothread[i] = from_map(info[i]->cpumap, info[i]->cpumaplen, d->v->ncpus)))
            r = -ENOMEM;
        else
            p->n_iothreads++;
    }
    for (int i = 0; i < n; i++)
        V.virDomainIOThreadInfoFree(info[i]);
    free(info);
    return r;
}

static int read_numa(struct cgctl_vdom *d, unsigned fl, struct cgctl_vpins *p)
{
    fl |= VIR_TYPED_PARAM_STRING_OKAY;
    int n = 0;
    if (V.virDomainGetNumaParameters(d->dom, NULL, &n, fl) < 0)
        return virt_fail(d->v->ctx, "virDomainGetNumaParameters");
    if (n <= 0)
        return 0;
    if (n > VIRT_MAX_PARAMS)
        n = VIRT_MAX_PARAMS;
    vir_tparam *pa CGP_AUTOFREE = calloc((size_t)n, sizeof *pa);
    if (!pa)
        return -ENOMEM;
    if (V.virDomainGetNumaParameters(d->dom, pa, &n, fl) < 0)
        return virt_fail(d->v->ctx, "virDomainGetNumaParameters");
    int r = 0;
    for (int i = 0; r == 0 && i < n && i < VIRT_MAX_PARAMS; i++) {
        pa[i].field[VIR_TYPED_PARAM_FIELD_LENGTH - 1] = '\0';
        if (!strcmp(pa[i].field, "numa_mode") && pa[i].type == VIR_TYPED_PARAM_INT)
            p->mode = cgctl_virt_mode_from_libvirt(pa[i].value.i);
        else if (!strcmp(pa[i].field, "numa_nodeset") && pa[i].type == VIR_TYPED_PARAM_STRING && pa[i].value.s &&
                 *pa[i].value.s && !p->nodeset) {
            size_t pos = 0;
            r = cgp_bitmap_parse(pa[i].value.s, 0, &p->nodeset, &pos);
            if (r < 0 && r != -ENOMEM) {
                char *s CGP_AUTOFREE = cgctl_virt_escape(pa[i].value.s, 64);
                r = cgp_ctx_errorf(d->v->ctx, -EIO, "domain %s: numa_nodeset '%s' is no node list", d->name,
                                   s ? s : "?");
            }
        }
    }
    V.virTypedParamsClear(pa, n);
    return r;
}

int cgctl_virt_read(struct cgctl_vdom *d, unsigned flags, struct cgctl_vpins *out)
{
    struct cgctl_vpins p = { .mode = -1 };
    unsigned fl = flags & CGCTL_VIRT_CONFIG ? VIR_DOMAIN_AFFECT_CONFIG : VIR_DOMAIN_AFFECT_LIVE;
    int r = read_vcpus(d, fl, &p);
    if (r == 0)
        r = read_emulator(d, fl, &p);
    if (r == 0)
        r = read_iothreads(d, fl, &p);
    if (r == 0)
        r = read_numa(d, fl, &p);
    if (r < 0) {
        cgctl_vpins_clear(&p);
        return r;
    }
    *out = p;
    return 0;
}

/* ---- setting ---- */

enum pin_kind { PIN_VCPU, PIN_EMULATOR, PIN_IOTHREAD };

static int pin(struct cgctl_vdom *d, enum pin_kind k, unsigned id, const cgp_bitmap *cpus, unsigned flags)
{
    static const char *const call[] = { "virDomainPinVcpuFlags", "virDomainPinEmulator", "virDomainPinIOThread" };
    unsigned char *map CGP_AUTOFREE = NULL;
    int r = to_map(d, cpus, &map);
    if (r < 0)
        return r;
    int len = maplen(d->v);
    unsigned f = vflags(flags);
    r = k == PIN_VCPU       ? V.virDomainPinVcpuFlags(d->dom, id, map, len, f)
        : k == PIN_EMULATOR ? V.virDomainPinEmulator(d->dom, map, len, f)
                            : V.virDomainPinIOThread(d->dom, id, map, len, f);
    return r < 0 ? virt_fail(d->v->ctx, call[k]) : 0;
}

int cgctl_virt_pin_vcpu(struct cgctl_vdom *d, unsigned vcpu, const cgp_bitmap *cpus, unsigned flags)
{
    return pin(d, PIN_VCPU, vcpu, cpus, flags);
}

int cgctl_virt_pin_emulator(struct cgctl_vdom *d, const cgp_bitmap *cpus, unsigned flags)
{
    return pin(d, PIN_EMULATOR, 0, cpus, flags);
}

int cgctl_virt_pin_iothread(struct cgctl_vdom *d, unsigned id, const cgp_bitmap *cpus, unsigned flags)
{
    return pin(d, PIN_IOTHREAD, id, cpus, flags);
}

int cgctl_virt_set_numa(struct cgctl_vdom *d, const cgp_bitmap *nodes, int mode, unsigned flags)
{
    vir_tparam pa[2];
    int n = 0;
    memset(pa, 0, sizeof pa);
    char *list CGP_AUTOFREE = NULL;
    if (mode >= 0) {
        int lv = cgctl_virt_mode_to_libvirt((enum cgp_mem_mode)mode);
        if (lv < 0)
            return -EINVAL;
        strcpy(pa[n].field, "numa_mode");
        pa[n].type = VIR_TYPED_PARAM_INT;
        pa[n++].value.i = lv;
    }
    if (nodes) {
        if (!(list = cgp_bitmap_format(nodes)))
            return -ENOMEM;
        strcpy(pa[n].field, "numa_nodeset");
        pa[n].type = VIR_TYPED_PARAM_STRING;
        pa[n++].value.s = list;
    }
    if (!n)
        return 0;
    if (V.virDomainSetNumaParameters(d->dom, pa, n, vflags(flags)) < 0)
        return virt_fail(d->v->ctx, "virDomainSetNumaParameters");
    return 0;
}
