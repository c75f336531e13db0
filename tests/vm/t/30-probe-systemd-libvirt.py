# vm-topos: asym-systemd
# Probe of the systemd-mode test bed (run-vm.sh --systemd) that the systemd and libvirt
# backends will be tested on: systemd is PID 1 and the boot finished cleanly, the system
# bus answers, a delegated scope gets cpuset, libvirtd starts, a paused TCG guest starts
# in machine.slice, and libvirt's live vCPU pinning and memory-only numatune reach the
# kernel.  Never runs cgplace (check.sh lists it as a KERNEL-PROBE).
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
import vmtest as T
import vmlibvirt as L

# units allowed to have failed in this VM (none so far); any other fails the probe
EXPECTED_FAILED = set()


def sh(*cmd, timeout=60):
    return L.run(list(cmd), timeout=timeout)


# --- systemd -----------------------------------------------------------------------------
T.log("  uptime at the start of the probe: %s s" % (T.read("/proc/uptime") or "?").split()[0])
comm = T.read("/proc/1/comm")
T.log("  PID 1: %s (%s)" % (comm, os.path.realpath("/proc/1/exe")))
if not T.eq(comm, "systemd", "PID 1 is systemd"):
    T.finish()   # not the systemd mode (run-vm.sh --systemd): nothing else can hold

state = sh("systemctl", "is-system-running").stdout.strip()
failed = [l.split()[0] for l in sh("systemctl", "list-units", "--failed", "--plain", "--no-legend").stdout.splitlines() if l.strip()]
T.log("  is-system-running: %s; failed units: %s" % (state, " ".join(failed) or "none"))
T.check(state in ("running", "degraded"), "is-system-running is running or degraded, got %r" % state)
unexpected = sorted(set(failed) - EXPECTED_FAILED)
T.check(not unexpected, "no unexpected failed unit: %s" % " ".join(unexpected))
for u in unexpected:
    T.log("    " + sh("systemctl", "status", "--no-pager", "-n", "5", u).stdout.replace("\n", "\n    "))

units = ["dbus.service", "systemd-logind.service", "systemd-machined.service", "user.slice", "machine.slice"]
states = sh("systemctl", "is-active", *units).stdout.split()
T.log("  up before the test: %s" % ", ".join("%s %s" % us for us in zip(units, states)))
T.check(states == ["active"] * len(units), "dbus, logind, machined, user.slice, machine.slice are active: %s" % states)

r = sh("busctl", "--system", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
       "org.freedesktop.DBus.Properties", "Get", "ss", "org.freedesktop.systemd1.Manager", "Version")
T.log("  system bus: systemd1 Manager.Version = %s" % r.stdout.strip())
T.check(r.returncode == 0 and r.stdout.startswith("v s "), "the system bus answers (busctl call ... Version): rc %d %s"
        % (r.returncode, r.stderr.strip()))

# --- a delegated scope -----------------------------------------------------------------------
scope = "probe-deleg.scope"
p = subprocess.Popen(["systemd-run", "--scope", "-p", "Delegate=yes", "--unit=" + scope[:-6], "sleep", "60"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
active = ""
for _ in range(50):
    active = sh("systemctl", "show", "-P", "ActiveState", scope).stdout.strip()
    if active == "active":
        break
    time.sleep(0.2)
T.check(active == "active", "systemd-run --scope -p Delegate=yes: %s is active (%r)" % (scope, active))
deleg = sh("systemctl", "show", "-P", "Delegate", scope).stdout.strip()
cg = sh("systemctl", "show", "-P", "ControlGroup", scope).stdout.strip()
ctrl = (T.read(T.CG + cg + "/cgroup.controllers", "") or "").split() if cg else []
T.log("  %s: Delegate=%s, cgroup %s, controllers %s" % (scope, deleg, cg, " ".join(ctrl)))
T.eq(deleg, "yes", "systemctl show -p Delegate " + scope)
T.check("cpuset" in ctrl, "cpuset in the delegated scope's cgroup.controllers (%s)" % ctrl)
# what a systemd backend does with the delegation: its own leaf, cpuset below the scope
if cg and "cpuset" in ctrl:
    leaf = T.CG + cg + "/leaf"
    os.mkdir(leaf)
    err = T.cg_write(leaf + "/cgroup.procs", str(p.pid))
    err = err or T.cg_write(T.CG + cg + "/cgroup.subtree_control", "+cpuset")
    T.check(err is None, "in the delegated scope: move the task to a leaf, enable +cpuset below: %s" % err)
sh("systemctl", "stop", scope)
p.wait()

# --- libvirt ---------------------------------------------------------------------------------
if not (shutil.which("virsh") and os.path.exists("/usr/sbin/libvirtd")):
    T.fatal("libvirt is not installed on the host, whose root the VM boots (scripts/deps.sh vm)")
err = L.start_libvirtd()
T.check(err is None, "systemctl start libvirtd, virsh answers: %s" % err)
if err:
    T.log(sh("journalctl", "-b", "-u", "libvirtd", "--no-pager", "-n", "20").stdout)
    T.finish()

try:
    d = L.Domain("cgpprobe", vcpus=2, memory_mib=64)
except L.DomainError as e:
    T.fatal("define + start --paused a 2-vCPU 64 MiB TCG guest: %s" % e)
cg = d.task_cgroup()
T.log("  guest cgpprobe: QEMU pid %d in %s" % (d.pid, cg))
T.check(cg and cg.startswith("/machine.slice/machine-qemu\\x2d") and ".scope/libvirt/" in cg,
        "QEMU is in machine.slice/machine-qemu\\x2d...scope/libvirt/ (%s)" % cg)
vcpus = d.vcpu_tids()
T.log("  vCPU threads (libvirt/vcpuN/cgroup.threads): %s" % vcpus)
mi = dict((l.split(":")[0], int(l.split()[1]) // 1024) for l in open("/proc/meminfo"))
T.log("  memory with the guest up: MemTotal %d MiB, MemAvailable %d MiB, QEMU RSS %s"
      % (mi["MemTotal"], mi["MemAvailable"], T.task_status(d.pid).get("VmRSS")))
T.check(sorted(vcpus) == [0, 1] and all(vcpus.values()), "one libvirt/vcpuN cgroup with threads per vCPU")

cpu = 1
r = L.virsh("vcpupin", d.name, 0, cpu, "--live")
T.check(r.returncode == 0, "virsh vcpupin %s 0 %d --live: rc %d %s" % (d.name, cpu, r.returncode, r.stderr.strip()))
for tid in vcpus.get(0, []):
    got = T.task_status(d.pid, tid).get("Cpus_allowed_list")
    T.eq(got, str(cpu), "Cpus_allowed_list of vCPU 0's thread %d after vcpupin" % tid)

memonly = [n for n in T.nodes_online() if T.node_kind(n) == "memory-only"]
T.log("  memory-only nodes: %s" % memonly)
if T.check(memonly, "the topology has a memory-only node"):
    n = memonly[0]
    # libvirt's own view of that node: a cell with memory and no CPU
    caps = ET.fromstring(L.virsh("capabilities").stdout or "<x/>")
    cell = caps.find(".//topology/cells/cell[@id='%d']" % n)
    mem = int(cell.findtext("memory", "0")) if cell is not None else 0
    ncpus = cell.find("cpus").get("num") if cell is not None and cell.find("cpus") is not None else None
    T.log("  virsh capabilities, cell %d: memory %d KiB, cpus num=%s" % (n, mem, ncpus))
    T.check(mem > 0 and ncpus == "0", "libvirt reports node %d as a cell with memory and no CPU" % n)
    r = L.virsh("numatune", d.name, "--live", "--nodeset", n)
    T.check(r.returncode == 0, "virsh numatune %s --live --nodeset %d (memory-only): rc %d %s"
            % (d.name, n, r.returncode, r.stderr.strip()))
    shown = L.virsh("numatune", d.name).stdout
    T.check(any(l.split() == ["numa_nodeset", ":", str(n)] for l in shown.splitlines()),
            "virsh numatune %s reports nodeset %d: %r" % (d.name, n, shown.strip()))
    got = T.task_status(d.pid).get("Mems_allowed_list")
    T.eq(got, str(n), "QEMU's Mems_allowed_list after numatune")

err = d.destroy()
T.check(err is None, "virsh destroy: %s" % err)
T.check(not os.path.exists("/proc/%d" % d.pid), "QEMU pid %d is gone after destroy" % d.pid)
if L.timings.get("destroy " + d.name, 0) > 8:
    T.log("  slow destroy; the QEMU log ends:\n    " + d.log_tail().rstrip().replace("\n", "\n    "))
T.log("  timings (s): %s" % ", ".join("%s %.1f" % kv for kv in L.timings.items()))
T.finish()
