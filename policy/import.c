/* import-libvirt: a libvirt domain's placement as a policy block (spec §3
 * grammar), keeping libvirt's meaning where cgplace's defaults differ:
 *  - libvirt lets a pin lie outside <vcpu cpuset>, cgplace's pins lie
 *    within the guest's cpus: cpus becomes the union, and what libvirt puts
 *    on the cpuset (unpinned vCPUs, the emulator) gets it as an explicit pin;
 *  - a cgplace cell runs its unpinned vCPUs near its memory, libvirt's on
 *    the cpuset: with a cpuset, those vCPUs get it as an explicit pin.
 * With no cpuset, libvirt's "every host CPU" is cgplace's default `cpus`. */
#include "internal.h"
#include "emit-int.h"
#include "../parsers/libvirt-xml.h"
#include "../parsers/policy-ast.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* <name> as a NAME (spec §3): [A-Za-z0-9_.-], 1-64, not starting with '.'
 * or '-', nor named like a cgroup interface file. */
static char *block_name(const char *s)
{
    char *n = malloc(68);
    if (!n)
        return NULL;
    size_t k = 0;
    if (*s == '.' || *s == '-' || pol_interface_prefix(s))
        n[k++] = 'v', n[k++] = 'm', n[k++] = '-';
    for (; *s && k < 64; s++)
        n[k++] = (isalnum((unsigned char)*s) && (unsigned char)*s < 0x80) || *s == '_' || *s == '.' || *s == '-'
                     ? *s : '_';
    if (!k)
        n[k++] = '_';
    n[k] = 0;
    return n;
}

static void put_set(FILE *f, const char *pre, const cgp_bitmap *b, const char *post)
{
    char *s CGP_AUTOFREE = cgp_bitmap_format(b);
    fprintf(f, "%s%s%s", pre, s ? s : "", post);
}

/* The vCPUs whose CPUs libvirt takes from <vcpu cpuset> and cgplace would
 * not: every unpinned one when cpus had to widen, else those in a cell. */
static int implicit_vcpus(const struct lv_domain *d, bool widened, cgp_bitmap **out)
{
    cgp_bitmap *v = cgp_bitmap_new();
    if (!v || (d->vcpus && cgp_bitmap_set_range(v, 0, d->vcpus - 1) < 0))
        goto oom;
    if (!widened) {
        cgp_bitmap *in_cells CGP_AUTOBITMAP = cgp_bitmap_new();
        if (!in_cells)
            goto oom;
        for (size_t i = 0; i < d->n_cells; i++)
            if (cgp_bitmap_or(in_cells, d->cells[i].vcpus) < 0)
                goto oom;
        cgp_bitmap_and(v, in_cells);
    }
    for (size_t i = 0; i < d->n_vcpupins; i++)
        cgp_bitmap_clear(v, d->vcpupins[i].id);
    *out = v;
    return 0;
oom:
    cgp_bitmap_free(v);
    return -ENOMEM;
}

static void put_mode(FILE *f, int mode)
{
    fprintf(f, " mode %s", cgp_mem_mode_name((enum cgp_mem_mode)mode));
}

static int write_cells(FILE *f, const struct lv_domain *d)
{
    bool have_nodes = true;
    for (size_t i = 0; i < d->n_cells; i++)
        have_nodes &= d->cells[i].nodes || d->nodeset;
    if (!have_nodes) {
        fputs("    # <cpu><numa> cells not imported: a cgplace cell binds its memory to nodes, and the domain "
              "gives no <numatune> nodeset\n", f);
        return 0;
    }
    for (size_t i = 0; i < d->n_cells; i++) {
        const struct lv_cell *c = &d->cells[i];
        fprintf(f, "    cell %u {", c->id);
        put_set(f, " vcpus ", c->vcpus, ";");
        fputs(" memory ", f);
        emit_size(f, c->memory_kib);
        put_set(f, " nodes ", c->nodes ? c->nodes : d->nodeset, "");
        if (c->mode >= 0)
            put_mode(f, c->mode);
        fputs("; }\n", f);
    }
    return 0;
}

static int write_block(FILE *f, const struct lv_domain *d, const char *name)
{
    fprintf(f, "guest %s {\n    match uuid \"%s\";\n    vcpus %u;\n", name, d->uuid, d->vcpus);
    /* cpus: the cpuset, widened to every pin */
    cgp_bitmap *cpus CGP_AUTOBITMAP = d->cpuset ? cgp_bitmap_dup(d->cpuset) : NULL;
    bool widened = false;
    if (d->cpuset && !d->vcpu_auto) {
        if (!cpus)
            return -ENOMEM;
        for (size_t i = 0; i < d->n_vcpupins + d->n_iopins + 1; i++) {
            const cgp_bitmap *pin = i < d->n_vcpupins ? d->vcpupins[i].cpus
                                    : i < d->n_vcpupins + d->n_iopins ? d->iopins[i - d->n_vcpupins].cpus
                                    : d->emulatorpin;
            if (pin && !cgp_bitmap_subset(pin, cpus)) {
                widened = true;
                if (cgp_bitmap_or(cpus, pin) < 0)
                    return -ENOMEM;
            }
        }
    }
    if (d->vcpu_auto)
        fputs("    cpus auto;\n", f);
    else if (cpus)
        put_set(f, "    cpus ", cpus, ";\n");
    /* memory: the cells' sum where there are cells (libvirt's rule) */
    uint64_t mem = d->memory_kib;
    if (d->n_cells) {
        mem = 0;
        for (size_t i = 0; i < d->n_cells; i++)
            mem = cgp_sat_add(mem, d->cells[i].memory_kib);
    }
    if (mem) {
        fputs("    memory ", f);
        emit_size(f, mem);
        if (d->nodes_auto)
            fputs(" nodes auto", f);
        else if (d->nodeset)
            put_set(f, " nodes ", d->nodeset, "");
        if (d->numatune)
            put_mode(f, d->mode);
        fputs(";\n", f);
    }
    for (size_t i = 0; i < d->n_vcpupins; i++)
        fprintf(f, "    vcpupin %u ", d->vcpupins[i].id), put_set(f, "", d->vcpupins[i].cpus, ";\n");
    if (d->cpuset && !d->vcpu_auto) {
        cgp_bitmap *rest CGP_AUTOBITMAP = NULL;
        if (implicit_vcpus(d, widened, &rest) < 0)
            return -ENOMEM;
        if (!cgp_bitmap_is_empty(rest))
            put_set(f, "    vcpupin ", rest, ""), put_set(f, " ", d->cpuset, ";    # libvirt's <vcpu cpuset>\n");
    }
    if (d->emulatorpin)
        put_set(f, "    emulatorpin ", d->emulatorpin, ";\n");
    else if (widened)
        put_set(f, "    emulatorpin ", d->cpuset, ";    # libvirt's <vcpu cpuset>\n");
    for (size_t i = 0; i < d->n_iopins; i++)
        fprintf(f, "    iothreadpin %u ", d->iopins[i].id), put_set(f, "", d->iopins[i].cpus, ";\n");
    if (d->n_cells && d->nodes_auto)
        fputs("    # <cpu><numa> cells not imported: placement='auto' memory cannot be split into cells\n", f);
    else if (d->n_cells)
        write_cells(f, d);
    fputs("}\n", f);
    return 0;
}

CGP_EXPORT void cgp_libvirt_import_clear(struct cgp_libvirt_import *im)
{
    if (!im)
        return;
    free(im->name);
    free(im->uuid);
    free(im->block);
    memset(im, 0, sizeof *im);
}

CGP_EXPORT int cgp_libvirt_import(const char *buf, size_t len, struct cgp_libvirt_import *out,
                                  struct cgp_xml_error *err)
{
    if (!buf || !out || !err)
        return -EINVAL;
    struct lv_domain d;
    struct cgp_xml_error e = { 0 };
    int r = lv_parse(buf, len, &d, &e);
    if (r < 0) {
        lv_domain_clear(&d);
        if (r == -EINVAL)
            *err = e;
        return r;
    }
    struct cgp_libvirt_import im = { .name = block_name(d.name), .uuid = strdup(d.uuid) };
    size_t blen = 0;
    FILE *f = im.name && im.uuid ? open_memstream(&im.block, &blen) : NULL;
    r = f ? write_block(f, &d, im.name) : -ENOMEM;
    if (f && fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    lv_domain_clear(&d);
    if (r < 0) {
        cgp_libvirt_import_clear(&im);
        return r;
    }
    *out = im;
    return 0;
}

CGP_EXPORT int cgp_libvirt_read_file(const char *path, char **buf, size_t *len)
{
    if (!path || !buf || !len)
        return -EINVAL;
    char *b = NULL;
    ssize_t n = cgp_read_file_ex(AT_FDCWD, path, CGP_LIBVIRT_MAX_XML, CGP_READ_RAW, &b);
    if (n < 0)
        return n == -EINVAL ? -ENXIO : (int)n;
    *buf = b;
    *len = (size_t)n;
    return 0;
}

CGP_EXPORT int cgp_libvirt_read_fd(int fd, char **buf, size_t *len)
{
    if (fd < 0 || !buf || !len)
        return -EINVAL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    if (!b)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (n > CGP_LIBVIRT_MAX_XML) {
                free(b);
                return -EFBIG;  /* one byte past the cap proves it: no more is read */
            }
            cap = cap * 2 > CGP_LIBVIRT_MAX_XML + 1 ? CGP_LIBVIRT_MAX_XML + 1 : cap * 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) {
                free(b);
                return -ENOMEM;
            }
            b = nb;
        }
        ssize_t k = read(fd, b + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = -errno;
            free(b);
            return e;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > CGP_LIBVIRT_MAX_XML) {
        free(b);
        return -EFBIG;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}
