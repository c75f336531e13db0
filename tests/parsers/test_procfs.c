/* The /proc readers (parsers/procfs.c) on trees each test writes. */
#include "unit_helpers.h"

#include "topology.h" /* cgp_proc_meminfo */

#include <stdint.h>

TestSuite(procfs, .init = tree_new, .fini = tree_free);

Test(procfs, proc_meminfo)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(tree_root, NULL, &ctx), 0);
    uint64_t tot = 1, fr = 1;
    cr_expect_eq(cgp_proc_meminfo(ctx, &tot, &fr), -ENOENT);
    tree_write("MemTotal:       32768000 kB\nMemFree:         1000 kB\nMemAvailable:   2000 kB\n"
               "Buffers:             0 kB\n",
               "proc/meminfo");
    cr_expect_eq(cgp_proc_meminfo(ctx, &tot, &fr), 0);
    cr_expect_eq(tot, 32768000u);
    cr_expect_eq(fr, 1000u);
    tree_write("Buffers: 0 kB\n", "proc/meminfo");
    tot = fr = 5;
    cr_expect_eq(cgp_proc_meminfo(ctx, &tot, &fr), -EIO, "no MemTotal");
    cr_expect_eq(tot, 5u);
    cgp_ctx_free(ctx);
}
