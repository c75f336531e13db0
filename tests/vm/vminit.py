"""Shared by the boot-time enforcement tests (t/60-sysv-init, t/61-systemd-unit): nested
QEMU guests with named threads and the check that every thread is where a policy puts it.

    import vminit as I
    pid = I.start_qemu(RUN, "g1", user=65534)    # -daemonize, -S, 2 vCPUs, 16 MiB; killed at exit
    I.policy(path, [(name, cpus, node, pins)])   # host { unmanaged ignore; } + one block each
    I.placed(pid, cpus, node, pins, "tag")       # every thread checked from /proc (vmtest.check)
"""
import atexit
import os
import re
import subprocess
import time

import vmtest as T

QEMUS = []


def start_qemu(run, name, user=None):
    """A paused 2-vCPU QEMU named NAME (debug-threads), as uid USER if given; its pid once
    both vCPU threads exist."""
    pidfile = "%s/%s.pid" % (run, name)
    argv = ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-S", "-m", "16", "-smp", "2", "-nodefaults",
            "-display", "none", "-daemonize", "-pidfile", pidfile, "-name", "guest=%s,debug-threads=on" % name]
    if user is not None:
        argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", "--"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode:
        T.fatal("qemu %s: %s" % (name, p.stderr))
    pid = int(open(pidfile).read())
    QEMUS.append(pid)
    for _ in range(200):   # the vCPU threads come after exec
        if len(vcpus(pid)) == 2:
            break
        time.sleep(0.05)
    return pid


def kill(pid):
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    if pid in QEMUS:
        QEMUS.remove(pid)


def vcpus(pid):
    """{vcpu index: tid} from the thread names (CPU N/TCG)."""
    out = {}
    for t, c in T.task_comms(pid).items():
        m = re.match(r"CPU (\d+)/", c)
        if m:
            out[int(m.group(1))] = t
    return out


def is_placed(pid, want_cpus, node, pins):
    """True when every thread is on NODE and within WANT_CPUS, each vCPU on its pin."""
    v = {t: i for i, t in vcpus(pid).items()}
    return sorted(v.values()) == list(range(len(pins))) and all(
        T.task_status(pid, t)["Mems_allowed_list"] == str(node) and
        T.task_status(pid, t)["Cpus_allowed_list"] == T.fmt_list([pins[v[t]]] if t in v else want_cpus)
        for t in T.task_comms(pid))


def placed(pid, want_cpus, node, pins, tag):
    """is_placed, each thread a check of its own (the failures say which thread)."""
    v = {t: i for i, t in vcpus(pid).items()}
    ok = T.eq(sorted(v.values()), list(range(len(pins))), "%s: vCPU threads named" % tag)
    for t in T.task_comms(pid):
        st = T.task_status(pid, t)
        ok &= T.eq(st["Mems_allowed_list"], str(node), "%s: thread %d Mems_allowed_list" % (tag, t))
        want = [pins[v[t]]] if t in v else want_cpus
        ok &= T.eq(st["Cpus_allowed_list"], T.fmt_list(want), "%s: thread %d Cpus_allowed_list" % (tag, t))
    return ok


def policy(path, guests):
    """GUESTS: (name, cpus, node, pins) each; 2 vCPUs, 16M strict on NODE."""
    with open(path, "w") as f:
        # guests may run as nobody (60's capability test): the trust model wants it said
        f.write("host {\n    unmanaged ignore;\n    guest-users nobody;\n}\n")
        for name, gcpus, node, pins in guests:
            f.write("guest %s {\n    vcpus 2;\n    cpus %s;\n    memory 16M nodes %d mode strict;\n"
                    "    vcpupin 0 %d;\n    vcpupin 1 %d;\n}\n" % (name, T.fmt_list(gcpus), node, pins[0], pins[1]))
    os.chmod(path, 0o644)
    return path


@atexit.register
def _cleanup():
    for pid in list(QEMUS):
        kill(pid)
    time.sleep(0.3)
    for d, dirs, files in sorted(os.walk(T.CG + "/cgplace"), key=lambda x: -len(x[0])):
        try:
            os.rmdir(d)
        except OSError:
            pass
