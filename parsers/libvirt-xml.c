/* The placement elements of a libvirt domain XML document (import-libvirt).
 *
 * The document comes from anywhere: libxml2 reads it with no network
 * (XML_PARSE_NONET), no DTD loading or default attributes, no entity
 * substitution, no "huge" relaxation of its limits, and a DOCTYPE stops the
 * parser as soon as its name is read, before any declaration of its
 * internal subset (billion laughs) or its external subset (a network DTD)
 * is looked at. Values are read from the tree without libxml2 allocating
 * for us (text nodes' content), so nothing here frees with xmlFree. */
#include "libvirt-xml.h"
#include "xml.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define X cgp_xml

struct rd {
    struct lv_domain *d;
    struct cgp_xml_error *err;
    unsigned doctype_line;      /* 0: none seen */
};

static int fail(struct rd *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct rd *r, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->err->line = line;
    vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static unsigned line_of(xmlNodePtr n)
{
    long l = X.xmlGetLineNo(n);
    return l > 0 && l < 0x7fffffffL ? (unsigned)l : 0;
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp((const char *)n->name, name);
}

/* The text of the text and CDATA children of n, concatenated (entity
 * references are never substituted, so they read as nothing). malloc'd;
 * NULL on ENOMEM. */
static char *text_of(xmlNodePtr first)
{
    size_t len = 0;
    for (xmlNodePtr c = first; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            len += strlen((const char *)c->content);
    char *s = malloc(len + 1), *p = s;
    if (!s)
        return NULL;
    for (xmlNodePtr c = first; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t k = strlen((const char *)c->content);
            memcpy(p, c->content, k);
            p += k;
        }
    *p = 0;
    return s;
}

/* s without its leading and trailing white space, in place. */
static char *trim(char *s)
{
    char *b = s;
    while (isspace((unsigned char)*b))
        b++;
    size_t k = strlen(b);
    while (k && isspace((unsigned char)b[k - 1]))
        k--;
    memmove(s, b, k);
    s[k] = 0;
    return s;
}

/* Attribute name of n (no namespace): 0 and *out (malloc'd, trimmed) or
 * NULL when absent; -ENOMEM. */
static int attr(xmlNodePtr n, const char *name, char **out)
{
    *out = NULL;
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        if (a->ns || strcmp((const char *)a->name, name))
            continue;
        char *s = text_of(a->children);
        if (!s)
            return -ENOMEM;
        *out = trim(s);
        return 0;
    }
    return 0;
}

/* Shown in a message: at most 40 bytes of s, printable ASCII only. */
static const char *shown(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 4 < size && i < 40; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (s[i])
        buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
    buf[i] = 0;
    return buf;
}

static int get_uint(struct rd *r, xmlNodePtr n, const char *what, const char *s, unsigned long max,
                    unsigned long *out)
{
    char b[48];
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || errno || v > max)
        return fail(r, line_of(n), "invalid %s '%s': expected an integer from 0 to %lu", what,
                    shown(s, b, sizeof b), max);
    *out = v;
    return 0;
}

/* A required unsigned attribute. */
static int attr_uint(struct rd *r, xmlNodePtr n, const char *name, unsigned long max, unsigned long *out)
{
    char *s CGP_AUTOFREE = NULL;
    if (attr(n, name, &s) < 0)
        return -ENOMEM;
    if (!s)
        return fail(r, line_of(n), "<%s> has no %s= attribute", (const char *)n->name, name);
    char what[64];
    snprintf(what, sizeof what, "<%s %s=>", (const char *)n->name, name);
    return get_uint(r, n, what, s, max, out);
}

/* A CPU or node list attribute in libvirt's syntax (cgplace's own):
 * *out NULL when absent and not required. */
static int attr_set(struct rd *r, xmlNodePtr n, const char *name, bool required, cgp_bitmap **out)
{
    char *s CGP_AUTOFREE = NULL;
    *out = NULL;
    if (attr(n, name, &s) < 0)
        return -ENOMEM;
    if (!s)
        return required ? fail(r, line_of(n), "<%s> has no %s= attribute", (const char *)n->name, name) : 0;
    cgp_bitmap *b = NULL;
    int e = cgp_bitmap_parse(s, 0, &b, NULL);
    if (e == -ENOMEM)
        return e;
    char sb[48];
    if (e < 0 || cgp_bitmap_is_empty(b)) {
        cgp_bitmap_free(b);
        return fail(r, line_of(n), "invalid <%s %s='%s'>: expected a non-empty list such as 0-3,8", (const char *)n->name,
                    name, shown(s, sb, sizeof sb));
    }
    *out = b;
    return 0;
}

static int parse_mode(struct rd *r, xmlNodePtr n, int *mode)
{
    static const char *const names[] = { "strict", "restrictive", "preferred", "interleave" };
    char *s CGP_AUTOFREE = NULL;
    if (attr(n, "mode", &s) < 0)
        return -ENOMEM;
    if (!s)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *mode = i;  /* the order of enum cgp_mem_mode */
            return 0;
        }
    char b[48];
    return fail(r, line_of(n), "invalid <%s mode='%s'>: expected strict, restrictive, preferred or interleave",
                (const char *)n->name, shown(s, b, sizeof b));
}

/* libvirt's memory units into KiB (rounded up, as libvirt does). */
static int to_kib(struct rd *r, xmlNodePtr n, const char *num, const char *unit, uint64_t *kib)
{
    static const struct { const char *u; uint64_t mul; bool si; } units[] = {
        { "b", 1, false }, { "bytes", 1, false }, { "KB", 1000, true }, { "k", 1024, false },
        { "KiB", 1024, false }, { "MB", 1000000, true }, { "M", 1u << 20, false }, { "MiB", 1u << 20, false },
        { "GB", 1000000000, true }, { "G", 1u << 30, false }, { "GiB", 1u << 30, false },
        { "TB", 1000000000000ull, true }, { "T", 1ull << 40, false }, { "TiB", 1ull << 40, false },
    };
    char b[48];
    uint64_t v;
    if (!isdigit((unsigned char)*num) || cgp_parse_u64(num, &v) < 0)
        return fail(r, line_of(n), "invalid memory size '%s': expected an integer", shown(num, b, sizeof b));
    if (!v)     /* a policy's sizes are larger than 0 */
        return fail(r, line_of(n), "memory size 0: a guest or cell needs memory");
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(units[i].u, unit ? unit : "KiB"))
            continue;
        uint64_t bytes = cgp_size_mul(v, units[i].mul);
        if (bytes == CGP_UNKNOWN_U64 || bytes > (1ull << 60))
            return fail(r, line_of(n), "memory size %s %s is too large", num, units[i].u);
        *kib = bytes / 1024 + (bytes % 1024 != 0);
        return 0;
    }
    return fail(r, line_of(n), "invalid memory unit '%s': expected b, KB, k, KiB, MB, M, MiB, GB, G, GiB, TB, T or TiB",
                shown(unit, b, sizeof b));
}

static int read_name(struct rd *r, xmlNodePtr n, char **dst, const char *what)
{
    if (*dst)
        return fail(r, line_of(n), "a second <%s>", what);
    if (!(*dst = text_of(n->children)))
        return -ENOMEM;
    return 0;
}

static int read_uuid(struct rd *r, xmlNodePtr n)
{
    char *s CGP_AUTOFREE = NULL;
    int e = read_name(r, n, &s, "uuid");
    if (e < 0)
        return e;
    /* libvirt takes 32 hex digits, dashes anywhere between them */
    char hex[33];
    size_t k = 0;
    bool bad = false;
    for (const char *p = s; *p && !bad; p++) {
        if (isxdigit((unsigned char)*p) && k < 32)
            hex[k++] = (char)tolower((unsigned char)*p);
        else if (*p != '-' && !isspace((unsigned char)*p))
            bad = true;
    }
    char b[48];
    if (bad || k != 32)
        return fail(r, line_of(n), "invalid <uuid> '%s': expected 32 hex digits (8-4-4-4-12)", shown(s, b, sizeof b));
    if (r->d->uuid)
        return fail(r, line_of(n), "a second <uuid>");
    if (asprintf(&r->d->uuid, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20) < 0) {
        r->d->uuid = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int read_memory(struct rd *r, xmlNodePtr n)
{
    char *num CGP_AUTOFREE = text_of(n->children);
    char *unit CGP_AUTOFREE = NULL;
    if (!num || attr(n, "unit", &unit) < 0)
        return -ENOMEM;
    return to_kib(r, n, trim(num), unit, &r->d->memory_kib);
}

static int read_vcpu(struct rd *r, xmlNodePtr n)
{
    struct lv_domain *d = r->d;
    char *num CGP_AUTOFREE = text_of(n->children);
    char *pl CGP_AUTOFREE = NULL;
    if (!num || attr(n, "placement", &pl) < 0)
        return -ENOMEM;
    unsigned long v;
    int e = get_uint(r, n, "<vcpu> count", trim(num), CGP_POLICY_MAX_VCPUS, &v);
    if (e < 0)
        return e;
    if (!v)
        return fail(r, line_of(n), "<vcpu> count 0: a guest has at least one vCPU");
    d->vcpus = (unsigned)v;
    if (pl && strcmp(pl, "static") && strcmp(pl, "auto")) {
        char sb[48];
        return fail(r, line_of(n), "invalid <vcpu placement='%s'>: expected static or auto", shown(pl, sb, sizeof sb));
    }
    d->vcpu_auto = pl && !strcmp(pl, "auto");
    return attr_set(r, n, "cpuset", false, &d->cpuset);
}

/* <vcpupin vcpu= cpuset=> or <iothreadpin iothread= cpuset=> */
static int read_pin(struct rd *r, xmlNodePtr n, const char *key, struct lv_pin **v, size_t *count)
{
    unsigned long id;
    int e = attr_uint(r, n, key, 0xffffffffUL, &id);
    if (e < 0)
        return e;
    for (size_t i = 0; i < *count; i++)
        if ((*v)[i].id == id)
            return fail(r, line_of(n), "<%s %s='%lu'> is given twice", (const char *)n->name, key, id);
    cgp_bitmap *cpus;
    if ((e = attr_set(r, n, "cpuset", true, &cpus)) < 0)
        return e;
    struct lv_pin *nv = realloc(*v, (*count + 1) * sizeof **v);
    if (!nv) {
        cgp_bitmap_free(cpus);
        return -ENOMEM;
    }
    *v = nv;
    nv[(*count)++] = (struct lv_pin){ (unsigned)id, line_of(n), cpus };
    return 0;
}

static int read_cputune(struct rd *r, xmlNodePtr ct)
{
    struct lv_domain *d = r->d;
    for (xmlNodePtr n = ct->children; n; n = n->next) {
        int e = 0;
        if (is(n, "vcpupin"))
            e = read_pin(r, n, "vcpu", &d->vcpupins, &d->n_vcpupins);
        else if (is(n, "iothreadpin"))
            e = read_pin(r, n, "iothread", &d->iopins, &d->n_iopins);
        else if (is(n, "emulatorpin"))
            e = d->emulatorpin ? fail(r, line_of(n), "a second <emulatorpin>")
                               : attr_set(r, n, "cpuset", true, &d->emulatorpin);
        if (e < 0)
            return e;
    }
    return 0;
}

static struct lv_cell *cell_by_id(struct lv_domain *d, unsigned long id)
{
    for (size_t i = 0; i < d->n_cells; i++)
        if (d->cells[i].id == id)
            return &d->cells[i];
    return NULL;
}

static int read_numatune(struct rd *r, xmlNodePtr nt)
{
    struct lv_domain *d = r->d;
    for (xmlNodePtr n = nt->children; n; n = n->next) {
        int e = 0;
        if (is(n, "memory")) {
            if (d->numatune)
                return fail(r, line_of(n), "a second <numatune><memory>");
            d->numatune = true;
            char *pl CGP_AUTOFREE = NULL;
            if (attr(n, "placement", &pl) < 0)
                return -ENOMEM;
            if ((e = parse_mode(r, n, &d->mode)) < 0 || (e = attr_set(r, n, "nodeset", false, &d->nodeset)) < 0)
                return e;
            d->nodes_auto = pl ? !strcmp(pl, "auto") : !d->nodeset && d->vcpu_auto;
            if (pl && strcmp(pl, "static") && strcmp(pl, "auto")) {
                char sb[48];
                return fail(r, line_of(n), "invalid <memory placement='%s'>: expected static or auto",
                            shown(pl, sb, sizeof sb));
            }
        } else if (is(n, "memnode")) {
            unsigned long id;
            if ((e = attr_uint(r, n, "cellid", CGP_POLICY_MAX_VCPUS, &id)) < 0)
                return e;
            struct lv_cell *c = cell_by_id(d, id);
            if (!c)
                return fail(r, line_of(n), "<memnode cellid='%lu'>: the domain has no <cell id='%lu'>", id, id);
            if (c->nodes)
                return fail(r, line_of(n), "a second <memnode cellid='%lu'>", id);
            if ((e = parse_mode(r, n, &c->mode)) < 0 || (e = attr_set(r, n, "nodeset", true, &c->nodes)) < 0)
                return e;
        }
    }
    return 0;
}

static int read_cell(struct rd *r, xmlNodePtr n)
{
    struct lv_domain *d = r->d;
    unsigned long id;
    int e = attr_uint(r, n, "id", CGP_POLICY_MAX_VCPUS, &id);
    if (e < 0)
        return e;
    if (cell_by_id(d, id))
        return fail(r, line_of(n), "a second <cell id='%lu'>", id);
    struct lv_cell *nv = realloc(d->cells, (d->n_cells + 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    d->cells = nv;
    struct lv_cell *c = &nv[d->n_cells++];
    *c = (struct lv_cell){ .id = (unsigned)id, .line = line_of(n), .mode = -1 };
    if ((e = attr_set(r, n, "cpus", false, &c->vcpus)) < 0)
        return e;
    if (!c->vcpus)
        return fail(r, line_of(n), "<cell id='%lu'> has no cpus=: a cgplace cell holds vCPUs", id);
    char *mem CGP_AUTOFREE = NULL, *unit CGP_AUTOFREE = NULL;
    if (attr(n, "memory", &mem) < 0 || attr(n, "unit", &unit) < 0)
        return -ENOMEM;
    if (!mem)
        return fail(r, line_of(n), "<cell id='%lu'> has no memory=", id);
    return to_kib(r, n, mem, unit, &c->memory_kib);
}

static int read_cpu(struct rd *r, xmlNodePtr cpu)
{
    for (xmlNodePtr n = cpu->children; n; n = n->next) {
        if (!is(n, "numa"))
            continue;
        for (xmlNodePtr c = n->children; c; c = c->next) {
            int e = is(c, "cell") ? read_cell(r, c) : 0;
            if (e < 0)
                return e;
        }
    }
    return 0;
}

static int read_domain(struct rd *r, xmlNodePtr root)
{
    struct lv_domain *d = r->d;
    if (!is(root, "domain"))
        return fail(r, line_of(root), "expected a libvirt <domain>, not <%.40s>", (const char *)root->name);
    xmlNodePtr numatune = NULL;
    int e = 0;
    for (xmlNodePtr n = root->children; n && e >= 0; n = n->next) {
        if (is(n, "name"))
            e = read_name(r, n, &d->name, "name");
        else if (is(n, "uuid"))
            e = read_uuid(r, n);
        else if (is(n, "memory"))
            e = d->memory_kib ? fail(r, line_of(n), "a second <memory>") : read_memory(r, n);
        else if (is(n, "vcpu"))     /* a second one would replace the first's cpuset */
            e = d->vcpus ? fail(r, line_of(n), "a second <vcpu>") : read_vcpu(r, n);
        else if (is(n, "cputune"))
            e = read_cputune(r, n);
        else if (is(n, "cpu"))
            e = read_cpu(r, n);
        else if (is(n, "numatune"))     /* read after the cells it names */
            e = numatune ? fail(r, line_of(n), "a second <numatune>") : (numatune = n, 0);
    }
    if (e < 0)
        return e;
    if (!d->vcpus)
        d->vcpus = 1;   /* libvirt's default */
    if (numatune && (e = read_numatune(r, numatune)) < 0)
        return e;
    if (!d->name)
        return fail(r, line_of(root), "the domain has no <name>");
    if (!d->uuid)
        return fail(r, line_of(root), "the domain has no <uuid>: the policy block matches it by uuid "
                    "(virsh dumpxml shows it)");
    for (size_t i = 0; i < d->n_vcpupins; i++)
        if (d->vcpupins[i].id >= d->vcpus)
            return fail(r, d->vcpupins[i].line, "<vcpupin vcpu='%u'> is out of range: the domain has %u vCPU%s",
                        d->vcpupins[i].id,
                        d->vcpus, d->vcpus == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_cells; i++)
        if (cgp_bitmap_last(d->cells[i].vcpus) >= (int)d->vcpus)
            return fail(r, d->cells[i].line, "<cell id='%u'> names vCPU %d: the domain has %u vCPU%s",
                        d->cells[i].id, cgp_bitmap_last(d->cells[i].vcpus), d->vcpus, d->vcpus == 1 ? "" : "s");
    return 0;
}

/* SAX: the DOCTYPE's name is read; its subsets are not, ever. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    xmlParserCtxtPtr c = ctx;
    struct rd *r = c->_private;
    r->doctype_line = c->input ? (unsigned)c->input->line : 1;
    X.xmlStopParser(c);
}

void lv_domain_clear(struct lv_domain *d)
{
    free(d->name);
    free(d->uuid);
    cgp_bitmap_free(d->cpuset);
    cgp_bitmap_free(d->emulatorpin);
    cgp_bitmap_free(d->nodeset);
    for (size_t i = 0; i < d->n_vcpupins; i++)
        cgp_bitmap_free(d->vcpupins[i].cpus);
    for (size_t i = 0; i < d->n_iopins; i++)
        cgp_bitmap_free(d->iopins[i].cpus);
    for (size_t i = 0; i < d->n_cells; i++) {
        cgp_bitmap_free(d->cells[i].vcpus);
        cgp_bitmap_free(d->cells[i].nodes);
    }
    free(d->vcpupins);
    free(d->iopins);
    free(d->cells);
    memset(d, 0, sizeof *d);
}

int lv_parse(const char *buf, size_t len, struct lv_domain *d, struct cgp_xml_error *err)
{
    memset(d, 0, sizeof *d);
    d->mode = CGP_MODE_STRICT;
    if (len > CGP_LIBVIRT_MAX_XML)
        return -EFBIG;
    int e = cgp_xml_load();
    if (e < 0)
        return e;
    struct rd r = { .d = d, .err = err };
    xmlParserCtxtPtr c = X.xmlNewParserCtxt();
    if (!c)
        return -ENOMEM;
    c->_private = &r;
    c->sax->internalSubset = on_doctype;
    /* Not XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE;
     * NOERROR/NOWARNING: libxml2 prints nothing, the error is in lastError. */
    xmlDocPtr doc = X.xmlCtxtReadMemory(c, buf, (int)len, NULL, NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                        XML_PARSE_NOCDATA);
    if (r.doctype_line) {
        e = fail(&r, r.doctype_line, "a DOCTYPE is refused: domain XML needs no DTD, and cgplace reads no "
                 "DTD and expands no entity");
    } else if (!doc || !c->wellFormed) {
        const xmlError *x = &c->lastError;
        char msg[200];
        snprintf(msg, sizeof msg, "%s", x->message ? x->message : "not well-formed");
        size_t k = strlen(msg);
        while (k && (msg[k - 1] == '\n' || msg[k - 1] == ' '))
            msg[--k] = 0;
        e = x->code == XML_ERR_NO_MEMORY ? -ENOMEM
                                         : fail(&r, x->line > 0 ? (unsigned)x->line : 0, "not well-formed XML: %s", msg);
    } else {
        xmlNodePtr root = X.xmlDocGetRootElement(doc);
        e = root ? read_domain(&r, root) : fail(&r, 0, "no root element");
    }
    if (doc)
        X.xmlFreeDoc(doc);
    X.xmlFreeParserCtxt(c);
    return e;
}
