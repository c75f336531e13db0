#!/usr/bin/env python3
"""hostile.py CGPLACE WORKDIR RESULTS -- issue 10's hostile inputs that are
about output and bounded work, one group of checks per problem:

  4  guest names with terminal escapes, byte 0xff and 3 MB: escaped, cut,
     and every --json document parses (guests, plan, apply, verify);
  5  includes: 8 levels x 10 files that each include the next 10 end at once
     (each file read once), more than 1,000 files and cycles are errors;
  6  huge MemTotal/MemFree: totals are "unknown"/null, never wrapped;
  7  a FIFO in place of a sysfs attribute (an error naming it, not a
     memory-only node) and of a cgroup file (apply fails, lock released,
     nothing changed); the lock held by another process: --wait bounds the
     wait and the error names the holder's pid;
  9  policy files and included files owned by another user or writable by
     group/others: exit 2 naming the file, unless --no-strict-files.

The fixture trees come from tests/fixtures/mkfixtures.py; counting and FAIL
blocks are tests/golden/harness.py's. Writes "P F S" to RESULTS."""
import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import harness as H  # noqa: E402

(BIN, WORK, RESULTS), _, _ = H.split_argv(sys.argv[1:], 3)
BIN, WORK = os.path.abspath(BIN), os.path.abspath(WORK)
LAYER = H.Layer("hostile", RESULTS)
QEMU = "/usr/bin/qemu-system-x86_64"
LOCK = WORK + "/cgplace.lock"
BIG = 3 << 20
# a row of `guests` or a message quotes at most 256 bytes of a name (4 when escaped)
BOUND = 64 << 10


def check(what, ok, detail=""):
    LAYER.check(what, bool(ok), detail)


def w(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def run(*args, root=None, cg=None, wait=None):
    """cgplace on a fixture: (rc, stdout bytes, stderr bytes); the timeout only
    keeps a regression (a hang) from stalling the layer."""
    argv = [BIN, "--no-sandbox", "--sysroot", root or ROOT] + (["--cgroup-root", cg] if cg else []) \
        + (["--wait", str(wait)] if wait is not None else []) + list(args)
    try:
        p = subprocess.run(argv, capture_output=True, timeout=120, env=dict(os.environ, CGPLACE_LOCK=LOCK))
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out: it hung"
    return p.returncode, p.stdout, p.stderr


def stat_line(pid, comm, start):
    rest = ["S", "1", str(pid), str(pid), "0", "-1", "4194560"] + ["0"] * 10 + ["3", "0", str(start)] + ["0"] * 10
    return f"{pid} ({comm}) " + " ".join(rest) + "\n"


def qemu_proc(root, pid, name, cgroup="/"):
    d = f"{root}/proc/{pid}"
    os.makedirs(d, exist_ok=True)
    H.guest_identity(root, pid)
    w(d + "/comm", "qemu-system-x86\n")
    w(d + "/cmdline", QEMU.encode() + b"\0-name\0" + name + b"\0")
    w(d + "/stat", stat_line(pid, "qemu-system-x86", 1000 + pid))
    w(d + "/cgroup", f"0::{cgroup}\n")
    w(f"{d}/task/{pid}/comm", "qemu-system-x86\n")
    w(f"{d}/task/{pid}/cgroup", f"0::{cgroup}\n")
    w(f"{d}/task/{pid}/status",
      f"Name:\tqemu\nTgid:\t{pid}\nPid:\t{pid}\nCpus_allowed_list:\t0-3\nMems_allowed_list:\t0\n")


def cgroup_tree(cg):
    w(cg + "/cgroup.controllers", "cpuset cpu memory\n")
    w(cg + "/cgroup.subtree_control", "\n")
    w(cg + "/cgroup.procs", "1\n")
    w(cg + "/cpuset.cpus.effective", "0-3\n")
    w(cg + "/cpuset.mems.effective", "0\n")


def tree(root):
    """(path, kind, content) of every entry below root; FIFOs are not read."""
    out = []
    for dp, ds, fs in os.walk(root):
        for n in ds + fs:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            body = open(p, "rb").read() if stat.S_ISREG(st.st_mode) else b""
            out.append((os.path.relpath(p, root), stat.S_IFMT(st.st_mode), body))
    return sorted(out)


def fixture(name):
    shutil.rmtree(f"{WORK}/{name}", ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "mkfixtures.py"), WORK, name],
                   check=True, stdout=subprocess.DEVNULL)
    return f"{WORK}/{name}"


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
ROOT = fixture("one-node")
POLICY = WORK + "/policy.conf"
w(POLICY, "guest g1 { vcpus 1; cpus 0; memory 64M nodes 0; }\nhost { unmanaged warn; }\n")

# ---------------------------------------------------------------- 4: names
NAMES = {2000: b"evil\x1b]0;pwn\x07\x1b[2J", 2100: b"bad\xffname", 2200: b"A" * BIG}
for pid, name in NAMES.items():
    qemu_proc(ROOT, pid, name)
CG = WORK + "/cg"
cgroup_tree(CG)

for args in (["guests"], ["guests", "-p", POLICY], ["plan", POLICY], ["apply", POLICY], ["verify", POLICY]):
    tag = " ".join(a if a != POLICY else "POLICY" for a in args)
    rc, out, err = run(*args, cg=CG)
    both = out + err
    check(f"{tag}: exit 0", rc == 0, err.decode(errors="replace")[-2000:])
    check(f"{tag}: no ESC, BEL or 0xff byte printed", not any(b in both for b in (b"\x1b", b"\x07", b"\xff")),
          repr(both[:600]))
    check(f"{tag}: output bounded ({len(both)} bytes)", len(both) < BOUND)
    check(f"{tag}: each name shown escaped", b"evil\\x1b]0;pwn\\x07\\x1b[2J" in both and b"bad\\xffname" in both,
          repr(both[:1500]))
    # cli_escape ends a cut with U+2026, the engine's messages with "..."
    check(f"{tag}: the 3 MB name cut with an ellipsis", b"A" * 257 not in both and
          (b"A" * 256 + "\u2026".encode() in both or b"A" * 256 + b"..." in both))
    rc, out, err = run("--json", *args, cg=CG)
    try:
        doc = json.loads(out)
    except ValueError as e:
        check(f"--json {tag}: python's json parses it", False, f"{e}: {out[:300]!r}")
        continue
    check(f"--json {tag}: python's json parses it", True)
    check(f"--json {tag}: output bounded ({len(out) + len(err)} bytes)", len(out) + len(err) < BOUND)
    text = json.dumps(doc)
    check(f"--json {tag}: names escaped, not raw", "\\u001b" not in text and "\\u00ff" not in text
          and "\\ufffd" not in text and "bad\\\\xffname" in text, text[:1500])
    if args[0] == "guests":
        names = sorted(g["name"] for g in doc["guests"])
        check(f"--json {tag}: the names as the text shows them",
              names == sorted(["evil\\x1b]0;pwn\\x07\\x1b[2J", "bad\\xffname", "A" * 256 + "\u2026"]), names)

# thread names and QMP-style ids: vcpuinfo and iothreadpin print an I/O
# thread's id, read from its comm ("IO " + id), escaped too
EVIL = b"evil\x1b]0;pwn\x07"
qemu_proc(ROOT, 2300, EVIL + b",debug-threads=on")
for tid, comm in ((2301, b"CPU 0/KVM"), (2302, b"IO x\x1b[31m\xff")):
    d = f"{ROOT}/proc/2300/task/{tid}"
    w(d + "/comm", comm + b"\n")
    w(d + "/cgroup", "0::/\n")
    w(d + "/stat", stat_line(tid, "thread", 5))
    w(d + "/status", f"Name:\tt\nTgid:\t2300\nPid:\t{tid}\nCpus_allowed_list:\t0-3\nMems_allowed_list:\t0\n")
for args in (["vcpuinfo", "--all", "2300"], ["iothreadpin", "2300"]):
    tag = " ".join(args)
    rc, out, err = run(*args)
    check(f"{tag}: exit 0, the id escaped, no raw ESC or 0xff",
          rc == 0 and b"x\\x1b[31m\\xff" in out and not any(c in out + err for c in (b"\x1b", b"\xff")),
          repr(out + err)[:1500])
    rc, out, err = run("--json", *args)
    try:
        text = json.dumps(json.loads(out))
        check(f"--json {tag}: parses, names and ids escaped", "x\\\\x1b[31m\\\\xff" in text and "\\u001b" not in text,
              text[:1500])
    except ValueError as e:
        check(f"--json {tag}: parses, names and ids escaped", False, f"{e}: {out[:300]!r}")

# verify names a thread's role by that id too: escaped in its text and JSON
qemu_proc(ROOT, 2400, b"gio,debug-threads=on")
for tid, comm in ((2401, b"CPU 0/KVM"), (2402, b"IO x\x1b[31m\xff")):
    d = f"{ROOT}/proc/2400/task/{tid}"
    w(d + "/comm", comm + b"\n")
    w(d + "/cgroup", "0::/\n")
    w(d + "/stat", stat_line(tid, "thread", 5))
    w(d + "/status", f"Name:\tt\nTgid:\t2400\nPid:\t{tid}\nCpus_allowed_list:\t0-3\nMems_allowed_list:\t0\n")
IOPOL = WORK + "/iothread.conf"
w(IOPOL, "guest gio { vcpus 1; cpus 0; memory 64M nodes 0; }\nhost { unmanaged warn; }\n")
rc, out, err = run("verify", IOPOL, cg=CG)
check("verify: a thread's I/O thread id escaped in its role, no raw ESC or 0xff",
      b"iothread x\\x1b[31m\\xff" in out and not any(c in out + err for c in (b"\x1b", b"\xff")),
      repr(out + err)[:1500])
rc, out, err = run("--json", "verify", IOPOL, cg=CG)
check("--json verify: the role's id escaped", b"iothread x\\\\x1b[31m\\\\xff" in out and b"\\u001b" not in out,
      repr(out)[:1500])

# ---------------------------------------------------------------- 5: includes
INC = WORK + "/inc"
for level in range(8):
    for i in range(10):
        w(f"{INC}/f{level}_{i}.conf", f'include "f{level + 1}_*.conf";\n' if level < 7 else
          (f"guest leaf{i} {{ vcpus 1; cpus 0; memory 64M nodes 0; }}\n" if i < 2 else "# leaf\n"))
w(INC + "/top.conf", 'include "f0_*.conf";\n')
rc, out, err = run("check", INC + "/top.conf")
check("includes: 8 levels x 10 files each including the next 10 read once: valid, 2 guests",
      rc == 0 and b"valid (2 guests)" in out, (out + err).decode(errors="replace"))

MANY = WORK + "/many"
for i in range(1001):
    w(f"{MANY}/d/{i:04d}.conf", "\n")
w(MANY + "/top.conf", 'host { }\ninclude "d/*.conf";\n')
rc, out, err = run("check", MANY + "/top.conf")
check("includes: 1,001 files in all is an error at the include statement (FILE:LINE:COL)",
      rc == 2 and f"{MANY}/top.conf:2:1: error: cannot include '{MANY}/d/1000.conf': the policy has more than 1000 files"
      .encode() in err, err.decode(errors="replace")[:2000])

CYC = WORK + "/cycle"
w(CYC + "/a.conf", 'include "b.conf";\n')
w(CYC + "/b.conf", 'include "c.conf";\n')
w(CYC + "/c.conf", 'include "a.conf";\n')
rc, out, err = run("check", CYC + "/a.conf")
check("includes: a cycle through three files is an error naming where it closes",
      rc == 2 and f"{CYC}/c.conf:1:1: error: cannot include '{CYC}/a.conf': include cycle".encode() in err,
      err.decode(errors="replace"))

# ---------------------------------------------------------------- 9: ownership
OWN = WORK + "/own"
w(OWN + "/ok.conf", 'include "inc.conf";\n')
w(OWN + "/inc.conf", "guest g1 { vcpus 1; cpus 0; memory 64M nodes 0; }\n")
rc, out, err = run("check", OWN + "/ok.conf")
check("ownership: the invoking user's files, mode 0644: valid", rc == 0, err.decode(errors="replace"))
os.chmod(OWN + "/ok.conf", 0o666)
rc, out, err = run("check", OWN + "/ok.conf")
check("ownership: a world-writable policy: exit 2 naming it",
      rc == 2 and f"{OWN}/ok.conf: error: writable by others (mode 0666)".encode() in err,
      err.decode(errors="replace"))
rc, out, err = run("--no-strict-files", "check", OWN + "/ok.conf")
check("ownership: --no-strict-files reads it", rc == 0, err.decode(errors="replace"))
os.chmod(OWN + "/ok.conf", 0o644)
os.chmod(OWN + "/inc.conf", 0o664)
rc, out, err = run("check", OWN + "/ok.conf")
check("ownership: a group-writable included file: exit 2 at its include statement",
      rc == 2 and f"{OWN}/ok.conf:1:1: error: cannot include '{OWN}/inc.conf': writable by its group (mode 0664)"
      .encode() in err, err.decode(errors="replace"))
os.chmod(OWN + "/inc.conf", 0o644)
if os.geteuid() == 0:
    os.chown(OWN + "/inc.conf", 65534, 65534)
    rc, out, err = run("check", OWN + "/ok.conf")
    check("ownership: an included file owned by another user: exit 2 naming it",
          rc == 2 and f"cannot include '{OWN}/inc.conf': owned by uid 65534, not by root or the invoking user"
          .encode() in err, err.decode(errors="replace"))
    rc, out, err = run("apply", OWN + "/ok.conf", cg=CG)
    check("ownership: apply refuses it too, before anything is read or written", rc == 2 and not out,
          err.decode(errors="replace"))
else:
    LAYER.skip("ownership: another user's file", "needs root to chown a file to another user")

# ---------------------------------------------------------------- 6: sizes
ASYM = fixture("asym")
for dp, _, fs in os.walk(ASYM + "/sys/devices/system/node"):
    if "meminfo" in fs:
        p = os.path.join(dp, "meminfo")
        s = open(p).read()
        s = "\n".join(l.split("MemTotal:")[0] + "MemTotal:       18446744073709551615 kB" if "MemTotal:" in l else
                      l.split("MemFree:")[0] + "MemFree:        18446744073709551614 kB" if "MemFree:" in l else l
                      for l in s.splitlines()) + "\n"
        w(p, s)
s = open(ASYM + "/proc/meminfo").read().splitlines()
w(ASYM + "/proc/meminfo", "\n".join("MemTotal:       18446744073709551615 kB" if l.startswith("MemTotal:") else l
                                    for l in s) + "\n")
rc, out, err = run("nodeinfo", root=ASYM)
check("sizes: nodeinfo with MemTotal near 2^64: Memory size unknown", rc == 0 and
      b"Memory size:         unknown" in out, (out + err).decode())
rc, out, err = run("freecell", "--all", root=ASYM)
check("sizes: freecell --all with MemFree near 2^64 per cell: Total unknown, not wrapped",
      rc == 0 and b"Total: unknown" in out and out.count(b"18446744073709551614 KiB") == 4, (out + err).decode())
rc, out, err = run("--json", "freecell", root=ASYM)
check("sizes: freecell --json total null", rc == 0 and json.loads(out) == {"total_kib": None}, out.decode())

# ---------------------------------------------------------------- 7: FIFOs, lock
FIFO = WORK + "/fifo-sys"
shutil.copytree(ROOT, FIFO, symlinks=True)
attr = FIFO + "/sys/devices/system/node/node0/cpulist"
os.unlink(attr)
os.mkfifo(attr)
rc, out, err = run("nodeinfo", root=FIFO)
check("FIFO as a sysfs attribute: an error naming it, not a memory-only node",
      rc == 1 and b"node0/cpulist" in err and b"CPU-less" not in out, (out + err).decode(errors="replace"))

qemu_proc(ROOT, 3000, b"g1")
CGF = WORK + "/cg-fifo"
cgroup_tree(CGF)
os.unlink(CGF + "/cgroup.subtree_control")


def fifo_apply(what, cg, fifo):
    """apply with a FIFO at cg/fifo: exit 1 naming it, no hang, nothing changed."""
    os.mkfifo(f"{cg}/{fifo}")
    before = tree(cg)
    rc, out, err = run("apply", POLICY, cg=cg)
    check(f"FIFO as {what}: apply fails (exit 1) naming it, no hang", rc == 1 and os.path.basename(fifo).encode() in err,
          (out + err).decode(errors="replace")[-1500:])
    check(f"FIFO as {what}: nothing changed", tree(cg) == before)


fifo_apply("a cgroup file apply reads", CGF, "cgroup.subtree_control")
# a FIFO in place of a file apply only writes (g1's cgroup.procs): the write
# must not wait for a reader with the lock held
CGW = WORK + "/cg-fifo-write"
cgroup_tree(CGW)
w(CGW + "/cgroup.subtree_control", "cpuset\n")
for d, kind in ((CGW + "/cgplace", "domain"), (CGW + "/cgplace/g1", "domain")):
    w(d + "/cgroup.controllers", "cpuset\n")
    w(d + "/cgroup.subtree_control", "cpuset\n" if d.endswith("cgplace") else "\n")
    w(d + "/cgroup.type", kind + "\n")
    w(d + "/cgroup.threads", "")
    w(d + "/cpuset.cpus", "0\n" if d.endswith("g1") else "\n")
    w(d + "/cpuset.mems", "0\n" if d.endswith("g1") else "\n")
    w(d + "/cpuset.cpus.effective", "0\n")
    w(d + "/cpuset.mems.effective", "0\n")
w(CGW + "/cgplace/cgroup.procs", "")
fifo_apply("a cgroup file apply only writes", CGW, "cgplace/g1/cgroup.procs")

fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    check("FIFO as a cgroup file: the lock is released after", True)
except OSError as e:
    check("FIFO as a cgroup file: the lock is released after", False, str(e))

# the lock held here (fd above), our pid in it as cgplace writes its own
os.pwrite(fd, b"%-10d\n" % os.getpid(), 0)
for wait in (0, 1):
    rc, out, err = run("apply", POLICY, cg=CG, wait=wait)
    check(f"lock held: apply --wait {wait} gives up, exit 1 naming the holder",
          rc == 1 and f"is held by pid {os.getpid()} (waited {wait} s; see --wait)".encode() in err,
          err.decode(errors="replace")[-800:])
rc, out, err = run("apply", POLICY, cg=CG, wait="x")
check("lock: --wait x is a usage error", rc == 2 and b"--wait 'x'" in err, err.decode(errors="replace"))
os.close(fd)
rc, out, err = run("apply", POLICY, cg=CG, wait=0)
holder = open(LOCK).read().split()
# (g1's writes fail on this fake tree, which has no cgroup files for new
# directories: the lock was taken all the same)
check("lock free: apply --wait 0 takes it and leaves its own pid in the lock file",
      b"is held by" not in err and holder and holder[0].isdigit() and int(holder[0]) != os.getpid(),
      (err.decode(errors="replace")[-800:], holder))

sys.exit(LAYER.finish())
