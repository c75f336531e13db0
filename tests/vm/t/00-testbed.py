# vm-topos: asym hmat sym2 asym-probes asym-services asym-systemd
# The VM itself has the topology its .topo file promises (VM_EXPECT_*), cgroup v2 has
# cpuset, and the kernel agrees with numactl --hardware.  Tests nothing of cgplace: if
# this fails, every other result of this topology is suspect.
import os
import vmtest as T

online = T.nodes_online()
T.log("  nodes online %s, cpus online %s" % (online, T.cpus_online()))
want = os.environ.get("VM_EXPECT_NODES")
if want:
    T.eq(len(online), int(want), "number of online nodes")
kinds = [T.node_kind(n) for n in online]
T.log("  kinds %s" % kinds)
if os.environ.get("VM_EXPECT_CPU_ONLY"):
    T.eq(kinds.count("cpu-only"), int(os.environ["VM_EXPECT_CPU_ONLY"]), "cpu-only nodes")
if os.environ.get("VM_EXPECT_MEM_ONLY"):
    T.eq(kinds.count("memory-only"), int(os.environ["VM_EXPECT_MEM_ONLY"]), "memory-only nodes")
if os.environ.get("VM_EXPECT_HMAT"):
    T.check(any(T.node_initiators(n) for n in online), "some node has access0/initiators (HMAT)")

ctrl = (T.read("/sys/fs/cgroup/cgroup.controllers", "") or "").split()
T.check("cpuset" in ctrl, "cpuset in /sys/fs/cgroup/cgroup.controllers (%s)" % ctrl)
T.check(os.path.exists("/sys/fs/cgroup/cgroup.subtree_control"), "cgroup2 mounted at /sys/fs/cgroup")

h = T.numactl_hardware()
T.eq(h["available"], online, "numactl available nodes vs sysfs online")
for n in online:
    T.eq(h["cpus"].get(n), T.node_cpus(n), "numactl cpus of node %d" % n)
    T.eq(h["size_mb"].get(n), T.node_meminfo(n).get("MemTotal", 0) // 1024, "numactl size of node %d" % n)
T.finish()
