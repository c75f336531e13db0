# vm-topos: asym-probes
# Probe (d): on cgroup v2, a task's pages follow its cpuset.mems (there is no
# cpuset.memory_migrate file on v2; migration is always on).  Checked with numa_maps of a
# 4 MiB touched buffer, both ways a task's mems can change:
#   1. moving the task (cgroup.procs) into a cgroup with different cpuset.mems,
#   2. changing cpuset.mems of the cgroup the task is in,
# including onto (and off) a memory-only node.
import os
import subprocess
import time
import vmtest as T

MIB = 4
PAGES = MIB * 256
online = T.nodes_online()
memonly = [n for n in online if T.node_kind(n) == "memory-only"]
cpumem = [n for n in online if T.node_kind(n) == "cpu+memory"]
if not memonly or len(cpumem) < 2:
    T.skip("needs a memory-only node and two cpu+memory nodes")
A, B, X = cpumem[0], cpumem[1], memonly[0]
T.log("  nodes: A=%d B=%d (cpu+memory), X=%d (memory-only)" % (A, B, X))
# start from a quiet page allocator (earlier tests fill the nodes with 9p page cache;
# page migration under TCG was seen to take 30 s+ per step then)
subprocess.run(["sync"])
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("3")
for n in online:
    T.log("  node %d MemFree %d KiB" % (n, T.node_meminfo(n).get("MemFree", 0)))
S = T.scratch("migrate")
T.check(not os.path.exists(T.CG + "/" + S + "/cpuset.memory_migrate"), "no cpuset.memory_migrate on v2")
cg = {}
for name, node in (("a", A), ("b", B), ("x", X)):
    cg[name] = T.cg_mkdir(S + "/" + name)
    T.cg_must(cg[name] + "/cpuset.mems", str(node))


t_last = [time.time()]


def where(h, want, what):
    # migration happens synchronously in the write, but allow a moment
    for _ in range(20):
        p = h.pages_per_node()
        if p.get(want, 0) >= 0.9 * PAGES:
            break
        time.sleep(0.1)
    now = time.time()
    T.log("  %-58s pages per node %s, Mems_allowed %s (%.1fs)"
          % (what + ":", p, T.task_status(h.pid)["Mems_allowed_list"], now - t_last[0]))
    t_last[0] = now
    T.check(p.get(want, 0) >= 0.9 * PAGES, "%s: >= 90%% of %d pages on node %d (got %s)" % (what, PAGES, want, p))
    T.eq(T.parse_list(T.task_status(h.pid)["Mems_allowed_list"]), [want], what + ": Mems_allowed_list")


def must(path, value):
    err = T.cg_write_watched(path, value)
    if err:
        T.fatal("write %r to %s: %s" % (value, path, err))


h = T.Helper(MIB, 0, S + "/a")
where(h, A, "allocated in a cgroup with mems=%d" % A)
must(cg["b"] + "/cgroup.procs", h.pid)
where(h, B, "moved (cgroup.procs) into mems=%d" % B)
must(cg["x"] + "/cgroup.procs", h.pid)
where(h, X, "moved (cgroup.procs) into mems=%d (memory-only)" % X)
must(cg["x"] + "/cpuset.mems", str(A))
where(h, A, "its cgroup's cpuset.mems changed %d -> %d" % (X, A))
must(cg["x"] + "/cpuset.mems", str(X))
where(h, X, "its cgroup's cpuset.mems changed %d -> %d (memory-only)" % (A, X))
# widening keeps pages where they are (no needless migration)
must(cg["x"] + "/cpuset.mems", "%d,%d" % (A, X))
p = h.pages_per_node()
T.log("  %-58s pages per node %s" % ("mems widened to %d,%d:" % (A, X), p))
T.check(p.get(X, 0) >= 0.9 * PAGES, "widening mems does not move pages off node %d (got %s)" % (X, p))
h.kill()
T.finish()
