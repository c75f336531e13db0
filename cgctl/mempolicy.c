/* `exec`: the memory policy of a guest's mode, set on the calling thread
 * before execve, so QEMU's first page already follows it (a cgroup can only
 * restrict the nodes; preferring and interleaving need the task's policy).
 * set_mempolicy(2) through libnuma's numaif.h wrapper: libnuma's higher
 * calls print on failure, and the library never prints. */
#include "cgctl-int.h"

#include <errno.h>
#include <numaif.h>
#include <stdlib.h>

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif

CGP_EXPORT int cgp_mempolicy_set(const struct cgp_guest_placement *gp, const char **note)
{
    if (!gp || !gp->mems || cgp_bitmap_is_empty(gp->mems))
        return -EINVAL;
    if (note)
        *note = NULL;
    if (gp->mode == CGP_MODE_RESTRICTIVE)
        return 0;           /* the per-vCPU cgroups say it */
    int last = cgp_bitmap_last(gp->mems);
    unsigned long maxnode = (unsigned long)last + 2;   /* the kernel reads maxnode - 1 bits */
    size_t bits = 8 * sizeof(unsigned long);
    unsigned long *mask CGP_AUTOFREE = calloc((maxnode + bits - 1) / bits, sizeof *mask);
    if (!mask)
        return -ENOMEM;
    cgp_bitmap_foreach(gp->mems, n)
        mask[(unsigned)n / bits] |= 1UL << ((unsigned)n % bits);
    int mode = gp->mode == CGP_MODE_STRICT ? MPOL_BIND
             : gp->mode == CGP_MODE_INTERLEAVE ? MPOL_INTERLEAVE : MPOL_PREFERRED_MANY;
    if (gp->mode == CGP_MODE_PREFERRED && cgp_bitmap_count(gp->mems) == 1)
        mode = MPOL_PREFERRED;
    if (set_mempolicy(mode, mask, maxnode) == 0)
        return 0;
    int e = errno;
    if (mode == MPOL_PREFERRED_MANY && e == EINVAL) {
        /* before Linux 5.15: one preferred node, the first */
        int first = cgp_bitmap_next(gp->mems, 0);
        for (size_t i = 0; i < (maxnode + bits - 1) / bits; i++)
            mask[i] = 0;
        mask[(unsigned)first / bits] |= 1UL << ((unsigned)first % bits);
        if (set_mempolicy(MPOL_PREFERRED, mask, maxnode) == 0) {
            if (note)
                *note = "this kernel has no MPOL_PREFERRED_MANY: memory prefers the first node only";
            return 0;
        }
        e = errno;
    }
    /* a kernel without NUMA has node 0 alone and no policy to set */
    if (e == ENOSYS && last == 0)
        return 0;
    return -e;
}
