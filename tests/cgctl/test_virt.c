/* Unit tests of the libvirt client (cgctl/virt.c) against the fake
 * libvirt.so.0 (tests/cgctl/fakevirt.c): loading, connecting, lookups, the
 * cpumap and typed-parameter encodings, errors (escaped), and the calls made
 * as the fake's log records them. */
#include "fakecg.h"
#include "virt.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char DIR_[256], STATE[300], LOG[300];
static cgp_ctx *CTX;
static struct cgctl_virt *VC;    /* closed by teardown */
static struct cgctl_vdom *DOM;
static cgp_bitmap *BM[8];        /* freed by teardown */
static size_t N_BM;

#define wfile fake_wfile
#define rfile fake_rfile

/* Is line one of text's lines? */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *s = text; (s = strstr(s, line)); s++)
        if ((s == text || s[-1] == '\n') && (s[n] == '\n' || s[n] == '\0'))
            return true;
    return false;
}

/* The fake's log lines for the setters only ("" when none). */
static char *setter_log(void)
{
    return fake_virt_setters(LOG, false);
}

static const char *STATE_G1 =
    "ncpus 16\n"
    "domain g1 5b5f3e58-0000-4000-8000-000000000001\n"
    "pid 4242\n"
    "vcpu 0 0-15 4244\n"
    "vcpu 1 0-15 4245\n"
    "emulator 0-15 4242,4243\n"
    "iothread 1 0-15 4246\n"
    "numa 0 0-1\n"
    "domain other 5b5f3e58-0000-4000-8000-000000000002\n"
    "vcpu 0 2-3\n"
    "emulator 2\n";

static void setup(void)
{
    const char *lib = getenv("CGCTL_FAKEVIRT");
    cr_assert(lib, "CGCTL_FAKEVIRT not set (run through make check-cgctl)");
    cgctl_virt_hooks.lib = lib;
    snprintf(DIR_, sizeof DIR_, "/tmp/cgp-virt-XXXXXX");
    cr_assert(mkdtemp(DIR_));
    snprintf(STATE, sizeof STATE, "%s/state", DIR_);
    snprintf(LOG, sizeof LOG, "%s/log", DIR_);
    setenv("FAKEVIRT_STATE", STATE, 1);
    setenv("FAKEVIRT_LOG", LOG, 1);
    wfile(STATE, STATE_G1);
    cr_assert(cgp_ctx_new("/", NULL, &CTX) == 0);
}

static void teardown(void)
{
    cgctl_vdom_free(DOM);
    cgctl_virt_close(VC);
    while (N_BM)
        cgp_bitmap_free(BM[--N_BM]);
    cgp_ctx_free(CTX);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    cr_assert(system(cmd) == 0);
}

TestSuite(virt, .init = setup, .fini = teardown);

static struct cgctl_virt *open_ok(void)
{
    struct cgctl_virt *v = NULL;
    int r = cgctl_virt_open(CTX, &v);
    cr_assert(r == 0, "open: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return v;
}

static struct cgctl_vdom *dom_ok(struct cgctl_virt *v, const char *uuid, const char *name)
{
    struct cgctl_vdom *d = NULL;
    int r = cgctl_virt_lookup(v, uuid, name, &d);
    cr_assert(r == 0, "lookup: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return d;
}

/* The connection and domain `name` (VC, DOM). */
static struct cgctl_vdom *dom(const char *name)
{
    VC = open_ok();
    return DOM = dom_ok(VC, NULL, name);
}

static cgp_bitmap *bm(const char *s)
{
    cgp_bitmap *b = NULL;
    cr_assert(N_BM < 8 && cgp_bitmap_parse(s, 0, &b, NULL) == 0);
    return BM[N_BM++] = b;
}

static void assert_set(const cgp_bitmap *b, const char *want, const char *what)
{
    cr_assert(b, "%s: no set", what);
    char *s = cgp_bitmap_format(b);
    cr_assert_str_eq(s, want, "%s: %s, want %s", what, s, want);
    free(s);
}

Test(virt, connects_to_qemu_system_and_silences_libvirt)
{
    VC = open_ok();
    cr_assert_eq(cgctl_virt_ncpus(VC), 16);
    char *log = rfile(LOG);
    cr_assert(has_line(log, "virSetErrorFunc handler=set"), "libvirt's stderr printer not replaced:\n%s", log);
    cr_assert(has_line(log, "virConnectOpen qemu:///system"), "%s", log);
    free(log);
}

Test(virt, library_missing_is_elibacc)
{
    cgctl_virt_hooks.lib = "/nonexistent/libvirt.so.0";
    struct cgctl_virt *v = NULL;
    cr_assert_eq(cgctl_virt_open(CTX, &v), -ELIBACC);
    cr_assert_null(v);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "libvirt's client library cannot be loaded"), "%s",
              cgp_ctx_last_error(CTX));
    cr_assert(strstr(cgp_ctx_last_error(CTX), "/nonexistent/libvirt.so.0"), "%s", cgp_ctx_last_error(CTX));
}

Test(virt, library_without_the_functions_is_elibacc)
{
    cgctl_virt_hooks.lib = "libm.so.6";
    struct cgctl_virt *v = NULL;
    cr_assert_eq(cgctl_virt_open(CTX, &v), -ELIBACC);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "has no virConnectOpen"), "%s", cgp_ctx_last_error(CTX));
}

Test(virt, daemon_down_is_econnrefused_with_libvirts_message)
{
    wfile(STATE, "connect refuse\n");
    struct cgctl_virt *v = NULL;
    cr_assert_eq(cgctl_virt_open(CTX, &v), -ECONNREFUSED);
    const char *e = cgp_ctx_last_error(CTX);
    cr_assert(strstr(e, "cannot connect to libvirt (qemu:///system)") && strstr(e, "virtqemud-sock"), "%s", e);
}

Test(virt, uri_hook)
{
    cgctl_virt_hooks.uri = "test:///default";
    VC = open_ok();
    char *log = rfile(LOG);
    cr_assert(has_line(log, "virConnectOpen test:///default"), "%s", log);
    free(log);
}

Test(virt, lookup_by_uuid_then_name)
{
    struct cgctl_virt *v = VC = open_ok();
    struct cgctl_vdom *d = dom_ok(v, "5B5F3E58-0000-4000-8000-000000000001", "ignored");
    cr_assert_str_eq(cgctl_vdom_name(d), "g1");
    cr_assert_str_eq(cgctl_vdom_uuid(d), "5b5f3e58-0000-4000-8000-000000000001");
    cgctl_vdom_free(d);
    d = DOM = dom_ok(v, NULL, "other");
    cr_assert_str_eq(cgctl_vdom_uuid(d), "5b5f3e58-0000-4000-8000-000000000002");
    char *log = rfile(LOG);
    cr_assert(has_line(log, "virDomainLookupByUUIDString 5B5F3E58-0000-4000-8000-000000000001"), "%s", log);
    cr_assert(!strstr(log, "virDomainLookupByName ignored"), "a UUID lookup also asked by name:\n%s", log);
    cr_assert(has_line(log, "virDomainLookupByName other"), "%s", log);
    free(log);
}

Test(virt, unknown_domain_is_enoent)
{
    struct cgctl_virt *v = VC = open_ok();
    struct cgctl_vdom *d = NULL;
    cr_assert_eq(cgctl_virt_lookup(v, "5b5f3e58-0000-4000-8000-00000000ffff", "g1", &d), -ENOENT);
    cr_assert_null(d);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "virDomainLookupByUUIDString: Domain not found"), "%s",
              cgp_ctx_last_error(CTX));
    cr_assert_eq(cgctl_virt_lookup(v, NULL, "nope", &d), -ENOENT);
    cr_assert_eq(cgctl_virt_lookup(v, NULL, NULL, &d), -EINVAL);
}

Test(virt, reads_live_pins)
{
    wfile(STATE, "ncpus 16\ndomain g1 u1\nvcpu 0 0,9,15\nvcpu 1 8-15\nemulator 0-1\n"
                 "iothread 1 2-3\niothread 7 12\nnuma 3 1\n");
    VC = open_ok();
    struct cgctl_vdom *d = DOM = dom_ok(VC, "u1", NULL);
    struct cgctl_vpins p;
    cr_assert(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p) == 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert_eq(p.n_vcpus, 2);
    assert_set(p.vcpu[0], "0,9,15", "vcpu 0");
    assert_set(p.vcpu[1], "8-15", "vcpu 1");
    assert_set(p.emulator, "0-1", "emulator");
    cr_assert_eq(p.n_iothreads, 2);
    cr_assert(p.iothread_id[0] == 1 && p.iothread_id[1] == 7);
    assert_set(p.iothread[0], "2-3", "iothread 1");
    assert_set(p.iothread[1], "12", "iothread 7");
    assert_set(p.nodeset, "1", "nodeset");
    cr_assert_eq(p.mode, CGP_MODE_RESTRICTIVE);
    cgctl_vpins_clear(&p);
    char *log = rfile(LOG);
    /* live values, and strings allowed in the typed parameters */
    cr_assert(has_line(log, "virDomainGetVcpusFlags g1 flags=5"), "%s", log);
    cr_assert(has_line(log, "virDomainGetNumaParameters g1 n=2 flags=5"), "%s", log);
    free(log);
}

Test(virt, no_nodeset_reads_as_none)
{
    wfile(STATE, "ncpus 4\ndomain g1 u1\nvcpu 0 0-3\nemulator 0-3\n");
    VC = open_ok();
    struct cgctl_vdom *d = DOM = dom_ok(VC, "u1", NULL);
    struct cgctl_vpins p;
    cr_assert(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p) == 0);
    cr_assert_null(p.nodeset);
    cr_assert_eq(p.n_iothreads, 0);
    cgctl_vpins_clear(&p);
}

Test(virt, setters_encode_cpumaps_and_flags)
{
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *a = bm("0,9,15"), *b = bm("4-5"), *n = bm("1");
    cr_assert(cgctl_virt_pin_vcpu(d, 1, a, CGCTL_VIRT_LIVE) == 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert(cgctl_virt_pin_emulator(d, b, CGCTL_VIRT_LIVE | CGCTL_VIRT_CONFIG) == 0);
    cr_assert(cgctl_virt_pin_iothread(d, 1, b, 0) == 0);
    cr_assert(cgctl_virt_set_numa(d, n, -1, CGCTL_VIRT_LIVE) == 0, "%s", cgp_ctx_last_error(CTX));
    char *log = setter_log();
    cr_assert_str_eq(log, "virDomainPinVcpuFlags g1 vcpu=1 cpus=0,9,15 flags=1\n"
                          "virDomainPinEmulator g1 cpus=4-5 flags=3\n"
                          "virDomainPinIOThread g1 iothread=1 cpus=4-5 flags=1\n"
                          "virDomainSetNumaParameters g1 numa_nodeset=1 flags=1\n");
    free(log);
    /* and libvirt now says so */
    struct cgctl_vpins p;
    cr_assert(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p) == 0);
    assert_set(p.vcpu[1], "0,9,15", "vcpu 1");
    assert_set(p.emulator, "4-5", "emulator");
    assert_set(p.iothread[0], "4-5", "iothread 1");
    assert_set(p.nodeset, "1", "nodeset");
    cgctl_vpins_clear(&p);
}

Test(virt, cpu_beyond_the_host_is_refused_before_any_call)
{
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *a = bm("3,16");
    cr_assert_eq(cgctl_virt_pin_vcpu(d, 0, a, 0), -ERANGE);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "CPU 16 is beyond the 16 CPUs libvirt knows"), "%s",
              cgp_ctx_last_error(CTX));
    char *log = setter_log();
    cr_assert_str_eq(log, "");
    free(log);
}

Test(virt, numa_mode_and_nodeset_in_one_call)
{
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *n = bm("0");
    /* libvirt 9.0 refuses a live mode change: the message is libvirt's */
    cr_assert_eq(cgctl_virt_set_numa(d, n, CGP_MODE_INTERLEAVE, CGCTL_VIRT_LIVE), -EIO);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "virDomainSetNumaParameters: Requested operation is not valid: "
                                              "can't change numatune mode for running domain"),
              "%s", cgp_ctx_last_error(CTX));
    cr_assert(cgctl_virt_set_numa(d, n, CGP_MODE_INTERLEAVE, CGCTL_VIRT_CONFIG) == 0);
    cr_assert(cgctl_virt_set_numa(d, NULL, -1, CGCTL_VIRT_LIVE) == 0, "nothing to set is no call");
    char *log = setter_log();
    cr_assert_str_eq(log, "virDomainSetNumaParameters g1 numa_mode=2 numa_nodeset=0 flags=1 -> error 55\n"
                          "virDomainSetNumaParameters g1 numa_mode=2 numa_nodeset=0 flags=2\n");
    free(log);
}

Test(virt, nth_call_fails_with_an_escaped_message)
{
    char st[1024];
    snprintf(st, sizeof st, "%sfail virDomainPinVcpuFlags 2 9 boom \x1b[31mred\\ \xff%s\n", STATE_G1,
             "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789");
    wfile(STATE, st);
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *a = bm("1");
    cr_assert(cgctl_virt_pin_vcpu(d, 0, a, 0) == 0);
    cr_assert_eq(cgctl_virt_pin_vcpu(d, 1, a, 0), -EIO);
    const char *e = cgp_ctx_last_error(CTX);
    cr_assert(strstr(e, "virDomainPinVcpuFlags: boom \\x1b[31mred\\x5c \\xff0123"), "%s", e);
    cr_assert(strstr(e, "...") && strlen(e) < 400, "not bounded: %s", e);
    for (const char *s = e; *s; s++)
        cr_assert((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f, "raw byte 0x%02x in %s", *s, e);
    cr_assert(cgctl_virt_pin_vcpu(d, 1, a, 0) == 0, "only the 2nd call fails");
}

Test(virt, unknown_vcpu_and_iothread_are_libvirts_errors)
{
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *a = bm("1");
    cr_assert_eq(cgctl_virt_pin_vcpu(d, 5, a, 0), -EINVAL);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "vcpu 5 is out of range"), "%s", cgp_ctx_last_error(CTX));
    cr_assert_eq(cgctl_virt_pin_iothread(d, 9, a, 0), -EINVAL);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "cannot find IOThread '9'"), "%s", cgp_ctx_last_error(CTX));
}

Test(virt, read_failure_is_reported)
{
    char st[1024];
    snprintf(st, sizeof st, "%sfail virDomainGetIOThreadInfo 1 84 this function is not supported\n", STATE_G1);
    wfile(STATE, st);
    struct cgctl_vdom *d = dom("g1");
    struct cgctl_vpins p = { .n_vcpus = 99 };
    cr_assert_eq(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p), -EOPNOTSUPP);
    cr_assert_eq(p.n_vcpus, 99, "out-param written on failure");
    cr_assert(strstr(cgp_ctx_last_error(CTX), "virDomainGetIOThreadInfo: this function is not supported"), "%s",
              cgp_ctx_last_error(CTX));
}

Test(virt, live_pins_play_the_kernel_in_the_fake_proc)
{
    char st[1024], proc[300], status[400];
    snprintf(proc, sizeof proc, "%s/proc", DIR_);
    snprintf(status, sizeof status, "%s/4242/task/4245", proc);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", status);
    cr_assert(system(cmd) == 0);
    strcat(status, "/status");
    wfile(status, "Name:\tCPU 1/KVM\nCpus_allowed_list:\t0-15\nMems_allowed_list:\t0-1\n");
    snprintf(st, sizeof st, "proc %s\n%s", proc, STATE_G1);
    wfile(STATE, st);
    struct cgctl_vdom *d = dom("g1");
    cgp_bitmap *a = bm("6-7"), *n = bm("1");
    cr_assert(cgctl_virt_pin_vcpu(d, 1, a, CGCTL_VIRT_LIVE) == 0);
    cr_assert(cgctl_virt_set_numa(d, n, -1, CGCTL_VIRT_LIVE) == 0);
    char *s = rfile(status);
    cr_assert_str_eq(s, "Name:\tCPU 1/KVM\nCpus_allowed_list:\t6-7\nMems_allowed_list:\t1");
    free(s);
}

Test(virt, mode_numbers)
{
    cr_assert_eq(cgctl_virt_mode_to_libvirt(CGP_MODE_STRICT), 0);
    cr_assert_eq(cgctl_virt_mode_to_libvirt(CGP_MODE_PREFERRED), 1);
    cr_assert_eq(cgctl_virt_mode_to_libvirt(CGP_MODE_INTERLEAVE), 2);
    cr_assert_eq(cgctl_virt_mode_to_libvirt(CGP_MODE_RESTRICTIVE), 3);
    for (int m = 0; m < 4; m++)
        cr_assert_eq(cgctl_virt_mode_to_libvirt((enum cgp_mem_mode)cgctl_virt_mode_from_libvirt(m)), m);
    cr_assert_eq(cgctl_virt_mode_from_libvirt(4), -1);
    cr_assert_eq(cgctl_virt_mode_from_libvirt(-1), -1);
}

Test(virt, escape)
{
    char *s = cgctl_virt_escape("a\nb\\c\x7f", 100);
    cr_assert_str_eq(s, "a\\x0ab\\x5cc\\x7f");
    free(s);
    s = cgctl_virt_escape("abcdef", 3);
    cr_assert_str_eq(s, "abc...");
    free(s);
    s = cgctl_virt_escape(NULL, 3);
    cr_assert_str_eq(s, "");
    free(s);
}

/* The declarations in virt.c against the real libvirt.so.0, on its
 * in-process test driver (no daemon): typed parameters, cpumaps, errors. */
Test(virt, real_libvirt_test_driver)
{
    cgctl_virt_hooks.lib = NULL;
    cgctl_virt_hooks.uri = "test:///default";
    struct cgctl_virt *v = NULL;
    int r = cgctl_virt_open(CTX, &v);
    if (r == -ELIBACC)
        cr_skip_test("libvirt0 is not installed: %s", cgp_ctx_last_error(CTX));
    cr_assert(r == 0, "%s", cgp_ctx_last_error(CTX));
    VC = v;
    struct cgctl_vdom *d = DOM = dom_ok(v, NULL, "test");
    struct cgctl_vpins p;
    cr_assert(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p) == 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert(p.n_vcpus >= 1 && p.vcpu[0] && p.emulator);
    cgctl_vpins_clear(&p);
    cr_assert(cgctl_virt_pin_emulator(d, bm("1"), CGCTL_VIRT_LIVE) == 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert(cgctl_virt_set_numa(d, bm("0"), -1, CGCTL_VIRT_LIVE) == 0, "%s", cgp_ctx_last_error(CTX));
    cr_assert(cgctl_virt_read(d, CGCTL_VIRT_LIVE, &p) == 0, "%s", cgp_ctx_last_error(CTX));
    assert_set(p.emulator, "1", "emulator");
    assert_set(p.nodeset, "0", "nodeset");
    cr_assert_eq(p.mode, CGP_MODE_STRICT);
    cgctl_vpins_clear(&p);
    /* the test driver refuses live vCPU pins: libvirt's own message */
    cr_assert_lt(cgctl_virt_pin_vcpu(d, 0, bm("1"), CGCTL_VIRT_LIVE), 0);
    cr_assert(strstr(cgp_ctx_last_error(CTX), "virDomainPinVcpuFlags: unsupported flags"), "%s",
              cgp_ctx_last_error(CTX));
}
