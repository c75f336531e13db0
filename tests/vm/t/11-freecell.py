# vm-topos: asym hmat sym2
# `cgplace freecell --all` and `freecell N` agree with each node's MemFree; an unknown
# cell exits 2; a cell without memory prints 0 KiB.
import re
import vmtest as T

T.need_cgplace()
online = T.nodes_online()
out = T.cgplace("freecell", "--all").stdout
T.log("  " + out.replace("\n", "\n  ").rstrip())
lines = out.splitlines()
T.eq(len(lines), len(online) + 2, "one line per online cell + dashes + total")
vals = {}
for line in lines[:-2]:
    m = re.match(r"( *\d+): (\d+) KiB$", line)
    if T.check(m and len(m.group(1)) >= 5, "cell line %r is '%%5d: N KiB'" % line):
        vals[int(m.group(1))] = int(m.group(2))
T.eq(sorted(vals), online, "cells listed = online nodes")
if len(lines) >= 2:
    T.eq(lines[-2], "-" * 20, "separator")
    m = re.match(r"Total: (\d+) KiB$", lines[-1])
    if T.check(m, "total line %r" % lines[-1]):
        T.eq(int(m.group(1)), sum(vals.values()), "Total = sum of the cells")
for n in online:
    free = T.node_meminfo(n).get("MemFree", 0)
    T.near(vals.get(n), free, "freecell --all cell %d vs MemFree" % n)
    if n not in T.node_state("has_memory"):
        T.eq(vals.get(n), 0, "cell %d without memory" % n)
    one = T.cgplace("freecell", str(n)).stdout.strip()
    m = re.match(r"(\d+): (\d+) KiB$", one)
    if T.check(m, "freecell %d prints 'N: X KiB' (got %r)" % (n, one)):
        T.eq(int(m.group(1)), n, "freecell %d cell id" % n)
        T.near(int(m.group(2)), T.node_meminfo(n).get("MemFree", 0), "freecell %d vs MemFree" % n)
bad = max(T.nodes_possible() + online) + 1
p = T.cgplace("freecell", str(bad), want_rc=None)
T.eq(p.returncode, 2, "freecell %d (unknown cell) exit status" % bad)
T.check(p.stderr.startswith("cgplace: "), "error message starts with 'cgplace: ' (%r)" % p.stderr)
T.finish()
