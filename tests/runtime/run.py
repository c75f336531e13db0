#!/usr/bin/env python3
"""tests/runtime/run.py [--update] CGPLACE FAKEVIRT_DIR WORKDIR RESULTS [UNIT...]
-- the runtime verbs (vcpuinfo, vcpupin, emulatorpin, iothreadpin, numatune)
on a fake /proc and cgroup tree (tests/runtime/fixture.py), sandboxed as
shipped:
  1. every case of tests/runtime/cases against expected/NAME.{out,err,rc};
  2. a guest named by pid or UUID is the guest named by name;
  3. every error case and every rolled-back change leaves the cgroup tree
     and the threads' affinity as they were;
  4. a libvirt guest (fake libvirt.so.0 of FAKEVIRT_DIR) is pinned with
     one libvirt call and nothing under the cgroup root, and vcpuinfo then
     shows the new map;
  5. every UNIT (Criterion: tests/runtime/test_persist.c) on the fixture;
  6. verify --format prometheus against --json, parsed by the Prometheus
     client's parser (tests/runtime/promparse.py), and --output's atomic file.
--update rewrites expected/ from the current output (review every diff).
Writes "PASSED FAILED SKIPPED" to RESULTS."""
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
sys.path.insert(0, HERE)
import harness as H  # noqa: E402
import fixture as F  # noqa: E402

UPDATE = "--update" in sys.argv
BIN, FAKEVIRT, WORK, RESULTS, *UNITS = [a for a in sys.argv[1:] if a != "--update"]
WORK = os.path.abspath(WORK)
LAYER = H.Layer("runtime", RESULTS)
EXP = os.path.join(HERE, "expected")


def statuses():
    return {p: open(os.path.join(dp, p)).read() for dp, _, fs in os.walk(FX + "/proc") for p in fs
            if p == "status" for p in [os.path.join(dp, p)]}


def run(*args, env=None):
    e = {"CGPLACE_LOCK": WORK + "/asym/cgplace.lock", "LD_LIBRARY_PATH": FAKEVIRT,
         "FAKEVIRT_STATE": WORK + "/virt-state", "FAKEVIRT_LOG": WORK + "/virt-log"}
    e.update(env or {})
    args = [a.replace("@WORK@", WORK) for a in args]
    r = H.run([BIN, "--sysroot", FX, "--cgroup-root", CG] + args, env=e, timeout=60)
    r.out, r.err = r.out.replace(WORK, "@WORK@"), r.err.replace(WORK, "@WORK@")
    return r


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
FX, CG = F.build(WORK)
H.write_text(WORK + "/virt-state", F.virt_state(FX))
H.write_text(WORK + "/virt-log", "")
TREE0, STATUS0 = H.file_tree(CG), statuses()
POLICIES = sorted(os.listdir(WORK)), H.read_text(WORK + "/policy.conf"), H.read_text(WORK + "/lv.conf")

# ---------------------------------------------------------------- 1, 3: the cases
with open(os.path.join(HERE, "cases")) as f:
    cases = [l.split(None, 1) for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
for name, args in cases:
    r = run(*args.split())
    base = os.path.join(EXP, name)
    if UPDATE:
        for ext, text in (("out", r.out), ("err", r.err), ("rc", "%d\n" % r.rc)):
            H.write_text(base + "." + ext, text)
    if not all(os.path.isfile(base + "." + e) for e in ("out", "err", "rc")):
        LAYER.fail(name, "no expected/%s.{out,err,rc} (run with --update, then review)" % name)
        continue
    LAYER.expect(name, r, rc=int(H.read_text(base + ".rc")), out=H.read_text(base + ".out"),
                 err=H.read_text(base + ".err"), out_label="expected/%s.out" % name)
    if name.startswith(("err-", "readback-")):
        LAYER.check(name + ": exit 2 or 3 with a reason", r.rc in (2, 3) and "\ncgplace: " in "\n" + r.err, r.err)
        LAYER.check(name + ": cgroup tree unchanged", H.file_tree(CG) == TREE0,
                    H.diff(repr(TREE0), repr(H.file_tree(CG))))
        LAYER.check(name + ": threads unchanged", statuses() == STATUS0)
        LAYER.check(name + ": policies unchanged, no temporary file left",
                    (sorted(os.listdir(WORK)), H.read_text(WORK + "/policy.conf"), H.read_text(WORK + "/lv.conf"))
                    == POLICIES, repr(sorted(os.listdir(WORK))))

r = run("--json", "numatune", "rhel5xen", "--nodeset", "3")
try:
    doc = json.loads(r.out)
except ValueError:
    doc = {}
LAYER.check("numatune --json of a change: the engine's report and the pages before and after, one document",
            r.rc == 3 and doc.get("state") == "failed" and doc.get("anon_pages_before", {}).get("1") == 262133
            and "pages_after" in doc and isinstance(doc.get("seconds"), float), r.out + r.err)

# ---------------------------------------------------------------- 2: by pid, by UUID
by_name = run("vcpuinfo", "--all", "rhel5xen")
for key in (str(F.PID), F.UUID, F.UUID.upper()):
    r = run("vcpuinfo", "--all", key)
    LAYER.check("vcpuinfo %s: the same guest as by name" % key, bool(r.rc == 0 and r.out == by_name.out and by_name.out),
                r.out + r.err)

# ---------------------------------------------------------------- 4: a libvirt guest
r = run("vcpupin", "lv1", "1", "4-5")
calls = [l for l in H.read_text(WORK + "/virt-log").splitlines() if l.startswith(("virDomainPin", "virDomainSetNuma"))]
LAYER.check("vcpupin of a libvirt guest: exit 0, one libvirt call",
            r.rc == 0 and calls == ["virDomainPinVcpuFlags lv1 vcpu=1 cpus=4-5 flags=1"], r.out + r.err + repr(calls))
LAYER.check("vcpupin of a libvirt guest: nothing under the cgroup root", H.file_tree(CG) == TREE0)
r = run("vcpuinfo", "lv1")
LAYER.check("vcpuinfo of the libvirt guest: the new map read from /proc",
            r.rc == 0 and "VCPU:           1\nCPU:            2\nState:          sleeping\nCPU time:       0.0s\n"
            "CPU Affinity:   ----yy--\n" in r.out, r.out + r.err)
r = run("--json", "vcpupin", "lv1")
try:
    doc = json.loads(r.out)
except ValueError:
    doc = {}
LAYER.check("vcpupin --json of the libvirt guest", doc.get("vcpus") == [{"vcpu": 0, "cpus": "0-7"},
                                                                        {"vcpu": 1, "cpus": "4-5"}], r.out + r.err)

# --persist through libvirt: the change holds, then the block gets the line
H.write_text(WORK + "/virt-log", "")
r = run("vcpupin", "-p", "@WORK@/lv.conf", "--persist", "lv1", "0", "2-3")
calls = [l for l in H.read_text(WORK + "/virt-log").splitlines() if l.startswith(("virDomainPin", "virDomainSetNuma"))]
LAYER.check("vcpupin -p --persist of the libvirt guest: the guest brought to its block plus the change",
            r.rc == 0 and "virDomainPinVcpuFlags lv1 vcpu=0 cpus=2-3 flags=1" in calls
            and "virDomainPinEmulator lv1 cpus=1-7 flags=1" in calls, r.err + repr(calls))
LAYER.check("vcpupin --persist: the statement added, the comment and layout kept",
            H.read_text(WORK + "/lv.conf") == F.LV_POLICY.replace("nodes 0;\n", "nodes 0;\n    vcpupin 0 2-3;\n"),
            H.read_text(WORK + "/lv.conf"))
LAYER.check("vcpupin --persist: no temporary file left", sorted(os.listdir(WORK)) == POLICIES[0])

# ---------------------------------------------------------------- 6: verify --format prometheus
# The same audit as --json, as textfile-collector metrics parsed by the
# Prometheus client's own parser; --output replaces a file atomically.
PROMPARSE = [os.path.join(HERE, "promparse.py")]


def prom_samples(path):
    r = H.run(["/usr/bin/python3"] + PROMPARSE + [path], timeout=60)
    if r.rc != 0:
        return None, r.err
    return json.loads(r.out), ""


jr = run("--json", "verify", "@WORK@/policy.conf")
try:
    jdoc = json.loads(jr.out)
except ValueError:
    jdoc = {}
pr = run("verify", "--format", "prometheus", "@WORK@/policy.conf")
H.write_text(WORK + "/metrics.prom", pr.out)
samples, perr = prom_samples(WORK + "/metrics.prom")
LAYER.check("verify --format prometheus: exit 3 on drift like the text form", pr.rc == 3 == jr.rc, pr.err)
LAYER.check("verify --format prometheus: valid for the Prometheus client's parser", samples is not None, perr)
samples = samples or []


def value(name, **labels):
    vals = [v for n, l, v in samples if n == name and l == labels]
    return vals[0] if len(vals) == 1 else None


want = {("cgplace_drift",): 1.0 if jdoc.get("drift") else 0.0}
for g in jdoc.get("guests", []):
    running = g.get("pid") is not None
    want[("cgplace_guest_running", g["name"])] = 1.0 if running else 0.0
    if running:
        want[("cgplace_guest_compliant", g["name"])] = 0.0 if g["drift"] else 1.0
    for t in g.get("threads", []):
        role = t["role"].replace("iothread ", "iothread-")
        want[("cgplace_thread_drift", g["name"], str(t["tid"]), role)] = 1.0 if t["drift"] else 0.0
    for node, pages in (g.get("pages") or {}).items():
        want[("cgplace_guest_pages", g["name"], node)] = float(pages)
got = {}
for n, l, v in samples:
    if n == "cgplace_drift":
        got[(n,)] = v
    elif n in ("cgplace_guest_running", "cgplace_guest_compliant"):
        got[(n, l.get("guest"))] = v
    elif n == "cgplace_thread_drift":
        got[(n, l.get("guest"), l.get("thread"), l.get("role"))] = v
    elif n == "cgplace_guest_pages":
        got[(n, l.get("guest"), l.get("node"))] = v
LAYER.check("verify --format prometheus: every guest, thread and node of --json, with its value",
            bool(jdoc.get("guests")) and got == want and len(want) > 8, "want %r\ngot  %r" % (want, got))
ts = value("cgplace_verify_timestamp_seconds")
LAYER.check("verify --format prometheus: a timestamp of now", ts is not None and abs(ts - time.time()) < 3600,
            repr(ts))
LAYER.check("verify --format prometheus: the unmanaged QEMU processes counted as in --json",
            value("cgplace_unmanaged_processes") == float(jdoc.get("unmanaged", -1)), repr(samples[:3]))

os.makedirs(WORK + "/textfile", exist_ok=True)
H.write_text(WORK + "/textfile/cgplace.prom", "old\n")
r = run("verify", "--format", "prometheus", "--output", "@WORK@/textfile/cgplace.prom", "@WORK@/policy.conf")
s2, perr = prom_samples(WORK + "/textfile/cgplace.prom")
LAYER.check("verify --output FILE: exit 3, nothing on stdout, the file replaced and valid",
            r.rc == 3 and r.out == "" and s2 is not None and len(s2) == len(samples), r.err + perr)
LAYER.check("verify --output FILE: no temporary file left", os.listdir(WORK + "/textfile") == ["cgplace.prom"],
            repr(os.listdir(WORK + "/textfile")))
# node_exporter's textfile directory belongs to the prometheus user: the
# rename there needs CAP_DAC_OVERRIDE, which verify keeps for it alone
if os.geteuid() == 0:
    os.makedirs(WORK + "/textfile-other", exist_ok=True)
    os.chown(WORK + "/textfile-other", 65534, 65534)
    os.chmod(WORK + "/textfile-other", 0o755)
    r = run("verify", "--format", "prometheus", "-o", "@WORK@/textfile-other/cgplace.prom", "@WORK@/policy.conf")
    LAYER.check("verify --output into another user's directory (sandboxed, capabilities dropped): written",
                r.rc == 3 and os.listdir(WORK + "/textfile-other") == ["cgplace.prom"], r.err)
else:
    LAYER.skip("verify --output into another user's directory", "needs root (chown)")
H.write_text(WORK + "/bad.conf", "guest {\n")
H.write_text(WORK + "/textfile/cgplace.prom", "old\n")
r = run("verify", "--format", "prometheus", "-o", "@WORK@/textfile/cgplace.prom", "@WORK@/bad.conf")
LAYER.check("verify --output FILE of an invalid policy: exit 2, the old file kept, no temporary left",
            r.rc == 2 and H.read_text(WORK + "/textfile/cgplace.prom") == "old\n"
            and os.listdir(WORK + "/textfile") == ["cgplace.prom"], r.err)
os.unlink(WORK + "/bad.conf")
for args, what in ((["--format", "yaml"], "an unknown --format"),
                   (["--json", "--format", "prometheus"], "--json with --format prometheus"),
                   (["-o", "@WORK@/no/such/dir/x.prom"], "--output into a missing directory")):
    r = run("verify", *args, "@WORK@/policy.conf")
    LAYER.check("verify %s: exit 2 before anything is read" % what,
                r.rc == 2 and r.out == "" and "cgplace: verify: " in r.err, r.err)
r = run("verify", "--format", "json", "--output", "@WORK@/textfile/v.json", "@WORK@/policy.conf")
try:
    same = json.loads(H.read_text(WORK + "/textfile/v.json"))["guests"] == jdoc["guests"]
except (ValueError, KeyError, OSError):
    same = False
LAYER.check("verify --format json --output FILE: the --json document in the file", r.rc == 3 and same, r.err)

# ---------------------------------------------------------------- 5: Criterion (--persist)
for unit in UNITS:
    LAYER.criterion(unit, env={"RUNTIME_FIXTURE": FX})

sys.exit(LAYER.finish())
