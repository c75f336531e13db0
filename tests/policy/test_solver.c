/* Criterion unit tests of the policy compiler and the auto solver, through
 * the public API, over fixture hosts (POLICY_FIXDIR, made by mkfixtures.py).
 * Expected placements are derived by hand from the fixture definitions. */
#include "policy-test.h"
#include "../common/trusted_guest.h"

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

/* asym node 0: MemTotal 4 GiB, MemFree 2917.5 MiB. A 3 GiB guest fits the node
 * but not its free memory: a warning while it is not running, none once a
 * process runs as it (its memory is then already out of MemFree). Running is
 * an input of compilation: the policy itself is not changed. */
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
    cr_expect_null(cgp_placement_find(pl, "big")->proc);
    cr_expect_eq(cgp_placement_n_procs(pl), 0u);
    cgp_placement_free(pl);
    cgp_diags_free(d);

    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new("/", NULL, &ctx), 0);
    struct cgp_guest other = { .pid = 40, .pidfd = -1, CGP_TEST_TRUSTED, .name = "other" };
    struct cgp_guest big = { .pid = 41, .pidfd = -1, CGP_TEST_TRUSTED, .name = "big" };
    const struct cgp_guest *procs[] = { &other, &big };
    d = cgp_diags_new();
    cr_assert_eq(cgp_policy_compile_running(p, t, ctx, procs, 2, d, &pl), 0);
    cr_expect(!has_warning(d, "MemFree"), "no MemFree warning for a running guest");
    cr_expect(cgp_placement_find(pl, "big")->running);
    cr_expect_eq(cgp_placement_find(pl, "big")->proc, &big);
    cr_assert_eq(cgp_placement_n_procs(pl), 2u);
    cr_expect_eq(cgp_placement_proc(pl, 0)->proc, &other);
    cr_expect_eq(cgp_placement_proc(pl, 0)->n_guests, 0u, "unmanaged");
    cr_expect_eq(cgp_placement_proc(pl, 1)->n_guests, 1u);
    cr_expect_eq(cgp_placement_proc(pl, 1)->guests[0], 0u);
    cr_expect_null(cgp_placement_proc(pl, 2));
    cgp_placement_free(pl);
    cgp_diags_free(d);

    d = cgp_diags_new();
    cr_expect_eq(cgp_policy_compile_running(p, t, NULL, procs, 2, d, &pl), -EINVAL, "processes need a ctx");
    cgp_diags_free(d);
    cgp_ctx_free(ctx);
    cgp_topology_free(t);
    cgp_policy_free(p);
}

/* The one matching: every match line must hold (uuid without case, a
 * pidfile holding the pid under the sysroot); a process matching two blocks is listed with both and runs as
 * the first; of two processes matching one block the first is its proc. */
Test(compile, running_guests_are_matched_once)
{
    char dir[] = "/tmp/cgp-match-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[4096];
    snprintf(path, sizeof path, "%s/g3.pid", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "73\n");
    fclose(f);
    const char *src =
        "guest a { vcpus 1; cpus 0; match uuid 0A0B0C0D-0000-0000-0000-000000000001; }\n"
        "guest b { vcpus 1; cpus 1; match name web; }\n"
        "guest c { vcpus 1; cpus 2; match pidfile /g3.pid; }\n"
        "guest d { vcpus 1; cpus 3; match qmp /run/d.qmp; }\n";
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), 0);
    cgp_topology *t = topo("two-socket-smt");
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(dir, NULL, &ctx), 0);
    struct cgp_guest pa = { .pid = 70, .pidfd = -1, CGP_TEST_TRUSTED, .uuid = "0a0b0c0d-0000-0000-0000-000000000001" };
    struct cgp_guest pb = { .pid = 71, .pidfd = -1, CGP_TEST_TRUSTED, .name = "web", .qmp = "/run/d.qmp" };
    struct cgp_guest pd = { .pid = 72, .pidfd = -1, CGP_TEST_TRUSTED, .name = "db", .qmp = "/run/d.qmp" };
    struct cgp_guest pc = { .pid = 73, .pidfd = -1, CGP_TEST_TRUSTED };
    struct cgp_guest pb2 = { .pid = 74, .pidfd = -1, CGP_TEST_TRUSTED, .name = "web" };
    const struct cgp_guest *procs[] = { &pa, &pb, &pd, &pc, &pb2 };
    cgp_placement *pl = NULL;
    int r = cgp_policy_compile_running(p, t, ctx, procs, 5, d, &pl);
    cr_assert_eq(r, 0, "compile: %d", r);
    cr_expect_eq(cgp_placement_find(pl, "a")->proc, &pa);
    cr_expect_eq(cgp_placement_find(pl, "b")->proc, &pb, "the first of two 'web' processes");
    cr_expect_eq(cgp_placement_find(pl, "c")->proc, &pc, "pidfile read under the sysroot");
    cr_expect_eq(cgp_placement_find(pl, "d")->proc, &pd, "pb matches d too, but b first");
    const struct cgp_proc_match *m = cgp_placement_proc(pl, 1);
    cr_assert_eq(m->n_guests, 2u, "pb matches b and d");
    cr_expect_eq(m->guests[0], 1u);
    cr_expect_eq(m->guests[1], 3u);
    cr_expect_eq(cgp_placement_proc(pl, 4)->n_guests, 1u);
    for (size_t i = 0; i < 4; i++)
        cr_expect(cgp_placement_guest(pl, i)->running);
    cgp_placement_free(pl);
    cgp_ctx_free(ctx);
    cgp_topology_free(t);
    cgp_policy_free(p);
    cgp_diags_free(d);
    unlink(path);
    rmdir(dir);
}

/* bench/solver instance 118 (seed 4). Nodes (CPUs / memory): 0: 2 / 7680M
 * (CPUs 0-1), 1: 6 / 6G (2-7), 2: 5 / - (8-12), 3: 1 / - (13), 4: 5 / -
 * (14-18), 5: - / 14G. Reserve 256M, overcommit 1.
 * g1 (more memory) first: only node 1 holds 6 vCPUs and 4864M alone (5888M
 * after the reserve): CPUs 2-7, memory 1; node 1 is then full.
 * g0 (6 vCPUs, 2560M): no single node has 6 free vCPUs. Pairs of nodes with
 * free capacity, vCPUs spread by CPU count: {0,3} gives node 0 4 > 2 (no);
 * {2,4} fits (3+3) with memory on node 5 (nearest to 4 with room; node 1 has
 * 1024M left): distance 35 + 14 + 24 (between 2 and 4) = 73; {0,4} fits
 * (1.71 on 0, 4.29 on 4) with memory on node 0 itself (7424M free): 10 +
 * 16 + 16 = 42, so it wins (the other pairs that fit are farther: {3,4}
 * with memory on 0 is 15 + 16 + 25 = 56, {0,2} is 10 + 34 + 34 = 78).
 * The old solver paired node 4 with its nearest CPU node, the full node 1,
 * and reported no placement for g0. */
Test(solver, full_node_does_not_poison_sets)
{
    static const struct hnode nd[] = { { 2, 7680 }, { 6, 6144 }, { 5, 0 }, { 1, 0 }, { 5, 0 }, { 0, 14336 } };
    static const int dist[] = {
        10, 16, 34, 15, 16, 29,
        16, 10, 15, 21, 11, 18,
        34, 15, 10, 27, 24, 35,
        15, 21, 27, 10, 25, 20,
        16, 11, 24, 25, 10, 14,
        29, 18, 35, 20, 14, 10,
    };
    char *root = mkhost(nd, 6, dist);
    cgp_diags *d;
    cgp_placement *pl = NULL;
    int r = compile_on(root, "host { reserve memory 256M; overcommit 1; }\n"
                             "guest g0 { vcpus 6; cpus auto; memory 2560M nodes auto; }\n"
                             "guest g1 { vcpus 6; cpus auto; memory 4864M nodes auto; }\n", &d, &pl);
    cr_assert_eq(r, 0, "%s", cgp_diags_count(d) ? cgp_diags_get(d, 0)->msg : "");
    expect_guest(pl, "g1", "2-7", "1");
    expect_guest(pl, "g0", "0-1,14-18", "0");
    cgp_placement_free(pl);
    cgp_diags_free(d);
    rmhost(root);
}

/* bench/solver instance 283: node 0: 8 CPUs, 12G; node 1: 1 CPU, 13G;
 * reserve 256M (12032M and 13056M left), overcommit 1.
 * One at a time, g0 (12032M) takes node 0 alone (4 of 8 vCPUs), and g1 (5
 * vCPUs) then fits nowhere: node 0 has 4 left, {0,1} would put 5*8/9 = 4.44
 * on node 0. The fallback search finds the only CPU placement: both on
 * {0,1} (g0: 3.556 + 0.444, g1: 4.444 + 0.556; 7.999 <= 8 and 0.999 <= 1).
 * Memory, one node each, by distance from {0,1} (25 for either node), then
 * least left over: g0 on node 0 (0 left), g1 (5888M) on node 1. */
Test(solver, fallback_search_when_one_at_a_time_fails)
{
    static const struct hnode nd[] = { { 8, 12288 }, { 1, 13312 } };
    static const int dist[] = { 10, 15, 15, 10 };
    char *root = mkhost(nd, 2, dist);
    cgp_diags *d;
    cgp_placement *pl = NULL;
    int r = compile_on(root, "host { reserve memory 256M; overcommit 1; }\n"
                             "guest g0 { vcpus 4; cpus auto; memory 12032M nodes auto; }\n"
                             "guest g1 { vcpus 5; cpus auto; memory 5888M nodes auto; }\n", &d, &pl);
    cr_assert_eq(r, 0, "%s", cgp_diags_count(d) ? cgp_diags_get(d, 0)->msg : "");
    expect_guest(pl, "g0", "0-8", "0");
    expect_guest(pl, "g1", "0-8", "1");
    cgp_placement_free(pl);
    cgp_diags_free(d);

    /* 10 vCPUs on 9 CPUs: no placement; the error names the guest the
     * one-at-a-time pass could not place */
    r = compile_on(root, "host { reserve memory 256M; overcommit 1; }\n"
                         "guest g0 { vcpus 4; cpus auto; memory 12032M nodes auto; }\n"
                         "guest g1 { vcpus 6; cpus auto; memory 5888M nodes auto; }\n", &d, &pl);
    cr_expect_eq(r, -EINVAL);
    cr_expect(has_error(d, "no placement exists for guest 'g1'"));
    cr_expect(!has_error(d, "guest 'g0'"));
    cgp_diags_free(d);
    rmhost(root);
}

