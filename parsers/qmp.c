/* QMP session state machine (see qmp.h). Pure: no I/O. */
#include "qmp.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define CMD_CAPS      "{\"execute\": \"qmp_capabilities\", \"id\": \"cgp-caps\"}\n"
#define CMD_CPUS_FAST "{\"execute\": \"query-cpus-fast\", \"id\": \"cgp-cpus-fast\"}\n"
#define CMD_CPUS      "{\"execute\": \"query-cpus\", \"id\": \"cgp-cpus\"}\n"
#define CMD_IOTHREADS "{\"execute\": \"query-iothreads\", \"id\": \"cgp-iothreads\"}\n"

static const char *const state_id[] = {
    [CGP_QMP_WANT_CAPS] = "cgp-caps",
    [CGP_QMP_WANT_CPUS_FAST] = "cgp-cpus-fast",
    [CGP_QMP_WANT_CPUS] = "cgp-cpus",
    [CGP_QMP_WANT_IOTHREADS] = "cgp-iothreads",
};

void cgp_qmp_threads_clear(struct cgp_qmp_threads *t)
{
    for (size_t i = 0; i < t->n_iothreads; i++)
        free(t->iothreads[i].id);
    free(t->iothreads);
    free(t->vcpus);
    memset(t, 0, sizeof *t);
}

int cgp_qmp_session_init(struct cgp_qmp_session *s)
{
    memset(s, 0, sizeof *s);
    return 0;
}

void cgp_qmp_session_clear(struct cgp_qmp_session *s)
{
    free(s->msg);
    cgp_qmp_threads_clear(&s->t);
    memset(s, 0, sizeof *s);
}

static int fail(struct cgp_qmp_session *s, int r, const char *fmt, const char *arg)
{
    snprintf(s->err, sizeof s->err, fmt, arg ? arg : "");
    s->state = CGP_QMP_DONE;
    return r;
}

/* An integer member in [lo, hi]; false when absent or of another type. */
static bool get_int(struct json_object *o, const char *key, int64_t lo, int64_t hi, int *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    errno = 0;
    int64_t x = json_object_get_int64(v);
    if (x < lo || x > hi)
        return false;
    *out = (int)x;
    return true;
}

static int parse_cpus(struct cgp_qmp_session *s, struct json_object *ret, bool legacy)
{
    if (!json_object_is_type(ret, json_type_array))
        return fail(s, -EPROTO, "%s: the return value is not an array", legacy ? "query-cpus" : "query-cpus-fast");
    size_t n = json_object_array_length(ret);
    if (n > CGP_QMP_MAX_VCPUS)
        return fail(s, -EPROTO, "%s: too many vCPUs", legacy ? "query-cpus" : "query-cpus-fast");
    struct cgp_qmp_vcpu *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return fail(s, -ENOMEM, "out of memory%s", NULL);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(ret, i);
        /* The top-level thread-id: props.thread-id is the SMT thread number. */
        if (!e || !json_object_is_type(e, json_type_object) ||
            !get_int(e, legacy ? "CPU" : "cpu-index", 0, CGP_QMP_MAX_VCPUS - 1, &v[i].index) ||
            !get_int(e, legacy ? "thread_id" : "thread-id", 1, INT_MAX, &v[i].tid)) {
            free(v);
            return fail(s, -EPROTO, "%s: an entry lacks a valid cpu index or thread id",
                        legacy ? "query-cpus" : "query-cpus-fast");
        }
        for (size_t j = 0; j < i; j++)
            if (v[j].index == v[i].index) {
                free(v);
                return fail(s, -EPROTO, "%s: a vCPU index appears twice", legacy ? "query-cpus" : "query-cpus-fast");
            }
    }
    s->t.vcpus = v;
    s->t.n_vcpus = n;
    return 0;
}

static int parse_iothreads(struct cgp_qmp_session *s, struct json_object *ret)
{
    if (!json_object_is_type(ret, json_type_array))
        return fail(s, -EPROTO, "query-iothreads: the return value is not an array%s", NULL);
    size_t n = json_object_array_length(ret);
    if (n > CGP_QMP_MAX_VCPUS)
        return fail(s, -EPROTO, "query-iothreads: too many I/O threads%s", NULL);
    struct cgp_qmp_iothread *io = calloc(n ? n : 1, sizeof *io);
    if (!io)
        return fail(s, -ENOMEM, "out of memory%s", NULL);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(ret, i), *id;
        if (!e || !json_object_is_type(e, json_type_object) ||
            !json_object_object_get_ex(e, "id", &id) || !json_object_is_type(id, json_type_string) ||
            json_object_get_string_len(id) == 0 ||
            strlen(json_object_get_string(id)) != (size_t)json_object_get_string_len(id) ||
            !get_int(e, "thread-id", 1, INT_MAX, &io[i].tid)) {
            r = fail(s, -EPROTO, "query-iothreads: an entry lacks a valid id or thread id%s", NULL);
            break;
        }
        if (!(io[i].id = strdup(json_object_get_string(id)))) {
            r = fail(s, -ENOMEM, "out of memory%s", NULL);
            break;
        }
    }
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(io[i].id);
        free(io);
        return r;
    }
    s->t.iothreads = io;
    s->t.n_iothreads = n;
    s->t.iothreads_known = true;
    return 0;
}

/* One complete message. */
static int handle(struct cgp_qmp_session *s, struct json_object *m, const char **send)
{
    struct json_object *v;
    if (!json_object_is_type(m, json_type_object))
        return fail(s, -EPROTO, "a message is not a JSON object%s", NULL);
    if (s->state == CGP_QMP_WANT_GREETING) {
        if (!json_object_object_get_ex(m, "QMP", &v))
            return fail(s, -EPROTO, "no QMP greeting%s", NULL);
        s->state = CGP_QMP_WANT_CAPS;
        *send = CMD_CAPS;
        return 0;
    }
    if (json_object_object_get_ex(m, "event", NULL))
        return 0;                        /* asynchronous event: skipped */
    bool is_ret = json_object_object_get_ex(m, "return", &v);
    bool is_err = !is_ret && json_object_object_get_ex(m, "error", NULL);
    if (!is_ret && !is_err)
        return fail(s, -EPROTO, "unexpected message (neither return, error nor event)%s", NULL);
    struct json_object *id;
    if (json_object_object_get_ex(m, "id", &id) &&
        (!json_object_is_type(id, json_type_string) || strcmp(json_object_get_string(id), state_id[s->state])))
        return fail(s, -EPROTO, "a reply names another command id than %s", state_id[s->state]);
    int r;
    switch (s->state) {
    case CGP_QMP_WANT_CAPS:
        if (is_err)
            return fail(s, -EBADMSG, "qmp_capabilities failed%s", NULL);
        s->state = CGP_QMP_WANT_CPUS_FAST;
        *send = CMD_CPUS_FAST;
        return 0;
    case CGP_QMP_WANT_CPUS_FAST:
    case CGP_QMP_WANT_CPUS:
        if (is_err) {
            if (s->state == CGP_QMP_WANT_CPUS)
                return fail(s, -EBADMSG, "query-cpus-fast and query-cpus failed%s", NULL);
            s->state = CGP_QMP_WANT_CPUS;        /* QEMU before 2.12 */
            *send = CMD_CPUS;
            return 0;
        }
        if ((r = parse_cpus(s, v, s->state == CGP_QMP_WANT_CPUS)) < 0)
            return r;
        s->state = CGP_QMP_WANT_IOTHREADS;
        *send = CMD_IOTHREADS;
        return 0;
    case CGP_QMP_WANT_IOTHREADS:
        if (is_ret && (r = parse_iothreads(s, v)) < 0)
            return r;
        s->state = CGP_QMP_DONE;
        return 1;
    default:
        return fail(s, -EPROTO, "message after the end of the session%s", NULL);
    }
}

static int msg_append(struct cgp_qmp_session *s, const char *buf, size_t len)
{
    if (s->mlen + len + 1 > s->mcap) {
        size_t cap = (s->mlen + len + 1) * 2;
        char *n = realloc(s->msg, cap);
        if (!n)
            return -ENOMEM;
        s->msg = n;
        s->mcap = cap;
    }
    memcpy(s->msg + s->mlen, buf, len);
    s->mlen += len;
    s->msg[s->mlen] = '\0';
    return 0;
}

/* Deeper than any QMP reply; json-c's own limit is 32. */
#define MAX_DEPTH 64

int cgp_qmp_feed(struct cgp_qmp_session *s, const char *buf, size_t len, size_t *used,
                 const char **send)
{
    *send = NULL;
    *used = 0;
    if (s->state == CGP_QMP_DONE)
        return s->err[0] ? -EPROTO : 1;
    size_t i = 0;
    if (!s->in_msg) {
        /* Between messages: whitespace, then a message must open with '{'
         * (no comments, no top-level scalars: QEMU sends neither). */
        while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
            i++;
        if (s->bytes + i > CGP_QMP_MAX_BYTES)
            return fail(s, -EMSGSIZE, "the server sent more than the limit of QMP bytes%s", NULL);
        s->bytes += i;
        *used = i;
        if (i == len)
            return 0;
        if (buf[i] != '{')
            return fail(s, -EPROTO, "a message is not a JSON object%s", NULL);
        s->in_msg = true;
        s->in_str = s->esc = false;
        s->depth = 0;
        s->mlen = 0;
    }
    /* Find the byte that closes the top-level object. Only strings and
     * brackets matter here; json-c judges everything else on the whole
     * message, exactly as if it had arrived in one read. */
    size_t start = i;
    bool complete = false;
    for (; i < len && !complete; i++) {
        char c = buf[i];
        if (s->in_str) {
            if (s->esc)
                s->esc = false;
            else if (c == '\\')
                s->esc = true;
            else if (c == '"')
                s->in_str = false;
        } else if (c == '"') {
            s->in_str = true;
        } else if (c == '{' || c == '[') {
            if (++s->depth > MAX_DEPTH)
                return fail(s, -EPROTO, "malformed JSON: nested too deeply%s", NULL);
        } else if (c == '}' || c == ']') {
            if (--s->depth == 0)
                complete = true;
        }
    }
    if (s->bytes + (i - start) > CGP_QMP_MAX_BYTES)
        return fail(s, -EMSGSIZE, "the server sent more than the limit of QMP bytes%s", NULL);
    if (msg_append(s, buf + start, i - start) < 0)
        return -ENOMEM;
    s->bytes += i - start;
    *used = i;
    if (!complete)
        return 0;
    s->in_msg = false;
    /* Strict: no comments, single quotes or trailing commas (QEMU sends
     * strict JSON), and the object must end where the scanner said. */
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    struct json_object *m = json_tokener_parse_ex(tok, s->msg, (int)s->mlen);
    enum json_tokener_error e = json_tokener_get_error(tok);
    if (m && json_tokener_get_parse_end(tok) != s->mlen) {
        json_object_put(m);
        m = NULL;
        e = json_tokener_error_parse_unexpected;
    } else if (!m && e == json_tokener_continue) {
        e = json_tokener_error_parse_eof;   /* brackets closed, json-c wants more: junk */
    }
    json_tokener_free(tok);
    s->mlen = 0;
    if (!m)
        return fail(s, -EPROTO, "malformed JSON: %s", json_tokener_error_desc(e));
    int r = handle(s, m, send);
    json_object_put(m);
    return r;
}

int cgp_qmp_parse_transcript(const char *buf, size_t len, struct cgp_qmp_threads *out,
                             unsigned *n_sent)
{
    struct cgp_qmp_session s;
    int r = cgp_qmp_session_init(&s);
    if (r < 0)
        return r;
    unsigned sent = 0;
    size_t off = 0;
    r = 0;
    while (off < len) {
        size_t used;
        const char *cmd;
        r = cgp_qmp_feed(&s, buf + off, len - off, &used, &cmd);
        off += used;
        if (cmd)
            sent++;
        if (r != 0)
            break;
        if (used == 0) {       /* cannot happen: a message is at least "{}" */
            r = -EPROTO;
            break;
        }
    }
    if (n_sent)
        *n_sent = sent;
    if (r == 1) {
        *out = s.t;
        memset(&s.t, 0, sizeof s.t);
        r = 0;
    } else if (r == 0) {
        r = -EAGAIN;
    }
    cgp_qmp_session_clear(&s);
    return r;
}
