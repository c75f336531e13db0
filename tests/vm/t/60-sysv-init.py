# vm-topos: asym-services
"""The SysV init script (init/cgplace.init) on a real kernel, with CGPLACE and POLICY
from the environment (the build's cgplace, a policy of this test):

- `start` places a nested QEMU guest (-daemonize, named threads) that nothing placed
  before: every thread's Cpus_allowed_list/Mems_allowed_list read from /proc, each vCPU
  on its pin; `status` exits 0;
- a hand-made drift (another cpuset.cpus in vCPU 0's group) makes `status` exit 3,
  `reload` repairs it (read back from /proc), `status` is 0 again; `restart` and `stop`
  exit 0 and leave the guest where it is;
- the capabilities of cgplace.service: `start` under the unit's CapabilityBoundingSet
  (read from init/cgplace.service, applied with setpriv) places a guest that runs as
  another user (nobody), and status is 0; what the run does without any capability
  (informational, per capability: what the run does without it); another user's
  numa_maps, verify's memory audit, is readable with the set and not without any.
Every effect is read from /proc and the cgroup files, never from cgplace's report.
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vminit as I  # noqa: E402

RUN = "/run/cgp-sysv"
os.makedirs(RUN, exist_ok=True)
os.chmod(RUN, 0o777)
T.need_cgplace()
PROJECT = os.environ.get("PROJECT", os.getcwd())
SCRIPT = os.path.join(PROJECT, "init", "cgplace.init")
UNIT = os.path.join(PROJECT, "init", "cgplace.service")
online = T.nodes_online()
memonly = [n for n in online if T.node_kind(n) == "memory-only"]
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
cpus = T.cpus_online()
if len(cpus) < 4 or not withmem:
    T.skip("needs 4 CPUs and a node with CPUs and memory")


def initscript(action, policy, prefix=()):
    """(exit status, output) of `init/cgplace.init ACTION` with the build's cgplace."""
    env = dict(os.environ, CGPLACE=T.CGPLACE, POLICY=policy)
    p = subprocess.run(list(prefix) + ["sh", SCRIPT, action], capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, (p.stdout + p.stderr).strip()


# A node and two CPUs that are not where an unplaced guest is (everything): the last
# two online CPUs, the memory node with CPUs other than the first if there is one.
N = withmem[-1]
C = cpus[-2:]
PINS = [C[1], C[0]]
pid = I.start_qemu(RUN, "sysv1")
before = T.task_status(pid)["Cpus_allowed_list"]
T.check(before != T.fmt_list(C), "guest sysv1 not placed before start (Cpus_allowed_list %s)" % before)
POL = I.policy(RUN + "/policy.conf", [("sysv1", C, N, PINS)])

rc, out = initscript("start", POL)
T.eq(rc, 0, "init script start: exit 0 (%s)" % out)
I.placed(pid, C, N, PINS, "after start")
rc, out = initscript("status", POL)
T.eq(rc, 0, "init script status after start: 0, policy in force (%s)" % out)

# drift by hand: vCPU 0's group gets the other CPU
t0 = I.vcpus(pid)[0]
grp = T.task_cgroup(pid, t0)
T.check(grp and grp.endswith("/vcpu0"), "vCPU 0 in its own group (%s)" % grp)
err = T.cg_write(T.CG + grp + "/cpuset.cpus", str(PINS[1]))
T.check(err is None, "drift: write cpuset.cpus %d to %s (%s)" % (PINS[1], grp, err))
T.eq(T.task_status(pid, t0)["Cpus_allowed_list"], str(PINS[1]), "drift is real: vCPU 0 on CPU %d" % PINS[1])
rc, out = initscript("status", POL)
T.eq(rc, 3, "init script status after a drift: 3, not in force (%s)" % out)
rc, out = initscript("reload", POL)
T.eq(rc, 0, "init script reload: exit 0 (%s)" % out)
I.placed(pid, C, N, PINS, "after reload")
rc, out = initscript("status", POL)
T.eq(rc, 0, "init script status after reload: 0 (%s)" % out)
for action in ("restart", "force-reload", "stop"):
    rc, out = initscript(action, POL)
    T.eq(rc, 0, "init script %s: exit 0 (%s)" % (action, out))
    I.placed(pid, C, N, PINS, "after " + action)
rc, out = initscript("status", T.CGPLACE)          # not a policy: cgplace fails
T.eq(rc, 4, "init script status when cgplace fails: 4, unknown (%s)" % out)

# ---------------------------------------------------------------- the unit's capabilities
caps = None
for line in open(UNIT):
    if line.startswith("CapabilityBoundingSet="):
        caps = line.split("=", 1)[1].split()
T.check(caps, "init/cgplace.service sets CapabilityBoundingSet=")
caps = [c.lower().replace("cap_", "", 1) for c in caps or []]
if not shutil.which("setpriv"):
    T.skip("no setpriv to run under the unit's capability set")
NOBODY = 65534
N2 = withmem[0]
C2 = cpus[:2]
PINS2 = [C2[1], C2[0]]


def bounded(keep):
    return ["setpriv", "--bounding-set=-all" + "".join(",+" + c for c in keep), "--inh-caps=-all", "--"]


def nobody_guest(keep, tag):
    """A guest of user nobody placed by `start` with only the capabilities `keep`:
    (every thread where the policy says, start's status, its output, status's status,
    whether numa_maps -- verify's memory audit -- was readable with those capabilities)."""
    p2 = I.start_qemu(RUN, "nobody1", user=NOBODY)
    T.eq(T.task_status(p2)["Uid"].split()[0], str(NOBODY), "%s: guest nobody1 runs as nobody" % tag)
    pol = I.policy(RUN + "/nobody.conf", [("nobody1", C2, N2, PINS2)])
    rc, out = initscript("start", pol, prefix=bounded(keep))
    ok = rc == 0 and I.is_placed(p2, C2, N2, PINS2)
    src, sout = initscript("status", pol, prefix=bounded(keep))
    nm = subprocess.run(bounded(keep) + ["cat", "/proc/%d/numa_maps" % p2], capture_output=True).returncode == 0
    I.kill(p2)
    time.sleep(0.3)
    return ok, rc, out, src, nm


eff = subprocess.run(bounded([]) + ["grep", "^CapEff", "/proc/self/status"], capture_output=True, text=True).stdout
T.check(re.search(r"CapEff:\s+0+$", eff.strip()), "setpriv drops every capability (%s)" % eff.strip())
ok, rc, out, src, nm = nobody_guest(caps, "unit caps")
T.check(ok, "start under the unit's CapabilityBoundingSet (%s) places another user's guest: exit %d (%s)"
        % (" ".join(caps), rc, out))
T.eq(src, 0, "status under the unit's CapabilityBoundingSet: 0")
T.check(nm, "the unit's capabilities read another user's numa_maps (verify's memory audit)")
ok, rc, out, src, nm = nobody_guest([], "no caps")
T.check(not nm, "without cap_sys_ptrace another user's numa_maps is not readable (why the unit keeps it)")
T.log("  info: without any capability: start %d, placed %s, status %d" % (rc, ok, src))
for drop in caps:     # informational: what each capability of the set is for here
    ok, rc, out, src, nm = nobody_guest([c for c in caps if c != drop], "without " + drop)
    T.log("  info: without cap_%s: start %d, placed %s, status %d, numa_maps readable %s%s"
          % (drop, rc, ok, src, nm, (": " + out.splitlines()[-1]) if out and rc else ""))

T.finish()
