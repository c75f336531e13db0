# vm-topos: asym hmat sym2
# `cgplace topology --json` agrees with the guest kernel (sysfs) and numactl --hardware:
# node ids, kinds, CPUs, memory, free memory, hugepages, distances, HMAT initiators,
# memory tiers, and every CPU's node/package/die/core/siblings.
import vmtest as T

T.need_cgplace()
j = T.cgplace_json("topology", "--json")
T.eq(T.parse_list(j.get("nodes_online")), T.nodes_online(), "nodes_online")
T.eq(T.parse_list(j.get("nodes_possible")), T.nodes_possible(), "nodes_possible")
T.eq(T.parse_list(j.get("cpus_present")), T.cpus_present(), "cpus_present")
T.eq(T.parse_list(j.get("cpus_online")), T.cpus_online(), "cpus_online")

online = T.nodes_online()
nodes = {n.get("id"): n for n in j.get("nodes", [])}
for n in online:
    T.check(n in nodes, "node %d listed" % n)
tiers = T.memory_tiers()
hw = T.numactl_hardware()
for n in online:
    e = nodes.get(n)
    if not e:
        continue
    T.log("  node %d: kind %s cpus %s memory %s KiB initiators %s access0 %s tier %s"
          % (n, e.get("kind"), e.get("cpus"), e.get("memory_kib"), e.get("initiators"), e.get("access0"), e.get("tier")))
    mi = T.node_meminfo(n)
    T.eq(e.get("online"), True, "node %d online" % n)
    T.eq(e.get("kind"), T.node_kind(n), "node %d kind" % n)
    T.eq(T.parse_list(e.get("cpus")), T.node_cpus(n), "node %d cpus" % n)
    T.eq(T.parse_list(e.get("cpus")), hw["cpus"].get(n), "node %d cpus vs numactl --hardware" % n)
    T.eq(e.get("memory_kib"), mi.get("MemTotal"), "node %d memory_kib" % n)
    T.eq((e.get("memory_kib") or 0) // 1024, hw["size_mb"].get(n), "node %d size vs numactl --hardware (MB)" % n)
    T.near(e.get("free_kib"), mi.get("MemFree", 0), "node %d free_kib" % n)
    T.eq(sorted(e.get("hugepages") or [], key=lambda h: h.get("size_kib", 0)), T.node_hugepages(n), "node %d hugepages" % n)
    # distances: {"<node id>": value} (docs/cgplace.1) or [{"node": id, "value": v}]
    dist = e.get("distances")
    if isinstance(dist, dict):
        dist = {int(k): v for k, v in dist.items()}
    elif isinstance(dist, list):
        dist = {d.get("node"): d.get("value") for d in dist if isinstance(d, dict)}
    T.eq(dist, T.node_distance(n), "node %d distances" % n)
    ini = T.node_initiators(n)
    got = e.get("initiators")
    T.eq(None if got is None else T.parse_list(got), ini, "node %d initiators (access0)" % n)
    if "access0" in e:
        acc = T.node_access0(n)
        T.eq(e.get("access0"), acc, "node %d access0 (HMAT latency/bandwidth)" % n)
    if tiers is None or n not in tiers:
        T.eq(e.get("tier"), None, "node %d tier (no memory_tiering entry)" % n)
    else:
        T.eq(e.get("tier"), tiers[n], "node %d tier (memory_tierN)" % n)
kinds = [nodes[n].get("kind") for n in online if n in nodes]
T.log("  kinds: %s" % kinds)

cpus = {c.get("id"): c for c in j.get("cpus", [])}
T.eq(sorted(cpus), T.cpus_present(), "cpus[] ids = present CPUs")
for c in T.cpus_present():
    e = cpus.get(c)
    if not e:
        continue
    t = T.cpu_topo(c)
    T.eq(e.get("online"), c in T.cpus_online(), "cpu %d online" % c)
    T.eq(e.get("node"), T.cpu_node(c), "cpu %d node" % c)
    T.eq(e.get("package"), t["package"], "cpu %d package" % c)
    T.eq(e.get("die"), t["die"], "cpu %d die" % c)
    T.eq(e.get("core"), t["core"], "cpu %d core" % c)
    if "cluster" in e:
        T.eq(e.get("cluster"), t["cluster"], "cpu %d cluster" % c)
    T.eq(None if e.get("siblings") is None else T.parse_list(e.get("siblings")), t["siblings"], "cpu %d siblings" % c)
T.finish()
