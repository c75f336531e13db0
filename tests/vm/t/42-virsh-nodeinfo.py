# vm-topos: asym-systemd
"""`cgplace nodeinfo --virsh` against the real `virsh nodeinfo` (runs INSIDE the
systemd-booted VM, where libvirtd runs on the asymmetric host).

libvirt is the oracle here: every line virsh prints must be the line cgplace
prints with --virsh, byte for byte, on a kernel's own sysfs (the oracle layer
checks the same on libvirt's test trees). Then a CPU is taken offline and both
are asked again: libvirt's answer changes (its 1 x 1 x N x 1 fallback, or not)
and cgplace must follow it. The plain `nodeinfo` keeps cgplace's own meaning:
its NUMA cell count is the kernel's online node count.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vmlibvirt as L  # noqa: E402


def lines(text):
    return [l.rstrip() for l in text.strip().splitlines() if l.strip()]


def compare(when):
    v = L.virsh("nodeinfo")
    T.check(v.returncode == 0, "%s: virsh nodeinfo answers (%s)" % (when, v.stderr.strip()))
    rc, out, err = T.run_cgplace("nodeinfo", "--virsh")
    T.check(rc == 0, "%s: cgplace nodeinfo --virsh exit 0 (%s)" % (when, err.strip()))
    want, got = lines(v.stdout), lines(out)
    T.log("%s: virsh:\n  %s\ncgplace --virsh:\n  %s" % (when, "\n  ".join(want), "\n  ".join(got)))
    T.eq(len(got), len(want), "%s: as many lines as virsh" % when)
    for w, g in zip(want, got):
        T.eq(g, w, "%s: line %r" % (when, w.split(":")[0]))


T.need_cgplace()
L.start_libvirtd()
compare("all CPUs online")
plain = T.run_cgplace("nodeinfo")[1]
T.check("NUMA cell(s):        %d" % len(T.nodes_online()) in plain,
        "plain nodeinfo counts the kernel's online nodes (%d)" % len(T.nodes_online()))
cpu = max(T.cpus_online())
with open("/sys/devices/system/cpu/cpu%d/online" % cpu, "w") as f:
    f.write("0")
try:
    compare("cpu%d offline" % cpu)
finally:
    with open("/sys/devices/system/cpu/cpu%d/online" % cpu, "w") as f:
        f.write("1")
T.finish()
