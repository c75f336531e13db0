"""libvirt in the systemd-mode test VM (run-vm.sh --systemd, topos/asym-systemd.topo).

Python tests (tests/vm/t/*.py; suite.sh puts this directory on PYTHONPATH):

    import vmlibvirt as L
    L.start_libvirtd()                                # systemctl start libvirtd, wait until it answers
    d = L.Domain("g1", vcpus=2, memory_mib=64,        # define from libvirt-domain.xml + start --paused,
                 extra="<numatune>...</numatune>")    # wait for the QEMU pid
    d.pid, d.scope                                    # QEMU's pid; its machine scope, e.g.
                                                      # /machine.slice/machine-qemu\\x2d1\\x2dg1.scope
    d.task_cgroup(), d.vcpu_tids()                    # /proc/PID/cgroup; {vcpu: [tid, ...]} from libvirt/vcpuN
    L.virsh("vcpupin", d.name, "0", "1", "--live")    # CompletedProcess (rc, stdout, stderr)
    d.destroy()                                       # destroy + undefine (every Domain is also
                                                      # destroyed at exit)

Shell tests:

    python3 tests/vm/vmlibvirt.py start NAME [VCPUS [MEMORY_MIB]]  # libvirtd + domain; prints the QEMU pid
    python3 tests/vm/vmlibvirt.py destroy NAME

All timings (seconds) are kept in `timings` ({"libvirtd": s, "define NAME": s, ...}).
Under TCG inside TCG (2-core host, load 3-5): libvirtd 4-8 s until it answers (15-20 s
when libvirt has to probe QEMU's capabilities, which run-vm.sh caches across boots), define
0.5-2 s, start 6-12 s, destroy 2-4 s, sometimes 14 s: libvirt sends SIGTERM and SIGKILLs
a QEMU still alive after 10 s; log_tail() shows when QEMU got the signal.
"""
import atexit
import os
import re
import signal
import string
import subprocess
import sys
import time

URI = "qemu:///system"
CG = "/sys/fs/cgroup"
TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libvirt-domain.xml")
timings = {}
_domains = []


def log(msg):
    print(msg, flush=True)


def run(cmd, timeout=120):
    """Run cmd; a CompletedProcess (text) whatever happens, rc 124 on timeout."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, e.stdout or "", "timed out after %ds" % timeout)


def virsh(*args, timeout=120):
    return run(["virsh", "-c", URI] + [str(a) for a in args], timeout=timeout)


def _timed(key, fn):
    t0 = time.time()
    r = fn()
    timings[key] = round(time.time() - t0, 1)
    return r


def start_libvirtd(timeout=60):
    """Start libvirtd (Debian 12: the monolithic daemon, socket-activated) and wait until
    it answers on qemu:///system.  Returns None or an error message."""
    def go():
        r = run(["systemctl", "start", "libvirtd.service"], timeout=timeout)
        if r.returncode != 0:
            return "systemctl start libvirtd: exit %d: %s" % (r.returncode, r.stderr.strip())
        end = time.time() + timeout
        while True:
            r = virsh("version", timeout=timeout)
            if r.returncode == 0:
                return None
            if time.time() > end:
                return "libvirtd does not answer: %s" % r.stderr.strip()
            time.sleep(0.5)
    return _timed("libvirtd", go)


class DomainError(Exception):
    pass


class Domain:
    """A paused TCG guest defined from libvirt-domain.xml; raises DomainError if libvirt
    refuses it or its QEMU does not appear within `timeout` s."""

    def __init__(self, name, vcpus=2, memory_mib=64, extra="", timeout=120):
        self.name, self.pid, self.scope = name, None, None
        with open(TEMPLATE) as f:
            xml = string.Template(f.read()).substitute(name=name, vcpus=vcpus, memory_mib=memory_mib, extra=extra)
        path = "/tmp/vmlibvirt-%s.xml" % name
        with open(path, "w") as f:
            f.write(xml)
        r = _timed("define " + name, lambda: virsh("define", path, timeout=timeout))
        if r.returncode != 0:
            raise DomainError("virsh define %s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
        _domains.append(self)
        r = _timed("start " + name, lambda: virsh("start", "--paused", name, timeout=timeout))
        if r.returncode != 0:
            raise DomainError("virsh start --paused %s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
        self.pid = self._wait_pid(timeout)
        cg = self.task_cgroup()
        m = re.match(r"(.*\.scope)/", cg or "")
        self.scope = m.group(1) if m else None

    def _wait_pid(self, timeout):
        pidfile = "/run/libvirt/qemu/%s.pid" % self.name
        end = time.time() + timeout
        while time.time() < end:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().strip())
                if os.path.exists("/proc/%d" % pid):
                    return pid
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise DomainError("no QEMU pid in %s after %ds" % (pidfile, timeout))

    def task_cgroup(self, tid=None):
        f = "/proc/%d/cgroup" % self.pid if tid is None else "/proc/%d/task/%d/cgroup" % (self.pid, tid)
        with open(f) as fh:
            for line in fh:
                if line.startswith("0::"):
                    return line[3:].strip()
        return None

    def vcpu_tids(self):
        """{vcpu index: [tids]} from libvirt's per-vCPU cgroups (scope/libvirt/vcpuN)."""
        out = {}
        base = "%s%s/libvirt" % (CG, self.scope or "/nonexistent")
        for e in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            m = re.match(r"vcpu(\d+)$", e)
            if m:
                with open("%s/%s/cgroup.threads" % (base, e)) as f:
                    out[int(m.group(1))] = [int(x) for x in f.read().split()]
        return out

    def log_tail(self, n=5):
        """The last n lines of libvirt's log of this guest's QEMU (its stderr, timestamped)."""
        try:
            with open("/var/log/libvirt/qemu/%s.log" % self.name) as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return str(e)

    def destroy(self):
        """virsh destroy + undefine; returns None or an error message."""
        if self not in _domains:
            return None
        _domains.remove(self)
        r = _timed("destroy " + self.name, lambda: virsh("destroy", self.name))
        err = None if r.returncode == 0 else "virsh destroy %s: exit %d: %s" % (self.name, r.returncode, r.stderr.strip())
        virsh("undefine", self.name)
        if self.pid and os.path.exists("/proc/%d" % self.pid):
            try:   # never leave a QEMU behind for the next test
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        return err


@atexit.register
def _cleanup():
    for d in list(_domains):
        d.destroy()


def main(argv):
    if len(argv) >= 2 and argv[0] == "start":
        err = start_libvirtd()
        if err:
            sys.exit("vmlibvirt: " + err)
        try:
            d = Domain(argv[1], *[int(a) for a in argv[2:4]])
        except DomainError as e:
            sys.exit("vmlibvirt: %s" % e)
        _domains.remove(d)   # outlives this process
        print(d.pid)
    elif len(argv) == 2 and argv[0] == "destroy":
        r = virsh("destroy", argv[1])
        virsh("undefine", argv[1])
        if r.returncode != 0:
            sys.exit("vmlibvirt: virsh destroy: " + r.stderr.strip())
    else:
        sys.exit("usage: vmlibvirt.py start NAME [VCPUS [MEMORY_MIB]] | destroy NAME")


if __name__ == "__main__":
    main(sys.argv[1:])
