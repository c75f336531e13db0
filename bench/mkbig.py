#!/usr/bin/env python3
"""Fallback generator of the 1024-CPU / 72-node benchmark tree.

Used by run-bench.py only when tests/fixtures/mkfixtures.py (the project's
fixture generator, which owns the canonical "big-1024" tree) is missing or
fails.  Standard library only.

    bench/mkbig.py OUTDIR      -> OUTDIR/sys/devices/system/{cpu,node}, OUTDIR/proc

Shape (as issue 2 describes the 1024-CPU host):
  * 8 packages x 64 cores x SMT2 = 1024 CPUs.  Linux-style numbering: CPU c
    (0..511) is thread 0 of core c, CPU c+512 is its SMT sibling.
  * 64 CPU+memory nodes (0..63) of 16 CPUs each: node n owns cores
    8n..8n+7, i.e. CPUs 8n..8n+7 and 512+8n..512+8n+7; package = n // 8.
  * 8 memory-only nodes (64..71), one per package (CXL-like).
  * full 72x72 SLIT matrix, per-node meminfo, 2 MiB and 1 GiB hugepages.
"""
import os
import sys

NPKG, CORES_PER_PKG, SMT = 8, 64, 2
NCORES = NPKG * CORES_PER_PKG            # 512
NCPUS = NCORES * SMT                     # 1024
CPU_NODES, MEM_NODES = 64, 8
NNODES = CPU_NODES + MEM_NODES           # 72
CORES_PER_NODE = NCORES // CPU_NODES     # 8


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def fmt_list(ids):
    ids = sorted(ids)
    out, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(out)


def fmt_mask(ids, nbits):
    words = [0] * ((nbits + 31) // 32)
    for c in ids:
        words[c // 32] |= 1 << (c % 32)
    return ",".join("%08x" % w for w in reversed(words))


def node_pkg(n):
    return n // (CPU_NODES // NPKG) if n < CPU_NODES else n - CPU_NODES


def node_cpus(n):
    if n >= CPU_NODES:
        return []
    cores = range(n * CORES_PER_NODE, (n + 1) * CORES_PER_NODE)
    return [c for c in cores] + [c + NCORES for c in cores]


def distance(a, b):
    if a == b:
        return 10
    pa, pb = node_pkg(a), node_pkg(b)
    mem = a >= CPU_NODES or b >= CPU_NODES
    if pa == pb:
        return 14 if mem else 12
    return 32 if mem else 20


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkbig.py OUTDIR")
    root = sys.argv[1]
    sysd = os.path.join(root, "sys/devices/system")
    cpud, noded = os.path.join(sysd, "cpu"), os.path.join(sysd, "node")
    allc = fmt_list(range(NCPUS))
    for f in ("online", "possible", "present"):
        write(os.path.join(cpud, f), allc + "\n")
    write(os.path.join(cpud, "offline"), "\n")
    write(os.path.join(cpud, "kernel_max"), "8191\n")

    cpu_node = {}
    for n in range(CPU_NODES):
        for c in node_cpus(n):
            cpu_node[c] = n
    for c in range(NCPUS):
        core = c % NCORES
        pkg = core // CORES_PER_PKG
        sibs = [core, core + NCORES]
        pkg_cpus = [x for x in range(NCPUS) if (x % NCORES) // CORES_PER_PKG == pkg]
        d = os.path.join(cpud, "cpu%d" % c)
        if c != 0:
            write(os.path.join(d, "online"), "1\n")
        t = os.path.join(d, "topology")
        write(os.path.join(t, "physical_package_id"), "%d\n" % pkg)
        write(os.path.join(t, "die_id"), "0\n")
        write(os.path.join(t, "core_id"), "%d\n" % (core % CORES_PER_PKG))
        write(os.path.join(t, "thread_siblings_list"), fmt_list(sibs) + "\n")
        write(os.path.join(t, "thread_siblings"), fmt_mask(sibs, NCPUS) + "\n")
        write(os.path.join(t, "core_siblings_list"), fmt_list(pkg_cpus) + "\n")
        write(os.path.join(t, "core_siblings"), fmt_mask(pkg_cpus, NCPUS) + "\n")
        write(os.path.join(t, "package_cpus_list"), fmt_list(pkg_cpus) + "\n")
        write(os.path.join(t, "core_cpus_list"), fmt_list(sibs) + "\n")

    alln = fmt_list(range(NNODES))
    for f in ("online", "possible", "has_memory", "has_normal_memory"):
        write(os.path.join(noded, f), alln + "\n")
    write(os.path.join(noded, "has_cpu"), fmt_list(range(CPU_NODES)) + "\n")
    for n in range(NNODES):
        d = os.path.join(noded, "node%d" % n)
        cpus = node_cpus(n)
        write(os.path.join(d, "cpulist"), fmt_list(cpus) + "\n")
        write(os.path.join(d, "cpumap"), fmt_mask(cpus, NCPUS) + "\n")
        write(os.path.join(d, "distance"),
              " ".join(str(distance(n, m)) for m in range(NNODES)) + "\n")
        total = (64 if n < CPU_NODES else 256) << 20          # KiB
        free = total // 2 + n * 1024
        write(os.path.join(d, "meminfo"),
              "Node %d MemTotal:       %d kB\n"
              "Node %d MemFree:        %d kB\n"
              "Node %d MemUsed:        %d kB\n"
              "Node %d HugePages_Total:     0\n" % (n, total, n, free, n, total - free, n))
        for size, nr in (("2048kB", 512), ("1048576kB", 4 if n < CPU_NODES else 0)):
            h = os.path.join(d, "hugepages", "hugepages-" + size)
            write(os.path.join(h, "nr_hugepages"), "%d\n" % nr)
            write(os.path.join(h, "free_hugepages"), "%d\n" % (nr // 2))
            write(os.path.join(h, "surplus_hugepages"), "0\n")
        for c in cpus:
            os.symlink("../../cpu/cpu%d" % c, os.path.join(d, "cpu%d" % c))

    ci = []
    for c in range(NCPUS):
        core = c % NCORES
        ci.append("processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                  "model\t\t: 143\nmodel name\t: Bench Xeon 1024\nstepping\t: 8\n"
                  "cpu MHz\t\t: 2000.000\nphysical id\t: %d\nsiblings\t: 128\n"
                  "core id\t\t: %d\ncpu cores\t: 64\nflags\t\t: fpu vme de pse tsc msr pae "
                  "mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht "
                  "syscall nx lm\nbogomips\t: 4000.00\n\n"
                  % (c, core // CORES_PER_PKG, core % CORES_PER_PKG))
    write(os.path.join(root, "proc/cpuinfo"), "".join(ci))
    tot = (CPU_NODES * 64 + MEM_NODES * 256) << 20
    write(os.path.join(root, "proc/meminfo"),
          "MemTotal:       %d kB\nMemFree:        %d kB\n" % (tot, tot // 2))


if __name__ == "__main__":
    main()
