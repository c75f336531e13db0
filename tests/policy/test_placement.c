/* Unit tests of placement quality (issue 14): locality first, commitments
 * per CPU, cells local, suggest with memory nodes. Each expected answer is
 * worked out in the comment from the fixture in tests/fixtures/mkfixtures.py:
 *   cpuless-mem: node 0 CPUs 0-3, node 1 CPUs 4-7, node 2 memory only (16
 *     GiB, HMAT initiator node 0); SLIT 0-1 21, 0-2 17, 1-2 28. MemFree:
 *     node 0 12000000 KiB, node 1 15000000 KiB, node 2 16 GiB - 20 MiB.
 *   asym: node 0 CPUs 0-3 / 4 GiB, node 1 CPUs 4-5 / 1 GiB, node 2 CPUs 6-7
 *     no memory, node 3 memory only 8 GiB (HMAT initiator node 0); SLIT
 *     0->3 17, 1->3 28, 2->3 28, 1-2 12, 0->1 21, 0->2 21.
 *   two-socket-smt: node 0 CPUs 0-3,8-11, node 1 CPUs 4-7,12-15 (thread
 *     siblings N and N+8), ~31 GiB each, SLIT 21.
 *   sparse-ids: nodes 0,1,4,5, one package each, 2 CPUs each (0-1, 2-3,
 *     4-5, 6-7); SLIT 0-1 16, 4-5 16, across 22; MemTotal 4030000,
 *     4194304, 4194304, 2097152 KiB.
 *   one-node: CPUs 0-3, no SMT. */
#include "policy-test.h"

static void expect_vcpu(const cgp_placement *pl, const char *name, unsigned v, const char *cpus, const char *mems)
{
    const struct cgp_guest_placement *g = cgp_placement_find(pl, name);
    cr_assert(g && v < g->n_vcpus, "guest %s vCPU %u missing", name, v);
    char *c = cgp_bitmap_format(g->vcpu[v].cpus), *m = cgp_bitmap_format(g->vcpu[v].mems);
    cr_expect_str_eq(c, cpus, "guest %s vCPU %u cpus", name, v);
    cr_expect_str_eq(m, mems, "guest %s vCPU %u mems", name, v);
    free(c);
    free(m);
}

/* cgp_suggest_nodes on fixture fx after policy src (NULL: none). */
static int suggest_on(const char *fx, const char *src, unsigned vcpus, uint64_t kib, const char *nodes,
                      char **cpus, char **mems)
{
    cgp_topology *t = topo(fx);
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cgp_placement *pl = NULL;
    if (src) {
        cr_assert_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), 0);
        cr_assert_eq(cgp_policy_compile(p, t, d, &pl), 0);
    }
    cgp_bitmap *nb = NULL;
    if (nodes)
        cr_assert_eq(cgp_bitmap_parse(nodes, 4096, &nb, NULL), 0);
    struct cgp_suggestion s = { 0 };
    int r = cgp_suggest_nodes(pl, t, vcpus, kib, nb, &s);
    if (r == 0) {
        *cpus = cgp_bitmap_format(s.cpus);
        *mems = cgp_bitmap_format(s.mems);
    }
    cgp_suggestion_clear(&s);
    cgp_bitmap_free(nb);
    cgp_placement_free(pl);
    cgp_policy_free(p);
    cgp_diags_free(d);
    cgp_topology_free(t);
    return r;
}

#define GIB (1024u * 1024u)

/* ---------------------------------------------------------------- 1 */

/* cpuless-mem, CPU 4 reserved: 15 GiB fits only node 2 (nodes 0 and 1 have
 * less free), so memory is node 2; its nearest CPUs are node 0's (17, and
 * HMAT initiator) rather than node 1's 5-7 (28), though node 1 would pack
 * tighter. */
Test(locality, suggest_cpus_follow_memory_only_node)
{
    char *c = NULL, *m = NULL;
    cr_assert_eq(suggest_on("cpuless-mem", "host { reserve cpus 4; }\n", 2, 15ull * GIB, NULL, &c, &m), 0);
    cr_expect_str_eq(c, "0-3");
    cr_expect_str_eq(m, "2");
    free(c);
    free(m);
}

/* asym: 6 GiB fits node 3 only (node 0 has 2917 MiB free); CPUs nearest to
 * node 3 are node 0's (17) against nodes 1 and 2 (28). */
Test(locality, suggest_asym_6g)
{
    char *c = NULL, *m = NULL;
    cr_assert_eq(suggest_on("asym", NULL, 2, 6ull * GIB, NULL, &c, &m), 0);
    cr_expect_str_eq(c, "0-3");
    cr_expect_str_eq(m, "3");
    free(c);
    free(m);
}

/* memory bound to node 3 explicitly: cpus auto starts from its initiator
 * (node 0, 17), whatever the size; a small guest too, though node 1 (2
 * CPUs) would pack tighter. */
Test(locality, bound_memory_pulls_cpus)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("asym", "guest g { vcpus 2; cpus auto; memory 6G nodes 3; }\n"
                                 "guest h { vcpus 1; cpus auto; memory 256M nodes 3; }\n", &d, &pl), 0);
    expect_guest(pl, "g", "0-3", "3");
    expect_guest(pl, "h", "0-3", "3");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* suggest --memory-nodes 1 on cpuless-mem: node 1's own CPUs 4-7 (10);
 * --memory-nodes 2: node 0 (17 < 28); a node without memory is refused. */
Test(locality, suggest_memory_nodes)
{
    char *c = NULL, *m = NULL;
    cr_assert_eq(suggest_on("cpuless-mem", NULL, 2, GIB, "1", &c, &m), 0);
    cr_expect_str_eq(c, "4-7");
    cr_expect_str_eq(m, "1");
    free(c);
    free(m);
    cr_assert_eq(suggest_on("cpuless-mem", NULL, 2, GIB, "2", &c, &m), 0);
    cr_expect_str_eq(c, "0-3");
    cr_expect_str_eq(m, "2");
    free(c);
    free(m);
    cr_expect_eq(suggest_on("asym", NULL, 2, GIB, "2", &c, &m), -EINVAL, "node 2 has no memory");
    cr_expect_eq(suggest_on("asym", NULL, 2, 2ull * GIB, "1", &c, &m), -ENOSPC, "1 GiB node");
}

/* sparse-ids, 4 vCPUs: no node has more than 2 CPUs, so two nodes. Pairs in
 * one SLIT group: {0,1}: memory on 0 or 1 (10+16) plus 16 between them =
 * 42; {4,5} likewise 42; across groups ({0,4}: 10+22+22) 54. Between the
 * 42s: vCPUs left 0 for both; memory left (MemTotal - 1 GiB): node 0
 * 2981424 KiB, node 1 3145728, node 4 3145728, node 5 1048576: node 5. */
Test(locality, multi_node_guest_on_near_nodes)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("sparse-ids", "guest g { vcpus 4; cpus auto; memory 1G nodes auto; }\n", &d, &pl), 0);
    expect_guest(pl, "g", "4-7", "5");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* ---------------------------------------------------------------- 2 */

/* examples/two-socket.conf: rhel5xen pins 4-7 one to one; batch1 (4 vCPUs)
 * avoids them and their siblings 12-15: node 1 has no CPU left in tier 0,
 * node 0 (1-3,9-11 after reserving 0,8) takes it with its own memory. */
Test(commitments, auto_avoids_pinned_cpus)
{
    cgp_topology *t = topo("two-socket-smt");
    cgp_topology_free(t);
    FILE *f = fopen("../../examples/two-socket.conf", "r");
    if (!f)
        f = fopen("examples/two-socket.conf", "r");
    cr_assert(f, "examples/two-socket.conf not found (run from the repository)");
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("two-socket-smt", buf, &d, &pl), 0);
    expect_guest(pl, "batch1", "1-3,9-11", "0");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* Memory bound to node 1, whose CPUs 4-5 another guest pins: distance keeps
 * the guest on node 1, tier 0 takes 4-5 and their siblings 12-13 away:
 * 6-7,14-15. */
Test(commitments, pinned_cpus_and_siblings_avoided_on_near_node)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("two-socket-smt",
                         "guest p { vcpus 2; cpus 4-5; vcpupin 0 4; vcpupin 1 5; memory 1G nodes 1; }\n"
                         "guest a { vcpus 2; cpus auto; memory 1G nodes 1; }\n", &d, &pl), 0);
    expect_guest(pl, "a", "6-7,14-15", "1");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* one-node, p pins vCPUs to CPUs 0 and 1 one to one, overcommit 2.
 * a (3 vCPUs): CPUs 2-3 have room for 4: a gets 2-3, not the pinned ones.
 * b (5 vCPUs) alone: 2-3 hold 4 < 5; every CPU: 8 - 2 = 6 >= 5: b has to
 * share the pinned CPUs and gets 0-3. */
Test(commitments, pinned_cpus_only_when_nothing_else_fits)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    const char *pin = "host { overcommit 2; }\n"
                      "guest p { vcpus 2; cpus 0-1; vcpupin 0 0; vcpupin 1 1; memory 256M; }\n";
    char src[512];
    snprintf(src, sizeof src, "%sguest a { vcpus 3; cpus auto; memory 256M; }\n", pin);
    cr_assert_eq(compile("one-node", src, &d, &pl), 0);
    expect_guest(pl, "a", "2-3", "0");
    cgp_placement_free(pl);
    cgp_diags_free(d);
    snprintf(src, sizeof src, "%sguest b { vcpus 5; cpus auto; memory 256M; }\n", pin);
    cr_assert_eq(compile("one-node", src, &d, &pl), 0);
    expect_guest(pl, "b", "0-3", "0");
    char *why = NULL;
    cr_assert_eq(cgp_placement_reason(pl, 1, &why), 0);
    cr_expect(strstr(why, "pin"), "the reason says it shares pinned CPUs: %s", why);
    free(why);
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* Two guests pinning CPU 4 one to one (2 vCPUs on 1 CPU, overcommit 1): a
 * warning naming both; 16 vCPUs on cpus 4-5 (2 CPUs): a warning; with
 * `oversubscribe deny` both are errors. Within capacity: nothing. */
Test(commitments, oversubscription_warns_or_denies)
{
    const char *two = "guest a { vcpus 1; cpus 4; vcpupin 0 4; memory 256M; }\n"
                      "guest b { vcpus 1; cpus 4; vcpupin 0 4; memory 256M; }\n";
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("two-socket-smt", two, &d, &pl), 0);
    cr_expect(has_warning(d, "CPU 4 can take 1.000 vCPUs at overcommit 1.000, but 2 vCPUs of 'a', 'b'"));
    cgp_placement_free(pl);
    cgp_diags_free(d);

    cr_assert_eq(compile("two-socket-smt", "guest w { vcpus 16; cpus 4-5; memory 1G; }\n", &d, &pl), 0);
    cr_expect(has_warning(d, "CPUs 4-5 can take 2.000 vCPUs"));
    cr_expect(has_warning(d, "16 vCPUs of 'w'"));
    cgp_placement_free(pl);
    cgp_diags_free(d);

    char src[512];
    snprintf(src, sizeof src, "host { oversubscribe deny; }\n%s", two);
    cr_expect_eq(compile("two-socket-smt", src, &d, &pl), -EINVAL);
    cr_expect(has_error(d, "CPU 4 can take"));
    cgp_diags_free(d);

    cr_assert_eq(compile("two-socket-smt", "host { oversubscribe deny; overcommit 2; }\n"
                         "guest a { vcpus 1; cpus 4; vcpupin 0 4; memory 256M; }\n"
                         "guest b { vcpus 1; cpus 4; vcpupin 0 4; memory 256M; }\n", &d, &pl), 0);
    cr_expect_eq(cgp_diags_count(d), 0u, "2 vCPUs on one CPU at overcommit 2 fit");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* ---------------------------------------------------------------- 3 */

/* two-socket-smt, cells on nodes 0 and 1, restrictive: vCPUs 0-3 get node
 * 0's CPUs (0-3,8-11) and node 0, vCPUs 4-7 node 1's and node 1; vcpupin 1
 * 5 wins over the cell (CPU 5, node 0's memory still). */
Test(cells, vcpus_run_near_their_cell)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("two-socket-smt",
                         "guest c { vcpus 8; memory 4G nodes 0-1 mode restrictive; vcpupin 1 5;\n"
                         "  cell 0 { vcpus 0-3; memory 2G nodes 0; }\n"
                         "  cell 1 { vcpus 4-7; memory 2G nodes 1; } }\n", &d, &pl), 0);
    expect_vcpu(pl, "c", 0, "0-3,8-11", "0");
    expect_vcpu(pl, "c", 1, "5", "0");
    expect_vcpu(pl, "c", 3, "0-3,8-11", "0");
    expect_vcpu(pl, "c", 4, "4-7,12-15", "1");
    expect_vcpu(pl, "c", 7, "4-7,12-15", "1");
    expect_guest(pl, "c", "0-15", "0-1");
    cr_expect_eq(cgp_diags_count(d), 0u);
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* cpuless-mem: a cell on memory-only node 2 runs on the CPUs nearest to it
 * (node 0, 17 against 28), within the guest's cpus; a cell on node 1 gets
 * 4-7. Mode strict: every thread keeps both nodes, and check says so. */
Test(cells, memory_only_cell_and_strict_warning)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("cpuless-mem",
                         "guest c { vcpus 4; memory 2G nodes 1,2;\n"
                         "  cell 0 { vcpus 0-1; memory 1G nodes 2; }\n"
                         "  cell 1 { vcpus 2-3; memory 1G nodes 1; } }\n", &d, &pl), 0);
    expect_vcpu(pl, "c", 0, "0-3", "1-2");
    expect_vcpu(pl, "c", 2, "4-7", "1-2");
    cr_expect(has_warning(d, "under mode strict every thread may allocate on all of its cells' nodes"));
    cgp_placement_free(pl);
    cgp_diags_free(d);

    /* the guest's cpus are node 1's only: the cell on node 2 stays within
     * them (the nearest CPUs the guest has) */
    cr_assert_eq(compile("cpuless-mem",
                         "guest c { vcpus 2; cpus 4-7; memory 2G nodes 1,2 mode restrictive;\n"
                         "  cell 0 { vcpus 0; memory 1G nodes 2; }\n"
                         "  cell 1 { vcpus 1; memory 1G nodes 1; } }\n", &d, &pl), 0);
    expect_vcpu(pl, "c", 0, "4-7", "2");
    expect_vcpu(pl, "c", 1, "4-7", "1");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* cpus auto with cells and no guest nodes: the cells' nodes are the memory
 * (0 and 2 on cpuless-mem); CPUs nearest to both: node 0 (10 + 17) against
 * node 1 (21 + 28). */
Test(cells, auto_cpus_follow_cell_memory)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("cpuless-mem",
                         "guest c { vcpus 2; cpus auto; memory 2G mode restrictive;\n"
                         "  cell 0 { vcpus 0; memory 1G nodes 0; }\n"
                         "  cell 1 { vcpus 1; memory 1G nodes 2; } }\n", &d, &pl), 0);
    expect_guest(pl, "c", "0-3", "0,2");
    expect_vcpu(pl, "c", 0, "0-3", "0");
    expect_vcpu(pl, "c", 1, "0-3", "2");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* ---------------------------------------------------------------- 4 */

/* plan -v's reason: the chosen candidate first, with its distance. asym, 6
 * GiB: node 0 + memory 3 at 17, then node 1 + memory 3 at 28. */
Test(reasons, reason_lists_candidates)
{
    cgp_diags *d;
    cgp_placement *pl = NULL;
    cr_assert_eq(compile("asym", "guest g { vcpus 2; cpus auto; memory 6G; }\n"
                                 "guest f { vcpus 1; cpus 0; memory 256M; }\n", &d, &pl), 0);
    char *why = NULL;
    cr_assert_eq(cgp_placement_reason(pl, 0, &why), 0);
    cr_expect(strstr(why, "node 0 + memory 3 (distance 17") == why, "%s", why);
    cr_expect(strstr(why, "next: node 1 + memory 3 (distance 28"), "%s", why);
    free(why);
    cr_expect_eq(cgp_placement_reason(pl, 1, &why), -ENOENT, "no reason for a fixed guest");
    cgp_placement_free(pl);
    cgp_diags_free(d);
}

/* bench/solver instance 152 (seed 4): node 0: CPUs 0-6, 15.5 GiB; node 1:
 * memory only, 6 GiB; node 2: CPUs 7-11, no memory; node 3: CPUs 12-15, 10
 * GiB; SLIT rows 0: 10 26 31 35, 1: 26 10 18 15, 2: 31 18 10 36, 3: 35 15
 * 36 10; overcommit 1. g0: 3 vCPUs 11.25 GiB, g1: 6 vCPUs 7 GiB, g2: 4
 * vCPUs 7.5 GiB.
 * One at a time (memory first): g0 on node 0 (10), g2 on node 3 (10); g1
 * (6 vCPUs) then fits no single node: {0,2} with memory on 0 and 1 (10 +
 * 26 + 31 + 18, plus 31 between them): 136 in all.
 * The least total: g1 on node 0 with its memory (10; only node 0 has 6
 * CPUs); g0's 11.25 GiB then fits no single node (8.5 GiB left on 0, 10 on
 * 3), spread over 1 and 3 (5.625 GiB each) with CPUs on node 3 (15 + 10 =
 * 25; node 2 would be 18 + 36); g2 (4 vCPUs) on node 2, the only one with
 * 4 CPUs left, memory on node 0 (31; node 3 has 4.375 GiB left): 66. */
Test(locality, least_total_distance_over_all_guests)
{
    static const struct hnode nd[] = { { 7, 15872 }, { 0, 6144 }, { 5, 0 }, { 4, 10240 } };
    static const int dist[] = { 10, 26, 31, 35, 26, 10, 18, 15, 31, 18, 10, 36, 35, 15, 36, 10 };
    char *root = mkhost(nd, 4, dist);
    cgp_diags *d;
    cgp_placement *pl = NULL;
    int r = compile_on(root, "guest g0 { vcpus 3; cpus auto; memory 11520M nodes auto; }\n"
                             "guest g1 { vcpus 6; cpus auto; memory 7168M nodes auto; }\n"
                             "guest g2 { vcpus 4; cpus auto; memory 7680M nodes auto; }\n", &d, &pl);
    cr_assert_eq(r, 0, "%s", cgp_diags_count(d) ? cgp_diags_get(d, 0)->msg : "");
    expect_guest(pl, "g1", "0-6", "0");
    expect_guest(pl, "g0", "12-15", "1,3");
    expect_guest(pl, "g2", "7-11", "0");
    char *why = NULL;
    cr_assert_eq(cgp_placement_reason(pl, 0, &why), 0);
    cr_expect(strstr(why, "least total distance"), "%s", why);
    free(why);
    cgp_placement_free(pl);
    cgp_diags_free(d);
    rmhost(root);
}

/* bench/solver pinned instance 26 (seed 4): node 0 memory only (3.5 GiB),
 * node 1 CPUs 0-1 (7 GiB), node 2 memory only (14.5 GiB), node 3 CPUs 2-9
 * (10.5 GiB); `pin` pins its vCPU to CPU 0; overcommit 1. The auto guests
 * have 2+2+2+3 = 9 vCPUs and the unpinned CPUs are 9: 1 and 2-9. One at a
 * time, g2 (8 GiB) and g0 take node 3 alone, g3 then node 3 too (3 of the
 * 4 left), and g1 fits nowhere off CPU 0 ({1,3} puts 2 x 8/9 = 1.78 vCPUs
 * on node 3, which has 1 left). Off the pinned CPU every guest must span
 * {1,3}: node 1 takes 0.222 + 0.222 + 0.222 + 0.333 = 0.999 of CPU 1 and
 * node 3 7.997 of 8, so the search over all guests in the first tier finds
 * it, and every guest gets CPUs 1-9: none shares CPU 0. */
Test(commitments, all_guests_kept_off_pinned_cpus_when_they_fit_together)
{
    static const struct hnode nd[] = { { 0, 3584 }, { 2, 7168 }, { 0, 14848 }, { 8, 10752 } };
    static const int dist[] = { 10, 32, 19, 39, 32, 10, 21, 13, 19, 21, 10, 21, 39, 13, 21, 10 };
    char *root = mkhost(nd, 4, dist);
    cgp_diags *d;
    cgp_placement *pl = NULL;
    int r = compile_on(root, "host { reserve memory 256M; overcommit 1; }\n"
                             "guest pin { vcpus 1; cpus 0; memory 256M; vcpupin 0 0; }\n"
                             "guest g0 { vcpus 2; cpus auto; memory 7680M nodes auto; }\n"
                             "guest g1 { vcpus 2; cpus auto; memory 2816M nodes auto; }\n"
                             "guest g2 { vcpus 2; cpus auto; memory 8192M nodes auto; }\n"
                             "guest g3 { vcpus 3; cpus auto; memory 6656M nodes auto; }\n", &d, &pl);
    cr_assert_eq(r, 0, "%s", cgp_diags_count(d) ? cgp_diags_get(d, 0)->msg : "");
    static const char *const names[] = { "g0", "g1", "g2", "g3" };
    for (size_t i = 0; i < 4; i++) {
        char *c = cgp_bitmap_format(cgp_placement_find(pl, names[i])->cpus);
        cr_expect_str_eq(c, "1-9", "guest %s", names[i]);
        free(c);
    }
    cgp_placement_free(pl);
    cgp_diags_free(d);
    rmhost(root);
}
