/* qmp.h — QMP (QEMU Machine Protocol) session logic for guest discovery.
 *
 * The protocol state machine is pure (no I/O): feed it the bytes the server
 * sends; it tells which command to send next and collects the vCPU and I/O
 * thread ids. guests/qmp-client.c drives it over a unix socket; the fuzzer
 * and tests/parsers/test_qmp.c drive it over recorded transcripts.
 *
 * Conversation: greeting {"QMP":...} → qmp_capabilities → query-cpus-fast
 * (QEMU >= 2.12; on an error reply, the older query-cpus) → query-iothreads
 * (an error reply there leaves the I/O threads unknown). Asynchronous
 * {"event":...} messages are skipped anywhere after the greeting.
 */
#ifndef CGP_QMP_H
#define CGP_QMP_H

#include <stdbool.h>
#include <stddef.h>


#define CGP_QMP_MAX_BYTES (4u << 20)   /* a session reading more is refused (-EMSGSIZE) */
#define CGP_QMP_MAX_VCPUS 16384

struct cgp_qmp_vcpu {
    int index;      /* top-level "cpu-index" (query-cpus: "CPU") */
    int tid;        /* top-level "thread-id" (query-cpus: "thread_id"), never props.thread-id */
};

struct cgp_qmp_iothread {
    char *id;
    int tid;
};

struct cgp_qmp_threads {
    size_t n_vcpus;
    struct cgp_qmp_vcpu *vcpus;          /* in reply order */
    bool iothreads_known;                /* false: query-iothreads failed */
    size_t n_iothreads;
    struct cgp_qmp_iothread *iothreads;
};

void cgp_qmp_threads_clear(struct cgp_qmp_threads *t);

enum cgp_qmp_state {
    CGP_QMP_WANT_GREETING,
    CGP_QMP_WANT_CAPS,
    CGP_QMP_WANT_CPUS_FAST,
    CGP_QMP_WANT_CPUS,          /* legacy query-cpus */
    CGP_QMP_WANT_IOTHREADS,
    CGP_QMP_DONE,
};

struct cgp_qmp_session {
    enum cgp_qmp_state state;
    size_t bytes;
    /* Framing scanner: where a message ends is decided byte by byte, so it
     * cannot depend on how the bytes were split across reads. */
    bool in_msg;                /* inside a message */
    bool in_str, esc;           /* inside a string / after a backslash there */
    unsigned depth;             /* open { and [ outside strings */
    char *msg;                  /* the current message's bytes so far */
    size_t mlen, mcap;
    struct cgp_qmp_threads t;
    char err[160];              /* why the session failed */
};

/* 0 or -ENOMEM. */
int cgp_qmp_session_init(struct cgp_qmp_session *s);
/* Frees the tokener and the collected threads (move s->t out first). */
void cgp_qmp_session_clear(struct cgp_qmp_session *s);

/* Feed up to len received bytes. Stops after at most one complete message;
 * *used is the number of bytes consumed (all of them when no message was
 * completed). *send is set to the command (a static string, with its
 * newline) the caller must send now, or NULL. Returns 1 when the session is
 * done (s->t complete), 0 when more input is needed, or a negative errno:
 * -EPROTO junk or an unexpected message (s->err says what), -EBADMSG an
 * error reply to a required command, -EMSGSIZE more than CGP_QMP_MAX_BYTES,
 * -ENOMEM. After a negative return the session is dead. */
int cgp_qmp_feed(struct cgp_qmp_session *s, const char *buf, size_t len, size_t *used,
                 const char **send);

/* Run a whole recorded server transcript through a session: 0 and *out on
 * completion, -EAGAIN when it ends early, or feed's errors. *n_sent (may be
 * NULL) counts the commands the session asked to send. */
int cgp_qmp_parse_transcript(const char *buf, size_t len, struct cgp_qmp_threads *out,
                             unsigned *n_sent);

#endif
