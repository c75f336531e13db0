# vm-topos: asym
"""cgplace exec on a real kernel: QEMU started inside its guest's placement, with the
memory policy of the mode set before its first page (-mem-prealloc touches every page at
start, so numa_maps shows where the first allocation went):

- strict on the memory-only node: >= 99% of the guest RAM's pages there, the vCPU threads
  then moved by exec's supervisor into their own groups with their pins;
- interleave over two nodes: the guest RAM's pages on both within 10% of even;
- preferred on one node: numa_maps shows the policy (prefer:N);
- CMD's exit status passed through, SIGTERM passed on to QEMU, the supervisor sandboxed
  (Seccomp: 2);
- errors (unknown guest, invalid policy, no "--") exit 2 and create nothing.
Every effect is read from /proc and the cgroup files, never from cgplace's report.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402

RUN = "/run/cgp-exec"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
T.need_cgplace()
fmt = T.fmt_list
online = T.nodes_online()
memonly = [n for n in online if T.node_kind(n) == "memory-only"]
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
cpus = T.cpus_online()
if len(cpus) < 2 or not memonly or len(withmem) < 1:
    T.skip("needs 2 CPUs, a memory-only node and a node with CPUs and memory")
MO = memonly[0]
N0 = withmem[0]


def policy(name, body):
    path = "%s/%s.conf" % (RUN, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def qemu(name, mib, smp=2):
    return ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-S", "-m", str(mib), "-smp", str(smp),
            "-nodefaults", "-display", "none", "-mem-prealloc", "-name", "guest=%s,debug-threads=on" % name]


def start(pol, name, cmd):
    sup = subprocess.Popen([T.CGPLACE, "exec", "-p", pol, name, "--"] + cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    for _ in range(1200):
        kids = T.read("/proc/%d/task/%d/children" % (sup.pid, sup.pid), "").split()
        if kids and T.read("/proc/%s/comm" % kids[0], "").startswith("qemu"):
            return sup, int(kids[0])
        if sup.poll() is not None:
            T.fatal("exec %s exited %d: %s" % (name, sup.returncode, sup.stderr.read()))
        time.sleep(0.05)
    T.fatal("exec %s: no QEMU child after 60 s" % name)


def stop(sup, qpid):
    os.kill(sup.pid, signal.SIGTERM)      # passed on to QEMU
    try:
        sup.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(qpid, signal.SIGKILL)
        T.fatal("exec: the supervisor did not exit after SIGTERM")
    T.check(not os.path.exists("/proc/%d" % qpid) or T.read("/proc/%d/stat" % qpid, "").split()[2:3] == ["Z"],
            "SIGTERM to exec's supervisor reached QEMU (pid %d gone)" % qpid)
    return sup.returncode


def ram_pages(pid, mib):
    """Per-node pages of the guest RAM mapping (the anonymous mapping of at least mib MiB)
    and its policy word."""
    best = None
    for line in open("/proc/%d/numa_maps" % pid):
        if " anon=" not in line or " file=" in line:
            continue
        nodes = {int(k): int(v) for k, v in re.findall(r" N(\d+)=(\d+)", line)}
        if sum(nodes.values()) * 4 >= mib * 1024 * 0.9 and (best is None or sum(nodes.values()) > sum(best[0].values())):
            best = (nodes, line.split()[1])
    return best or ({}, "")


def wait_ram(sup, qpid, mib, done, what):
    """Until done(pages, policy word) holds for the guest RAM mapping.  QEMU inside a TCG VM
    on a loaded machine can take tens of seconds from exec to the end of -mem-prealloc, so
    the wait is long; a QEMU that died ends it at once with its stderr."""
    for _ in range(1200):
        if sup.poll() is not None or T.read("/proc/%d/stat" % qpid, "").split()[2:3] in ([], ["Z"]):
            try:
                sup.wait(timeout=60)     # it reaps QEMU and exits with its status
            except subprocess.TimeoutExpired:
                sup.kill()
                sup.wait()
            T.fatal("%s: QEMU %d exited before its RAM was placed (exec's exit status %s): %s"
                    % (what, qpid, sup.returncode, sup.stderr.read()))
        pages, pol_word = ram_pages(qpid, mib)
        if done(pages, pol_word):
            break
        time.sleep(0.1)
    return pages, pol_word


def wait_split(qpid, want_vcpus):
    """Until every vCPU thread is in its own group (the supervisor's second placement)."""
    for _ in range(600):
        cgs = {c: T.task_cgroup(qpid, t) for t, c in T.task_comms(qpid).items() if c.startswith("CPU ")}
        if len(cgs) == want_vcpus and all(re.search(r"/vcpu\d+$", p or "") for p in cgs.values()):
            return cgs
        time.sleep(0.1)
    T.fatal("exec: vCPU threads never got their own groups: %s" % cgs)


# ---------------------------------------------------------------- strict on the memory-only node
c0, c1 = cpus[0], cpus[1]
pol = policy("strict", "guest gs {\n  vcpus 2;\n  cpus %s;\n  memory 24M nodes %d mode strict;\n"
                       "  vcpupin 0 %d;\n  vcpupin 1 %d;\n}\n" % (fmt([c0, c1]), MO, c0, c1))
sup, qpid = start(pol, "gs", qemu("gs", 24))
cgs = wait_split(qpid, 2)
T.eq(T.task_cgroup(qpid), "/cgplace/gs/emulator", "exec strict: QEMU main thread in the guest emulator group")
for t, c in T.task_comms(qpid).items():
    st = T.task_status(qpid, t)
    T.eq(st["Mems_allowed_list"], str(MO), "exec strict: thread %s (%s) Mems_allowed_list" % (t, c))
    m = re.match(r"CPU (\d+)/", c)
    if m:
        T.eq(st["Cpus_allowed_list"], str([c0, c1][int(m.group(1))]), "exec strict: %s pinned by the supervisor" % c)
pages, pol_word = wait_ram(sup, qpid, 24, lambda p, w: sum(p.values()) * 4 >= 24 * 1024 * 0.9, "exec strict")
total = sum(pages.values())
T.check(total > 0 and pages.get(MO, 0) >= 0.99 * total,
        "exec strict: >= 99%% of the guest RAM on memory-only node %d (%s, policy %s)" % (MO, pages, pol_word))
T.check(pol_word.startswith("bind:"), "exec strict: numa_maps policy is bind (%s)" % pol_word)
T.check(re.search(r"^Seccomp:\s+2$", T.read("/proc/%d/status" % sup.pid, ""), re.M),
        "exec's supervisor runs under the seccomp filter")
stop(sup, qpid)

# ---------------------------------------------------------------- interleave over two nodes
pol = policy("inter", "guest gi {\n  vcpus 1;\n  cpus %d;\n  memory 32M nodes %s mode interleave;\n}\n"
                      % (c0, fmt(sorted({N0, MO}))))
sup, qpid = start(pol, "gi", qemu("gi", 32, smp=1))
pages, pol_word = wait_ram(sup, qpid, 32, lambda p, w: sum(p.values()) * 4 >= 32 * 1024 * 0.9, "exec interleave")
a, b = pages.get(N0, 0), pages.get(MO, 0)
T.check(pol_word.startswith("interleave:"), "exec interleave: numa_maps policy is interleave (%s)" % pol_word)
T.check(a > 0 and b > 0 and abs(a - b) <= 0.10 * (a + b) / 2,
        "exec interleave: pages on nodes %d and %d within 10%% of even (%d, %d)" % (N0, MO, a, b))
stop(sup, qpid)

# ---------------------------------------------------------------- preferred
pol = policy("pref", "guest gp {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %d mode preferred;\n}\n" % (c0, N0))
sup, qpid = start(pol, "gp", qemu("gp", 16, smp=1))
pages, pol_word = wait_ram(sup, qpid, 16, lambda p, w: w, "exec preferred")
T.eq(pol_word, "prefer:%d" % N0, "exec preferred: numa_maps shows the policy")
stop(sup, qpid)

# preferred over two nodes: MPOL_PREFERRED_MANY (Linux >= 5.15), "prefer (many):A,B" in numa_maps
pol = policy("prefmany", "guest gm {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %s mode preferred;\n}\n"
                         % (c0, fmt(sorted({N0, MO}))))
sup, qpid = start(pol, "gm", qemu("gm", 16, smp=1))
want = "prefer (many):%s" % fmt(sorted({N0, MO}))
wait_ram(sup, qpid, 16, lambda p, w: want in T.read("/proc/%d/numa_maps" % qpid, ""), "exec preferred many")
T.check(want in open("/proc/%d/numa_maps" % qpid).read(), "exec preferred over two nodes: numa_maps shows %r" % want)
stop(sup, qpid)

# ---------------------------------------------------------------- exit status, errors
pol = policy("sh", "guest gx {\n  vcpus 1;\n  cpus %d;\n  memory 16M nodes %d;\n}\n" % (c0, N0))
rc, out, err = T.run_cgplace("exec", "-p", pol, "gx", "--", "sh", "-c", "grep -q /cgplace/gx /proc/self/cgroup && exit 7")
T.eq(rc, 7, "exec: CMD's exit status passed through, CMD ran in the guest's cgroup (%s)" % err.strip())
rc, out, err = T.run_cgplace("exec", "-p", pol, "gx", "--", "/nonexistent/qemu")
T.check(rc == 127 and "/nonexistent/qemu" in err, "exec: a CMD that does not exist: exit 127 (%d: %s)" % (rc, err))
bad = policy("bad", "guest gb { vcpus 1; cpus 999; }\n")
for args, msg in [(("-p", pol, "nosuch", "--", "true"), "no guest 'nosuch'"),
                  (("-p", bad, "gb", "--", "true"), ""),
                  (("-p", pol, "gx", "true"), "--")]:
    before = sorted(os.listdir(T.CG + "/cgplace")) if os.path.isdir(T.CG + "/cgplace") else []
    rc, out, err = T.run_cgplace("exec", *args)
    T.check(rc == 2 and msg in err, "exec %s: exit 2 saying %r (%d: %s)" % (" ".join(args), msg, rc, err.strip()))
    after = sorted(os.listdir(T.CG + "/cgplace")) if os.path.isdir(T.CG + "/cgplace") else []
    T.eq(after, before, "exec %s: no cgroup created" % " ".join(args))
T.finish()
