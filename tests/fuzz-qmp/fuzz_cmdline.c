/* libFuzzer target: the QEMU command line parser (parsers/cmdline.c) on an
 * arbitrary /proc/PID/cmdline image, and QemuOpts lookups on its text. */
#include "cmdline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cgp_qemu_cmdline c;
    int r = cgp_qemu_cmdline_parse((const char *)data, size, &c);
    if (r == 0) {
        /* every string is a proper string no longer than the input */
        const char *s[] = { c.name, c.uuid, c.pidfile, c.qmp };
        for (size_t i = 0; i < 4; i++)
            if (s[i] && strlen(s[i]) > size)
                abort();
        cgp_qemu_cmdline_clear(&c);
    } else if (size) {
        abort();      /* only -EINVAL for an empty image; no ENOMEM here */
    }
    char *t = malloc(size + 1);
    if (!t)
        return 0;
    memcpy(t, data, size);
    t[size] = '\0';
    static const char *const keys[] = { "guest", "path", "id", "mode", "debug-threads", "wait" };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char *v = NULL;
        r = cgp_qemu_opt_get(t, k & 1 ? NULL : "guest", keys[k], &v);
        if (r == 1) {
            if (!v || strlen(v) > size)
                abort();
            free(v);
        } else if (r != 0) {
            abort();
        }
    }
    free(t);
    return 0;
}
