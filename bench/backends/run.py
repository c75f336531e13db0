#!/usr/bin/env python3
"""Backends benchmark (issue 13, "Performance (benchmark)"), host side. Not a test.

    bench/backends/run.py [--out docs/PERFORMANCE.md] [--build build] [--budget 150]
                          [--runs 9] [--domains 4] [--lv-runs 5] [--lv-budget 120] [--no-boot]

Boots the systemd-mode test VM once (tests/vm/run-vm.sh --systemd, topos/asym-systemd.topo)
with bench/backends/inside.sh: 20 stand-in guests placed by `cgplace apply` under the systemd
backend and under the cgroupfs backend, D-Bus messages counted with dbus-monitor and strace,
then paused libvirt domains placed by `cgplace apply` and by a loop of virsh commands. Reads
BUILD/bench-backends/vm-results/bench-backends.json and rewrites the section between
<!-- BEGIN backends --> and <!-- END backends --> of --out. --no-boot only re-renders.
Standard library only.
"""
import datetime
import json
import os
import platform
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import hostside  # noqa: E402
from hostside import REPO, errors_section, boot, med, mn, n, s, splice  # noqa: E402


def cpu_med(rows, key):
    v = [r[key] for r in rows or [] if key in r]
    return statistics.median(v) if v else None


def host_cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def checks_line(d, prefix):
    cs = [c for c in d.get("checks", []) if c["method"].startswith(prefix)]
    bad = sum(1 for c in cs if c["mismatches"])
    th = sum(c["threads"] for c in cs)
    return "%d checks, %d threads, %s" % (len(cs), th, "every thread right" if not bad else
                                           "**%d checks found misplaced threads**" % bad)


def render(d):
    L = []
    w = L.append
    vm = d.get("vm", {})
    lv = d.get("libvirt", {})
    db = d.get("dbus", {})
    G = d.get("guests", 20)
    sd, fs = med(d, "systemd"), med(d, "cgroupfs")
    sdr, fsr = med(d, "systemd_reapply"), med(d, "cgroupfs_reapply")
    w("## Backends: systemd against cgroupfs, libvirt's API against virsh (issue 13)")
    w("")
    w("Benchmark of issue 13 (\"Performance (benchmark)\"). It is not a test and `make check` does not "
      "run it; nothing in the tests asserts a time. Regenerate this section with `make bench-backends` "
      "(`bench/backends/run.py`, which boots the VM once; `bench/backends/inside.py` runs inside it). "
      "Run on %s." % d.get("_when", "?"))
    w("")
    w("### Machine and boot")
    w("")
    nodes = ", ".join("node %s %s (CPUs %s)" % (k, v["kind"], v["cpus"] or "none")
                      for k, v in sorted(vm.get("nodes", {}).items()))
    w("* Host: %s, %s; 1-minute load average %s. The machine is virtualised and shared, so "
      "absolute times are noisy; the methods take turns in the same boot, so the ratios are the "
      "figures to read." % (d.get("_host", "?"), d.get("_host_kernel", "?"), d.get("_load", "?")))
    w("* One boot of the systemd-mode test VM (`tests/vm/run-vm.sh --systemd tests/vm/topos/asym-systemd.topo`, "
      "tests/vm/README.md): QEMU TCG without KVM (%s), %d vCPUs, %s MiB MemTotal, Linux %s; %s as PID 1 "
      "with dbus, journald, logind and machined up (`is-system-running`: %s), libvirtd started for part 2 "
      "(%s). NUMA: %s. The benchmark started %.0f s after boot and ran %.0f s."
      % (vm.get("qemu", "?"), vm.get("cpus", 0), vm.get("mem_total_mib", "?"), vm.get("kernel", "?"),
         vm.get("systemd", "?"), vm.get("system_state", "?"), lv.get("version", "not reached"), nodes,
         vm.get("uptime_at_start", 0), d.get("vm_seconds", 0)))
    w("* Times are wall time (`time.perf_counter()` around starting the command and waiting for it), "
      "median with the minimum in brackets. CPU seconds come from `/proc/PID/stat` of the daemons, "
      "`getrusage(RUSAGE_CHILDREN)` for the command and `/proc/stat` for the whole VM (every vCPU's "
      "non-idle time, the kernel's workers included), before and after each timed run. The VM runs "
      "single-threaded TCG: its 6 vCPUs take turns on one host thread while the guest's clock is the "
      "host's, so a task's CPU seconds inside the VM overstate its real cost when several vCPUs are "
      "busy; compare them with each other, not with wall time.")
    w("")
    # ---------------------------------------------------------------- part 1
    w("### 1. `apply` of %d plain guests: systemd backend against cgroupfs" % G)
    w("")
    w("* %d stand-in guests × %d vCPUs with thread names (`bench/apply/fakeqemu.c` as "
      "`qemu-system-x86_64 -name guest=gN,debug-threads=on -smp %d`), the guest patterns and policy "
      "blocks of the apply benchmark (`vcpupin` per vCPU, `emulatorpin`, `memory 1M nodes ...`, "
      "strict), started by the benchmark in its own unit (`cgp-vm-test.service`)."
      % (G, d.get("vcpus", 4), d.get("vcpus", 4)))
    w("* **systemd**: `host { backend systemd; }`: per guest a transient scope "
      "`cgplace.slice/cgplace-gN.scope` started over D-Bus (`StartTransientUnit` with `PIDs`, "
      "`Delegate=yes`, `AllowedCPUs`/`AllowedMemoryNodes`, waiting for the job's `JobRemoved`), then "
      "`gN/` and its threaded children written below the scope. **cgroupfs**: `host { backend cgroupfs; "
      "parent \"cgbench\"; }`, forced under systemd (cgplace warns: %s), `cgbench/gN/...` below the root."
      % ("\"%s…\"" % d["warnings"]["cgroupfs"][0][:90].replace("|", "\\|")
         if d.get("warnings", {}).get("cgroupfs") else "no warning was captured"))
    w("* Each run from a fresh start: the stand-ins killed and started again; for systemd the previous "
      "scopes go when their processes die, and the next run waits until `systemctl list-units "
      "'cgplace-*'` lists none and `cgplace.slice/` holds no `cgplace-*` cgroup (median %s after the "
      "kill); for cgroupfs the `cgbench` subtree is removed; then the run waits for the kernel to destroy "
      "the removed cgroups (root `nr_dying_descendants` 0 or unchanged for 1 s). The two backends take "
      "turns, the first of them alternating round by round: %d rounds within the time budget. Each first "
      "apply is followed by %d re-applies (zero changes: no op, no write, checked)."
      % (s(med(d, "scopes_gone"), "ms"), d.get("rounds", 0), n(d, "systemd_reapply") // max(1, n(d, "systemd"))))
    w("* After every first apply, every thread is checked against the kernel: `/proc/PID/task/TID/cgroup` "
      "(`/cgplace.slice/cgplace-gN.scope/gN/vcpuK` or `/cgbench/gN/vcpuK`), `Cpus_allowed_list` and "
      "`Mems_allowed_list` against the policy; for systemd also %d `cgplace-*` units with `Delegate=yes`. "
      "systemd: %s; cgroupfs: %s." % (G, checks_line(d, "systemd round"), checks_line(d, "cgroupfs round")))
    w("")
    ops = d.get("ops", {})

    def opsum(b):
        o = (ops.get(b) or [{}])[0]
        return ", ".join("%s %d" % (k, v) for k, v in sorted(o.items()))
    w("| backend | first apply | runs | re-apply | runs | first apply / cgroupfs | ops of the first apply (`apply --json`) |")
    w("|---|---|---|---|---|---|---|")
    for b, m_, r_ in (("systemd", sd, sdr), ("cgroupfs", fs, fsr)):
        w("| %s | %s (%s) | %d | %s (%s) | %d | %s | %s |" % (
            b, s(m_), s(mn(d, b)), n(d, b), s(r_, "ms"), s(mn(d, b + "_reapply"), "ms"), n(d, b + "_reapply"),
            "%.2f×" % (m_ / fs) if m_ and fs else "n/a", opsum(b)))
    w("")
    cpu = d.get("cpu", {})
    who = [("vm", "whole VM"), ("command", "cgplace itself"), ("systemd", "systemd (PID 1)"), ("dbus-daemon", "dbus-daemon"),
           ("systemd-machine", "machined"), ("systemd-logind", "logind"), ("systemd-journal", "journald")]
    w("CPU seconds during the first apply (median over the runs):")
    w("")
    w("| backend | %s |" % " | ".join(x[1] for x in who))
    w("|---|%s" % ("---|" * len(who)))
    for b in ("systemd", "cgroupfs"):
        w("| %s | %s |" % (b, " | ".join("%.2f" % cpu_med(cpu.get(b), k) if cpu_med(cpu.get(b), k) is not None
                                          else "n/a" for k, _ in who)))
    w("")
    # ---------------------------------------------------------------- D-Bus
    f = db.get("first", {})
    mon, st, rep = f.get("monitor", {}), f.get("strace", {}), f.get("report_ops", {})
    calls = mon.get("calls", {})
    w("### D-Bus round trips per guest (systemd backend)")
    w("")
    w("Counted outside cgplace, in one more systemd run (fresh start, not timed) and its re-apply:")
    w("")
    w("* **`dbus-monitor --system --profile`** (a monitor connection sees every message on the system "
      "bus), the capture cut into windows by `busctl call org.freedesktop.DBus ... GetId` markers before "
      "and after each apply. cgplace's connection is the sender of `StartTransientUnit` (clients: %s). "
      "A round trip is a method call of cgplace answered by a reply or error addressed to it."
      % (", ".join(mon.get("clients", [])) or "none"))
    w("* **`strace -f -T -e trace=connect,close,sendmsg,recvmsg,read,write,...,ppoll,poll`** on cgplace: "
      "the calls on the file descriptor it connected to `/run/dbus/system_bus_socket`, and the time it "
      "spent blocked in `ppoll` on it.")
    w("* cgplace's own report: the ops of kind `dbus` in `apply --json`.")
    w("")
    if mon:
        rt = mon.get("replies", 0) + mon.get("errors", 0)
        fixed = calls.get("Hello", 0)
        w("| measure | whole first apply (%d guests) | per guest |" % G)
        w("|---|---|---|")
        for k in sorted(calls, key=lambda x: -calls[x]):
            w("| method calls by cgplace: `%s` | %d | %s |" % (k, calls[k], "%.2f" % (calls[k] / G) if k != "Hello" else "(once)"))
        w("| **round trips** (calls answered: replies %d, errors %d) | **%d** | **%.2f** (+%d for the connection) |"
          % (mon.get("replies", 0), mon.get("errors", 0), rt, (rt - fixed) / G, fixed))
        w("| signals addressed to cgplace (the bus's `NameAcquired`...) | %d | |" % mon.get("unicast_signals", 0))
        bs = mon.get("broadcast_signals", {})
        w("| broadcast signals on the bus in the window (%s) | %d | %.1f |"
          % (", ".join("%s %d" % (k, v) for k, v in sorted(bs.items(), key=lambda x: -x[1])), sum(bs.values()),
             sum(bs.values()) / G))
        w("| all messages on the bus in the window (every sender) | %d | %.1f |"
          % (mon.get("total_messages", 0), mon.get("total_messages", 0) / G))
        if st:
            w("| strace: `sendmsg` on the bus socket (messages out, with the auth line) | %d | %.2f |"
              % (st.get("out", 0), st.get("out", 0) / G))
            w("| strace: `recvmsg` on it (with data / `EAGAIN`) | %d (%d / %d) | %.2f |"
              % (st.get("in", 0), st.get("in_data", 0), st.get("in_eagain", 0), st.get("in", 0) / G))
            w("| strace: waits for the bus (`ppoll` on it) | %d | %.2f |" % (st.get("poll_waits", 0),
                                                                            st.get("poll_waits", 0) / G))
            w("| strace: time blocked in those waits, of the whole traced apply | %s of %s | %s |"
              % (s(st.get("poll_wait_s")), s(f.get("seconds_traced")), s(st.get("poll_wait_s", 0) / G, "ms")))
        w("| cgplace's report: ops of kind `dbus` | %d | %.2f |"
          % (sum(v for k, v in rep.items() if k.startswith("dbus")), sum(v for k, v in rep.items() if k.startswith("dbus")) / G))
        w("")
        r2 = db.get("reapply", {})
        m2, s2 = r2.get("monitor", {}), r2.get("strace", {})
        w("Re-apply (zero changes): %d D-Bus calls by cgplace in the monitor's window (%d messages on the "
          "bus in all), %d connections to the bus socket in strace: %s."
          % (sum(m2.get("calls", {}).values()), m2.get("total_messages", 0), s2.get("connect", 0),
             "a re-apply does not talk to systemd at all (the bus is opened on the first D-Bus op)"
             if not s2.get("connect") and not m2.get("calls") else "it does talk to the bus"))
    else:
        w("Not measured in this run (see the errors below).")
    w("")
    # ---------------------------------------------------------------- part 2
    nd = lv.get("domains", 0)
    lc, lvv = med(d, "lv_cgplace"), med(d, "lv_virsh")
    w("### 2. libvirt guests: `cgplace apply` (libvirt's API) against a loop of virsh commands")
    w("")
    if not nd:
        w("Not measured in this run (see the errors below).")
        w("")
    else:
        rss = [x for x in lv.get("rss_mib", []) if x]
        w("* %d paused libvirt domains (`tests/vm/vmlibvirt.py`: TCG, 2 vCPUs, 64 MiB, no disk), defined "
          "with `<numatune><memory mode='restrictive' nodeset='(every node with memory)'/>`: libvirt 9.0 "
          "changes a running domain's nodeset only in restrictive mode (in strict mode the first "
          "`numatune --live` is accepted and the next refused), so the policy says `mode restrictive`. "
          "QEMU's RSS %s MiB each; MemAvailable %s MiB before the domains, %s MiB after (the topology's "
          "480 MiB are enough). Setting up libvirtd and the domains took %.0f s (%s)."
          % (nd, "/".join("%.0f" % x for x in rss), lv.get("mem_available_mib_before"),
             lv.get("mem_available_mib_after"), lv.get("setup_seconds", 0),
             ", ".join("%s %.1f s" % (k, v) for k, v in sorted(lv.get("timings", {}).items()))))
        w("* The policy pins each vCPU and the emulator and sets the nodes (the apply benchmark's "
          "patterns: `bench/lib/vmside.py`, `Host.guest_spec`): **cgplace** `cgplace --json apply` "
          "(backend auto: the domains are libvirt's, so the libvirt backend: one connection to "
          "`qemu:///system`, the live pins read, one API call per difference); **virsh** a `/bin/sh` "
          "`while read` loop over the domains running `virsh -c qemu:///system vcpupin DOM N CPUS --live`, "
          "`emulatorpin DOM CPUS --live` and `numatune DOM --nodeset N --live`, one command at a time "
          "(%d commands)." % lv.get("virsh_commands", 0))
        w("* Same start for every run: before each, the pins are reset to every CPU and the nodeset to "
          "every node with memory (a cgplace apply of a reset policy, checked from `/proc`, not timed). "
          "The domains' first placement after their start (%s) moved their pages onto their nodes; it is "
          "not a sample: later resets only widen the nodes, so the pages stay and no run migrates memory. "
          "The methods take turns, the first alternating: %d rounds; after each cgplace apply, 2 "
          "re-applies (no call, checked). Then %d rounds of the **pins only**: the reset keeps each "
          "domain's nodeset as the policy has it, so cgplace makes no `virDomainSetNumaParameters` call "
          "and the loop has no `numatune` command: no `cpuset.mems` write, so no memory walk by the kernel."
          % (s(lv.get("first_placement_seconds")), lv.get("rounds", 0), lv.get("rounds_pins", 0)))
        w("* After every run, every QEMU thread is checked from `/proc/PID/task/TID/status`: a vCPU thread "
          "(`CPU N/TCG`) on its pin, every other thread on the emulator's CPUs, all on the domain's nodes "
          "(`Cpus_allowed_list`, `Mems_allowed_list`): cgplace: %s; virsh: %s; resets: %s."
          % (checks_line(d, "libvirt cgplace"), checks_line(d, "libvirt virsh"), checks_line(d, "libvirt reset")))
        w("")
        o = (lv.get("ops") or [{}])[0]
        w("| method | what | median (min) | runs | virsh / method |")
        w("|---|---|---|---|---|")
        w("| cgplace apply | %s | %s (%s) | %d | %s |" % (", ".join("`%s` %d" % (k.split()[-1], v) for k, v in sorted(o.items())),
                                                        s(lc), s(mn(d, "lv_cgplace")), n(d, "lv_cgplace"),
                                                        "**%.1f×**" % (lvv / lc) if lc and lvv else "n/a"))
        w("| cgplace re-apply | no call | %s (%s) | %d | |" % (s(med(d, "lv_cgplace_reapply")),
                                                            s(mn(d, "lv_cgplace_reapply")), n(d, "lv_cgplace_reapply")))
        w("| virsh loop | %d commands | %s (%s) | %d | 1.0× |" % (lv.get("virsh_commands", 0), s(lvv),
                                                                 s(mn(d, "lv_virsh")), n(d, "lv_virsh")))
        lcp, lvp = med(d, "lv_cgplace_pins"), med(d, "lv_virsh_pins")
        if lcp and lvp:
            op = (lv.get("ops_pins") or [{}])[0]
            w("| cgplace apply, pins only | %s | %s (%s) | %d | **%.1f×** |" % (
                ", ".join("`%s` %d" % (k.split()[-1], v) for k, v in sorted(op.items())), s(lcp),
                s(mn(d, "lv_cgplace_pins")), n(d, "lv_cgplace_pins"), lvp / lcp))
            w("| virsh loop, pins only | %d commands | %s (%s) | %d | 1.0× |" % (
                lv.get("virsh_commands_pins", 0), s(lvp), s(mn(d, "lv_virsh_pins")), n(d, "lv_virsh_pins")))
        fl = lv.get("floor", {})
        vv, cv = (statistics.median(fl[k]) if fl.get(k) else None for k in ("virsh_version", "cgplace_version"))
        w("")
        lw = [("vm", "whole VM"), ("command", "the command (cgplace, or sh + virsh)"), ("libvirtd", "libvirtd"),
              ("systemd", "systemd (PID 1)"), ("systemd-machine", "machined"), ("dbus-daemon", "dbus-daemon")]
        w("CPU seconds during a run (median):")
        w("")
        w("| method | %s |" % " | ".join(x[1] for x in lw))
        w("|---|%s" % ("---|" * len(lw)))
        for k, label in (("cpu_cgplace", "cgplace apply"), ("cpu_virsh", "virsh loop"),
                         ("cpu_cgplace_pins", "cgplace apply, pins only"), ("cpu_virsh_pins", "virsh loop, pins only")):
            if not lv.get(k):
                continue
            w("| %s | %s |" % (label, " | ".join("%.2f" % cpu_med(lv.get(k), x) if cpu_med(lv.get(k), x) is not None
                                                 else "n/a" for x, _ in lw)))
        w("")
        w("Starting a process in this VM (medians of 3): `virsh -c qemu:///system version` (start, connect, "
          "one call) %s, `cgplace --version` %s." % (s(vv), s(cv)))
        w("")
        sc, sv = lv.get("strace_cgplace"), lv.get("strace_virsh")
        if sc and sv and sc.get("connect"):
            w("Under `strace -f -T` (one more run each, not timed; strace slows every system call, so read the "
              "shares): the calls on the socket to libvirtd (`/run/libvirt/libvirt-sock`) and the time spent "
              "blocked waiting for libvirtd's answers.")
            w("")
            w("| traced run | connections | messages out | reads (with data) | waits | blocked in waits, of the whole run |")
            w("|---|---|---|---|---|---|")
            for label, x in (("cgplace apply, %d domains" % nd, sc), ("one `virsh vcpupin --live`", sv)):
                w("| %s | %d | %d | %d (%d) | %d | %s of %s |" % (label, x.get("connect", 0), x.get("out", 0), x.get("in", 0),
                                                              x.get("in_data", 0), x.get("poll_waits", 0),
                                                              s(x.get("poll_wait_s")), s(x.get("seconds_traced"))))
            w("")
    # ---------------------------------------------------------------- goals
    w("### Goals")
    w("")
    if sd and fs:
        c_sd, c_fs = cpu.get("systemd"), cpu.get("cgroupfs")
        pid1 = cpu_med(c_sd, "systemd")
        dbusd = cpu_med(c_sd, "dbus-daemon")
        mach = cpu_med(c_sd, "systemd-machine")
        own_sd, own_fs = cpu_med(c_sd, "command"), cpu_med(c_fs, "command")
        wait = st.get("poll_wait_s") if st else None
        w("* systemd within 1.5× of cgroupfs: **%s**: %.2f× (first apply %s against %s; re-apply %s against "
          "%s, %.2f×)." % ("met" if sd / fs <= 1.5 else "not met", sd / fs, s(sd), s(fs), s(sdr, "ms"), s(fsr, "ms"),
                           sdr / fsr if sdr and fsr else 0))
        if sd / fs > 1.5:
            w("  What dominates is systemd's side of the %d `StartTransientUnit` jobs, not cgplace: cgplace "
              "makes the same cgroup writes under both backends (%s ops against %s) and its own CPU is %s "
              "against %s s; during the systemd apply PID 1 used %s s of CPU, dbus-daemon %s s and "
              "machined %s s (it follows every unit over D-Bus), about %s per guest all told; under strace, "
              "cgplace spent %s of %s blocked waiting for the bus. Each scope costs systemd a unit, its cgroup "
              "with `cpuset` enabled down the slice, the PID moved (the guest's pages migrate to its nodes "
              "there, as in cgroupfs's `cgroup.procs` write), a job and %.0f signals to the bus's "
              "subscribers. Under TCG each of those is many times slower than on hardware, but cgplace "
              "cannot make systemd's part smaller than one job per guest; what it could still do is send "
              "the %d calls without waiting for each job in turn (pipelining), which would overlap cgplace's "
              "own writes with systemd's work but not shorten systemd's. cgplace's own share of the bus is "
              "%.2f round trips per guest: its `StartTransientUnit` (the `JobRemoved` match is added once "
              "per connection)."
              % (G, sum((ops.get("systemd") or [{}])[0].values()), sum((ops.get("cgroupfs") or [{}])[0].values()),
                 "%.2f" % own_sd if own_sd is not None else "n/a", "%.2f" % own_fs if own_fs is not None else "n/a",
                 "%.2f" % pid1 if pid1 is not None else "n/a", "%.2f" % dbusd if dbusd is not None else "n/a",
                 "%.2f" % mach if mach is not None else "n/a",
                 s(((pid1 or 0) + (dbusd or 0) + (mach or 0)) / G, "ms"),
                 s(wait), s(f.get("seconds_traced")),
                 sum(mon.get("broadcast_signals", {}).values()) / G if mon else 0, G,
                 (mon.get("replies", 0) + mon.get("errors", 0) - 1) / G if mon else 0))
    if lc and lvv:
        cc, cv_ = lv.get("cpu_cgplace"), lv.get("cpu_virsh")
        cp_ = lv.get("cpu_cgplace_pins")
        lcp, lvp = med(d, "lv_cgplace_pins"), med(d, "lv_virsh_pins")
        ops_all, ops_pins = (lv.get("ops") or [{}])[0], (lv.get("ops_pins") or [{}])[0]
        n_numa = sum(v for k, v in ops_all.items() if k.endswith("SetNumaParameters"))
        sc, sv = lv.get("strace_cgplace") or {}, lv.get("strace_virsh") or {}

        def c(rows, k):
            v = cpu_med(rows, k)
            return "%.2f" % v if v is not None else "n/a"
        w("* libvirt: at least 5× faster than the virsh loop: **%s** for the whole placement, %.1f× (%s against "
          "%s, %d domains)%s."
          % ("met" if lvv / lc >= 5 else "not met", lvv / lc, s(lc), s(lvv), nd,
             "; **%s** for the pins alone, %.1f× (%s against %s)" % ("met" if lvp / lcp >= 5 else "not met",
                                                                  lvp / lcp, s(lcp), s(lvp)) if lcp and lvp else ""))
        w("  Where the time goes. The loop starts %d `virsh` processes, %s each on average (%s s of CPU in "
          "all)%s: a virsh command is mostly its own start and connection, once per pin. cgplace starts once, "
          "connects once and makes %d calls%s."
          % (lv.get("virsh_commands", 0), s(lvv / max(1, lv.get("virsh_commands", 1))), c(cv_, "command"),
             "; under strace one `virsh vcpupin --live` waited %s of its %s for libvirtd"
             % (s(sv.get("poll_wait_s")), s(sv.get("seconds_traced"))) if sv.get("connect") else "",
             sum(ops_all.values()),
             "; under strace it waited %s of its %s for libvirtd's answers" % (s(sc.get("poll_wait_s")),
                                                                              s(sc.get("seconds_traced")))
             if sc.get("connect") else ""))
        if lcp and lvp and n_numa:
            w("  What holds the whole placement under 5× is the nodeset: the %d `virDomainSetNumaParameters` "
              "calls make the difference between cgplace's two runs, %s (%s each), and the whole VM's CPU goes "
              "from %s s (pins alone) to %s s, while cgplace's own CPU (%s → %s s) and libvirtd's (%s → %s s) "
              "change little. The rest is outside both, most likely the kernel's (not broken down further here): "
              "libvirtd writes `cpuset.mems` of the emulator's and of each vCPU's cgroup, and for each write "
              "the kernel migrates QEMU's memory to the new nodes, synchronously, in its workers (probe (d) of "
              "tests/vm/README.md), walking QEMU's mappings even when little or nothing is left to move, as "
              "here after the domains' first placement (which had pages to move and took %s). The virsh loop pays the same kernel time (%s against %s for its "
              "pins alone), so the ratio of the whole placement is roughly (virsh's pins + the kernel's walks + "
              "%d more virsh starts) / (cgplace's pins + the same walks). cgplace cannot skip the walk: it is "
              "what a live nodeset change is. Without it, cgplace is %.1f× faster."
              % (n_numa, s(lc - lcp), s((lc - lcp) / n_numa, "ms"), c(cp_, "vm"), c(cc, "vm"),
                 c(cp_, "command"), c(cc, "command"), c(cp_, "libvirtd"), c(cc, "libvirtd"),
                 s(lv.get("first_placement_seconds")), s(lvv), s(lvp),
                 lv.get("virsh_commands", 0) - lv.get("virsh_commands_pins", 0), lvp / lcp))
        w("  A cgplace re-apply (start, discovery, connect, every pin and nodeset read, `/proc` checked, no "
          "call) takes %s; it runs right after a first apply, while the kernel may still be busy with "
          "that apply's aftermath, so it is not a clean measure of the fixed cost (the pins-alone apply, "
          "with %d calls, took %s)." % (s(med(d, "lv_cgplace_reapply")), sum(ops_pins.values()), s(lcp)))
    w("")
    w("### Reproduce")
    w("")
    w("```sh")
    w("make bench-backends    # builds cgplace and the stand-in, boots the systemd-mode VM once (~6-7 minutes)")
    w("make bench-backends BENCH_BACKENDS_ARGS=\"--budget 150 --runs 9 --domains 4 --lv-runs 5 --lv-budget 120\"")
    w("bench/backends/run.py --no-boot    # re-render this section from the last run's JSON")
    w("```")
    w("")
    w("Raw results: `build/bench-backends/vm-results/bench-backends.json` (every sample, the CPU "
      "figures, every check), with the dbus-monitor capture and the strace of the counted run beside it. "
      "Needs what `make check-vm` needs for the systemd mode (`scripts/deps.sh vm`: QEMU, libvirt, "
      "systemd-container, dbus) and strace.")
    w("")
    L += errors_section(d)
    return "\n".join(L)


def main():
    ap = hostside.arguments(150.0, "seconds of part 1 (systemd/cgroupfs) in the VM", 9,
                            "first applies per backend at most", 20)
    ap.add_argument("--domains", type=int, default=4, help="libvirt domains")
    ap.add_argument("--lv-runs", type=int, default=5, help="rounds of part 2 at most")
    ap.add_argument("--lv-budget", type=float, default=120.0, help="seconds of part 2's rounds")
    a = ap.parse_args()
    bdir = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    resdir = os.path.join(bdir, "bench-backends", "vm-results")
    path = os.path.join(resdir, "bench-backends.json")
    if a.no_boot:
        d = json.load(open(path))
    else:
        env = {"CGPLACE_TEST_BENCH_BUDGET": str(a.budget), "CGPLACE_TEST_BENCH_RUNS": str(a.runs),
               "CGPLACE_TEST_BENCH_GUESTS": str(a.guests), "CGPLACE_TEST_BENCH_DOMAINS": str(a.domains),
               "CGPLACE_TEST_BENCH_LV_RUNS": str(a.lv_runs), "CGPLACE_TEST_BENCH_LV_BUDGET": str(a.lv_budget),
               "B": bdir}
        load = os.getloadavg()[0]
        d = boot("bench-backends", "asym-systemd", os.path.join(HERE, "inside.sh"), resdir, "bench-backends.json",
                 env, int(a.budget + a.lv_budget + 330), systemd=True)
        d["_load"] = "%.2f at the start, %.2f at the end" % (load, os.getloadavg()[0])
        d["_when"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        d["_host"] = "%d CPUs (%s)" % (os.cpu_count(), host_cpu())
        d["_host_kernel"] = "Linux %s" % platform.release()
        json.dump(d, open(path, "w"), indent=1, sort_keys=True)
    splice(a.out, "backends", render(d))
    print("bench-backends: wrote the backends section of %s" % a.out)
    return 1 if d.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
