/* vmhelper MIB NTHREADS - a stand-in for a QEMU guest in the VM probes.
 *
 * Allocates MIB MiB of anonymous memory and touches every page (so the pages exist
 * and land on the nodes the task's cpuset allows), starts NTHREADS threads named
 * "worker0".. that sleep, prints one line
 *     ready PID ADDR TID0 TID1 ...
 * (ADDR as in /proc/PID/numa_maps, lowercase hex) and sleeps until killed.
 * SIGUSR1 touches the buffer again (writes), which is harmless to placement.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile pid_t tids[64];
static char *buf;
static size_t len;

static void touch(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < len; i += (size_t)pg)
        buf[i] = (char)(i / (size_t)pg + 1);
}

static void on_usr1(int sig)
{
    (void)sig;
    touch();
}

static void *worker(void *arg)
{
    long i = (long)arg;
    char name[16];
    snprintf(name, sizeof name, "worker%ld", i);
    prctl(PR_SET_NAME, name);
    tids[i] = (pid_t)syscall(SYS_gettid);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vmhelper MIB NTHREADS\n");
        return 2;
    }
    long mib = atol(argv[1]), n = atol(argv[2]);
    if (mib < 0 || n < 0 || n > 64) {
        fprintf(stderr, "vmhelper: bad arguments\n");
        return 2;
    }
    len = (size_t)mib << 20;
    if (len) {
        buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
            perror("vmhelper: mmap");
            return 1;
        }
        /* no THP: 4k pages migrate and count predictably */
        madvise(buf, len, MADV_NOHUGEPAGE);
        touch();
    }
    signal(SIGUSR1, on_usr1);
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)i) != 0) {
            fprintf(stderr, "vmhelper: pthread_create failed\n");
            return 1;
        }
    }
    for (long i = 0; i < n; i++)
        while (!tids[i])
            usleep(1000);
    printf("ready %d %lx", (int)getpid(), (unsigned long)buf);
    for (long i = 0; i < n; i++)
        printf(" %d", (int)tids[i]);
    printf("\n");
    fflush(stdout);
    for (;;)
        pause();
}
