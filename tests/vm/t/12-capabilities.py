# vm-topos: asym hmat sym2
# `cgplace capabilities` validates against libvirt's capability.rng and its
# <topology><cells> agree with the guest kernel.
import subprocess
import xml.etree.ElementTree as ET
import vmtest as T

RNG = "/usr/share/libvirt/schemas/capability.rng"
T.need_cgplace()
out = T.cgplace("capabilities").stdout
with open("/tmp/caps.xml", "w") as f:
    f.write(out)
p = subprocess.run(["xmllint", "--noout", "--relaxng", RNG, "/tmp/caps.xml"], capture_output=True, text=True)
T.check(p.returncode == 0, "xmllint --relaxng capability.rng: %s" % p.stderr.strip())
try:
    root = ET.fromstring(out)
except ET.ParseError as e:
    T.fatal("not XML: %s" % e)
cells = root.find("host/topology/cells")
if cells is None:
    T.fatal("no host/topology/cells")
online = T.nodes_online()
T.eq(cells.get("num"), str(len(online)), "cells num")
got = {int(c.get("id")): c for c in cells.findall("cell")}
T.eq(sorted(got), online, "cell ids = online nodes")
for n in online:
    c = got.get(n)
    if c is None:
        continue
    mem = c.find("memory")
    T.check(mem is not None and mem.get("unit") == "KiB", "cell %d <memory unit='KiB'>" % n)
    if mem is not None:
        T.eq(int(mem.text), T.node_meminfo(n).get("MemTotal", 0), "cell %d memory" % n)
    dist = {int(s.get("id")): int(s.get("value")) for s in c.findall("distances/sibling")}
    T.eq(dist, T.node_distance(n), "cell %d distances" % n)
    cpus = c.find("cpus")
    want = T.node_cpus(n)
    if T.check(cpus is not None, "cell %d has <cpus>" % n):
        T.eq(cpus.get("num"), str(len(want)), "cell %d cpus num" % n)
        clist = cpus.findall("cpu")
        T.eq(sorted(int(x.get("id")) for x in clist), want, "cell %d cpu ids" % n)
        for x in clist:
            cid = int(x.get("id"))
            t = T.cpu_topo(cid)
            if t["package"] is not None:
                T.eq(x.get("socket_id"), str(t["package"]), "cpu %d socket_id" % cid)
            if t["die"] is not None:
                T.eq(x.get("die_id"), str(t["die"]), "cpu %d die_id" % cid)
            if t["core"] is not None:
                T.eq(x.get("core_id"), str(t["core"]), "cpu %d core_id" % cid)
            if t["siblings"] is not None:
                T.eq(T.parse_list(x.get("siblings")), t["siblings"], "cpu %d siblings" % cid)
T.finish()
