/* emit: a compiled guest placement as QEMU options or Xen xl.cfg lines
 * (cgp_emit; libvirt's XML is policy/emit-libvirt.c). */
#include "internal.h"
#include "emit-int.h"
#include "cgplace_interop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void emit_size(FILE *f, uint64_t kib)
{
    static const char units[] = "KMGT";
    unsigned u = 0;
    while (u < 3 && kib && kib % 1024 == 0) {
        kib /= 1024;
        u++;
    }
    fprintf(f, "%llu%c", (unsigned long long)kib, units[u]);
}

/* "key=A-B,key=C": QEMU's repeated list option, one range per item. */
static void qemu_list(FILE *f, const char *key, const cgp_bitmap *b)
{
    const char *sep = "";
    for (int lo = cgp_bitmap_next(b, 0); lo >= 0;) {
        int hi = cgp_bitmap_next_clear(b, (unsigned)lo) - 1;
        if (hi > lo)
            fprintf(f, "%s%s=%d-%d", sep, key, lo, hi);
        else
            fprintf(f, "%s%s=%d", sep, key, lo);
        sep = ",";
        lo = cgp_bitmap_next(b, (unsigned)hi + 1);
    }
}

/* QEMU's memory-backend policy for a mode: a cgroup can only restrict, but
 * QEMU binds each backend itself (mbind). */
static const char *qemu_policy(enum cgp_mem_mode m)
{
    switch (m) {
    case CGP_MODE_PREFERRED: return "preferred";
    case CGP_MODE_INTERLEAVE: return "interleave";
    default: return "bind";
    }
}

static void qemu_backend(FILE *f, const char *id, uint64_t kib, const cgp_bitmap *nodes, enum cgp_mem_mode m)
{
    fprintf(f, "-object memory-backend-ram,id=%s,size=", id);
    emit_size(f, kib);
    if (!cgp_bitmap_is_empty(nodes)) {   /* no node to bind to: QEMU's default */
        fputc(',', f);
        qemu_list(f, "host-nodes", nodes);
        fprintf(f, ",policy=%s", qemu_policy(m));
    }
    fputc('\n', f);
}

static int emit_qemu(FILE *f, const struct cgp_guest_placement *g)
{
    if (!g->memory_kib)
        return -ENODATA;
    fputs("-m ", f);
    emit_size(f, g->memory_kib);
    fprintf(f, "\n-smp %u\n", g->n_vcpus);
    if (!g->n_cells) {
        /* one backend for the whole memory, no guest NUMA node */
        qemu_backend(f, "ram", g->memory_kib, g->mems, g->mode);
        fputs("-machine memory-backend=ram\n", f);
        return 0;
    }
    for (size_t i = 0; i < g->n_cells; i++) {
        const struct cgp_cell_placement *c = &g->cells[i];
        char id[32];
        snprintf(id, sizeof id, "ram-node%u", c->index);
        qemu_backend(f, id, c->memory_kib, c->mems, c->mode);
        fprintf(f, "-numa node,nodeid=%u,", c->index);
        qemu_list(f, "cpus", c->vcpus);
        fprintf(f, ",memdev=%s\n", id);
    }
    return 0;
}

static bool all_vcpus_same(const struct cgp_guest_placement *g)
{
    for (unsigned v = 0; v < g->n_vcpus; v++)
        if (!cgp_bitmap_equal(g->vcpu[v].cpus, g->cpus))
            return false;
    return true;
}

/* KiB to xl's MiB, rounded up. */
static unsigned long long mib_up(uint64_t kib)
{
    return (unsigned long long)(kib / 1024 + (kib % 1024 != 0));
}

static int xl_vnuma(FILE *f, const cgp_topology *t, const struct cgp_guest_placement *g)
{
    int *pnode = calloc(g->n_cells, sizeof *pnode);
    if (!pnode)
        return -ENOMEM;
    for (size_t i = 0; i < g->n_cells; i++) {
        pnode[i] = cgp_bitmap_next(g->cells[i].mems, 0);
        if (cgp_bitmap_count(g->cells[i].mems) > 1)
            fprintf(f, "# cell %u: xl maps a vNUMA node to one host node, node %d of its nodes\n",
                    g->cells[i].index, pnode[i]);
        if (g->cells[i].mode == CGP_MODE_PREFERRED || g->cells[i].mode == CGP_MODE_INTERLEAVE)
            fprintf(f, "# cell %u: xl has no mode %s; its memory is bound to its node\n", g->cells[i].index,
                    cgp_mem_mode_name(g->cells[i].mode));
    }
    fputs("vnuma = [", f);
    for (size_t i = 0; i < g->n_cells; i++) {
        const struct cgp_cell_placement *c = &g->cells[i];
        char *vc CGP_AUTOFREE = cgp_bitmap_format(c->vcpus);
        if (!vc) {
            free(pnode);
            return -ENOMEM;
        }
        fprintf(f, "%s[\"pnode=%d\", \"size=%llu\", \"vcpus=%s\", \"vdistances=", i ? ",\n         " : " ",
                pnode[i], mib_up(c->memory_kib), vc);
        for (size_t j = 0; j < g->n_cells; j++) {
            int d = cgp_topology_distance(t, pnode[i], pnode[j]);
            if (d < 0)      /* unknown SLIT: the kernel's defaults */
                d = pnode[i] == pnode[j] ? 10 : 20;
            fprintf(f, "%s%d", j ? "," : "", d);
        }
        fputs("\"]", f);
    }
    fputs(" ]\n", f);
    free(pnode);
    return 0;
}

static int emit_xl(FILE *f, const cgp_topology *t, const struct cgp_guest_placement *g)
{
    if (g->memory_kib)
        fprintf(f, "memory = %llu\n", mib_up(g->memory_kib));
    fprintf(f, "vcpus = %u\n", g->n_vcpus);
    if (all_vcpus_same(g)) {
        char *s CGP_AUTOFREE = cgp_bitmap_format(g->cpus);
        if (!s)
            return -ENOMEM;
        fprintf(f, "cpus = \"%s\"\n", s);
    } else {
        fputs("cpus = [", f);
        for (unsigned v = 0; v < g->n_vcpus; v++) {
            char *s CGP_AUTOFREE = cgp_bitmap_format(g->vcpu[v].cpus);
            if (!s)
                return -ENOMEM;
            fprintf(f, "%s\"%s\"", v ? ", " : "", s);
        }
        fputs("]\n", f);
    }
    /* Xen puts a domain's memory on the nodes of its vCPUs' soft affinity:
     * the guest's CPUs on the nodes of its memory. */
    cgp_bitmap *soft CGP_AUTOBITMAP = cgp_bitmap_new();
    if (!soft)
        return -ENOMEM;
    cgp_bitmap_foreach(g->mems, id) {
        const struct cgp_node *n = cgp_topology_node_by_id(t, id);
        if (n && n->cpus && cgp_bitmap_or(soft, n->cpus) < 0)
            return -ENOMEM;
    }
    cgp_bitmap_and(soft, g->cpus);
    char *m CGP_AUTOFREE = cgp_bitmap_format(g->mems);
    char *s CGP_AUTOFREE = cgp_bitmap_format(soft);
    if (!m || !s)
        return -ENOMEM;
    if (cgp_bitmap_is_empty(soft))
        fprintf(f, "# no cpus_soft: the guest's CPUs are on none of its memory nodes (%s)\n", m);
    else
        fprintf(f, "cpus_soft = \"%s\"\n", s);
    if (g->n_cells)
        return xl_vnuma(f, t, g);
    if (g->mode == CGP_MODE_PREFERRED || g->mode == CGP_MODE_INTERLEAVE)
        fprintf(f, "# xl has no mode %s: the memory follows cpus_soft\n", cgp_mem_mode_name(g->mode));
    return 0;
}

CGP_EXPORT int cgp_emit(const cgp_placement *pl, const cgp_topology *t, const char *guest,
                        enum cgp_emit_format fmt, char **out)
{
    if (!pl || !t || !guest || !out)
        return -EINVAL;
    const struct cgp_guest_placement *g = cgp_placement_find(pl, guest);
    if (!g)
        return -ENOENT;
    if (fmt == CGP_EMIT_LIBVIRT)
        return emit_libvirt(g, out);
    if (fmt != CGP_EMIT_QEMU && fmt != CGP_EMIT_XL)
        return -EINVAL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    int r = fmt == CGP_EMIT_QEMU ? emit_qemu(f, g) : emit_xl(f, t, g);
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(buf);
        return r;
    }
    *out = buf;
    return 0;
}
