/* Host topology model read from SYSROOT/sys/devices/system (spec §4): the
 * model's life cycle and accessors, the shared file readers, the CPUs and
 * host facts. The nodes are read in topology-nodes.c.
 *
 * Every value that cannot be read stays unknown; malformed content is an
 * error naming the file. Dumps of real machines break every assumption a
 * live kernel would let us make (see tests/oracle/), hence the fallbacks. */
#include "internal.h"
#include "topology.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static void node_priv_clear(struct node_priv *n)
{
    cgp_bitmap_free(n->cpus);
    cgp_bitmap_free(n->initiators);
    free(n->hp);
}

CGP_EXPORT void cgp_topology_free(cgp_topology *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_nodes; i++)
        node_priv_clear(&t->nodes[i]);
    free(t->nodes);
    for (size_t i = 0; i < t->n_cpus; i++)
        cgp_bitmap_free(t->cpu_siblings[i]);
    free(t->cpu_siblings);
    free(t->cpu_pkg_first);
    free(t->cpus);
    free(t->dist);
    cgp_bitmap_free(t->present);
    cgp_bitmap_free(t->online);
    cgp_bitmap_free(t->nodes_online);
    cgp_bitmap_free(t->nodes_possible);
    cgp_bitmap_free(t->cpuless);
    cgp_bitmap_free(t->memless);
    free(t->arch);
    free(t);
}

static void topology_freep(cgp_topology **t) { cgp_topology_free(*t); }

int topo_read_set(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, bool hex,
                  cgp_bitmap **out)
{
    return topo_read_set_lim(ctx, dirfd, dirname, rel, hex, 0, out);
}

int topo_read_set_lim(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, bool hex,
                      unsigned limit, cgp_bitmap **out)
{
    char small[4096];
    char *big CGP_AUTOFREE = NULL;
    const char *s = small;
    ssize_t n = cgp_read_attr(dirfd, rel, small, sizeof small);
    if (n == -EFBIG) {
        n = cgp_read_file(dirfd, rel, TOPO_SMALL_FILE, &big);
        s = big;
    }
    if (n == -ENOENT)
        return 0;
    if (n < 0)
        return cgp_ctx_errorf(ctx, (int)n, "%s/%s: %s", dirname, rel, strerror((int)-n));
    cgp_bitmap *b = NULL;
    size_t pos = 0;
    int r;
    if (n == 0) {
        b = cgp_bitmap_new();
        r = b ? 0 : -ENOMEM;
    } else {
        r = hex ? cgp_bitmap_parse_hex(s, &b, &pos) : cgp_bitmap_parse(s, limit, &b, &pos);
    }
    if (r == 0 && hex && limit && cgp_bitmap_last(b) >= (int)limit) {
        cgp_bitmap_free(b);
        r = -ERANGE;
    }
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return cgp_ctx_errorf(ctx, -EIO, "%s/%s: %s %s at offset %zu: \"%.40s\"", dirname,
                              rel, r == -ERANGE ? "id out of range in" : "malformed",
                              hex ? "mask" : "list", pos, s);
    *out = b;
    return 0;
}

int topo_read_i64(cgp_ctx *ctx, int dirfd, const char *dirname, const char *rel, int64_t *out,
                  bool *known)
{
    char s[256];
    ssize_t n = cgp_read_attr(dirfd, rel, s, sizeof s);
    *known = false;
    if (n == -ENOENT || n == 0) /* empty files in dumps are collection artefacts */
        return 0;
    if (n < 0)
        return cgp_ctx_errorf(ctx, (int)n, "%s/%s: %s", dirname, rel, strerror((int)-n));
    if (cgp_parse_i64(s, out) < 0)
        return cgp_ctx_errorf(ctx, -EIO, "%s/%s: not an integer: \"%.40s\"", dirname, rel, s);
    *known = true;
    return 0;
}

int topo_list_numbered(int dirfd, const char *prefix, cgp_bitmap **out)
{
    DIR *d;
    int r = cgp_opendir_fd(dirfd, &d);
    if (r < 0)
        return r;
    cgp_bitmap *b CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!b) {
        closedir(d);
        return -ENOMEM;
    }
    rewinddir(d);
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *p = e->d_name;
        if (strncmp(p, prefix, pl) != 0 || !isdigit((unsigned char)p[pl]))
            continue;
        char *end;
        unsigned long v = strtoul(p + pl, &end, 10);
        if (*end || v >= CGP_MAX_ID)
            continue;
        if ((r = cgp_bitmap_set(b, (unsigned)v)) < 0)
            break;
    }
    closedir(d);
    if (r < 0)
        return r;
    *out = CGP_STEAL(b);
    return 0;
}

/* Package, die and cluster ids are shared by every CPU of the group, which
 * the kernel lists in <level>_cpus_list: read the id once per group instead of
 * once per core. A level whose first group is a single core (x86 clusters)
 * is read per core, since the mask would cost a read per core too. */
struct level {
    const char *id_file, *mask_file, *old_mask_file;
    bool per_core;
    size_t n, cap;
    struct { cgp_bitmap *mask; int id; } *g;
};

static void levels_free(struct level (*lv)[3])
{
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < (*lv)[l].n; i++)
            cgp_bitmap_free((*lv)[l].g[i].mask);
        free((*lv)[l].g);
    }
}

static int level_id(cgp_ctx *ctx, int cpufd, struct level *lv, int cpu, const char *tname,
                    const cgp_bitmap *siblings, int *id, bool *known)
{
    for (size_t i = 0; i < lv->n; i++) {
        if (cgp_bitmap_test(lv->g[i].mask, (unsigned)cpu)) {
            *id = lv->g[i].id;
            *known = true;
            return 0;
        }
    }
    char rel[96];
    int64_t v;
    snprintf(rel, sizeof rel, "%s/%s", tname, lv->id_file);
    int r = topo_read_i64(ctx, cpufd, "cpu", rel, &v, known);
    if (r < 0)
        return r;
    *id = (int)v;
    if (!*known || lv->per_core)
        return 0;
    cgp_bitmap *mask CGP_AUTOBITMAP = NULL;
    snprintf(rel, sizeof rel, "%s/%s", tname, lv->mask_file);
    if ((r = topo_read_set(ctx, cpufd, "cpu", rel, false, &mask)) < 0)
        return r;
    if (!mask && lv->old_mask_file) {
        snprintf(rel, sizeof rel, "%s/%s", tname, lv->old_mask_file);
        if ((r = topo_read_set(ctx, cpufd, "cpu", rel, false, &mask)) < 0)
            return r;
    }
    if (!mask || !cgp_bitmap_test(mask, (unsigned)cpu) ||
        (siblings && cgp_bitmap_equal(mask, siblings))) {
        lv->per_core = true; /* no mask, an inconsistent one, or one core per group */
        return 0;
    }
    if (!CGP_GROW(lv->g, lv->n, lv->cap))
        return -ENOMEM;
    lv->g[lv->n].mask = CGP_STEAL(mask);
    lv->g[lv->n].id = *id;
    lv->n++;
    return 0;
}

/* POWER and s390 say physical_package_id -1: the package is then the mask
 * the kernel still gives (package_cpus, formerly core_siblings), as hwloc and
 * lscpu read it. *first: the mask's lowest CPU, -1 when there is none. */
static int package_mask(cgp_ctx *ctx, int cpufd, const char *tname, int cpu, int *first)
{
    static const struct { const char *file; bool hex; } files[] = {
        { "package_cpus_list", false }, { "core_siblings_list", false },
        { "package_cpus", true }, { "core_siblings", true } };
    cgp_bitmap *mask CGP_AUTOBITMAP = NULL;
    for (size_t f = 0; f < sizeof files / sizeof *files && !mask; f++) {
        char rel[96];
        snprintf(rel, sizeof rel, "%s/%s", tname, files[f].file);
        int r = topo_read_set(ctx, cpufd, "cpu", rel, files[f].hex, &mask);
        if (r < 0)
            return r;
    }
    *first = mask && cgp_bitmap_test(mask, (unsigned)cpu) ? cgp_bitmap_next(mask, 0) : -1;
    return 0;
}

static int read_cpus(cgp_ctx *ctx, cgp_topology *t, int sysfd)
{
    struct level levels[3] CGP_CLEANUP(levels_free) = {
        { "physical_package_id", "package_cpus_list", "core_siblings_list", false, 0, 0, NULL },
        { "die_id", "die_cpus_list", NULL, false, 0, 0, NULL },
        { "cluster_id", "cluster_cpus_list", NULL, false, 0, 0, NULL },
    };
    int cpufd CGP_AUTOCLOSE = cgp_open_dir(sysfd, "cpu", true);
    if (cpufd < 0)
        return cgp_ctx_errorf(ctx, -ENOENT, "%s/sys/devices/system/cpu: %s", ctx->sysroot,
                              strerror(-cpufd));
    cgp_bitmap *dirs CGP_AUTOBITMAP = NULL;
    int r = topo_list_numbered(cpufd, "cpu", &dirs);
    if (r < 0)
        return r;
    cgp_bitmap *present CGP_AUTOBITMAP = NULL;
    if ((r = topo_read_set(ctx, cpufd, "cpu", "present", false, &present)) < 0)
        return r;
    /* Trimmed dumps drop CPU directories: trust what is on disk. */
    if (present && !cgp_bitmap_is_empty(present))
        cgp_bitmap_and(present, dirs);
    else {
        cgp_bitmap_free(present);
        present = CGP_STEAL(dirs);
    }
    cgp_bitmap *online CGP_AUTOBITMAP = NULL;
    if ((r = topo_read_set(ctx, cpufd, "cpu", "online", false, &online)) < 0)
        return r;
    /* An empty list is a dump artefact (a live kernel always has a CPU online). */
    topo_drop_empty(&online);
    bool per_cpu_online = !online;
    if (per_cpu_online && !(online = cgp_bitmap_new()))
        return -ENOMEM;
    cgp_bitmap_and(online, present);

    unsigned n = cgp_bitmap_count(present);
    t->cpus = calloc(n ? n : 1, sizeof *t->cpus);
    t->cpu_siblings = calloc(n ? n : 1, sizeof *t->cpu_siblings);
    t->cpu_pkg_first = malloc((n ? n : 1) * sizeof *t->cpu_pkg_first);
    if (!t->cpus || !t->cpu_siblings || !t->cpu_pkg_first)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        t->cpu_pkg_first[i] = -1;
    /* Which optional files this kernel has is the same for every CPU
     * (cluster_id since 5.16, die_id since 5.2, core_cpus_list since 5.4...):
     * probe the first CPU that has a topology/ directory instead of failing
     * an open per CPU. */
    static const struct { const char *file; bool hex; } sibfiles[] = {
        { "thread_siblings_list", false }, { "core_cpus_list", false },
        { "thread_siblings", true }, { "core_cpus", true } };
    bool has_level[3] = { true, true, true };
    size_t sib_first = 0;
    cgp_bitmap_foreach(present, id) {
        char rel[96];
        struct stat st;
        snprintf(rel, sizeof rel, "cpu%d/topology", id);
        if (fstatat(cpufd, rel, &st, 0) < 0)
            continue; /* offline CPUs lose topology/ */
        for (int l = 1; l < 3; l++) {
            snprintf(rel, sizeof rel, "cpu%d/topology/%s", id, levels[l].id_file);
            has_level[l] = fstatat(cpufd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
        }
        while (sib_first < 3) {
            snprintf(rel, sizeof rel, "cpu%d/topology/%s", id, sibfiles[sib_first].file);
            if (fstatat(cpufd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
                break;
            sib_first++;
        }
        break;
    }
    bool *filled CGP_AUTOFREE = calloc(n ? n : 1, sizeof *filled);
    if (!filled)
        return -ENOMEM;
    cgp_bitmap_foreach(present, id) {
        size_t pos = t->n_cpus++;
        struct cgp_cpu *c = &t->cpus[pos];
        cgp_bitmap **sib = &t->cpu_siblings[pos];
        if (!filled[pos])
            *c = (struct cgp_cpu){ .id = id, .node = -1, .package = -1, .die = -1,
                                   .cluster = -1, .core = -1 };
        char name[32], tname[48], rel[96];
        snprintf(name, sizeof name, "cpu%d", id);
        snprintf(tname, sizeof tname, "cpu%d/topology", id);
        if (per_cpu_online) {
            /* No global list: a CPU without an online file cannot be unplugged. */
            int64_t v = 1;
            bool known;
            snprintf(rel, sizeof rel, "%s/online", name);
            if ((r = topo_read_i64(ctx, cpufd, "cpu", rel, &v, &known)) < 0)
                return r;
            if (!known || v != 0) {
                if ((r = cgp_bitmap_set(online, (unsigned)id)) < 0)
                    return r;
            }
        }
        if (filled[pos])
            continue; /* described by the first thread of its core */
        /* Paths relative to cpu/: no per-CPU directory fds (syscalls dominate
         * on big hosts). */
        /* core_cpus* are the current names of thread_siblings*. */
        for (size_t f = sib_first; f < 4 && !*sib; f++) {
            snprintf(rel, sizeof rel, "%s/%s", tname, sibfiles[f].file);
            if ((r = topo_read_set(ctx, cpufd, "cpu", rel, sibfiles[f].hex, sib)) < 0)
                return r;
        }
        /* A mask that does not contain the CPU itself is inconsistent: unknown. */
        if (*sib && !cgp_bitmap_test(*sib, (unsigned)id)) {
            cgp_bitmap_free(*sib);
            *sib = NULL;
        }
        c->siblings = *sib;
        int64_t v;
        bool known;
        int ids[3];
        bool ids_known[3];
        for (int l = 0; l < 3; l++) {
            if (!has_level[l]) {
                ids_known[l] = false;
                continue;
            }
            if ((r = level_id(ctx, cpufd, &levels[l], id, tname, *sib, &ids[l], &ids_known[l])) < 0)
                return r;
        }
        if (ids_known[0]) {
            c->package = ids[0];
            c->package_known = true;
        }
        if ((!ids_known[0] || ids[0] < 0) && (r = package_mask(ctx, cpufd, tname, id, &t->cpu_pkg_first[pos])) < 0)
            return r;
        if (ids_known[1])
            c->die = ids[1];
        if (ids_known[2])
            c->cluster = ids[2];
        snprintf(rel, sizeof rel, "%s/core_id", tname);
        if ((r = topo_read_i64(ctx, cpufd, "cpu", rel, &v, &known)) < 0)
            return r;
        if (known)
            c->core = (int)v;
        /* Thread siblings are symmetric and share package, die, cluster and
         * core by the kernel's definition: the first thread of a core
         * describes the others (halves the reads on SMT hosts). */
        if (*sib && cgp_bitmap_next(*sib, 0) == id) {
            cgp_bitmap_foreach(*sib, x) {
                if (x == id || !cgp_bitmap_test(present, (unsigned)x))
                    continue;
                size_t xp = cgp_bitmap_rank(present, (unsigned)x);
                t->cpus[xp] = *c;
                t->cpus[xp].id = x;
                t->cpu_pkg_first[xp] = t->cpu_pkg_first[pos];
                filled[xp] = true;
            }
        }
    }
    for (size_t i = 0; i < t->n_cpus; i++)
        t->cpus[i].online = cgp_bitmap_test(online, (unsigned)t->cpus[i].id);
    t->present = CGP_STEAL(present);
    t->online = CGP_STEAL(online);
    return 0;
}

static int cpu_index(const cgp_topology *t, int id)
{
    size_t lo = 0, hi = t->n_cpus;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->cpus[mid].id == id)
            return (int)mid;
        if (t->cpus[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const char *arch_from_cpuinfo(const char *s)
{
    if (strstr(s, "vendor_id") && strstr(s, "flags")) {
        const char *f = strstr(s, "flags");
        const char *eol = strchr(f, '\n');
        size_t len = eol ? (size_t)(eol - f) : strlen(f);
        /* 64-bit x86 CPUs advertise long mode. */
        for (const char *p = f; p + 3 <= f + len; p++)
            if (p[0] == ' ' && p[1] == 'l' && p[2] == 'm' && (p + 3 == f + len || p[3] == ' '))
                return "x86_64";
        return "i686";
    }
    if (strstr(s, "IBM/S390"))
        return "s390x";
    if (strstr(s, "CPU architecture: 8") || strstr(s, "CPU architecture\t: 8"))
        return "aarch64";
    if (strstr(s, "CPU architecture: 7"))
        return "armv7l";
    if (strstr(s, "ARMv6"))
        return "armv6l";
    if (strstr(s, "POWER") || strstr(s, "platform\t: pSeries") || strstr(s, "PowerNV"))
        return "ppc64";
    if (strstr(s, "Itanium") || strstr(s, "family     : Itanium") || strstr(s, "IA-64"))
        return "ia64";
    if (strstr(s, "isa\t\t: rv64") || strstr(s, "isa\t: rv64"))
        return "riscv64";
    if (strstr(s, "sparc64") || strstr(s, "UltraSparc") || strstr(s, "SPARC"))
        return "sparc64";
    return NULL;
}

/* MHz the way virsh reports it: "cpu MHz" (x86, s390), "clock" (POWER),
 * else cpufreq's maximum. */
static int mhz_from_cpuinfo(const char *s)
{
    static const char *const keys[] = { "cpu MHz", "clock", "cpu MHz static" };
    for (const char *line = s; line && *line;) {
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            size_t kl = strlen(keys[k]);
            if (!strncmp(line, keys[k], kl) && (line[kl] == ' ' || line[kl] == '\t' || line[kl] == ':')) {
                const char *c = strchr(line, ':');
                const char *eol = strchr(line, '\n');
                if (c && (!eol || c < eol)) {
                    double v = strtod(c + 1, NULL);
                    /* out of int's range (or inf) is garbage, not a clock */
                    if (v > 0 && v < INT_MAX)
                        return (int)v;
                }
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

/* virsh nodeinfo's MHz (libvirt's virhostcpu.c): the integer part of the
 * first "cpu MHz" (x86), "clock" (POWER), "BogoMIPS" (ARM) or "cpu MHz
 * dynamic" (s390) line; each architecture has only its own key. 0 unknown,
 * never cpufreq. */
static int mhz_libvirt(const char *s)
{
    static const char *const keys[] = { "cpu MHz", "clock", "BogoMIPS", "cpu MHz dynamic" };
    for (const char *line = s; line && *line;) {
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(line, keys[k], kl) || (line[kl] != ' ' && line[kl] != '\t' && line[kl] != ':'))
                continue;
            const char *c = line + kl;
            while (*c == ' ' || *c == '\t')
                c++;
            if (*c != ':')
                continue;
            char *end;
            unsigned long v = strtoul(c + 1, &end, 10);
            return end != c + 1 && v <= INT_MAX ? (int)v : 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

static void read_host_info(cgp_ctx *ctx, cgp_topology *t, int sysfd)
{
    t->mhz = -1;
    t->mhz_libvirt = 0;
    uint64_t fr;
    if (cgp_proc_meminfo(ctx, &t->proc_mem_total, &fr) < 0)
        t->proc_mem_total = CGP_UNKNOWN_U64;
    char *ci CGP_AUTOFREE = NULL;
    if (cgp_read_file(ctx->root_fd, "proc/cpuinfo", 16u << 20, &ci) >= 0) {
        t->mhz = mhz_from_cpuinfo(ci);
        t->mhz_libvirt = mhz_libvirt(ci);
        const char *a = arch_from_cpuinfo(ci);
        if (a)
            t->arch = strdup(a);
    }
    if (!t->arch && !strcmp(ctx->sysroot, "/")) {
        struct utsname u;
        if (uname(&u) == 0)
            t->arch = strdup(u.machine);
    }
    if (t->mhz < 0 && t->n_cpus) {
        char rel[96];
        snprintf(rel, sizeof rel, "cpu/cpu%d/cpufreq/cpuinfo_max_freq", t->cpus[0].id);
        char *s CGP_AUTOFREE = NULL;
        uint64_t khz;
        if (cgp_read_file(sysfd, rel, 4096, &s) >= 0 && cgp_parse_u64(s, &khz) == 0 && khz &&
            khz / 1000 <= INT_MAX)
            t->mhz = (int)(khz / 1000);
    }
}

CGP_EXPORT int cgp_topology_read(cgp_ctx *ctx, cgp_topology **out)
{
    ctx->err[0] = '\0';
    cgp_topology *t CGP_CLEANUP(topology_freep) = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    int sysfd CGP_AUTOCLOSE = cgp_open_dir(ctx->root_fd, "sys/devices/system", true);
    if (sysfd < 0)
        return cgp_ctx_errorf(ctx, -ENOENT, "%s/sys/devices/system: %s", ctx->sysroot,
                              strerror(-sysfd));
    int r = read_cpus(ctx, t, sysfd);
    if (r < 0)
        return r;
    if ((r = topo_read_nodes(ctx, t, sysfd)) < 0)
        return r;
    for (size_t i = 0; i < t->n_nodes; i++) {
        cgp_bitmap_foreach(t->nodes[i].cpus, id) {
            int k = cpu_index(t, id);
            if (k >= 0 && t->cpus[k].node < 0)
                t->cpus[k].node = t->nodes[i].pub.id;
        }
    }
    read_host_info(ctx, t, sysfd);
    if ((r = topo_cell_lists(t)) < 0)
        return r;
    *out = CGP_STEAL(t);
    return 0;
}

CGP_EXPORT size_t cgp_topology_n_nodes(const cgp_topology *t) { return t->n_nodes; }

CGP_EXPORT const struct cgp_node *cgp_topology_node(const cgp_topology *t, size_t i)
{
    return i < t->n_nodes ? &t->nodes[i].pub : NULL;
}

CGP_EXPORT const struct cgp_node *cgp_topology_node_by_id(const cgp_topology *t, int id)
{
    int i = topo_node_index(t, id);
    return i < 0 ? NULL : &t->nodes[i].pub;
}

CGP_EXPORT int cgp_topology_distance(const cgp_topology *t, int a, int b)
{
    int i = topo_node_index(t, a), j = topo_node_index(t, b);
    if (i < 0 || j < 0)
        return -1;
    return t->dist[(size_t)i * t->n_nodes + (size_t)j];
}

CGP_EXPORT size_t cgp_topology_n_cpus(const cgp_topology *t) { return t->n_cpus; }

CGP_EXPORT const struct cgp_cpu *cgp_topology_cpu(const cgp_topology *t, size_t i)
{
    return i < t->n_cpus ? &t->cpus[i] : NULL;
}

CGP_EXPORT const struct cgp_cpu *cgp_topology_cpu_by_id(const cgp_topology *t, int id)
{
    int i = cpu_index(t, id);
    return i < 0 ? NULL : &t->cpus[i];
}

CGP_EXPORT const cgp_bitmap *cgp_topology_cpus_present(const cgp_topology *t) { return t->present; }
CGP_EXPORT const cgp_bitmap *cgp_topology_cpus_online(const cgp_topology *t) { return t->online; }
CGP_EXPORT const cgp_bitmap *cgp_topology_nodes_online(const cgp_topology *t) { return t->nodes_online; }
CGP_EXPORT const cgp_bitmap *cgp_topology_nodes_possible(const cgp_topology *t) { return t->nodes_possible; }
CGP_EXPORT const char *cgp_topology_arch(const cgp_topology *t) { return t->arch; }
CGP_EXPORT int cgp_topology_mhz(const cgp_topology *t) { return t->mhz; }

CGP_EXPORT uint64_t cgp_topology_mem_total_kib(const cgp_topology *t)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        if (t->nodes[i].pub.mem_total_kib == CGP_UNKNOWN_U64)
            return t->proc_mem_total;
        sum = cgp_size_add(sum, t->nodes[i].pub.mem_total_kib);
    }
    return sum;
}

CGP_EXPORT uint64_t cgp_topology_mem_free_kib(const cgp_topology *t)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const struct cgp_node *n = &t->nodes[i].pub;
        if (n->online && n->mem_total_kib != 0) /* a cell without memory has nothing free */
            sum = cgp_size_add(sum, n->mem_free_kib);
    }
    return sum;
}

CGP_EXPORT const char *cgp_node_kind_name(enum cgp_node_kind k)
{
    switch (k) {
    case CGP_NODE_CPU_MEMORY: return "cpu+memory";
    case CGP_NODE_CPU_ONLY: return "cpu-only";
    case CGP_NODE_MEMORY_ONLY: return "memory-only";
    case CGP_NODE_NEITHER: return "neither";
    case CGP_NODE_UNKNOWN: break;
    }
    return "unknown";
}
