/* cmdline.h — QEMU command line parsing for guest discovery (spec §5).
 * Pure functions: no I/O, usable by the fuzzer and unit tests. */
#ifndef CGP_CMDLINE_H
#define CGP_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* What discovery needs from a QEMU command line. Strings are malloc'd; NULL
 * when absent. qmp is the unix socket path of the first QMP monitor (from
 * -qmp/-qmp-pretty unix:PATH, or -chardev socket,id=X,path=PATH used by
 * -mon chardev=X,mode=control), as written (possibly relative). */
struct cgp_qemu_cmdline {
    char *name;
    char *uuid;
    char *pidfile;
    char *qmp;
    bool debug_threads;     /* -name ...,debug-threads=on */
};

/* Parse a /proc/PID/cmdline image: len bytes of NUL-separated arguments
 * (argv[0] first; a missing final NUL is tolerated). Returns 0, -ENOMEM,
 * -EINVAL (len == 0). On failure *out is left cleared. */
int cgp_qemu_cmdline_parse(const char *buf, size_t len, struct cgp_qemu_cmdline *out);
void cgp_qemu_cmdline_clear(struct cgp_qemu_cmdline *c);

/* QemuOpts lookup in an option string "v0,k1=v1,k2,nok3,..." (",," is a
 * literal comma). implied names the key of a first element without '='
 * (NULL: such an element is a boolean flag). A bare "k" means "on", "nok"
 * means "off". The last occurrence of key wins. Returns 1 and *value
 * (malloc'd, unescaped), 0 when key is absent, -ENOMEM. */
int cgp_qemu_opt_get(const char *opts, const char *implied, const char *key, char **value);

/* QEMU's boolean spellings: on/yes/true/y → 1, off/no/false/n → 0, else -1. */
int cgp_qemu_bool(const char *v);

#endif
