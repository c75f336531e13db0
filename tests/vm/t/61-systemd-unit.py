# vm-topos: asym-systemd
"""init/cgplace.service on a real systemd (PID 1 in the VM), with all its hardening:
the unit (@BINDIR@ = the build directory) goes to /run/systemd/system, a policy to
/etc/cgplace/policy.conf (the VM's overlay), and `systemctl start cgplace.service`
places two hand-started QEMU guests, one of root and one of user nobody (the systemd
backend: each in its delegated cgplace-NAME.scope). Checked from /proc: every thread's
Cpus_allowed_list and Mems_allowed_list, each vCPU on its pin; `systemctl is-active` is
active (oneshot, RemainAfterExit); a hand-made drift is repaired by `systemctl reload`;
`cgplace verify` agrees (exit 0) after each step, and so does the SysV script installed
as /etc/init.d/cgplace (its status is not handed to systemctl: 3 on the drift while the
unit is active); `systemctl stop` leaves the guests where they are.
"""
import os
import shutil
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vmtest as T  # noqa: E402
import vminit as I  # noqa: E402

if T.read("/proc/1/comm") != "systemd":
    T.skip("PID 1 is not systemd (run with --systemd)")
T.need_cgplace()
RUN = "/run/cgp-unit"
os.makedirs(RUN, exist_ok=True)
os.chmod(RUN, 0o777)
PROJECT = os.environ.get("PROJECT", os.getcwd())
UNIT_DST = "/run/systemd/system/cgplace.service"
POLICY = "/etc/cgplace/policy.conf"
online = T.nodes_online()
withmem = [n for n in online if T.node_kind(n) == "cpu+memory"]
cpus = T.cpus_online()
if len(cpus) < 4 or not withmem:
    T.skip("needs 4 CPUs and a node with CPUs and memory")


def sh(*cmd):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300)
    return p.returncode, (p.stdout + p.stderr).strip()


def journal():
    return sh("journalctl", "--no-pager", "-o", "cat", "-n", "30", "-u", "cgplace.service")[1]


# the unit as `make install BINDIR=...` would write it, with the binary and its library
# copied out of the build directory: the unit's PrivateTmp=yes hides /tmp, where a CI
# clone may live (the binary finds libcgplace.so.0 through its $ORIGIN runpath)
bindir = "/usr/local/lib/cgplace-unit-test"
os.makedirs(bindir, exist_ok=True)
build = os.path.dirname(os.path.abspath(T.CGPLACE))
for f in ("cgplace", "libcgplace.so.0"):
    shutil.copy2(os.path.realpath(os.path.join(build, f)), os.path.join(bindir, f))
text = open(os.path.join(PROJECT, "init", "cgplace.service")).read()
text = text.replace("@BINDIR@", bindir).replace("@SYSCONFDIR@", "/etc")
T.check("@" not in re.sub(r"#.*", "", text), "no @VAR@ left in the unit")
with open(UNIT_DST, "w") as f:
    f.write(text)
# and the SysV script as installed: Debian's init-functions would hand its actions to
# systemctl (the unit has its name); its status must still ask the kernel
SYSV = "/etc/init.d/cgplace"
with open(SYSV, "w") as f:
    f.write(open(os.path.join(PROJECT, "init", "cgplace.init")).read()
            .replace("@BINDIR@", bindir).replace("@SYSCONFDIR@", "/etc"))
os.chmod(SYSV, 0o755)
GUESTS = [("unit1", None, cpus[-2:], withmem[-1]), ("unit2", 65534, cpus[:2], withmem[0])]
os.makedirs(os.path.dirname(POLICY), exist_ok=True)
I.policy(POLICY, [(name, gc, node, [gc[1], gc[0]]) for name, user, gc, node in GUESTS])
PIDS = {name: I.start_qemu(RUN, name, user) for name, user, gc, node in GUESTS}
T.eq(T.task_status(PIDS["unit2"])["Uid"].split()[0], "65534", "guest unit2 runs as nobody")

T.eq(sh("systemctl", "daemon-reload")[0], 0, "systemctl daemon-reload")
rc, out = sh("systemd-analyze", "verify", "--man=no", UNIT_DST)
T.check(rc == 0 and not out, "systemd-analyze verify on the installed unit (%s)" % out)
rc, out = sh("systemctl", "start", "cgplace.service")
T.check(rc == 0, "systemctl start cgplace.service: exit 0 (%s)\n%s" % (out, journal()))
T.eq(sh("systemctl", "is-active", "cgplace.service")[1], "active", "systemctl is-active cgplace.service")
T.eq(sh("systemctl", "show", "-p", "Result", "--value", "cgplace.service")[1], "success", "the unit's Result")
if rc:
    T.finish()   # the rest needs the guests placed
for name, user, gc, node in GUESTS:
    I.placed(PIDS[name], gc, node, [gc[1], gc[0]], "after systemctl start: " + name)
    T.check(T.task_cgroup(PIDS[name]).startswith("/cgplace.slice/cgplace-%s.scope/" % name),
            "%s in its scope (%s)" % (name, T.task_cgroup(PIDS[name])))
rc, out, err = T.run_cgplace("verify", POLICY)
T.eq(rc, 0, "cgplace verify after systemctl start (%s)" % err.strip())

# drift by hand in unit2's vCPU 0 group, repaired by systemctl reload
name, user, gc, node = GUESTS[1]
t0 = I.vcpus(PIDS[name])[0]
grp = T.task_cgroup(PIDS[name], t0)
err = T.cg_write(T.CG + grp + "/cpuset.cpus", str(gc[0]))
T.check(err is None, "drift: write cpuset.cpus %d to %s (%s)" % (gc[0], grp, err))
T.eq(T.task_status(PIDS[name], t0)["Cpus_allowed_list"], str(gc[0]), "drift is real")
T.eq(T.run_cgplace("verify", POLICY)[0], 3, "cgplace verify sees the drift (exit 3)")
rc, out = sh(SYSV, "status")
T.eq(rc, 3, "/etc/init.d/cgplace status with the unit active and a drift: 3, not handed to systemctl (%s)" % out)
rc, out = sh("systemctl", "reload", "cgplace.service")
T.check(rc == 0, "systemctl reload cgplace.service: exit 0 (%s)\n%s" % (out, journal()))
I.placed(PIDS[name], gc, node, [gc[1], gc[0]], "after systemctl reload: " + name)
T.eq(T.run_cgplace("verify", POLICY)[0], 0, "cgplace verify after reload: exit 0")
rc, out = sh(SYSV, "status")
T.eq(rc, 0, "/etc/init.d/cgplace status after reload: 0 (%s)" % out)
rc, out = sh("systemd-analyze", "security", "--no-pager", "cgplace.service")
m = re.search(r"Overall exposure level for cgplace.service: (.*)", out)
T.log("  info: systemd-analyze security: %s" % (m.group(1) if m else out[-200:]))

T.eq(sh("systemctl", "stop", "cgplace.service")[0], 0, "systemctl stop cgplace.service")
for name, user, gc, node in GUESTS:
    I.placed(PIDS[name], gc, node, [gc[1], gc[0]], "after systemctl stop: " + name)

os.unlink(UNIT_DST)
os.unlink(SYSV)
os.unlink(POLICY)
sh("systemctl", "daemon-reload")
T.finish()
