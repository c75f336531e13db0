# vm-topos: asym-systemd
"""Runtime tuning through the backends on a real systemd and libvirtd (runs INSIDE the
systemd-booted VM): `cgplace vcpupin` / `emulatorpin` of a libvirt domain (paused nested TCG)
go through libvirt's API (checked with virsh and /proc; strace: nothing under machine.slice
opened for writing), and of a hand-started QEMU through the systemd backend (its delegated
scope cgplace-NAME.scope, checked with systemctl and /proc). An error changes nothing in
either (virsh's pins, the threads' affinity).
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vmlibvirt as L  # noqa: E402

RUN = "/run/cgp-rtb"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
fmt = T.fmt_list


def cg(*args, trace=None):
    return T.run_cgplace(*args, prefix=[shutil.which("strace"), "-f", "-qq", "-o", trace, "-e",
                                        "trace=openat,mkdirat,mkdir"] if trace else ())


def vcpupins(dom):
    out = L.virsh("vcpupin", dom).stdout
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\s*(\d+)\s+(\S+)\s*$", out, re.M)}


def allowed(pid, tid):
    return T.task_status(pid, tid)["Cpus_allowed_list"]


def writes_under_machine_slice(trace):
    if not os.path.exists(trace):
        return None
    return [l for l in open(trace) if "machine.slice" in l and ("O_WRONLY" in l or "O_RDWR" in l or "mkdir" in l)]


T.need_cgplace()
if T.read("/proc/1/comm") != "systemd":
    T.skip("PID 1 is not systemd (this test needs the systemd boot mode)")
cpus = T.cpus_online()
if len(cpus) < 3:
    T.skip("needs 3 CPUs")
err = L.start_libvirtd()
if err:
    T.fatal(err)

# ---------------------------------------------------------------- a libvirt domain
d = L.Domain("rt1", vcpus=2, memory_mib=64)
vt = d.vcpu_tids()
rc, out, e = cg("vcpuinfo", "rt1")
T.check(rc == 0 and len(re.findall(r"^VCPU:", out, re.M)) == 2, "vcpuinfo of a libvirt domain (%s%s)" % (out, e))
before = vcpupins("rt1")
trace = RUN + "/pin.strace"
rc, out, e = cg("vcpupin", "rt1", "1", str(cpus[2]), trace=trace if shutil.which("strace") else None)
T.eq(rc, 0, "vcpupin rt1 1 %d (%s)" % (cpus[2], e))
T.eq(vcpupins("rt1").get(1), str(cpus[2]), "virsh vcpupin rt1: vCPU 1 pinned by libvirt")
T.eq(vcpupins("rt1").get(0), before.get(0), "virsh vcpupin rt1: vCPU 0 unchanged")
for tid in vt.get(1, []):
    T.eq(allowed(d.pid, tid), str(cpus[2]), "vCPU 1 thread %d: Cpus_allowed_list" % tid)
bad = writes_under_machine_slice(trace)
T.check(bad is None or not bad, "vcpupin opened nothing under machine.slice for writing: %s" % (bad or [])[:3])
rc, out, e = cg("emulatorpin", "rt1", fmt(cpus[:2]))
emu = L.virsh("emulatorpin", "rt1").stdout
T.check(rc == 0 and re.search(r"^\s*\*:\s*%s\s*$" % re.escape(fmt(cpus[:2])), emu, re.M),
        "emulatorpin rt1 through libvirt (rc %d %s): %s" % (rc, e, emu))
T.eq(allowed(d.pid, d.pid), fmt(cpus[:2]), "the emulator thread's CPUs")
pins = vcpupins("rt1")
rc, out, e = cg("vcpupin", "rt1", "2", "0")
T.check(rc == 2 and "out of range" in e, "vcpupin rt1 2 0: exit 2 (rc %d %s)" % (rc, e))
T.eq(vcpupins("rt1"), pins, "after the error: libvirt's pins unchanged")
rc, out, e = cg("vcpupin", "rt1")
T.eq(out.splitlines()[2:], [" %-6d %s" % (v, c) for v, c in sorted(pins.items())],
     "vcpupin rt1: the table is what libvirt says")

# ---------------------------------------------------------------- a plain QEMU under systemd
p = subprocess.run(["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-S", "-m", "32", "-smp", "2",
                    "-nodefaults", "-display", "none", "-daemonize", "-pidfile", RUN + "/p2.pid",
                    "-name", "p2,debug-threads=on"], capture_output=True, text=True, timeout=120)
if p.returncode:
    T.fatal("qemu p2: " + p.stderr)
pid = int(open(RUN + "/p2.pid").read())
for _ in range(600):
    if sum(c.startswith("CPU ") for c in T.task_comms(pid).values()) == 2:
        break
    time.sleep(0.05)
v0 = [t for t, c in T.task_comms(pid).items() if c == "CPU 0/TCG"][0]
rc, out, e = cg("vcpupin", "p2", "0", str(cpus[1]))
T.eq(rc, 0, "vcpupin p2 0 %d under systemd (%s)" % (cpus[1], e))
T.eq(T.task_cgroup(pid, v0), "/cgplace.slice/cgplace-p2.scope/p2/vcpu0", "vCPU 0 of p2 in its delegated scope")
T.eq(allowed(pid, v0), str(cpus[1]), "vCPU 0 of p2: Cpus_allowed_list")
r = subprocess.run(["systemctl", "show", "-p", "Delegate", "--value", "cgplace-p2.scope"], capture_output=True,
                   text=True)
T.eq(r.stdout.strip(), "yes", "cgplace-p2.scope is delegated")
state = {t: allowed(pid, t) for t in T.task_comms(pid)}
rc, out, e = cg("vcpupin", "p2", "0", "%d" % (max(cpus) + 9))
T.check(rc == 2 and "not present" in e, "vcpupin p2 with an absent CPU: exit 2 (rc %d %s)" % (rc, e))
T.eq({t: allowed(pid, t) for t in T.task_comms(pid)}, state, "after the error: every thread as before")
os.kill(pid, 9)
d.destroy()
T.finish()
