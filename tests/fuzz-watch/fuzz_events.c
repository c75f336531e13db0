/* libFuzzer target: watch's event parsers on arbitrary datagrams. The first
 * byte picks the parser: even, a kernel uevent (topology/uevent.c); odd, a
 * proc connector datagram (guests/procevents.c). Either must refuse or
 * parse without reading past the input, and what it returns must hold. */
#include "cgplace_watch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* a copy of exactly the input's size: ASan sees any read past it */
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, n);
    if (data[0] % 2 == 0) {
        struct cgp_uevent ev;
        int r = cgp_uevent_parse(buf, n, &ev);
        if (r == 0) {
            if (strlen(ev.action) >= sizeof ev.action || strlen(ev.devpath) >= sizeof ev.devpath)
                abort();
            if (ev.hotplug && ev.subsys == CGP_UEVENT_OTHER)
                abort();
        } else if (r != -EINVAL) {
            abort();
        }
    } else {
        struct cgp_procev out[8];
        size_t k = 99;
        int r = cgp_procev_parse(buf, n, out, 8, &k);
        if (r != 0 && r != -EINVAL)
            abort();
        if (k > 8)
            abort();
        for (size_t i = 0; i < k; i++)
            if ((unsigned)out[i].kind > CGP_PROCEV_LOST)
                abort();
    }
    free(buf);
    return 0;
}
