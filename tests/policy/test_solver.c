/* Criterion unit tests of the policy compiler and the auto solver, through
 * the public API, over fixture hosts (POLICY_FIXDIR, made by mkfixtures.py).
 * Expected placements are derived by hand from the fixture definitions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace_policy.h"

static cgp_topology *topo(const char *fx)
{
    const char *dir = getenv("POLICY_FIXDIR");
    cr_assert(dir, "POLICY_FIXDIR not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, fx);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(path, NULL, &ctx), 0);
    cgp_topology *t = NULL;
    cr_assert_eq(cgp_topology_read(ctx, &t), 0, "%s", cgp_ctx_last_error(ctx));
    cgp_ctx_free(ctx);
    return t;
}

/* Compile src on fixture fx; returns the errno, fills *pl on success. */
static int compile(const char *fx, const char *src, cgp_diags **dout, cgp_placement **pl)
{
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    int r = cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p);
    if (r == 0) {
        cgp_topology *t = topo(fx);
        r = cgp_policy_compile(p, t, d, pl);
        cgp_topology_free(t);
    }
    cgp_policy_free(p);
    *dout = d;
    return r;
}

static void expect_guest(const cgp_placement *pl, const char *name, const char *cpus, const char *mems)
{
    const struct cgp_guest_placement *g = cgp_placement_find(pl, name);
    cr_assert(g, "guest %s missing", name);
    char *c = cgp_bitmap_format(g->cpus), *m = cgp_bitmap_format(g->mems);
    cr_expect_str_eq(c, cpus, "guest %s cpus", name);
    cr_expect_str_eq(m, mems, "guest %s mems", name);
    free(c);
    free(m);
}

static bool has_error(const cgp_diags *d, const char *needle)
{
    for (size_t i = 0; i < cgp_diags_count(d); i++)
        if (!cgp_diags_get(d, i)->warning && strstr(cgp_diags_get(d, i)->msg, needle))
            return true;
    return false;
}

Test(solver, no_placement_names_guest)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    /* asym has 8 CPUs: 9 vCPUs at overcommit 1 fit no set of nodes */
    int r = compile("asym", "guest huge { vcpus 9; cpus auto; memory 1G; }", &d, &pl);
    cr_expect_eq(r, -EINVAL);
    cr_expect(has_error(d, "no placement exists for guest 'huge'"));
    cr_expect_eq(cgp_diags_get(d, 0)->line, 1);
    cr_expect_eq(cgp_diags_get(d, 0)->col, 23, "points at the cpus statement");
    cgp_diags_free(d);
}

Test(solver, no_placement_memory)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    /* asym has 4+1+8 GiB: 14 GiB fits no set of nodes evenly */
    int r = compile("asym", "guest m { vcpus 1; cpus auto; memory 14G nodes auto; }", &d, &pl);
    cr_expect_eq(r, -EINVAL);
    cr_expect(has_error(d, "guest 'm'"));
    cgp_diags_free(d);
}

Test(solver, honours_reservations)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    /* node 0 (CPUs 0-3) reserved: 2 vCPUs 512M go to node 1 (2 CPUs, 1 GiB) */
    int r = compile("asym", "host { reserve cpus 0-3; }\nguest a { vcpus 2; cpus auto; memory 512M; }", &d, &pl);
    cr_assert_eq(r, 0);
    expect_guest(pl, "a", "4-5", "1");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

Test(solver, explicit_commitments_first)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    /* e fills node 1's 2 CPUs; a (2 vCPUs) then fits node 0 alone (one node)
     * rather than node 2 with memory on node 1 (two nodes) */
    int r = compile("asym", "guest a { vcpus 2; cpus auto; memory 256M; }\n"
                            "guest e { vcpus 2; cpus 4-5; memory 256M nodes 1; }", &d, &pl);
    cr_assert_eq(r, 0);
    expect_guest(pl, "a", "0-3", "0");
    expect_guest(pl, "e", "4-5", "1");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

Test(solver, deterministic_regardless_of_order)
{
    const char *a = "guest x { vcpus 2; cpus auto; memory 512M; }\n"
                    "guest y { vcpus 2; cpus auto; memory 512M; }\n"
                    "guest z { vcpus 4; cpus auto; memory 2G; }\n";
    const char *b = "guest z { vcpus 4; cpus auto; memory 2G; }\n"
                    "guest y { vcpus 2; cpus auto; memory 512M; }\n"
                    "guest x { vcpus 2; cpus auto; memory 512M; }\n";
    cgp_diags *d1, *d2;
    cgp_placement *p1 = NULL, *p2 = NULL;
    cr_assert_eq(compile("asym", a, &d1, &p1), 0);
    cr_assert_eq(compile("asym", b, &d2, &p2), 0);
    /* z first (most memory) -> node 0; x (name order) -> node 1; y -> node 2
     * (CPU-only, memory nearest by SLIT: node 1 at 12) */
    expect_guest(p1, "z", "0-3", "0");
    expect_guest(p1, "x", "4-5", "1");
    expect_guest(p1, "y", "6-7", "1");
    for (size_t i = 0; i < 3; i++) {
        const struct cgp_guest_placement *g = cgp_placement_guest(p1, i), *h = cgp_placement_find(p2, g->name);
        cr_assert(h);
        cr_expect(cgp_bitmap_equal(g->cpus, h->cpus) && cgp_bitmap_equal(g->mems, h->mems), "%s differs", g->name);
    }
    cgp_placement_free(p1);
    cgp_placement_free(p2);
    cgp_diags_free(d1);
    cgp_diags_free(d2);
}

Test(solver, suggest_enospc_and_fit)
{
    cgp_topology *t = topo("asym");
    struct cgp_suggestion s = { 0 };
    cr_expect_eq(cgp_suggest(NULL, t, 9, 1024, &s), -ENOSPC);
    cr_expect_eq(cgp_suggest(NULL, t, 0, 1024, &s), -EINVAL);
    cr_assert_eq(cgp_suggest(NULL, t, 4, 1 << 20, &s), 0);
    char *c = cgp_bitmap_format(s.cpus), *m = cgp_bitmap_format(s.mems);
    cr_expect_str_eq(c, "0-3"); /* node 0: 4 CPUs, 2987520 KiB free >= 1 GiB */
    cr_expect_str_eq(m, "0");
    free(c);
    free(m);
    cgp_suggestion_clear(&s);
    cgp_topology_free(t);
}

Test(solver, hmat_initiator_for_cpuless_guest)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    /* cpuless-mem: memory-only node 2's HMAT initiator is node 0; a guest on
     * node 0 still gets its own memory (local), node 2 only when named */
    cr_assert_eq(compile("cpuless-mem", "guest a { vcpus 1; cpus node 0; memory 1G nodes local; }", &d, &pl), 0);
    expect_guest(pl, "a", "0-3", "0");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

Test(parser, error_limit)
{
    char src[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(src, "bogus;\n");
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), -EINVAL);
    cr_expect_null(p);
    cr_expect_eq(cgp_diags_errors(d), CGP_POLICY_MAX_ERRORS + 1);
    cr_expect(strstr(cgp_diags_get(d, CGP_POLICY_MAX_ERRORS)->msg, "too many errors"));
    cgp_diags_free(d);
}

Test(parser, sizes)
{
    uint64_t k = 0;
    bool nu = false;
    cr_expect_eq(cgp_parse_size_kib("3G", &k, NULL), 0);
    cr_expect_eq(k, 3u << 20);
    cr_expect_eq(cgp_parse_size_kib("512MiB", &k, NULL), 0);
    cr_expect_eq(k, 512u << 10);
    cr_expect_eq(cgp_parse_size_kib("1T", &k, NULL), 0);
    cr_expect_eq(k, 1ull << 30);
    cr_expect_eq(cgp_parse_size_kib("12", &k, &nu), -EINVAL);
    cr_expect(nu);
    cr_expect_eq(cgp_parse_size_kib("1g", &k, NULL), -EINVAL);
    cr_expect_eq(cgp_parse_size_kib("99999999999999999999T", &k, NULL), -ERANGE);
}

Test(parser, hostile_input_fails_fast)
{
    /* deeply nested braces, a NUL byte, an overlong word */
    static char src[20000];
    memset(src, '{', 10000);
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    memcpy(src, "guest a ", 8);
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, 10000, d, &p), -EINVAL);
    cgp_diags_free(d);
    d = cgp_diags_new();
    memset(src, 'a', sizeof src);
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, sizeof src, d, &p), -EINVAL);
    cr_expect(strstr(cgp_diags_get(d, 0)->msg, "longer than"));
    cgp_diags_free(d);
    d = cgp_diags_new();
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", "guest a\0{ }", 11, d, &p), -EINVAL);
    cgp_diags_free(d);
}

static bool has_warning(const cgp_diags *d, const char *needle)
{
    for (size_t i = 0; i < cgp_diags_count(d); i++)
        if (cgp_diags_get(d, i)->warning && strstr(cgp_diags_get(d, i)->msg, needle))
            return true;
    return false;
}

/* asym node 0: MemTotal 4 GiB, MemFree 2917.5 MiB. A 3 GiB guest fits the node
 * but not its free memory: a warning while it is not running, none once it
 * runs (its memory is then already out of MemFree). */
Test(compile, memfree_warning_only_for_guests_not_running)
{
    const char *src = "guest big { vcpus 2; cpus node 0; memory 3G nodes 0; }\n";
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), 0);
    cgp_topology *t = topo("asym");
    cgp_placement *pl = NULL;
    cr_assert_eq(cgp_policy_compile(p, t, d, &pl), 0);
    cr_expect(has_warning(d, "not running yet"), "MemFree warning for a guest not running");
    cr_expect(!cgp_placement_find(pl, "big")->running);
    cgp_placement_free(pl);
    cgp_diags_free(d);

    cr_assert_eq(cgp_policy_set_running(p, "big", true), 0);
    cr_expect_eq(cgp_policy_set_running(p, "nosuch", true), -ENOENT);
    d = cgp_diags_new();
    cr_assert_eq(cgp_policy_compile(p, t, d, &pl), 0);
    cr_expect(!has_warning(d, "MemFree"), "no MemFree warning for a running guest");
    cr_expect(cgp_placement_find(pl, "big")->running);
    cgp_placement_free(pl);
    cgp_diags_free(d);
    cgp_topology_free(t);
    cgp_policy_free(p);
}
