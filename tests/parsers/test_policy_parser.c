/* The policy parser (parsers/policy-*.c) through the public API: the error
 * limit, sizes, hostile input. The language's diagnostics and what it
 * compiles to are tested in tests/policy (goldens and test_solver.c). */
#include "cgplace_policy.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

Test(parser, error_limit)
{
    char src[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(src, "bogus;\n");
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, strlen(src), d, &p), -EINVAL);
    cr_expect_null(p);
    cr_expect_eq(cgp_diags_errors(d), CGP_POLICY_MAX_ERRORS + 1);
    cr_expect(strstr(cgp_diags_get(d, CGP_POLICY_MAX_ERRORS)->msg, "too many errors"));
    cgp_diags_free(d);
}

Test(parser, sizes)
{
    uint64_t k = 0;
    bool nu = false;
    cr_expect_eq(cgp_parse_size_kib("3G", &k, NULL), 0);
    cr_expect_eq(k, 3u << 20);
    cr_expect_eq(cgp_parse_size_kib("512MiB", &k, NULL), 0);
    cr_expect_eq(k, 512u << 10);
    cr_expect_eq(cgp_parse_size_kib("1T", &k, NULL), 0);
    cr_expect_eq(k, 1ull << 30);
    cr_expect_eq(cgp_parse_size_kib("12", &k, &nu), -EINVAL);
    cr_expect(nu);
    cr_expect_eq(cgp_parse_size_kib("1g", &k, NULL), -EINVAL);
    cr_expect_eq(cgp_parse_size_kib("99999999999999999999T", &k, NULL), -ERANGE);
}

Test(parser, hostile_input_fails_fast)
{
    /* deeply nested braces, a NUL byte, an overlong word */
    static char src[20000];
    memset(src, '{', 10000);
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    memcpy(src, "guest a ", 8);
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, 10000, d, &p), -EINVAL);
    cgp_diags_free(d);
    d = cgp_diags_new();
    memset(src, 'a', sizeof src);
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", src, sizeof src, d, &p), -EINVAL);
    cr_expect(strstr(cgp_diags_get(d, 0)->msg, "longer than"));
    cgp_diags_free(d);
    d = cgp_diags_new();
    cr_expect_eq(cgp_policy_parse_buffer("t.conf", "guest a\0{ }", 11, d, &p), -EINVAL);
    cgp_diags_free(d);
}
