# vm-topos: asym-systemd
"""init/cgplace-watch.service on a real systemd (PID 1 in the VM), with all its hardening:
the unit (@BINDIR@ = a copy of the build) goes to /run/systemd/system, a policy to
/etc/cgplace/policy.conf. `systemctl start` returns once watch said READY=1 (Type=notify)
and the unit is active, its main process under seccomp (Seccomp: 2); a QEMU started
afterwards is placed without anyone asking (the systemd backend: its delegated scope),
checked per thread from /proc; `systemctl reload` (SIGHUP, RELOADING=1 then READY=1) puts a
changed policy in force; `systemctl stop` is clean (Result=success, STOPPING=1) and leaves
the guest where it is.
"""
import atexit
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vminit as I  # noqa: E402

if T.read("/proc/1/comm") != "systemd":
    T.skip("PID 1 is not systemd (run with --systemd)")
T.need_cgplace()
RUN = "/run/cgp-watch-unit"
os.makedirs(RUN, exist_ok=True)
os.chmod(RUN, 0o777)
PROJECT = os.environ.get("PROJECT", os.getcwd())
UNIT = "cgplace-watch.service"
UNIT_DST = "/run/systemd/system/" + UNIT
POLICY = "/etc/cgplace/policy.conf"
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
cpus = T.cpus_online()
if len(cpus) < 2 or not withmem:
    T.skip("needs 2 CPUs and a node with CPUs and memory")


def sh(*cmd):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300)
    return p.returncode, (p.stdout + p.stderr).strip()


def journal(n=40):
    return sh("journalctl", "--no-pager", "-o", "cat", "-n", str(n), "-u", UNIT)[1]


def wait(pred, secs=60):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except (OSError, KeyError):
            pass
        time.sleep(0.2)
    return False


@atexit.register
def _cleanup():
    """A failed check must not leave the daemon placing the next tests' guests."""
    if os.path.exists(UNIT_DST):
        sh("systemctl", "stop", UNIT)
        os.unlink(UNIT_DST)
        sh("systemctl", "daemon-reload")


# the unit as `make install BINDIR=...` writes it, the binary copied out of the build
# directory (PrivateTmp=yes hides /tmp, where a CI clone may live)
bindir = "/usr/local/lib/cgplace-watch-unit-test"
os.makedirs(bindir, exist_ok=True)
build = os.path.dirname(os.path.abspath(T.CGPLACE))
for f in ("cgplace", "libcgplace.so.0"):
    shutil.copy2(os.path.realpath(os.path.join(build, f)), os.path.join(bindir, f))
text = open(os.path.join(PROJECT, "init", UNIT)).read()
text = text.replace("@BINDIR@", bindir).replace("@SYSCONFDIR@", "/etc")
T.check("@" not in re.sub(r"#.*", "", text), "no @VAR@ left in the unit")
with open(UNIT_DST, "w") as f:
    f.write(text)
GC, NODE = cpus[:2], withmem[0]
os.makedirs(os.path.dirname(POLICY), exist_ok=True)
I.policy(POLICY, [("sw1", GC, NODE, [GC[0], GC[1]])])

T.eq(sh("systemctl", "daemon-reload")[0], 0, "systemctl daemon-reload")
rc, out = sh("systemd-analyze", "verify", "--man=no", UNIT_DST)
T.check(rc == 0 and not out, "systemd-analyze verify on the installed unit (%s)" % out)
rc, out = sh("systemctl", "start", UNIT)
T.check(rc == 0, "systemctl start %s: exit 0 once READY=1 (%s)\n%s" % (UNIT, out, journal()))
T.eq(sh("systemctl", "is-active", UNIT)[1], "active", "systemctl is-active " + UNIT)
T_START = time.monotonic()
if rc:
    T.finish()
main = int(sh("systemctl", "show", "-p", "MainPID", "--value", UNIT)[1] or 0)
T.check(main > 0, "the unit has a main process")
T.eq(T.task_status(main).get("Seccomp"), "2", "watch runs under its seccomp filter in the unit")
T.check("process events: proc connector" in journal(), "the proc connector works in the unit (CAP_NET_ADMIN, "
        "AF_NETLINK): %s" % journal())

pid = I.start_qemu(RUN, "sw1")
ok = wait(lambda: I.is_placed(pid, GC, NODE, [GC[0], GC[1]]))
I.placed(pid, GC, NODE, [GC[0], GC[1]], "a guest started after watch, placed by it")
T.check(T.task_cgroup(pid).startswith("/cgplace.slice/cgplace-sw1.scope/"),
        "sw1 in its scope (%s)" % T.task_cgroup(pid))
T.check(re.search(r"placed sw1 \(pid %d\)" % pid, journal()) is not None, "the journal says so:\n" + journal())

# a changed policy (the vCPU pins swapped), then systemctl reload
I.policy(POLICY, [("sw1", GC, NODE, [GC[1], GC[0]])])
rc, out = sh("systemctl", "reload", UNIT)
T.check(rc == 0, "systemctl reload: exit 0 (%s)\n%s" % (out, journal()))
wait(lambda: I.is_placed(pid, GC, NODE, [GC[1], GC[0]]), 30)
I.placed(pid, GC, NODE, [GC[1], GC[0]], "after systemctl reload with the pins swapped")
T.eq(sh("systemctl", "is-active", UNIT)[1], "active", "active after the reload")

# WatchdogSec=30s: without WATCHDOG=1 (every 15 s) systemd kills and restarts it; past
# 40 s it must still be the same process, never restarted
time.sleep(max(0.0, 40 - (time.monotonic() - T_START)))
T.eq(int(sh("systemctl", "show", "-p", "MainPID", "--value", UNIT)[1] or 0), main,
     "the same main process 40 s after the start (WATCHDOG=1 kept the 30 s watchdog quiet)")
rc, out = sh("systemd-analyze", "security", "--no-pager", UNIT)
m = re.search(r"Overall exposure level for %s: (.*)" % re.escape(UNIT), out)
T.log("  info: systemd-analyze security: %s" % (m.group(1) if m else out[-200:]))

T.eq(sh("systemctl", "stop", UNIT)[0], 0, "systemctl stop")
T.eq(sh("systemctl", "show", "-p", "Result", "--value", UNIT)[1], "success", "the unit's Result after stop")
T.eq(sh("systemctl", "show", "-p", "NRestarts", "--value", UNIT)[1], "0", "never restarted (watchdog, crash)")
T.check("stopping: placements stay in place" in journal(), "watch said it stops:\n" + journal())
I.placed(pid, GC, NODE, [GC[1], GC[0]], "after systemctl stop")

os.unlink(UNIT_DST)
os.unlink(POLICY)
sh("systemctl", "daemon-reload")
T.finish()
