#!/usr/bin/env python3
"""golden.py [--criterion-args ARGS] CGPLACE WORKDIR RESULTS [CRITERION_BIN...]
-- `cgplace guests` over a fixture sysroot (the guests layer).

Builds the one-node fixture (tests/fixtures/mkfixtures.py; CPUs 0-3, node 0),
adds fake QEMU processes under proc/ and a policy, runs `cgplace guests`
(text and --json, with and without -p) and compares with the expectations
written next to each fake process below (derived from the process's command
line, threads, cgroup and the allowed sets given to its threads versus the
policy's sets). Then every CRITERION_BIN (tests/guests/test_*.c) runs,
counted through --tap with ARGS added. Running cgplace, the FAIL blocks and the
counts are tests/golden/harness.py's; writes "PASSED FAILED SKIPPED" to
RESULTS. tests/sandbox/cli.py runs it (no CRITERION_BIN) through a wrapper
that drops --no-sandbox."""
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import harness as H  # noqa: E402

(BIN, WORK, RESULTS), CRITERION_BINS, CRITERION_ARGS = H.split_argv(sys.argv[1:], 3)
QEMU = "/usr/bin/qemu-system-x86_64"

POLICY = """
guest web1 {            # named threads, everything where it should be
    vcpus 2; cpus 0-1; memory 64M nodes 0;
    vcpupin 0 0; vcpupin 1 1; emulatorpin 0-1; iothreadpin io1 1; iothreadpin 7 0;
}
guest web2 {            # named threads, vCPU 1 on the wrong CPU
    vcpus 2; cpus 2-3; memory 64M nodes 0;
    vcpupin 0 2; vcpupin 1 3; emulatorpin 2-3;
}
guest db {              # no thread names: whole-guest placement 2-3
    vcpus 2; cpus 2-3; memory 64M nodes 0;
}
guest byuuid { match uuid "abcd-1300"; vcpus 1; cpus 2; memory 64M nodes 0; }
guest cx { match name "both"; vcpus 1; cpus 3; memory 64M nodes 0; }
guest cy { match uuid "u-both"; vcpus 1; cpus 3; memory 64M nodes 0; }
guest lv { vcpus 1; cpus 3; memory 64M nodes 0; }
"""

# pid: argv, cgroup, threads {tid: (comm, cpus, mems)}, expected row
# (name, vcpus, iothreads, source, cgroup, policy, compliant) with -p.
LV_CG = "/machine.slice/machine-qemu\\x2d1\\x2dlv.scope/libvirt/emulator"
PROCS = {
    1000: dict(argv=[QEMU, "-name", "guest=web1,debug-threads=on", "-S"], cgroup="/cgplace/web1",
               threads={1000: ("qemu-system-x86", "0-1", "0"), 1001: ("CPU 0/KVM", "0", "0"),
                        1002: ("CPU 1/KVM", "1", "0"), 1003: ("IO io1", "1", "0"),
                        1004: ("worker", "0-1", "0"), 1005: ("IO iothread7", "0", "0")},
               # every thread's sets equal the policy's for its role (iothread7 is
               # libvirt's name of the policy's I/O thread 7: CPU 0, not the emulator's 0-1)
               want=("web1", "2", "2", "names", "/cgplace/web1", "web1", "yes")),
    1100: dict(argv=[QEMU, "-name", "web2,debug-threads=on"], cgroup="/cgplace/web2",
               threads={1100: ("qemu-system-x86", "2-3", "0"), 1101: ("CPU 0/KVM", "2", "0"),
                        1102: ("CPU 1/KVM", "2", "0")},
               # vCPU 1 runs on 2, the policy pins it to 3
               want=("web2", "2", "0", "names", "/cgplace/web2", "web2", "no")),
    1200: dict(argv=[QEMU, "-name", "db"], cgroup="/",
               threads={1200: ("qemu-system-x86", "0-3", "0"), 1201: ("qemu-system-x86", "0-3", "0")},
               # whole-guest placement wants 2-3, the threads may use 0-3
               want=("db", "?", "?", "unknown", "/", "db", "no")),
    1300: dict(argv=[QEMU, "-uuid", "ABCD-1300"], cgroup="/cgplace/byuuid",
               threads={1300: ("qemu-system-x86", "2", "0")},
               # no name; the uuid matches case-insensitively; 2 / 0 as the policy says
               want=("-", "?", "?", "unknown", "/cgplace/byuuid", "byuuid", "yes")),
    1400: dict(argv=[QEMU, "-name", "both", "-uuid", "u-both"], cgroup="/",
               threads={1400: ("qemu-system-x86", "0-3", "0")},
               want=("both", "?", "?", "unknown", "/", "conflict:cx,cy", "-")),
    1500: dict(argv=[QEMU, "-name", "lv"], cgroup=LV_CG,
               threads={1500: ("qemu-system-x86", "3", "0")},
               # libvirt's: matched and checked like any other (libvirt places it)
               want=("lv", "?", "?", "unknown", LV_CG, "lv", "yes")),
    1600: dict(argv=[QEMU, "-name", "stray"], cgroup="/",
               threads={1600: ("qemu-system-x86", "0-3", "0")},
               want=("stray", "?", "?", "unknown", "/", "-", "-")),
}
NOT_QEMU = {1700: ("/usr/bin/bash", "bash", ["bash", "-c", "qemu-system-x86_64 -name x"])}

LAYER = H.Layer("guests", RESULTS)
CLI = H.Cli(BIN, "--no-sandbox")


def check(what, ok, detail=""):
    LAYER.check(what, bool(ok), detail)


def w(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def stat_line(pid, comm, start):
    rest = ["S", "1", str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 10 + ["3", "0", str(start)] + ["0"] * 10
    return f"{pid} ({comm}) " + " ".join(rest) + "\n"


def build():
    shutil.rmtree(WORK + "/one-node", ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "mkfixtures.py"), WORK, "one-node"],
                   check=True, stdout=subprocess.DEVNULL)
    root = WORK + "/one-node"
    for pid, p in PROCS.items():
        d = f"{root}/proc/{pid}"
        os.makedirs(d, exist_ok=True)
        H.guest_identity(root, pid)
        w(d + "/comm", "qemu-system-x86\n")
        w(d + "/cmdline", "".join(a + "\0" for a in p["argv"]))
        w(d + "/stat", stat_line(pid, "qemu-system-x86", 1000 + pid))
        w(d + "/cgroup", f"0::{p['cgroup']}\n")
        for tid, (comm, cpus, mems) in p["threads"].items():
            w(f"{d}/task/{tid}/comm", comm + "\n")
            w(f"{d}/task/{tid}/status",
              f"Name:\t{comm}\nTgid:\t{pid}\nPid:\t{tid}\nCpus_allowed_list:\t{cpus}\nMems_allowed_list:\t{mems}\n")
    for pid, (exe, comm, argv) in NOT_QEMU.items():
        d = f"{root}/proc/{pid}"
        os.makedirs(d + f"/task/{pid}", exist_ok=True)
        os.symlink(exe, d + "/exe")
        w(d + "/comm", comm + "\n")
        w(f"{d}/task/{pid}/comm", comm + "\n")
        w(d + "/cmdline", "".join(a + "\0" for a in argv))
        w(d + "/stat", stat_line(pid, comm, 5))
        w(d + "/cgroup", "0::/\n")
    w(WORK + "/policy.conf", POLICY)
    return root


def run(*args, sysroot=None):
    r = CLI.run(*args, sysroot=sysroot or ROOT)
    return r.rc, r.out, r.err


ROOT = build()
HEAD = ["NAME", "PID", "VCPUS", "IOTHREADS", "THREADS", "CGROUP", "OWNER", "BACKEND", "POLICY", "COMPLIANT"]
# who owns each process's place (its cgroup), and the backend that places it
# on a fixture tree (never systemd's: the tree is not the host's)
OWNER = {1000: "cgplace", 1100: "cgplace", 1200: "other", 1300: "cgplace", 1400: "other", 1500: "libvirt",
         1600: "other"}

for with_policy in (False, True):
    args = ["guests"] + (["-p", WORK + "/policy.conf"] if with_policy else [])
    rc, out, err = run(*args)
    tag = "guests -p" if with_policy else "guests"
    check(f"{tag}: exit 0", rc == 0, err)
    lines = out.splitlines()
    check(f"{tag}: header", lines and lines[0].split() == HEAD, out)
    rows = {int(l.split()[1]): l.split() for l in lines[1:] if len(l.split()) == len(HEAD)}
    check(f"{tag}: one row per QEMU process, bash ignored", sorted(rows) == sorted(PROCS), out)
    check(f"{tag}: rows in pid order", [int(l.split()[1]) for l in lines[1:]] == sorted(PROCS), out)
    for pid, p in PROCS.items():
        name, vc, io, src, cg, pol, comp = p["want"]
        if not with_policy:
            pol = "-"
            comp = "-"
        backend = "libvirt" if OWNER[pid] == "libvirt" else "cgroupfs"
        want = [name, str(pid), vc, io, src, cg, OWNER[pid], backend, pol, comp]
        check(f"{tag}: row {pid}", rows.get(pid) == want, f"got  {rows.get(pid)}\nwant {want}")
    if with_policy:
        check(f"{tag}: conflict reported on stderr", "matches more than one policy guest" in err and "'cx'" in err
              and "'cy'" in err, err)
    # columns are aligned: every row's fields start where the header's do
    starts = [lines[0].index(h) for h in HEAD] if lines else []
    aligned = all(all(l[s - 1] == " " for s in starts[1:]) for l in lines[1:] if len(l) > starts[-1])
    check(f"{tag}: columns aligned", aligned, out)

    rc, out, err = run("--json", *args)
    check(f"{tag} --json: exit 0", rc == 0, err)
    try:
        doc = json.loads(out)
    except ValueError as e:
        check(f"{tag} --json: valid JSON", False, f"{e}\n{out}")
        continue
    gs = {g["pid"]: g for g in doc.get("guests", [])}
    check(f"{tag} --json: guests", sorted(gs) == sorted(PROCS), out)
    for pid, p in PROCS.items():
        g = gs.get(pid, {})
        name, vc, io, src, cg, pol, comp = p["want"]
        exp_name = None if name == "-" else name
        ok = (g.get("name") == exp_name and g.get("cgroup") == p["cgroup"] and g.get("thread_source") == src
              and g.get("vcpus") == (None if vc == "?" else int(vc))
              and g.get("iothreads") == (None if io == "?" else int(io))
              and sorted(t["tid"] for t in g.get("threads", [])) == sorted(p["threads"])
              and g.get("foreign") == (OWNER[pid] == "libvirt")
              and g.get("managed_by") == ("libvirt" if OWNER[pid] == "libvirt" else None)
              and g.get("owner") == OWNER[pid]
              and g.get("backend") == ("libvirt" if OWNER[pid] == "libvirt" else "cgroupfs"))
        if with_policy:
            exp_pol = pol if pol != "-" and not pol.startswith("conflict:") else None
            exp_matches = pol[9:].split(",") if pol.startswith("conflict:") else \
                ([] if pol == "-" else [pol])
            ok = ok and g.get("policy") == exp_pol and g.get("matches") == exp_matches \
                and g.get("conflict") == pol.startswith("conflict:") \
                and g.get("compliant") == {"yes": True, "no": False, "-": None}[comp]
        else:
            ok = ok and g.get("policy") is None and g.get("compliant") is None and g.get("matches") == []
        check(f"{tag} --json: guest {pid}", ok, json.dumps(g, indent=1))
    # thread roles in JSON follow the comms
    g = gs.get(1000, {})
    roles = {t["tid"]: (t["role"], t.get("vcpu"), t.get("id")) for t in g.get("threads", [])}
    check(f"{tag} --json: thread roles", roles == {1000: ("emulator", None, None), 1001: ("vcpu", 0, None),
                                                   1002: ("vcpu", 1, None), 1003: ("iothread", None, "io1"),
                                                   1004: ("emulator", None, None),
                                                   1005: ("iothread", None, "iothread7")}, str(roles))

# usage errors
rc, out, err = run("guests", "bogus")
check("guests bogus: exit 2", rc == 2 and "guests" in err, err)
rc, out, err = run("guests", "-p", WORK + "/absent.conf")
check("guests -p absent: exit 2", rc == 2, err)
rc, out, err = run("-q", "guests")
check("guests -q: no header", rc == 0 and out.splitlines() and out.splitlines()[0].split()[0] != "NAME", out)
rc, out, err = run("guests", "--no-qmp")
check("guests --no-qmp: exit 0", rc == 0 and len(out.splitlines()) == len(PROCS) + 1, out + err)
# a sysroot without proc/
empty = WORK + "/noproc"
os.makedirs(empty, exist_ok=True)
rc, out, err = run("guests", sysroot=empty)
check("guests without proc/: exit 1 with a message", rc == 1 and "proc" in err, err)

# who counts as a guest, bounded QMP (issue 10): tests/guests/trust_cli.py
sys.path.insert(0, HERE)
import trust_cli  # noqa: E402
trust_cli.run(LAYER, BIN, WORK)

for binary in CRITERION_BINS:
    LAYER.criterion(binary, CRITERION_ARGS)
sys.exit(LAYER.finish())
