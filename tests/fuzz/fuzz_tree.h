/* A scratch root for the fuzz targets that read files of a fake host
 * (fuzz_topology, fuzz_procfs): CHECK for invariants, a temporary directory
 * removed at exit, files written into it by relative path. */
#ifndef CGP_FUZZ_TREE_H
#define CGP_FUZZ_TREE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_check.h"

static char root[256];

static void mkdirs_for(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
}

/* Replace ROOT/rel (and create its directories) with len bytes of data. */
static void put(const char *rel, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    mkdirs_for(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    if (len && write(fd, data, len) != (ssize_t)len) {
        perror(path);
        abort();
    }
    close(fd);
}

static void cleanup(void)
{
    if (root[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", root);
    }
}

/* Create root as $TMPDIR/cgp-fuzz-NAME-XXXXXX, removed at exit. */
static void fuzz_tree_init(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/cgp-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        abort();
    }
    atexit(cleanup);
}

#endif
