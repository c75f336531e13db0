/* Internal: what the emit formats share (policy/emit.c, emit-libvirt.c). */
#ifndef CGP_EMIT_INT_H
#define CGP_EMIT_INT_H

#include "cgplace_policy.h"

#include <stdio.h>

/* kib with the largest unit that divides it: 3G, 1536M, 100K. */
void emit_size(FILE *f, uint64_t kib);
/* The libvirt elements of g (cgp_emit with CGP_EMIT_LIBVIRT). */
int emit_libvirt(const struct cgp_guest_placement *g, char **out);

#endif
