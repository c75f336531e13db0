"""Watch benchmark (issue 9), INSIDE the VM. Not a test.

1. Latency from a guest's exec to all its threads placed, `cgplace watch` on the proc
   connector: STARTS starts of a stand-in guest (bench/apply/fakeqemu.c run as
   qemu-system-x86_64: it starts and names its threads at once, so the time is watch's, not
   QEMU's start-up), observed from /proc every millisecond; and the same with a loop running
   `cgplace apply` every 5 s (numad's interval), PSTARTS starts. System calls of watch for one
   placement (strace -c -p), and of one `cgplace apply` iteration of the loop.
2. watch's idle cost: CPU time (utime + stime) over IDLE seconds with 50 placed guests and
   nothing happening, scaled to an hour; VmRSS and VmHWM.
3. The re-check of those 50 placed guests after an event that changes nothing (SIGUSR1: the
   model's re-check, timed by watch itself), against a `cgplace apply` re-run on the same host
   and watch's own full pass (a reload).
Writes RESULTS/bench-watch.json.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from vmside import CG, CGPLACE, B, Host, Results, StandIns, T, policy_text, task_cg, tids, timed  # noqa: E402

STARTS = int(os.environ.get("CGPLACE_TEST_BENCH_STARTS", "20"))
PSTARTS = int(os.environ.get("CGPLACE_TEST_BENCH_PSTARTS", "4"))
IDLE = int(os.environ.get("CGPLACE_TEST_BENCH_IDLE", "60"))
NV = 4
PARENT = "cgbench-watch"
WORK = "/run/cgp-bench-watch"
os.makedirs(WORK, exist_ok=True)
os.environ["CGPLACE_LOCK"] = WORK + "/lock"
R = Results("bench-watch.json", starts=STARTS, pstarts=PSTARTS, idle_s=IDLE, samples={}, syscalls={}, idle={})
S_ = R.out["samples"]
H = Host(R)
SI = StandIns(R, WORK, NV)
POL = WORK + "/policy.conf"


def sample(k, v):
    S_.setdefault(k, []).append(v)


def write_policy(specs):
    with open(POL, "w") as f:
        f.write(policy_text(specs, NV, 'parent "%s"; backend cgroupfs; unmanaged ignore;' % PARENT))


def placed(g, pid):
    """Every thread of the stand-in pid where g's placement says."""
    SI.procs[g["name"]] = type("P", (), {"pid": pid})()
    try:
        for t, cg, cpus, mems in SI.threads(g):
            st = T.task_status(pid, t)
            if (task_cg(pid, t) != "/%s/%s" % (PARENT, cg) or T.parse_list(st["Cpus_allowed_list"]) != cpus
                    or T.parse_list(st["Mems_allowed_list"]) != mems):
                return False
        return len(tids(pid)) == NV + 2
    except (OSError, KeyError, ValueError):
        return False


def start_one(g):
    """Start the stand-in for g; (Popen, perf_counter at the start)."""
    cmd = [SI.exe, "-name", "guest=%s,debug-threads=on" % g["name"], "-m", "64", "-smp", str(NV),
           "-nodefaults", "-display", "none"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    return p, t0


def latency(g, limit):
    p, t0 = start_one(g)
    while time.perf_counter() - t0 < limit:
        if placed(g, p.pid):
            return p, time.perf_counter() - t0
        time.sleep(0.001)
    return p, None


def stop(p):
    p.kill()
    p.wait()


class Watch:
    def __init__(self):
        self.log = WORK + "/watch.log"
        self.f = open(self.log, "w")
        self.p = subprocess.Popen([CGPLACE, "-v", "watch", "--interval", "3600", POL], stderr=self.f,
                                  stdout=subprocess.DEVNULL)
        self.wait_line("watching with", 120)

    def lines(self):
        return open(self.log).read().splitlines()

    def wait_line(self, text, limit=60, after=0):
        end = time.time() + limit
        while time.time() < end:
            if any(text in l for l in self.lines()[after:]):
                return True
            time.sleep(0.05)
        R.err("watch did not log %r in %d s: %s" % (text, limit, " | ".join(self.lines()[-5:])))
        return False

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=60)
        self.f.close()


def strace_attach(pid):
    out = WORK + "/strace.out"
    s = subprocess.Popen(["strace", "-c", "-f", "-o", out, "-p", str(pid)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)     # attached
    return s, out


def strace_total(s, out):
    s.send_signal(signal.SIGINT)
    s.wait(timeout=30)
    total, top = None, {}
    for line in open(out):
        f = line.split()
        if len(f) >= 5 and f[-1] == "total":
            total = int(f[3])
        elif len(f) >= 5 and f[0][0].isdigit():
            top[f[-1]] = int(f[3])
    return {"total": total, "top": dict(sorted(top.items(), key=lambda x: -x[1])[:10])}


# ------------------------------------------------------------------ 1. latency with watch
g = H.guest_spec(0, NV, "lat")
write_policy([g])
W = Watch()
for i in range(STARTS):
    p, dt = latency(g, 30)
    if dt is None:
        R.err("watch: start %d not placed in 30 s" % i)
    else:
        sample("watch_latency", dt)
    stop(p)
    time.sleep(0.3)
R.log("watch latency: %s" % ", ".join("%.0f ms" % (x * 1000) for x in S_.get("watch_latency", [])))
st, out = strace_attach(W.p.pid)
p, dt = latency(g, 30)
time.sleep(0.5)
R.out["syscalls"]["watch_placement"] = strace_total(st, out)
stop(p)
R.log("watch: %s system calls for one placement" % R.out["syscalls"]["watch_placement"]["total"])
W.stop()
R.save()

# ------------------------------------------------------------------ 1b. a 5-s apply loop
loop = subprocess.Popen(["sh", "-c", "while :; do %s apply %s >/dev/null 2>&1; sleep 5; done" % (CGPLACE, POL)])
for i in range(PSTARTS):
    p, dt = latency(g, 30)
    if dt is None:
        R.err("apply loop: start %d not placed in 30 s" % i)
    else:
        sample("loop_latency", dt)
    stop(p)
    time.sleep(1.7)   # not in step with the loop
loop.kill()
loop.wait()
p, _ = latency(g, 0.001)
subprocess.run([CGPLACE, "apply", POL], capture_output=True)
st_out = WORK + "/strace-apply.out"
subprocess.run(["strace", "-f", "-c", "-o", st_out, CGPLACE, "apply", POL], capture_output=True)
tot = None
for line in open(st_out):
    f = line.split()
    if len(f) >= 5 and f[-1] == "total":
        tot = int(f[3])
R.out["syscalls"]["apply_iteration"] = {"total": tot}
stop(p)
R.log("apply loop latency: %s; one iteration %s system calls" % (
    ", ".join("%.2f s" % x for x in S_.get("loop_latency", [])), tot))
R.save()

# ------------------------------------------------------------------ 2 + 3. 50 placed guests
SI.procs.clear()   # the latency probes only borrowed it
specs = [H.guest_spec(i, NV, "w") for i in range(50)]
write_policy(specs)
SI.start(specs, True)
W = Watch()
pid = W.p.pid
R.out["watch_start_pass"] = [l for l in W.lines() if "pass 1 (start)" in l][:1]
time.sleep(2)


def cpu_ticks(p):
    f = T.read("/proc/%d/stat" % p).rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


hz = os.sysconf("SC_CLK_TCK")
c0, t0 = cpu_ticks(pid), time.time()
time.sleep(IDLE)
c1, t1 = cpu_ticks(pid), time.time()
st = T.task_status(pid)
R.out["idle"] = {"cpu_s": (c1 - c0) / hz, "wall_s": t1 - t0, "per_hour_s": (c1 - c0) / hz * 3600 / (t1 - t0),
                 "rss_kib": int(st["VmRSS"].split()[0]), "hwm_kib": int(st["VmHWM"].split()[0]), "hz": hz}
R.log("idle: %r" % R.out["idle"])

n0 = len(W.lines())
for i in range(30):
    W.p.send_signal(signal.SIGUSR1)
    time.sleep(0.2)
time.sleep(1)
for l in W.lines()[n0:]:
    m = re.search(r"re-check: (\d+) guests?, (\d+) files?, (\d+) us: (\w+)", l)
    if m:
        sample("recheck", int(m.group(3)) / 1e6)
        R.out["recheck_files"] = int(m.group(2))
        R.out["recheck_guests"] = int(m.group(1))
        if m.group(4) != "unchanged":
            R.err("re-check said %s on an unchanged host" % m.group(4))
st, out = strace_attach(pid)
for i in range(10):
    W.p.send_signal(signal.SIGUSR1)
    time.sleep(0.2)
time.sleep(0.5)
R.out["syscalls"]["recheck10"] = strace_total(st, out)
for i in range(5):
    n0 = len(W.lines())
    W.p.send_signal(signal.SIGHUP)
    W.wait_line("(reload):", 120, n0)
    for l in W.lines()[n0:]:
        m = re.search(r"pass \d+ \(reload\): .* (\d+) ms", l)
        if m:
            sample("watch_full_pass", int(m.group(1)) / 1000)
W.stop()
for i in range(5):
    dt, p = timed([CGPLACE, "apply", POL])
    if p.returncode:
        R.err("apply: exit %d: %s" % (p.returncode, p.stderr[-300:]))
    sample("apply_rerun", dt)
R.log("re-check %s; apply re-run %s" % (S_.get("recheck", [])[:5], S_.get("apply_rerun")))
SI.stop()
time.sleep(0.5)
for d, dirs, files in sorted(os.walk(CG + "/" + PARENT), key=lambda x: -len(x[0])):
    try:
        os.rmdir(d)
    except OSError:
        pass
R.save()
