/* `unmanaged ignore|warn|deny|deny-all` on the fake tree (fakecg.c): a QEMU
 * process no block places, plain (it floats free) or libvirt's (managed by
 * libvirt), next to a guest the policy places. For each setting: the
 * outcome, the count, the stray list, the level of the message, whether the
 * run is denied (cgplace exits 3), that the placed guest is still placed,
 * and verify's verdict; a dry run only warns; the names are escaped. */
#include "fakecg.h"
#include "cgctl-int.h"
#include "cgplace_cgctl.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LV_SCOPE "machine.slice/machine-qemu\\x2d1\\x2dstray.scope"

static struct fake F;
static cgp_ctx *TOPO_CTX, *CTX;
static cgp_topology *TOPO;
static struct cgp_guest_thread TH_WEB[FAKE_QEMU_THREADS], TH_STRAY[FAKE_QEMU_THREADS];
static struct cgp_guest G_WEB, G_STRAY;
static const struct cgp_guest *PROCS[2] = { &G_WEB, &G_STRAY };

static void setup(void)
{
    fake_session_open(&F, &TOPO_CTX, &TOPO, &CTX);
    fake_qemu(&F, &G_WEB, TH_WEB, 1000, "web");
    unsetenv("CGPLACE_FAULT_WRITE");
}

static void teardown(void)
{
    fake_session_close(&F, TOPO_CTX, TOPO, CTX);
}

TestSuite(unmanaged, .init = setup, .fini = teardown);

/* The stray: pid 2000, in user.slice, or libvirt's (machine.slice, foreign). */
static void add_stray(bool libvirt, const char *name)
{
    if (!libvirt) {
        fake_qemu(&F, &G_STRAY, TH_STRAY, 2000, name);
        return;
    }
    fake_mkcg(&F, "machine.slice");
    fake_mkcg(&F, LV_SCOPE);
    fake_mkcg(&F, LV_SCOPE "/libvirt");
    fake_mkcg(&F, LV_SCOPE "/libvirt/emulator");
    int tids[FAKE_QEMU_THREADS];
    for (int i = 0; i < FAKE_QEMU_THREADS; i++)
        tids[i] = 2000 + i;
    fake_add_process(&F, 2000, tids, FAKE_QEMU_THREADS, LV_SCOPE "/libvirt/emulator");
    for (int i = 0; i < FAKE_QEMU_THREADS; i++)
        TH_STRAY[i] = (struct cgp_guest_thread){ 2000 + i, i < 2 ? CGP_THREAD_EMULATOR : CGP_THREAD_VCPU,
                                                 i < 2 ? -1 : i - 2, NULL };
    G_STRAY = (struct cgp_guest){ .pid = 2000, .pidfd = -1, .start_time = 20000, .name = name,
                                  .cgroup = "/" LV_SCOPE "/libvirt/emulator", .foreign = true,
                                  .thread_source = CGP_THREADS_NAMES, .n_threads = 6, .threads = TH_STRAY };
}

static cgp_placement *compile_with(const char *unmanaged)
{
    char pol[512];
    snprintf(pol, sizeof pol,
             "host { parent \"cgplace\"; %s }\n"
             "guest web { vcpus 4; cpus 0-3; memory 1G nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2;"
             " vcpupin 3 3; emulatorpin 0-1; iothreadpin io1 2-3; }\n",
             unmanaged);
    return fake_compile(TOPO, pol);
}

static cgp_enforce *run(const cgp_placement *pl, unsigned flags)
{
    cgp_enforce *e = NULL;
    int r = cgp_enforce_run(CTX, pl, PROCS, 2, flags, &e);
    cr_assert(r == 0, "cgp_enforce_run: %s (%s)", strerror(-r), cgp_ctx_last_error(CTX));
    return e;
}

/* The one message about pid 2000 (NULL: none); asserts there is at most one. */
static const struct cgp_enforce_msg *stray_msg(const cgp_enforce *e)
{
    const struct cgp_enforce_msg *m = NULL;
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        if (cgp_enforce_msg(e, i)->pid == 2000) {
            cr_assert_null(m, "two messages about the stray");
            m = cgp_enforce_msg(e, i);
        }
    return m;
}

/* An error message goes only with a failure: here the outcome is OK, so
 * only with a denied run. */
static void assert_levels_agree(const cgp_enforce *e)
{
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        if (cgp_enforce_msg(e, i)->level == CGP_MSG_ERROR)
            cr_assert(s->outcome != CGP_ENFORCE_OK || s->unmanaged_denied,
                      "error message with a run that succeeds: %s", cgp_enforce_msg(e, i)->text);
}

/* web is placed whatever happens to the stray */
static void assert_web_placed(const cgp_enforce *e)
{
    cr_assert_eq(cgp_enforce_guest(e, 0)->state, CGP_GUEST_CHANGED);
    cr_assert_str_eq(fake_task_cg(&F, 1002), "cgplace/web/vcpu0");
    cr_assert_str_eq(fake_task_cg(&F, 1005), "cgplace/web/vcpu3");
    cr_assert_str_eq(fake_task_cg(&F, 1000), "cgplace/web/emulator");
    char p[512];
    snprintf(p, sizeof p, "%s/proc/1000/task/1003/status", F.sys);
    char *st = fake_rfile(p);
    cr_assert(strstr(st, "Cpus_allowed_list:\t1\n"), "vcpu1 of web not on CPU 1:\n%s", st);
    free(st);
}

/* the stray is never touched: still where it was */
static void assert_stray_untouched(bool libvirt)
{
    cr_assert_str_eq(fake_task_cg(&F, 2002), libvirt ? LV_SCOPE "/libvirt/emulator" : "user.slice");
    cr_assert_null(strstr(F.log, "2000"), "the stray was written to:\n%s", F.log);
}

struct expect {
    const char *setting;
    bool libvirt;
    size_t n_unmanaged;
    bool denied;
    int level;             /* -1: no message */
    const char *says;      /* in the message */
    bool drift;            /* verify after the apply */
};

static void check(const struct expect *x)
{
    add_stray(x->libvirt, "stray");
    cgp_placement *pl = compile_with(x->setting);
    cgp_enforce *e = run(pl, 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK, "%s: outcome %d", x->setting, s->outcome);
    cr_assert_eq(s->n_unmanaged, x->n_unmanaged, "%s: n_unmanaged %zu", x->setting, s->n_unmanaged);
    cr_assert_eq(s->n_unmanaged_libvirt, x->libvirt ? 1u : 0u);
    cr_assert_eq(s->unmanaged_denied, x->denied, "%s: denied %d", x->setting, s->unmanaged_denied);
    cr_assert_eq(cgp_enforce_n_strays(e), 1u);
    const struct cgp_enforce_stray *st = cgp_enforce_stray(e, 0);
    cr_assert_eq(st->proc, &G_STRAY);
    cr_assert_eq(st->libvirt, x->libvirt);
    cr_assert_eq(st->counted, x->n_unmanaged == 1);
    cr_assert_null(cgp_enforce_stray(e, 1));
    const struct cgp_enforce_msg *m = stray_msg(e);
    if (x->level < 0)
        cr_assert_null(m, "%s: a message: %s", x->setting, m ? m->text : "");
    else {
        cr_assert_not_null(m, "%s: no message about the stray", x->setting);
        cr_assert_eq((int)m->level, x->level, "%s: level %d: %s", x->setting, m->level, m->text);
        cr_assert(strstr(m->text, "QEMU process 2000 (stray, cgroup "), "%s", m->text);
        cr_assert(strstr(m->text, x->says), "%s: '%s' not in: %s", x->setting, x->says, m->text);
    }
    assert_levels_agree(e);
    assert_web_placed(e);
    assert_stray_untouched(x->libvirt);
    cgp_enforce_free(e);

    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, PROCS, 2, &v) == 0);
    cr_assert_eq(cgp_verify_drift(v), x->drift, "%s: verify drift %d", x->setting, cgp_verify_drift(v));
    cr_assert(!cgp_verify_guest(v, 0)->drift, "web complies after the apply");
    cr_assert_eq(cgp_enforce_summary(cgp_verify_plan(v))->unmanaged_denied, x->denied);
    assert_levels_agree(cgp_verify_plan(v));
    cgp_verify_free(v);
    cgp_placement_free(pl);
}

Test(unmanaged, ignore_plain)
{
    check(&(struct expect){ "unmanaged ignore;", false, 1, false, -1, "", false });
}

Test(unmanaged, ignore_libvirt)
{
    check(&(struct expect){ "unmanaged ignore;", true, 0, false, -1, "", false });
}

Test(unmanaged, warn_plain)
{
    check(&(struct expect){ "unmanaged warn;", false, 1, false, CGP_MSG_WARNING, "matches no guest of the policy",
                            false });
}

Test(unmanaged, default_is_warn)
{
    check(&(struct expect){ "", false, 1, false, CGP_MSG_WARNING, "matches no guest of the policy", false });
}

Test(unmanaged, warn_libvirt)
{
    check(&(struct expect){ "unmanaged warn;", true, 0, false, CGP_MSG_WARNING, "is managed by libvirt; no block places it",
                            false });
}

Test(unmanaged, deny_plain_fails_the_run_and_places_the_rest)
{
    check(&(struct expect){ "unmanaged deny;", false, 1, true, CGP_MSG_ERROR, "it floats free (unmanaged deny)",
                            true });
}

Test(unmanaged, deny_libvirt_is_not_floating_free)
{
    check(&(struct expect){ "unmanaged deny;", true, 0, false, CGP_MSG_WARNING,
                            "is managed by libvirt; no block places it (not counted", false });
}

Test(unmanaged, deny_all_plain)
{
    check(&(struct expect){ "unmanaged deny-all;", false, 1, true, CGP_MSG_ERROR, "it floats free (unmanaged deny)",
                            true });
}

Test(unmanaged, deny_all_counts_libvirt)
{
    check(&(struct expect){ "unmanaged deny-all;", true, 1, true, CGP_MSG_ERROR,
                            "matches no guest of the policy (managed by libvirt): it floats free", true });
}

/* Without a stray, deny is silent and verify finds no drift. */
Test(unmanaged, deny_without_stray)
{
    cgp_placement *pl = compile_with("unmanaged deny;");
    cgp_enforce *e = NULL;
    cr_assert(cgp_enforce_run(CTX, pl, PROCS, 1, 0, &e) == 0);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(s->n_unmanaged, 0u);
    cr_assert(!s->unmanaged_denied);
    cr_assert_eq(cgp_enforce_n_strays(e), 0u);
    for (size_t i = 0; i < cgp_enforce_n_msgs(e); i++)
        cr_assert_neq(cgp_enforce_msg(e, i)->level, CGP_MSG_ERROR, "%s", cgp_enforce_msg(e, i)->text);
    assert_web_placed(e);
    cgp_enforce_free(e);
    cgp_verify *v = NULL;
    cr_assert(cgp_verify_run(CTX, pl, PROCS, 1, &v) == 0);
    cr_assert(!cgp_verify_drift(v));
    cgp_verify_free(v);
    cgp_placement_free(pl);
}

/* plan is a dry run: the stray is a warning that says what apply will do,
 * and the run is not denied. */
Test(unmanaged, dry_run_only_warns)
{
    add_stray(false, "stray");
    cgp_placement *pl = compile_with("unmanaged deny;");
    cgp_enforce *e = run(pl, CGP_ENFORCE_DRY_RUN);
    const struct cgp_enforce_summary *s = cgp_enforce_summary(e);
    cr_assert_eq(s->outcome, CGP_ENFORCE_OK);
    cr_assert_eq(s->n_unmanaged, 1u);
    cr_assert(!s->unmanaged_denied);
    const struct cgp_enforce_msg *m = stray_msg(e);
    cr_assert_not_null(m);
    cr_assert_eq(m->level, CGP_MSG_WARNING, "%s", m->text);
    cr_assert(strstr(m->text, "apply and verify will fail"), "%s", m->text);
    cr_assert_gt(cgp_enforce_n_ops(e), 0u, "web's writes are planned");
    cr_assert_eq(F.n_forward, 0u, "a dry run writes nothing");
    assert_levels_agree(e);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* The process's name and cgroup are another process's bytes: escaped. */
Test(unmanaged, names_escaped)
{
    add_stray(false, "evil\n\033[2Jname");
    cgp_placement *pl = compile_with("unmanaged deny;");
    cgp_enforce *e = run(pl, 0);
    const struct cgp_enforce_msg *m = stray_msg(e);
    cr_assert_not_null(m);
    cr_assert(strstr(m->text, "evil\\x0a\\x1b[2Jname"), "%s", m->text);
    for (const char *c = m->text; *c; c++)
        cr_assert((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in: %s", m->text);
    cgp_enforce_free(e);
    cgp_placement_free(pl);
}

/* The grammar: deny-all is deny with libvirt's guests counted. */
Test(unmanaged, grammar)
{
    cgp_placement *pl = compile_with("unmanaged deny-all;");
    cr_assert_eq(cgp_placement_host(pl)->unmanaged, CGP_UNMANAGED_DENY);
    cr_assert(cgp_placement_host(pl)->unmanaged_libvirt);
    cgp_placement_free(pl);
    pl = compile_with("unmanaged deny;");
    cr_assert_eq(cgp_placement_host(pl)->unmanaged, CGP_UNMANAGED_DENY);
    cr_assert(!cgp_placement_host(pl)->unmanaged_libvirt);
    cgp_placement_free(pl);
    pl = compile_with("");
    cr_assert_eq(cgp_placement_host(pl)->unmanaged, CGP_UNMANAGED_WARN);
    cr_assert(!cgp_placement_host(pl)->unmanaged_libvirt);
    cgp_placement_free(pl);
    const char *bad = "host { unmanaged libvirt; }\n";
    cgp_diags *d = cgp_diags_new();
    cgp_policy *p = NULL;
    cr_assert_eq(cgp_policy_parse_buffer("t.conf", bad, strlen(bad), d, &p), -EINVAL);
    cr_assert(strstr(cgp_diags_get(d, 0)->msg, "'deny-all'"), "%s", cgp_diags_get(d, 0)->msg);
    cgp_diags_free(d);
}
