/* Replies as QEMU 7.2 prints them on a QMP socket: recorded transcripts for the
 * QMP session parser's tests (tests/parsers/test_qmp.c) and what the fake QMP
 * server of the discovery tests (tests/guests/test_qmp.c) sends. */
#ifndef CGP_TEST_QMP_REPLIES_H
#define CGP_TEST_QMP_REPLIES_H

/* One JSON object per line, "\r\n". */
#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define RET_EMPTY "{\"return\": {}}\r\n"
#define EVENT "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 1}, \"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 1}}\r\n"
/* props.thread-id is the SMT thread number: a decoy the parser must not use. */
#define CPUS_FAST \
    "{\"return\": [{\"thread-id\": 4242, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 0}, " \
    "\"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": \"x86_64\"}, " \
    "{\"thread-id\": 4243, \"props\": {\"core-id\": 0, \"thread-id\": 1, \"socket-id\": 0}, " \
    "\"qom-path\": \"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": \"x86_64\"}]}\r\n"
#define IOTHREADS "{\"return\": [{\"poll-shrink\": 0, \"thread-id\": 4250, \"poll-grow\": 0, \"poll-max-ns\": 32768, \"id\": \"io1\"}]}\r\n"
#define ERR_CMD "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command query-cpus-fast has not been found\"}}\r\n"

#endif
