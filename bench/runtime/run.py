#!/usr/bin/env python3
"""Runtime benchmark (issue 8, "Performance (benchmark, in the VM)"), host side. Not a test.

    bench/runtime/run.py [--out docs/PERFORMANCE.md] [--build build] [--runs 15] [--mruns 3] [--no-boot]

Boots the test VM once on bench/runtime/bench.topo (tests/vm/run-vm.sh) with
bench/runtime/inside.sh, reads BUILD/bench-runtime/vm-results/bench-runtime.json and rewrites
the section between <!-- BEGIN runtime --> and <!-- END runtime --> of --out. --no-boot only
re-renders. Standard library only.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from hostside import REPO, errors_section, med, mn, n, s, splice  # noqa: E402


def by_count(c):
    return sorted(c.get("top", {}).items(), key=lambda kv: (-kv[1], kv[0]))


def render(d):
    L = []
    w = L.append
    vm, sc = d.get("vm", {}), d.get("syscalls", {})
    w("## Runtime tuning: vcpupin and numatune (issue 8)")
    w("")
    w("Benchmark of issue 8. It is not a test and `make check` does not run it; nothing in the tests "
      "asserts a time. Regenerate this section with `make bench-runtime` (`bench/runtime/run.py`, which "
      "boots the VM once on `bench/runtime/bench.topo`; `bench/runtime/inside.py` runs inside it). "
      "Run on %s." % d.get("_when", "?"))
    w("")
    nodes = ", ".join("node %s %s (CPUs %s, %s MiB)" % (k, v["kind"], v["cpus"] or "none", v["mem_mib"])
                      for k, v in sorted(vm.get("nodes", {}).items()))
    w("* One boot of the test VM in initramfs mode (cgroupfs backend): QEMU TCG without KVM, %s vCPUs, "
      "Linux %s; NUMA: %s. Host: %s; 1-minute load average %s. The machine is virtualised and shared: "
      "absolute times are noisy, the methods take turns in the same boot, so compare them with each other."
      % (vm.get("cpus", "?"), vm.get("kernel", "?"), nodes, d.get("_host", "?"), d.get("_load", "?")))
    w("* The guests are real nested QEMUs (`-accel tcg,thread=multi -S -smp 4 -mem-prealloc "
      "-name guest=NAME,debug-threads=on`), placed by `cgplace apply` first. Times are wall time "
      "(`time.perf_counter()` around starting the command and waiting for it), median with the minimum "
      "in brackets; system calls are `strace -f -c` of one run of each (every process the command "
      "starts, the dynamic loader's and libc's start-up included).")
    w("")
    w("### vcpupin of one vCPU of a placed 4-vCPU guest")
    w("")
    w("The vCPU moves to another CPU of the guest's set (no widening of the guest's cgroup), "
      "%d times per method, the methods taking turns; after each, the thread's `Cpus_allowed_list` "
      "is checked in `/proc` (%s)." % (d.get("runs", 0), "every one right" if not d.get("errors") else
                                        "see the errors below"))
    w("")
    w("| method | what it does | wall time | runs | system calls | the most frequent |")
    w("|---|---|---|---|---|---|")
    what = {"cgplace": "`cgplace vcpupin pin 0 C`: scan, plan, lock, one write, read-back, sandboxed",
            "taskset": "`taskset -p -c C TID`: sched_setaffinity of the thread (no cgroup)",
            "shell": "`sh -c 'echo C > .../vcpu0/cpuset.cpus'`: one write, nothing read back"}
    for m in ("cgplace", "taskset", "shell"):
        c = sc.get(m, {})
        top = ", ".join("%s %d" % kv for kv in by_count(c)[:6])
        w("| %s | %s | %s (%s) | %d | %s | %s |" % (m, what[m], s(med(d, m), "ms"), s(mn(d, m), "ms"), n(d, m),
                                                  c.get("total", "n/a"), top))
    w("")
    cg, sh = sc.get("cgplace", {}).get("total"), sc.get("shell", {}).get("total")
    if cg and sh:
        r = cg / sh
        w("**Goal: within 2× of the shell write's system calls: %s** (cgplace %d, the shell %d: %.1f×). %s"
          % ("met" if r <= 2 else "not met", cg, sh, r,
             "" if r <= 2 else "Where the calls go: loading the shared libraries (as taskset does: "
             "%d calls for taskset, which changes no cgroup and reads nothing back); reading the host's "
             "topology from sysfs (to check the CPUs are present, online and not reserved); scanning "
             "every process of /proc for QEMU (`readlinkat` of each `exe`: %d calls in this VM, which "
             "runs few processes — a busy host has more); the guest's threads and their status; the "
             "lock; the seccomp filter; the one write; the read-back of `cpuset.*.effective` and of "
             "every thread's `Cpus_allowed_list`. What would bring it near the goal, and is not done: "
             "a discovery of the one guest named (its pid, or a name match stopping at the first "
             "`cmdline` hit) instead of the whole scan, and the topology's CPU lists alone instead of "
             "the whole topology. The read-back cannot go: it is what tells a granted pin from a "
             "silent fallback." % (sc.get("taskset", {}).get("total", 0),
                                   sc.get("cgplace", {}).get("top", {}).get("readlinkat", 0))))
        w("")
    w("### numatune of a 256 MiB guest onto the memory-only node")
    w("")
    ms = d.get("samples", {})
    w("The guest's %d anonymous pages (`numa_maps`) go from node 0 to the memory-only node and back, "
      "%d times per method, the page cache dropped before each move:" % (d.get("guest_anon_pages", 0),
                                                                        d.get("migrate_runs", 0)))
    w("")
    w("* **cgplace**: `cgplace numatune mig --nodeset X` (cpuset.mems of the guest's cgroups: the kernel "
      "moves the pages; `migrate_pages(2)` for what is left), share of the pages on X afterwards: %s."
      % ", ".join("%.1f%%" % (100 * x) for x in ms.get("numatune_share", [])))
    w("* **migratepages**: `migratepages PID 0 X` (numactl) on the same guest, its cgroup widened to "
      "both nodes first (an unplaced guest could not be on X otherwise); share on X afterwards: %s."
      % ", ".join("%.1f%%" % (100 * x) for x in ms.get("migratepages_share", [])))
    w("")
    w("| method | wall time | runs | cgplace / migratepages |")
    w("|---|---|---|---|")
    a, b = med(d, "numatune"), med(d, "migratepages")
    w("| cgplace numatune | %s (%s) | %d | %s |" % (s(a), s(mn(d, "numatune")), n(d, "numatune"),
                                                  "%.2f×" % (a / b) if a and b else "n/a"))
    w("| migratepages | %s (%s) | %d | |" % (s(b), s(mn(d, "migratepages")), n(d, "migratepages")))
    w("")
    c = sc.get("numatune", {})
    if c:
        w("`cgplace numatune` made %s system calls (%s)." % (c.get("total"), ", ".join(
            "%s %d" % kv for kv in by_count(c)[:6])))
        w("")
    L += errors_section(d)
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "docs/PERFORMANCE.md"))
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--mruns", type=int, default=3)
    ap.add_argument("--no-boot", action="store_true")
    a = ap.parse_args()
    bdir = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    resdir = os.path.join(bdir, "bench-runtime", "vm-results")
    path = os.path.join(resdir, "bench-runtime.json")
    if not a.no_boot:
        os.makedirs(resdir, exist_ok=True)
        for f in os.listdir(resdir):
            if os.path.isfile(os.path.join(resdir, f)):
                os.unlink(os.path.join(resdir, f))
        env = dict(os.environ, CGPLACE_VM_RESULTS=resdir, CGPLACE_VM_TIMEOUT="900", B=bdir,
                   CGPLACE_TEST_BENCH_RUNS=str(a.runs), CGPLACE_TEST_BENCH_MRUNS=str(a.mruns))
        load = os.getloadavg()[0]
        rc = subprocess.call([os.path.join(REPO, "tests/vm/run-vm.sh"), os.path.join(HERE, "bench.topo"),
                              os.path.join(HERE, "inside.sh")], env=env, cwd=REPO)
        if not os.path.exists(path):
            sys.exit("bench-runtime: the VM run wrote no %s (exit %d)" % (path, rc))
        d = json.load(open(path))
        d["_load"] = "%.2f at the start, %.2f at the end" % (load, os.getloadavg()[0])
        d["_when"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        d["_host"] = "%d CPUs, Linux %s" % (os.cpu_count(), os.uname().release)
        json.dump(d, open(path, "w"), indent=1, sort_keys=True)
    d = json.load(open(path))
    splice(a.out, "runtime", render(d))
    print("bench-runtime: wrote the runtime section of %s" % a.out)
    return 1 if d.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
