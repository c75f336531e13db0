/* solvetime.c - time the policy compiler (validation + `auto` solver) apart
 * from reading the host and parsing the policy (bench/solver, issue 4).
 *
 *   solvetime SYSROOT POLICY [RUNS]
 *
 * Reads the topology of SYSROOT once, then RUNS times (default 9):
 * cgp_policy_parse_buffer() and cgp_policy_compile() on the policy, each
 * timed with clock_gettime(CLOCK_MONOTONIC) (and the compile's CPU time,
 * CLOCK_PROCESS_CPUTIME_ID). Prints one JSON object with
 * the samples in ms, the number of guests and whether compile succeeded.
 * Links build/libcgplace.a. */
#include "cgplace.h"
#include "cgplace_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void print_samples(const char *key, const double *v, int n, int last)
{
    printf("  \"%s\": [", key);
    for (int i = 0; i < n; i++)
        printf("%s%.4f", i ? ", " : "", v[i]);
    printf("]%s\n", last ? "" : ",");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: solvetime SYSROOT POLICY [RUNS]\n");
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 9;
    if (runs < 1 || runs > 1000)
        runs = 9;
    cgp_ctx *ctx;
    cgp_topology *t;
    int r = cgp_ctx_new(argv[1], NULL, &ctx);
    if (r < 0 || (r = cgp_topology_read(ctx, &t)) < 0) {
        fprintf(stderr, "solvetime: %s: %s\n", argv[1], strerror(-r));
        return 1;
    }
    size_t len;
    char *buf = slurp(argv[2], &len);
    if (!buf) {
        fprintf(stderr, "solvetime: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    double *tp = calloc(runs, sizeof *tp), *tc = calloc(runs, sizeof *tc);
    double *tu = calloc(runs, sizeof *tu);
    size_t n_guests = 0, n_auto = 0;
    int ok = 1;
    for (int i = 0; i < runs; i++) {
        cgp_diags *d = cgp_diags_new();
        cgp_policy *p;
        cgp_placement *pl = NULL;
        double t0 = now_ms();
        r = cgp_policy_parse_buffer(argv[2], buf, len, d, &p);
        double t1 = now_ms();
        if (r < 0) {
            fprintf(stderr, "solvetime: parse failed: %s\n", strerror(-r));
            for (size_t k = 0; k < cgp_diags_count(d) && k < 5; k++) {
                char *s = cgp_diag_format(cgp_diags_get(d, k));
                fprintf(stderr, "%s\n", s);
                free(s);
            }
            return 1;
        }
        double u1 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        r = cgp_policy_compile(p, t, d, &pl);
        double t2 = now_ms();
        tu[i] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - u1;
        tp[i] = t1 - t0;
        tc[i] = t2 - t1;
        if (r < 0) {
            ok = 0;
            if (i == 0)
                for (size_t k = 0; k < cgp_diags_count(d) && k < 5; k++) {
                    char *s = cgp_diag_format(cgp_diags_get(d, k));
                    fprintf(stderr, "%s\n", s);
                    free(s);
                }
        } else {
            n_guests = cgp_placement_n_guests(pl);
            n_auto = 0;
            for (size_t g = 0; g < n_guests; g++)
                n_auto += cgp_placement_guest(pl, g)->auto_placed;
        }
        cgp_placement_free(pl);
        cgp_policy_free(p);
        cgp_diags_free(d);
    }
    printf("{\n  \"ok\": %s,\n  \"guests\": %zu,\n  \"auto\": %zu,\n", ok ? "true" : "false",
           n_guests, n_auto);
    print_samples("parse_ms", tp, runs, 0);
    print_samples("compile_ms", tc, runs, 0);
    print_samples("compile_cpu_ms", tu, runs, 1);
    printf("}\n");
    free(tp);
    free(tc);
    free(tu);
    free(buf);
    cgp_topology_free(t);
    cgp_ctx_free(ctx);
    return ok ? 0 : 3;
}
