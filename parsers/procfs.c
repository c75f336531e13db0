/* Readers for /proc files under the context's sysroot. */
#include "internal.h"
#include "../topology/topology.h"

#include <errno.h>
#include <string.h>

int cgp_proc_meminfo(cgp_ctx *ctx, uint64_t *total_kib, uint64_t *free_kib)
{
    char *s CGP_AUTOFREE = NULL;
    ssize_t n = cgp_read_file(ctx->root_fd, "proc/meminfo", 1u << 20, &s);
    if (n < 0)
        return (int)n;
    uint64_t tot = CGP_UNKNOWN_U64, fr = CGP_UNKNOWN_U64;
    for (char *line = s; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        unsigned long long v;
        if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
            tot = v;
        else if (sscanf(line, "MemFree: %llu kB", &v) == 1)
            fr = v;
        line = next;
    }
    if (tot == CGP_UNKNOWN_U64)
        return -EIO;
    *total_kib = tot;
    *free_kib = fr;
    return 0;
}
