# vm-topos: asym-systemd
"""The libvirt backend against a real libvirtd (runs INSIDE the systemd-booted VM).

A libvirt domain (paused nested TCG) and a hand-started QEMU run side by side; one `cgplace
apply` places the first through libvirt's API and the second in its systemd scope. Checked
from libvirt (virsh vcpupin / emulatorpin / numatune / dumpxml) and /proc, never from cgplace's
report: the pins, every thread's affinity, memory on a memory-only node, a hand `virsh vcpupin`
seen as drift (exit 3) and repaired, `libvirt persist` reaching the inactive XML, and no
cgroup file under machine.slice opened for writing by cgplace (strace).
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vmlibvirt as L  # noqa: E402

RUN = "/run/cgp-lv"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
POLICY = RUN + "/policy.conf"


def cg(*args, trace=None):
    return T.run_cgplace(*args, prefix=[shutil.which("strace"), "-f", "-qq", "-o", trace, "-e",
                                        "trace=openat,mkdirat,mkdir"] if trace else ())


fmt = T.fmt_list


def status(pid, tid, key):
    return T.task_status(pid, tid).get(key)


def vcpupins(dom):
    """{vcpu: 'cpus'} as virsh vcpupin prints them."""
    out = L.virsh("vcpupin", dom).stdout
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\s*(\d+)\s+(\S+)\s*$", out, re.M)}


def numatune(dom):
    out = L.virsh("numatune", dom).stdout
    return dict(re.findall(r"^(\S+)\s*:\s*(\S*)\s*$", out, re.M))


def write_policy(c, node, persist=False):
    with open(POLICY, "w") as f:
        f.write("host { backend auto; libvirt %s; }\n" % ("persist" if persist else "live"))
        f.write("guest lv1 { vcpus 2; cpus %s; memory 64M nodes %d; vcpupin 0 %d; vcpupin 1 %d; "
                "emulatorpin %s; }\n" % (fmt(c), node, c[0], c[1], fmt(c)))
        f.write("guest p1 { vcpus 2; cpus %s; memory 64M nodes %d; }\n" % (fmt(c), BIG))


def check_lv(d, c, node, when):
    pins = vcpupins("lv1")
    T.eq(pins, {0: str(c[0]), 1: str(c[1])}, when + ": virsh vcpupin lv1")
    emu = L.virsh("emulatorpin", "lv1").stdout
    T.check(re.search(r"^\s*\*:\s*%s\s*$" % re.escape(fmt(c)), emu, re.M), when + ": virsh emulatorpin: %s" % emu)
    nt = numatune("lv1")
    T.eq((nt.get("numa_mode"), nt.get("numa_nodeset")), ("strict", str(node)), when + ": virsh numatune lv1")
    for v, tids in d.vcpu_tids().items():
        for tid in tids:
            T.eq(status(d.pid, tid, "Cpus_allowed_list"), str(c[v]), "%s: vCPU %d thread %d CPUs" % (when, v, tid))
            T.eq(status(d.pid, tid, "Mems_allowed_list"), str(node), "%s: vCPU %d thread %d nodes" % (when, v, tid))
    T.eq(status(d.pid, d.pid, "Cpus_allowed_list"), fmt(c), when + ": the emulator thread's CPUs")


T.need_cgplace()
if T.read("/proc/1/comm") != "systemd":
    T.skip("PID 1 is not systemd (this test needs the systemd boot mode)")
nodes = T.nodes_online()
cpumem = [n for n in nodes if T.node_kind(n) == "cpu+memory"]
memonly = [n for n in nodes if T.node_kind(n) == "memory-only"]
BIG = max(cpumem, key=lambda n: len(T.node_cpus(n)))
bc = T.node_cpus(BIG)
if not memonly or len(bc) < 3:
    T.skip("needs a memory-only node and a node with 3 CPUs (asym)")
M = memonly[0]
err = L.start_libvirtd()
if err:
    T.fatal(err)
d = L.Domain("lv1", vcpus=2, memory_mib=64)
p = subprocess.run(["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "64", "-smp", "2", "-nodefaults",
                    "-display", "none", "-daemonize", "-pidfile", RUN + "/p1.pid", "-name", "p1,debug-threads=on"],
                   capture_output=True, text=True, timeout=120)
if p.returncode:
    T.fatal("qemu p1: " + p.stderr)
p1 = int(open(RUN + "/p1.pid").read())
A, B = (bc[0], bc[1]), (bc[1], bc[2])
write_policy(A, M)

rc, out, e = cg("--json", "guests", "-p", POLICY)
gs = {g.get("name"): g for g in json.loads(out or "{}").get("guests", [])}
T.check(gs.get("lv1", {}).get("owner") == "libvirt" and gs.get("lv1", {}).get("backend") == "libvirt",
        "guests: lv1 is libvirt's: %s" % gs.get("lv1", out + e))
T.check(gs.get("p1", {}).get("backend") == "systemd", "guests: p1 goes to the systemd backend: %s" % gs.get("p1"))

rc, out, e = cg("--json", "plan", POLICY)
ops = json.loads(out or "{}").get("ops", []) if rc == 0 else []
lv_ops = [o for o in ops if o.get("guest") == "lv1"]
T.check(lv_ops and all(o.get("op") == "libvirt" for o in lv_ops), "plan: lv1's ops are libvirt calls: %s"
        % (lv_ops or out + e))
T.check(not [o for o in ops if "machine.slice" in o.get("path", "")], "plan: nothing under machine.slice")

trace = RUN + "/apply.strace"
rc, out, e = cg("apply", POLICY, trace=trace if shutil.which("strace") else None)
T.eq(rc, 0, "apply: a libvirt guest and a plain one side by side (%s)" % (out + e)[-600:])
check_lv(d, A, M, "after apply")
T.eq(T.read("/proc/%d/cgroup" % p1, "").split("::")[-1].strip(), "/cgplace.slice/cgplace-p1.scope/p1/emulator",
     "p1 in its delegated scope")
if os.path.exists(trace):
    bad = [l for l in open(trace) if "machine.slice" in l and ("O_WRONLY" in l or "O_RDWR" in l or "mkdir" in l)]
    T.check(not bad, "cgplace opened nothing under machine.slice for writing: %s" % bad[:3])
else:
    T.log("  skip: no strace in the VM: write opens under machine.slice not traced")
rc, out, e = cg("verify", POLICY)
T.eq(rc, 0, "verify after apply (%s)" % (out + e)[-400:])
rc, out, e = cg("--json", "apply", POLICY)
T.eq(json.loads(out or "{}").get("ops", ["?"]), [], "a second apply makes no call (%s)" % e[-300:])

# a hand-made pin is drift; apply puts it back through libvirt
L.virsh("vcpupin", "lv1", "0", str(A[1]), "--live")
rc, out, e = cg("verify", POLICY)
T.eq(rc, 3, "verify after a hand 'virsh vcpupin' exits 3 (%s)" % (out + e)[-300:])
rc, out, e = cg("apply", POLICY)
T.eq(rc, 0, "apply repairs it (%s)" % (out + e)[-300:])
check_lv(d, A, M, "after the repair")

# persist: libvirt keeps the placement in the domain's definition too
write_policy(B, M, persist=True)
rc, out, e = cg("apply", POLICY)
T.eq(rc, 0, "apply with libvirt persist (%s)" % (out + e)[-400:])
check_lv(d, B, M, "after the persistent change")
xml = L.virsh("dumpxml", "--inactive", "lv1").stdout
T.check("<cputune>" in xml and "<vcpupin vcpu='0' cpuset='%d'/>" % B[0] in xml,
        "virsh dumpxml --inactive has the <cputune>: %s" % re.findall(r"<cputune>.*?</cputune>", xml, re.S))
T.check("<numatune>" in xml and "nodeset='%d'" % M in xml, "the inactive XML has the <numatune>")
rc, out, e = cg("verify", POLICY)
T.eq(rc, 0, "verify after the persistent change (%s)" % (out + e)[-400:])

# a second live nodeset change of a domain in mode strict: libvirt 9.0 refuses it ("requires
# restrictive numa mode"); then the run must fail whole and leave everything as it was
with open(POLICY) as f:
    text = f.read()
with open(POLICY, "w") as f:
    f.write(text.replace("memory 64M nodes %d;" % M, "memory 64M nodes %d;" % BIG, 1))
rc, out, e = cg("apply", POLICY)
if rc == 0:
    T.log("  libvirt accepted a second live nodeset change in mode strict")
    T.eq(numatune("lv1").get("numa_nodeset"), str(BIG), "the second nodeset change reached libvirt")
else:
    T.eq(rc, 1, "a nodeset change libvirt refuses fails the run (%s)" % (out + e)[-400:])
    T.check("restrictive" in out + e, "the failure carries libvirt's reason: %s" % (out + e)[-400:])
    check_lv(d, B, M, "after the refused change (rolled back)")

try:
    os.kill(p1, 9)
except ProcessLookupError:
    pass
T.finish()
