# vm-topos: asym-services
"""`unmanaged deny` on a real kernel: two QEMUs, a policy that places one of them.

- apply exits 3 naming the stray QEMU (pid, name, cgroup) and still places the other
  (every thread's Cpus_allowed_list / Mems_allowed_list and cgroup, read from /proc);
  the stray is not touched; --json lists it; verify exits 3; plan warns and exits 0;
- under `unmanaged warn` the same host is exit 0 with a warning;
- once the stray is gone, apply and verify exit 0.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-unmanaged"
PARENT = "cgp-unmanaged"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
T.need_cgplace()
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
cpus = T.cpus_online()
if not withmem or not T.node_cpus(withmem[0]):
    T.skip("needs a node with CPUs and memory")
N0 = withmem[0]
C0 = T.node_cpus(withmem[0])[0]
QEMUS = []


def start_qemu(name):
    pidfile = "%s/%s.pid" % (RUN, name)
    pid = T.start_qemu(name, pidfile)
    QEMUS.append(pid)
    return pid


def gone(pid):
    st = T.read("/proc/%d/stat" % pid, "")
    return not st or st.rsplit(")", 1)[-1].split()[0] == "Z"


def policy(setting):
    path = RUN + "/policy.conf"
    with open(path, "w") as f:
        f.write('host { %s parent "%s"; backend cgroupfs; }\n'
                "guest placed {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %d;\n}\n" % (setting, PARENT, C0, N0))
    return path


placed = start_qemu("placed")
stray = start_qemu("stray")
stray_cg = T.task_cgroup(stray)
before = (T.task_status(stray)["Cpus_allowed_list"], T.task_status(stray)["Mems_allowed_list"], stray_cg)

# ---------------------------------------------------------------- deny with a stray guest
pol = policy("unmanaged deny;")
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 3, "apply under unmanaged deny with a stray guest exits 3 (%s)" % err.strip())
T.check("cgplace: error: QEMU process %d (stray, cgroup %s) matches no guest of the policy: it floats free"
        % (stray, stray_cg) in err, "apply names the stray: pid, name, cgroup (%s)" % err.strip())
T.check("%-16s %-12s" % ("placed", "changed") in out and "denied: 1 QEMU process no block places" in out,
        "apply placed the other guest and says it was denied (%s)" % out.strip())
for t, c in T.task_comms(placed).items():
    st = T.task_status(placed, t)
    T.eq(st["Cpus_allowed_list"], str(C0), "apply still placed guest 'placed': thread %d (%s) CPUs" % (t, c))
    T.eq(st["Mems_allowed_list"], str(N0), "apply still placed guest 'placed': thread %d (%s) nodes" % (t, c))
    T.check(T.task_cgroup(placed, t).startswith("/%s/placed" % PARENT),
            "thread %d (%s) of 'placed' in its cgroup (%s)" % (t, c, T.task_cgroup(placed, t)))
after = (T.task_status(stray)["Cpus_allowed_list"], T.task_status(stray)["Mems_allowed_list"], T.task_cgroup(stray))
T.eq(after, before, "the stray guest was not touched")
rc, out, err = T.run_cgplace("verify", pol)
T.check(rc == 3 and "cgplace: error: QEMU process %d" % stray in err and "drift found" in out,
        "verify under unmanaged deny with a stray guest exits 3 (%d: %s)" % (rc, err.strip()))
rc, out, err = T.run_cgplace("plan", pol)
T.check(rc == 0 and "cgplace: warning: QEMU process %d" % stray in err and "error" not in err,
        "plan only warns, exit 0 (%d: %s)" % (rc, err.strip()))
rc, out, err = T.run_cgplace("--json", "apply", pol)
try:
    doc = json.loads(out)
except ValueError:
    doc = {}
T.check(rc == 3 and doc.get("outcome") == "ok" and doc.get("unmanaged") == 1 and doc.get("unmanaged_denied") is True
        and [(p["pid"], p["name"], p["cgroup"]) for p in doc.get("unmanaged_processes", [])] == [(stray, "stray", stray_cg)],
        "apply --json: exit 3, the stray listed with pid, name and cgroup (%d: %.600s)" % (rc, out))

# ---------------------------------------------------------------- warn: the same host is fine
pol = policy("unmanaged warn;")
rc, out, err = T.run_cgplace("apply", pol)
T.check(rc == 0 and "cgplace: warning: QEMU process %d" % stray in err and "error" not in err,
        "apply under unmanaged warn with a stray guest: exit 0, a warning (%d: %s)" % (rc, err.strip()))

# ---------------------------------------------------------------- deny without the stray
os.kill(stray, 9)
for _ in range(100):
    if gone(stray):
        break
    time.sleep(0.1)
T.check(gone(stray), "the stray QEMU is gone")
pol = policy("unmanaged deny;")
rc, out, err = T.run_cgplace("apply", pol)
T.check(rc == 0 and "error" not in err, "apply under unmanaged deny, no stray: exit 0 (%d: %s)" % (rc, err.strip()))
rc, out, err = T.run_cgplace("verify", pol)
T.check(rc == 0 and "no drift" in out, "verify under unmanaged deny, no stray: exit 0 (%d: %s%s)" % (rc, out, err))

for pid in QEMUS:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
time.sleep(0.5)
T.cg_rmtree(PARENT)
T.finish()
