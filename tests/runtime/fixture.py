"""A fake host for the runtime verbs (tests/runtime/run.py): the asym
fixture of tests/fixtures/mkfixtures.py (8 possible CPUs; node 0 CPUs 0-3,
node 1 CPUs 4-5, node 2 CPUs 6-7 without memory, node 3 memory only), one
4-vCPU QEMU guest rhel5xen with thread names and an I/O thread io1, one
guest without thread names, and a cgroup root of plain files where
rhel5xen is already placed (cgplace/rhel5xen/{emulator,vcpuN,iothread-io1}).
Plain files do not act like the kernel: an effective set never follows a
write, so a change is read back as a mismatch and rolled back."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import harness as H  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = "/usr/bin/qemu-system-x86_64"
PID, ANON = 5000, 6000
UUID = "8f0c5e6a-1d2b-4c3d-9e4f-000000000005"
# tid: comm, state, utime, stime, last CPU, Cpus_allowed_list, group
THREADS = {
    5000: ("qemu-system-x86", "S", 120, 30, 4, "4-7", "emulator"),
    5001: ("qemu-system-x86", "S", 3, 1, 6, "4-7", "emulator"),
    5002: ("CPU 0/KVM", "R", 3000, 222, 4, "4", "vcpu0"),
    5003: ("CPU 1/KVM", "S", 1500, 106, 5, "5", "vcpu1"),   # 16.06 s: rounds to 16.1
    5004: ("CPU 2/KVM", "R", 990, 10, 6, "6", "vcpu2"),
    5005: ("CPU 3/KVM", "D", 45, 5, 7, "7", "vcpu3"),
    5006: ("IO io1", "S", 12, 8, 5, "4-7", "iothread-io1"),
}
# a guest libvirt owns (fake libvirt.so.0: tests/cgctl/fakevirt.c)
LV, LV_UUID = 7000, "5b5f3e58-0000-4000-8000-000000000007"
LV_SCOPE = "/machine.slice/machine-qemu\\x2d1\\x2dlv1.scope/libvirt"
LV_THREADS = {7000: ("qemu-system-x86", "S", 1, 1, 0, "0-7", "emulator"),
              7001: ("CPU 0/KVM", "S", 1, 1, 1, "0-7", "vcpu0"),
              7002: ("CPU 1/KVM", "S", 1, 1, 2, "0-7", "vcpu1"),
              7003: ("IO mon_iothread", "S", 1, 1, 3, "0-7", "emulator")}   # QEMU's, not libvirt's
ANON_THREADS = {6000: "qemu-system-x86", 6001: "qemu-system-x86", 6002: "qemu-system-x86"}
NUMA_MAPS = ("7f0000000000 default anon=262144 dirty=262144 N1=262100 N3=44 kernelpagesize_kB=4\n"
             "55d000000000 default file=/usr/bin/qemu-system-x86_64 mapped=900 N0=900 kernelpagesize_kB=4\n"
             "7ffd00000000 default stack anon=33 dirty=33 N1=33 kernelpagesize_kB=4\n")
POLICY = """# the walkthrough's guest
host {
    reserve cpus 0;
}

guest rhel5xen {
    vcpus 4;
    cpus 4-7;
    memory 512M nodes 1 mode strict;
    vcpupin 0 4;   # the seed's virsh vcpupin rhel5xen 0 4
    vcpupin 1 5;
    vcpupin 2 6;
    vcpupin 3 7;
    emulatorpin 4-7;
    iothreadpin io1 4-7;
}
"""
LV_POLICY = """# the libvirt guest
guest lv1 {
    vcpus 2;
    cpus 1-7;
    memory 64M nodes 0;
}
"""


def w(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)


def stat(tid, comm, state, ut, st, cpu):
    f = ["0"] * 52
    f[0], f[1], f[2], f[13], f[14], f[21], f[38] = str(tid), f"({comm})", state, str(ut), str(st), "5", str(cpu)
    return " ".join(f) + "\n"


def process(fx, pid, argv, threads, cgroup):
    d = f"{fx}/proc/{pid}"
    os.makedirs(d)
    H.guest_identity(fx, pid)
    w(d + "/comm", "qemu-system-x86\n")
    w(d + "/cmdline", "".join(a + "\0" for a in argv))
    w(d + "/stat", stat(pid, "qemu-system-x86", "S", 1, 1, 0))
    w(d + "/cgroup", f"0::{cgroup}/emulator\n" if threads[pid][6] else f"0::{cgroup}\n")
    w(d + "/numa_maps", NUMA_MAPS)
    for tid, (comm, state, ut, st, cpu, cpus, group) in threads.items():
        t = f"{d}/task/{tid}"
        w(t + "/comm", comm + "\n")
        w(t + "/stat", stat(tid, comm, state, ut, st, cpu))
        w(t + "/cgroup", f"0::{cgroup}/{group}\n" if group else f"0::{cgroup}\n")
        w(t + "/status", f"Name:\t{comm}\nTgid:\t{pid}\nPid:\t{tid}\nCpus_allowed_list:\t{cpus}\n"
          "Mems_allowed_list:\t1\n")


def cgroup_tree(root):
    w(root + "/cgroup.controllers", "cpuset cpu memory\n")
    w(root + "/cgroup.subtree_control", "cpuset\n")
    w(root + "/cgroup.procs", "1\n")
    w(root + "/cpuset.cpus.effective", "0-7\n")
    w(root + "/cpuset.mems.effective", "0-1,3\n")
    g = root + "/cgplace/rhel5xen"
    for d, cpus in [(root + "/cgplace", ""), (g, "4-7")] + [
            (f"{g}/{grp}", c) for _, (_, _, _, _, _, c, grp) in sorted(THREADS.items())]:
        w(d + "/cgroup.controllers", "cpuset\n")
        w(d + "/cgroup.subtree_control", "cpuset\n" if d in (root + "/cgplace", g) else "\n")
        w(d + "/cgroup.type", "threaded\n" if d.count("/") > g.count("/") else
          ("domain threaded\n" if d == g else "domain\n"))
        w(d + "/cgroup.procs", "")
        w(d + "/cgroup.threads", "")
        w(d + "/cpuset.cpus", cpus + "\n")
        w(d + "/cpuset.mems", ("1" if cpus else "") + "\n")
        w(d + "/cpuset.cpus.effective", (cpus or "0-7") + "\n")
        w(d + "/cpuset.mems.effective", ("1" if cpus else "0-1,3") + "\n")


def build(work):
    subprocess.run([sys.executable, os.path.join(HERE, "..", "fixtures", "mkfixtures.py"), work, "asym"],
                   check=True, stdout=subprocess.DEVNULL)
    fx = work + "/asym"
    process(fx, PID, [QEMU, "-name", "guest=rhel5xen,debug-threads=on", "-uuid", UUID, "-smp", "4",
                      "-object", "iothread,id=io1"], THREADS, "/cgplace/rhel5xen")
    process(fx, ANON, [QEMU, "-name", "anon", "-smp", "2"],
            {t: (c, "S", 1, 1, 0, "0-7", "") for t, c in ANON_THREADS.items()}, "/user.slice")
    process(fx, LV, [QEMU, "-name", "guest=lv1,debug-threads=on", "-uuid", LV_UUID], LV_THREADS, LV_SCOPE)
    cg = work + "/cg"
    cgroup_tree(cg)
    w(work + "/policy.conf", POLICY)
    w(work + "/lv.conf", LV_POLICY)
    return fx, cg


def virt_state(fx):
    """libvirt's view of lv1 for the fake: nothing pinned, no numatune."""
    return (f"proc {fx}/proc\nncpus 8\ndomain lv1 {LV_UUID}\npid {LV}\n"
            "vcpu 0 0-7 7001\nvcpu 1 0-7 7002\nemulator 0-7 7000,7003\n")
