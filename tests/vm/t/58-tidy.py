# vm-topos: asym-services
"""apply removes the groups the placement no longer has, on a real kernel:

- a guest placed with 4 vCPUs and an I/O thread, then restarted with 2 vCPUs and none
  under a policy that says so: plan lists rmdir of vcpu2, vcpu3 and iothread-io1 (and
  changes nothing); apply places every thread and those directories are gone (read from
  the cgroup file system), vcpu0/vcpu1/emulator stay; a second apply writes nothing and
  verify finds no drift;
- a policy guest that stopped: its PARENT/GUEST goes with its children once empty; while
  a process (not a guest) still runs in it, nothing is planned and it stays;
- a guest renamed in the policy: its process moves to the new group and the old one goes;
- a directory under PARENT named for no guest of the policy, that no guest leaves, stays.
Every effect is read from /proc and the cgroup files, never from cgplace's report.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-tidy"
PARENT = "cgp-tidy"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
T.need_cgplace()
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory" and len(T.node_cpus(n)) >= 3]
if not withmem:
    T.skip("needs a node with 3 CPUs and memory")
N0 = withmem[0]
C = T.node_cpus(N0)
QEMUS = []
G = T.CG + "/" + PARENT


def start_qemu(name, smp, iothread):
    pidfile = "%s/%s.pid" % (RUN, name)
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "16", "-smp", str(smp), "-nodefaults",
            "-display", "none", "-daemonize", "-pidfile", pidfile, "-name", "guest=%s,debug-threads=on" % name]
    if iothread:
        argv += ["-object", "iothread,id=io1"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode:
        T.fatal("qemu %s: %s" % (name, p.stderr))
    pid = int(open(pidfile).read())
    QEMUS.append(pid)
    for _ in range(600):
        if sum(c.startswith("CPU ") for c in T.task_comms(pid).values()) == smp:
            break
        time.sleep(0.05)
    return pid


def stop_qemu(pid):
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        st = T.read("/proc/%d/stat" % pid, "")
        if not st or st.rsplit(")", 1)[-1].split()[0] == "Z":
            break
        time.sleep(0.05)
    time.sleep(0.2)   # the kernel empties the cgroup once the task is reaped
    QEMUS.remove(pid)


def policy(*guests):
    path = RUN + "/policy.conf"
    with open(path, "w") as f:
        f.write('host { parent "%s"; backend cgroupfs; }\n' % PARENT)
        f.write("".join(guests))
    return path


def guest(name, vcpus, io, match=""):
    pins = "".join("  vcpupin %d %d;\n" % (v, C[1 + v % 2]) for v in range(vcpus))
    return ("guest %s {\n%s  vcpus %d;\n  cpus %s;\n  memory 16M nodes %d;\n%s  emulatorpin %d;\n%s}\n"
            % (name, "  match name %s;\n" % match if match else "", vcpus, T.fmt_list(C[:3]), N0, pins, C[0],
               "  iothreadpin io1 %d;\n" % C[0] if io else ""))


def dirs(rel):
    p = G + "/" + rel
    return sorted(d for d in os.listdir(p) if os.path.isdir(os.path.join(p, d))) if os.path.isdir(p) else None


def plan_rmdirs(pol):
    rc, out, err = T.run_cgplace("--json", "plan", pol)
    try:
        ops = json.loads(out).get("ops", [])
    except ValueError:
        T.fatal("plan --json: %d %s %s" % (rc, out, err))
    return sorted(o["path"] for o in ops if o.get("op") == "rmdir"), ops


# ---------------------------------------------------------------- fewer vCPUs, no I/O thread
t1 = start_qemu("t1", 4, True)
pol = policy(guest("t1", 4, True))
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 0, "apply t1 with 4 vCPUs and io1 (%s)" % err.strip())
T.eq(dirs("t1"), ["emulator", "iothread-io1", "vcpu0", "vcpu1", "vcpu2", "vcpu3"], "t1's groups with 4 vCPUs")

stop_qemu(t1)
t1 = start_qemu("t1", 2, False)
pol = policy(guest("t1", 2, False))
want = ["%s/t1/%s" % (PARENT, d) for d in ("iothread-io1", "vcpu2", "vcpu3")]
got, ops = plan_rmdirs(pol)
T.eq(got, want, "plan lists the removal of the groups t1 no longer has")
T.eq(dirs("t1"), ["emulator", "iothread-io1", "vcpu0", "vcpu1", "vcpu2", "vcpu3"], "plan removed nothing")
rc, out, err = T.run_cgplace("-v", "apply", pol)
T.check(rc == 0 and "warning" not in err, "apply t1 with 2 vCPUs: exit 0, no warning (%d: %s)" % (rc, err.strip()))
T.eq(dirs("t1"), ["emulator", "vcpu0", "vcpu1"], "the stale groups are gone from the cgroup file system")
for t, c in T.task_comms(t1).items():
    st = T.task_status(t1, t)
    v = int(c.split()[1].split("/")[0]) if c.startswith("CPU ") else None
    T.eq(T.task_cgroup(t1, t), "/%s/t1/%s" % (PARENT, "vcpu%d" % v if v is not None else "emulator"),
         "thread %d (%s) in its group" % (t, c))
    T.eq(st["Cpus_allowed_list"], str(C[1 + v % 2] if v is not None else C[0]), "thread %d (%s) CPUs" % (t, c))
rc, out, err = T.run_cgplace("--json", "apply", pol)
T.check(rc == 0 and json.loads(out or "{}").get("writes") == 0, "a second apply writes nothing (%.300s)" % out)
rc, out, err = T.run_cgplace("verify", pol)
T.check(rc == 0 and "no drift" in out, "verify: no drift (%d: %s)" % (rc, out[-300:]))

# ---------------------------------------------------------------- a stopped guest; a stranger's directory
t2 = start_qemu("t2", 2, False)
os.makedirs(G + "/admin-made", exist_ok=True)
pol = policy(guest("t1", 2, False), guest("t2", 2, False))
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 0, "apply t1 and t2 (%s)" % err.strip())
T.eq(dirs("t2"), ["emulator", "vcpu0", "vcpu1"], "t2's groups")
stop_qemu(t2)
# a process that is no guest still runs in t2's group: nothing planned for it, it stays
sleeper = subprocess.Popen(["sleep", "60"])
T.cg_write(G + "/t2/cgroup.procs", str(sleeper.pid))
got, ops = plan_rmdirs(pol)
T.eq(got, [], "t2's group holds a process: no removal planned")
rc, out, err = T.run_cgplace("apply", pol)
T.check(rc == 0 and dirs("t2") == ["emulator", "vcpu0", "vcpu1"], "apply leaves t2's populated group (%d: %s)"
        % (rc, err.strip()))
sleeper.kill()
sleeper.wait()
time.sleep(0.2)
got, ops = plan_rmdirs(pol)
T.eq(got, ["%s/t2" % PARENT] + ["%s/t2/%s" % (PARENT, d) for d in ("emulator", "vcpu0", "vcpu1")],
     "once empty, plan lists t2's group and its children")
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 0, "apply after t2 stopped (%s)" % err.strip())
T.check(not os.path.exists(G + "/t2"), "t2's group is gone")
T.eq(dirs("t1"), ["emulator", "vcpu0", "vcpu1"], "t1's groups stay")
T.check(os.path.isdir(G + "/admin-made"), "a directory named for no guest of the policy is left alone")

# ---------------------------------------------------------------- a renamed guest
pol = policy(guest("renamed", 2, False, match="t1"))
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 0, "apply with t1's block renamed (%s)" % err.strip())
T.eq({T.task_cgroup(t1, t).split("/")[2] for t in T.task_comms(t1)}, {"renamed"}, "t1's threads moved to 'renamed'")
T.check(not os.path.exists(G + "/t1"), "the group of the old name is gone")
T.check(os.path.isdir(G + "/admin-made"), "the directory named for no guest still stays")

for pid in list(QEMUS):
    stop_qemu(pid)
time.sleep(0.3)
T.cg_rmtree(PARENT)
T.finish()
