/* fakeqemu — a stand-in QEMU guest for the apply benchmark (bench/apply).
 *
 * Run it under the name qemu-system-x86_64 (a copy or symlink, so that
 * /proc/PID/exe's basename matches) with QEMU's command line, e.g.
 *     qemu-system-x86_64 -name guest=g1,debug-threads=on -smp 4 -m 64 ...
 * It starts N vCPU threads (N from -smp, default 4) and one emulator thread;
 * like QEMU, it names them "CPU k/KVM" and "worker" only when the -name
 * argument has debug-threads=on (otherwise every thread keeps the process's
 * comm). It writes "ready" to the fd named by the
 * environment variable FAKEQEMU_READY_FD (if set) when every thread has its
 * name, then sleeps until killed. Nothing else. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_barrier_t ready;

struct th { char name[16]; };

static void *run(void *arg)
{
    struct th *t = arg;
    if (t->name[0])
        prctl(PR_SET_NAME, t->name, 0, 0, 0);
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    int n = 4;
    bool names = false;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "-smp"))
            n = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "-name") && strstr(argv[i + 1], "debug-threads=on"))
            names = true;
    }
    if (n < 1 || n > 256) {
        fprintf(stderr, "fakeqemu: bad -smp\n");
        return 2;
    }
    struct th *ts = calloc((size_t)n + 1, sizeof *ts);
    if (!ts)
        return 1;
    pthread_barrier_init(&ready, NULL, (unsigned)n + 2);
    for (int i = 0; i <= n; i++) {
        if (!names)
            ts[i].name[0] = '\0';
        else if (i < n)
            snprintf(ts[i].name, sizeof ts[i].name, "CPU %d/KVM", i);
        else
            snprintf(ts[i].name, sizeof ts[i].name, "worker");
        pthread_t tid;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 * 1024);
        int r = pthread_create(&tid, &a, run, &ts[i]);
        pthread_attr_destroy(&a);
        if (r) {
            fprintf(stderr, "fakeqemu: pthread_create: %s\n", strerror(r));
            return 1;
        }
    }
    pthread_barrier_wait(&ready);
    const char *rfd = getenv("FAKEQEMU_READY_FD");
    if (rfd) {
        int fd = atoi(rfd);
        if (write(fd, "ready\n", 6) != 6)
            return 1;
        close(fd);
    }
    for (;;)
        pause();
}
