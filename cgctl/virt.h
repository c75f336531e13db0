/* The libvirt client (cgctl/virt.c): what the libvirt backend needs of
 * libvirt's API, and nothing else. Not installed.
 *
 * libvirt.so.0 is dlopen()ed on first use, never linked: a host without
 * libvirt needs nothing, and a host with it pays for it only when a guest is
 * libvirt's. The types and constants used are declared in virt.c (no
 * libvirt-dev at build time). The connection is always to qemu:///system.
 *
 * Error style: 0 or a negative errno; the detail goes to the context given
 * to cgctl_virt_open (libvirt's own message, escaped and bounded: it comes
 * from another process). libvirt's default error printer is silenced.
 *   -ELIBACC       libvirt.so.0 missing or lacking a function
 *   -ECONNREFUSED  no libvirt daemon answers
 *   -ENOENT        no such domain
 *   -EOPNOTSUPP, -EINVAL, -EACCES, -EIO   what libvirt refused, and why
 *   -ERANGE        a CPU beyond the host's CPUs as libvirt counts them
 *
 * Test hook: tests linking the static archive may set cgctl_virt_hooks
 * before the first use (the symbol is hidden in the shared library, like
 * cgctl_hooks): another library file, another URI. The shipped product has
 * no other way to change either. */
#ifndef CGCTL_VIRT_H
#define CGCTL_VIRT_H

#include "internal.h"
#include "cgplace_policy.h"

#define CGCTL_VIRT_LIB "libvirt.so.0"
#define CGCTL_VIRT_URI "qemu:///system"

struct cgctl_virt_hooks {
    const char *lib;     /* NULL: CGCTL_VIRT_LIB */
    const char *uri;     /* NULL: CGCTL_VIRT_URI */
};
extern struct cgctl_virt_hooks cgctl_virt_hooks;

/* Flags of the setters: VIR_DOMAIN_AFFECT_LIVE / _CONFIG. */
enum { CGCTL_VIRT_LIVE = 1u << 0, CGCTL_VIRT_CONFIG = 1u << 1 };

struct cgctl_virt;    /* one connection */
struct cgctl_vdom;    /* one domain of it */

/* What libvirt says a domain's placement is (live, or its persistent definition). */
struct cgctl_vpins {
    unsigned n_vcpus;            /* the domain's maximum vCPUs */
    cgp_bitmap **vcpu;           /* [n_vcpus] */
    cgp_bitmap *emulator;        /* NULL: libvirt reports no emulator pin */
    size_t n_iothreads;
    unsigned *iothread_id;       /* [n_iothreads] */
    cgp_bitmap **iothread;       /* [n_iothreads] */
    cgp_bitmap *nodeset;         /* NULL: no numatune nodeset */
    int mode;                    /* enum cgp_mem_mode, -1 when not reported */
};

/* Load libvirt (once per process) and connect. 0 and *out, or -errno with
 * ctx's error set. ctx must outlive the connection. */
int cgctl_virt_open(cgp_ctx *ctx, struct cgctl_virt **out);
void cgctl_virt_close(struct cgctl_virt *v);
/* The host's CPU count as libvirt sees it (cpumaps cover that many). */
unsigned cgctl_virt_ncpus(const struct cgctl_virt *v);

/* Find a domain by UUID (preferred: QEMU's -uuid) else by name; either may
 * be NULL, not both. A UUID that libvirt does not know is not retried by
 * name (another domain may have that name). 0 and *out, -ENOENT, -errno. */
int cgctl_virt_lookup(struct cgctl_virt *v, const char *uuid, const char *name, struct cgctl_vdom **out);
void cgctl_vdom_free(struct cgctl_vdom *d);
/* The domain's name and UUID as libvirt reports them, escaped. */
const char *cgctl_vdom_name(const struct cgctl_vdom *d);
const char *cgctl_vdom_uuid(const struct cgctl_vdom *d);

/* Read the pins: flags CGCTL_VIRT_LIVE (or 0), or CGCTL_VIRT_CONFIG for the
 * persistent definition. 0 and *out filled (release with cgctl_vpins_clear),
 * or -errno. */
int cgctl_virt_read(struct cgctl_vdom *d, unsigned flags, struct cgctl_vpins *out);
void cgctl_vpins_clear(struct cgctl_vpins *p);

/* The setters (flags CGCTL_VIRT_*; 0 means LIVE). 0 or -errno. */
int cgctl_virt_pin_vcpu(struct cgctl_vdom *d, unsigned vcpu, const cgp_bitmap *cpus, unsigned flags);
int cgctl_virt_pin_emulator(struct cgctl_vdom *d, const cgp_bitmap *cpus, unsigned flags);
int cgctl_virt_pin_iothread(struct cgctl_vdom *d, unsigned id, const cgp_bitmap *cpus, unsigned flags);
/* nodes NULL: leave the nodeset; mode < 0: leave the mode. */
int cgctl_virt_set_numa(struct cgctl_vdom *d, const cgp_bitmap *nodes, int mode, unsigned flags);

/* libvirt's numatune mode number for a cgplace mode, and back (-1: none). */
int cgctl_virt_mode_to_libvirt(enum cgp_mem_mode m);
int cgctl_virt_mode_from_libvirt(int v);

/* Copy at most max bytes of s as printable ASCII (others and '\\' as \xNN),
 * "..." when cut. malloc'd; NULL on ENOMEM. */
char *cgctl_virt_escape(const char *s, size_t max);

#endif
