/* libFuzzer target: the QMP session state machine (parsers/qmp.c) on an
 * arbitrary server transcript, fed whole and in small chunks; both ways must
 * agree (the streaming tokenizer may not depend on how bytes arrive). */
#include "qmp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int chunked(const uint8_t *d, size_t n, size_t step, struct cgp_qmp_threads *out)
{
    struct cgp_qmp_session s;
    if (cgp_qmp_session_init(&s) < 0)
        return -12;
    size_t off = 0;
    int r = 0;
    while (off < n && r == 0) {
        size_t len = n - off < step ? n - off : step;
        /* the bytes of one read, as the client passes them */
        size_t used;
        const char *cmd;
        size_t done = 0;
        while (done < len && r == 0) {
            r = cgp_qmp_feed(&s, (const char *)d + off + done, len - done, &used, &cmd);
            done += used;
            if (used == 0 && r == 0)
                abort();       /* no progress and no message: would spin */
        }
        off += done;
    }
    if (r == 1) {
        *out = s.t;
        memset(&s.t, 0, sizeof s.t);
        r = 0;
    } else if (r == 0) {
        r = -11; /* EAGAIN */
    }
    cgp_qmp_session_clear(&s);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cgp_qmp_threads a = { 0 }, b = { 0 };
    int ra = cgp_qmp_parse_transcript((const char *)data, size, &a, NULL);
    size_t step = size ? (size_t)(data[0] % 7) + 1 : 1;
    int rb = chunked(data, size, step, &b);
    /* Framing is byte by byte and json-c judges whole messages, so both
     * ways must agree exactly. */
    if (ra != rb) {
        fprintf(stderr, "whole: %d, in chunks of %zu: %d\n", ra, step, rb);
        abort();
    }
    if (ra == 0) {
        if (a.n_vcpus != b.n_vcpus || a.n_iothreads != b.n_iothreads || a.iothreads_known != b.iothreads_known)
            abort();
        for (size_t i = 0; i < a.n_vcpus; i++) {
            if (a.vcpus[i].tid <= 0 || a.vcpus[i].index < 0 || a.vcpus[i].index >= CGP_QMP_MAX_VCPUS ||
                a.vcpus[i].tid != b.vcpus[i].tid || a.vcpus[i].index != b.vcpus[i].index)
                abort();
        }
        for (size_t i = 0; i < a.n_iothreads; i++)
            if (!a.iothreads[i].id || !*a.iothreads[i].id || a.iothreads[i].tid <= 0 ||
                strcmp(a.iothreads[i].id, b.iothreads[i].id))
                abort();
    }
    cgp_qmp_threads_clear(&a);
    cgp_qmp_threads_clear(&b);
    return 0;
}
