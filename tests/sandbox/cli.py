#!/usr/bin/env python3
"""cli.py [--criterion-args ARGS] CGPLACE WORKDIR RESULTS [CRITERION_BIN...]
-- the seccomp sandbox of the real CLI (the sandbox layer).

On a fixture sysroot (tests/fixtures/mkfixtures.py asym) with one fake QEMU
process and a fake cgroup root of plain files, every command runs twice:
with --no-sandbox, and sandboxed under strace. The sandboxed run must print
the same stdout and exit status, never report EPERM, and install the filter
(seccomp(SECCOMP_SET_MODE_FILTER, ..., {len=...}) = 0, or
prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) = 0) before its first write to
stdout; the --no-sandbox run must install none. Then tests/guests/golden.py
runs through a wrapper that drops its --no-sandbox, so `guests` is checked
sandboxed too. Then every CRITERION_BIN (tests/sandbox/test_sandbox.c) runs,
counted through --tap with ARGS added. Checks, FAIL blocks and counts are
tests/golden/harness.py's; writes "PASSED FAILED SKIPPED" to RESULTS."""
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
sys.path.insert(0, HERE)
import harness as H  # noqa: E402

(BIN, WORK, RESULTS), CRITERION_BINS, CRITERION_ARGS = H.split_argv(sys.argv[1:], 3)
LAYER = H.Layer("sandbox", RESULTS, verbose=True)


def check(name, ok, detail=""):
    LAYER.check(name, bool(ok), "\n".join(str(detail).strip().splitlines()[:30]))


def skip(name, why):
    LAYER.skip(name, why)


def w(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "mkfixtures.py"), WORK, "asym"],
               check=True, stdout=subprocess.DEVNULL)
FX = WORK + "/asym"       # CPUs 0-7, nodes 0-3 (2 memory-less, 3 CPU-less)

# One QEMU guest with named threads, in the root cgroup.
PID = 4242
QEMU = "/usr/bin/qemu-system-x86_64"
d = f"{FX}/proc/{PID}"
os.makedirs(d, exist_ok=True)
H.guest_identity(FX, PID)
w(d + "/comm", "qemu-system-x86\n")
w(d + "/cmdline", "".join(a + "\0" for a in [QEMU, "-name", "guest=g1,debug-threads=on", "-m", "64"]))
w(d + "/stat", f"{PID} (qemu-system-x86) S 1 {PID} {PID} 0 -1 4194560 " + " ".join(["0"] * 10)
  + " 3 0 5 " + " ".join(["0"] * 10) + "\n")
w(d + "/cgroup", "0::/\n")
for tid, comm in ((4242, "qemu-system-x86"), (4243, "CPU 0/KVM"), (4244, "CPU 1/KVM")):
    w(f"{d}/task/{tid}/comm", comm + "\n")
    w(f"{d}/task/{tid}/cgroup", "0::/\n")
    w(f"{d}/task/{tid}/status", f"Name:\t{comm}\nTgid:\t{PID}\nPid:\t{tid}\n"
      "Cpus_allowed_list:\t0-7\nMems_allowed_list:\t0-3\n")
    w(f"{d}/task/{tid}/stat", f"{tid} ({comm}) S " + " ".join(["0"] * 49) + "\n")   # the runtime verbs
w(d + "/numa_maps", "7f0000000000 default anon=16 dirty=16 N0=16 kernelpagesize_kB=4\n")

POLICY = WORK + "/policy.conf"
w(POLICY, "guest g1 { vcpus 2; cpus 0-1; memory 64M nodes 0; vcpupin 0 0; vcpupin 1 1; }\n"
          "guest g2 { vcpus 1; cpus auto; memory 64M; }\n")


def fresh_cgroot(name):
    """A cgroup v2 root of plain files (no kernel: apply's read-back fails
    and it rolls back, which exercises write, mkdirat and unlinkat)."""
    root = f"{WORK}/cg-{name}"
    shutil.rmtree(root, ignore_errors=True)
    w(root + "/cgroup.controllers", "cpuset cpu memory\n")
    w(root + "/cgroup.subtree_control", "\n")
    w(root + "/cgroup.procs", f"{PID}\n")
    w(root + "/cgroup.type", "domain\n")
    w(root + "/cpuset.cpus.effective", "0-7\n")
    w(root + "/cpuset.mems.effective", "0-3\n")
    return root


STRACE = shutil.which("strace")
if STRACE and subprocess.run([STRACE, "-f", "-qq", "-o", "/dev/null", "true"]).returncode != 0:
    STRACE = None       # no ptrace here (a container without CAP_SYS_PTRACE)
FILTER_RE = re.compile(r"^(\d+ +)?(seccomp\(SECCOMP_SET_MODE_FILTER, .*\{len=\d+, filter=.*\) = 0"
                       r"|prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, .*\) = 0)")
STDOUT_WRITE_RE = re.compile(r"^(\d+ +)?write(v)?\(1, ")
EXECVE_RE = re.compile(r"^(\d+ +)?execve\(")
SOCKET_RE = re.compile(r"^(\d+ +)?socket\(")
LOCK = WORK + "/cgplace.lock"


def run(args, sandbox, trace, tag):
    cmd = [BIN] + ([] if sandbox else ["--no-sandbox"]) + args
    log = f"{WORK}/strace-{tag}.log"
    if trace:
        cmd = [STRACE, "-f", "-qq", "-o", log, "-e", "trace=seccomp,prctl,execve,socket,write,writev"] + cmd
    r = H.run(cmd, env={"CGPLACE_LOCK": LOCK}, timeout=120)
    lines = open(log).read().splitlines() if trace else []
    return r, lines


def filter_line(lines):
    for i, line in enumerate(lines):
        if FILTER_RE.match(line):
            return i
    return -1


def case(name, args, want_rc=None, cgroot=False):
    """One command, unsandboxed and sandboxed; same results, filter placed."""
    a = list(args)
    if cgroot:
        a = ["--cgroup-root", fresh_cgroot(name + "-plain")] + args
    plain, plines = run(["--sysroot", FX] + a, False, bool(STRACE), name + "-plain")
    if cgroot:
        a = ["--cgroup-root", fresh_cgroot(name + "-sbx")] + args
    sbx, slines = run(["--sysroot", FX] + a, True, bool(STRACE), name + "-sbx")
    what = f"{name} ({' '.join(args)})"
    if want_rc is not None:
        check(f"{what}: exit {want_rc} without the sandbox", plain.rc == want_rc,
              f"exit {plain.rc}\n{plain.err}")
    same = plain.rc == sbx.rc and plain.out == sbx.out
    check(f"{what}: same stdout and exit status sandboxed", same and (want_rc != 0 or plain.out.strip()),
          f"exit {plain.rc} vs {sbx.rc}\n--- no sandbox\n{plain.out[-600:]}{plain.err}"
          f"--- sandbox\n{sbx.out[-600:]}{sbx.err}")
    out = sbx.out + sbx.err       # --json puts the messages on stdout
    check(f"{what}: no EPERM sandboxed", "not permitted" not in out and "EPERM" not in out, out[-2000:])
    if cgroot:
        # rolled back both times: the same tree, nothing left behind
        t0 = sorted(os.listdir(f"{WORK}/cg-{name}-plain"))
        t1 = sorted(os.listdir(f"{WORK}/cg-{name}-sbx"))
        check(f"{what}: same cgroup tree afterwards", t0 == t1, f"{t0}\n{t1}")
    if not STRACE:
        skip(f"{what}: filter installed before output", "strace unavailable")
        return sbx
    i = filter_line(slines)
    first_out = next((k for k, line in enumerate(slines) if STDOUT_WRITE_RE.match(line)), len(slines))
    check(f"{what}: filter installed before the first write to stdout", 0 <= i < first_out,
          "\n".join(slines[-25:]))
    check(f"{what}: no filter with --no-sandbox", filter_line(plines) < 0, "\n".join(plines[-25:]))
    later = [line for line in slines[i + 1:] if EXECVE_RE.match(line) or SOCKET_RE.match(line)] if i >= 0 else []
    check(f"{what}: no execve or socket after the filter", not later, "\n".join(later))
    return sbx


# ----------------------------------------------------------- nodeinfo, strace
if STRACE:
    sbx, lines = run(["--sysroot", FX, "nodeinfo"], True, True, "nodeinfo")
    plain, plines = run(["--sysroot", FX, "--no-sandbox", "nodeinfo"], True, True, "nodeinfo-nosbx")
    check("strace nodeinfo: exit 0", sbx.rc == 0 and "CPU(s):" in sbx.out, sbx.err)
    check("strace nodeinfo: filter installed", filter_line(lines) >= 0, "\n".join(lines))
    check("strace nodeinfo: no_new_privs set", any("prctl(PR_SET_NO_NEW_PRIVS, 1" in l for l in lines),
          "\n".join(lines))
    check("strace --no-sandbox nodeinfo: exit 0", plain.rc == 0, plain.err)
    check("strace --no-sandbox nodeinfo: no filter installed",
          filter_line(plines) < 0 and not any("seccomp(" in l or "PR_SET_SECCOMP" in l for l in plines),
          "\n".join(plines))
else:
    skip("strace nodeinfo", "strace missing or cannot trace here")

# ----------------------------------------------------------- every command
case("nodeinfo", ["nodeinfo"], 0)
case("nodeinfo-json", ["--json", "nodeinfo"], 0)
case("capabilities", ["capabilities"], 0)
case("capabilities-json", ["--json", "capabilities"], 0)
case("freecell", ["freecell", "--all"], 0)
case("freecell-cell", ["freecell", "1"], 0)
case("freecell-bad", ["freecell", "9"], 2)
case("topology", ["topology"], 0)
case("topology-json", ["--json", "topology"], 0)
case("suggest", ["suggest", "--vcpus", "2", "--memory", "1G"], 0)
case("suggest-policy", ["suggest", "--vcpus", "2", "--memory", "1G", "-p", POLICY], 0)
case("check", ["check", POLICY], 0)
case("check-json", ["--json", "check", POLICY], 0)
case("guests", ["guests", "-p", POLICY], 0)
case("guests-json", ["--json", "guests"], 0)
case("plan-empty", ["plan", POLICY], 0)          # no cgroup2 mount in the fixture
case("plan-json-empty", ["--json", "plan", POLICY], 0)
case("plan", ["plan", POLICY], 0, cgroot=True)
case("plan-json", ["--json", "plan", POLICY], 0, cgroot=True)
case("verify", ["verify", POLICY], 3, cgroot=True)
case("verify-json", ["--json", "verify", POLICY], 3, cgroot=True)
sbx = case("apply", ["-v", "apply", POLICY], 1, cgroot=True)
check("apply: wrote, then rolled back, sandboxed", "rolled back" in sbx.out and "write" in sbx.out,
      sbx.out + sbx.err)
case("apply-json", ["--json", "apply", POLICY], 1, cgroot=True)
# the runtime verbs: a change creates the guest's groups and rolls back
# when a plain file refuses a write (exit 1), as apply does
case("vcpuinfo", ["vcpuinfo", "--all", "g1"], 0)
case("vcpupin-show", ["vcpupin", "g1"], 0)
case("emulatorpin-show", ["--json", "emulatorpin", "g1"], 0)
case("numatune-show", ["numatune", "g1"], 0)
case("vcpupin", ["-v", "vcpupin", "g1", "0", "1"], 1, cgroot=True)
case("emulatorpin", ["emulatorpin", "-p", POLICY, "g1", "0-1"], 1, cgroot=True)
case("numatune", ["numatune", "g1", "--nodeset", "3"], 1, cgroot=True)
# other tools' formats: libxml2 loaded and the domain files read before the filter
case("emit-libvirt", ["emit", "--format", "libvirt", "-p", POLICY, "g1"], 0)
case("emit-qemu", ["--json", "emit", "-f", "qemu", "-p", POLICY, "g1"], 0)
case("emit-xl", ["emit", "-f", "xl", "-p", POLICY, "g1"], 0)
case("import-libvirt", ["import-libvirt", os.path.join(HERE, "..", "emit", "domains", "memnode.xml")], 0)

# ----------------------------------------------------------- guests golden, sandboxed
wrap = WORK + "/cgplace-sandboxed"
w(wrap, "#!/bin/sh\n# tests/guests/golden.py passes --no-sandbox: drop it\n"
        "for a; do shift; [ \"$a\" = --no-sandbox ] || set -- \"$@\" \"$a\"; done\n"
        f"exec '{os.path.abspath(BIN)}' \"$@\"\n")
os.chmod(wrap, 0o755)
gres = WORK + "/guests-golden"
r = H.run([sys.executable, os.path.join(HERE, "..", "guests", "golden.py"), wrap, WORK + "/guests", gres],
          timeout=600)
try:
    gp, gf, gs = (int(x) for x in open(gres).read().split())
except (OSError, ValueError):
    gp, gf, gs = 0, 1, 0
if gf or r.rc:
    for line in (r.out + r.err).splitlines()[-60:]:
        print(f"    guests golden: {line}")
print(f"guests golden (sandboxed): {gp} passed, {gf} failed, {gs} skipped")
LAYER.add(gp, gf, gs)
if r.rc != 0 and gf == 0:
    check("guests golden (sandboxed) exit status", False, r.out[-2000:] + r.err[-2000:])

# ----------------------------------------------------------- the probe (LD_PRELOAD), tests/sandbox/probe.py
import probe  # noqa: E402
probe.run(H, check, skip, BIN, FX, WORK, POLICY, LOCK, fresh_cgroot)

for binary in CRITERION_BINS:
    LAYER.criterion(binary, CRITERION_ARGS)
sys.exit(LAYER.finish())
