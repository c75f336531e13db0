# vm-topos: asym hmat sym2
# `cgplace nodeinfo` agrees with the guest kernel (sysfs, /proc/meminfo).
import re
import vmtest as T

T.need_cgplace()
out = T.cgplace("nodeinfo").stdout
T.log("  " + out.replace("\n", "\n  ").rstrip())
fields = {}
for line in out.splitlines():
    m = re.match(r"([^:]+):\s+(.*)$", line)
    T.check(m, "line %r is 'Field: value'" % line)
    if m:
        fields[m.group(1)] = m.group(2).strip()
order = ["CPU model", "CPU(s)", "CPU frequency", "CPU socket(s)", "Core(s) per socket",
         "Thread(s) per core", "NUMA cell(s)", "Memory size"]
T.eq([k for k in fields if k in order], order, "field order")
for line in out.splitlines():
    m = re.match(r"[^:]+:\s+", line)
    T.check(m and m.end() == 21, "value starts at column 21 in %r" % line)

online_cpus = T.cpus_online()
T.check(fields.get("CPU model"), "CPU model is not empty")
T.eq(fields.get("CPU(s)"), str(len(online_cpus)), "CPU(s) = online CPUs")
T.check(re.match(r"\d+ MHz$", fields.get("CPU frequency", "")), "CPU frequency is 'N MHz'")

topo = {c: T.cpu_topo(c) for c in online_cpus}
pkgs = sorted({t["package"] for t in topo.values()})
cores = {p: {t["core"] for t in topo.values() if t["package"] == p} for p in pkgs}
threads = max(len(t["siblings"] or [c]) for c, t in topo.items())
T.eq(fields.get("CPU socket(s)"), str(len(pkgs)), "CPU socket(s) = distinct physical_package_id")
T.eq(fields.get("Core(s) per socket"), str(max(len(v) for v in cores.values())), "Core(s) per socket")
T.eq(fields.get("Thread(s) per core"), str(threads), "Thread(s) per core")

online = T.nodes_online()
T.eq(fields.get("NUMA cell(s)"), str(len(online)), "NUMA cell(s) = online nodes")
m = re.match(r"(\d+) KiB$", fields.get("Memory size", ""))
T.check(m, "Memory size is 'N KiB'")
if m:
    sum_nodes = sum(T.node_meminfo(n).get("MemTotal", 0) for n in online)
    T.check(int(m.group(1)) in (T.meminfo_total(), sum_nodes),
            "Memory size %s is /proc/meminfo MemTotal %d or the sum of node MemTotal %d"
            % (m.group(1), T.meminfo_total(), sum_nodes))


def cells_line(key, ids):
    if not ids:
        T.check(key not in fields, "no %r line when there are none (got %r)" % (key, fields.get(key)))
        return
    m = re.match(r"(\d+) \(([-0-9,]+)\)$", fields.get(key, ""))
    if T.check(m, "%r line is 'COUNT (LIST)' (got %r)" % (key, fields.get(key))):
        T.eq(int(m.group(1)), len(ids), key + " count")
        T.eq(T.parse_list(m.group(2)), ids, key + " list")


cells_line("CPU-less cell(s)", [n for n in online if n not in T.node_state("has_cpu")])
cells_line("Memory-less cell(s)", [n for n in online if n not in T.node_state("has_memory")])
T.finish()
