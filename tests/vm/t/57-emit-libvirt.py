# vm-topos: asym-systemd
"""cgplace emit --format libvirt against libvirt itself (libvirtd 9.0 in the systemd mode):
a domain made of a fixed skeleton and exactly the elements emit prints is defined and
started (paused), and then

- virsh dumpxml holds the same placement as the emitted elements, read as sets (each
  vCPU's CPUs, the emulator's, the numatune mode and nodes, each cell's vCPUs, memory,
  nodes and mode: tests/emit/run.py's reader);
- every vCPU thread (libvirt's vcpuN cgroups) and the main thread run where the emitted
  <vcpupin>/<emulatorpin> say (Cpus_allowed_list from /proc);
- each guest cell's memory backend is bound to its <memnode> node, for the CPU+memory node
  and the memory-only node: QEMU's info memdev (policy bind, host nodes N) and the
  kernel's numa_maps (a mapping with policy bind:N).
Everything is read from libvirt and /proc, never from cgplace.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "emit"))
import vmtest as T  # noqa: E402
import vmlibvirt as L  # noqa: E402
import run as E  # noqa: E402  (tests/emit/run.py: the placement reader)

RUN = "/run/cgp-emit-libvirt"
MO, N0, c0, c1 = T.memory_bed(RUN)

pol = RUN + "/p.conf"
with open(pol, "w") as f:
    f.write("guest lvemit {\n  vcpus 2;\n  cpus %s;\n  memory 64M nodes %s mode strict;\n"
            "  vcpupin 0 %d;\n  vcpupin 1 %d;\n  emulatorpin %d;\n"
            "  cell 0 { vcpus 0; memory 32M nodes %d; }\n  cell 1 { vcpus 1; memory 32M nodes %d; }\n}\n"
            % (T.fmt_list([c0, c1]), T.fmt_list(sorted({N0, MO})), c0, c1, c1, N0, MO))
rc, frag, err = T.run_cgplace("emit", "--format", "libvirt", "-p", pol, "lvemit")
if rc != 0:
    T.fatal("emit --format libvirt: exit %d: %s" % (rc, err.strip()))
T.log("  emitted:\n    " + frag.strip().replace("\n", "\n    "))

# The skeleton: no <memory>, <vcpu>, <cputune>, <numatune> or <cpu> of its own. No
# <allocation mode='immediate'>: QEMU 7.2's preallocation thread context refuses a node
# without CPUs ("The nodes select no CPUs"), and a paused guest touches no page anyway.
tmpl = RUN + "/domain.xml"
with open(tmpl, "w") as f:
    f.write("<domain type='qemu'>\n  <name>$name</name>\n  $extra\n"
            "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
            "  <on_poweroff>destroy</on_poweroff>\n  <on_crash>destroy</on_crash>\n"
            "  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
            "    <controller type='usb' model='none'/>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n")
L.TEMPLATE = tmpl
e = L.start_libvirtd()
if e:
    T.fatal("libvirtd: " + e)
try:
    d = L.Domain("lvemit", extra=frag)
except L.DomainError as x:
    T.fatal("libvirt refused the emitted elements: %s" % x)

# ---------------------------------------------------------------- libvirt's own view
r = L.virsh("dumpxml", "lvemit")
T.check(r.returncode == 0, "virsh dumpxml lvemit: %s" % r.stderr.strip())
live = ET.fromstring(r.stdout)
want = E.placement(ET.fromstring(E.fragment_domain(frag)), T.cpus_online())
got = E.placement(live, T.cpus_online())
problems = E.differences(want, got)
T.check(not problems, "virsh dumpxml holds the emitted placement: %s" % "; ".join(problems))

# ---------------------------------------------------------------- threads
tids = d.vcpu_tids()
T.eq(sorted(tids), [0, 1], "libvirt's vcpuN cgroups")
for v, ts in tids.items():
    for t in ts:
        T.eq(T.task_status(d.pid, t)["Cpus_allowed_list"], str([c0, c1][v]), "vCPU %d thread %d affinity" % (v, t))
T.eq(T.task_status(d.pid)["Cpus_allowed_list"], str(c1), "the emulator (main thread) affinity")

# ---------------------------------------------------------------- each cell's memory backend
# QEMU's own view of its backends (HMP info memdev), and the kernel's policy of each mapping
r = L.virsh("qemu-monitor-command", "lvemit", "--hmp", "info memdev")
T.check(r.returncode == 0, "info memdev: %s" % r.stderr.strip())
for cell, n in ((0, N0), (1, MO)):
    m = re.search(r"memory backend: ram-node%d\n(?:  .*\n)*?  policy: bind\n(?:  .*\n)*?  host nodes: %d\n" % (cell, n),
                  r.stdout + "\n")
    T.check(m, "QEMU: cell %d's backend ram-node%d bound to host node %d:\n%s" % (cell, cell, n, r.stdout))
words = set(re.findall(r"^\S+ (bind:\d+)", open("/proc/%d/numa_maps" % d.pid).read(), re.M))
for n in (N0, MO):
    T.check("bind:%d" % n in words, "numa_maps: a mapping with policy bind:%d (policies: %s)" % (n, sorted(words)))
err = d.destroy()
T.check(err is None, "virsh destroy: %s" % err)
T.finish()
