"""Helpers for the VM tests written in Python (run inside the VM, python3 from the host root).

    import vmtest as T
    T.check(cond, "what should hold")      # records a failure, keeps going
    T.finish()                             # exit 1 if anything failed, 0 otherwise
    T.skip("why")                          # exit 77: test does not apply here

Kernel truth comes from the guest's sysfs (never from the topology file: the guest kernel
may number nodes differently from QEMU's nodeid).
"""
import json
import os
import re
import subprocess
import sys

NODE = "/sys/devices/system/node"
CPU = "/sys/devices/system/cpu"
_failed = 0


def log(msg):
    print(msg, flush=True)


def check(cond, msg):
    global _failed
    if not cond:
        _failed += 1
        log("  not ok: " + msg)
    return bool(cond)


def eq(got, want, msg):
    return check(got == want, "%s: got %r, want %r" % (msg, got, want))


def near(got, want, msg, rel=0.10, abs_kib=16384):
    """For free memory, which moves between two reads."""
    ok = got is not None and abs(got - want) <= max(abs_kib, rel * max(want, 1))
    return check(ok, "%s: got %r, kernel says %r (tolerance %d KiB or %d%%)"
                 % (msg, got, want, abs_kib, int(rel * 100)))


def skip(why):
    log("  skip: " + why)
    sys.exit(77)


def finish():
    sys.exit(1 if _failed else 0)


def fatal(msg):
    log("  not ok: " + msg)
    sys.exit(1)


# ---- lists -------------------------------------------------------------------------
def parse_list(s):
    """'0-2,5' -> [0, 1, 2, 5];  '' -> []"""
    out = []
    s = (s or "").strip()
    if not s:
        return out
    for part in s.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return sorted(set(out))


def fmt_list(ids):
    """[0, 1, 2, 5] -> '0-2,5' (the kernel's and cgplace's list syntax; parse_list's inverse)"""
    ids, out, i = sorted(set(ids)), [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(out)


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


# ---- the kernel's view ---------------------------------------------------------------
def nodes_online():
    return parse_list(read(NODE + "/online", ""))


def nodes_possible():
    return parse_list(read(NODE + "/possible", ""))


def node_state(name):
    """has_cpu, has_memory, ..."""
    return parse_list(read(NODE + "/" + name, ""))


def node_cpus(n):
    return parse_list(read("%s/node%d/cpulist" % (NODE, n), ""))


def node_meminfo(n):
    d = {}
    for line in (read("%s/node%d/meminfo" % (NODE, n), "") or "").splitlines():
        m = re.match(r"Node\s+\d+\s+(\S+):\s+(\d+)", line)
        if m:
            d[m.group(1)] = int(m.group(2))
    return d


def node_distance(n):
    """{other_node: value} (the distance file lists one value per online node, in order)."""
    vals = [int(x) for x in (read("%s/node%d/distance" % (NODE, n), "") or "").split()]
    return dict(zip(nodes_online(), vals))


def node_kind(n):
    c = n in node_state("has_cpu")
    m = n in node_state("has_memory")
    return {(True, True): "cpu+memory", (True, False): "cpu-only",
            (False, True): "memory-only", (False, False): "neither"}[(c, m)]


def node_initiators(n):
    d = "%s/node%d/access0/initiators" % (NODE, n)
    if not os.path.isdir(d):
        return None
    return sorted(int(x[4:]) for x in os.listdir(d) if re.match(r"node\d+$", x))


def node_access0(n):
    """HMAT access class 0 as cgplace reports it, or None without initiators."""
    d = "%s/node%d/access0" % (NODE, n)
    if node_initiators(n) is None:
        return None

    def num(f):
        v = read(d + "/initiators/" + f)
        return int(v) if v is not None and re.match(r"\d+$", v) else None
    return {"read_latency_ns": num("read_latency"), "write_latency_ns": num("write_latency"),
            "read_bandwidth_mbps": num("read_bandwidth"), "write_bandwidth_mbps": num("write_bandwidth")}


def node_hugepages(n):
    out = []
    d = "%s/node%d/hugepages" % (NODE, n)
    if os.path.isdir(d):
        for e in os.listdir(d):
            m = re.match(r"hugepages-(\d+)kB$", e)
            if m:
                out.append({"size_kib": int(m.group(1)),
                            "total": int(read(d + "/" + e + "/nr_hugepages", "0")),
                            "free": int(read(d + "/" + e + "/free_hugepages", "0"))})
    return sorted(out, key=lambda h: h["size_kib"])


def memory_tiers():
    """{node: tier} from /sys/devices/virtual/memory_tiering, or None if absent."""
    base = "/sys/devices/virtual/memory_tiering"
    if not os.path.isdir(base):
        return None
    tiers = {}
    for e in os.listdir(base):
        m = re.match(r"memory_tier(\d+)$", e)
        if m:
            for n in parse_list(read(base + "/" + e + "/nodelist", "")):
                tiers[n] = int(m.group(1))
    return tiers


def cpus_online():
    return parse_list(read(CPU + "/online", ""))


def cpus_present():
    return parse_list(read(CPU + "/present", ""))


def cpu_topo(c):
    t = "%s/cpu%d/topology/" % (CPU, c)

    def num(f):
        v = read(t + f)
        return int(v) if v is not None and re.match(r"-?\d+$", v) else None
    return {"package": num("physical_package_id"), "die": num("die_id"), "cluster": num("cluster_id"),
            "core": num("core_id"),
            "siblings": parse_list(read(t + "thread_siblings_list", "")) if read(t + "thread_siblings_list") is not None else None}


def cpu_node(c):
    for n in nodes_online():
        if c in node_cpus(n):
            return n
    return None


def meminfo_total():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return None


def numactl_hardware():
    """{'available': [nodes], 'cpus': {n: [..]}, 'size_mb': {n: MB}, 'dist': {n: [..]}}"""
    out = subprocess.run(["numactl", "--hardware"], capture_output=True, text=True).stdout
    r = {"available": [], "cpus": {}, "size_mb": {}, "free_mb": {}}
    for line in out.splitlines():
        m = re.match(r"available: \d+ nodes \(([-0-9,]*)\)", line)
        if m:
            r["available"] = parse_list(m.group(1))
        m = re.match(r"node (\d+) cpus:(.*)", line)
        if m:
            r["cpus"][int(m.group(1))] = sorted(int(x) for x in m.group(2).split())
        m = re.match(r"node (\d+) size: (\d+) MB", line)
        if m:
            r["size_mb"][int(m.group(1))] = int(m.group(2))
    return r


# ---- cgplace ---------------------------------------------------------------------------
CGPLACE = os.environ.get("CGPLACE", "build/cgplace")


def need_cgplace():
    if not os.access(CGPLACE, os.X_OK):
        fatal("cgplace binary %s does not exist (make all)" % CGPLACE)


def memory_bed(run_dir):
    """What the tests that bind guest memory start from: run_dir made, the cgplace
    binary there, and (a memory-only node, a CPU+memory node, two online CPUs), or a
    skip when the topology lacks them."""
    os.makedirs(run_dir, exist_ok=True)
    need_cgplace()
    online = nodes_online()
    memonly = [n for n in online if node_kind(n) == "memory-only"]
    withmem = [n for n in online if node_kind(n) == "cpu+memory"]
    cpus = cpus_online()
    if len(cpus) < 2 or not memonly or not withmem:
        skip("needs 2 CPUs, a memory-only node and a node with CPUs and memory")
    return memonly[0], withmem[0], cpus[0], cpus[1]


def cgplace(*args, want_rc=0):
    p = subprocess.run([CGPLACE] + list(args), capture_output=True, text=True)
    if want_rc is not None and p.returncode != want_rc:
        fatal("cgplace %s: exit %d, want %d; stderr: %s" % (" ".join(args), p.returncode, want_rc, p.stderr.strip()))
    return p


def run_cgplace(*args, env=None, binary=None, prefix=(), timeout=300):
    """(exit status, stdout, stderr) of cgplace ARGS, whatever the status; env adds to the
    environment, binary replaces CGPLACE (the test build), prefix goes before it (strace)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(list(prefix) + [binary or CGPLACE] + list(args), capture_output=True, text=True, env=e,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def cgplace_json(*args):
    p = cgplace(*args)
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        fatal("cgplace %s: output is not JSON (%s): %.300s" % (" ".join(args), e, p.stdout))


# ---- cgroup v2 probes ------------------------------------------------------------------
import atexit
import errno
import signal
import time

CG = "/sys/fs/cgroup"
_cleanup_cgs = []
_cleanup_procs = []


def cg_read(path):
    return read(path if path.startswith("/") else CG + "/" + path)


def cg_write(path, value):
    """Write value with one write(); return None on success or the errno name."""
    path = path if path.startswith("/") else CG + "/" + path
    fd = os.open(path, os.O_WRONLY)
    try:
        # a zero-length write() never reaches the kernel: "" is written as "\n"
        os.write(fd, (str(value) or "\n").encode())
        return None
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:   # == ENOTSUP on Linux; use the cgroup docs' name
            return "EOPNOTSUPP"
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        os.close(fd)


def dump_blocked(tag):
    """sysrq-w (blocked tasks) into the test log: for writes that take too long."""
    try:
        subprocess.run(["dmesg", "-C"])
        with open("/proc/sys/kernel/sysrq", "w") as f:
            f.write("1")
        for key in "wl":   # blocked tasks, then a backtrace of every CPU
            with open("/proc/sysrq-trigger", "w") as f:
                f.write(key)
        time.sleep(0.5)
        out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
        log("  --- %s: blocked tasks (sysrq-w):\n    %s" % (tag, out.replace("\n", "\n    ")))
    except OSError as e:
        log("  (cannot dump blocked tasks: %s)" % e)


def cg_write_watched(path, value, slow=10.0):
    """cg_write, dumping the kernel's blocked tasks once if the write takes > slow s."""
    import threading
    done = threading.Event()

    def watch():
        if not done.wait(slow):
            dump_blocked("write %r to %s still running after %.0fs" % (value, path, slow))
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t0 = time.time()
    try:
        return cg_write(path, value)
    finally:
        done.set()
        log("  write %r to %s: %.1fs" % (value, path[len(CG) + 1:] if path.startswith(CG) else path, time.time() - t0))


def cg_must(path, value):
    err = cg_write(path, value)
    if err:
        fatal("write %r to %s: %s" % (value, path, err))


def cg_mkdir(rel, threaded=False):
    path = CG + "/" + rel
    os.makedirs(path, exist_ok=True)
    _cleanup_cgs.append(path)
    if threaded:
        cg_must(path + "/cgroup.type", "threaded")
    return path


def cg_enable_cpuset(rel=""):
    cg_must((CG + "/" + rel).rstrip("/") + "/cgroup.subtree_control", "+cpuset")


def scratch(name):
    """A fresh scratch subtree /sys/fs/cgroup/cgp-probe/NAME with cpuset enabled below it."""
    cg_enable_cpuset()
    cg_mkdir("cgp-probe")
    cg_enable_cpuset("cgp-probe")
    cg_mkdir("cgp-probe/" + name)
    cg_enable_cpuset("cgp-probe/" + name)
    return "cgp-probe/" + name


def task_status(pid, tid=None):
    f = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    d = {}
    for line in open(f):
        k, _, v = line.partition(":")
        d[k] = v.strip()
    return d


def task_comms(pid):
    """{tid: comm} of every thread of pid."""
    return {int(t): read("/proc/%d/task/%s/comm" % (pid, t), "") for t in os.listdir("/proc/%d/task" % pid)}


def task_cgroup(pid, tid=None):
    f = "/proc/%d/cgroup" % pid if tid is None else "/proc/%d/task/%d/cgroup" % (pid, tid)
    for line in open(f):
        if line.startswith("0::"):
            return line[3:].strip()
    return None


def start_qemu(name, pidfile, extra=()):
    """A daemonized, stopped (-S) TCG QEMU with thread names, -name NAME: its pid (from PIDFILE)."""
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "16", "-smp", "1", "-nodefaults", "-display",
            "none", "-daemonize", "-pidfile", pidfile, "-name", "guest=%s,debug-threads=on" % name] + list(extra)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode:
        fatal("qemu %s: %s" % (name, p.stderr))
    return int(open(pidfile).read())


def cg_rmtree(rel):
    """Remove the cgroup subtree CG/REL, deepest first (busy groups stay)."""
    for d, dirs, files in sorted(os.walk(CG + "/" + rel), key=lambda x: -len(x[0])):
        try:
            os.rmdir(d)
        except OSError:
            pass


def helper_path():
    b = os.environ.get("B", "build")
    h = os.path.join(b, "vm", "vmhelper")
    if os.access(h, os.X_OK):
        return h
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers", "vmhelper.c")
    h = "/tmp/vmhelper"
    if not os.access(h, os.X_OK):
        subprocess.run(["gcc", "-O2", "-pthread", "-o", h, src], check=True)
    return h


class Helper:
    """vmhelper MIB NTHREADS, started directly inside cgroup `cg` (relative to CG) if given."""

    def __init__(self, mib, nthreads, cg=None):
        h = helper_path()
        if cg:
            cmd = ["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec "$2" "$3" "$4"', "sh",
                   CG + "/" + cg, h, str(mib), str(nthreads)]
        else:
            cmd = [h, str(mib), str(nthreads)]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        _cleanup_procs.append(self.p)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "ready":
            fatal("vmhelper did not start: %r" % line)
        self.pid = int(line[1])
        self.addr = int(line[2], 16)
        self.tids = [int(x) for x in line[3:]]

    def pages_per_node(self):
        """{node: pages} of the helper's buffer, from /proc/PID/numa_maps."""
        for line in open("/proc/%d/numa_maps" % self.pid):
            f = line.split()
            if int(f[0], 16) == self.addr:
                return {int(k[1:]): int(v) for k, v in (x.split("=") for x in f[2:] if re.match(r"N\d+=", x))}
        return {}

    def kill(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()


@atexit.register
def _cleanup():
    for p in _cleanup_procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.1)
    for path in sorted(set(_cleanup_cgs), key=len, reverse=True):
        try:
            os.rmdir(path)
        except OSError:
            pass
