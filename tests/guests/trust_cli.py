"""Who counts as a guest, through the CLI on a fake tree (issue 10, problems 1
and 2; docs/SECURITY.md "Who counts as a guest"). Run by tests/guests/golden.py.

Tree A: real guests g1, g2 (root, trusted QEMU) beside impostors: a copy of
a program named qemu-system-x86_64 outside the trusted locations run as
nobody with -name g1, a trusted binary run by a user nobody allowed, a
group-writable binary, a binary owned by nobody (when the test runs as root,
to chown it), a -pidfile naming g4's pidfile (absent) and a pidfile in a
world-writable directory; `match user`; two trusted processes claiming g9.
`plan` must place g1, g2, g6, g7 (their writes are in the plan), report each
impostor once, never name an impostor's pid in a write, and refuse only g9,
naming both pids.

Tree B: QMP only for matched guests, within one deadline: sockets that
accept connections (the kernel's backlog) but never answer. An unmatched
process's socket is never connected to; three matched guests' silent sockets
are asked at once, each connected to once (counted by accepting afterwards),
and cost one deadline, not three: the run ends well within 2 x the deadline
(generous bound, documented: only a gross regression, N deadlines, trips it)."""
import os
import shutil
import subprocess
import sys
import time

import harness as H

PASSWD = "root:x:0:0:root:/root:/bin/sh\nqemu:x:107:107::/:/usr/sbin/nologin\n" \
         "other:x:108:108::/:/usr/sbin/nologin\nnobody:x:65534:65534::/:/usr/sbin/nologin\n"

POLICY_A = """
host { guest-users qemu; }
guest g1 { vcpus 1; cpus 0; memory 64M nodes 0; }
guest g2 { vcpus 1; cpus 1; memory 64M nodes 0; }
guest g3 { vcpus 1; cpus 2; memory 64M nodes 0; }
guest g4 { match pidfile "/run/qemu/g4.pid"; vcpus 1; cpus 2; memory 64M nodes 0; }
guest g5 { match pidfile "/tmp/g5.pid"; vcpus 1; cpus 3; memory 64M nodes 0; }
guest g6 { match pidfile "/run/qemu/g6.pid"; vcpus 1; cpus 3; memory 64M nodes 0; }
guest g7 { match user qemu; match name "q7"; vcpus 1; cpus 2; memory 64M nodes 0; }
guest g8 { vcpus 1; cpus 2; memory 64M nodes 0; }
guest g9 { vcpus 1; cpus 3; memory 64M nodes 0; }
"""


def w(path, data):
    H.write_text(path, data)


def stat_line(pid, comm):
    rest = ["S", "1", str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 10 + ["3", "0", str(pid)] + ["0"] * 10
    return f"{pid} ({comm}) " + " ".join(rest) + "\n"


def proc(root, pid, argv, exe=H.QEMU_EXE, uid=0, exe_mode=0o755, dir_mode=0o755, named=True):
    d = f"{root}/proc/{pid}"
    H.guest_identity(root, pid, exe=exe, uid=uid, exe_mode=exe_mode, dir_mode=dir_mode)
    w(d + "/comm", "qemu-system-x86\n")
    w(d + "/cmdline", "".join(a + "\0" for a in argv))
    w(d + "/stat", stat_line(pid, "qemu-system-x86"))
    w(d + "/cgroup", "0::/\n")
    threads = {pid: "qemu-system-x86"}
    if named:
        threads[pid + 1] = "CPU 0/KVM"
    for tid, comm in threads.items():
        w(f"{d}/task/{tid}/comm", comm + "\n")
        w(f"{d}/task/{tid}/cgroup", "0::/\n")
        w(f"{d}/task/{tid}/status", f"Name:\t{comm}\nTgid:\t{pid}\nPid:\t{tid}\nCpus_allowed_list:\t0-3\n"
          "Mems_allowed_list:\t0\n")


def fixture(work, name):
    shutil.rmtree(f"{work}/{name}", ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                                  "mkfixtures.py"), work, "one-node"],
                   check=True, stdout=subprocess.DEVNULL)
    os.rename(f"{work}/one-node", f"{work}/{name}")
    root = f"{work}/{name}"
    w(root + "/etc/passwd", PASSWD)
    return root


def qemu(name, *more):
    return [H.QEMU_EXE, "-name", f"guest={name},debug-threads=on"] + list(more)


def tree_a(work):
    root = fixture(work, "trust-a")
    proc(root, 2000, qemu("g1"))
    proc(root, 2100, qemu("g2"))
    # problem 1: a copy of any program, named like QEMU, run as nobody
    proc(root, 2200, qemu("g1"), exe="/tmp/qemu-system-x86_64", uid=65534, dir_mode=0o1777)
    proc(root, 2300, qemu("g3"), uid=108)                                  # a user nobody allowed
    proc(root, 2350, qemu("g3"), exe="/usr/local/bin/qemu-system-x86_64", exe_mode=0o775)
    proc(root, 2400, qemu("x4", "-pidfile", "/run/qemu/g4.pid"), uid=65534,
         exe="/tmp/qemu-system-x86_64", dir_mode=0o1777)                   # the -pidfile string alone
    proc(root, 2450, qemu("x4b", "-pidfile", "/run/qemu/g4.pid"))          # trusted, yet no such pidfile
    proc(root, 2500, qemu("x5"))
    w(root + "/tmp/g5.pid", "2500\n")                                      # in a world-writable directory
    os.chmod(root + "/tmp", 0o1777)
    proc(root, 2600, qemu("x6"))
    w(root + "/run/qemu/g6.pid", "2600\n")
    os.chmod(root + "/run/qemu", 0o755)
    os.chmod(root + "/run/qemu/g6.pid", 0o644)
    proc(root, 2800, qemu("q7"), uid=107)                                  # match user qemu
    proc(root, 3000, qemu("g9"))
    proc(root, 3100, qemu("g9"))
    if os.geteuid() == 0:                                                  # an executable root does not own
        proc(root, 2900, qemu("g8"), exe="/usr/libexec/qemu-kvm")
        os.chown(root + "/usr/libexec/qemu-kvm", 65534, 65534)
    w(work + "/trust-a.conf", POLICY_A)
    return root


def check_a(layer, cli, work):
    root = tree_a(work)
    cg = H.fake_cgroup_root(work + "/trust-a-cg", "0-3", "0")
    env = {"CGPLACE_LOCK": work + "/trust.lock"}
    r = cli.run("--cgroup-root", cg, "plan", work + "/trust-a.conf", sysroot=root, env=env)
    out, err = r.out, r.err
    both = out + err
    layer.check("trust plan: runs (exit 0 or 1, no usage error)", r.rc in (0, 1), f"rc {r.rc}\n{both}")

    def writes_for(pid):
        return [l for l in out.splitlines() if str(pid) in l and ("procs" in l or "threads" in l)]

    for pid, g in ((2000, "g1"), (2100, "g2"), (2600, "g6"), (2800, "g7")):
        layer.check(f"trust plan: {g} (pid {pid}) placed: its writes are planned", bool(writes_for(pid)), both)
    for pid in (2200, 2300, 2350, 2400, 2450, 2500, 3000, 3100, 2900):
        layer.check(f"trust plan: pid {pid} never moved", not writes_for(pid), both)
    reports = {
        2200: "its executable /tmp/qemu-system-x86_64 is not a trusted QEMU binary",
        2300: "runs as uid 108, neither root nor one of the guest-users",
        2350: "/usr/local/bin/qemu-system-x86_64 is writable by group or others",
        2400: "is not a trusted QEMU binary",
    }
    if os.geteuid() == 0:
        reports[2900] = "its executable /usr/libexec/qemu-kvm is not owned by root"
    else:
        layer.skip("trust plan: executable not owned by root", "needs root to chown the fixture's executable")
    for pid, why in reports.items():
        lines = [l for l in both.splitlines() if f"process {pid} " in l and "is not a guest" in l]
        layer.check(f"trust plan: pid {pid} reported once as no guest", len(lines) == 1 and why in lines[0],
                    f"want one line with {why!r}\n{both}")
    layer.check("trust plan: the -pidfile string alone matches nothing (g4 not running)",
                "guest 'g4' is not running" in both or "g4" not in out, both)
    layer.check("trust plan: a pidfile in a world-writable directory matches nothing (g5 not running)",
                not writes_for(2500), both)
    layer.check("trust plan: g9 refused alone, both pids named",
                "guest 'g9' matches two processes, 3000 and 3100" in both, both)
    r = cli.run("--cgroup-root", cg, "--json", "plan", work + "/trust-a.conf", sysroot=root, env=env)
    layer.check("trust plan --json: the reports are in the document", "is not a guest" in r.out, r.out + r.err)
    # the runtime commands name a guest among guests only: the impostor 2200
    # called g1 neither answers nor makes g1 ambiguous; a pid is the operator's
    r = cli.run("vcpuinfo", "g1", sysroot=root)
    layer.check("trust vcpuinfo g1: the real g1, not ambiguous with the impostor", r.rc == 0, r.out + r.err)
    r = cli.run("vcpuinfo", "g9", sysroot=root)
    layer.check("trust vcpuinfo g9: two trusted processes are still ambiguous",
                r.rc == 2 and "several QEMU processes are named 'g9'" in r.err, r.err)
    r = cli.run("vcpuinfo", "2200", sysroot=root)
    layer.check("trust vcpuinfo PID: a pid names any QEMU process", r.rc == 0, r.out + r.err)
    # guests without a policy: the default trust (root and libvirt-qemu/qemu users)
    r = cli.run("guests", sysroot=root)
    row = [l for l in r.out.splitlines() if l.split()[1:2] == ["2200"]]
    layer.check("trust guests: the impostor is listed as no guest", bool(row) and "untrusted" in row[0],
                r.out + r.err)


def check_b(layer, cli, work):
    root = fixture(work, "trust-b")
    deadline = 2.0
    socks = {}
    for pid, name in ((4000, "m1"), (4100, "m2"), (4200, "m3"), (4300, "stranger")):
        path = f"/run/q/{name}.qmp"
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        socks[name] = H.silent_unix_socket(root + path)
        proc(root, pid, [H.QEMU_EXE, "-name", name, "-qmp", f"unix:{path},server=on,wait=off"], named=False)
    # an impostor with a QMP socket: never asked either
    socks["impostor"] = H.silent_unix_socket(root + "/run/q/impostor.qmp")
    proc(root, 4400, [H.QEMU_EXE, "-name", "m1", "-qmp", "unix:/run/q/impostor.qmp,server=on,wait=off"],
         exe="/tmp/qemu-system-x86_64", uid=65534, named=False)
    pol = work + "/trust-b.conf"
    w(pol, "host { qmp-timeout 2s; }\n" + "".join(
        f"guest {g} {{ vcpus 1; cpus {i}; memory 64M nodes 0; }}\n" for i, g in enumerate(("m1", "m2", "m3"))))
    cg = H.fake_cgroup_root(work + "/trust-b-cg", "0-3", "0")
    t0 = time.monotonic()
    r = cli.run("--cgroup-root", cg, "plan", pol, sysroot=root, env={"CGPLACE_LOCK": work + "/trust.lock"})
    took = time.monotonic() - t0
    layer.check("qmp: plan runs", r.rc in (0, 1), r.out + r.err)
    n = {k: H.accepted(s) for k, s in socks.items()}
    layer.check("qmp: the unmatched process's socket is never connected to", n["stranger"] == 0, str(n))
    layer.check("qmp: the impostor's socket is never connected to", n["impostor"] == 0, str(n))
    layer.check("qmp: the three silent matched sockets are each asked once, at once",
                n["m1"] == n["m2"] == n["m3"] == 1, str(n))
    layer.check("qmp: the run ends within 2 x the deadline (not 3 deadlines)", took < 2 * deadline,
                f"{took:.1f} s")
    for s in socks.values():
        s.close()


def run(layer, binary, work):
    cli = H.Cli(binary, "--no-sandbox")
    check_a(layer, cli, work)
    check_b(layer, cli, work)
