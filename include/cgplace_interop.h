/* cgplace_interop.h — a compiled placement in other tools' formats (emit:
 * libvirt domain XML elements, QEMU options, Xen xl.cfg lines), and libvirt
 * domain XML turned into policy blocks (import).
 *
 * Conventions are those of cgplace.h: 0 or a negative errno, never prints,
 * out-parameters written only on success (but see struct cgp_xml_error),
 * strings returned through out-parameters are malloc'd and the caller frees
 * them with free().
 */
#ifndef CGPLACE_INTEROP_H
#define CGPLACE_INTEROP_H

#include "cgplace.h"
#include "cgplace_policy.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libxml2 is loaded on first use (dlopen). A caller that is about to
 * forbid opening files (a seccomp sandbox) loads it first: 0, or -ELIBACC
 * when libxml2.so.2 is missing. */
CGP_EXPORT int cgp_libxml_load(void);

enum cgp_emit_format {
    CGP_EMIT_LIBVIRT,   /* <memory>, <vcpu>, <cputune>, <numatune>, <cpu><numa> elements */
    CGP_EMIT_QEMU,      /* -m, -smp, -object memory-backend-ram, -numa node (or -machine memory-backend) */
    CGP_EMIT_XL,        /* memory, vcpus, cpus, cpus_soft, vnuma */
};

/* Guest `guest` of pl (as compiled: auto and defaults resolved) in format
 * f, one element or option or setting per line, ending with a newline; t
 * is the host pl was compiled for (xl's vdistances come from its SLIT).
 * Returns 0 and *out; -ENOENT no such guest; -ENODATA (qemu) the guest has
 * no memory statement, so there is no memory to bind; -ELIBACC (libvirt)
 * libxml2 is missing; -EINVAL bad arguments; -ENOMEM. */
CGP_EXPORT int cgp_emit(const cgp_placement *pl, const cgp_topology *t, const char *guest,
                        enum cgp_emit_format f, char **out);

/* import-libvirt reads at most this much of a domain XML file. */
#define CGP_LIBVIRT_MAX_XML (1u << 20)

/* Read a domain XML file: opened with O_NOFOLLOW|O_NONBLOCK, a regular
 * file, at most CGP_LIBVIRT_MAX_XML bytes read (a bigger file is refused
 * after reading that much, never parsed). 0 and *buf (malloc'd, NUL after
 * the *len bytes); -EFBIG larger; -ELOOP a symbolic link; -EISDIR;
 * -ENXIO not a regular file; -errno of open or read. */
CGP_EXPORT int cgp_libvirt_read_file(const char *path, char **buf, size_t *len);
/* The same from an open descriptor (a pipe: virsh dumpxml | ...), read to
 * its end or to one byte past the cap; fd stays open. 0; -EFBIG; -errno. */
CGP_EXPORT int cgp_libvirt_read_fd(int fd, char **buf, size_t *len);

/* Why a document was refused (-EINVAL): the line (1-based; 0 when about
 * the whole document) and the message. Written on -EINVAL only. */
struct cgp_xml_error {
    unsigned line;
    char msg[256];
};

/* One libvirt domain as a policy block (spec §3 grammar). */
struct cgp_libvirt_import {
    char *name;     /* the block's name: <name>, made a valid NAME */
    char *uuid;     /* <uuid>, lower case */
    char *block;    /* "guest NAME {\n    match uuid \"...\";\n ... }\n" */
};
CGP_EXPORT void cgp_libvirt_import_clear(struct cgp_libvirt_import *im);

/* Turn len bytes of a libvirt domain XML document into a policy block:
 * <vcpu> (count, cpuset, placement), <cputune> (vcpupin, emulatorpin,
 * iothreadpin), <memory>, <numatune> (memory, memnode) and <cpu><numa>
 * cells; everything else is ignored. The document is parsed with libxml2
 * without network access, DTD loading or entity substitution, and a
 * document with a DOCTYPE is refused before its internal subset is read.
 * Returns 0 and *out; -EINVAL (not well-formed, a DOCTYPE, not a domain, a
 * value cgplace cannot take: *err says where and why); -EFBIG longer than
 * CGP_LIBVIRT_MAX_XML; -ELIBACC libxml2 missing; -ENOMEM. */
CGP_EXPORT int cgp_libvirt_import(const char *buf, size_t len, struct cgp_libvirt_import *out,
                                  struct cgp_xml_error *err);

#ifdef __cplusplus
}
#endif
#endif
