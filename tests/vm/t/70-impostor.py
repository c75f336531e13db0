# vm-topos: asym-services
"""Who counts as a guest, on a real kernel (issue 10, problems 1 and 2).

Real root QEMUs g1 and g3 run beside an impostor: a program (compiled here)
named qemu-system-x86_64 in a world-writable directory, run as nobody with
`-name g1`, `-pidfile /run/cgp-impostor/g2.pid` (g2 is down) and a QMP socket
that accepts and never answers.

- apply places g1 and g3 (every thread's Cpus_allowed_list / Mems_allowed_list
  and cgroup, read from /proc), reports the impostor once as no guest, never
  moves it (its cgroup and sets unchanged), and g2 stays not running; exit 0;
- the impostor's silent QMP socket is never connected to, and plan ends well
  within 2 x the QMP deadline (a generous bound: only the old one-deadline-
  per-process behaviour, or waiting on the socket at all, trips it);
- two root QEMUs claiming g4: apply refuses g4 alone, naming both pids
  (exit 1), and still places g1 and g3.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "golden"))
import harness as H  # noqa: E402

RUN = "/run/cgp-impostor"
IMP = "/tmp/cgp-impostor"
PARENT = "cgp-impostor"
NOBODY = 65534
os.makedirs(RUN, mode=0o755, exist_ok=True)
os.makedirs(IMP, exist_ok=True)
os.chmod(IMP, 0o1777)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
T.need_cgplace()
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
if not withmem or not T.node_cpus(withmem[0]):
    T.skip("needs a node with CPUs and memory")
N0 = withmem[0]
C0 = T.node_cpus(withmem[0])[0]
PIDS = []


def start_qemu(name, pidfile):
    pid = T.start_qemu(name, pidfile)
    PIDS.append(pid)
    return pid


def build_impostor():
    src, exe = IMP + "/imp.c", IMP + "/qemu-system-x86_64"
    with open(src, "w") as f:
        f.write("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    p = subprocess.run(["gcc", "-o", exe, src], capture_output=True, text=True)
    if p.returncode:
        T.skip("no C compiler in the VM: %s" % p.stderr.strip())
    os.chown(exe, NOBODY, NOBODY)
    return exe


def drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def sets(pid):
    return {t: (T.task_status(pid, t)["Cpus_allowed_list"], T.task_status(pid, t)["Mems_allowed_list"],
                T.task_cgroup(pid, t)) for t in T.task_comms(pid)}


exe = build_impostor()
stall = H.silent_unix_socket(IMP + "/stall.qmp")
os.chmod(IMP + "/stall.qmp", 0o777)
g1 = start_qemu("g1", RUN + "/g1.pid")
g3 = start_qemu("g3", RUN + "/g3.pid")
imp = subprocess.Popen([exe, "-name", "g1", "-pidfile", RUN + "/g2.pid",
                        "-qmp", "unix:%s/stall.qmp,server=on,wait=off" % IMP], preexec_fn=drop_to_nobody)
PIDS.append(imp.pid)
time.sleep(0.5)
imp_before = sets(imp.pid)

pol = RUN + "/policy.conf"
with open(pol, "w") as f:
    f.write('host { parent "%s"; backend cgroupfs; }\n' % PARENT)
    for g in ("g1", "g3", "g4"):
        f.write("guest %s { vcpus 1; cpus %d; memory 16M nodes %d; }\n" % (g, C0, N0))
    f.write('guest g2 { match pidfile "%s/g2.pid"; vcpus 1; cpus %d; memory 16M nodes %d; }\n' % (RUN, C0, N0))

# ---------------------------------------------------------------- plan: QMP bounded, impostor never asked
t0 = time.monotonic()
rc, out, err = T.run_cgplace("plan", pol)
took = time.monotonic() - t0
T.eq(rc, 0, "plan with an impostor exits 0 (%s)" % err.strip())
T.eq(H.accepted(stall), 0, "the impostor's QMP socket is never connected to")
T.check(took < 2 * 5.0, "plan ends within 2 x the default QMP deadline (%.1f s)" % took)

# ---------------------------------------------------------------- apply: the real guests placed, impostor untouched
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 0, "apply with an impostor named g1 exits 0 (%s)" % err.strip())
lines = [l for l in err.splitlines() if "process %d " % imp.pid in l and "is not a guest" in l]
T.check(len(lines) == 1 and "is not a trusted QEMU binary" in lines[0],
        "the impostor is reported once as no guest (%s)" % err.strip())
for name, pid in (("g1", g1), ("g3", g3)):
    for t, (c, m, cg) in sets(pid).items():
        T.eq((c, m), (str(C0), str(N0)), "guest %s placed: thread %d sets" % (name, t))
        T.check(cg.startswith("/%s/%s" % (PARENT, name)), "guest %s thread %d in its cgroup (%s)" % (name, t, cg))
T.eq(sets(imp.pid), imp_before, "the impostor was never moved (cgroup and sets unchanged)")
T.check(not os.path.exists("%s/%s/g2" % (T.CG, PARENT)), "g2 (down) is not placed through the impostor's -pidfile")
T.eq(H.accepted(stall), 0, "apply never connected to the impostor's QMP socket either")

# ---------------------------------------------------------------- two real processes claim g4
g4a = start_qemu("g4", RUN + "/g4a.pid")
g4b = start_qemu("g4", RUN + "/g4b.pid")
g4a_before = sets(g4a)
rc, out, err = T.run_cgplace("apply", pol)
T.eq(rc, 1, "apply with g4 contested exits 1 (%s)" % err.strip())
T.check("guest 'g4' matches two processes, %d and %d" % (min(g4a, g4b), max(g4a, g4b)) in err,
        "g4 refused, both pids named (%s)" % err.strip())
T.eq(sets(g4a), g4a_before, "neither g4 process was moved")
for name, pid in (("g1", g1), ("g3", g3)):
    for t, (c, m, cg) in sets(pid).items():
        T.check(cg.startswith("/%s/%s" % (PARENT, name)) and c == str(C0),
                "guest %s still placed beside the contested g4: thread %d (%s %s)" % (name, t, c, cg))

for pid in PIDS:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
stall.close()
time.sleep(0.5)
T.cg_rmtree(PARENT)
T.finish()
