/* libFuzzer target: the libvirt domain XML reader (parsers/libvirt-xml.c,
 * through libxml2) and the policy block import writes (policy/import.c).
 * Invariants: a refusal is -EINVAL with a message, or -EFBIG past the cap;
 * what is accepted is a block the policy parser takes without an error;
 * no leak, no overflow, no hang. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgplace_interop.h"
#include "cgplace_policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct cgp_libvirt_import im;
    struct cgp_xml_error err;
    int r = cgp_libvirt_import((const char *)data, size, &im, &err);
    if (r == -ENOMEM)
        return 0;
    if (r == -EINVAL) {
        if (!err.msg[0] || !memchr(err.msg, 0, sizeof err.msg))
            abort();
        return 0;
    }
    if (r == -EFBIG && size > CGP_LIBVIRT_MAX_XML)
        return 0;
    if (r != 0 || !im.name || !im.uuid || !im.block)
        abort();
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    if (d) {
        int pr = cgp_policy_parse_buffer("/nonexistent-cgplace-fuzz/import.conf", im.block, strlen(im.block), d, &p);
        if (pr == -EINVAL || (pr == 0 && cgp_policy_n_guests(p) != 1))
            abort();    /* import wrote a block the parser refuses */
    }
    cgp_policy_free(p);
    cgp_diags_free(d);
    cgp_libvirt_import_clear(&im);
    return 0;
}
