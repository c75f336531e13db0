/* emit --format libvirt: a guest's placement as the libvirt domain XML
 * elements that hold it, written with libxml2's xmlwriter; valid inside a
 * domain against libvirt's domain.rng (tests/emit). */
#include "internal.h"
#include "emit-int.h"
#include "xml.h"
#include "cgplace_interop.h"

#include <errno.h>
#include <string.h>

#define X cgp_xml
#define W(call) do { if ((call) < 0) return -EIO; } while (0)

static int attr_set(xmlTextWriterPtr w, const char *name, const cgp_bitmap *b)
{
    char *s CGP_AUTOFREE = cgp_bitmap_format(b);
    if (!s)
        return -ENOMEM;
    W(X.xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST s));
    return 0;
}

static int attr_uint(xmlTextWriterPtr w, const char *name, unsigned long long v)
{
    W(X.xmlTextWriterWriteFormatAttribute(w, BAD_CAST name, "%llu", v));
    return 0;
}

#define T(call) do { int t_ = (call); if (t_ < 0) return t_; } while (0)

/* libvirt numbers I/O threads 1..N: a policy id N or iothreadN; 0 for an id
 * libvirt cannot name (QEMU's own -object iothread,id=io1). */
static unsigned iothread_number(const char *id)
{
    if (!strncmp(id, "iothread", 8))
        id += 8;
    char *end;
    if (*id < '1' || *id > '9')
        return 0;
    unsigned long n = strtoul(id, &end, 10);
    return *end || n > 0xffffffffUL ? 0 : (unsigned)n;
}

static int write_cputune(xmlTextWriterPtr w, const struct cgp_guest_placement *g)
{
    W(X.xmlTextWriterStartElement(w, BAD_CAST "cputune"));
    for (unsigned v = 0; v < g->n_vcpus; v++) {
        if (cgp_bitmap_equal(g->vcpu[v].cpus, g->cpus))
            continue;   /* <vcpu cpuset> holds it */
        W(X.xmlTextWriterStartElement(w, BAD_CAST "vcpupin"));
        T(attr_uint(w, "vcpu", v));
        T(attr_set(w, "cpuset", g->vcpu[v].cpus));
        W(X.xmlTextWriterEndElement(w));
    }
    /* always: where the emulator runs is half of what a policy says */
    W(X.xmlTextWriterStartElement(w, BAD_CAST "emulatorpin"));
    T(attr_set(w, "cpuset", g->emulator.cpus));
    W(X.xmlTextWriterEndElement(w));
    for (size_t i = 0; i < g->n_iothreads; i++) {
        unsigned n = iothread_number(g->iothreads[i].id);
        if (!n) {
            /* the id is a policy NAME ([A-Za-z0-9_.-]): safe in a comment */
            W(X.xmlTextWriterWriteFormatComment(w, " I/O thread %s: libvirt numbers its I/O threads; "
                                                "pin it as iothreadpin N ", g->iothreads[i].id));
            continue;
        }
        W(X.xmlTextWriterStartElement(w, BAD_CAST "iothreadpin"));
        T(attr_uint(w, "iothread", n));
        T(attr_set(w, "cpuset", g->iothreads[i].cpus));
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterEndElement(w));
    return 0;
}

static int write_numatune(xmlTextWriterPtr w, const struct cgp_guest_placement *g)
{
    if (cgp_bitmap_is_empty(g->mems))
        return 0;
    W(X.xmlTextWriterStartElement(w, BAD_CAST "numatune"));
    W(X.xmlTextWriterStartElement(w, BAD_CAST "memory"));
    W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "mode", BAD_CAST cgp_mem_mode_name(g->mode)));
    T(attr_set(w, "nodeset", g->mems));
    W(X.xmlTextWriterEndElement(w));
    for (size_t i = 0; i < g->n_cells; i++) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "memnode"));
        T(attr_uint(w, "cellid", g->cells[i].index));
        W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "mode", BAD_CAST cgp_mem_mode_name(g->cells[i].mode)));
        T(attr_set(w, "nodeset", g->cells[i].mems));
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterEndElement(w));
    return 0;
}

static int write_cells(xmlTextWriterPtr w, const struct cgp_guest_placement *g)
{
    if (!g->n_cells)
        return 0;
    W(X.xmlTextWriterStartElement(w, BAD_CAST "cpu"));
    W(X.xmlTextWriterStartElement(w, BAD_CAST "numa"));
    for (size_t i = 0; i < g->n_cells; i++) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "cell"));
        T(attr_uint(w, "id", g->cells[i].index));
        T(attr_set(w, "cpus", g->cells[i].vcpus));
        T(attr_uint(w, "memory", g->cells[i].memory_kib));
        W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterEndElement(w));
    W(X.xmlTextWriterEndElement(w));
    return 0;
}

static int write_all(xmlTextWriterPtr w, const void *arg)
{
    const struct cgp_guest_placement *g = arg;
    if (g->memory_kib) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "memory"));
        W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
        W(X.xmlTextWriterWriteFormatString(w, "%llu", (unsigned long long)g->memory_kib));
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterStartElement(w, BAD_CAST "vcpu"));
    W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "placement", BAD_CAST "static"));
    T(attr_set(w, "cpuset", g->cpus));
    W(X.xmlTextWriterWriteFormatString(w, "%u", g->n_vcpus));
    W(X.xmlTextWriterEndElement(w));
    T(write_cputune(w, g));
    T(write_numatune(w, g));
    return write_cells(w, g);
}

int emit_libvirt(const struct cgp_guest_placement *g, char **out)
{
    return cgp_xml_write(write_all, g, out);
}

CGP_EXPORT int cgp_libxml_load(void)
{
    return cgp_xml_load();
}
