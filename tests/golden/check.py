#!/usr/bin/env python3
"""check.py BIN FIXTURE_DIR EXPECTED_DIR [NAME...]

Independent checker for the golden layer. For every fixture it derives the
expected facts from the fixture's *description* (tests/fixtures/mkfixtures.py
FIXTURES), never from cgplace's output, and compares them with

  * what cgplace prints now (nodeinfo, freecell, topology --json,
    capabilities, and their --json variants), and
  * the golden files in EXPECTED_DIR/<fixture>/, so a golden file blessed
    from wrong output is caught even when the program agrees with it.

Text formats come from spec section 2 (nodeinfo labels padded to column 21,
"CPU-less cell(s):" / "Memory-less cell(s):" lines, freecell "%5d: N KiB",
20 dashes, "Total: N KiB"; capabilities per libvirt: <cpus num='0'/> for a
CPU-less cell, <memory unit='KiB'>0</memory> for a memory-less one).

tests/golden/run.py runs it as its part 5 (run_checks() on its layer);
alone it prints a "FAIL check/NAME" block per failed check (tests/golden/
harness.py), a closing "check: N passed, N failed, N skipped" line, and exits
1 when anything failed.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, HERE)
import harness as H  # noqa: E402
import mkfixtures as M  # noqa: E402


def record(layer, name, errors):
    if len(errors) > 15:
        errors = errors[:15] + ["... %d more" % (len(errors) - 15)]
    layer.check(name, errors)


def run(cli, sysroot, *args):
    r = cli.run(*args, sysroot=sysroot)
    return r.rc, r.out, r.err


def golden(expdir, fx, case):
    p = os.path.join(expdir, fx, case + ".out")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read()


# ---------------------------------------------------------------- derivation

class Facts:
    def __init__(self, name):
        fx = M.FIXTURES[name]
        self.fx = fx
        self.ids = M.node_ids(fx)
        self.nodes = {n["id"]: n for n in fx["nodes"]}
        self.ncpus = {n: M.node_cpus(fx, n) for n in self.ids}
        self.online = M.online_cpus(fx)
        self.present = [c["id"] for c in fx["cpus"]]
        self.sockets, self.cores, self.threads = M.socket_core_thread(fx)
        self.mhz = int(float(fx["mhz"]))
        self.mem_total = sum(n["mem"] for n in fx["nodes"])
        self.cpuless = [n for n in self.ids if not self.ncpus[n]]
        self.memless = [n for n in self.ids if self.nodes[n]["mem"] == 0]
        self.possible = fx["possible_nodes"] if fx["possible_nodes"] is not None else self.ids
        self.tier_of = {}
        for t, nl in (fx["tiers"] or {}).items():
            for n in nl:
                self.tier_of[n] = t

    def kind(self, n):
        c, m = bool(self.ncpus[n]), self.nodes[n]["mem"] > 0
        return {(True, True): "cpu+memory", (True, False): "cpu-only",
                (False, True): "memory-only", (False, False): "neither"}[(c, m)]

    def free(self, n):
        return 0 if self.nodes[n]["mem"] == 0 else self.nodes[n]["free"]

    def nodeinfo_text(self):
        rows = [("CPU model:", "x86_64"), ("CPU(s):", str(len(self.online))),
                ("CPU frequency:", "%d MHz" % self.mhz), ("CPU socket(s):", str(self.sockets)),
                ("Core(s) per socket:", str(self.cores)), ("Thread(s) per core:", str(self.threads)),
                ("NUMA cell(s):", str(len(self.ids))), ("Memory size:", "%d KiB" % self.mem_total)]
        if self.cpuless:
            rows.append(("CPU-less cell(s):", "%d (%s)" % (len(self.cpuless), M.fmt_list(self.cpuless))))
        if self.memless:
            rows.append(("Memory-less cell(s):", "%d (%s)" % (len(self.memless), M.fmt_list(self.memless))))
        return "".join("%-21s%s\n" % r for r in rows)

    def freecell_all_text(self):
        s = "".join("%5d: %d KiB\n" % (n, self.free(n)) for n in self.ids)
        return s + "-" * 20 + "\n" + "Total: %d KiB\n" % sum(self.free(n) for n in self.ids)

    def freecell_one_text(self, n):
        return "%d: %d KiB\n" % (n, self.free(n))

    def freecell_total_text(self):
        return "Total: %d KiB\n" % sum(self.free(n) for n in self.ids)


# ---------------------------------------------------------------- comparisons

def cmp_text(errs, what, got, want):
    if got is None:
        errs.append("%s: missing" % what)
    elif got != want:
        gl, wl = got.splitlines(), want.splitlines()
        for i in range(max(len(gl), len(wl))):
            g = gl[i] if i < len(gl) else "<none>"
            w = wl[i] if i < len(wl) else "<none>"
            if g != w:
                errs.append("%s line %d: got %r, want %r" % (what, i + 1, g, w))


def eq(errs, what, got, want):
    if got != want:
        errs.append("%s: got %r, want %r" % (what, got, want))


def check_nodeinfo_json(f, errs, what, text):
    try:
        o = json.loads(text)
    except (ValueError, TypeError) as e:
        errs.append("%s: not JSON: %s" % (what, e))
        return
    want = {"cpu_model": "x86_64", "cpus": len(f.online), "mhz": f.mhz, "sockets": f.sockets,
            "cores_per_socket": f.cores, "threads_per_core": f.threads, "cells": len(f.ids),
            "memory_kib": f.mem_total, "cpuless_cells": M.fmt_list(f.cpuless),
            "memoryless_cells": M.fmt_list(f.memless)}
    for k, v in want.items():
        eq(errs, "%s .%s" % (what, k), o.get(k, "<absent>"), v)


def check_freecell_json(f, errs, what, text, cell):
    try:
        o = json.loads(text)
    except (ValueError, TypeError) as e:
        errs.append("%s: not JSON: %s" % (what, e))
        return
    if cell == "all":
        eq(errs, what + " .cells", o.get("cells"),
           [{"cell": n, "free_kib": f.free(n)} for n in f.ids])
        eq(errs, what + " .total_kib", o.get("total_kib"), sum(f.free(n) for n in f.ids))
    else:
        eq(errs, what, o, {"cell": cell, "free_kib": f.free(cell)})


def check_topology_json(f, errs, what, text):
    try:
        o = json.loads(text)
    except (ValueError, TypeError) as e:
        errs.append("%s: not JSON: %s" % (what, e))
        return
    fx = f.fx
    eq(errs, what + " .nodes_online", o.get("nodes_online"), M.fmt_list(f.ids))
    eq(errs, what + " .nodes_possible", o.get("nodes_possible"), M.fmt_list(f.possible))
    eq(errs, what + " .cpus_present", o.get("cpus_present"), M.fmt_list(f.present))
    eq(errs, what + " .cpus_online", o.get("cpus_online"), M.fmt_list(f.online))
    nodes = o.get("nodes") or []
    eq(errs, what + " node ids", [n.get("id") for n in nodes], f.ids)
    for nd in nodes:
        nid = nd.get("id")
        if nid not in f.nodes:
            continue
        d = f.nodes[nid]
        p = "%s node %d" % (what, nid)
        eq(errs, p + " .online", nd.get("online"), True)
        eq(errs, p + " .kind", nd.get("kind"), f.kind(nid))
        eq(errs, p + " .cpus", nd.get("cpus"), M.fmt_list(f.ncpus[nid]))
        eq(errs, p + " .memory_kib", nd.get("memory_kib"), d["mem"])
        eq(errs, p + " .free_kib", nd.get("free_kib"), d["free"])
        eq(errs, p + " .hugepages", nd.get("hugepages"),
           [{"size_kib": s, "total": d["hugepages"][s][0], "free": d["hugepages"][s][1]}
            for s in sorted(d["hugepages"])])
        eq(errs, p + " .distances", nd.get("distances"),
           {str(j): fx["distances"][nid][j] for j in f.ids})
        h = d["hmat"]
        # A node that is not an HMAT target has no initiators to report
        # (its access0/initiators/ dir may exist, empty, when it is an initiator).
        eq(errs, p + " .initiators", nd.get("initiators"), M.fmt_list(h["initiators"]) if h else None)
        eq(errs, p + " .access0", nd.get("access0"),
           {"read_latency_ns": h["read_latency"], "write_latency_ns": h["write_latency"],
            "read_bandwidth_mbps": h["read_bandwidth"], "write_bandwidth_mbps": h["write_bandwidth"]}
           if h else None)
        eq(errs, p + " .tier", nd.get("tier"), f.tier_of.get(nid))
    cpus = o.get("cpus") or []
    eq(errs, what + " cpu ids", [c.get("id") for c in cpus], f.present)
    by_id = {c["id"]: c for c in fx["cpus"]}
    for c in cpus:
        d = by_id.get(c.get("id"))
        if not d:
            continue
        p = "%s cpu %d" % (what, d["id"])
        eq(errs, p + " .online", c.get("online"), d["online"])
        if d["online"]:
            eq(errs, p + " .node", c.get("node"), d["node"])
            eq(errs, p + " .package", c.get("package"), d["pkg"])
            eq(errs, p + " .die", c.get("die"), d["die"])
            eq(errs, p + " .cluster", c.get("cluster"), d["cluster"])
            eq(errs, p + " .core", c.get("core"), d["core"])
            eq(errs, p + " .siblings", c.get("siblings"),
               M.fmt_list(M.siblings(fx, d, ("pkg", "die", "core"))))
        else:
            # Offline: topology/ is gone and the node's cpulist no longer names
            # it; only the nodeN/cpuM link is left. Either "unknown" or the
            # node the link names is acceptable; anything else is wrong.
            if c.get("node") not in (None, d["node"]):
                errs.append("%s .node: got %r, want null or %d" % (p, c.get("node"), d["node"]))
            for k in ("package", "die", "cluster", "core", "siblings"):
                eq(errs, p + " ." + k, c.get(k), None)


def check_caps(f, errs, what, text):
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, TypeError) as e:
        errs.append("%s: not XML: %s" % (what, e))
        return
    fx = f.fx
    eq(errs, what + " root", root.tag, "capabilities")
    eq(errs, what + " host/cpu/arch", root.findtext("host/cpu/arch"), "x86_64")
    cells = root.find("host/topology/cells")
    if cells is None:
        errs.append("%s: no host/topology/cells" % what)
        return
    eq(errs, what + " cells num", cells.get("num"), str(len(f.ids)))
    cl = cells.findall("cell")
    eq(errs, what + " cell ids", [c.get("id") for c in cl], [str(n) for n in f.ids])
    by_id = {c["id"]: c for c in fx["cpus"]}
    for cell in cl:
        nid = int(cell.get("id"))
        if nid not in f.nodes:
            continue
        d = f.nodes[nid]
        p = "%s cell %d" % (what, nid)
        mem = cell.find("memory")
        eq(errs, p + " memory", (mem.get("unit"), mem.text) if mem is not None else None,
           ("KiB", str(d["mem"])))
        pages = {pg.get("size"): pg.text for pg in cell.findall("pages")}
        for s in sorted(d["hugepages"]):
            eq(errs, p + " pages size=%d" % s, pages.get(str(s)), str(d["hugepages"][s][0]))
        huge = sum(s * v[0] for s, v in d["hugepages"].items())
        if "4" in pages:
            eq(errs, p + " pages size=4", pages.get("4"), str((d["mem"] - huge) // 4))
        sib = [(s.get("id"), s.get("value")) for s in cell.findall("distances/sibling")]
        eq(errs, p + " distances", sib, [(str(j), str(fx["distances"][nid][j])) for j in f.ids])
        cpus = cell.find("cpus")
        if cpus is None:
            errs.append(p + ": no <cpus>")
            continue
        eq(errs, p + " cpus num", cpus.get("num"), str(len(f.ncpus[nid])))
        if not f.ncpus[nid]:
            eq(errs, p + " <cpus num='0'/> has children", len(list(cpus)), 0)
        got = []
        for c in cpus.findall("cpu"):
            got.append((c.get("id"), c.get("socket_id"), c.get("die_id"), c.get("core_id"),
                        c.get("siblings")))
        want = []
        for cid in f.ncpus[nid]:
            d2 = by_id[cid]
            want.append((str(cid), str(d2["pkg"]), str(d2["die"]), str(d2["core"]),
                         M.fmt_list(M.siblings(fx, d2, ("pkg", "die", "core")))))
        eq(errs, p + " cpus", got, want)
    # HMAT: libvirt reports latency in ns and bandwidth in KiB/s (sysfs MiB/s * 1024).
    want_ic = []
    for kind in ("latency", "bandwidth"):
        for n in f.ids:
            h = f.nodes[n]["hmat"]
            if not h:
                continue
            for i in h["initiators"]:
                for rw in ("read", "write"):
                    v = h["%s_%s" % (rw, kind)]
                    want_ic.append((kind, str(i), str(n), rw, str(v * 1024 if kind == "bandwidth" else v)))
    got_ic = [(e.tag, e.get("initiator"), e.get("target"), e.get("type"), e.get("value"))
              for e in root.findall("host/topology/interconnects/*")]
    eq(errs, what + " interconnects", sorted(got_ic), sorted(want_ic))


# ---------------------------------------------------------------- driver

def check_fixture(layer, cli, fixdir, expdir, name):
    f = Facts(name)
    root = os.path.join(fixdir, name)

    def both(label, args, case, fn):
        rc, out, err = run(cli, root, *args)
        errs = []
        if rc != 0:
            errs.append("exit %d: %s" % (rc, err.strip()))
        fn(errs, "output", out)
        record(layer, "%s/%s vs description" % (name, case), errs)
        g = golden(expdir, name, case)
        errs = []
        if g is None:
            errs.append("golden file %s/%s.out missing" % (name, case))
        else:
            fn(errs, "golden", g)
        record(layer, "%s/%s golden vs description" % (name, case), errs)

    both("nodeinfo", ["nodeinfo"], "nodeinfo",
         lambda e, w, t: cmp_text(e, w, t, f.nodeinfo_text()))
    both("nodeinfo-json", ["--json", "nodeinfo"], "nodeinfo-json",
         lambda e, w, t: check_nodeinfo_json(f, e, w, t))
    both("freecell-all", ["freecell", "--all"], "freecell-all",
         lambda e, w, t: cmp_text(e, w, t, f.freecell_all_text()))
    both("freecell-all-json", ["--json", "freecell", "--all"], "freecell-all-json",
         lambda e, w, t: check_freecell_json(f, e, w, t, "all"))
    first = f.ids[0]
    both("freecell-0", ["freecell", str(first)], "freecell-0",
         lambda e, w, t: cmp_text(e, w, t, f.freecell_one_text(first)))
    both("freecell-0-json", ["--json", "freecell", str(first)], "freecell-0-json",
         lambda e, w, t: check_freecell_json(f, e, w, t, first))
    both("freecell", ["freecell"], "freecell",
         lambda e, w, t: cmp_text(e, w, t, f.freecell_total_text()))
    both("topology-json", ["--json", "topology"], "topology-json",
         lambda e, w, t: check_topology_json(f, e, w, t))
    both("capabilities", ["capabilities"], "capabilities",
         lambda e, w, t: check_caps(f, e, w, t))

    def caps_json(e, w, t):
        try:
            x = json.loads(t)["xml"]
        except (ValueError, KeyError, TypeError) as ex:
            e.append("%s: no .xml: %s" % (w, ex))
            return
        check_caps(f, e, w + " .xml", x)
    both("capabilities-json", ["--json", "capabilities"], "capabilities-json", caps_json)
    # Every other cell, one at a time (freecell CELL for cells beyond 0).
    errs = []
    for n in f.ids[1:]:
        rc, out, err = run(cli, root, "freecell", str(n))
        if rc != 0:
            errs.append("freecell %d: exit %d: %s" % (n, rc, err.strip()))
        cmp_text(errs, "freecell %d" % n, out, f.freecell_one_text(n))
    record(layer, "%s/freecell-each-cell vs description" % name, errs)
    # A possible-but-offline node or an id past the end is not a cell.
    errs = []
    bad = [n for n in f.possible if n not in f.ids][:2] + [max(f.possible) + 1]
    for n in bad:
        rc, out, err = run(cli, root, "freecell", str(n))
        if rc != 2 or out or not err.startswith("cgplace: "):
            errs.append("freecell %d: exit %d, stdout %r, stderr %r (want exit 2, "
                        "empty stdout, cgplace: ... on stderr)" % (n, rc, out, err))
    record(layer, "%s/freecell-not-a-cell %s" % (name, M.fmt_list(bad)), errs)


def run_checks(layer, cli, fixdir, expdir, names):
    for n in names:
        try:
            check_fixture(layer, cli, fixdir, expdir, n)
        except Exception as e:  # a crash here is a failed check, not a pass
            record(layer, "%s: checker aborted" % n, ["%s: %s" % (type(e).__name__, e)])


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    binary, fixdir, expdir = argv[1:4]
    layer = H.Layer("check")
    run_checks(layer, H.Cli(binary), fixdir, expdir, argv[4:] or list(M.FIXTURES))
    return layer.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
