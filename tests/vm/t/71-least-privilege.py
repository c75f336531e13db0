# vm-topos: asym-services
"""Least privilege on a real kernel (issue 10, item 2 and problem 3).

1. The capability table of docs/SECURITY.md, measured: as uid 0 with only the
   capabilities named (setpriv --bounding-set), against a process of user
   nobody: /proc/PID/numa_maps and /proc/PID/exe, migrate_pages inside and
   outside the task's cpuset, kill, moving it between cgroups, writing
   cpuset.cpus, mkdir/rmdir in cgroupfs, creating the lock in /run. Each row
   asserts the table (so the docs cannot drift from the kernel).
2. The sandbox probe: tests/sandbox/probe.c preloaded into sandboxed runs of
   nodeinfo, guests, plan, apply, verify, numatune, vcpuinfo against a QEMU
   run by nobody: for every verb creating /run/x and /tmp/x and unlinking a
   file fail (the seccomp filter: EPERM); for the read-only verbs (Landlock)
   mkdir and reading /etc/shadow and a 0600 file of nobody's fail too
   (EACCES); a control run with --no-sandbox shows each succeeds (a target
   whose control fails is skipped, loudly). apply, verify and numatune get no
   Landlock (it fails the ptrace checks of numa_maps and migrate_pages, row
   "numa_maps under Landlock" below): for them nobody's file is out of reach
   too (no CAP_DAC_OVERRIDE), and the log shows what is not (mkdir). CapEff is the documented set; the
   sandboxed apply still places nobody's QEMU, verify finds it in place and
   numatune moves its pages.
3. exec: the supervisor is restricted (CapEff PTRACE|NICE|KILL), QEMU's
   process (here a shell) is not: full capabilities, no no_new_privs, no
   seccomp, and it can create files.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

T.need_cgplace()
RUN = "/run/cgp-priv"
OUT = "/tmp/cgp-priv-out"
PARENT = "cgp-priv"
for d in (RUN, OUT):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
os.chmod(RUN, 0o777)          # nobody's QEMU writes its pidfile here
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
NOBODY = 65534
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
memnodes = [n for n in online if T.node_kind(n) in ("cpu+memory", "memory")]
if not withmem or len(memnodes) < 2:
    T.skip("needs a node with CPUs and memory and a second memory node")
N0 = withmem[0]
N1 = [n for n in memnodes if n != N0][0]
C0 = T.node_cpus(N0)[0]
PROCS = []

# ---------------------------------------------------------------- the probe library
SO = RUN + "/probe.so"
p = subprocess.run(["gcc", "-std=gnu11", "-O2", "-shared", "-fPIC", "-o", SO, "tests/sandbox/probe.c"],
                   capture_output=True, text=True)
if p.returncode:
    T.fatal("building tests/sandbox/probe.c: %s" % p.stderr)


def as_nobody(argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"] + argv


# ---------------------------------------------------------------- 1. the capability table
MEASURE = r'''
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
op, pid, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def mask(nodes):
    m = 0
    for n in nodes.split(","):
        m |= 1 << int(n)
    return ctypes.c_ulong(m)
def res(f):
    try:
        f()
        return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def migrate():
    frm, to = mask(arg.split(":")[0]), mask(arg.split(":")[1])
    if libc.syscall(256, pid, 64, ctypes.byref(frm), ctypes.byref(to)) < 0:
        raise OSError(ctypes.get_errno(), "migrate_pages")
def write(path, v):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, v.encode())
    finally:
        os.close(fd)
def landlock():
    """A Landlock domain that may read anything (only reads handled)."""
    import struct
    attr = ctypes.c_uint64(1 << 2 | 1 << 3)
    rs = libc.syscall(444, ctypes.byref(attr), 8, 0)
    fd = os.open("/", os.O_PATH)
    rule = ctypes.create_string_buffer(struct.pack("=Qi", 1 << 2 | 1 << 3, fd), 12)
    if rs < 0 or libc.syscall(445, rs, 1, rule, 0) < 0 or libc.prctl(38, 1, 0, 0, 0) < 0 \
            or libc.syscall(446, rs, 0) < 0:
        raise SystemExit("landlock: errno %d" % ctypes.get_errno())
if op.startswith("ll_"):
    landlock()
    op = op[3:]
ops = {
    "numa_maps": lambda: open("/proc/%d/numa_maps" % pid).read(),
    "exe": lambda: os.readlink("/proc/%d/exe" % pid),
    "status": lambda: (open("/proc/%d/status" % pid).read(), os.listdir("/proc/%d/task" % pid),
                       open("/proc/%d/cgroup" % pid).read()),
    "migrate": migrate,
    "kill": lambda: os.kill(pid, 0),
    "procs": lambda: write(arg + "/cgroup.procs", str(pid)),
    "cpus": lambda: write(arg + "/cpuset.cpus", open(arg + "/cpuset.cpus.effective").read().strip()),
    "mkdir": lambda: (os.mkdir(arg + "/m"), os.rmdir(arg + "/m")),
    "lock": lambda: os.close(os.open(arg, os.O_RDWR | os.O_CREAT, 0o600)),
}
print(res(ops[op]))
'''


def measure(caps, op, pid, arg="-"):
    bset = "-all" + "".join(",+" + c for c in caps)
    p = subprocess.run(["setpriv", "--bounding-set=" + bset, "--", sys.executable, "-c", MEASURE, op, str(pid), arg],
                       capture_output=True, text=True, timeout=60)
    return p.stdout.strip() or "error: " + p.stderr.strip()[-200:]


target = subprocess.Popen(as_nobody([sys.executable, "-c", "b = bytearray(16 << 20)\nimport time\n"
                                     "b[::4096] = b'x' * len(b[::4096])\ntime.sleep(3600)"]))
PROCS.append(target)
time.sleep(1.0)
sc = T.scratch("priv")
a, b = T.cg_mkdir(sc + "/a"), T.cg_mkdir(sc + "/b")
allcpus = T.fmt_list(T.cpus_online())
for g in (a, b):
    T.cg_must(g + "/cpuset.cpus", allcpus)
    T.cg_must(g + "/cpuset.mems", str(N0))
T.cg_must(a + "/cgroup.procs", str(target.pid))
inside, outside = "%d:%d" % (N0, N0), "%d:%d" % (N0, N1)
# (operation, argument, capabilities, expected): the docs' table, row by row
ROWS = [
    ("status", "-", [], "OK"),
    ("numa_maps", "-", [], "EACCES"), ("numa_maps", "-", ["sys_ptrace"], "OK"),
    ("numa_maps", "-", ["dac_override", "dac_read_search"], "EACCES"),
    ("ll_numa_maps", "-", ["sys_ptrace"], "EACCES"), ("ll_migrate", "%d:%d" % (N0, N0), ["sys_ptrace"], "EPERM"),
    ("exe", "-", [], "EACCES"), ("exe", "-", ["sys_ptrace"], "OK"),
    ("migrate", inside, [], "EPERM"), ("migrate", inside, ["sys_nice"], "EPERM"),
    ("migrate", inside, ["sys_ptrace"], "OK"),
    ("migrate", outside, ["sys_ptrace"], "EPERM"), ("migrate", outside, ["sys_ptrace", "sys_nice"], "OK"),
    ("kill", "-", [], "EPERM"), ("kill", "-", ["kill"], "OK"),
    ("procs", b, [], "OK"), ("procs", a, [], "OK"),
    ("cpus", a, [], "OK"), ("mkdir", a, [], "OK"),
    ("mkdir", T.CG, [], "EACCES"), ("mkdir", T.CG, ["dac_override"], "OK"),
    ("lock", RUN + "/measured.lock", [], "OK"),
]
T.log("  measured (uid 0, capabilities as named, target: a process of user nobody):")
for op, arg, caps, want in ROWS:
    got = measure(caps, op, target.pid, arg)
    T.log("    %-10s %-28s %s" % (op, "+".join(caps) or "(none)", got))
    T.eq(got, want, "%s with %s" % (op, "+".join(caps) or "no capability"))
target.kill()
target.wait()

# ---------------------------------------------------------------- 2. the probe in sandboxed runs
pidfile = RUN + "/g1.pid"
q = subprocess.run(as_nobody(["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "16", "-smp", "1", "-nodefaults",
                              "-display", "none", "-daemonize", "-pidfile", pidfile,
                              "-name", "guest=g1,debug-threads=on"]),
                   capture_output=True, text=True, timeout=120)
if q.returncode:
    T.fatal("qemu as nobody: %s" % q.stderr)
QPID = int(open(pidfile).read())
POL = RUN + "/policy.conf"
with open(POL, "w") as f:
    # nobody runs this QEMU: a guest only when the host block says so (trust model)
    f.write('host { parent "%s"; backend cgroupfs; guest-users nobody; }\n'
            "guest g1 {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %d;\n}\n"
            "guest g2 {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %d;\n}\n" % (PARENT, C0, N0, C0, N0))


def targets(kind):
    """Fresh targets; kind "tmp": under /tmp, "run": /run and /etc/shadow."""
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    for x in ("/run/cgp-priv-new", "/run/cgp-priv-dir"):
        shutil.rmtree(x, ignore_errors=True) if os.path.isdir(x) else (os.path.exists(x) and os.unlink(x))
    with open(OUT + "/secret", "w") as f:
        f.write("secret\n")
    os.chmod(OUT + "/secret", 0o600)
    os.chown(OUT + "/secret", NOBODY, NOBODY)
    for v in (OUT + "/victim", "/run/cgp-priv-victim"):
        with open(v, "w") as f:
            f.write("x\n")
    e = {"LD_PRELOAD": SO}
    if kind == "tmp":
        e.update(CGP_PROBE_CREATE=OUT + "/created", CGP_PROBE_MKDIR=OUT + "/dir", CGP_PROBE_READ=OUT + "/secret",
                 CGP_PROBE_UNLINK=OUT + "/victim")
    else:
        e.update(CGP_PROBE_CREATE="/run/cgp-priv-new", CGP_PROBE_MKDIR="/run/cgp-priv-dir",
                 CGP_PROBE_READ="/etc/shadow", CGP_PROBE_UNLINK="/run/cgp-priv-victim")
    return e


def probe_line(err, pid=None):
    for line in reversed(err.splitlines()):
        if line.startswith("cgp-probe: "):
            d = dict(kv.split("=", 1) for kv in line[len("cgp-probe: "):].split())
            if pid is None or d.get("pid") == str(pid):
                return d
    return None


def mask(*caps):
    return "%016x" % sum(1 << c for c in caps)


PTRACE, NICE, KILL, DAC = 19, 23, 5, 1
VERBS = [
    ("nodeinfo", ["nodeinfo"], mask()),
    ("guests", ["guests", "-p", POL], mask()),
    ("plan", ["plan", POL], mask()),
    ("apply", ["apply", POL], mask(PTRACE, NICE, DAC)),
    ("verify", ["verify", POL], mask(PTRACE)),
    # by pid: a name finds only trusted guests, and nobody is one only by the
    # policy's guest-users, which vcpuinfo (no -p) does not read
    ("numatune", ["numatune", str(QPID)], mask(PTRACE)),
    ("vcpuinfo", ["vcpuinfo", str(QPID)], mask()),
]
ATTEMPTS = ("create", "mkdir", "read", "unlink")
LANDLOCKED = ("nodeinfo", "guests", "plan", "vcpuinfo")
for name, args, want_caps in VERBS:
    for kind in ("tmp", "run"):
        rc0, out0, err0 = T.run_cgplace("--no-sandbox", *args, env=targets(kind))
        c = probe_line(err0) or {}
        ok_control = [k for k in ATTEMPTS if c.get(k) == "OK"]
        for k in ATTEMPTS:
            if k not in ok_control:
                T.log("  skip: %s %s: %s fails without the sandbox too (%s): not a probe target here"
                      % (name, kind, k, c.get(k)))
        if name == "apply" and kind == "tmp":
            T.cg_must("cgroup.procs", str(QPID))     # out again: the sandboxed apply must move it
        rc, out, err = T.run_cgplace(*args, env=targets(kind))
        s = probe_line(err)
        if not T.check(s, "%s (%s): the probe reported (%s)" % (name, kind, err[-400:])):
            continue
        T.eq(rc, rc0, "%s (%s): exit status sandboxed as without the sandbox (%s)" % (name, kind, err[-400:]))
        T.check(name in ("apply",) or out == out0, "%s (%s): same output sandboxed" % (name, kind))
        # the seccomp filter, every verb: no file made (O_CREAT) or removed (unlinkat of a file)
        for k in ("create", "unlink"):
            if k in ok_control:
                T.eq(s.get(k), "EPERM", "%s (%s): %s fails sandboxed (seccomp)" % (name, kind, k))
        if name in LANDLOCKED:
            for k in ("mkdir", "read"):
                if k in ok_control:
                    T.eq(s.get(k), "EACCES", "%s (%s): %s fails sandboxed (Landlock)" % (name, kind, k))
        else:   # capabilities only: without CAP_DAC_OVERRIDE, another user's 0600 file is out of reach
            T.log("  %s (%s), no Landlock: %s" % (name, kind, " ".join("%s=%s" % (k, s.get(k)) for k in ATTEMPTS)))
            if kind == "tmp" and not int(want_caps, 16) & (1 << DAC):
                T.eq(s.get("read"), "EACCES", "%s: reading nobody's 0600 file fails sandboxed" % name)
        T.eq((s.get("CapEff"), s.get("CapPrm"), s.get("CapBnd"), s.get("NoNewPrivs"), s.get("Seccomp")),
             (want_caps, want_caps, mask(), "1", "2"), "%s (%s): CapEff/CapPrm/CapBnd/NoNewPrivs/Seccomp" % (name, kind))
        T.check("not permitted" not in err and "cannot be read" not in err and "migrate_pages" not in err,
                "%s (%s): no permission error sandboxed: %s" % (name, kind, err[-600:]))
        if name == "apply" and kind == "tmp":
            T.check(T.task_cgroup(QPID).startswith("/%s/g1" % PARENT) and "changed" in out,
                    "nobody's QEMU placed by the sandboxed apply (%s; %s)" % (T.task_cgroup(QPID), out))
T.eq(T.run_cgplace("verify", POL)[0], 0, "verify (sandboxed) finds nobody's QEMU in place")
# numatune moves nobody's pages (numa_maps before/after, the cpuset, migrate_pages), sandboxed
rc, out, err = T.run_cgplace("numatune", "-p", POL, "g1", "--nodeset", str(N1), env={"LD_PRELOAD": SO})
s = probe_line(err) or {}
T.eq(rc, 0, "numatune --nodeset %d sandboxed on nobody's QEMU (%s)" % (N1, err[-600:]))
T.eq(s.get("CapEff"), mask(PTRACE, NICE, DAC), "numatune change: CapEff")
T.eq(T.task_status(QPID)["Mems_allowed_list"], str(N1), "numatune moved nobody's QEMU to node %d" % N1)

# ---------------------------------------------------------------- 3. exec: the supervisor only
e = targets("tmp")
e.update(CGP_PROBE_CREATE=OUT + "/by-supervisor")
child = ("grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch %s/by-child && echo child-made" % OUT)
ex = subprocess.Popen([T.CGPLACE, "exec", "-p", POL, "g2", "--", "env", "-u", "LD_PRELOAD", "sh", "-c", child],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **e))
out, err = ex.communicate(timeout=300)
T.eq(ex.returncode, 0, "exec ran its command (%s)" % err[-600:])
s = probe_line(err, ex.pid) or {}
T.eq((s.get("CapEff"), s.get("NoNewPrivs"), s.get("Seccomp"), s.get("read"), s.get("create")),
     (mask(PTRACE, NICE, KILL), "1", "2", "EACCES", "EPERM"), "exec's supervisor: restricted (%s)" % s)
mine = T.read("/proc/self/status")
own = [ln.split(":")[1].strip() for ln in mine.splitlines() if ln.startswith("CapEff:")][0]
T.check("CapEff:\t%s" % own in out and "NoNewPrivs:\t0" in out and "Seccomp:\t0" in out
        and "child-made" in out and os.path.exists(OUT + "/by-child"),
        "exec's command keeps the caller's capabilities, no no_new_privs, no filter, may create files: %s" % out)

# ---------------------------------------------------------------- clean up
subprocess.run(["kill", "-9", str(QPID)])
time.sleep(0.5)
for root, dirs, _ in sorted(os.walk("/sys/fs/cgroup/" + PARENT), key=lambda x: -len(x[0])):
    try:
        os.rmdir(root)
    except OSError:
        pass
T.finish()
