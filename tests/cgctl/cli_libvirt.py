#!/usr/bin/env python3
"""cli_libvirt.py [--criterion-args ARGS] CGPLACE FAKEVIRT_DIR NOVIRT_DIR WORKDIR RESULTS [CRITERION_BIN...]
-- the libvirt backend through the real CLI (part of the cgctl layer).

On a fixture sysroot (tests/fixtures/mkfixtures.py two-socket-smt: CPUs
0-15, nodes 0-1) with one QEMU process in libvirt's cgroups
(machine.slice/machine-qemu\\x2d1\\x2dg1.scope/libvirt/...) and a cgroup root
of plain files, cgplace runs with the fake libvirt.so.0 of FAKEVIRT_DIR on
LD_LIBRARY_PATH (tests/cgctl/fakevirt.c: a state file, a call log, failures
on demand; it rewrites the fake /proc as libvirt's cgroup writes would), and
sandboxed as shipped. plan lists the libvirt calls and makes none; apply
makes exactly them and nothing under the cgroup root; a second apply makes
none; a pin by hand is drift (exit 3) that apply repairs; a refused call
rolls the earlier ones back with libvirt's message escaped; a libvirt.so.0
without libvirt's functions (NOVIRT_DIR) or no daemon is a clear error for
that guest (exit 1); guests shows the owner; under `unmanaged deny` a
stray QEMU next to g1 makes apply and verify exit 3 (g1 still placed, the
stray named and escaped, listed in --json), plan only warn, and a libvirt
guest no block places counts only under `unmanaged deny-all`. Then every CRITERION_BIN runs,
counted through --tap. Writes "PASSED FAILED SKIPPED" to RESULTS."""
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import harness as H  # noqa: E402

(BIN, FAKEVIRT, NOVIRT, WORK, RESULTS), CRITERION_BINS, CRITERION_ARGS = H.split_argv(sys.argv[1:], 5)
LAYER = H.Layer("cgctl", RESULTS)
QEMU = "/usr/bin/qemu-system-x86_64"
PID = 4242
UUID = "5b5f3e58-0000-4000-8000-000000000001"
SCOPE = "/machine.slice/machine-qemu\\x2d1\\x2dg1.scope/libvirt"
# tid: comm, libvirt's sub-cgroup
THREADS = {4242: ("qemu-system-x86", "emulator"), 4243: ("qemu-system-x86", "emulator"),
           4244: ("CPU 0/KVM", "vcpu0"), 4245: ("CPU 1/KVM", "vcpu1"), 4246: ("IO iothread1", "iothread1")}
POLICY = """guest g1 {
    vcpus 2; cpus 4-7; memory 64M nodes 1;
    vcpupin 0 4; vcpupin 1 5; emulatorpin 6-7; iothreadpin 1 6;
}
"""
# what each thread should end with, from the policy above
PLACED = {4242: "6-7", 4243: "6-7", 4244: "4", 4245: "5", 4246: "6"}
CALLS = ["virDomainPinVcpuFlags g1 vcpu=0 cpus=4 flags=1",
         "virDomainPinVcpuFlags g1 vcpu=1 cpus=5 flags=1",
         "virDomainPinEmulator g1 cpus=6-7 flags=1",
         "virDomainPinIOThread g1 iothread=1 cpus=6 flags=1",
         "virDomainSetNumaParameters g1 numa_nodeset=1 flags=1"]


def check(what, ok, detail=""):
    LAYER.check(what, bool(ok), "\n".join(str(detail).strip().splitlines()[:40]))


def w(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)


def build():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "mkfixtures.py"), WORK, "two-socket-smt"],
                   check=True, stdout=subprocess.DEVNULL)
    fx = WORK + "/two-socket-smt"
    d = f"{fx}/proc/{PID}"
    os.makedirs(d)
    H.guest_identity(fx, PID)
    w(d + "/comm", "qemu-system-x86\n")
    argv = [QEMU, "-name", "guest=g1,debug-threads=on", "-uuid", UUID, "-m", "64"]
    w(d + "/cmdline", "".join(a + "\0" for a in argv))
    w(d + "/stat", f"{PID} (qemu-system-x86) S 1 {PID} {PID} 0 -1 4194560 " + " ".join(["0"] * 10)
      + " 3 0 5 " + " ".join(["0"] * 10) + "\n")
    w(d + "/cgroup", f"0::{SCOPE}/emulator\n")
    return fx


def reset_threads():
    for tid, (comm, sub) in THREADS.items():
        t = f"{FX}/proc/{PID}/task/{tid}"
        w(t + "/comm", comm + "\n")
        w(t + "/cgroup", f"0::{SCOPE}/{sub}\n")
        w(t + "/status", f"Name:\t{comm}\nTgid:\t{PID}\nPid:\t{tid}\n"
          "Cpus_allowed_list:\t0-15\nMems_allowed_list:\t0-1\n")


def reset_state(extra=""):
    """libvirt's view: nothing pinned, no numatune; the fake plays the
    kernel in FX/proc."""
    reset_threads()
    w(STATE, f"proc {FX}/proc\n{extra}ncpus 16\ndomain g1 {UUID}\npid {PID}\n"
      "vcpu 0 0-15 4244\nvcpu 1 0-15 4245\nemulator 0-15 4242,4243\niothread 1 0-15 4246\n")
    w(LOG, "")


def cgroot():
    return H.fake_cgroup_root(WORK + "/cg", "0-15", "0-1")


def run(*args, libdir=None):
    env = {"LD_LIBRARY_PATH": libdir or FAKEVIRT, "FAKEVIRT_STATE": STATE, "FAKEVIRT_LOG": LOG,
           "CGPLACE_LOCK": WORK + "/cgplace.lock"}
    return H.run([BIN, "--sysroot", FX, "--cgroup-root", CG] + list(args), env=env, timeout=120)


def setters():
    return [l for l in open(LOG).read().splitlines() if l.startswith(("virDomainPin", "virDomainSetNuma"))]


def allowed(tid):
    s = open(f"{FX}/proc/{PID}/task/{tid}/status").read()
    line = [l for l in s.splitlines() if l.startswith("Cpus_allowed_list:")]
    mems = [l for l in s.splitlines() if l.startswith("Mems_allowed_list:")]
    return line[0].split("\t")[1] if line else None, mems[0].split("\t")[1] if mems else None


FX = build()
STATE, LOG = WORK + "/virt-state", WORK + "/virt-log"
CG = cgroot()
POL = WORK + "/policy.conf"
w(POL, POLICY)
TREE0 = H.file_tree(CG)

# ---------------------------------------------------------------- plan
reset_state()
r = run("plan", POL)
want = [f"libvirt virDomainPinVcpuFlags g1 vcpu 0 4", "libvirt virDomainPinVcpuFlags g1 vcpu 1 5",
        "libvirt virDomainPinEmulator g1 emulator 6-7", "libvirt virDomainPinIOThread g1 iothread 1 6",
        "libvirt virDomainSetNumaParameters g1 numatune 1"]
check("plan: exit 0, the libvirt calls", r.rc == 0 and r.out.splitlines() == want, f"{r.out}{r.err}")
check("plan: no libvirt call made", setters() == [], open(LOG).read())
check("plan: libvirt loaded and asked (lookup by the QEMU's -uuid)",
      f"virDomainLookupByUUIDString {UUID}" in open(LOG).read(), open(LOG).read())
r = run("--json", "plan", POL)
try:
    ops = json.loads(r.out)["ops"]
except (ValueError, KeyError) as e:
    ops = []
    check("plan --json: a document", False, f"{e}\n{r.out}{r.err}")
check("plan --json: libvirt ops", len(ops) == 5 and ops[0] == {
    "op": "libvirt", "call": "virDomainPinVcpuFlags", "domain": "g1", "item": "vcpu 0", "value": "4",
    "old": "0-15", "guest": "g1"} and ops[4]["old"] == "0-1", json.dumps(ops, indent=1))

# ---------------------------------------------------------------- apply, again
reset_state()
r = run("-v", "apply", POL)
check("apply: exit 0", r.rc == 0 and "g1               changed" in r.out, r.out + r.err)
check("apply: -v shows the calls and what they replaced",
      "  libvirt virDomainPinVcpuFlags g1 vcpu 0 4 (was 0-15)" in r.out, r.out)
check("apply: exactly the planned calls", setters() == CALLS, "\n".join(setters()))
check("apply: every thread's affinity read back as placed",
      all(allowed(t) == (c, "1") for t, c in PLACED.items()), {t: allowed(t) for t in PLACED})
check("apply: nothing written under the cgroup root", H.file_tree(CG) == TREE0, H.file_tree(CG))
w(LOG, "")
r = run("apply", POL)
check("apply again: exit 0, nothing to do", r.rc == 0 and "0 writes: the host already complies" in r.out,
      r.out + r.err)
check("apply again: no libvirt call", setters() == [], "\n".join(setters()))

# ---------------------------------------------------------------- verify, drift, repair
r = run("verify", POL)
check("verify after apply: exit 0", r.rc == 0 and "guest g1 (pid 4242, placed through libvirt): compliant" in r.out,
      r.out + r.err)
# virsh vcpupin g1 1 0-3, as libvirt would do it: its pin and the thread's affinity
st = open(STATE).read().replace("vcpu 1 5 4245", "vcpu 1 0-3 4245")
w(STATE, st)
s = open(f"{FX}/proc/{PID}/task/4245/status").read().replace("Cpus_allowed_list:\t5", "Cpus_allowed_list:\t0-3")
w(f"{FX}/proc/{PID}/task/4245/status", s)
r = run("verify", POL)
check("verify after a hand vcpupin: exit 3, the thread named", r.rc == 3 and "! thread 4245" in r.out
      and "1 change pending" in r.out, r.out + r.err)
w(LOG, "")
r = run("apply", POL)
check("apply repairs it with one call", r.rc == 0 and setters() == ["virDomainPinVcpuFlags g1 vcpu=1 cpus=5 flags=1"],
      r.out + r.err + "\n".join(setters()))
r = run("verify", POL)
check("verify after the repair: exit 0", r.rc == 0, r.out + r.err)

# ---------------------------------------------------------------- a refused call
reset_state("fail set 3 55 Requested operation is not valid: \x1b[31mno\n")
r = run("apply", POL)
check("apply with a refused call: exit 1, libvirt's message escaped", r.rc == 1
      and "Requested operation is not valid: \\x1b[31mno" in r.out + r.err and "\x1b" not in r.out + r.err,
      r.out + r.err)
check("apply with a refused call: the earlier calls undone, newest first", setters() == CALLS[:2] + [
    CALLS[2] + " -> error 55", "virDomainPinVcpuFlags g1 vcpu=1 cpus=0-15 flags=1",
    "virDomainPinVcpuFlags g1 vcpu=0 cpus=0-15 flags=1"], "\n".join(setters()))
check("apply with a refused call: every thread as before", all(allowed(t) == ("0-15", "0-1") for t in PLACED),
      {t: allowed(t) for t in PLACED})

# ---------------------------------------------------------------- no libvirt, no daemon
reset_state()
r = run("apply", POL, libdir=NOVIRT)
check("apply without a usable libvirt.so.0: exit 1, said for the guest", r.rc == 1
      and "guest 'g1' (pid 4242): libvirt: libvirt's client library cannot be loaded" in r.out + r.err
      and "has no virConnectOpen" in r.out + r.err, r.out + r.err)
reset_state("connect refuse\n")
r = run("--json", "apply", POL)
try:
    g = json.loads(r.out)["guests"][0]
except (ValueError, KeyError, IndexError) as e:
    g = {}
check("apply without a daemon: exit 1, the guest failed with libvirt's message", r.rc == 1
      and g.get("state") == "failed" and "cannot connect to libvirt (qemu:///system)" in (g.get("detail") or ""),
      r.out + r.err)

# ---------------------------------------------------------------- guests
reset_state()
r = run("guests", "-p", POL)
row = [l.split() for l in r.out.splitlines() if l.startswith("g1 ")]
check("guests: owner libvirt, block g1, compliance checked", r.rc == 0 and row and row[0][6:] == ["libvirt", "libvirt", "g1", "no"],
      r.out + r.err)

# ---------------------------------------------------------------- unmanaged deny
# A QEMU process no block places next to g1: plain (it floats free) or
# libvirt's (managed by libvirt, counted only under `unmanaged deny-all`).
def add_stray(pid, name, cgroup):
    d = f"{FX}/proc/{pid}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    H.guest_identity(FX, pid)
    w(d + "/comm", "qemu-system-x86\n")
    w(d + "/cmdline", "".join(a + "\0" for a in [QEMU, "-name", f"guest={name},debug-threads=on", "-m", "16"]))
    w(d + "/stat", f"{pid} (qemu-system-x86) S 1 {pid} {pid} 0 -1 4194560 " + " ".join(["0"] * 10)
      + " 1 0 7 " + " ".join(["0"] * 10) + "\n")
    w(d + "/cgroup", f"0::{cgroup}\n")
    for tid, comm in ((pid, "qemu-system-x86"), (pid + 1, "CPU 0/KVM")):
        w(f"{d}/task/{tid}/comm", comm + "\n")
        w(f"{d}/task/{tid}/cgroup", f"0::{cgroup}\n")
        w(f"{d}/task/{tid}/status", f"Name:\t{comm}\nTgid:\t{pid}\nPid:\t{tid}\n"
          "Cpus_allowed_list:\t0-15\nMems_allowed_list:\t0-1\n")


def unmanaged_run(setting, *args):
    w(POL, f"host {{ {setting} }}\n" + POLICY)
    reset_state()
    r = run(*args)
    # the level of the messages and the exit status agree
    check(f"{setting} {' '.join(args)}: no error: line with exit 0",
          r.rc != 0 or "cgplace: error:" not in r.err, r.out + r.err)
    return r


STRAY = "/user.slice/stray\x1b[2J.scope"
add_stray(5000, "stray\x1b[2Jname", STRAY)
r = unmanaged_run("unmanaged deny;", "apply", POL)
check("deny, a stray guest: apply exits 3, names it (escaped), g1 still placed",
      r.rc == 3 and "cgplace: error: QEMU process 5000 (stray\\x1b[2Jname, cgroup /user.slice/stray\\x1b[2J.scope)"
      " matches no guest of the policy: it floats free (unmanaged deny)" in r.err and "\x1b" not in r.out + r.err
      and "g1               changed" in r.out and "denied: 1 QEMU process no block places" in r.out,
      r.out + r.err)
check("deny, a stray guest: g1's calls all made", setters() == CALLS, "\n".join(setters()))
r = run("verify", POL)
check("deny, a stray guest: verify exits 3", r.rc == 3 and "1 QEMU process no block places (unmanaged deny)" in r.out
      and "cgplace: error: QEMU process 5000" in r.err, r.out + r.err)
r = run("--json", "verify", POL)
try:
    doc = json.loads(r.out)
except ValueError:
    doc = {}
check("deny, a stray guest: verify --json lists it", r.rc == 3 and doc.get("unmanaged") == 1
      and doc.get("unmanaged_denied") is True and doc.get("unmanaged_processes") == [
          {"pid": 5000, "name": "stray\\x1b[2Jname", "cgroup": "/user.slice/stray\\x1b[2J.scope",
           "libvirt": False, "counted": True}], r.out + r.err)
r = unmanaged_run("unmanaged deny;", "--json", "apply", POL)
try:
    doc = json.loads(r.out)
except ValueError:
    doc = {}
check("deny, a stray guest: apply --json: outcome ok, counted, listed, denied", r.rc == 3
      and doc.get("outcome") == "ok" and doc.get("unmanaged") == 1 and doc.get("unmanaged_denied") is True
      and [p["pid"] for p in doc.get("unmanaged_processes", [])] == [5000]
      and any(m["level"] == "error" and m["pid"] == 5000 for m in doc.get("messages", [])), r.out + r.err)
r = unmanaged_run("unmanaged deny;", "plan", POL)
check("deny, a stray guest: plan exits 0 and warns", r.rc == 0 and "cgplace: warning: QEMU process 5000" in r.err
      and "apply and verify will fail" in r.err, r.out + r.err)
r = unmanaged_run("unmanaged warn;", "apply", POL)
check("warn, a stray guest: apply exits 0 with a warning", r.rc == 0 and "cgplace: warning: QEMU process 5000" in r.err,
      r.out + r.err)
r = unmanaged_run("unmanaged ignore;", "apply", POL)
check("ignore, a stray guest: apply exits 0, says nothing of it", r.rc == 0 and "5000" not in r.err, r.out + r.err)
shutil.rmtree(f"{FX}/proc/5000")
r = unmanaged_run("unmanaged deny;", "apply", POL)
check("deny, no stray: apply exits 0", r.rc == 0 and "g1               changed" in r.out, r.out + r.err)
r = run("verify", POL)
check("deny, no stray: verify exits 0", r.rc == 0, r.out + r.err)

LV_STRAY = "/machine.slice/machine-qemu\\x2d2\\x2dlvstray.scope/libvirt/emulator"
add_stray(5100, "lvstray", LV_STRAY)
r = unmanaged_run("unmanaged deny;", "apply", POL)
check("deny, a libvirt guest no block places: apply exits 0, reported as libvirt's", r.rc == 0
      and "cgplace: warning: QEMU process 5100 (lvstray, cgroup " in r.err and "is managed by libvirt" in r.err,
      r.out + r.err)
r = run("--json", "verify", POL)
try:
    doc = json.loads(r.out)
except ValueError:
    doc = {}
check("deny, a libvirt guest no block places: verify exits 0, listed, not counted", r.rc == 0
      and doc.get("unmanaged") == 0 and doc.get("unmanaged_libvirt") == 1
      and [(p["pid"], p["libvirt"], p["counted"]) for p in doc.get("unmanaged_processes", [])] == [(5100, True, False)],
      r.out + r.err)
r = unmanaged_run("unmanaged deny-all;", "apply", POL)
check("deny-all, a libvirt guest no block places: apply exits 3, g1 placed", r.rc == 3
      and "cgplace: error: QEMU process 5100" in r.err and setters() == CALLS, r.out + r.err)
r = run("verify", POL)
check("deny-all, a libvirt guest no block places: verify exits 3", r.rc == 3, r.out + r.err)
shutil.rmtree(f"{FX}/proc/5100")
w(POL, POLICY)

for binary in CRITERION_BINS:
    LAYER.criterion(binary, CRITERION_ARGS)
sys.exit(LAYER.finish())
