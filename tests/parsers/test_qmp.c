/* The QMP session parser (parsers/qmp.c): the protocol state machine on
 * recorded transcripts, fed whole, byte by byte and in chunks. */
#include "qmp.h"
#include "qmp_replies.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int run(const char *t, struct cgp_qmp_threads *out, unsigned *sent)
{
    memset(out, 0, sizeof *out);
    return cgp_qmp_parse_transcript(t, strlen(t), out, sent);
}

static void check_standard(const struct cgp_qmp_threads *t)
{
    cr_assert_eq(t->n_vcpus, 2);
    cr_assert_eq(t->vcpus[0].index, 0);
    cr_assert_eq(t->vcpus[0].tid, 4242, "top-level thread-id, not props.thread-id (got %d)", t->vcpus[0].tid);
    cr_assert_eq(t->vcpus[1].index, 1);
    cr_assert_eq(t->vcpus[1].tid, 4243);
    cr_assert(t->iothreads_known);
    cr_assert_eq(t->n_iothreads, 1);
    cr_assert_str_eq(t->iothreads[0].id, "io1");
    cr_assert_eq(t->iothreads[0].tid, 4250);
}

Test(qmp_parser, standard_session)
{
    struct cgp_qmp_threads t;
    unsigned sent;
    cr_assert_eq(run(GREETING RET_EMPTY CPUS_FAST IOTHREADS, &t, &sent), 0);
    cr_assert_eq(sent, 3, "qmp_capabilities, query-cpus-fast, query-iothreads");
    check_standard(&t);
    cgp_qmp_threads_clear(&t);
}

Test(qmp_parser, events_interleaved)
{
    struct cgp_qmp_threads t;
    cr_assert_eq(run(GREETING EVENT RET_EMPTY EVENT EVENT CPUS_FAST EVENT IOTHREADS, &t, NULL), 0);
    check_standard(&t);
    cgp_qmp_threads_clear(&t);
}

Test(qmp_parser, replies_with_ids_and_pretty_printing)
{
    const char *tr = GREETING
        "{\n    \"return\": {\n    },\n    \"id\": \"cgp-caps\"\n}\n"
        "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 77, \"props\": {\"thread-id\": 5}}], \"id\": \"cgp-cpus-fast\"}\n"
        "{\"return\": [], \"id\": \"cgp-iothreads\"}";
    struct cgp_qmp_threads t;
    cr_assert_eq(run(tr, &t, NULL), 0);
    cr_assert_eq(t.n_vcpus, 1);
    cr_assert_eq(t.vcpus[0].tid, 77);
    cr_assert(t.iothreads_known);
    cr_assert_eq(t.n_iothreads, 0);
    cgp_qmp_threads_clear(&t);
}

Test(qmp_parser, byte_by_byte_equals_whole)
{
    const char *tr = GREETING EVENT RET_EMPTY CPUS_FAST EVENT IOTHREADS;
    struct cgp_qmp_session s;
    cr_assert_eq(cgp_qmp_session_init(&s), 0);
    int r = 0;
    unsigned sends = 0;
    size_t n = strlen(tr);
    for (size_t i = 0; i < n && r == 0; i++) {
        size_t used;
        const char *cmd;
        r = cgp_qmp_feed(&s, tr + i, 1, &used, &cmd);
        cr_assert_eq(used, 1);
        sends += cmd != NULL;
    }
    cr_assert_eq(r, 1);
    cr_assert_eq(sends, 3);
    check_standard(&s.t);
    cgp_qmp_session_clear(&s);
}

Test(qmp_parser, fallback_to_query_cpus)
{
    const char *tr = GREETING RET_EMPTY ERR_CMD
        "{\"return\": [{\"current\": true, \"CPU\": 0, \"pc\": 4294967280, \"halted\": false, \"qom_path\": \"/machine/unattached/device[0]\", \"thread_id\": 3001, \"arch\": \"x86\"}, "
        "{\"current\": false, \"CPU\": 1, \"halted\": true, \"thread_id\": 3002, \"arch\": \"x86\"}]}\r\n"
        ERR_CMD;
    struct cgp_qmp_threads t;
    unsigned sent;
    cr_assert_eq(run(tr, &t, &sent), 0);
    cr_assert_eq(sent, 4);
    cr_assert_eq(t.n_vcpus, 2);
    cr_assert_eq(t.vcpus[1].index, 1);
    cr_assert_eq(t.vcpus[1].tid, 3002);
    cr_assert_not(t.iothreads_known, "query-iothreads failed: unknown");
    cgp_qmp_threads_clear(&t);
}

Test(qmp_parser, errors)
{
    struct cgp_qmp_threads t;
    cr_assert_eq(run(GREETING "{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}\r\n", &t, NULL), -EBADMSG,
                 "qmp_capabilities refused");
    cr_assert_eq(run(GREETING RET_EMPTY ERR_CMD ERR_CMD, &t, NULL), -EBADMSG, "both cpu queries refused");
    cr_assert_eq(run(RET_EMPTY, &t, NULL), -EPROTO, "no greeting");
    cr_assert_eq(run(EVENT, &t, NULL), -EPROTO, "event before the greeting");
    cr_assert_eq(run(GREETING "garbage\r\n", &t, NULL), -EPROTO, "junk");
    cr_assert_eq(run(GREETING "[1,2]\r\n", &t, NULL), -EPROTO, "not an object");
    cr_assert_eq(run(GREETING "{\"foo\": 1}\r\n", &t, NULL), -EPROTO, "unknown message");
    cr_assert_eq(run(GREETING "{\"return\": {}, \"id\": \"other\"}\r\n", &t, NULL), -EPROTO, "wrong id");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": {}}\r\n", &t, NULL), -EPROTO, "cpus not an array");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": [{\"cpu-index\": 0, \"props\": {\"thread-id\": 7}}]}\r\n", &t, NULL),
                 -EPROTO, "only props.thread-id: no top-level thread id");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": [{\"cpu-index\": 0, \"thread-id\": \"7\"}]}\r\n", &t, NULL),
                 -EPROTO, "thread-id a string");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 99999999999}]}\r\n", &t, NULL),
                 -EPROTO, "thread-id out of range");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 5}, {\"cpu-index\": 0, \"thread-id\": 6}]}\r\n",
                     &t, NULL), -EPROTO, "duplicate cpu index");
    cr_assert_eq(run(GREETING RET_EMPTY CPUS_FAST "{\"return\": [{\"id\": 5, \"thread-id\": 1}]}\r\n", &t, NULL),
                 -EPROTO, "iothread id not a string");
    cr_assert_eq(run(GREETING RET_EMPTY CPUS_FAST, &t, NULL), -EAGAIN, "transcript ends early");
    cr_assert_eq(run(GREETING RET_EMPTY "{\"return\": [", &t, NULL), -EAGAIN, "cut inside a message");
    cr_assert_eq(run(GREETING RET_EMPTY CPUS_FAST IOTHREADS RET_EMPTY, &t, NULL), 0, "what follows the session is not read");
    cgp_qmp_threads_clear(&t);
}

Test(qmp_parser, size_limit)
{
    size_t n = CGP_QMP_MAX_BYTES + 100;
    char *big = malloc(n + 1);
    cr_assert(big);
    strcpy(big, GREETING RET_EMPTY "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 5, \"pad\": \"");
    size_t l = strlen(big);
    memset(big + l, 'x', n - l);
    big[n] = '\0';
    struct cgp_qmp_threads t;
    cr_assert_eq(cgp_qmp_parse_transcript(big, n, &t, NULL), -EMSGSIZE);
    free(big);
}

/* json-c accepts "0-," when the number is split after "0-" across reads but
 * not when it comes whole (found by fuzzing): a split message must be judged
 * as if it had arrived in one read. */
Test(qmp_parser, split_message_judged_whole)
{
    const char *bad = "{\"return\": [{\"thread-id\": 4242, \"cpu-index\": 0-, \"target\": \"x86_64\"}]}\r\n";
    const char *tr[] = { GREETING, RET_EMPTY, bad };
    for (size_t step = 1; step <= 8; step++) {
        struct cgp_qmp_session s;
        cr_assert_eq(cgp_qmp_session_init(&s), 0);
        int r = 0;
        for (size_t k = 0; k < 3 && r == 0; k++) {
            const char *p = tr[k];
            size_t n = strlen(p);
            for (size_t i = 0; i < n && r == 0;) {
                size_t used;
                const char *cmd;
                size_t len = n - i < step ? n - i : step;
                r = cgp_qmp_feed(&s, p + i, len, &used, &cmd);
                i += used ? used : len;
            }
        }
        cr_expect_eq(r, -EPROTO, "chunks of %zu: malformed number refused (got %d)", step, r);
        cgp_qmp_session_clear(&s);
    }
}

static int feed_chunks(const char *const *tr, size_t ntr, size_t step, struct cgp_qmp_session *s)
{
    int r = 0;
    for (size_t k = 0; k < ntr && r == 0; k++) {
        size_t n = strlen(tr[k]);
        for (size_t i = 0; i < n && r == 0;) {
            size_t used;
            const char *cmd;
            size_t len = n - i < step ? n - i : step;
            r = cgp_qmp_feed(s, tr[k] + i, len, &used, &cmd);
            i += used ? used : len;
        }
    }
    return r;
}

/* json-c eats comments after a top-level value, and only when they arrive in
 * the same read (found by fuzzing). QEMU sends strict JSON: comments, single-quoted
 * values and trailing commas are refused however the bytes are split. */
Test(qmp_parser, non_strict_json_refused_in_any_split)
{
    const char *bad[] = {
        "{\"QMP\": {}} // comment\r\n",
        "{\"QMP\": {\"v\": 1,}}\r\n",
        "{\"QMP\": {\"v\": 'x'}}\r\n",
        "{\"QMP\": /* c */ {}}\r\n",
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++)
        for (size_t step = 1; step <= 9; step++) {
            struct cgp_qmp_session s;
            cr_assert_eq(cgp_qmp_session_init(&s), 0);
            const char *tr[] = { bad[b], RET_EMPTY };
            int r = feed_chunks(tr, 2, step, &s);
            cr_expect_eq(r, -EPROTO, "%s in chunks of %zu: refused (got %d)", bad[b], step, r);
            cgp_qmp_session_clear(&s);
        }
}

/* Braces and quotes inside strings do not end a message early. */
Test(qmp_parser, braces_inside_strings)
{
    const char *tr[] = {
        "{\"QMP\": {\"version\": {\"package\": \"}]{\\\"\\\\\"}, \"capabilities\": []}}\r\n",
        RET_EMPTY,
        "{\"return\": [{\"thread-id\": 77, \"cpu-index\": 0, \"qom-path\": \"/m}a[c\\\"h\"}]}\r\n",
        "{\"return\": [{\"id\": \"io}{1\", \"thread-id\": 78}]}\r\n",
    };
    for (size_t step = 1; step <= 9; step++) {
        struct cgp_qmp_session s;
        cr_assert_eq(cgp_qmp_session_init(&s), 0);
        int r = feed_chunks(tr, 4, step, &s);
        cr_assert_eq(r, 1, "chunks of %zu: session done (got %d: %s)", step, r, s.err);
        cr_expect_eq(s.t.n_vcpus, 1);
        cr_expect_eq(s.t.vcpus[0].tid, 77);
        cr_expect_eq(s.t.n_iothreads, 1);
        cr_expect_str_eq(s.t.iothreads[0].id, "io}{1");
        cgp_qmp_session_clear(&s);
    }
}
