# vm-topos: asym
"""cgplace emit --format qemu on a real kernel: QEMU started with exactly the options emit
prints (split on white space, nothing added but -S, -nodefaults, -display none and
-mem-prealloc, which touches every page of every backend at start) accepts them, and
numa_maps shows each memory backend bound as the policy says:

- two cells: QEMU accepts the -numa options (it refuses cpus= beyond -smp, or cell sizes
  that do not add up to -m); cell 0 interleaved over a CPU+memory node and the memory-only
  node (pages on both within 10% of even), cell 1 bound to the memory-only node (>= 99%);
- no cells: one backend for the whole memory through -machine memory-backend=, bound
  strict to the memory-only node.
The pages are read from /proc/PID/numa_maps, never from cgplace.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-emit"
MO, N0, c0, c1 = T.memory_bed(RUN)


def emit(body, guest):
    path = "%s/%s.conf" % (RUN, guest)
    with open(path, "w") as f:
        f.write(body)
    rc, out, err = T.run_cgplace("emit", "--format", "qemu", "-p", path, guest)
    if rc != 0:
        T.fatal("emit --format qemu %s: exit %d: %s" % (guest, rc, err.strip()))
    T.log("  emit %s:\n    %s" % (guest, out.strip().replace("\n", "\n    ")))
    return out.split()


def backends(pid):
    """{size in MiB (rounded): (pages per node, policy word)} of the anonymous mappings."""
    out = {}
    for line in open("/proc/%d/numa_maps" % pid):
        if " anon=" not in line or " file=" in line:
            continue
        nodes = {int(k): int(v) for k, v in re.findall(r" N(\d+)=(\d+)", line)}
        mib = round(sum(nodes.values()) * 4 / 1024)
        if mib >= 8:
            out.setdefault(mib, (nodes, line.split()[1]))
    return out


def run_qemu(args, want_mib):
    p = subprocess.Popen(["qemu-system-x86_64", "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
                          "-mem-prealloc"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {}
    for _ in range(600):
        if p.poll() is not None:
            T.fatal("QEMU refused the emitted options (exit %d): %s" % (p.returncode, p.stderr.read().strip()))
        seen = backends(p.pid)
        if all(m in seen for m in want_mib):
            break
        time.sleep(0.1)
    p.kill()
    p.wait()
    return seen


def share(pages, node):
    total = sum(pages.values())
    return pages.get(node, 0) / total if total else 0.0


# ---------------------------------------------------------------- two cells
args = emit("guest cells {\n  vcpus 2;\n  cpus %s;\n  memory 48M nodes %s mode restrictive;\n"
            "  cell 0 { vcpus 0; memory 32M nodes %s mode interleave; }\n"
            "  cell 1 { vcpus 1; memory 16M nodes %d; }\n}\n"
            % (T.fmt_list([c0, c1]), T.fmt_list(sorted({N0, MO})), T.fmt_list(sorted({N0, MO})), MO), "cells")
T.check("-numa" in args and "memdev=ram-node1" in " ".join(args), "emit qemu: a -numa node per cell")
seen = run_qemu(args, [32, 16])
pages, word = seen.get(32, ({}, ""))
a, b = pages.get(N0, 0), pages.get(MO, 0)
T.check(word.startswith("interleave:"), "cell 0's backend: numa_maps policy interleave (%s)" % word)
T.check(a > 0 and b > 0 and abs(a - b) <= 0.10 * (a + b) / 2,
        "cell 0's backend: pages on nodes %d and %d within 10%% of even (%d, %d)" % (N0, MO, a, b))
pages, word = seen.get(16, ({}, ""))
T.eq(word, "bind:%d" % MO, "cell 1's backend: numa_maps policy")
T.check(share(pages, MO) >= 0.99, "cell 1's backend: >= 99%% of its pages on node %d (%s)" % (MO, pages))

# ---------------------------------------------------------------- no cells: one backend
args = emit("guest whole {\n  vcpus 1;\n  cpus %d;\n  memory 24M nodes %d mode strict;\n}\n" % (c0, MO), "whole")
T.check("memory-backend=ram" in " ".join(args), "emit qemu without cells: -machine memory-backend=ram")
seen = run_qemu(args, [24])
pages, word = seen.get(24, ({}, ""))
T.eq(word, "bind:%d" % MO, "the whole memory's backend: numa_maps policy")
T.check(share(pages, MO) >= 0.99, "the whole memory: >= 99%% of its pages on node %d (%s)" % (MO, pages))
T.finish()
