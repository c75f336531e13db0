/* Unit tests of the interop API (cgplace_interop.h): cgp_libvirt_import's
 * contract (out-parameters, errors with lines, the cap, the DOCTYPE rule,
 * names, uuids, units, libvirt's meaning kept) and cgp_emit's errors and
 * list forms. Run by tests/emit/run.py with EMIT_FIXDIR set (fixture hosts
 * of tests/fixtures/mkfixtures.py). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace_interop.h"

#define DOM(body) "<domain type='kvm'><name>t</name><uuid>0123456789abcdef0123456789ABCDEF</uuid>" body "</domain>"

static int import(const char *xml, struct cgp_libvirt_import *im, struct cgp_xml_error *e)
{
    return cgp_libvirt_import(xml, strlen(xml), im, e);
}

static char *block_of(const char *xml)
{
    struct cgp_libvirt_import im = { 0 };
    struct cgp_xml_error e = { 0 };
    int r = import(xml, &im, &e);
    cr_assert_eq(r, 0, "import failed (%d): line %u: %s", r, e.line, e.msg);
    char *b = strdup(im.block);
    cgp_libvirt_import_clear(&im);
    return b;
}

static void expect_has(const char *hay, const char *needle)
{
    cr_expect(strstr(hay, needle), "missing \"%s\" in:\n%s", needle, hay);
}

Test(import, failure_leaves_out_untouched_and_says_where)
{
    struct cgp_libvirt_import im = { .name = (char *)"keep" };
    struct cgp_xml_error e = { 0 };
    int r = import("<domain>\n<name>t</name>\n<vcpu>x</vcpu>\n</domain>", &im, &e);
    cr_assert_eq(r, -EINVAL);
    cr_expect_str_eq(im.name, "keep");
    cr_expect_eq(e.line, 3);
    cr_expect(strstr(e.msg, "invalid <vcpu> count 'x'"), "%s", e.msg);
}

Test(import, doctype_is_refused_at_its_line_whatever_it_declares)
{
    struct cgp_libvirt_import im = { 0 };
    struct cgp_xml_error e = { 0 };
    const char *docs[] = {
        "<?xml version='1.0'?>\n\n<!DOCTYPE domain [<!ENTITY a 'b'>]>\n" DOM(""),
        "<!--x-->\n\n<!DOCTYPE domain SYSTEM 'http://127.0.0.1:9/x.dtd'>\n" DOM(""),
        "\n\n<!DOCTYPE domain>\n" DOM(""),
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        cr_assert_eq(import(docs[i], &im, &e), -EINVAL, "doc %zu", i);
        cr_expect_eq(e.line, 3, "doc %zu: line %u", i, e.line);
        cr_expect(strstr(e.msg, "a DOCTYPE is refused"), "%s", e.msg);
    }
}

Test(import, the_cap_is_checked_before_parsing)
{
    size_t n = CGP_LIBVIRT_MAX_XML + 1;
    char *big = malloc(n);
    cr_assert(big);
    memset(big, ' ', n);
    struct cgp_libvirt_import im = { 0 };
    struct cgp_xml_error e = { .line = 77 };
    cr_expect_eq(cgp_libvirt_import(big, n, &im, &e), -EFBIG);
    cr_expect_eq(e.line, 77, "err written on -EINVAL only");
    free(big);
}

Test(import, uuid_is_canonical_and_name_a_valid_guest_name)
{
    struct cgp_libvirt_import im = { 0 };
    struct cgp_xml_error e = { 0 };
    cr_assert_eq(import("<domain><name>-web 1/é</name><uuid>0123456789abcdef0123456789ABCDEF</uuid></domain>",
                        &im, &e), 0, "%s", e.msg);
    cr_expect_str_eq(im.uuid, "01234567-89ab-cdef-0123-456789abcdef");
    cr_expect_str_eq(im.name, "vm--web_1___");
    cgp_libvirt_import_clear(&im);
    cr_assert_eq(import("<domain><name>cpuset.cpus</name><uuid>0123456789abcdef0123456789ABCDEF</uuid></domain>",
                        &im, &e), 0);
    cr_expect_str_eq(im.name, "vm-cpuset.cpus");
    cgp_libvirt_import_clear(&im);
}

Test(import, units_round_up_to_kib)
{
    char *b = block_of(DOM("<memory unit='KB'>1000001</memory>"));
    expect_has(b, "memory 976564K;");   /* 1000001000 bytes = 976563.48 KiB */
    free(b);
    b = block_of(DOM("<memory unit='b'>1</memory>"));
    expect_has(b, "memory 1K;");
    free(b);
}

Test(import, a_pin_outside_the_cpuset_widens_cpus_and_pins_the_rest)
{
    char *b = block_of(DOM("<vcpu cpuset='4-5'>3</vcpu><cputune><vcpupin vcpu='0' cpuset='9'/></cputune>"));
    expect_has(b, "    cpus 4-5,9;\n");
    expect_has(b, "    vcpupin 0 9;\n");
    expect_has(b, "    vcpupin 1-2 4-5;");
    expect_has(b, "    emulatorpin 4-5;");
    free(b);
    /* inside: nothing added */
    b = block_of(DOM("<vcpu cpuset='4-5'>3</vcpu><cputune><vcpupin vcpu='0' cpuset='4'/></cputune>"));
    cr_expect(!strstr(b, "emulatorpin") && !strstr(b, "vcpupin 1"), "%s", b);
    free(b);
}

Test(import, cells_take_memnode_else_the_domain_nodeset)
{
    char *b = block_of(DOM("<vcpu>2</vcpu><numatune><memory mode='interleave' nodeset='0-1'/>"
                           "<memnode cellid='1' mode='strict' nodeset='1'/></numatune>"
                           "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/>"
                           "<cell id='1' cpus='1' memory='512' unit='MiB'/></numa></cpu>"));
    expect_has(b, "memory 1536M nodes 0-1 mode interleave;");
    expect_has(b, "cell 0 { vcpus 0; memory 1G nodes 0-1; }");
    expect_has(b, "cell 1 { vcpus 1; memory 512M nodes 1 mode strict; }");
    free(b);
    /* no nodeset anywhere: no cells, and a comment says so */
    b = block_of(DOM("<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1' unit='GiB'/></numa></cpu>"));
    cr_expect(!strstr(b, "cell 0"), "%s", b);
    expect_has(b, "# <cpu><numa> cells not imported");
    free(b);
}

Test(import, bad_values_name_their_line)
{
    struct {
        const char *xml, *msg;
        unsigned line;
    } c[] = {
        { DOM("\n<numatune>\n<memnode cellid='3' nodeset='0'/></numatune>"), "has no <cell id='3'>", 3 },
        { DOM("\n<numatune><memory mode='random' nodeset='0'/></numatune>"), "invalid <memory mode='random'>", 2 },
        { DOM("\n<cputune><vcpupin vcpu='0' cpuset='1'/>\n<vcpupin vcpu='0' cpuset='2'/></cputune>"),
          "<vcpupin vcpu='0'> is given twice", 3 },
        { "<domain><name>t</name></domain>", "has no <uuid>", 1 },
        /* fuzz_libvirt: a cell of memory 0 became 'memory 0K', which the policy parser refuses */
        { DOM("<vcpu>2</vcpu><cpu><numa>\n<cell id='0' cpus='0-1' memory='0'/></numa></cpu>"), "memory size 0", 2 },
        /* fuzz_libvirt: the second <vcpu> leaked the first's cpuset */
        { "<domain><vcpu cpuset='1'>4</vcpu>\n<vcpu>2</vcpu></domain>", "a second <vcpu>", 2 },
        { "<domain><uuid>0123456789abcdef0123456789ABCDEF</uuid></domain>", "has no <name>", 1 },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        struct cgp_libvirt_import im = { 0 };
        struct cgp_xml_error e = { 0 };
        cr_expect_eq(import(c[i].xml, &im, &e), -EINVAL, "case %zu", i);
        cr_expect(strstr(e.msg, c[i].msg), "case %zu: %s", i, e.msg);
        cr_expect_eq(e.line, c[i].line, "case %zu: line %u", i, e.line);
    }
}

/* ---------------------------------------------------------------- emit */

static cgp_topology *topo;
static cgp_placement *pl;

static void setup(void)
{
    const char *dir = getenv("EMIT_FIXDIR");
    cr_assert(dir, "EMIT_FIXDIR not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/cpuless-mem", dir);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(path, NULL, &ctx), 0);
    cr_assert_eq(cgp_topology_read(ctx, &topo), 0);
    cgp_ctx_free(ctx);
    const char *src = "guest a { vcpus 4; cpus 0-3,5; memory 2G nodes 0,2 mode interleave;\n"
                      "  cell 0 { vcpus 0,2-3; memory 1G nodes 0,2; } cell 1 { vcpus 1; memory 1G nodes 2; } }\n"
                      "guest nomem { vcpus 1; }\n";
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), 0);
    cr_assert_eq(cgp_policy_compile(p, topo, d, &pl), 0);
    cgp_policy_free(p);
    cgp_diags_free(d);
}

static void teardown(void)
{
    cgp_placement_free(pl);
    cgp_topology_free(topo);
}

Test(emit, errors_leave_out_untouched, .init = setup, .fini = teardown)
{
    char *out = (char *)"keep";
    cr_expect_eq(cgp_emit(pl, topo, "nosuch", CGP_EMIT_LIBVIRT, &out), -ENOENT);
    cr_expect_eq(cgp_emit(pl, topo, "nomem", CGP_EMIT_QEMU, &out), -ENODATA);
    cr_expect_eq(cgp_emit(pl, topo, "a", (enum cgp_emit_format)9, &out), -EINVAL);
    cr_expect_str_eq(out, "keep");
}

Test(emit, qemu_repeats_list_keys_per_range, .init = setup, .fini = teardown)
{
    char *out = NULL;
    cr_assert_eq(cgp_emit(pl, topo, "a", CGP_EMIT_QEMU, &out), 0);
    expect_has(out, "-object memory-backend-ram,id=ram-node0,size=1G,host-nodes=0,host-nodes=2,policy=interleave\n"
                    "-numa node,nodeid=0,cpus=0,cpus=2-3,memdev=ram-node0\n");
    expect_has(out, "id=ram-node1,size=1G,host-nodes=2,policy=interleave\n");
    free(out);
}

Test(emit, xl_vdistances_come_from_the_slit, .init = setup, .fini = teardown)
{
    char *out = NULL;
    cr_assert_eq(cgp_emit(pl, topo, "a", CGP_EMIT_XL, &out), 0);
    /* cpuless-mem: distance 0-2 is 17 */
    expect_has(out, "[\"pnode=0\", \"size=1024\", \"vcpus=0,2-3\", \"vdistances=10,17\"]");
    expect_has(out, "[\"pnode=2\", \"size=1024\", \"vcpus=1\", \"vdistances=17,10\"]");
    expect_has(out, "# cell 0: xl maps a vNUMA node to one host node, node 0 of its nodes\n");
    free(out);
}
