/* Internals of the policy compiler shared by compile.c (defaults, `auto`,
 * building the placement) and compile-checks.c (validation). Not installed. */
#ifndef CGP_COMPILE_INT_H
#define CGP_COMPILE_INT_H

#include "policy-int.h"

#include <stdio.h>

struct cc {
    const cgp_policy *p;
    const cgp_topology *t;
    cgp_diags *d;
    cgp_placement *pl;
    struct hostview hv;
    int err;
    /* per guest, by policy index */
    cgp_bitmap **cpus;       /* resolved CPUs (NULL: auto or invalid) */
    cgp_bitmap **mems;       /* resolved guest nodes (NULL: auto/local pending or invalid) */
    bool *bad;               /* guest has errors: skip the later stages */
    bool *running;           /* a process runs as the guest */
    struct why *why;         /* auto guests: why (traces malloc'd) */
};

static inline void oom(struct cc *c, int r)
{
    if (r < 0 && !c->err)
        c->err = r;
}

#define ERR(c, loc, ...) oom((c), pol_error((c)->d, (loc), __VA_ARGS__))
#define WARN(c, loc, ...) oom((c), pol_warn((c)->d, (loc), __VA_ARGS__))

static inline char *fmt(const cgp_bitmap *b)
{
    return cgp_bitmap_format(b);
}

static inline bool plural(const cgp_bitmap *b)
{
    return cgp_bitmap_count(b) != 1;
}

/* "FILE:LINE:COL" of l (malloc'd, NULL on ENOMEM). */
char *cc_loc_str(const struct pol_loc *l);
/* "1 GiB"/"512 MiB"/"100 KiB" for messages. */
void cc_size_str(uint64_t kib, char *buf, size_t n);
/* Effective memory of a guest: the memory statement, else the cells' sum. */
uint64_t cc_guest_mem(const struct pol_guest *g);
/* cpus auto or nodes auto. */
bool cc_is_auto(const struct pol_guest *g);
/* Validation (compile-checks.c): errors go to c's diags, bad[gi] is set. */
bool cc_check_mem_nodes(struct cc *c, const cgp_bitmap *nodes, const struct pol_loc *loc);
void cc_resolve_cpus(struct cc *c, size_t gi);
void cc_check_guest_static(struct cc *c, size_t gi);
void cc_check_pins(struct cc *c, size_t gi);
void cc_check_duplicates(struct cc *c);
void cc_check_overlaps(struct cc *c);
/* Fixed guests whose vCPUs can only run on more CPUs than they have at
 * `overcommit` (compile-checks.c): warnings, errors under `oversubscribe deny`. */
void cc_check_commitments(struct cc *c);

/* The CPUs vCPU v of guest gi may run on: its pin, else the guest's cpus. */
const cgp_bitmap *cc_vcpu_cpus(const struct cc *c, size_t gi, unsigned v);
/* Memory a guest's memory is accounted on: (nodes, kib) pairs via cb: per
 * cell, else the guest's nodes mems. */
void cc_guest_mem_parts(const struct pol_guest *g, const cgp_bitmap *mems,
                        void (*cb)(void *, const cgp_bitmap *, uint64_t, const struct pol_loc *),
                        void *arg);
/* cc_guest_mem_parts callback: commit to the host view arg. */
void cc_commit_mem_cb(void *arg, const cgp_bitmap *nodes, uint64_t kib, const struct pol_loc *loc);
/* `auto` (place-auto.c): c->cpus/c->mems of every auto guest, c->why;
 * a guest without a placement gets an error. 0 or -ENOMEM. */
int cc_place_auto(struct cc *c);

#endif
