# vm-topos: asym-systemd
"""The systemd backend on a real systemd (runs INSIDE the systemd-booted VM, as the test unit).

A QEMU guest started by hand (it lands in the test unit's cgroup) is placed by `cgplace
apply` with `backend auto`: a delegated transient scope cgplace-g1.scope in cgplace.slice,
its envelope as unit properties, the process and threads below it. Expectations come from
systemctl, /proc and the guest kernel's sysfs, never from cgplace's own report.
The rollback check runs the test build (CGPLACE_TEST_FAULTBIN, made by `make check-vm` with
CGP_TESTING=1: CGPLACE_FAULT_WRITE=k fails its k-th action); without it, it is skipped.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FAULTBIN = os.environ.get("CGPLACE_TEST_FAULTBIN", "")
import vmtest as T  # noqa: E402

RUN = "/run/cgp-sd"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
POLICY = RUN + "/policy.conf"
SCOPE = "cgplace.slice/cgplace-g1.scope"


def sh(*cmd):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def show(unit, prop):
    return sh("systemctl", "show", "-p", prop, "--value", unit)[1]


cg = T.run_cgplace
fmt = T.fmt_list


def start_qemu(name):
    pidfile = "%s/%s.pid" % (RUN, name)
    rc, out, err = sh("qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "64", "-smp", "2", "-nodefaults",
                      "-display", "none", "-daemonize", "-pidfile", pidfile, "-name", name + ",debug-threads=on")
    if rc:
        T.fatal("qemu %s: %s" % (name, err))
    pid = int(open(pidfile).read())
    for _ in range(600):   # the vCPU threads come after exec
        if sum(c.startswith("CPU ") for c in T.task_comms(pid).values()) == 2:
            break
        time.sleep(0.05)
    return pid


threads = T.task_comms


def status(pid, tid, key):
    return T.task_status(pid, tid).get(key)


def cgroup_of(pid, tid):
    return T.read("/proc/%d/task/%d/cgroup" % (pid, tid), "").split("::", 1)[-1]


def write_policy(backend, cpus, node, confine=None):
    c0, c1 = cpus
    with open(POLICY, "w") as f:
        f.write("host { backend %s; %s}\n" % (backend, "reserve cpus %s; confine host; " % fmt(confine)
                                              if confine else ""))
        f.write("guest g1 { vcpus 2; cpus %d,%d; memory 64M nodes %d; vcpupin 0 %d; vcpupin 1 %d; "
                "emulatorpin %d,%d; }\n" % (c0, c1, node, c0, c1, c0, c1))
        f.write("guest g2 { vcpus 2; cpus %d,%d; memory 64M nodes %d; }\n" % (c0, c1, node))


def check_placed(pid, cpus, node, when):
    c0, c1 = cpus
    T.eq(show("cgplace-g1.scope", "Delegate"), "yes", when + ": the scope is delegated")
    T.eq(show("cgplace-g1.scope", "AllowedCPUs"), fmt(cpus), when + ": AllowedCPUs of the scope")
    T.eq(show("cgplace-g1.scope", "AllowedMemoryNodes"), str(node), when + ": AllowedMemoryNodes of the scope")
    T.eq(show("cgplace-g1.scope", "ActiveState"), "active", when + ": the scope is active")
    for tid, comm in threads(pid).items():
        want_cg, want_cpus = "/%s/g1/emulator" % SCOPE, fmt(cpus)
        if comm.startswith("CPU "):
            v = int(comm.split()[1].split("/")[0])
            want_cg, want_cpus = "/%s/g1/vcpu%d" % (SCOPE, v), str((c0, c1)[v])
        T.eq(cgroup_of(pid, tid), want_cg, "%s: thread %d (%s) cgroup" % (when, tid, comm))
        T.eq(status(pid, tid, "Cpus_allowed_list"), want_cpus, "%s: thread %d (%s) CPUs" % (when, tid, comm))
        T.eq(status(pid, tid, "Mems_allowed_list"), str(node), "%s: thread %d (%s) nodes" % (when, tid, comm))
    rc, out, err = cg("verify", POLICY)
    T.eq(rc, 0, "%s: verify exits 0 (%s)" % (when, (out + err)[-400:]))


def wait_manager():
    for _ in range(300):
        if sh("systemctl", "is-system-running")[1] in ("running", "degraded"):
            return True
        time.sleep(0.1)
    return False


T.need_cgplace()
if T.read("/proc/1/comm") != "systemd":
    T.skip("PID 1 is not systemd (this test needs the systemd boot mode)")
nodes = [n for n in T.nodes_online() if T.node_kind(n) == "cpu+memory"]
big = max(nodes, key=lambda n: len(T.node_cpus(n)))
bc = T.node_cpus(big)
if len(bc) < 3:
    T.skip("needs a node with 3 CPUs")
A, B = (bc[0], bc[1]), (bc[1], bc[2])

pid = start_qemu("g1")
before = cgroup_of(pid, pid)
write_policy("auto", A, big)

# the host's backend: systemd, chosen by `auto`
rc, out, err = cg("--json", "guests", "-p", POLICY)
g = [x for x in json.loads(out or "{}").get("guests", []) if x.get("pid") == pid]
T.check(g and g[0].get("backend") == "systemd" and g[0].get("owner") == "other",
        "guests: a hand-started guest is owned by 'other' and placed by systemd: %s" % (g or out + err))

# plan: one StartTransientUnit, then writes below the scope only
rc, out, err = cg("--json", "plan", POLICY)
ops = json.loads(out or "{}").get("ops", []) if rc == 0 else []
T.check(ops and ops[0].get("op") == "dbus" and ops[0].get("call") == "StartTransientUnit"
        and ops[0].get("unit") == "cgplace-g1.scope", "plan starts the scope first: %s" % (ops[:1] or err))
T.check(all(o.get("op") == "dbus" or o.get("path", "").startswith(SCOPE) for o in ops),
        "plan writes only below the scope: %s" % [o.get("path") for o in ops if o.get("op") != "dbus"])

rc, out, err = cg("apply", POLICY)
T.eq(rc, 0, "apply under systemd (%s)" % (out + err)[-600:])
check_placed(pid, A, big, "after apply")
T.check(before != cgroup_of(pid, pid), "the guest left the unit it was started in (%s)" % before)

rc, out, err = cg("--json", "apply", POLICY)
T.eq(json.loads(out or "{}").get("ops", ["?"]), [], "a second apply changes nothing (%s)" % err[-300:])

# systemd's own reloads keep the placement
sh("systemctl", "daemon-reload")
check_placed(pid, A, big, "after daemon-reload")
sh("systemctl", "daemon-reexec")
T.check(wait_manager(), "systemd answers again after daemon-reexec")
check_placed(pid, A, big, "after daemon-reexec")

# a new placement moves the envelope through the unit properties
write_policy("auto", B, big)
rc, out, err = cg("--json", "apply", POLICY)
T.eq(rc, 0, "apply of a changed policy (%s)" % (out + err)[-600:])
calls = [(o.get("call"), o.get("property")) for o in json.loads(out or "{}").get("ops", []) if o.get("op") == "dbus"]
T.check(("SetUnitProperties", "AllowedCPUs") in calls, "the envelope changed through SetUnitProperties: %s" % calls)
check_placed(pid, B, big, "after the change")

# forcing cgroupfs under systemd is loudly reported
write_policy("cgroupfs", B, big)
rc, out, err = cg("plan", POLICY)
T.check("forces 'backend cgroupfs'" in err, "plan warns that cgroupfs is forced under systemd: %s" % err[-400:])
write_policy("auto", B, big)

# rollback: a failure after the scope was started puts the process back and stops the scope
pid2 = start_qemu("g2")
before2 = cgroup_of(pid2, pid2)
if not os.access(FAULTBIN, os.X_OK):
    T.log("  skip: no test build (CGPLACE_TEST_FAULTBIN): rollback not checked")
else:
    rc, out, err = cg("apply", POLICY, env={"CGPLACE_FAULT_WRITE": "3"}, binary=FAULTBIN)
    T.eq(rc, 1, "apply with the 3rd action failing exits 1 (%s)" % (out + err)[-400:])
    T.eq(cgroup_of(pid2, pid2), before2, "after rollback the guest is back in its unit")
    T.check(show("cgplace-g2.scope", "ActiveState") in ("inactive", "failed", ""),
            "after rollback the started scope is stopped: %s" % show("cgplace-g2.scope", "ActiveState"))
    T.check(os.path.exists("/proc/%d" % pid2), "the rollback did not kill the guest")
    rc, out, err = cg("apply", POLICY)
    T.eq(rc, 0, "apply after the rollback (%s)" % (out + err)[-400:])
    T.eq(show("cgplace-g2.scope", "Delegate"), "yes", "g2 placed in its own delegated scope")

# confine host: systemd's own units on the reserved CPUs, persistently
others = [c for c in T.cpus_online() if c not in bc]
if others:
    write_policy("auto", B, big, confine=others[:1])
    rc, out, err = cg("apply", POLICY)
    T.eq(rc, 0, "apply with confine host (%s)" % (out + err)[-600:])
    for unit in ("init.scope", "system.slice", "user.slice"):
        T.eq(show(unit, "AllowedCPUs"), fmt(others[:1]), "confine host: AllowedCPUs of %s" % unit)
    T.check(os.path.isdir("/etc/systemd/system.control/system.slice.d"),
            "confine host is persistent (a drop-in in /etc/systemd/system.control)")
    T.eq(status(os.getpid(), os.getpid(), "Cpus_allowed_list"), fmt(others[:1]),
         "this test, in system.slice, now runs on the reserved CPU")
    rc, out, err = cg("verify", POLICY)
    T.eq(rc, 0, "verify with confine host (%s)" % (out + err)[-400:])
else:
    T.log("  skip: no CPU outside node %d to reserve: confine host not checked" % big)

for p in (pid, pid2):
    try:
        os.kill(p, 9)
    except ProcessLookupError:
        pass
T.finish()
