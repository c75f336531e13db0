/* The host's NUMA nodes from SYSROOT/sys/devices/system/node (spec §4):
 * CPUs, memory, huge pages, HMAT access class 0, distances and memory tiers;
 * one node holding everything when there is no node/ directory. */
#include "internal.h"
#include "topology.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>

#define CGP_MAX_NODES 4096

/* "Node 0 MemTotal:  8179176 kB" lines. */
static int read_meminfo(cgp_ctx *ctx, int nfd, const char *dname, struct cgp_node *n)
{
    char *s CGP_AUTOFREE = NULL;
    ssize_t len = cgp_read_one(nfd, "meminfo", TOPO_SMALL_FILE, &s);
    if (len == -ENOENT)
        return 0;
    if (len < 0)
        return cgp_ctx_errorf(ctx, (int)len, "%s/meminfo: %s", dname, strerror((int)-len));
    int lineno = 0;
    for (char *line = s, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!*line)
            continue;
        /* "Node <id> <Key>: <amount> [kB]", parsed by hand (sscanf dominated
         * the node reads). */
        const char *p = line, *key, *colon;
        char *end;
        uint64_t v;
        bool ok = !strncmp(p, "Node ", 5);
        if (ok) {
            p += 5;
            strtol(p, &end, 10);
            ok = end != p && *end == ' ';
            p = end;
        }
        while (ok && *p == ' ')
            p++;
        key = p;
        colon = ok ? strchr(p, ':') : NULL;
        ok = colon && colon > key;
        char num[32] = "";
        const char *unit = "";
        if (ok) {
            p = colon + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            size_t nl = strcspn(p, " \t");
            ok = nl > 0 && nl < sizeof num;
            if (ok) {
                memcpy(num, p, nl);
                num[nl] = '\0';
                unit = p + nl;
                while (*unit == ' ' || *unit == '\t')
                    unit++;
            }
        }
        if (!ok || cgp_parse_u64(num, &v) < 0) /* negative or junk amounts are malformed */
            return cgp_ctx_errorf(ctx, -EIO, "%s/meminfo:%d: malformed line \"%.40s\"", dname,
                                  lineno, line);
        if (*unit && strcmp(unit, "kB") != 0)
            return cgp_ctx_errorf(ctx, -EIO, "%s/meminfo:%d: unknown unit \"%.8s\"", dname, lineno,
                                  unit);
        size_t klen = (size_t)(colon - key);
        if (klen == 8 && !strncmp(key, "MemTotal", 8))
            n->mem_total_kib = v;
        else if (klen == 7 && !strncmp(key, "MemFree", 7))
            n->mem_free_kib = v;
    }
    return 0;
}

static int cmp_hp(const void *a, const void *b)
{
    const struct cgp_hugepages *x = a, *y = b;
    return (x->size_kib > y->size_kib) - (x->size_kib < y->size_kib);
}

static int read_hugepages(cgp_ctx *ctx, int nfd, const char *dname, struct node_priv *np)
{
    int hfd CGP_AUTOCLOSE = cgp_open_dir(nfd, "hugepages", true);
    if (hfd < 0)
        return 0;
    DIR *d;
    int r = cgp_opendir_fd(hfd, &d);
    if (r < 0)
        return r;
    struct dirent *e;
    size_t cap = 0; /* np->hp starts empty */
    while ((e = readdir(d))) {
        unsigned long long sz;
        char tail[8];
        if (sscanf(e->d_name, "hugepages-%llu%7s", &sz, tail) != 2 || strcmp(tail, "kB"))
            continue;
        if (!CGP_GROW(np->hp, np->pub.n_hugepages, cap)) {
            r = -ENOMEM;
            break;
        }
        struct cgp_hugepages *h = &np->hp[np->pub.n_hugepages++];
        *h = (struct cgp_hugepages){ .size_kib = sz, .total = CGP_UNKNOWN_U64,
                                     .free = CGP_UNKNOWN_U64 };
        char path[300], dn[400];
        int64_t v;
        bool known;
        snprintf(dn, sizeof dn, "%s/hugepages", dname);
        snprintf(path, sizeof path, "%s/nr_hugepages", e->d_name);
        if ((r = topo_read_i64(ctx, hfd, dn, path, &v, &known)) < 0)
            break;
        if (known && v >= 0)
            h->total = (uint64_t)v;
        snprintf(path, sizeof path, "%s/free_hugepages", e->d_name);
        if ((r = topo_read_i64(ctx, hfd, dn, path, &v, &known)) < 0)
            break;
        if (known && v >= 0)
            h->free = (uint64_t)v;
    }
    closedir(d);
    if (r < 0)
        return r;
    if (np->pub.n_hugepages)
        qsort(np->hp, np->pub.n_hugepages, sizeof *np->hp, cmp_hp);
    np->pub.hugepages = np->hp;
    return 0;
}

static int read_access0(cgp_ctx *ctx, int nfd, const char *dname, struct node_priv *np)
{
    int afd CGP_AUTOCLOSE = cgp_open_dir(nfd, "access0/initiators", true);
    if (afd < 0)
        return 0;
    int r = topo_list_numbered(afd, "node", &np->initiators);
    if (r < 0)
        return r;
    /* An initiator-only node has an empty initiators/ directory: not a target. */
    if (cgp_bitmap_is_empty(np->initiators)) {
        cgp_bitmap_free(np->initiators);
        np->initiators = NULL;
        return 0;
    }
    np->pub.initiators = np->initiators;
    char dn[300];
    snprintf(dn, sizeof dn, "%s/access0/initiators", dname);
    static const char *const files[] = { "read_latency", "write_latency", "read_bandwidth",
                                         "write_bandwidth" };
    int64_t *dst[] = { &np->pub.read_latency, &np->pub.write_latency, &np->pub.read_bandwidth,
                       &np->pub.write_bandwidth };
    for (size_t i = 0; i < 4; i++) {
        int64_t v;
        bool known;
        if ((r = topo_read_i64(ctx, afd, dn, files[i], &v, &known)) < 0)
            return r;
        if (known)
            *dst[i] = v;
    }
    return 0;
}

/* Parse a distance row into *out (NULL when empty): the count, -EIO or -ENOMEM. */
static int parse_row(const char *s, int **out)
{
    size_t cap = 0, n = 0;
    int *v CGP_AUTOFREE = NULL;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        /* ACPI SLIT reserves 0-9; the kernel never reports them. */
        if (end == p || errno || x < 10 || x > 255 || (*end && !isspace((unsigned char)*end)))
            return -EIO;
        if (!CGP_GROW(v, n, cap))
            return -ENOMEM;
        v[n++] = (int)x;
        p = end;
    }
    *out = CGP_STEAL(v);
    return (int)n;
}

/* The kernel prints one entry per online node; dumps taken in other states
 * may match the possible set or the directories instead. Anything else is
 * left unknown. */
static int place_row(cgp_topology *t, size_t i, const int *row, int n)
{
    const cgp_bitmap *order = NULL;
    if (t->nodes_online && (int)cgp_bitmap_count(t->nodes_online) == n)
        order = t->nodes_online;
    else if (t->nodes_possible && (int)cgp_bitmap_count(t->nodes_possible) == n)
        order = t->nodes_possible;
    int k = 0;
    if (order) {
        cgp_bitmap_foreach(order, id) {
            int j = topo_node_index(t, id);
            if (j >= 0)
                t->dist[i * t->n_nodes + (size_t)j] = row[k];
            k++;
        }
    } else if ((size_t)n == t->n_nodes) {
        for (size_t j = 0; j < t->n_nodes; j++)
            t->dist[i * t->n_nodes + j] = row[j];
    } else {
        return -EIO; /* truncated or from another topology */
    }
    return 0;
}

static int read_tiers(cgp_ctx *ctx, cgp_topology *t)
{
    int vfd CGP_AUTOCLOSE = cgp_open_dir(ctx->root_fd, "sys/devices/virtual/memory_tiering", true);
    if (vfd < 0)
        return 0;
    cgp_bitmap *tiers CGP_AUTOBITMAP = NULL;
    int r = topo_list_numbered(vfd, "memory_tier", &tiers);
    if (r < 0)
        return r;
    cgp_bitmap_foreach(tiers, tier) {
        char rel[64];
        snprintf(rel, sizeof rel, "memory_tier%d/nodelist", tier);
        cgp_bitmap *nl CGP_AUTOBITMAP = NULL;
        if ((r = topo_read_set(ctx, vfd, "memory_tiering", rel, false, &nl)) < 0)
            return r;
        if (!nl)
            continue;
        cgp_bitmap_foreach(nl, id) {
            int j = topo_node_index(t, id);
            if (j >= 0)
                t->nodes[j].pub.tier = tier;
        }
    }
    return 0;
}

/* A host without node/ (CONFIG_NUMA=n) is one node holding every CPU and the
 * whole memory: that is what the kernel's allocator sees too. */
static int single_node(cgp_ctx *ctx, cgp_topology *t)
{
    t->nodes = calloc(1, sizeof *t->nodes);
    t->dist = malloc(sizeof *t->dist);
    t->nodes_online = cgp_bitmap_new();
    t->nodes_possible = cgp_bitmap_new();
    if (!t->nodes || !t->dist || !t->nodes_online || !t->nodes_possible)
        return -ENOMEM;
    t->n_nodes = 1;
    t->dist[0] = 10;
    struct node_priv *np = &t->nodes[0];
    np->pub = (struct cgp_node){ .id = 0, .online = true, .mem_total_kib = CGP_UNKNOWN_U64,
                                 .mem_free_kib = CGP_UNKNOWN_U64, .read_latency = -1,
                                 .write_latency = -1, .read_bandwidth = -1,
                                 .write_bandwidth = -1, .tier = -1 };
    if (!(np->cpus = cgp_bitmap_dup(t->present)))
        return -ENOMEM;
    np->pub.cpus = np->cpus;
    int r;
    if ((r = cgp_bitmap_set(t->nodes_online, 0)) < 0 || (r = cgp_bitmap_set(t->nodes_possible, 0)) < 0)
        return r;
    uint64_t tot, fr;
    if (cgp_proc_meminfo(ctx, &tot, &fr) == 0) {
        np->pub.mem_total_kib = tot;
        np->pub.mem_free_kib = fr;
    }
    return 0;
}

int topo_read_nodes(cgp_ctx *ctx, cgp_topology *t, int sysfd)
{
    int nodefd CGP_AUTOCLOSE = cgp_open_dir(sysfd, "node", true);
    if (nodefd < 0)
        return single_node(ctx, t);
    cgp_bitmap *dirs CGP_AUTOBITMAP = NULL;
    int r = topo_list_numbered(nodefd, "node", &dirs);
    if (r < 0)
        return r;
    t->n_node_dirs = cgp_bitmap_count(dirs);
    /* MAX_NUMNODES is at most 1 << 10 on every architecture; a larger id is
     * corrupt input and would make the distance matrix explode. */
    if ((r = topo_read_set_lim(ctx, nodefd, "node", "online", false, CGP_MAX_NODES, &t->nodes_online)) < 0 ||
        (r = topo_read_set_lim(ctx, nodefd, "node", "possible", false, CGP_MAX_NODES, &t->nodes_possible)) < 0)
        return r;
    /* Empty masks in dumps are collection artefacts, not facts. */
    topo_drop_empty(&t->nodes_online);
    cgp_bitmap *has_mem CGP_AUTOBITMAP = NULL;
    if ((r = topo_read_set(ctx, nodefd, "node", "has_memory", false, &has_mem)) < 0)
        return r;
    topo_drop_empty(&has_mem);
    cgp_bitmap *ids CGP_AUTOBITMAP = cgp_bitmap_dup(dirs);
    if (!ids)
        return -ENOMEM;
    if (t->nodes_online && (r = cgp_bitmap_or(ids, t->nodes_online)) < 0)
        return r;
    if (!t->nodes_online && !(t->nodes_online = cgp_bitmap_dup(dirs)))
        return -ENOMEM;
    if (!t->nodes_possible && !(t->nodes_possible = cgp_bitmap_dup(ids)))
        return -ENOMEM;
    if (cgp_bitmap_is_empty(ids))
        return single_node(ctx, t);

    size_t n = cgp_bitmap_count(ids);
    t->nodes = calloc(n, sizeof *t->nodes);
    t->dist = malloc(n * n * sizeof *t->dist);
    if (!t->nodes || !t->dist)
        return -ENOMEM;
    for (size_t i = 0; i < n * n; i++)
        t->dist[i] = -1;
    cgp_bitmap_foreach(ids, id) {
        struct node_priv *np = &t->nodes[t->n_nodes++];
        np->pub = (struct cgp_node){ .id = id, .mem_total_kib = CGP_UNKNOWN_U64,
                                     .mem_free_kib = CGP_UNKNOWN_U64, .read_latency = -1,
                                     .write_latency = -1, .read_bandwidth = -1,
                                     .write_bandwidth = -1, .tier = -1 };
        np->pub.online = cgp_bitmap_test(t->nodes_online, (unsigned)id);
    }
    for (size_t i = 0; i < t->n_nodes; i++) {
        struct node_priv *np = &t->nodes[i];
        int id = np->pub.id;
        char dname[32];
        snprintf(dname, sizeof dname, "node%d", id);
        int nfd CGP_AUTOCLOSE = cgp_open_dir(nodefd, dname, true);
        if (nfd >= 0) {
            if ((r = topo_read_set(ctx, nfd, dname, "cpulist", false, &np->cpus)) < 0)
                return r;
            if (!np->cpus && (r = topo_read_set(ctx, nfd, dname, "cpumap", true, &np->cpus)) < 0)
                return r;
            if (!np->cpus && (r = topo_list_numbered(nfd, "cpu", &np->cpus)) < 0)
                return r;
            if ((r = read_meminfo(ctx, nfd, dname, &np->pub)) < 0 ||
                (r = read_hugepages(ctx, nfd, dname, np)) < 0 ||
                (r = read_access0(ctx, nfd, dname, np)) < 0)
                return r;
            char *ds CGP_AUTOFREE = NULL;
            ssize_t len = cgp_read_one(nfd, "distance", TOPO_SMALL_FILE, &ds);
            if (len < 0 && len != -ENOENT)
                return cgp_ctx_errorf(ctx, (int)len, "%s/distance: %s", dname,
                                      strerror((int)-len));
            if (len > 0) { /* empty: a dump artefact, unknown */
                int *row CGP_AUTOFREE = NULL;
                int cnt = parse_row(ds, &row);
                if (cnt == -ENOMEM)
                    return cnt;
                if (cnt < 0)
                    return cgp_ctx_errorf(ctx, -EIO, "node/%s/distance: malformed: \"%.40s\"",
                                          dname, ds);
                if (cnt == 0 || place_row(t, i, row, cnt) < 0)
                    return cgp_ctx_errorf(ctx, -EIO,
                                          "node/%s/distance: %d entries match neither the online "
                                          "nor the possible nodes: \"%.40s\"", dname, cnt, ds);
            }
        }
        if (!np->cpus && !(np->cpus = cgp_bitmap_new()))
            return -ENOMEM;
        /* Node lists may name CPUs that do not exist (trimmed dumps, s390). */
        cgp_bitmap_and(np->cpus, t->present);
        np->pub.cpus = np->cpus;
        bool cpus = !cgp_bitmap_is_empty(np->cpus);
        int mem = -1; /* unknown */
        if (np->pub.mem_total_kib != CGP_UNKNOWN_U64)
            mem = np->pub.mem_total_kib > 0;
        else if (has_mem)
            mem = cgp_bitmap_test(has_mem, (unsigned)id);
        else if (nfd < 0)
            mem = 0; /* an offline node without a directory has nothing to give */
        np->pub.kind = mem < 0 ? CGP_NODE_UNKNOWN
                     : cpus    ? (mem ? CGP_NODE_CPU_MEMORY : CGP_NODE_CPU_ONLY)
                               : (mem ? CGP_NODE_MEMORY_ONLY : CGP_NODE_NEITHER);
        if (mem == 0 && np->pub.mem_total_kib == CGP_UNKNOWN_U64 && nfd < 0) {
            np->pub.mem_total_kib = 0;
            np->pub.mem_free_kib = 0;
        }
    }
    return read_tiers(ctx, t);
}
