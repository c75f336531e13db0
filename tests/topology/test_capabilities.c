/* cgp_get_capabilities: the XML is parsed with libxml2 and checked with XPath
 * against the tree each test writes, and validated against libvirt's
 * capability.rng when Debian's libvirt0 ships it. */
#include "unit_helpers.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xpath.h>

#define CAP_RNG "/usr/share/libvirt/schemas/capability.rng"

TestSuite(caps, .init = tree_new, .fini = tree_free);

struct doc {
    char *xml;
    xmlDocPtr d;
    xmlXPathContextPtr x;
};

static void doc_open(struct doc *doc, const cgp_topology *t)
{
    doc->xml = NULL;
    int r = cgp_get_capabilities(t, &doc->xml);
    cr_assert_eq(r, 0, "cgp_get_capabilities = %d", r);
    cr_assert_not_null(doc->xml);
    doc->d = xmlReadMemory(doc->xml, (int)strlen(doc->xml), "caps.xml", NULL, XML_PARSE_NONET);
    cr_assert_not_null(doc->d, "not well-formed XML:\n%s", doc->xml);
    doc->x = xmlXPathNewContext(doc->d);
    cr_assert_not_null(doc->x);
}

static void doc_close(struct doc *doc)
{
    xmlXPathFreeContext(doc->x);
    xmlFreeDoc(doc->d);
    free(doc->xml);
}

/* XPath value as a string ("" when empty); caller frees. */
static char *xs(struct doc *doc, const char *expr)
{
    char e[512];
    snprintf(e, sizeof e, "string(%s)", expr);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST e, doc->x);
    cr_assert_not_null(o, "bad xpath %s", expr);
    char *s = strdup(o->stringval ? (const char *)o->stringval : "");
    xmlXPathFreeObject(o);
    return s;
}

static double xn(struct doc *doc, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, doc->x);
    cr_assert_not_null(o, "bad xpath %s", expr);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return v;
}

#define expect_x(doc, expr, want)                                                                  \
    do {                                                                                           \
        char *v_ = xs((doc), (expr));                                                              \
        cr_expect_str_eq(v_, (want), "%s = \"%s\", want \"%s\"\n%s", (expr), v_, (want),           \
                         (doc)->xml);                                                              \
        free(v_);                                                                                  \
    } while (0)

#define expect_count(doc, expr, want)                                                              \
    cr_expect_eq((int)xn((doc), "count(" expr ")"), (want), "count(%s) = %d, want %d\n%s", expr,   \
                 (int)xn((doc), "count(" expr ")"), (want), (doc)->xml)

static void validate(struct doc *doc)
{
    if (access(CAP_RNG, R_OK) != 0) {
        cr_log_warn("%s not installed: schema validation skipped", CAP_RNG);
        return;
    }
    xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(CAP_RNG);
    cr_assert_not_null(pc);
    xmlRelaxNGPtr schema = xmlRelaxNGParse(pc);
    cr_assert_not_null(schema, "cannot parse %s", CAP_RNG);
    xmlRelaxNGValidCtxtPtr vc = xmlRelaxNGNewValidCtxt(schema);
    int r = xmlRelaxNGValidateDoc(vc, doc->d);
    cr_expect_eq(r, 0, "capabilities XML does not validate against %s:\n%s", CAP_RNG, doc->xml);
    xmlRelaxNGFreeValidCtxt(vc);
    xmlRelaxNGFree(schema);
    xmlRelaxNGFreeParserCtxt(pc);
}

/* node0: cpus 0-1 + memory; node1: memory only; node2: cpus 2-3, MemTotal 0.
 * CPUs: package 0, core = id/2, SMT pairs {0,1} {2,3}. */
static void asym_tree(void)
{
    for (int i = 0; i < 4; i++) {
        char core[8], sib[16];
        snprintf(core, sizeof core, "%d\n", i / 2);
        snprintf(sib, sizeof sib, "%d-%d\n", i / 2 * 2, i / 2 * 2 + 1);
        tree_cpu(i, "0\n", core, sib);
    }
    sysw("0-3\n", "cpu/present");
    sysw("0-3\n", "cpu/online");
    sysw("0-2\n", "node/online");
    sysw("0-2\n", "node/possible");
    sysw("0-1\n", "node/node0/cpulist");
    sysw("\n", "node/node1/cpulist");
    sysw("2-3\n", "node/node2/cpulist");
    sysw("10 20 30\n", "node/node0/distance");
    sysw("20 10 40\n", "node/node1/distance");
    sysw("30 40 10\n", "node/node2/distance");
    tree_meminfo(0, 2000000, 1000000);
    tree_meminfo(1, 8000000, 7000000);
    tree_meminfo(2, 0, 0);
    tree_write("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu lm\n\n", "proc/cpuinfo");
}

Test(caps, asymmetric_cells)
{
    asym_tree();
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_x(&doc, "/capabilities/host/cpu/arch", "x86_64");
    expect_x(&doc, "/capabilities/host/topology/cells/@num", "3");
    expect_count(&doc, "/capabilities/host/topology/cells/cell", 3);
    expect_x(&doc, "//cell[1]/@id", "0");
    expect_x(&doc, "//cell[2]/@id", "1");
    expect_x(&doc, "//cell[3]/@id", "2");
    /* node0 */
    expect_x(&doc, "//cell[@id='0']/memory", "2000000");
    expect_x(&doc, "//cell[@id='0']/memory/@unit", "KiB");
    expect_x(&doc, "//cell[@id='0']/cpus/@num", "2");
    expect_count(&doc, "//cell[@id='0']/cpus/cpu", 2);
    expect_x(&doc, "//cell[@id='0']/cpus/cpu[2]/@id", "1");
    expect_x(&doc, "//cell[@id='0']/cpus/cpu[2]/@socket_id", "0");
    expect_x(&doc, "//cell[@id='0']/cpus/cpu[2]/@core_id", "0");
    expect_x(&doc, "//cell[@id='0']/cpus/cpu[2]/@siblings", "0-1");
    expect_x(&doc, "//cell[@id='0']/distances/sibling[@id='2']/@value", "30");
    expect_count(&doc, "//cell[@id='0']/distances/sibling", 3);
    /* node1: memory, no CPUs */
    expect_x(&doc, "//cell[@id='1']/memory", "8000000");
    expect_x(&doc, "//cell[@id='1']/cpus/@num", "0");
    expect_count(&doc, "//cell[@id='1']/cpus", 1);
    expect_count(&doc, "//cell[@id='1']/cpus/cpu", 0);
    expect_x(&doc, "//cell[@id='1']/distances/sibling[@id='2']/@value", "40");
    /* node2: CPUs, no memory -> <memory unit='KiB'>0</memory> (spec §2) */
    expect_count(&doc, "//cell[@id='2']/memory", 1);
    expect_x(&doc, "//cell[@id='2']/memory", "0");
    expect_x(&doc, "//cell[@id='2']/memory/@unit", "KiB");
    expect_x(&doc, "//cell[@id='2']/cpus/@num", "2");
    expect_x(&doc, "//cell[@id='2']/cpus/cpu[1]/@id", "2");
    expect_x(&doc, "//cell[@id='2']/cpus/cpu[1]/@core_id", "1");
    expect_x(&doc, "//cell[@id='2']/cpus/cpu[1]/@siblings", "2-3");
    /* exact text the spec names */
    cr_expect_neq(strstr(doc.xml, "<cpus num='0'/>"), NULL, "%s", doc.xml);
    cr_expect_neq(strstr(doc.xml, "<memory unit='KiB'>0</memory>"), NULL, "%s", doc.xml);
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, pages_and_hugepages)
{
    asym_tree();
    sysw("10\n", "node/node0/hugepages/hugepages-2048kB/nr_hugepages");
    sysw("4\n", "node/node0/hugepages/hugepages-2048kB/free_hugepages");
    sysw("1\n", "node/node0/hugepages/hugepages-1048576kB/nr_hugepages");
    sysw("1\n", "node/node0/hugepages/hugepages-1048576kB/free_hugepages");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    /* 4 KiB pages: (MemTotal - memory in huge pages) / 4, as libvirt does */
    char want[32];
    snprintf(want, sizeof want, "%d", (2000000 - 10 * 2048 - 1 * 1048576) / 4);
    expect_x(&doc, "//cell[@id='0']/pages[@size='4']", want);
    expect_x(&doc, "//cell[@id='0']/pages[@size='4']/@unit", "KiB");
    expect_x(&doc, "//cell[@id='0']/pages[@size='2048']", "10");
    expect_x(&doc, "//cell[@id='0']/pages[@size='1048576']", "1");
    expect_count(&doc, "//cell[@id='0']/pages", 3);
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, hugepages_that_overflow_give_no_base_page_count)
{
    asym_tree();
    /* 2^55 pages of 1 GiB: the KiB they hold does not fit in 64 bits */
    sysw("36028797018963968\n", "node/node0/hugepages/hugepages-1048576kB/nr_hugepages");
    sysw("0\n", "node/node0/hugepages/hugepages-1048576kB/free_hugepages");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_count(&doc, "//cell[@id='0']/pages[@size='4']", 0);
    expect_x(&doc, "//cell[@id='0']/pages[@size='1048576']", "36028797018963968");
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, offline_and_unknown_nodes)
{
    asym_tree();
    sysw("0,2\n", "node/online"); /* node1 offline, still has a directory */
    sysw("10 30\n", "node/node0/distance");
    sysw("30 10\n", "node/node2/distance");
    tree_unlink("sys/devices/system/node/node1/distance");
    tree_unlink("sys/devices/system/node/node2/meminfo"); /* node2 memory unknown */
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_x(&doc, "/capabilities/host/topology/cells/@num", "2");
    expect_count(&doc, "//cell", 2);
    expect_count(&doc, "//cell[@id='1']", 0);
    /* unknown memory is not printed as a number */
    expect_count(&doc, "//cell[@id='2']/memory", 0);
    expect_x(&doc, "//cell[@id='0']/distances/sibling[@id='2']/@value", "30");
    expect_count(&doc, "//cell[@id='0']/distances/sibling[@id='1']", 0);
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, unknown_cpu_ids_give_bare_cpu)
{
    asym_tree();
    tree_unlink("sys/devices/system/cpu/cpu3/topology/core_id");
    sysw("-1\n", "cpu/cpu2/topology/physical_package_id");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    /* never invented: a CPU with an unknown core or package has no ids */
    expect_count(&doc, "//cpu[@id='3']/@core_id", 0);
    expect_count(&doc, "//cpu[@id='3']/@socket_id", 0);
    expect_count(&doc, "//cpu[@id='2']/@socket_id", 0);
    expect_count(&doc, "//cpu[@id='0']/@socket_id", 1);
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, hmat_interconnects)
{
    asym_tree();
    tree_symlink("../../../node0", "sys/devices/system/node/node1/access0/initiators/node0");
    sysw("150\n", "node/node1/access0/initiators/read_latency");
    sysw("100\n", "node/node1/access0/initiators/read_bandwidth");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_x(&doc, "//interconnects/latency[@initiator='0'][@target='1'][@type='read']/@value",
             "150");
    expect_count(&doc, "//interconnects/latency[@type='write']", 0);
    /* sysfs gives MB/s; libvirt's <bandwidth> is KiB/s */
    expect_x(&doc, "//interconnects/bandwidth[@initiator='0'][@target='1'][@type='read']/@value",
             "102400");
    expect_x(&doc, "//interconnects/bandwidth/@unit", "KiB");
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}

/* Issue 15: a bandwidth whose KiB/s does not fit in 64 bits (found by
 * fuzzing) is unknown and left out, like an absent one; a huge latency
 * (no scaling) is written as read; hugepages whose size overflows are
 * unknown, so no <pages> count is derived from them. */
Test(caps, hmat_values_that_overflow_are_unknown)
{
    asym_tree();
    tree_symlink("../../../node0", "sys/devices/system/node/node1/access0/initiators/node0");
    sysw("99999999999999999\n", "node/node1/access0/initiators/read_bandwidth");
    sysw("4503599627370497\n", "node/node1/access0/initiators/write_bandwidth"); /* 2^52+1: *1024 fits */
    sysw("9223372036854775807\n", "node/node1/access0/initiators/read_latency");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_count(&doc, "//interconnects/bandwidth[@type='read']", 0);
    expect_x(&doc, "//interconnects/bandwidth[@type='write']/@value", "4611686018427388928");
    expect_x(&doc, "//interconnects/latency[@type='read']/@value", "9223372036854775807");
    doc_close(&doc);
    cgp_topology_free(t);
}

Test(caps, single_node_no_numa)
{
    tree_cpu(0, "0\n", "0\n", "0\n");
    tree_cpu(1, "0\n", "1\n", "1\n");
    sysw("0-1\n", "cpu/present");
    tree_write("MemTotal: 1024 kB\nMemFree: 512 kB\n", "proc/meminfo");
    cgp_topology *t = tree_read(NULL);
    struct doc doc;
    doc_open(&doc, t);
    expect_x(&doc, "/capabilities/host/topology/cells/@num", "1");
    expect_x(&doc, "//cell/@id", "0");
    expect_x(&doc, "//cell/memory", "1024");
    expect_x(&doc, "//cell/cpus/@num", "2");
    /* no cpuinfo: the schema still needs <arch> */
    expect_count(&doc, "/capabilities/host/cpu/arch", 1);
    validate(&doc);
    doc_close(&doc);
    cgp_topology_free(t);
}
