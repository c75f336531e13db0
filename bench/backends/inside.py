"""The backends benchmark, INSIDE the systemd-booted test VM (started by bench/backends/run.py
through tests/vm/run-vm.sh --systemd). Issue 13, "Performance (benchmark)". Not a test.

Part 1, systemd against cgroupfs: 20 stand-in guests x 4 vCPUs with thread names
(bench/apply/fakeqemu.c, the same guest patterns and policy as bench/apply) placed by
`cgplace --json apply` under `host { backend systemd; }` (a delegated transient scope per guest
over D-Bus) and under `host { backend cgroupfs; }` (forced: it warns), taking turns, each run
from a fresh start: the stand-ins killed and restarted, systemd's scopes gone (they go when
their processes die; `systemctl list-units 'cgplace-*'` is empty before the next run), the
cgroupfs PARENT subtree removed. Each first apply is followed by re-applies (zero changes).
Every placement is checked against the kernel (/proc/PID/task/TID/cgroup, Cpus_allowed_list,
Mems_allowed_list). Then one more (untimed) systemd apply and re-apply under dbus-monitor
--system and strace, to count D-Bus messages independently of cgplace's report.

Part 2, libvirt: paused 2-vCPU libvirt domains (tests/vm/vmlibvirt.py) placed by `cgplace apply`
(libvirt backend: libvirt API calls) against the same pins made by `virsh vcpupin/emulatorpin/
numatune --live` run one by one from a shell loop, each from the same start (the pins reset to
every CPU and every memory node before each run), checked from /proc.

Environment: CGPLACE_TEST_BENCH_GUESTS (20), _RUNS (9: runs per backend at most), _BUDGET (150:
seconds of part 1), _DOMAINS (4), _LV_RUNS (5), _LV_BUDGET (120: seconds of part 2 once the
domains run). Results: $RESULTS/bench-backends.json. Standard library only.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import vmside as V  # noqa: E402
from vmside import CG, CGPLACE, RESULTS, T, fmt, timed  # noqa: E402
import vmlibvirt as L  # noqa: E402  (tests/vm, on the path through vmside)


def env_num(name, default, kind=int):
    return kind(os.environ.get("CGPLACE_TEST_BENCH_" + name, default))


N_GUESTS = env_num("GUESTS", 20)
N_VCPUS = 4
RUNS = env_num("RUNS", 9)
REAPPLY = 3
BUDGET = env_num("BUDGET", 150, float)
N_DOMAINS = env_num("DOMAINS", 4)
LV_VCPUS = 2
LV_RUNS = env_num("LV_RUNS", 5)
LV_BUDGET = env_num("LV_BUDGET", 120, float)
PARENT = "cgbench"
SLICE = "cgplace.slice"
WORK = "/tmp/bench-backends"
os.makedirs(WORK, exist_ok=True)
os.environ["CGPLACE_LOCK"] = WORK + "/lock"

R = V.Results("bench-backends.json", guests=N_GUESTS, vcpus=N_VCPUS, samples={}, writes={}, ops={})
out, log, err = R.out, R.log, R.err


def sh(*cmd, timeout=120):
    try:
        return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", "timed out")


def first_line(*cmd):
    p = sh(*cmd)
    return ((p.stdout or p.stderr).strip().splitlines() or ["?"])[0]


def meminfo(key):
    for line in open("/proc/meminfo"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return None


def add(key, value):
    out["samples"].setdefault(key, []).append(value)


DAEMONS = ("dbus-daemon", "systemd-machine", "systemd-logind", "systemd-journal", "libvirtd", "virtlogd")


def daemons():
    """{name: pid} of systemd (PID 1) and the daemons that serve a placement."""
    res = {"systemd": 1}
    for p in os.listdir("/proc"):
        if p.isdigit():
            c = T.read("/proc/%s/comm" % p, "")
            if c in DAEMONS and c not in res:
                res[c] = int(p)
    return res


TCK = os.sysconf("SC_CLK_TCK")


def cpu_now(pids):
    """CPU seconds (user + system) of each daemon, and of this script's waited-for children."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = [int(x) for x in T.read("/proc/stat", "").splitlines()[0].split()[1:]]
    # "vm": every vCPU's time out of idle and iowait, the kernel's workers included
    res = {"command": ru.ru_utime + ru.ru_stime, "vm": (sum(cpu) - cpu[3] - cpu[4]) / TCK}
    for name, pid in pids.items():
        st = T.read("/proc/%d/stat" % pid, "")
        if st:
            f = st.rsplit(")", 1)[1].split()
            res[name] = (int(f[11]) + int(f[12])) / TCK
    return res


def timed_cpu(cmd, pids):
    """(seconds, CompletedProcess, {who: CPU seconds during the run})."""
    a = cpu_now(pids)
    dt, p = timed(cmd)
    b = cpu_now(pids)
    return dt, p, {k: round(b[k] - a[k], 3) for k in b if k in a}


def apply_json(policy, tag, pids=None):
    """(seconds, report, CPU) of `cgplace --json apply POLICY`; report None when it failed."""
    dt, p, cpu = timed_cpu([CGPLACE, "--json", "apply", policy], pids or {})
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = None
    if p.returncode != 0 or j is None or j.get("outcome") != "ok":
        err("%s: apply exit %d, outcome %s: %s" % (tag, p.returncode, j and j.get("outcome"),
                                                   (p.stderr.strip() or p.stdout.strip())[-600:]))
        return dt, None, cpu
    j["_stderr"] = p.stderr
    return dt, j, cpu


def op_kinds(j):
    k = {}
    for o in j.get("ops", []):
        name = o.get("op") + ("" if o.get("op") not in ("dbus", "libvirt") else " " + str(o.get("call")))
        k[name] = k.get(name, 0) + 1
    return k


# ---- the machine -----------------------------------------------------------------------------
if T.read("/proc/1/comm") != "systemd":
    R.fatal("PID 1 is not systemd: run with tests/vm/run-vm.sh --systemd (topos/asym-systemd.topo)")
H = V.Host(R)
out["vm"].update({
    "uptime_at_start": float(T.read("/proc/uptime").split()[0]),
    "systemd": first_line("systemctl", "--version"),
    "qemu": first_line("qemu-system-x86_64", "--version"),
    "mem_total_mib": meminfo("MemTotal"), "mem_available_mib_at_start": meminfo("MemAvailable"),
    "system_state": sh("systemctl", "is-system-running").stdout.strip()})
V.drop_caches()
SPECS = [H.guest_spec(i, N_VCPUS) for i in range(N_GUESTS)]
POLICY = {"systemd": WORK + "/policy-systemd.conf", "cgroupfs": WORK + "/policy-cgroupfs.conf"}
HOSTS = {"systemd": "backend systemd; unmanaged warn;",
         "cgroupfs": 'backend cgroupfs; parent "%s"; unmanaged warn;' % PARENT}
for b, path in POLICY.items():
    with open(path, "w") as f:
        f.write(V.policy_text(SPECS, N_VCPUS, HOSTS[b]))
BASE = {"systemd": lambda g: "/%s/cgplace-%s.scope" % (SLICE, g["name"]), "cgroupfs": lambda g: "/" + PARENT}
S = V.StandIns(R, WORK, N_VCPUS)


def our_units():
    p = sh("systemctl", "list-units", "--all", "--plain", "--no-legend", "cgplace-*")
    return [l.split()[0] for l in p.stdout.splitlines() if l.strip()]


def rm_cgroups(top):
    """rmdir a cgroup subtree bottom-up (a dying task can hold a cgroup for a moment)."""
    end = time.time() + 10
    while os.path.isdir(top):
        for root, _, _ in sorted(os.walk(top, topdown=False), key=lambda x: -x[0].count("/")):
            try:
                os.rmdir(root)
            except OSError:
                pass
        if time.time() > end:
            err("cannot remove %s" % top)
            return
        if os.path.isdir(top):
            time.sleep(0.05)


def fresh_start():
    """Not timed: the stand-ins killed; systemd's scopes gone with them; PARENT removed;
    the kernel done destroying cgroups. Returns the seconds the scopes took to go."""
    S.stop()
    t = time.time()
    while True:
        left = our_units()
        if os.path.isdir(CG + "/" + SLICE):
            left += [d for d in os.listdir(CG + "/" + SLICE) if d.startswith("cgplace-")]
        if not left:
            break
        if time.time() - t > 30:
            err("systemd scopes still there 30 s after their processes died: %s" % left[:5])
            break
        time.sleep(0.05)
    gone = time.time() - t
    rm_cgroups(CG + "/" + PARENT)
    add("quiesce", V.quiesce(limit=10, settle=1.0))
    return gone


def run_backend(b, rnd):
    fresh = fresh_start()
    if b == "systemd":
        add("scopes_gone", fresh)
    t = time.time()
    S.start(SPECS, True)
    add("standins_start", time.time() - t)
    dt, j, cpu = apply_json(POLICY[b], "%s round %d" % (b, rnd), PIDS)
    if j is None:
        return
    add(b, dt)
    out.setdefault("cpu", {}).setdefault(b, []).append(cpu)
    out["writes"].setdefault(b, []).append(j.get("writes"))
    out["ops"].setdefault(b, []).append(op_kinds(j))
    out.setdefault("warnings", {})[b] = [m.get("text", m) if isinstance(m, dict) else m
                                         for m in j.get("messages", []) + j.get("warnings", [])
                                         if not isinstance(m, dict) or m.get("level") == "warning"] \
        + [l for l in j["_stderr"].splitlines() if "warning" in l]
    V.check_standins(R, S, SPECS, "%s round %d" % (b, rnd), BASE[b])
    if b == "systemd":
        units = our_units()
        deleg = sh("systemctl", "show", "-p", "Delegate", "--value", *units).stdout.split()
        if len(units) != N_GUESTS or deleg.count("yes") != N_GUESTS:
            err("systemd round %d: %d cgplace-* units, %d delegated (want %d)"
                % (rnd, len(units), deleg.count("yes"), N_GUESTS))
    for k in range(REAPPLY):
        dt2, j2, _ = apply_json(POLICY[b], "%s round %d re-apply" % (b, rnd))
        if j2 is None:
            continue
        if j2.get("ops") or j2.get("writes"):
            err("%s round %d: a re-apply changed something: %s" % (b, rnd, op_kinds(j2)))
        add(b + "_reapply", dt2)


# ---- D-Bus messages, counted outside cgplace ------------------------------------------------
class Monitor:
    """dbus-monitor --system --profile in the background; mark() puts a GetId call of busctl on
    the bus and waits until the monitor has it, so that the capture splits into windows."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "w")
        self.p = subprocess.Popen(["dbus-monitor", "--system", "--profile"], stdout=self.f,
                                  stderr=subprocess.STDOUT)
        self.marks = 0

    def seen(self):
        with open(self.path) as f:
            return sum(1 for l in f if l.startswith("mc\t") and l.rstrip().endswith("\tGetId"))

    def mark(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            sh("busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId")
            for _ in range(20):
                if self.seen() > self.marks:
                    self.marks = self.seen()
                    return True
                time.sleep(0.05)
        err("dbus-monitor did not show the marker call")
        return False

    def stop(self):
        self.p.terminate()
        self.p.wait()
        self.f.close()

    def windows(self):
        """The messages between consecutive markers: [[fields...]] per window (the markers'
        busctl connections are in MARKERS)."""
        wins, cur = [], None
        lines = [l.rstrip("\n").split("\t") for l in open(self.path)]
        MARKERS.update(f[3] for f in lines if f[0] == "mc" and f[-1] == "GetId")
        for f in lines:
            if f[0] == "mc" and f[-1] == "GetId":
                if cur is not None:
                    wins.append(cur)
                cur = []
            elif cur is not None and f[0] in ("mc", "mr", "err", "sig"):
                cur.append(f)
        return wins


def bus_window(msgs):
    """What cgplace (the sender of StartTransientUnit; or any client that said Hello) sent and
    received in one window, and the rest of the bus's traffic."""
    names = {f[3] for f in msgs if f[0] == "mc" and f[-1] in ("StartTransientUnit", "Hello")} - MARKERS
    r = {"clients": sorted(names), "calls": {}, "replies": 0, "errors": 0, "unicast_signals": 0,
         "broadcast_signals": {}, "total_messages": len(msgs), "by_sender": {}}
    for f in msgs:
        kind, sender, dest = f[0], f[3], f[4]
        r["by_sender"][sender] = r["by_sender"].get(sender, 0) + 1
        if kind == "mc" and sender in names:
            r["calls"][f[-1]] = r["calls"].get(f[-1], 0) + 1
        elif kind in ("mr", "err") and dest in names:
            r["replies" if kind == "mr" else "errors"] += 1
        elif kind == "sig" and dest in names:
            r["unicast_signals"] += 1
        elif kind == "sig" and dest == "<none>":
            r["broadcast_signals"][f[-1]] = r["broadcast_signals"].get(f[-1], 0) + 1
    return r


MARKERS = set()
SYSBUS = "(/var)?/run/dbus/system_bus_socket"
LVSOCK = "(/var)?/run/libvirt/(libvirt|virtqemud)-sock"   # libvirtd, or the modular daemon


STRACE_SET = "trace=connect,close,sendmsg,recvmsg,sendto,recvfrom,read,write,readv,writev,ppoll,poll"


def strace_sock(path, sock):
    """Calls on the fd a command connected to a unix socket whose path matches the regex SOCK, from strace -f -T -e STRACE_SET
    (the process's threads share the fd): messages out (sendmsg, write...), reads (with data /
    EAGAIN), waits (ppoll/poll on it) and the time blocked in them (waiting for the daemon)."""
    fd = None
    c = {"connect": 0, "out": 0, "in": 0, "in_data": 0, "in_eagain": 0, "poll_waits": 0, "poll_wait_s": 0.0}
    pending = set()   # threads whose poll on the socket strace shows as <unfinished ...>
    for line in open(path):
        r = re.match(r"^(\d+)\s+<\.\.\. p?poll resumed>.*<([\d.]+)>\s*$", line)
        if r and r.group(1) in pending:
            pending.discard(r.group(1))
            c["poll_wait_s"] += float(r.group(2))
            continue
        u = re.match(r"^(\d+)\s+p?poll\(.*<unfinished \.\.\.>", line)
        if u and fd is not None and "fd=%s," % fd in line:
            pending.add(u.group(1))
            c["poll_waits"] += 1
            continue
        m = re.match(r"^(\d+)\s+(\w+)\((\d+)?(.*)\)\s+=\s+(-?\d+)", line)
        if not m:
            continue
        call, f, rest, ret = m.group(2), m.group(3), m.group(4), int(m.group(5))
        dur = re.search(r"<([\d.]+)>\s*$", line)
        if call == "connect" and re.search(r'sun_path="%s"' % sock, rest) and ret == 0:
            fd = f
            c["connect"] += 1
        elif f is None or fd is None:
            if call in ("ppoll", "poll") and fd is not None and "fd=%s," % fd in line:
                c["poll_waits"] += 1
                c["poll_wait_s"] += float(dur.group(1)) if dur else 0.0
        elif f != fd:
            continue
        elif call == "close":
            fd = None
        elif call in ("sendmsg", "sendto", "write", "writev"):
            c["out"] += 1
        elif call in ("recvmsg", "recvfrom", "read", "readv"):
            c["in"] += 1
            c["in_data" if ret > 0 else "in_eagain"] += 1
    c["poll_wait_s"] = round(c["poll_wait_s"], 3)
    return c


def traced(cmd, sock, tag):
    """(seconds, CompletedProcess, strace_sock counts) of cmd under strace."""
    st = WORK + "/strace-%s.txt" % tag
    t = time.perf_counter()
    p = sh("strace", "-f", "-T", "-o", st, "-e", STRACE_SET, *cmd, timeout=300)
    return round(time.perf_counter() - t, 3), p, strace_sock(st, sock)


def count_dbus():
    """One systemd apply and one re-apply (not timed) under dbus-monitor and strace."""
    fresh_start()
    S.start(SPECS, True)
    mon = Monitor(WORK + "/dbus-monitor.txt")
    res = {}
    if mon.mark():
        for tag in ("first", "reapply"):
            dt, p, counts = traced([CGPLACE, "--json", "apply", POLICY["systemd"]], SYSBUS, tag)
            try:
                j = json.loads(p.stdout)
            except ValueError:
                j = {}
            if p.returncode != 0:
                err("apply under strace and dbus-monitor (%s): exit %d: %s" % (tag, p.returncode, p.stderr[-400:]))
            res[tag] = {"strace": counts, "report_ops": op_kinds(j) if j else {}, "seconds_traced": dt,
                        "report_writes": j.get("writes")}
            mon.mark()
    mon.stop()
    wins = mon.windows()
    for tag, w in zip(("first", "reapply"), wins):
        res.setdefault(tag, {})["monitor"] = bus_window(w)
    if "first" in res:
        V.check_standins(R, S, SPECS, "systemd under strace and dbus-monitor", BASE["systemd"])
    os.system("cp %s/dbus-monitor.txt %s/strace-first.txt %s/ 2>/dev/null" % (WORK, WORK, RESULTS))
    out["dbus"] = res
    log("D-Bus counts: %s" % json.dumps(res, sort_keys=True)[:1500])


PIDS = {}


def part1():
    PIDS.update(daemons())
    # a first round decides the order's cost; later rounds alternate who goes first
    deadline = BUDGET
    durs = []
    for rnd in range(RUNS):
        if rnd and R.elapsed() + max(durs) > deadline:
            log("part 1: time budget reached after %d rounds" % rnd)
            break
        t = time.time()
        for b in (("systemd", "cgroupfs") if rnd % 2 == 0 else ("cgroupfs", "systemd")):
            run_backend(b, rnd)
        durs.append(time.time() - t)
        out["rounds"] = rnd + 1
        log("part 1 round %d (%.0f s): %s" % (rnd, durs[-1], {k: round(v[-1], 3) for k, v in out["samples"].items()}))
        R.save()
    count_dbus()
    S.stop()
    fresh_start()
    out["part1_seconds"] = round(R.elapsed(), 1)
    R.save()


# ---- part 2: libvirt ------------------------------------------------------------------------------
def lv_threads(d, g):
    """[(name, pid, tid, None, cpus, mems)] for check_threads: vCPU threads ("CPU N/TCG") on their
    pin, every other thread of QEMU on the emulator's CPUs; all on the guest's nodes."""
    want = []
    for t, comm in V.tids(d.pid).items():
        m = re.match(r"CPU (\d+)/", comm)
        cpus = g["pins"][int(m.group(1))] if m else g["emu"]
        want.append((g["name"], d.pid, t, None, cpus, g["mems"]))
    return want


def part2():
    t0 = time.time()
    e = L.start_libvirtd()
    if e:
        err("libvirtd: %s" % e)
        return
    lv = out["libvirt"] = {"version": first_line("libvirtd", "--version"), "domains": 0, "rss_mib": [],
                           "mem_available_mib_before": meminfo("MemAvailable")}
    nodeset = fmt(H.mem_nodes)
    doms = []
    for i in range(N_DOMAINS):
        try:
            # restrictive: libvirt changes a running domain's nodeset only in that mode
            doms.append(L.Domain("lv%d" % i, vcpus=LV_VCPUS, memory_mib=64,
                                 extra="<numatune><memory mode='restrictive' nodeset='%s'/></numatune>" % nodeset))
        except L.DomainError as ex:
            err("libvirt domain lv%d: %s" % (i, ex))
            break
    if not doms:
        return
    for d in doms:
        st = T.read("/proc/%d/status" % d.pid, "")
        m = re.search(r"VmRSS:\s+(\d+)", st)
        lv["rss_mib"].append(round(int(m.group(1)) / 1024, 1) if m else None)
    lv.update(domains=len(doms), mem_available_mib_after=meminfo("MemAvailable"), timings=dict(L.timings),
              setup_seconds=round(time.time() - t0, 1))
    specs = [H.guest_spec(i, LV_VCPUS, name="lv") for i in range(len(doms))]
    everything = [dict(g, cpus=H.ALL, mems=H.mem_nodes, emu=H.ALL, pins=[H.ALL] * LV_VCPUS) for g in specs]
    cpus_only = [dict(g, cpus=H.ALL, emu=H.ALL, pins=[H.ALL] * LV_VCPUS) for g in specs]   # nodes kept
    pol = WORK + "/policy-libvirt.conf"
    resets = {"": (WORK + "/policy-libvirt-reset.conf", everything),
              "_pins": (WORK + "/policy-libvirt-reset-cpus.conf", cpus_only)}
    for path, sp in [(pol, specs)] + list(resets.values()):
        with open(path, "w") as f:
            f.write(V.policy_text(sp, LV_VCPUS, "unmanaged warn;", mode="restrictive"))
    loops = {"": WORK + "/virsh-loop.sh", "_pins": WORK + "/virsh-loop-pins.sh"}
    for key, loop in loops.items():
        with open(loop, "w") as f:
            f.write("#!/bin/sh\n# the same placement, one virsh command at a time\nset -e\n"
                    "while read -r dom v0 v1 emu nodes; do\n"
                    "    virsh -q -c qemu:///system vcpupin \"$dom\" 0 \"$v0\" --live >/dev/null\n"
                    "    virsh -q -c qemu:///system vcpupin \"$dom\" 1 \"$v1\" --live >/dev/null\n"
                    "    virsh -q -c qemu:///system emulatorpin \"$dom\" \"$emu\" --live >/dev/null\n" +
                    ("" if key else
                     "    virsh -q -c qemu:///system numatune \"$dom\" --nodeset \"$nodes\" --live >/dev/null\n") +
                    "done <<EOF\n")
            for g in specs:
                f.write("%s %s %s %s %s\n" % (g["name"], fmt(g["pins"][0]), fmt(g["pins"][1]), fmt(g["emu"]),
                                              fmt(g["mems"])))
            f.write("EOF\n")
    lv["virsh_commands"] = 4 * len(doms)
    lv["virsh_commands_pins"] = 3 * len(doms)
    for path in [pol] + [x[0] for x in resets.values()] + list(loops.values()):
        os.system("cp %s %s/" % (path, RESULTS))

    def check(tag, sp):
        want = []
        for d, g in zip(doms, sp):
            want += lv_threads(d, g)
        return V.check_threads(R, tag, want)

    def reset(tag, key=""):
        dt, j, _ = apply_json(resets[key][0], "libvirt reset " + tag)
        add("lv_reset", dt)
        check("libvirt reset " + tag, resets[key][1])

    def by_cgplace(rnd, key):
        reset("before cgplace%s %d" % (key, rnd), key)
        dt, j, cpu = apply_json(pol, "libvirt cgplace%s round %d" % (key, rnd), pids)
        if j is None:
            return
        add("lv_cgplace" + key, dt)
        lv.setdefault("cpu_cgplace" + key, []).append(cpu)
        lv.setdefault("ops" + key, []).append(op_kinds(j))
        check("libvirt cgplace%s round %d" % (key, rnd), specs)
        for k in range(0 if key else 2):
            dt2, j2, _ = apply_json(pol, "libvirt re-apply")
            if j2 is not None:
                if j2.get("ops"):
                    err("libvirt round %d: a re-apply made calls: %s" % (rnd, op_kinds(j2)))
                add("lv_cgplace_reapply", dt2)

    def by_virsh(rnd, key):
        reset("before virsh%s %d" % (key, rnd), key)
        dt, p, cpu = timed_cpu(["/bin/sh", loops[key]], pids)
        if p.returncode != 0:
            err("virsh loop%s round %d: exit %d: %s" % (key, rnd, p.returncode, p.stderr.strip()[-400:]))
            return
        add("lv_virsh" + key, dt)
        lv.setdefault("cpu_virsh" + key, []).append(cpu)
        check("libvirt virsh loop%s round %d" % (key, rnd), specs)

    # the first placement after start moves the domains' pages to their nodes (slow and erratic
    # under TCG); later resets only widen the nodes and the pages stay: so it is not a sample
    reset("initial")
    pids = daemons()
    dt, j, _ = apply_json(pol, "libvirt first placement")
    lv["first_placement_seconds"] = round(dt, 3)
    check("libvirt first placement", specs)
    # rounds of the whole placement, then of the pins alone (the nodeset already right: no
    # numatune call, no cpuset.mems write, no memory walk), each within its budget
    for key, runs, budget in (("", LV_RUNS, LV_BUDGET), ("_pins", 3, LV_BUDGET / 2)):
        t1, durs = time.time(), []
        for rnd in range(runs):
            if rnd and time.time() - t1 + max(durs) > budget:
                log("part 2%s: time budget reached after %d rounds" % (key, rnd))
                break
            t = time.time()
            for fn in ((by_cgplace, by_virsh) if rnd % 2 == 0 else (by_virsh, by_cgplace)):
                fn(rnd, key)
            durs.append(time.time() - t)
            lv["rounds" + key] = rnd + 1
            log("part 2%s round %d (%.0f s): %s" % (key, rnd, durs[-1], {
                k: round(v[-1], 3) for k, v in out["samples"].items() if k.startswith("lv_")}))
            R.save()
    floor = {"virsh_version": [], "cgplace_version": []}
    for _ in range(3):
        floor["virsh_version"].append(timed(["virsh", "-q", "-c", "qemu:///system", "version"])[0])
        floor["cgplace_version"].append(timed([CGPLACE, "--version"])[0])
    lv["floor"] = floor
    # where cgplace's time goes: one more run (not timed) under strace, and one virsh command
    reset("before strace")
    dt, p, counts = traced([CGPLACE, "--json", "apply", pol], LVSOCK, "libvirt-cgplace")
    lv["strace_cgplace"] = dict(counts, seconds_traced=dt, rc=p.returncode)
    check("libvirt cgplace under strace", specs)
    g = specs[0]
    dt, p, counts = traced(["virsh", "-q", "-c", "qemu:///system", "vcpupin", g["name"], "0", fmt(H.ALL), "--live"],
                           LVSOCK, "libvirt-virsh")
    lv["strace_virsh"] = dict(counts, seconds_traced=dt, rc=p.returncode)
    os.system("cp %s/strace-libvirt-*.txt %s/ 2>/dev/null" % (WORK, RESULTS))
    log("libvirt under strace: %s" % {k: lv[k] for k in ("strace_cgplace", "strace_virsh")})
    # the VM powers off after the test: no need to wait for libvirt to destroy the domains
    L._domains.clear()


try:
    part1()
    part2()
finally:
    S.stop()
    out["cgplace_version"] = first_line(CGPLACE, "--version")
    R.save()
log("done (%d errors)" % len(out["errors"]))
sys.exit(1 if out["errors"] else 0)
