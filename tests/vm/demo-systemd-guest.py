#!/usr/bin/env python3
"""make demo-systemd (inside the systemd-mode asym VM): a libvirt domain and a plain QEMU side
by side, one policy, `cgplace guests / plan / apply / verify`; then what systemd and libvirt
say about it, and a hand-made `virsh vcpupin` found as drift and repaired."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmtest as T  # noqa: E402
import vmlibvirt as L  # noqa: E402

CG = os.environ["CGPLACE"]
RUN = "/run/cgplace-demo"
os.makedirs(RUN, exist_ok=True)
os.environ["CGPLACE_LOCK"] = RUN + "/lock"
rc = 0


def show(title, cmd, want=0):
    global rc
    print("\n==== $ " + title, flush=True)
    r = subprocess.run(cmd, text=True).returncode
    if want is not None and r != want:
        print("!!! exited %d" % r)
        rc = 1
    return r


def cgplace(*args, want=0):
    return show("cgplace " + " ".join(args), [CG] + list(args), want)


nodes = T.nodes_online()
kind = {n: T.node_kind(n) for n in nodes}
cpumem = [n for n in nodes if kind[n] == "cpu+memory"]
big = max(cpumem, key=lambda n: len(T.node_cpus(n)))
small = [n for n in cpumem if n != big][0]
M = [n for n in nodes if kind[n] == "memory-only"][0]
bc = T.node_cpus(big)
print("==== systemd %s is PID 1; nodes: %s" % (subprocess.run(["systemctl", "--version"], capture_output=True,
                                                              text=True).stdout.split()[1],
                                            ", ".join("%d %s" % (n, kind[n]) for n in nodes)), flush=True)
print("\n==== starting libvirtd and a paused libvirt domain 'lvweb' (2 vCPUs), and a plain QEMU 'plain'",
      flush=True)
err = L.start_libvirtd()
if err:
    print("!!! " + err)
    sys.exit(1)
d = L.Domain("lvweb", vcpus=2, memory_mib=64)
subprocess.run(["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "64", "-smp", "2", "-nodefaults", "-display",
                "none", "-daemonize", "-pidfile", RUN + "/plain.pid", "-name", "plain,debug-threads=on"],
               check=True, timeout=120)
plain = int(open(RUN + "/plain.pid").read())

policy = """# make demo-systemd
host {
    backend auto;        # systemd here: PID 1, unified cgroup v2, its bus answers
    libvirt persist;     # libvirt's guests: live and in their definition
}
guest lvweb {            # libvirt's: placed through libvirt's API
    vcpus 2;
    cpus %(b0)d,%(b1)d;
    memory 32M nodes %(M)d;   # the memory-only node
    vcpupin 0 %(b0)d;
    vcpupin 1 %(b1)d;
}
guest plain {            # started by hand: adopted into cgplace-plain.scope
    vcpus 2;
    cpus node %(small)d;
    memory 32M nodes %(small)d;
}
""" % dict(b0=bc[0], b1=bc[1], M=M, small=small)
path = RUN + "/policy.conf"
open(path, "w").write(policy)
print("\n==== policy.conf\n" + policy, flush=True)
try:
    cgplace("guests", "-p", path)
    cgplace("plan", path)
    cgplace("apply", path)
    cgplace("verify", path)
    show("systemctl status cgplace-plain.scope", ["systemctl", "--no-pager", "status", "cgplace-plain.scope"])
    show("systemctl show -p Delegate -p AllowedCPUs -p AllowedMemoryNodes cgplace-plain.scope",
         ["systemctl", "show", "-p", "Delegate", "-p", "AllowedCPUs", "-p", "AllowedMemoryNodes",
          "cgplace-plain.scope"])
    show("virsh vcpupin lvweb", ["virsh", "-c", L.URI, "vcpupin", "lvweb"])
    show("virsh numatune lvweb", ["virsh", "-c", L.URI, "numatune", "lvweb"])
    show("virsh vcpupin lvweb 0 %d --live   (an operator, by hand)" % bc[2],
         ["virsh", "-c", L.URI, "vcpupin", "lvweb", "0", str(bc[2]), "--live"])
    r = cgplace("verify", path, want=3)
    print("(verify exit status %d: drift found)" % r)
    cgplace("apply", path)
    cgplace("verify", path)
finally:
    try:
        os.kill(plain, signal.SIGKILL)
    except ProcessLookupError:
        pass
sys.exit(rc)
