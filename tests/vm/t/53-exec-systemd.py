# vm-topos: asym-systemd
"""cgplace exec under systemd (runs INSIDE the systemd-booted VM, as the test unit): like
`systemd-run --scope`, exec puts its child in a delegated transient scope of its own,
cgplace-NAME.scope in cgplace.slice, before CMD runs; QEMU's threads then get their groups
below the scope. With `machined yes` the scope is registered with systemd-machined
(`machinectl show`). The scope and the machine go away with QEMU. Expectations come from
systemctl, machinectl and /proc.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-exec-sd"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
T.need_cgplace()
SCOPE = "cgplace-ge.scope"
cpus = T.cpus_online()
mem = [n for n in T.nodes_online() if T.node_kind(n) == "cpu+memory"]
if len(cpus) < 2 or not mem:
    T.skip("needs 2 CPUs and a node with CPUs and memory")


def show(unit, prop):
    p = subprocess.run(["systemctl", "show", "-p", prop, "--value", unit], capture_output=True, text=True)
    return p.stdout.strip()


pol = RUN + "/policy.conf"
with open(pol, "w") as f:
    f.write("host { machined yes; }\nguest ge {\n  vcpus 2;\n  cpus %s;\n  memory 16M nodes %d;\n  vcpupin 0 %d;\n  vcpupin 1 %d;\n}\n"
            % (T.fmt_list(cpus[:2]), mem[0], cpus[0], cpus[1]))
sup = subprocess.Popen([T.CGPLACE, "exec", "-p", pol, "ge", "--", "qemu-system-x86_64", "-accel", "tcg", "-S",
                        "-m", "16", "-smp", "2", "-nodefaults", "-display", "none",
                        "-name", "guest=ge,debug-threads=on"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
qpid = None
for _ in range(600):
    kids = T.read("/proc/%d/task/%d/children" % (sup.pid, sup.pid), "").split()
    if kids:
        qpid = int(kids[0])
        cgs = [T.task_cgroup(qpid, t) or "" for t, c in T.task_comms(qpid).items() if c.startswith("CPU ")]
        if len(cgs) == 2 and all(re.search(r"/vcpu\d+$", p) for p in cgs):
            break
    if sup.poll() is not None:
        T.fatal("exec ge exited %d: %s" % (sup.returncode, sup.stderr.read()))
    time.sleep(0.1)
else:
    T.fatal("exec ge: QEMU's vCPU threads never got their groups")

T.eq(show(SCOPE, "Delegate"), "yes", "exec under systemd: its own delegated scope")


def machine(prop):
    p = subprocess.run(["machinectl", "show", "ge", "-p", prop, "--value"], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else None


T.eq(machine("Unit"), SCOPE, "machined yes: machinectl shows guest ge in its scope")
T.eq(machine("Class"), "vm", "machined yes: registered as a vm")
T.eq(machine("Leader"), str(qpid), "machined yes: QEMU is the machine's leader")
T.eq(show(SCOPE, "Slice"), "cgplace.slice", "exec under systemd: the scope in cgplace.slice")
T.eq(T.task_cgroup(qpid), "/cgplace.slice/%s/ge/emulator" % SCOPE, "exec under systemd: QEMU's main thread")
for t, c in T.task_comms(qpid).items():
    m = re.match(r"CPU (\d+)/", c)
    if m:
        v = int(m.group(1))
        T.eq(T.task_cgroup(qpid, t), "/cgplace.slice/%s/ge/vcpu%d" % (SCOPE, v), "exec under systemd: %s group" % c)
        T.eq(T.task_status(qpid, t)["Cpus_allowed_list"], str(cpus[v]), "exec under systemd: %s pinned" % c)
os.kill(sup.pid, signal.SIGTERM)
try:
    sup.wait(timeout=60)
except subprocess.TimeoutExpired:
    os.kill(qpid, signal.SIGKILL)
    T.fatal("exec ge: no exit after SIGTERM")
for _ in range(100):
    if show(SCOPE, "ActiveState") in ("inactive", "failed", ""):
        break
    time.sleep(0.1)
T.check(show(SCOPE, "ActiveState") in ("inactive", ""), "exec under systemd: the scope is gone with QEMU (%s)"
        % show(SCOPE, "ActiveState"))
for _ in range(50):
    if machine("Unit") is None:
        break
    time.sleep(0.1)
T.eq(machine("Unit"), None, "machined yes: the machine is gone with its scope")
T.finish()
