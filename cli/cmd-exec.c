/* cgplace exec [-p POLICY] GUEST -- CMD... — start CMD (QEMU) inside guest
 * GUEST's placement, with the memory policy of its mode set before CMD's
 * first allocation (spec §6).
 *
 * cgplace forks; the child waits on a pipe while the parent places it with
 * the engine `apply` uses (the whole guest's sets: the child is one thread
 * yet; under systemd its own transient scope), then it sets the memory
 * policy and execs CMD. The parent stays as a small supervisor: it gives
 * QEMU's vCPU, emulator and I/O threads their own groups once they exist,
 * passes SIGTERM/SIGINT/SIGHUP/SIGQUIT on, and exits with CMD's status.
 * Staying costs one sleeping process per guest; in return the threads are
 * placed without a daemon and CMD's exit status reaches whoever started it
 * (a unit, a script). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long the supervisor waits for QEMU's vCPU threads to be told apart. */
#define THREADS_WAIT_MS 30000
#define THREADS_POLL_MS 20

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

int prep_exec(struct cli *cli, struct cli_env *env)
{
    (void)env;
    const struct cli_args *a = &cli->args;
    if (a->dashdash != 2 || a->n_operands < 2)
        return cli_error(EXIT_USAGE, cli->cmd, "give GUEST -- CMD... (the command after \"--\")");
    return EXIT_OK;
}

/* In the child: wait for the parent's go, set the memory policy, exec.
 * A failure goes back on err as (stage, errno); the parent reports it. */
static void __attribute__((noreturn)) child(const struct cgp_guest_placement *gp, int go, int err, char **cmd)
{
    char c;
    ssize_t n;
    do
        n = read(go, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(125);     /* the parent gave up: it says why */
    const char *note = NULL;
    int r = cgp_mempolicy_set(gp, &note);
    if (r < 0) {
        int msg[2] = { 'm', -r };
        (void)!write(err, msg, sizeof msg);
        _exit(126);
    }
    if (note)
        fprintf(stderr, "cgplace: exec: warning: %s\n", note);
    execvp(cmd[0], cmd);
    int msg[2] = { 'x', errno };
    (void)!write(err, msg, sizeof msg);
    _exit(errno == ENOENT ? 127 : 126);
}

static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return cli_error(EXIT_RUNTIME, "exec", "waiting for process %d: %s", (int)pid, strerror(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : EXIT_RUNTIME;
}

/* Place process g as guest `name`: whole (every thread the guest's sets)
 * or per thread. The engine's messages on stderr; an exit code. */
static int place(struct cli *cli, struct cli_env *env, const char *name, const struct cgp_guest *g, bool whole)
{
    cgp_placement *pl CLI_AUTO_PLACEMENT = NULL;
    int r = cgp_placement_exec(env->ctx, env->pl, name, g, whole, &pl);
    if (r < 0)
        return cli_engine_error(env->ctx, cli->cmd, r);
    cgp_enforce *e CLI_AUTO_ENFORCE = NULL;
    if ((r = cgp_enforce_run(env->ctx, pl, &g, 1, 0, &e)) < 0)
        return cli_engine_error(env->ctx, cli->cmd, r);
    cli_msgs_text(cli, e);
    int rc = cli_outcome_code(e);
    const struct cgp_enforce_guest *eg = cgp_enforce_n_guests(e) ? cgp_enforce_guest(e, 0) : NULL;
    if (rc == EXIT_OK && (!eg || (eg->state != CGP_GUEST_CHANGED && eg->state != CGP_GUEST_UNCHANGED)))
        rc = EXIT_RUNTIME;
    if (rc == EXIT_OK && cli->verbose > 0) {
        struct cli_ops ops = cli_ops_of_enforce(e);
        cli_ops_text(&ops, CLI_OPS_APPLY);
    }
    return rc;
}

/* Once QEMU's vCPU threads can be told apart (thread names, else QMP),
 * each thread gets its own group. Bounded: THREADS_WAIT_MS, or QEMU exits.
 * Failing here leaves QEMU running in the whole guest's placement. */
static void place_threads(struct cli *cli, struct cli_env *env, const char *name,
                          const struct cgp_guest_placement *gp, pid_t pid, int pidfd)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        cgp_guest_list *l CLI_AUTO_GUESTS = NULL;
        const struct cgp_guest *g = NULL;
        if (cgp_guests_read_pid(env->ctx, pid, CGP_DISCOVER_QMP, &l) == 0)
            g = cgp_guests_get(l, 0);
        unsigned vcpus = 0;
        for (size_t i = 0; g && g->thread_source != CGP_THREADS_UNKNOWN && i < g->n_threads; i++)
            vcpus += g->threads[i].role == CGP_THREAD_VCPU;
        if (g && vcpus >= gp->n_vcpus) {
            if (place(cli, env, name, g, false) != EXIT_OK)
                cli_error(EXIT_RUNTIME, cli->cmd, "warning: guest '%s' (pid %d) stays in its whole-guest placement; "
                          "'cgplace apply' places its threads", name, (int)pid);
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= THREADS_WAIT_MS) {
            cli_error(EXIT_RUNTIME, cli->cmd, "warning: guest '%s' (pid %d): %u of its %u vCPU threads told apart "
                      "after %d s: start QEMU with -name %s,debug-threads=on or a QMP socket; it stays in its "
                      "whole-guest placement", name, (int)pid, vcpus, gp->n_vcpus, THREADS_WAIT_MS / 1000, name);
            return;
        }
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        if (pidfd >= 0 ? poll(&p, 1, THREADS_POLL_MS) > 0 : (usleep(THREADS_POLL_MS * 1000), false))
            return;     /* QEMU exited */
    }
}

/* Split per thread only when the placement gives threads other sets. */
static bool per_thread(const struct cgp_guest_placement *gp)
{
    bool d = !cgp_bitmap_equal(gp->emulator.cpus, gp->cpus) || !cgp_bitmap_equal(gp->emulator.mems, gp->mems);
    for (unsigned v = 0; !d && v < gp->n_vcpus; v++)
        d = !cgp_bitmap_equal(gp->vcpu[v].cpus, gp->cpus) || !cgp_bitmap_equal(gp->vcpu[v].mems, gp->mems);
    for (size_t k = 0; !d && k < gp->n_iothreads; k++)
        d = !cgp_bitmap_equal(gp->iothreads[k].cpus, gp->cpus) ||
            !cgp_bitmap_equal(gp->iothreads[k].mems, gp->mems);
    return d;
}

/* The child's exec went through (the pipe closed on it), or why not. */
static int exec_result(struct cli *cli, int err, pid_t pid, char *cmd0)
{
    int msg[2];
    ssize_t n;
    do
        n = read(err, msg, sizeof msg);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof msg)
        return -1;
    int rc = reap(pid);
    char *c CLI_AUTO_FREE = cli_escape(cmd0);
    if (msg[0] == 'm')
        cli_error(rc, cli->cmd, "setting the memory policy: %s", strerror(msg[1]));
    else
        cli_error(rc, cli->cmd, "%s: %s", c ? c : "?", strerror(msg[1]));
    return rc;
}

int cmd_exec(struct cli *cli, struct cli_env *env)
{
    const char *name = cli->args.operands[0];
    char **cmd = cli->args.operands + 1;
    const struct cgp_guest_placement *gp = NULL;
    for (size_t i = 0; i < cgp_placement_n_guests(env->pl) && !gp; i++)
        if (!strcmp(cgp_placement_guest(env->pl, i)->name, name))
            gp = cgp_placement_guest(env->pl, i);
    char *ename CLI_AUTO_FREE = cli_escape(name);
    if (!gp)
        return cli_error(EXIT_USAGE, cli->cmd, "%s has no guest '%s': nothing started", env->policy_path,
                         ename ? ename : "?");
    if (gp->proc)
        return cli_error(EXIT_USAGE, cli->cmd, "guest '%s' already runs as process %d: nothing started", name,
                         gp->proc->pid);
    int go[2], err[2];
    if (pipe2(go, O_CLOEXEC) < 0)
        return cli_error(EXIT_RUNTIME, cli->cmd, "pipe: %s", strerror(errno));
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(go[0]);
        close(go[1]);
        return cli_error(EXIT_RUNTIME, cli->cmd, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(go[1]);
        close(err[0]);
        child(gp, go[0], err[1], cmd);
    }
    close(go[0]);
    close(err[1]);
    if (pid < 0) {
        close(go[1]);
        close(err[0]);
        return cli_error(EXIT_RUNTIME, cli->cmd, "fork: %s", strerror(errno));
    }
    child_pid = pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    /* placed whole before it runs a single instruction of CMD */
    cgp_guest_list *l CLI_AUTO_GUESTS = NULL;
    int r = cgp_guests_read_pid(env->ctx, pid, CGP_DISCOVER_ANY, &l);
    int rc = r < 0 ? cli_error(EXIT_RUNTIME, cli->cmd, "reading process %d: %s", (int)pid, strerror(-r))
                   : place(cli, env, name, cgp_guests_get(l, 0), true);
    if (rc != EXIT_OK) {
        close(go[1]);   /* the child exits 125 without running CMD */
        close(err[0]);
        reap(pid);
        if (pidfd >= 0)
            close(pidfd);
        return cli_error(rc, cli->cmd, "guest '%s' not placed: %s not started", name, cmd[0]);
    }
    struct sigaction sa = { .sa_handler = pass_on };
    sigemptyset(&sa.sa_mask);
    const int pass[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
        sigaction(pass[i], &sa, NULL);
    (void)!write(go[1], "g", 1);
    close(go[1]);
    rc = exec_result(cli, err[0], pid, cmd[0]);
    close(err[0]);
    if (rc >= 0) {
        if (pidfd >= 0)
            close(pidfd);
        return rc;
    }
    /* CMD runs: from here on, the sandbox (AF_UNIX for QMP and the bus) */
    cli->sandbox_unix = true;
    cli->sandbox_child = pid;
    if ((rc = cli_sandbox(cli, cli->cmd)) == EXIT_OK && per_thread(gp))
        place_threads(cli, env, name, gp, pid, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    return reap(pid);
}
