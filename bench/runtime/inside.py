"""Runtime benchmark (issue 8), INSIDE the VM. Not a test.

1. vcpupin of one vCPU of a placed 4-vCPU guest (a real nested QEMU, -S): `cgplace vcpupin`
   against `taskset -p -c` on the same thread and against a shell writing the vCPU's
   cpuset.cpus (`sh -c 'echo C > .../vcpu0/cpuset.cpus'`): wall time of each, and the system
   calls of each process (strace -f -c), the new CPU alternating between two of the guest's.
2. numatune of a 256 MiB guest (-mem-prealloc) between node 0 and the memory-only node:
   `cgplace numatune --nodeset` against `migratepages PID FROM TO` (numactl) on the same guest
   in the same boot (its cgroup first widened to both nodes so that migratepages may move it).
Writes RESULTS/bench-runtime.json.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vmside import CG, CGPLACE, Results, T, drop_caches, fmt, timed  # noqa: E402

RUNS = int(os.environ.get("CGPLACE_TEST_BENCH_RUNS", "15"))
MRUNS = int(os.environ.get("CGPLACE_TEST_BENCH_MRUNS", "3"))
R = Results("bench-runtime.json", runs=RUNS, migrate_runs=MRUNS, samples={}, syscalls={})
os.environ["CGPLACE_LOCK"] = "/run/cgp-bench.lock"
S = R.out["samples"]


def sample(k, v):
    S.setdefault(k, []).append(v)


def qemu(name, mib):
    pidfile = "/run/%s.pid" % name
    p = subprocess.run(["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-S", "-m", str(mib), "-smp", "4",
                        "-nodefaults", "-display", "none", "-daemonize", "-pidfile", pidfile, "-mem-prealloc",
                        "-name", "guest=%s,debug-threads=on" % name], capture_output=True, text=True)
    if p.returncode:
        R.fatal("qemu %s: %s" % (name, p.stderr))
    pid = int(open(pidfile).read())
    for _ in range(200):
        if sum(c.startswith("CPU ") for c in T.task_comms(pid).values()) == 4:
            break
        time.sleep(0.05)
    return pid


def syscalls(cmd):
    """Total system calls of cmd and its children (strace -f -c), and the top ones."""
    out = "/run/strace.out"
    subprocess.run(["strace", "-f", "-c", "-o", out] + cmd, capture_output=True, text=True)
    total, top = None, {}
    for line in open(out):
        f = line.split()
        if len(f) >= 5 and f[-1] == "total":
            total = int(f[3])
        elif len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            top[f[-1]] = int(f[3])
    return total, dict(sorted(top.items(), key=lambda x: -x[1])[:12])


def must(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        R.fatal("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


nodes = T.nodes_online()
memonly = [n for n in nodes if T.node_kind(n) == "memory-only"]
cpus = T.cpus_online()
R.out["vm"] = dict(cpus=len(cpus), kernel=os.uname().release,
                   nodes={n: dict(kind=T.node_kind(n), cpus=fmt(T.node_cpus(n)),
                                  mem_mib=T.node_meminfo(n).get("MemTotal", 0) // 1024) for n in nodes})
if not memonly or len(cpus) < 4:
    R.fatal("needs 4 CPUs and a memory-only node")
X = memonly[0]

# ---------------------------------------------------------------- 1. vcpupin
pid = qemu("pin", 64)
pol = "/run/pin.conf"
with open(pol, "w") as f:
    f.write("guest pin { vcpus 4; cpus 0-3; memory 64M nodes 0; vcpupin 0 0; vcpupin 1 1; vcpupin 2 2; "
            "vcpupin 3 3; emulatorpin 0-3; }\n")
must([CGPLACE, "apply", pol])
tid = [t for t, c in T.task_comms(pid).items() if c == "CPU 0/TCG"][0]
cpufile = CG + "/cgplace/pin/vcpu0/cpuset.cpus"
methods = {
    "cgplace": lambda c: [CGPLACE, "vcpupin", "pin", "0", str(c)],
    "taskset": lambda c: ["taskset", "-p", "-c", str(c), str(tid)],
    "shell": lambda c: ["sh", "-c", "echo %d > %s" % (c, cpufile)],
}


def reset(m):
    """The same start for every method: the thread on CPU 0. A cgroup pin (cgplace, the shell)
    starts with the thread's own mask wide; taskset starts with the cgroup wide, since
    sched_setaffinity cannot leave the thread's cpuset."""
    if m == "taskset":
        must(["sh", "-c", "echo 0-3 > %s" % cpufile])
        must(["taskset", "-p", "-c", "0", str(tid)])
    else:
        must(["taskset", "-p", "-c", "0-3", str(tid)])
        must(["sh", "-c", "echo 0 > %s" % cpufile])


for m, cmd in methods.items():
    reset(m)
    total, top = syscalls(cmd(1))
    R.out["syscalls"][m] = dict(total=total, top=top)
for i in range(RUNS):
    for m, cmd in methods.items():
        c = 1 + i % 2
        reset(m)
        dt, p = timed(cmd(c))
        if p.returncode:
            R.err("%s: exit %d: %s" % (" ".join(cmd(c)), p.returncode, p.stderr.strip()))
            continue
        sample(m, dt)
        have = T.task_status(pid, tid)["Cpus_allowed_list"]
        if have != str(c):
            R.err("%s: the thread's Cpus_allowed_list is %s, not %d" % (m, have, c))
os.kill(pid, 9)
R.save()

# ---------------------------------------------------------------- 2. numatune of 256 MiB
drop_caches()
pid = qemu("mig", 256)
pol = "/run/mig.conf"
with open(pol, "w") as f:
    f.write("guest mig { vcpus 4; cpus 0-3; memory 256M nodes 0; }\n")
must([CGPLACE, "apply", pol])


def anon(pid):
    pages = {}
    for line in open("/proc/%d/numa_maps" % pid):
        if " anon=" in line and " file=" not in line:
            for k, v in re.findall(r" N(\d+)=(\d+)", line):
                pages[int(k)] = pages.get(int(k), 0) + int(v)
    return pages


R.out["guest_anon_pages"] = sum(anon(pid).values())
for i in range(MRUNS):
    drop_caches()
    dt, p = timed([CGPLACE, "numatune", "mig", "--nodeset", str(X)])
    a = anon(pid)
    R.log("numatune -> %d: %.2f s, %s" % (X, dt, a))
    if p.returncode:
        R.err("numatune: exit %d: %s" % (p.returncode, p.stderr.strip()))
    sample("numatune", dt)
    sample("numatune_share", a.get(X, 0) / max(1, sum(a.values())))
    timed([CGPLACE, "numatune", "mig", "--nodeset", "0"])
    # migratepages needs both nodes allowed: widen the guest's cgroup without a move
    must([CGPLACE, "numatune", "mig", "--nodeset", "0,%d" % X])
    drop_caches()
    dt, p = timed(["migratepages", str(pid), "0", str(X)])
    a = anon(pid)
    R.log("migratepages 0 -> %d: %.2f s, %s" % (X, dt, a))
    if p.returncode:
        R.err("migratepages: exit %d: %s" % (p.returncode, p.stderr.strip()))
    sample("migratepages", dt)
    sample("migratepages_share", a.get(X, 0) / max(1, sum(a.values())))
    timed(["migratepages", str(pid), str(X), "0"])
    must([CGPLACE, "numatune", "mig", "--nodeset", "0"])
total, top = syscalls([CGPLACE, "numatune", "mig", "--nodeset", str(X)])
R.out["syscalls"]["numatune"] = dict(total=total, top=top)
os.kill(pid, 9)
R.save()
