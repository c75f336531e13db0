"""The apply benchmark, INSIDE the asym test VM (started by bench/apply/run.py through
tests/vm/run-vm.sh). Issue 5, "Performance (benchmark, in the VM)".

50 stand-in guests x 4 vCPUs (bench/apply/fakeqemu.c, run as qemu-system-x86_64) are placed
by a 50-block policy, four ways, each from the same start (every process in the root cgroup,
no PARENT subtree):
  cgplace      cgplace apply POLICY (thread level: PARENT/gN + emulator/ + vcpu0..3/)
  sh-threads   a generated sh script doing the minimum writes of that same placement
  sh-procs     a generated sh script doing the process-level part only (gN + cpus/mems + procs)
  cgconfig     libcgroup's cgconfigparser -l FILE (process level) + cgclassify per guest
The write count of cgplace is compared with the minimum counted here from the policy and the
live tree (not from cgplace's output). Every placement is checked against the kernel
(/proc/PID/task/TID/cgroup and Cpus_allowed_list / Mems_allowed_list).
Results: $RESULTS/bench-apply.json. Standard library only.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "vm"))
import vmtest as T  # noqa: E402

CG = "/sys/fs/cgroup"
CGPLACE = os.environ.get("CGPLACE", "build/cgplace")
B = os.environ.get("B", "build")
RESULTS = os.environ.get("RESULTS", "/tmp")
N_GUESTS = int(os.environ.get("CGPLACE_TEST_BENCH_GUESTS", "50"))
N_VCPUS = 4
RUNS = int(os.environ.get("CGPLACE_TEST_BENCH_RUNS", "5"))
PARENT = "cgbench"
WORK = "/tmp/bench-apply"
os.makedirs(WORK, exist_ok=True)
os.environ["CGPLACE_LOCK"] = WORK + "/lock"
out = {"guests": N_GUESTS, "vcpus": N_VCPUS, "runs": RUNS, "errors": [], "checks": []}
T0 = time.time()


def log(msg):
    print("[%6.1fs] %s" % (time.time() - T0, msg), flush=True)


def err(msg):
    out["errors"].append(msg)
    log("ERROR: " + msg)


def fmt(ids):
    ids = sorted(set(ids))
    res, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        res.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(res)


def save():
    out["vm_seconds"] = round(time.time() - T0, 1)
    tmp = RESULTS + "/bench-apply.json.tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    os.replace(tmp, RESULTS + "/bench-apply.json")


def timed(cmd, **kw):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, p


def cgw(path, value):
    with open(path, "w") as f:
        f.write(value)


# ---- the host as the kernel sees it ----------------------------------------------------
nodes = T.nodes_online()
kinds = {n: T.node_kind(n) for n in nodes}
cpumem = [n for n in nodes if kinds[n] == "cpu+memory"]
cpuonly = [n for n in nodes if kinds[n] == "cpu-only"]
memonly = [n for n in nodes if kinds[n] == "memory-only"]
if len(cpumem) < 2 or not cpuonly or not memonly:
    err("needs the asym topology (2 cpu+memory nodes, a cpu-only and a memory-only node); got %r" % kinds)
    save()
    sys.exit(1)
big = max(cpumem, key=lambda n: len(T.node_cpus(n)))
small = [n for n in cpumem if n != big][0]
BC, SC, CC = T.node_cpus(big), T.node_cpus(small), T.node_cpus(cpuonly[0])
MO = memonly[0]
ALL = sorted(set(BC + SC + CC))
out["vm"] = {"nodes": {str(n): {"kind": kinds[n], "cpus": fmt(T.node_cpus(n))} for n in nodes},
             "kernel": os.uname().release, "cpus": len(ALL)}
log("nodes: %r" % out["vm"]["nodes"])


# ---- the placement: four patterns over the asym nodes ------------------------------------
def guest_spec(i):
    """cpus, mems, vcpu pins, emulator pin of guest gI (independent of cgplace)."""
    k = i % 4
    if k == 0:      # big node, its own memory
        cpus, mems = BC, [big]
    elif k == 1:    # small node + the CPU-only node, memory on the small node
        cpus, mems = SC + CC, [small]
    elif k == 2:    # CPU-only node, memory on the memory-only node
        cpus, mems = CC, [MO]
    else:           # everything, memory on both cpu+memory nodes
        cpus, mems = ALL, sorted([big, small])
    cpus = sorted(cpus)
    pins = [[cpus[(i + v) % len(cpus)]] for v in range(N_VCPUS)]
    emu = [cpus[(i + N_VCPUS) % len(cpus)]]
    return {"name": "g%d" % i, "cpus": cpus, "mems": mems, "pins": pins, "emu": emu}


SPECS = [guest_spec(i) for i in range(N_GUESTS)]


def policy_text(parent):
    s = ['host { parent "%s"; unmanaged warn; }' % parent]
    for g in SPECS:
        s.append("guest %s { vcpus %d; cpus %s; memory 1M nodes %s; %s emulatorpin %s; }" % (
            g["name"], N_VCPUS, fmt(g["cpus"]), fmt(g["mems"]),
            " ".join("vcpupin %d %s;" % (v, fmt(p)) for v, p in enumerate(g["pins"])), fmt(g["emu"])))
    return "\n".join(s) + "\n"


POLICY = WORK + "/policy.conf"
with open(POLICY, "w") as f:
    f.write(policy_text(PARENT))

# ---- the stand-in guests -------------------------------------------------------------------
FAKE = os.path.join(B, "bench-apply", "fakeqemu")
if not os.access(FAKE, os.X_OK):
    err("%s missing (make bench-apply builds it on the host)" % FAKE)
    save()
    sys.exit(1)
EXE = WORK + "/bin/qemu-system-x86_64"
os.makedirs(WORK + "/bin", exist_ok=True)
shutil.copy(FAKE, EXE)   # a copy, not a symlink: /proc/PID/exe resolves symlinks
procs = {}


def start_guests():
    for g in SPECS:
        r, w = os.pipe()
        cmd = [EXE, "-name", "guest=%s,debug-threads=on" % g["name"], "-machine", "pc,accel=kvm",
               "-cpu", "host", "-m", "1024", "-smp", str(N_VCPUS), "-nodefaults", "-display", "none",
               "-uuid", "00000000-0000-4000-8000-%012d" % int(g["name"][1:])]
        p = subprocess.Popen(cmd, pass_fds=(w,), stdin=subprocess.DEVNULL,
                             env=dict(os.environ, FAKEQEMU_READY_FD=str(w)))
        os.close(w)
        with os.fdopen(r) as f:
            if f.readline().strip() != "ready":
                err("stand-in guest %s did not start" % g["name"])
        procs[g["name"]] = p


def tids(pid):
    res = {}
    for t in sorted(int(x) for x in os.listdir("/proc/%d/task" % pid)):
        res[t] = T.read("/proc/%d/task/%d/comm" % (pid, t), "")
    return res


def want_threads(g):
    """[(tid, cgroup relative to PARENT's parent, cpus, mems)] the placement asks for."""
    pid = procs[g["name"]].pid
    res = []
    for t, comm in tids(pid).items():
        if comm.startswith("CPU ") and comm.endswith("/KVM"):
            v = int(comm[4:-4])
            res.append((t, "%s/vcpu%d" % (g["name"], v), g["pins"][v], g["mems"]))
        else:
            res.append((t, "%s/emulator" % g["name"], g["emu"], g["mems"]))
    return res


def cpuset_ctl(rel):
    ctl = T.read((CG + "/" + rel).rstrip("/") + "/cgroup.subtree_control", "") or ""
    return "cpuset" in ctl.split()


# ---- the minimum writes, counted from the placement and the live tree -------------------
def min_writes(threads_level=True):
    """List of (kind, path, file, value) in spec §6 order: the fewest writes that create the
    placement from the start state (processes in the root, no PARENT)."""
    w = []
    if not cpuset_ctl(""):
        w.append(("write", "", "cgroup.subtree_control", "+cpuset"))
    w.append(("mkdir", PARENT, None, None))
    w.append(("write", PARENT, "cgroup.subtree_control", "+cpuset"))
    for g in SPECS:
        G = PARENT + "/" + g["name"]
        pid = procs[g["name"]].pid
        w.append(("mkdir", G, None, None))
        if threads_level:
            children = [("emulator", g["emu"])] + [("vcpu%d" % v, p) for v, p in enumerate(g["pins"])]
            for c, _ in children:
                w.append(("mkdir", G + "/" + c, None, None))
                w.append(("write", G + "/" + c, "cgroup.type", "threaded"))
            w.append(("write", G, "cgroup.subtree_control", "+cpuset"))
            for c, cpus in children:
                # strict mode: cpuset.mems on the guest and every thread's cgroup (spec §3)
                w.append(("write", G + "/" + c, "cpuset.cpus", fmt(cpus)))
                w.append(("write", G + "/" + c, "cpuset.mems", fmt(g["mems"])))
        w.append(("write", G, "cpuset.cpus", fmt(g["cpus"])))
        w.append(("write", G, "cpuset.mems", fmt(g["mems"])))
        w.append(("write", G, "cgroup.procs", str(pid)))
        if threads_level:
            for t, cg, _, _ in want_threads(g):
                w.append(("write", PARENT + "/" + cg, "cgroup.threads", str(t)))
    return w


def sh_script(writes, path):
    lines = ["#!/bin/sh", "set -e", "cd %s" % CG]
    for kind, p, f, v in writes:
        if kind == "mkdir":
            lines.append("mkdir %s" % p)
        else:
            lines.append("echo %s > %s" % (v, (p + "/" + f) if p else f))
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def cgconfig_file(path):
    s = []
    for g in SPECS:
        s.append('group %s/%s {\n    cpuset {\n        cpuset.cpus = "%s";\n        cpuset.mems = "%s";\n    }\n}\n'
                 % (PARENT, g["name"], fmt(g["cpus"]), fmt(g["mems"])))
    with open(path, "w") as fh:
        fh.write("\n".join(s))


# ---- state: reset and check --------------------------------------------------------------
def reset():
    """Every guest process back to the root cgroup, PARENT removed (not timed)."""
    for p in procs.values():
        try:
            cgw(CG + "/cgroup.procs", str(p.pid))
        except OSError as e:
            err("moving %d back to the root: %s" % (p.pid, e))
    top = CG + "/" + PARENT
    if os.path.isdir(top):
        for root, dirs, _ in sorted(os.walk(top, topdown=False), key=lambda x: -x[0].count("/")):
            try:
                os.rmdir(root)
            except OSError as e:
                err("rmdir %s: %s" % (root, e))


def task_cg(pid, tid):
    return T.read("/proc/%d/task/%d/cgroup" % (pid, tid), "").split("::", 1)[-1]


def check_placement(method, threads_level=True):
    """Every thread where the placement says, per the kernel. Returns the number of mismatches."""
    bad = []
    for g in SPECS:
        pid = procs[g["name"]].pid
        for t, cg, cpus, mems in want_threads(g):
            st = T.task_status(pid, t)
            if threads_level:
                want = ("/%s/%s" % (PARENT, cg), cpus, mems)
            else:
                want = ("/%s/%s" % (PARENT, g["name"]), g["cpus"], g["mems"])
            have = (task_cg(pid, t), T.parse_list(st["Cpus_allowed_list"]), T.parse_list(st["Mems_allowed_list"]))
            if have != want:
                bad.append("%s tid %d: have %r want %r" % (g["name"], t, have, want))
    out["checks"].append({"method": method, "threads": sum(len(tids(p.pid)) for p in procs.values()),
                          "mismatches": len(bad), "first": bad[:3]})
    if bad:
        err("%s: %d threads misplaced, e.g. %s" % (method, len(bad), bad[0]))
    return len(bad)


# =========================================================================================
# page cache from 9p fills the nodes and makes page migration erratic under TCG (tests/vm/README)
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("3")
start_guests()
n_threads = sum(len(tids(p.pid)) for p in procs.values())
log("%d stand-in guests, %d threads" % (len(procs), n_threads))
out["threads"] = n_threads
# cpuset in the root's subtree_control belongs to the start state of every method
if not cpuset_ctl(""):
    cgw(CG + "/cgroup.subtree_control", "+cpuset")
reset()

MIN = min_writes(True)
MIN_PROC = min_writes(False)
out["min_writes"] = len(MIN)
out["min_writes_procs"] = len(MIN_PROC)
out["min_breakdown"] = {}
for kind, p, f, v in MIN:
    key = "mkdir" if kind == "mkdir" else f
    out["min_breakdown"][key] = out["min_breakdown"].get(key, 0) + 1
log("minimum writes: %d (%r); process level: %d" % (len(MIN), out["min_breakdown"], len(MIN_PROC)))
sh_script(MIN, WORK + "/place-threads.sh")
sh_script(MIN_PROC, WORK + "/place-procs.sh")
cgconfig_file(WORK + "/cgconfig.conf")
shutil.copy(POLICY, RESULTS + "/policy.conf")
shutil.copy(WORK + "/place-threads.sh", RESULTS + "/place-threads.sh")
shutil.copy(WORK + "/cgconfig.conf", RESULTS + "/cgconfig.conf")

# ---- plan: the ops cgplace would make, against the minimum --------------------------------
dt, p = timed([CGPLACE, "--json", "plan", POLICY])
plan_ops = json.loads(p.stdout)["ops"] if p.returncode == 0 else []
if p.returncode != 0:
    err("cgplace plan exit %d: %s" % (p.returncode, p.stderr.strip()[:500]))
out["plan"] = {"ops": len(plan_ops), "seconds": dt, "warnings": p.stderr.strip().splitlines()[:5]}
mine = sorted((k, pth, f or "", v or "") for k, pth, f, v in MIN)
theirs = sorted((o["op"], o["path"], o.get("file") or "", o.get("value") or "") for o in plan_ops)
out["plan"]["same_as_minimum"] = mine == theirs
if mine != theirs:
    sm, st = set(mine), set(theirs)
    out["plan"]["only_minimum"] = sorted(sm - st)[:20]
    out["plan"]["only_plan"] = sorted(st - sm)[:20]
    err("plan (%d ops) differs from the minimum (%d): only in minimum %r, only in plan %r"
        % (len(plan_ops), len(MIN), sorted(sm - st)[:5], sorted(st - sm)[:5]))
log("plan: %d ops in %.3fs, same set as the minimum: %s" % (len(plan_ops), dt, mine == theirs))

# ---- the floor: starting a process -------------------------------------------------------
floor = {"true": [], "cgplace_version": []}
for _ in range(RUNS):
    floor["true"].append(timed(["/bin/true"])[0])
    floor["cgplace_version"].append(timed([CGPLACE, "--version"])[0])
out["floor"] = floor

# ---- the runs: methods alternate, same start state each time ------------------------------
res = {m: [] for m in ("cgplace", "cgplace_reapply", "sh_threads", "sh_procs", "cgconfigparser",
                       "cgclassify", "cgconfig_total")}
writes = {"cgplace": [], "cgplace_reapply": []}
cgconfig_state = {}


def run_cgplace(i):
    log("round %d: cgplace apply" % i)
    dt, p = timed([CGPLACE, "--json", "apply", POLICY])
    if p.returncode != 0:
        err("apply run %d: exit %d: %s" % (i, p.returncode, p.stderr.strip()[:500]))
        return
    j = json.loads(p.stdout)
    res["cgplace"].append(dt)
    writes["cgplace"].append(j.get("writes"))
    if i == 0:
        out["apply_json_keys"] = sorted(j)
        check_placement("cgplace")
    for k in range(3):
        dt2, p2 = timed([CGPLACE, "--json", "apply", POLICY])
        if p2.returncode != 0:
            err("re-apply: exit %d: %s" % (p2.returncode, p2.stderr.strip()[:300]))
            continue
        res["cgplace_reapply"].append(dt2)
        writes["cgplace_reapply"].append(json.loads(p2.stdout).get("writes"))


def run_sh(i, threads_level):
    name = "sh_threads" if threads_level else "sh_procs"
    log("round %d: %s" % (i, name))
    dt, p = timed(["/bin/sh", WORK + ("/place-threads.sh" if threads_level else "/place-procs.sh")])
    if p.returncode != 0:
        err("%s: exit %d: %s" % (name, p.returncode, p.stderr.strip()[:300]))
        return
    res[name].append(dt)
    if i == 0:
        check_placement(name, threads_level)


def run_cgconfig(i):
    log("round %d: cgconfigparser" % i)
    dt, p = timed(["cgconfigparser", "-l", WORK + "/cgconfig.conf"])
    cgconfig_state.setdefault("parser_rc", []).append(p.returncode)
    if p.returncode != 0:
        if i == 0:
            err("cgconfigparser: exit %d: %s %s" % (p.returncode, p.stdout.strip()[:300], p.stderr.strip()[:300]))
        cgconfig_state["parser_err"] = (p.stdout + p.stderr).strip()[:1000]
        return
    res["cgconfigparser"].append(dt)
    if i == 0:
        st = {}
        for g in SPECS[:2]:
            G = CG + "/%s/%s" % (PARENT, g["name"])
            st[g["name"]] = {f: T.read(G + "/" + f) for f in ("cpuset.cpus", "cpuset.mems", "cgroup.type")}
        st["parent_subtree_control"] = T.read(CG + "/%s/cgroup.subtree_control" % PARENT)
        cgconfig_state["after_parser"] = st
    t0 = time.perf_counter()
    rcs = []
    for g in SPECS:
        dt1, p1 = timed(["cgclassify", "-g", "cpuset:%s/%s" % (PARENT, g["name"]), str(procs[g["name"]].pid)])
        rcs.append(p1.returncode)
        if p1.returncode != 0 and "classify_err" not in cgconfig_state:
            cgconfig_state["classify_err"] = (p1.stdout + p1.stderr).strip()[:1000]
    dtc = time.perf_counter() - t0
    cgconfig_state.setdefault("classify_rc", []).append(max(rcs))
    if max(rcs) == 0:
        res["cgclassify"].append(dtc)
        res["cgconfig_total"].append(dt + dtc)
    if i == 0:
        check_placement("cgconfigparser+cgclassify", False)


for i in range(RUNS):
    run_cgplace(i)
    reset()
    run_sh(i, True)
    reset()
    run_sh(i, False)
    reset()
    run_cgconfig(i)
    reset()
    log("round %d done: %s" % (i, {m: round(v[-1], 3) for m, v in res.items() if v}))
    out["samples"] = res
    out["writes"] = writes
    out["cgconfig"] = cgconfig_state
    save()
    if time.time() - T0 > 150:
        log("time budget: stopping after %d rounds" % (i + 1))
        break

# ---- profile: where the time goes (strace, not timed) -------------------------------------
def strace_profile(cmd, tag):
    """Time spent in each kind of cgroup write / mkdir (strace -T -y), and strace -c totals."""
    sf = WORK + "/strace-%s.txt" % tag
    t = time.perf_counter()
    p = subprocess.run(["strace", "-f", "-T", "-y", "-o", sf, "-e", "trace=write,mkdir,mkdirat,openat,read,close"]
                       + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    per = {}
    slow = []
    for line in open(sf):
        m = re.search(r"(\w+)\((.*)\) += (-?\d+)[^<]*<([\d.]+)>$", line.strip())
        if not m:
            continue
        call, args, dur = m.group(1), m.group(2), float(m.group(4))
        if call == "write":
            fm = re.match(r"\d+<([^>]*)>", args)
            if not fm or not fm.group(1).startswith(CG):
                key = "write (other)"
            else:
                key = "write " + os.path.basename(fm.group(1))
        elif call.startswith("mkdir"):
            key = "mkdir"
        else:
            key = call
        c = per.setdefault(key, [0, 0.0])
        c[0] += 1
        c[1] += dur
        slow.append((dur, line.strip()[:160]))
    slow.sort(reverse=True)
    return {"rc": p.returncode, "wall": wall, "per_call": {k: [v[0], round(v[1], 4)] for k, v in per.items()},
            "slowest": [s for _, s in slow[:8]]}


if shutil.which("strace"):
    prof = {}
    prof["cgplace_first"] = strace_profile([CGPLACE, "--json", "apply", POLICY], "first")
    prof["cgplace_reapply"] = strace_profile([CGPLACE, "--json", "apply", POLICY], "reapply")
    reset()
    prof["sh_threads"] = strace_profile(["/bin/sh", WORK + "/place-threads.sh"], "sh")
    reset()
    out["profile"] = prof
    sf = WORK + "/strace-c.txt"
    subprocess.run(["strace", "-f", "-c", "-o", sf, CGPLACE, "--json", "apply", POLICY], capture_output=True)
    out["strace_c_reapply"] = T.read(sf, "")
    reset()

out["samples"] = res
out["writes"] = writes
out["cgconfig"] = cgconfig_state
out["medians"] = {m: statistics.median(v) for m, v in res.items() if v}
out["floor_medians"] = {m: statistics.median(v) for m, v in floor.items() if v}
out["cgroup_tools"] = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "cgroup-tools"],
                                     capture_output=True, text=True).stdout.strip()
for p in procs.values():
    p.kill()
for p in procs.values():
    p.wait()
save()
log("done: medians %r" % out["medians"])
