#!/usr/bin/env python3
"""make demo, part 2 (inside the asym VM): start three QEMU guests, write a policy
for them, then cgplace guests / check / plan / apply / verify, and show where every
thread and its memory ended up. Node ids come from the guest kernel's sysfs."""
import os, signal, subprocess, sys, time

CG = os.environ["CGPLACE"]
RUN = "/run/cgplace-demo"
os.makedirs(RUN, exist_ok=True)
SYS = "/sys/devices/system/node"
rc = 0


def sh(*args, check=True):
    global rc
    print("\n==== $ cgplace " + " ".join(args), flush=True)
    p = subprocess.run([CG] + list(args), text=True)
    if check and p.returncode != 0:
        print("!!! exited %d" % p.returncode)
        rc = 1
    return p.returncode


def node_info(n):
    cpus = open("%s/node%d/cpulist" % (SYS, n)).read().strip()
    mem = 0
    for line in open("%s/node%d/meminfo" % (SYS, n)):
        if "MemTotal" in line:
            mem = int(line.split()[3])
    return cpus, mem


nodes = sorted(int(d[4:]) for d in os.listdir(SYS) if d.startswith("node") and d[4:].isdigit())
info = {n: node_info(n) for n in nodes}
cpumem = [n for n in nodes if info[n][0] and info[n][1] > 0]
memonly = [n for n in nodes if not info[n][0] and info[n][1] > 0]
big = max(cpumem, key=lambda n: info[n][1])
small = [n for n in cpumem if n != big][0]
M = memonly[0]

procs = {}


def start(name, extra):
    pidfile = "%s/%s.pid" % (RUN, name)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-S", "-m", "64", "-nodefaults", "-display", "none",
           "-daemonize", "-pidfile", pidfile] + extra
    subprocess.run(cmd, check=True, timeout=120)
    procs[name] = int(open(pidfile).read())


print("\n==== starting three QEMU guests (TCG, paused): web (debug-threads), db (QMP only), "
      "itanic (48 MiB preallocated, bound to memory-only node %d)" % M, flush=True)
# The memory-only node (128 MiB) also takes the VM's page cache once the CPU
# nodes are full (files read over 9p): drop it so that itanic's pages fit.
os.system("sync; echo 3 > /proc/sys/vm/drop_caches")
start("web", ["-name", "guest=web,debug-threads=on", "-smp", "2"])
start("db", ["-name", "db", "-smp", "2", "-qmp", "unix:%s/db.qmp,server=on,wait=off" % RUN])
start("itanic", ["-name", "guest=itanic,debug-threads=on", "-mem-prealloc", "-m", "48"])

policy = """# make demo: the asym VM
host {
    parent "cgplace";
    unmanaged warn;
}
guest web {
    vcpus 2;
    cpus node %(big)d;
    memory 32M nodes %(big)d;
    vcpupin 0 %(b0)s;
    vcpupin 1 %(b1)s;
}
guest db {
    match qmp "%(run)s/db.qmp";
    vcpus 2;
    cpus node %(small)d;
    memory 16M nodes local;     # the small node: the kernel keeps much of it
}
guest itanic {
    vcpus 1;
    cpus node %(big)d;
    memory 48M nodes %(M)d;     # memory with no CPUs
}
""" % dict(big=big, small=small, M=M, run=RUN,
           b0=info[big][0].split(",")[0].split("-")[0], b1=info[big][0].split(",")[0].split("-")[-1])
path = RUN + "/policy.conf"
open(path, "w").write(policy)
print("\n==== policy.conf\n" + policy, flush=True)
try:
    sh("check", path)
    sh("guests", "-p", path)
    sh("plan", path)
    if sh("apply", path) != 0:
        raise SystemExit(1)
    sh("verify", path)
    print("\n==== $ cgplace apply (again: nothing to do)", flush=True)
    sh("--json", "apply", path)
    print("\n==== an operator widens web's vCPU 0 by hand ...", flush=True)
    with open("/sys/fs/cgroup/cgplace/web/vcpu0/cpuset.cpus", "w") as f:
        f.write(info[big][0])
    r = sh("verify", path, check=False)
    print("(verify exit status %d: drift found)" % r)
    if r != 3:
        rc = 1
    sh("apply", path)
    sh("verify", path)
finally:
    for pid in procs.values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
sys.exit(rc)
