/* Who counts as a guest (guests/trust.c, docs/SECURITY.md): the judgement on
 * a process's facts (executable glob, owner and mode of it and its
 * directory, the process's uids), the facts as discovery reads them from a
 * fake tree, the pidfile and user match rules, and QMP within one deadline. */
#include "fakeproc.h"
#include "cgplace_guests.h"
#include "guests-int.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define QEMU "/usr/bin/qemu-system-x86_64"

/* A guest as a root-run QEMU in /usr/bin: trusted by the defaults. */
static struct cgp_guest good(void)
{
    return (struct cgp_guest){ .pid = 100, .pidfd = -1, .exe = QEMU, .exe_mode = S_IFREG | 0755,
                               .exe_dir_mode = S_IFDIR | 0755 };
}

static int judge(const struct cgp_guest *g, const struct cgp_trust *t, char *why)
{
    return cgp_guest_trusted(NULL, g, t, why, 512);
}

Test(trust, root_qemu_in_usr_bin_is_a_guest)
{
    struct cgp_guest g = good();
    char why[512];
    cr_expect_eq(judge(&g, NULL, why), 1, "%s", why);
    const char *others[] = { "/usr/bin/qemu-system-aarch64", "/usr/libexec/qemu-kvm", "/usr/bin/qemu-kvm",
                             "/usr/local/bin/qemu-system-x86_64" };
    for (size_t i = 0; i < 4; i++) {
        g.exe = others[i];
        cr_expect_eq(judge(&g, NULL, why), 1, "%s: %s", others[i], why);
    }
}

Test(trust, executable_outside_the_globs)
{
    struct cgp_guest g = good();
    char why[512];
    const char *bad[] = { "/tmp/qemu-system-x86_64", "/home/u/qemu-system-x86_64", "/usr/bin/sub/qemu-system-x86",
                          "/usr/bin/qemu-img" };
    for (size_t i = 0; i < 4; i++) {
        g.exe = bad[i];
        cr_expect_eq(judge(&g, NULL, why), 0, "%s", bad[i]);
        cr_expect(strstr(why, "not a trusted QEMU binary"), "%s", why);
    }
    /* the host block's globs replace the defaults */
    const char *const bins[] = { "/opt/qemu/bin/qemu-system-*" };
    struct cgp_trust t = { .n_binaries = 1, .binaries = bins };
    g.exe = "/opt/qemu/bin/qemu-system-x86_64";
    cr_expect_eq(judge(&g, &t, why), 1, "%s", why);
    g.exe = QEMU;
    cr_expect_eq(judge(&g, &t, why), 0, "defaults replaced");
    g.exe = NULL;
    g.exe_err = -EACCES;
    cr_expect_eq(judge(&g, NULL, why), 0);
    cr_expect(strstr(why, "cannot be read"), "%s", why);
}

Test(trust, owner_and_mode_of_executable_and_directory)
{
    char why[512];
    struct cgp_guest g = good();
    /* an owner that is neither root nor the user running the test */
    unsigned stranger = geteuid() == 65534 ? 65533 : 65534;
    g.exe_uid = stranger;
    cr_expect_eq(judge(&g, NULL, why), 0);
    cr_expect(strstr(why, "not owned by root"), "%s", why);
    g = good();
    g.exe_mode = S_IFREG | 0775;
    cr_expect_eq(judge(&g, NULL, why), 0);
    cr_expect(strstr(why, "writable by group or others"), "%s", why);
    g = good();
    g.exe_mode = S_IFREG | 0757;
    cr_expect_eq(judge(&g, NULL, why), 0, "other-writable");
    g = good();
    g.exe_mode = S_IFLNK | 0777;
    cr_expect_eq(judge(&g, NULL, why), 0);
    cr_expect(strstr(why, "not a regular file"), "%s", why);
    g = good();
    g.exe_dir_uid = stranger;
    cr_expect_eq(judge(&g, NULL, why), 0);
    cr_expect(strstr(why, "directory"), "%s", why);
    g = good();
    g.exe_dir_mode = S_IFDIR | 01777;   /* /tmp */
    cr_expect_eq(judge(&g, NULL, why), 0, "a world-writable directory");
    g = good();
    g.exe_err = -ENOENT;
    cr_expect_eq(judge(&g, NULL, why), 0, "no such file in the sysroot");
    /* the user running cgplace trusts its own files */
    g = good();
    g.exe_uid = g.exe_dir_uid = geteuid();
    cr_expect_eq(judge(&g, NULL, why), 1, "%s", why);
}

Test(trust, users, .init = fk_setup, .fini = fk_teardown)
{
    fk_text("root:x:0:0::/:/bin/sh\nlibvirt-qemu:x:64055:108::/:/bin/false\nqemu:x:107:107::/:/bin/false\n"
            "alice:x:1000:1000::/:/bin/sh\n", "etc/passwd");
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    char why[512];
    struct cgp_guest g = good();
    for (int i = 0; i < 4; i++)
        g.uids[i] = 64055;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 1, "libvirt-qemu by default: %s", why);
    for (int i = 0; i < 4; i++)
        g.uids[i] = 107;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 1, "qemu by default: %s", why);
    g.uids[3] = 1000;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 0, "every uid counts (fs uid alice)");
    cr_expect(strstr(why, "uid 1000"), "%s", why);
    for (int i = 0; i < 4; i++)
        g.uids[i] = 1000;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 0, "alice is nobody's guest user");
    const char *const users[] = { "alice" };
    struct cgp_trust t = { .n_users = 1, .users = users, .users_given = true };
    cr_expect_eq(cgp_guest_trusted(ctx, &g, &t, why, sizeof why), 1, "guest-users alice: %s", why);
    const char *const uid_only[] = { "1000" };
    t.users = uid_only;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, &t, why, sizeof why), 1, "a uid: %s", why);
    for (int i = 0; i < 4; i++)
        g.uids[i] = 107;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, &t, why, sizeof why), 0, "guest-users replaces the defaults");
    g.uids[0] = -1;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 0, "unknown uid");
    /* names are the sysroot's: no passwd there, no such user */
    fk_unlink("etc/passwd");
    for (int i = 0; i < 4; i++)
        g.uids[i] = 107;
    cr_expect_eq(cgp_guest_trusted(ctx, &g, NULL, why, sizeof why), 0, "qemu unknown in this sysroot");
    cgp_ctx_free(ctx);
}

Test(trust, uid_line)
{
    long long u[4];
    cgp_trust_parse_uids("Name:\tq\nUid:\t0\t107\t108\t109\nGid:\t0\n", u);
    cr_expect(u[0] == 0 && u[1] == 107 && u[2] == 108 && u[3] == 109);
    cgp_trust_parse_uids("Name:\tq\nUid:\t0\t1x\n", u);
    cr_expect(u[0] == 0 && u[1] == -1 && u[3] == -1, "junk stops the line");
    cgp_trust_parse_uids("Name:\tq\n", u);
    cr_expect(u[0] == -1);
    cgp_trust_parse_uids("Uid:\t5\t5\t5\t5", u);
    cr_expect(u[3] == 5, "first line");
}

static cgp_guest_list *discover_all(void)
{
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    cgp_ctx_free(ctx);
    return l;
}

/* Discovery resolves the executable inside the sysroot: a link to a path
 * the tree does not hold is unknown there, never the host's file. */
Test(trust, facts_read_inside_the_sysroot, .init = fk_setup, .fini = fk_teardown)
{
    fk_proc(200, QEMU, "qemu-system-x86", A(QEMU, "-name", "a"), 1, "/", NULL);
    fk_proc(300, "/usr/bin/qemu-system-aarch64", "qemu-system-aar", A("q", "-name", "b"), 1, "/", NULL);
    fk_unlink("usr/bin/qemu-system-aarch64");
    fk_proc(400, "/tmp/x/qemu-system-x86_64", "qemu-system-x86", A("q", "-name", "c"), 1, "/", NULL);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/tmp/x", fk_root);
    cr_assert_eq(chmod(p, 0777), 0);
    fk_text("Name:\tq\nUid:\t0\t0\t0\t65534\n", "proc/400/status");
    cgp_guest_list *l = discover_all();
    cr_assert_eq(cgp_guests_count(l), 3u);
    const struct cgp_guest *a = cgp_guests_get(l, 0), *b = cgp_guests_get(l, 1), *c = cgp_guests_get(l, 2);
    cr_expect_str_eq(a->exe, QEMU);
    cr_expect_eq(a->exe_err, 0);
    cr_expect(S_ISREG(a->exe_mode) && (a->exe_mode & 0777) == 0755);
    cr_expect(a->uids[0] == 0 && a->uids[3] == 0);
    cr_expect_eq(cgp_guest_trusted(NULL, a, NULL, NULL, 0), 1);
    cr_expect_str_eq(b->exe, "/usr/bin/qemu-system-aarch64");
    cr_expect_eq(b->exe_err, -ENOENT, "the host's /usr/bin is not the tree's");
    cr_expect_eq(cgp_guest_trusted(NULL, b, NULL, NULL, 0), 0);
    cr_expect_eq(c->exe_dir_mode & 0777, 0777u);
    cr_expect_eq(c->uids[3], 65534);
    cr_expect_eq(cgp_guest_trusted(NULL, c, NULL, NULL, 0), 0);
    cgp_guests_free(l);
}

static bool pidfile_match(cgp_ctx *ctx, const struct cgp_guest *g, const char *path)
{
    struct cgp_match m = { CGP_MATCH_PIDFILE, path };
    struct cgp_guest_placement gp = { .name = "x", .n_matches = 1, .matches = &m };
    return cgp_guest_matches(ctx, g, &gp);
}

/* match pidfile: the file exists, holds the pid, is regular, and only root
 * (or the running user) could have written it and its directory. */
Test(trust, pidfile_rules, .init = fk_setup, .fini = fk_teardown)
{
    fk_proc(500, QEMU, "qemu-system-x86", A(QEMU, "-name", "p", "-pidfile", "/run/q/claimed.pid"), 1, "/", NULL);
    fk_text("500\n", "run/q/good.pid");
    fk_text("501\n", "run/q/other.pid");
    fk_text("500\n", "run/q/gw.pid");
    fk_text("500\n", "tmp/w.pid");
    fk_text("500\n", "run/q/target");
    fk_symlink("target", "run/q/link.pid");
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/run/q", fk_root);
    cr_assert_eq(chmod(p, 0755), 0);
    snprintf(p, sizeof p, "%s/run/q/good.pid", fk_root);
    cr_assert_eq(chmod(p, 0644), 0);
    snprintf(p, sizeof p, "%s/run/q/gw.pid", fk_root);
    cr_assert_eq(chmod(p, 0664), 0);
    snprintf(p, sizeof p, "%s/tmp", fk_root);
    cr_assert_eq(chmod(p, 01777), 0);
    cgp_guest_list *l = discover_all();
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cr_expect(pidfile_match(ctx, g, "/run/q/good.pid"));
    cr_expect_not(pidfile_match(ctx, g, "/run/q/claimed.pid"), "the -pidfile string alone");
    cr_expect_not(pidfile_match(ctx, g, "/run/q/other.pid"), "another pid");
    cr_expect_not(pidfile_match(ctx, g, "/run/q/gw.pid"), "group-writable pidfile");
    cr_expect_not(pidfile_match(ctx, g, "/tmp/w.pid"), "world-writable directory");
    cr_expect_not(pidfile_match(ctx, g, "/run/q/link.pid"), "a symlink");
    cr_expect_not(pidfile_match(NULL, g, "/run/q/good.pid"), "no sysroot, no file");
    if (geteuid() == 0) {
        snprintf(p, sizeof p, "%s/run/q/good.pid", fk_root);
        cr_assert_eq(chown(p, 65534, 65534), 0);
        cr_expect_not(pidfile_match(ctx, g, "/run/q/good.pid"), "owned by nobody");
        cr_assert_eq(chown(p, 0, 0), 0);
        snprintf(p, sizeof p, "%s/run/q", fk_root);
        cr_assert_eq(chown(p, 65534, 65534), 0);
        cr_expect_not(pidfile_match(ctx, g, "/run/q/good.pid"), "directory owned by nobody");
    }
    cgp_ctx_free(ctx);
    cgp_guests_free(l);
}

Test(trust, match_user, .init = fk_setup, .fini = fk_teardown)
{
    fk_text("root:x:0:0::/:/bin/sh\nqemu:x:107:107::/:/bin/false\n", "etc/passwd");
    fk_proc(600, QEMU, "qemu-system-x86", A(QEMU, "-name", "u"), 1, "/", NULL);
    fk_text("Name:\tq\nUid:\t107\t107\t107\t107\n", "proc/600/status");
    cgp_guest_list *l = discover_all();
    const struct cgp_guest *g = cgp_guests_get(l, 0);
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    const char *yes[] = { "qemu", "107" }, *no[] = { "root", "0", "nosuchuser" };
    for (size_t i = 0; i < 2; i++) {
        struct cgp_match m = { CGP_MATCH_USER, yes[i] };
        struct cgp_guest_placement gp = { .name = "x", .n_matches = 1, .matches = &m };
        cr_expect(cgp_guest_matches(ctx, g, &gp), "match user %s", yes[i]);
    }
    for (size_t i = 0; i < 3; i++) {
        struct cgp_match m = { CGP_MATCH_USER, no[i] };
        struct cgp_guest_placement gp = { .name = "x", .n_matches = 1, .matches = &m };
        cr_expect_not(cgp_guest_matches(ctx, g, &gp), "match user %s", no[i]);
    }
    cgp_ctx_free(ctx);
    cgp_guests_free(l);
}

/* A socket that accepts into its backlog and never answers. */
static int silent(const char *rel)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", fk_root, rel);
    fk_text("", "%s", rel);
    unlink(p);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    cr_assert(strlen(p) < sizeof sa.sun_path, "TMPDIR too long for a socket path");
    strcpy(sa.sun_path, p);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(fd, 8), 0);
    return fd;
}

static int pending(int lfd)
{
    int n = 0, c;
    while ((c = accept(lfd, NULL, NULL)) >= 0) {
        close(c);
        n++;
    }
    return n;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* N sockets that never answer cost one deadline, not N: all are asked at
 * once (each connected to exactly once), and a guest not wanted is never
 * asked. The elapsed bound is generous (2 x the deadline; N deadlines would
 * be 3 x) and only catches one-deadline-per-socket. */
Test(trust, qmp_one_deadline_for_all, .init = fk_setup, .fini = fk_teardown)
{
    int lfd[4];
    for (int i = 0; i < 4; i++) {
        char rel[32], arg[64], name[8];
        snprintf(rel, sizeof rel, "q%d", i);
        snprintf(arg, sizeof arg, "unix:/q%d,server=on,wait=off", i);
        snprintf(name, sizeof name, "g%d", i);
        lfd[i] = silent(rel);
        fk_proc(700 + i, QEMU, "qemu-system-x86", A(QEMU, "-name", name, "-qmp", arg), 1, "/", NULL);
    }
    cgp_ctx *ctx = NULL;
    cr_assert_eq(cgp_ctx_new(fk_root, NULL, &ctx), 0);
    cgp_guest_list *l = NULL;
    cr_assert_eq(cgp_guests_discover(ctx, 0, &l), 0);
    cr_assert_eq(cgp_guests_count(l), 4u);
    bool want[4] = { false, true, true, true };
    long long t0 = now_ms();
    int asked = cgp_guests_query_qmp(ctx, l, want, 300);
    long long took = now_ms() - t0;
    cr_expect_eq(asked, 3, "the three wanted sockets asked at once, got %d", asked);
    cr_expect_eq(pending(lfd[0]), 0, "the guest not wanted is never connected to");
    for (int i = 1; i < 4; i++)
        cr_expect_eq(pending(lfd[i]), 1, "socket %d connected to once", i);
    cr_expect_lt(took, 600, "took %lld ms for a 300 ms deadline", took);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(cgp_guests_get(l, (size_t)i)->thread_source, CGP_THREADS_UNKNOWN);
    cgp_guests_free(l);
    /* discovery's own QMP: also one deadline, and only for guests */
    fk_text("Name:\tq\nUid:\t65534\t65534\t65534\t65534\n", "proc/700/status");
    cr_assert_eq(cgp_guests_discover(ctx, CGP_DISCOVER_QMP, &l), 0);
    cr_expect_eq(pending(lfd[0]), 0, "a process that is no guest is never asked");
    for (int i = 1; i < 4; i++)
        cr_expect_eq(pending(lfd[i]), 1, "socket %d connected to once", i);
    cgp_guests_free(l);
    cgp_ctx_free(ctx);
    for (int i = 0; i < 4; i++)
        close(lfd[i]);
}

/* Without openat2 (ENOSYS: an old kernel, or systemd's RestrictSUIDSGID=
 * filter in cgplace-watch.service), the executable is still found inside the
 * root, one component at a time, and a symlink or ".." never leads out. */
#include <seccomp.h>
#include <sys/wait.h>

Test(trust, open_in_root_without_openat2)
{
    char root[] = "/tmp/cgp-trust-XXXXXX";
    cr_assert(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "mkdir -p %s/usr/bin %s/real && touch %s/usr/bin/qemu-system-x86_64 && "
             "ln -s /real %s/link && touch %s/real/f", root, root, root, root, root);
    cr_assert_eq(system(p), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
        if (!f || seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) < 0 || seccomp_load(f) < 0)
            _exit(10);
        int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = cgp_trust_open_in_root(rfd, "/usr/bin/qemu-system-x86_64", O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            _exit(11);
        close(fd);
        fd = cgp_trust_open_in_root(rfd, "/usr/bin", O_DIRECTORY);
        if (fd < 0)
            _exit(12);
        close(fd);
        if (cgp_trust_open_in_root(rfd, "/link/f", O_NOFOLLOW) >= 0)
            _exit(13); /* through a symlink: refused */
        if (cgp_trust_open_in_root(rfd, "/usr/../../etc/passwd", 0) != -EXDEV)
            _exit(14);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    snprintf(p, sizeof p, "rm -rf %s", root);
    cr_expect_eq(system(p), 0);
    cr_assert(WIFEXITED(status), "child died");
    cr_assert_eq(WEXITSTATUS(status), 0, "step %d failed", WEXITSTATUS(status));
}
