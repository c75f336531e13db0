# vm-topos: asym
"""Runtime tuning on a real kernel: vcpuinfo, vcpupin, emulatorpin, iothreadpin and
numatune on a nested 32 MiB QEMU guest (-name guest=rhel5xen,debug-threads=on, an I/O
thread io1, -mem-prealloc) that nothing placed before, through the cgroupfs backend. 32 MiB
because the asym VM's memory-only node has about 75 MiB free: a 64 MiB guest and QEMU's
own heap do not fit there (migrate_pages says ENOMEM for the rest).

Every effect is read from /proc/PID/task/*/status, /proc/PID/task/*/cgroup, the cgroup
files and numa_maps, never from cgplace's own report: the walkthrough's four pins and
vcpuinfo's maps afterwards, the emulator and I/O thread pins, numatune onto the
memory-only node (>= 99% of the guest's anonymous pages there), every error case
exiting 2 with the cgroup tree and every thread's affinity unchanged, and a
runtime change without --persist reported as drift by verify (exit 3) while the
policy it was persisted into verifies clean (exit 0).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-rt"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
cg = T.run_cgplace
fmt = T.fmt_list
online = T.nodes_online()
memonly = [n for n in online if T.node_kind(n) == "memory-only"]
cpuonly = [n for n in online if T.node_kind(n) == "cpu-only"]
cpus = T.cpus_online()
possible = T.parse_list(T.read(T.CPU + "/possible"))
if len(cpus) < 4 or not memonly:
    T.skip("needs 4 CPUs and a memory-only node")
QEMUS = []


def start_qemu(name, named=True, extra=()):
    pidfile = "%s/%s.pid" % (RUN, name)
    argv = ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-S", "-m", "32", "-smp", "4", "-nodefaults",
            "-display", "none", "-daemonize", "-pidfile", pidfile, "-mem-prealloc",
            "-name", ("guest=%s,debug-threads=on" % name) if named else name] + list(extra)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode:
        T.fatal("qemu %s: %s" % (name, p.stderr))
    pid = int(open(pidfile).read())
    QEMUS.append(pid)
    for _ in range(600):   # the vCPU threads come after exec
        if not named or sum(c.startswith("CPU ") for c in threads(pid).values()) == 4:
            break
        time.sleep(0.05)
    return pid


threads = T.task_comms


def tid_of(pid, comm):
    return [t for t, c in threads(pid).items() if c == comm][0]


def allowed(pid, tid):
    return T.task_status(pid, tid)["Cpus_allowed_list"]


def world():
    """Everything an error case must leave alone: the cgroup tree cgplace manages and
    the affinity and cgroup of every thread of every guest."""
    tree = []
    for d, dirs, files in os.walk(T.CG + "/cgplace"):
        for f in ("cgroup.type", "cpuset.cpus", "cpuset.mems", "cgroup.threads", "cgroup.procs"):
            if f in files:
                tree.append((d, f, T.read(os.path.join(d, f), "")))
    for pid in QEMUS:
        for tid in threads(pid):
            st = T.task_status(pid, tid)
            tree.append((pid, tid, st["Cpus_allowed_list"], st["Mems_allowed_list"], T.task_cgroup(pid, tid)))
    return sorted(map(str, tree))


def anon_pages(pid):
    pages = {}
    for line in open("/proc/%d/numa_maps" % pid):
        if " anon=" not in line or " file=" in line:
            continue
        for k, v in re.findall(r" N(\d+)=(\d+)", line):
            pages[int(k)] = pages.get(int(k), 0) + int(v)
    return pages


def amap(cpuset):
    return "".join("y" if c in cpuset else "-" for c in range(max(possible) + 1))


PID = start_qemu("rhel5xen", extra=("-object", "iothread,id=io1"))
ANON = start_qemu("anon", named=False)
VCPU = {v: tid_of(PID, "CPU %d/TCG" % v) for v in range(4)}
IO = tid_of(PID, "IO io1")

# ---------------------------------------------------------------- vcpuinfo before
rc, out, err = cg("vcpuinfo", "rhel5xen")
blocks = [b for b in out.split("\n\n") if b.strip()]
T.check(rc == 0 and len(blocks) == 4, "vcpuinfo: 4 blocks (rc %d): %s%s" % (rc, out, err))
for v, b in enumerate(blocks):
    f = dict(l.split(":", 1) for l in b.splitlines())
    T.eq(int(f["VCPU"]), v, "vcpuinfo block %d: VCPU" % v)
    T.check(f["CPU"].strip().isdigit() and int(f["CPU"]) in cpus, "vcpuinfo vCPU %d: CPU %r is online" % (v, f["CPU"]))
    T.check(re.fullmatch(r"\d+\.\ds", f["CPU time"].strip()), "vcpuinfo vCPU %d: CPU time %r" % (v, f["CPU time"]))
    T.eq(f["CPU Affinity"].strip(), amap(T.parse_list(allowed(PID, VCPU[v]))),
         "vcpuinfo vCPU %d: the map is the thread's Cpus_allowed_list over the possible CPUs" % v)
rc, out, err = cg("vcpuinfo", str(PID), "--all")
T.check(rc == 0 and "IOThread:       io1 (%d)" % IO in out and "Emulator:       %d" % PID in out,
        "vcpuinfo --all by pid: emulator and I/O thread blocks: %s%s" % (out, err))

# ---------------------------------------------------------------- errors change nothing
T.check(cg("vcpupin", "rhel5xen", "0", fmt(cpus[:1]))[0] == 0, "a first pin creates the guest's groups")
with open(T.CPU + "/cpu%d/online" % cpus[-1], "w") as f:
    f.write("0")
policy = RUN + "/reserve.conf"
with open(policy, "w") as f:
    f.write("host { reserve cpus %d; }\n" % cpus[0])
errors = [
    (("vcpupin", "nosuch", "0", "1"), "no running QEMU guest 'nosuch'"),
    (("vcpupin", "rhel5xen", "4", "1"), "vCPU 4 out of range"),
    (("vcpupin", "rhel5xen", "0", "1,%d" % (max(possible) + 7)), "not present"),
    (("vcpupin", "rhel5xen", "0", str(cpus[-1])), "offline"),
    (("vcpupin", "-p", policy, "rhel5xen", "0", str(cpus[0])), "reserved"),
    (("emulatorpin", "rhel5xen", "0-x"), "invalid list '0-x'"),
    (("iothreadpin", "rhel5xen", "io7", "1"), "no I/O thread 'io7'"),
    (("vcpupin", "anon", "0", "1"), "debug-threads=on"),
] + [(("numatune", "rhel5xen", "--nodeset", str(n)), "has no memory") for n in cpuonly]
before = world()
for args, msg in errors:
    rc, out, err = cg(*args)
    T.check(rc == 2 and msg in err and not out, "cgplace %s: exit 2 saying %r (rc %d: %s)"
            % (" ".join(args), msg, rc, err.strip()))
    T.check(world() == before, "cgplace %s: cgroup tree and threads unchanged" % " ".join(args))
with open(T.CPU + "/cpu%d/online" % cpus[-1], "w") as f:
    f.write("1")

# ---------------------------------------------------------------- the walkthrough's pins
pins = {v: cpus[v % len(cpus)] for v in range(4)}
for v, c in pins.items():
    rc, out, err = cg("vcpupin", "rhel5xen", str(v), str(c))
    T.check(rc == 0 and not out, "vcpupin rhel5xen %d %d: exit 0, silent (rc %d: %s)" % (v, c, rc, err))
    T.eq(allowed(PID, VCPU[v]), str(c), "vcpupin %d %d: the thread's Cpus_allowed_list" % (v, c))
    T.eq(T.task_cgroup(PID, VCPU[v]), "/cgplace/rhel5xen/vcpu%d" % v, "vcpupin %d: the thread's cgroup" % v)
T.eq(T.parse_list(T.cg_read("cgplace/rhel5xen/cpuset.cpus.effective")),
     sorted(set(pins.values()) | set(T.parse_list(allowed(PID, PID)))), "the guest's group: the union of its threads")
rc, out, err = cg("vcpuinfo", "rhel5xen")
maps = re.findall(r"CPU Affinity:\s+(\S+)", out)
T.eq(maps, [amap([pins[v]]) for v in range(4)], "vcpuinfo after the 4 pins: one y per vCPU")
rc, out, err = cg("vcpupin", "rhel5xen")
T.eq(out.splitlines()[2:], [" %-6d %d" % (v, pins[v]) for v in range(4)], "vcpupin rhel5xen: the table")

rc, out, err = cg("emulatorpin", "rhel5xen", fmt(cpus[1:3]))
T.check(rc == 0, "emulatorpin: exit 0 (%s)" % err)
emu = [t for t, c in threads(PID).items() if not c.startswith(("CPU ", "IO "))]
T.check(all(allowed(PID, t) == fmt(cpus[1:3]) for t in emu), "emulatorpin: every emulator thread on %s: %s"
        % (fmt(cpus[1:3]), {t: allowed(PID, t) for t in emu}))
rc, out, err = cg("iothreadpin", "rhel5xen", "io1", str(cpus[3]))
T.check(rc == 0 and allowed(PID, IO) == str(cpus[3]), "iothreadpin io1: the thread on CPU %d (rc %d, %s): %s"
        % (cpus[3], rc, err, allowed(PID, IO)))
T.eq(allowed(PID, VCPU[0]), str(pins[0]), "the other pins stay")

# ---------------------------------------------------------------- numatune onto the memory-only node
subprocess.run(["sync"])
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("3")
X = memonly[0]
rc, out, err = cg("numatune", "rhel5xen", "--nodeset", str(X))
T.log("  numatune: " + " | ".join(out.splitlines()))
pages = anon_pages(PID)
total = sum(pages.values())
T.check(rc == 0 and total and pages.get(X, 0) >= 0.99 * total,
        "numatune --nodeset %d: >= 99%% of %d anonymous pages there (rc %d %s): %s" % (X, total, rc, err, pages))
T.check(all(T.task_status(PID, t)["Mems_allowed_list"] == str(X) for t in threads(PID)),
        "numatune: every thread's Mems_allowed_list is %d" % X)
T.check(re.search(r"moved in \d+\.\d+ s", out), "numatune prints the time it took")

# ---------------------------------------------------------------- verify, --persist
POL = RUN + "/policy.conf"
with open(POL, "w") as f:
    f.write("# the walkthrough\nguest rhel5xen {\n    vcpus 4;\n    cpus %s;\n    memory 32M nodes %d;\n"
            % (fmt(cpus[:4]), X))
    for v in range(4):
        f.write("    vcpupin %d %d;   # pinned\n" % (v, pins[v]))
    f.write("    emulatorpin %s;\n    iothreadpin io1 %d;\n}\n" % (fmt(cpus[1:3]), cpus[3]))
rc, out, err = cg("apply", POL)
T.check(rc == 0, "apply of the same placement: exit 0 (%s%s)" % (out, err))
rc, out, err = cg("verify", POL)
T.check(rc == 0, "verify: exit 0 (%s%s)" % (out[-600:], err))
rc, out, err = cg("vcpupin", "-p", POL, "rhel5xen", "2", str(pins[3]))
T.check(rc == 0 and allowed(PID, VCPU[2]) == str(pins[3]), "vcpupin -p: exit 0, applied (%s)" % err)
rc, out, err = cg("verify", POL)
T.check(rc == 3, "verify after a change without --persist: drift, exit 3 (rc %d)" % rc)
rc, out, err = cg("vcpupin", "-p", POL, "--persist", "rhel5xen", "2", str(pins[3]))
text = open(POL).read()
T.check(rc == 0 and "vcpupin 2 %d;   # pinned" % pins[3] in text and text.startswith("# the walkthrough\n"),
        "vcpupin --persist: the policy line rewritten, comments kept (rc %d %s):\n%s" % (rc, err, text))
rc, out, err = cg("verify", POL)
T.check(rc == 0, "verify after --persist: exit 0 (rc %d %s)" % (rc, out[-600:]))

for pid in QEMUS:
    os.kill(pid, 9)
time.sleep(0.5)
for d, dirs, files in sorted(os.walk(T.CG + "/cgplace"), key=lambda x: -len(x[0])):
    try:
        os.rmdir(d)
    except OSError:
        pass
T.finish()
