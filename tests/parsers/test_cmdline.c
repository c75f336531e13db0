/* The QEMU command line and QemuOpts parser (parsers/cmdline.c) alone; what
 * discovery takes from a guest's command line is tested through fake proc
 * trees in tests/guests/test_discover.c. */
#include "cmdline.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* got is want, or both are NULL (no value) */
static void str_eq(const char *got, const char *want, const char *what)
{
    bool same = want ? got && !strcmp(got, want) : !got;
    cr_assert(same, "%s: got '%s', expected '%s'", what, got ? got : "(none)", want ? want : "(none)");
}

Test(cmdline, last_option_without_value_and_no_final_nul)
{
    /* cmdline image cut at the end: "-name" with no value, no final NUL */
    struct cgp_qemu_cmdline c;
    const char img[] = "qemu-system-x86_64\0-uuid\0abc\0-name";
    cr_assert_eq(cgp_qemu_cmdline_parse(img, sizeof img - 1, &c), 0);
    str_eq(c.uuid, "abc", "uuid");
    str_eq(c.name, NULL, "name");
    cgp_qemu_cmdline_clear(&c);
    const char img2[] = "qemu\0-name\0vm";   /* no final NUL */
    cr_assert_eq(cgp_qemu_cmdline_parse(img2, sizeof img2 - 1, &c), 0);
    str_eq(c.name, "vm", "name");
    cgp_qemu_cmdline_clear(&c);
}

Test(cmdline, qemu_opts_semantics)
{
    char *v = NULL;
    cr_assert_eq(cgp_qemu_opt_get("x,debug-threads=on,debug-threads=off", "guest", "debug-threads", &v), 1);
    str_eq(v, "off", "last occurrence wins");
    free(v);
    cr_assert_eq(cgp_qemu_opt_get("x,nowait,server", "path", "wait", &v), 1);
    str_eq(v, "off", "nowait");
    free(v);
    cr_assert_eq(cgp_qemu_opt_get("x,nowait,server", "path", "server", &v), 1);
    str_eq(v, "on", "server");
    free(v);
    cr_assert_eq(cgp_qemu_opt_get("x,nowait,server", "path", "path", &v), 1);
    str_eq(v, "x", "implied");
    free(v);
    cr_assert_eq(cgp_qemu_opt_get("a=1,b=2", "guest", "guest", &v), 0, "no implied key when the first has '='");
    cr_assert_eq(cgp_qemu_opt_get("", "guest", "guest", &v), 0);
    cr_assert_eq(cgp_qemu_opt_get("guest=a,,,b=c", NULL, "guest", &v), 1);
    str_eq(v, "a,", "',,,' is an escaped comma then a separator");
    free(v);
}
