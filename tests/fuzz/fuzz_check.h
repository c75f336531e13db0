/* CHECK(cond, fmt, ...): a fuzz target's invariant; on failure say which and
 * abort, so libFuzzer keeps the input as a crash. */
#ifndef CGP_FUZZ_CHECK_H
#define CGP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s: ", #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
