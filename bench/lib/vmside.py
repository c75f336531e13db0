"""What the benchmarks that run INSIDE the test VM share (bench/apply/inside.py,
bench/backends/inside.py): the results file, the asym host as the guest kernel sees it,
the guest patterns and their policy text, the stand-in guests (bench/apply/fakeqemu.c run as
qemu-system-x86_64) and the check of a placement against the kernel
(/proc/PID/task/TID/cgroup, Cpus_allowed_list, Mems_allowed_list). Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "vm"))
import vmtest as T  # noqa: E402

CG = "/sys/fs/cgroup"
CGPLACE = os.environ.get("CGPLACE", "build/cgplace")
B = os.environ.get("B", "build")
RESULTS = os.environ.get("RESULTS", "/tmp")


class Results:
    """The benchmark's JSON (RESULTS/NAME, rewritten by save()), its log and its errors."""

    def __init__(self, name, **fields):
        self.name = name
        self.out = dict(errors=[], checks=[], **fields)
        self.t0 = time.time()

    def elapsed(self):
        return time.time() - self.t0

    def log(self, msg):
        print("[%6.1fs] %s" % (self.elapsed(), msg), flush=True)

    def err(self, msg):
        self.out["errors"].append(msg)
        self.log("ERROR: " + msg)

    def save(self):
        self.out["vm_seconds"] = round(self.elapsed(), 1)
        tmp = "%s/%s.tmp" % (RESULTS, self.name)
        with open(tmp, "w") as f:
            json.dump(self.out, f, indent=1, sort_keys=True)
        os.replace(tmp, "%s/%s" % (RESULTS, self.name))

    def fatal(self, msg):
        self.err(msg)
        self.save()
        sys.exit(1)


fmt = T.fmt_list   # [0, 1, 2, 5] -> "0-2,5"


def timed(cmd, **kw):
    """(wall seconds, CompletedProcess) of running cmd to its end."""
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.perf_counter() - t, p


def cgw(path, value):
    with open(path, "w") as f:
        f.write(value)


def drop_caches():
    """Page cache from 9p fills the nodes and makes page migration erratic under TCG
    (tests/vm/README.md, probe (d))."""
    cgw("/proc/sys/vm/drop_caches", "3")


def cpuset_ctl(rel):
    ctl = T.read((CG + "/" + rel).rstrip("/") + "/cgroup.subtree_control", "") or ""
    return "cpuset" in ctl.split()


class Host:
    """The asym topology as the guest kernel numbers it: the big and the small CPU+memory
    node, the CPU-only and the memory-only node (from sysfs, never from the topology file)."""

    def __init__(self, R):
        nodes = T.nodes_online()
        kinds = {n: T.node_kind(n) for n in nodes}
        cpumem = [n for n in nodes if kinds[n] == "cpu+memory"]
        cpuonly = [n for n in nodes if kinds[n] == "cpu-only"]
        memonly = [n for n in nodes if kinds[n] == "memory-only"]
        if len(cpumem) < 2 or not cpuonly or not memonly:
            R.fatal("needs the asym topology (2 cpu+memory nodes, a cpu-only and a memory-only node); got %r" % kinds)
        self.big = max(cpumem, key=lambda n: len(T.node_cpus(n)))
        self.small = [n for n in cpumem if n != self.big][0]
        self.BC, self.SC, self.CC = T.node_cpus(self.big), T.node_cpus(self.small), T.node_cpus(cpuonly[0])
        self.MO = memonly[0]
        self.ALL = sorted(set(self.BC + self.SC + self.CC))
        self.mem_nodes = sorted([self.big, self.small, self.MO])
        R.out["vm"] = {"nodes": {str(n): {"kind": kinds[n], "cpus": fmt(T.node_cpus(n))} for n in nodes},
                       "kernel": os.uname().release, "cpus": len(self.ALL)}
        R.log("nodes: %r" % R.out["vm"]["nodes"])

    def guest_spec(self, i, nvcpus, name="g"):
        """cpus, mems, vcpu pins, emulator pin of guest NAME+I (independent of cgplace), in four
        patterns: big node's CPUs with its memory; small node + CPU-only node's CPUs with the
        small node's memory; CPU-only node's CPUs with the memory-only node's memory; all CPUs
        with both CPU+memory nodes' memory."""
        k = i % 4
        if k == 0:
            cpus, mems = self.BC, [self.big]
        elif k == 1:
            cpus, mems = self.SC + self.CC, [self.small]
        elif k == 2:
            cpus, mems = self.CC, [self.MO]
        else:
            cpus, mems = self.ALL, sorted([self.big, self.small])
        cpus = sorted(cpus)
        pins = [[cpus[(i + v) % len(cpus)]] for v in range(nvcpus)]
        emu = [cpus[(i + nvcpus) % len(cpus)]]
        return {"name": "%s%d" % (name, i), "cpus": cpus, "mems": mems, "pins": pins, "emu": emu}


def policy_text(specs, nvcpus, host, memory="1M", mode=""):
    """One guest block per spec, with its pins; `host` is the host block's statements."""
    s = ["host { %s }" % host]
    for g in specs:
        s.append("guest %s { vcpus %d; cpus %s; memory %s nodes %s%s; %s emulatorpin %s; }" % (
            g["name"], nvcpus, fmt(g["cpus"]), memory, fmt(g["mems"]), " mode " + mode if mode else "",
            " ".join("vcpupin %d %s;" % (v, fmt(p)) for v, p in enumerate(g["pins"])), fmt(g["emu"])))
    return "\n".join(s) + "\n"


class StandIns:
    """The stand-in guests: bench/apply/fakeqemu.c copied to WORK/bin/qemu-system-x86_64 (a
    copy, not a symlink: /proc/PID/exe resolves symlinks), one process per spec, started with
    QEMU's command line; with thread names (debug-threads=on) or without."""

    def __init__(self, R, work, nvcpus):
        self.R, self.nvcpus = R, nvcpus
        self.procs = {}
        self.named = True
        fake = os.path.join(B, "bench-apply", "fakeqemu")
        if not os.access(fake, os.X_OK):
            R.fatal("%s missing (make bench-apply builds it on the host)" % fake)
        self.exe = work + "/bin/qemu-system-x86_64"
        os.makedirs(work + "/bin", exist_ok=True)
        shutil.copy(fake, self.exe)

    def start(self, specs, named):
        """(Re)start one stand-in per spec; returns when every one has named its threads."""
        self.stop()
        self.named = named
        for g in specs:
            r, w = os.pipe()
            cmd = [self.exe, "-name", "guest=%s%s" % (g["name"], ",debug-threads=on" if named else ""),
                   "-machine", "pc,accel=kvm", "-cpu", "host", "-m", "1024", "-smp", str(self.nvcpus),
                   "-nodefaults", "-display", "none", "-uuid",
                   "00000000-0000-4000-8000-%012d" % int(g["name"].lstrip("abcdefghijklmnopqrstuvwxyz"))]
            p = subprocess.Popen(cmd, pass_fds=(w,), stdin=subprocess.DEVNULL,
                                 env=dict(os.environ, FAKEQEMU_READY_FD=str(w)))
            os.close(w)
            with os.fdopen(r) as f:
                if f.readline().strip() != "ready":
                    self.R.err("stand-in guest %s did not start" % g["name"])
            self.procs[g["name"]] = p

    def stop(self):
        for p in self.procs.values():
            p.kill()
        for p in self.procs.values():
            p.wait()
        self.procs.clear()

    def threads(self, g):
        """[(tid, cgroup relative to the guests' parent, cpus, mems)] the placement asks for:
        per thread when the threads are named, else every thread in the guest's cgroup with
        the guest's sets."""
        res = []
        for t, comm in tids(self.procs[g["name"]].pid).items():
            if not self.named:
                res.append((t, g["name"], g["cpus"], g["mems"]))
            elif comm.startswith("CPU ") and comm.endswith("/KVM"):
                v = int(comm[4:-4])
                res.append((t, "%s/vcpu%d" % (g["name"], v), g["pins"][v], g["mems"]))
            else:
                res.append((t, "%s/emulator" % g["name"], g["emu"], g["mems"]))
        return res


def tids(pid):
    """{tid: comm} of a process."""
    return {t: T.read("/proc/%d/task/%d/comm" % (pid, t), "")
            for t in sorted(int(x) for x in os.listdir("/proc/%d/task" % pid))}


def task_cg(pid, tid):
    return T.read("/proc/%d/task/%d/cgroup" % (pid, tid), "").split("::", 1)[-1]


def check_threads(R, method, want):
    """want: [(guest name, pid, tid, cgroup or None (not judged), cpus, mems)]. Every thread
    where the placement says, per the kernel; recorded in R.out["checks"]. Returns the number
    of mismatches."""
    bad = []
    for name, pid, t, cg, cpus, mems in want:
        st = T.task_status(pid, t)
        have = (task_cg(pid, t) if cg is not None else None, T.parse_list(st["Cpus_allowed_list"]),
                T.parse_list(st["Mems_allowed_list"]))
        if have != (cg, cpus, mems):
            bad.append("%s tid %d: have %r want %r" % (name, t, have, (cg, cpus, mems)))
    R.out["checks"].append({"method": method, "threads": len(want), "mismatches": len(bad), "first": bad[:3]})
    if bad:
        R.err("%s: %d of %d threads misplaced, e.g. %s" % (method, len(bad), len(want), bad[0]))
    else:
        R.log("%s: all %d threads where the placement says (%sCpus_allowed_list, Mems_allowed_list)"
              % (method, len(want), "cgroup, " if want and want[0][3] is not None else ""))
    return len(bad)


def check_standins(R, S, specs, method, base):
    """check_threads for the stand-ins: base(g) is the cgroup that holds guest g's own cgroup
    (e.g. "/cgbench", or its systemd scope)."""
    want = []
    for g in specs:
        pid = S.procs[g["name"]].pid
        want += [(g["name"], pid, t, base(g) + "/" + cg, cpus, mems) for t, cg, cpus, mems in S.threads(g)]
    return check_threads(R, method, want)


def quiesce(limit=20.0, settle=None):
    """Wait until the kernel has finished destroying removed cgroups (root cgroup.stat
    nr_dying_descendants 0): offlining hundreds of cgroups runs in kworkers that, under TCG,
    would otherwise slow down whichever method runs next. With settle=S, also stop once the
    count has not changed for S seconds (under systemd, cgroups with the memory controller stay
    dying while pages are charged to them). Returns the seconds waited."""
    t = time.time()
    last, since = None, t
    while time.time() - t < limit:
        st = dict(l.split() for l in (T.read(CG + "/cgroup.stat", "") or "").splitlines() if l.strip())
        dying = st.get("nr_dying_descendants", "0")
        if dying == "0" or (settle and dying == last and time.time() - since >= settle):
            break
        if dying != last:
            last, since = dying, time.time()
        time.sleep(0.1)
    time.sleep(0.2)
    return time.time() - t
