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
Two phases, each with freshly started guests: A (threads named, -name ...,debug-threads=on):
cgplace and sh-threads; B (no thread names, so cgplace places whole guests): cgplace,
sh-procs and cgconfigparser, plus "direct" (the same minimum writes from this script: the floor).
Round 0 runs every method in turn; later rounds repeat all but the (slow) shell scripts while
the time budget (CGPLACE_TEST_BENCH_BUDGET seconds since start, default 165) allows.
CGPLACE_TEST_BENCH_PROFILE=1 instead runs the apply under strace (where the time goes).
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmside as V  # noqa: E402
from vmside import CG, CGPLACE, RESULTS, T, cgw, cpuset_ctl, fmt, timed  # noqa: E402

N_GUESTS = int(os.environ.get("CGPLACE_TEST_BENCH_GUESTS", "50"))
N_VCPUS = 4
RUNS = int(os.environ.get("CGPLACE_TEST_BENCH_RUNS", "5"))          # at most, per phase
REAPPLY = int(os.environ.get("CGPLACE_TEST_BENCH_REAPPLY", "3"))    # re-applies after each first apply
BUDGET = float(os.environ.get("CGPLACE_TEST_BENCH_BUDGET", "165"))   # seconds since start
PROFILE = os.environ.get("CGPLACE_TEST_BENCH_PROFILE") == "1"
PARENT = "cgbench"
WORK = "/tmp/bench-apply"
os.makedirs(WORK, exist_ok=True)
os.environ["CGPLACE_LOCK"] = WORK + "/lock"
R = V.Results("bench-apply.json", guests=N_GUESTS, vcpus=N_VCPUS, mode="profile" if PROFILE else "bench")
out, log, err, save = R.out, R.log, R.err, R.save

# ---- the host as the kernel sees it; the placement: four patterns over the asym nodes ------
H = V.Host(R)
SPECS = [H.guest_spec(i, N_VCPUS) for i in range(N_GUESTS)]


def policy_text(parent):
    return V.policy_text(SPECS, N_VCPUS, 'parent "%s"; unmanaged warn;' % parent)


POLICY = WORK + "/policy.conf"
with open(POLICY, "w") as f:
    f.write(policy_text(PARENT))
POLICY_PROCS = WORK + "/policy-procs.conf"   # the same blocks without pins: whole-guest placement
with open(POLICY_PROCS, "w") as f:
    f.write(re.sub(r" (vcpupin|emulatorpin) [^;]*;", "", policy_text(PARENT)))

# ---- the stand-in guests -------------------------------------------------------------------
GUESTS = V.StandIns(R, WORK, N_VCPUS)
procs = GUESTS.procs


def start_guests(named):
    """(Re)start the stand-ins: with thread names (debug-threads=on) or without."""
    GUESTS.start(SPECS, named)


stop_guests = GUESTS.stop
tids = V.tids
want_threads = GUESTS.threads


# ---- the minimum writes, counted from the placement and the live tree -------------------
def min_writes():
    """[(kind, path, file, value)] in spec §6 order: the fewest writes that create the placement
    from the start state (every process in the root cgroup, no PARENT)."""
    named = GUESTS.named
    w = []
    if not cpuset_ctl(""):
        w.append(("write", "", "cgroup.subtree_control", "+cpuset"))
    w.append(("mkdir", PARENT, None, None))
    w.append(("write", PARENT, "cgroup.subtree_control", "+cpuset"))
    for g in SPECS:
        G = PARENT + "/" + g["name"]
        pid = procs[g["name"]].pid
        w.append(("mkdir", G, None, None))
        if named:
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
        if named:
            for t, cg, _, _ in want_threads(g):
                w.append(("write", PARENT + "/" + cg, "cgroup.threads", str(t)))
    return w


def breakdown(writes):
    b = {}
    for kind, p, f, v in writes:
        key = "mkdir" if kind == "mkdir" else f
        b[key] = b.get(key, 0) + 1
    return b


def sh_script(writes, path):
    """The straightforward script: one mkdir command per run of directories (i.e. one per guest:
    mkdir is not a shell builtin, every call is a fork+exec), one echo per write."""
    lines = ["#!/bin/sh", "set -e", "cd %s" % CG]
    for kind, p, f, v in writes:
        if kind == "mkdir":
            if lines[-1].startswith("mkdir "):
                lines[-1] += " " + p
            else:
                lines.append("mkdir " + p)
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


quiesce = V.quiesce


def check_placement(method):
    """Every thread where the placement says, per the kernel. Returns the number of mismatches."""
    return V.check_standins(R, GUESTS, SPECS, method, lambda g: "/" + PARENT)


def plan_vs_minimum(tag, policy, minimum):
    dt, p = timed([CGPLACE, "--json", "plan", policy])
    ops = json.loads(p.stdout)["ops"] if p.returncode == 0 else []
    if p.returncode != 0:
        err("cgplace plan (%s) exit %d: %s" % (tag, p.returncode, p.stderr.strip()[:500]))
    mine = sorted((k, pth, f or "", v or "") for k, pth, f, v in minimum)
    theirs = sorted((o["op"], o["path"], o.get("file") or "", o.get("value") or "") for o in ops)
    r = {"ops": len(ops), "minimum": len(minimum), "minimum_breakdown": breakdown(minimum),
         "same_set": mine == theirs, "seconds": dt}
    if mine != theirs:
        sm, st = set(mine), set(theirs)
        r["only_minimum"] = sorted(sm - st)[:20]
        r["only_plan"] = sorted(st - sm)[:20]
        err("%s: plan (%d ops) differs from the minimum (%d): only in minimum %r, only in plan %r"
            % (tag, len(ops), len(minimum), sorted(sm - st)[:5], sorted(st - sm)[:5]))
    log("%s: minimum %d writes %r; plan %d ops, same set: %s" % (tag, len(minimum), r["minimum_breakdown"],
                                                              len(ops), mine == theirs))
    return r


# ---- the methods ------------------------------------------------------------------------------
S = {}       # method -> [seconds]
W = {}       # method -> [writes reported by apply --json]


def add(method, dt, writes=None):
    S.setdefault(method, []).append(dt)
    if writes is not None:
        W.setdefault(method, []).append(writes)


def run_cgplace(tag, policy, first_round):
    dt, p = timed([CGPLACE, "--json", "apply", policy])
    if p.returncode != 0:
        err("%s apply: exit %d: %s" % (tag, p.returncode, p.stderr.strip()[:500]))
        return
    add(tag, dt, json.loads(p.stdout).get("writes"))
    if first_round:
        check_placement(tag)
    for _ in range(REAPPLY):
        dt2, p2 = timed([CGPLACE, "--json", "apply", policy])
        if p2.returncode != 0:
            err("%s re-apply: exit %d: %s" % (tag, p2.returncode, p2.stderr.strip()[:300]))
            continue
        add(tag + "_reapply", dt2, json.loads(p2.stdout).get("writes"))


def run_sh(tag, script, first_round):
    dt, p = timed(["/bin/sh", script])
    if p.returncode != 0:
        err("%s: exit %d: %s" % (tag, p.returncode, p.stderr.strip()[:300]))
        return
    add(tag, dt)
    if first_round:
        check_placement(tag)


CGC = {}


def run_cgconfig(first_round):
    dt, p = timed(["cgconfigparser", "-l", WORK + "/cgconfig.conf"])
    CGC.setdefault("parser_rc", []).append(p.returncode)
    if p.returncode != 0:
        CGC["parser_output"] = (p.stdout + p.stderr).strip()[:1500]
        if first_round:
            err("cgconfigparser: exit %d: %s" % (p.returncode, CGC["parser_output"][:300]))
        return
    add("cgconfigparser", dt)
    if first_round:
        st = {"parent_subtree_control": T.read(CG + "/%s/cgroup.subtree_control" % PARENT)}
        for g in SPECS[:2]:
            G = CG + "/%s/%s" % (PARENT, g["name"])
            st[g["name"]] = {f: T.read(G + "/" + f) for f in ("cpuset.cpus", "cpuset.mems", "cgroup.type",
                                                              "cgroup.procs")}
        CGC["tree_after_parser"] = st
    t0 = time.perf_counter()
    rcs = []
    for g in SPECS:
        _, p1 = timed(["cgclassify", "-g", "cpuset:%s/%s" % (PARENT, g["name"]), str(procs[g["name"]].pid)])
        rcs.append(p1.returncode)
        if p1.returncode != 0 and "classify_output" not in CGC:
            CGC["classify_output"] = (p1.stdout + p1.stderr).strip()[:1500]
    dtc = time.perf_counter() - t0
    CGC.setdefault("classify_rc", []).append(max(rcs))
    if max(rcs) == 0:
        add("cgclassify", dtc)
        add("cgconfig_total", dt + dtc)
    if first_round:
        check_placement("cgconfigparser+cgclassify")


QW = []     # seconds waited for dying cgroups after each reset


def run_direct(tag, writes, first_round):
    """The floor: the minimum writes made by this (already running) Python process, one
    os.mkdir / open+write+close each, nothing read, no process started."""
    t = time.perf_counter()
    for kind, pth, f, v in writes:
        if kind == "mkdir":
            os.mkdir(CG + "/" + pth)
        else:
            fd = os.open((CG + "/" + pth + "/" + f) if pth else CG + "/" + f, os.O_WRONLY)
            try:
                os.write(fd, v.encode())
            finally:
                os.close(fd)
    add(tag, time.perf_counter() - t)
    if first_round:
        check_placement(tag)


def rounds(phase, steps, deadline):
    """Round 0 runs every step (in turn); later rounds only the steps not marked once, until
    RUNS rounds or until the next round would end after the deadline (seconds since start)."""
    dur = {}
    for i in range(RUNS):
        todo = [st for st in steps if i == 0 or not st[2]]
        if i > 0 and R.elapsed() + sum(dur.get(st[0], 0) for st in todo) > deadline:
            log("%s: time budget reached after %d rounds" % (phase, i))
            break
        t_round = time.time()
        for name, fn, _once in todo:
            t = time.time()
            fn(i == 0)
            reset()
            QW.append(round(quiesce(), 2))
            dur[name] = time.time() - t
        out.setdefault("rounds", {})[phase] = i + 1
        log("%s round %d (%.0fs): %s" % (phase, i, time.time() - t_round,
                                        {m: round(v[-1], 3) for m, v in S.items() if v}))
        save_all()


def save_all():
    out["samples"] = S
    out["writes"] = W
    out["cgconfig"] = CGC
    out["medians"] = {m: statistics.median(v) for m, v in S.items() if v}
    out["quiesce_waits"] = QW
    save()


# ---- profile: where the time goes (strace, not timed) -------------------------------------
def strace_profile(cmd, tag):
    """strace -c totals, and time per kind of call on cgroup/proc files (strace -T -y)."""
    sf = WORK + "/strace-%s.txt" % tag
    res = {}
    t = time.perf_counter()
    p = subprocess.run(["strace", "-f", "-T", "-y", "-o", sf] + cmd, capture_output=True, text=True)
    res["wall_traced"] = time.perf_counter() - t
    res["rc"] = p.returncode
    calls = {}
    per, slow = {}, []
    for line in open(sf):
        m = re.search(r"^\d+\s+(\w+)\((.*)\) += (-?\d+)(<[^>]*>)?[^<]*<([\d.]+)>$", line.strip())
        if not m:
            continue
        call, args, dur = m.group(1), m.group(2), float(m.group(5))
        calls[call] = calls.get(call, 0) + 1
        fm = re.match(r"(\d+|AT_FDCWD)<([^>]*)>(, \"([^\"]*)\")?", args)
        target = ""
        if fm:
            target = fm.group(2) + ("/" + fm.group(4) if call == "openat" and fm.group(4) else "")
            target = re.sub(r"^/+", "/", target)
        if target.startswith(CG):
            what = "cgroup " + (os.path.basename(target) if call != "mkdirat" else "dir")
            if re.match(r"cgroup (g\d+|emulator|vcpu\d+|%s)$" % PARENT, what):
                what = "cgroup dir"
        elif target.startswith("/proc/"):
            what = "/proc/" + re.sub(r"\d+", "N", target[6:])
        else:
            what = "other"
        key = "%s %s" % (call, what)
        c = per.setdefault(key, [0, 0.0])
        c[0] += 1
        c[1] += dur
        slow.append((dur, line.strip()[:160]))
    slow.sort(reverse=True)
    res["per_call"] = {k: [v[0], round(v[1], 4)] for k, v in sorted(per.items(), key=lambda x: -x[1][1])}
    res["slowest"] = [s for _, s in slow[:10]]
    res["calls"] = calls
    res["total_calls"] = sum(calls.values())
    return res


# =========================================================================================
V.drop_caches()
# cpuset in the root's subtree_control belongs to the start state of every method
if not cpuset_ctl(""):
    cgw(CG + "/cgroup.subtree_control", "+cpuset")
shutil.copy(POLICY, RESULTS + "/policy.conf")

# floor: what starting a process costs in this VM
floor = {"true": [], "cgplace_version": [], "mkdir": []}
for i in range(5):
    floor["true"].append(timed(["/bin/true"])[0])
    floor["cgplace_version"].append(timed([CGPLACE, "--version"])[0])
    floor["mkdir"].append(timed(["mkdir", "%s/mkdir-%d" % (WORK, i)])[0])   # the sh script's one exec
out["floor"] = floor
out["floor_medians"] = {m: statistics.median(v) for m, v in floor.items()}

# ---- phase A: named threads, thread-level placement -----------------------------------------
start_guests(True)
out["threads"] = sum(len(tids(p.pid)) for p in procs.values())
log("phase A: %d stand-in guests with named threads, %d threads" % (len(procs), out["threads"]))
reset()
quiesce()
MIN_A = min_writes()
out["plan_threads"] = plan_vs_minimum("threads", POLICY, MIN_A)
sh_script(MIN_A, WORK + "/place-threads.sh")
shutil.copy(WORK + "/place-threads.sh", RESULTS + "/place-threads.sh")

if PROFILE:
    prof = {"first": strace_profile([CGPLACE, "--json", "apply", POLICY], "first")}
    prof["reapply"] = strace_profile([CGPLACE, "--json", "apply", POLICY], "reapply")
    reset()
    out["profile"] = prof
    stop_guests()
    save()
    log("profile done")
    sys.exit(0)

rounds("threads", [("cgplace", lambda f: run_cgplace("cgplace", POLICY, f), False),
                   ("sh_threads", lambda f: run_sh("sh_threads", WORK + "/place-threads.sh", f), True),
                   ("direct_threads", lambda f: run_direct("direct_threads", MIN_A, f), False)],
       BUDGET * 0.62)

# ---- phase B: no thread names, process-level placement -------------------------------------
start_guests(False)
log("phase B: %d stand-in guests without thread names" % len(procs))
reset()
quiesce()
MIN_B = min_writes()
out["plan_procs"] = plan_vs_minimum("procs", POLICY_PROCS, MIN_B)
sh_script(MIN_B, WORK + "/place-procs.sh")
cgconfig_file(WORK + "/cgconfig.conf")
shutil.copy(WORK + "/cgconfig.conf", RESULTS + "/cgconfig.conf")
shutil.copy(WORK + "/place-procs.sh", RESULTS + "/place-procs.sh")
rounds("procs", [("cgplace_procs", lambda f: run_cgplace("cgplace_procs", POLICY_PROCS, f), False),
                 ("sh_procs", lambda f: run_sh("sh_procs", WORK + "/place-procs.sh", f), True),
                 ("cgconfig", run_cgconfig, False),
                 ("direct_procs", lambda f: run_direct("direct_procs", MIN_B, f), False)],
       BUDGET)

out["cgroup_tools"] = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "cgroup-tools"],
                                     capture_output=True, text=True).stdout.strip()
stop_guests()
save_all()
log("done: medians %r" % out["medians"])
