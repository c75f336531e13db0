/* virConnectGetCapabilities equivalent: libvirt's capabilities XML (host part),
 * valid against capability.rng. */
#include "internal.h"
#include "topology.h"

#include <errno.h>
#include <string.h>
#include "xml.h"

/* libxml2 is loaded on first use (lib/xml.h says why). */
#define X cgp_xml

#define W(call) do { if ((call) < 0) goto fail; } while (0)

static int write_attr_int(xmlTextWriterPtr w, const char *name, long long v)
{
    return X.xmlTextWriterWriteFormatAttribute(w, BAD_CAST name, "%lld", v);
}

/* Base page size in KiB: 4 on the architectures whose dumps we read; on the
 * live host, the real page size. */
static unsigned base_page_kib(const cgp_topology *t)
{
    if (t->arch && (!strcmp(t->arch, "x86_64") || !strcmp(t->arch, "i686") ||
                    !strcmp(t->arch, "s390x")))
        return 4;
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (unsigned)(ps / 1024) : 4;
}

static int write_cell(xmlTextWriterPtr w, const cgp_topology *t, size_t i)
{
    const struct node_priv *np = &t->nodes[i];
    const struct cgp_node *n = &np->pub;
    W(X.xmlTextWriterStartElement(w, BAD_CAST "cell"));
    W(write_attr_int(w, "id", n->id));
    if (n->mem_total_kib != CGP_UNKNOWN_U64) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "memory"));
        W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
        W(X.xmlTextWriterWriteFormatString(w, "%llu", (unsigned long long)n->mem_total_kib));
        W(X.xmlTextWriterEndElement(w));
        uint64_t huge_kib = 0;
        bool huge_known = true;
        for (size_t h = 0; h < n->n_hugepages; h++) {
            huge_kib = cgp_size_add(huge_kib, cgp_size_mul(n->hugepages[h].total, n->hugepages[h].size_kib));
            if (huge_kib == CGP_UNKNOWN_U64)
                huge_known = false;
        }
        unsigned ps = base_page_kib(t);
        if (huge_known && huge_kib <= n->mem_total_kib) {
            W(X.xmlTextWriterStartElement(w, BAD_CAST "pages"));
            W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
            W(write_attr_int(w, "size", ps));
            W(X.xmlTextWriterWriteFormatString(w, "%llu",
                                             (unsigned long long)((n->mem_total_kib - huge_kib) / ps)));
            W(X.xmlTextWriterEndElement(w));
        }
        for (size_t h = 0; h < n->n_hugepages; h++) {
            if (n->hugepages[h].total == CGP_UNKNOWN_U64)
                continue;
            W(X.xmlTextWriterStartElement(w, BAD_CAST "pages"));
            W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
            W(write_attr_int(w, "size", (long long)n->hugepages[h].size_kib));
            W(X.xmlTextWriterWriteFormatString(w, "%llu", (unsigned long long)n->hugepages[h].total));
            W(X.xmlTextWriterEndElement(w));
        }
    }
    bool any = false;
    for (size_t j = 0; j < t->n_nodes; j++)
        if (t->dist[i * t->n_nodes + j] >= 0 && t->nodes[j].pub.online)
            any = true;
    if (any) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "distances"));
        for (size_t j = 0; j < t->n_nodes; j++) {
            int d = t->dist[i * t->n_nodes + j];
            if (d < 0 || !t->nodes[j].pub.online)
                continue;
            W(X.xmlTextWriterStartElement(w, BAD_CAST "sibling"));
            W(write_attr_int(w, "id", t->nodes[j].pub.id));
            W(write_attr_int(w, "value", d));
            W(X.xmlTextWriterEndElement(w));
        }
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterStartElement(w, BAD_CAST "cpus"));
    W(write_attr_int(w, "num", cgp_bitmap_count(n->cpus)));
    cgp_bitmap_foreach(n->cpus, id) {
        const struct cgp_cpu *c = cgp_topology_cpu_by_id(t, id);
        W(X.xmlTextWriterStartElement(w, BAD_CAST "cpu"));
        W(write_attr_int(w, "id", id));
        /* All four ids or none (schema); never invented. */
        if (c && c->package_known && c->package >= 0 && c->core >= 0 && c->siblings) {
            char *sib CGP_AUTOFREE = cgp_bitmap_format(c->siblings);
            if (!sib)
                goto fail;
            W(write_attr_int(w, "socket_id", c->package));
            W(write_attr_int(w, "die_id", c->die >= 0 ? c->die : 0));
            W(write_attr_int(w, "core_id", c->core));
            W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "siblings", BAD_CAST sib));
        }
        W(X.xmlTextWriterEndElement(w));
    }
    W(X.xmlTextWriterEndElement(w)); /* cpus */
    W(X.xmlTextWriterEndElement(w)); /* cell */
    return 0;
fail:
    return -EIO;
}

static int write_interconnects(xmlTextWriterPtr w, const cgp_topology *t)
{
    bool any = false;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const struct cgp_node *n = &t->nodes[i].pub;
        if (n->initiators && (n->read_latency >= 0 || n->write_latency >= 0 ||
                              n->read_bandwidth >= 0 || n->write_bandwidth >= 0))
            any = true;
    }
    if (!any)
        return 0;
    W(X.xmlTextWriterStartElement(w, BAD_CAST "interconnects"));
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n_nodes; i++) {
            const struct cgp_node *n = &t->nodes[i].pub;
            if (!n->initiators)
                continue;
            int64_t vals[2] = { pass ? n->read_bandwidth : n->read_latency,
                                pass ? n->write_bandwidth : n->write_latency };
            cgp_bitmap_foreach(n->initiators, ini) {
                for (int k = 0; k < 2; k++) {
                    /* sysfs bandwidth is MB/s, libvirt's is KiB/s; a value
                     * that does not fit is unknown, as libvirt omits it */
                    int64_t v = pass ? cgp_rate_mul(vals[k], 1024) : vals[k];
                    if (v < 0)
                        continue;
                    W(X.xmlTextWriterStartElement(w, BAD_CAST(pass ? "bandwidth" : "latency")));
                    W(write_attr_int(w, "initiator", ini));
                    W(write_attr_int(w, "target", n->id));
                    W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST(k ? "write" : "read")));
                    W(write_attr_int(w, "value", v));
                    if (pass)
                        W(X.xmlTextWriterWriteAttribute(w, BAD_CAST "unit", BAD_CAST "KiB"));
                    W(X.xmlTextWriterEndElement(w));
                }
            }
        }
    }
    W(X.xmlTextWriterEndElement(w));
    return 0;
fail:
    return -EIO;
}

static const char *build_arch(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__s390x__)
    return "s390x";
#else
    return "i686";
#endif
}

static int write_caps(xmlTextWriterPtr w, const void *arg)
{
    const cgp_topology *t = arg;
    size_t cells = 0;
    for (size_t i = 0; i < t->n_nodes; i++)
        cells += t->nodes[i].pub.online;
    W(X.xmlTextWriterStartElement(w, BAD_CAST "capabilities"));
    W(X.xmlTextWriterStartElement(w, BAD_CAST "host"));
    W(X.xmlTextWriterStartElement(w, BAD_CAST "cpu"));
    /* The schema requires <arch>; a dump that does not tell gets the build's. */
    const char *arch = t->arch ? t->arch : build_arch();
    W(X.xmlTextWriterWriteElement(w, BAD_CAST "arch", BAD_CAST arch));
    W(X.xmlTextWriterEndElement(w)); /* cpu */
    if (cells) {
        W(X.xmlTextWriterStartElement(w, BAD_CAST "topology"));
        W(X.xmlTextWriterStartElement(w, BAD_CAST "cells"));
        W(write_attr_int(w, "num", (long long)cells));
        for (size_t i = 0; i < t->n_nodes; i++)
            if (t->nodes[i].pub.online && write_cell(w, t, i) < 0)
                goto fail;
        W(X.xmlTextWriterEndElement(w)); /* cells */
        if (write_interconnects(w, t) < 0)
            goto fail;
        W(X.xmlTextWriterEndElement(w)); /* topology */
    }
    W(X.xmlTextWriterEndElement(w)); /* host */
    W(X.xmlTextWriterEndElement(w)); /* capabilities */
    return 0;
fail:
    return -EIO;
}

CGP_EXPORT int cgp_get_capabilities(const cgp_topology *t, char **xml)
{
    return cgp_xml_write(write_caps, t, xml);
}
