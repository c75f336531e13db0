#!/usr/bin/env python3
"""Watch benchmark (issue 9, "Performance (benchmark, in the VM)"), host side. Not a test.

    bench/watch/run.py [--out docs/PERFORMANCE.md] [--build build] [--starts 20] [--idle 60] [--no-boot]

Boots the asym test VM once (tests/vm/run-vm.sh) with bench/watch/inside.sh, reads
BUILD/bench-watch/vm-results/bench-watch.json and rewrites the section between
<!-- BEGIN watch --> and <!-- END watch --> of --out. --no-boot only re-renders. Standard
library only.
"""
import argparse
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from hostside import REPO, boot, errors_section, med, n, s, splice  # noqa: E402


def worst(d, k):
    v = d.get("samples", {}).get(k)
    return max(v) if v else None


def render(d):
    L = []
    w = L.append
    vm, sc, idle = d.get("vm", {}), d.get("syscalls", {}), d.get("idle", {})
    w("## The watch daemon: placement latency, idle cost, re-check (issue 9)")
    w("")
    w("Benchmark of issue 9. It is not a test and `make check` does not run it; nothing in the tests "
      "asserts a time. Regenerate this section with `make bench-watch` (`bench/watch/run.py`, which boots "
      "the asym VM once; `bench/watch/inside.py` runs inside it). Run on %s." % d.get("_when", "?"))
    w("")
    w("* One boot of the test VM in initramfs mode (cgroupfs backend): QEMU TCG without KVM, %s vCPUs, "
      "Linux %s. Host: %s; 1-minute load average %s. TCG makes every system call and page fault "
      "several times dearer than on hardware: compare the rows with each other, and read the system "
      "call counts, which do not depend on the emulation." % (vm.get("cpus", "?"), vm.get("kernel", "?"),
                                                                d.get("_host", "?"), d.get("_load", "?")))
    w("* The guests are stand-ins (`bench/apply/fakeqemu.c` run as `qemu-system-x86_64` with QEMU's "
      "command line, 4 vCPU threads and an emulator thread, named as with `debug-threads=on`): they "
      "start and name their threads at once, so the latency is watch's, not QEMU's start-up (a real "
      "QEMU under TCG takes about 2 s to create its vCPU threads: tests/vm/t/54-watch.py logs it).")
    w("")
    w("### From exec to every thread placed")
    w("")
    w("Time from starting the guest's process to every one of its threads in its cgroup with its "
      "CPUs and nodes, as `/proc` shows it (polled every millisecond by the benchmark).")
    w("")
    w("| method | median | worst | starts | system calls per placement |")
    w("|---|---|---|---|---|")
    wp = sc.get("watch_placement", {})
    w("| `cgplace watch` (proc connector) | %s | %s | %d | %s (watch's, `strace -c -p` over one start: %s) |"
      % (s(med(d, "watch_latency"), "ms"), s(worst(d, "watch_latency"), "ms"), n(d, "watch_latency"),
         wp.get("total", "n/a"), ", ".join("%s %d" % kv for kv in list(wp.get("top", {}).items())[:6])))
    ai = sc.get("apply_iteration", {})
    w("| `cgplace apply` every 5 s (numad's interval) | %s | %s | %d | %s per iteration, placing or not |"
      % (s(med(d, "loop_latency")), s(worst(d, "loop_latency")), n(d, "loop_latency"), ai.get("total", "n/a")))
    w("")
    m = med(d, "watch_latency")
    if m is not None:
        w("**Goal: median under 20 ms with the proc connector (on hardware): %s here, under TCG** "
          "(%.1f ms). What it costs: on the exec event, reading the new process and one engine run for it "
          "alone (placed whole, from the compiled placement watch keeps), then one more per thread once "
          "its threads are named; the full pass that settles it 2 s later is outside this time but in "
          "the system call count when it fell in the traced second. The system calls are the measure "
          "that does not depend on the emulation. A loop "
          "of `apply` every 5 s places a guest after half the interval plus a run on average, and makes "
          "its system calls every 5 s whether anything started or not (%s an hour); watch makes none "
          "between events." % (
              "met" if m < 0.020 else "not met", m * 1000,
              "%d" % (ai["total"] * 720) if ai.get("total") else "n/a"))
        w("")
    w("### Idle cost")
    w("")
    if idle:
        hz = idle.get("hz", 100)
        used = ("%.2f s of CPU time (utime + stime, %d Hz ticks), **%.1f s per hour** scaled"
                % (idle.get("cpu_s", 0), hz, idle.get("per_hour_s", 0)) if idle.get("cpu_s") else
                "no CPU time at all (utime + stime: not one %d Hz tick), **under %.2f s per hour** scaled "
                "(one tick in the %.0f s)" % (hz, 3600.0 / hz / max(idle.get("wall_s", 60), 1),
                                              idle.get("wall_s", 0)))
        w("With 50 placed guests (200 vCPU threads) and nothing happening for %.0f s: watch used %s "
          "(goal: under 1 s); "
          "VmRSS %d KiB, VmHWM %d KiB. Between events it sleeps in `ppoll` on its netlink, inotify and "
          "signal fds, with one timer: the full pass (`--interval`, default 60 s; 3600 s here, so "
          "the measurement holds no full pass)."
          % (idle.get("wall_s", 0), used, idle.get("rss_kib", 0), idle.get("hwm_kib", 0)))
        w("")
        fp = med(d, "watch_full_pass")
        if fp:
            w("The periodic full pass is the rest of the idle cost: with the default `--interval 60`, 60 "
              "passes an hour of %s each (wall time, measured below, an upper bound of its CPU time) is at "
              "most **%.1f s per hour** here under TCG, so the 1 s goal holds with the events alone and "
              "needs `--interval %d` or more under TCG with 50 guests; on hardware a pass is many times "
              "cheaper. The interval is the knob: the events catch exec, hotplug and moved threads at "
              "once; the pass is the safety net for what no event shows (a set rewritten in place)."
              % (s(fp, "ms"), fp * 60, int(fp * 3600) + 1))
            w("")
    w("### Re-check of 50 placed guests after an event that changes nothing")
    w("")
    rc, ap, fp = med(d, "recheck"), med(d, "apply_rerun"), med(d, "watch_full_pass")
    w("| what | median | runs |")
    w("|---|---|---|")
    w("| watch's re-check (model: online CPUs and nodes, each guest's pid and start time; %s files) "
      "| %s | %d |" % (d.get("recheck_files", "?"), s(rc, "ms"), n(d, "recheck")))
    w("| watch's full pass (discover, compile, apply engine, read-back; a reload) | %s | %d |"
      % (s(fp, "ms"), n(d, "watch_full_pass")))
    w("| `cgplace apply` re-run (a new process: start-up, scan, compile, engine) | %s | %d |"
      % (s(ap, "ms"), n(d, "apply_rerun")))
    w("")
    r10 = sc.get("recheck10", {}).get("total")
    if rc and ap:
        w("**Goal: under 5 ms on hardware: %s under TCG** (%.2f ms); %.0f× less than an `apply` re-run. "
          "%s" % ("met even" if rc < 0.005 else "not met", rc * 1000, ap / rc,
                  "Ten re-checks made %d system calls (%.0f each: open, read, close of each file)." % (
                      r10, r10 / 10) if r10 else ""))
        w("")
    L += errors_section(d)
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "docs/PERFORMANCE.md"))
    ap.add_argument("--build", default="build")
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--no-boot", action="store_true")
    a = ap.parse_args()
    bdir = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    resdir = os.path.join(bdir, "bench-watch", "vm-results")
    path = os.path.join(resdir, "bench-watch.json")
    if not a.no_boot:
        load = os.getloadavg()[0]
        d = boot("bench-watch", "asym", os.path.join(HERE, "inside.sh"), resdir, "bench-watch.json",
                 {"B": bdir, "CGPLACE_TEST_BENCH_STARTS": str(a.starts), "CGPLACE_TEST_BENCH_IDLE": str(a.idle)},
                 900)
        d["_load"] = "%.2f at the start, %.2f at the end" % (load, os.getloadavg()[0])
        d["_when"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        d["_host"] = "%d CPUs, Linux %s" % (os.cpu_count(), os.uname().release)
        json.dump(d, open(path, "w"), indent=1, sort_keys=True)
    d = json.load(open(path))
    splice(a.out, "watch", render(d))
    print("bench-watch: wrote the watch section of %s" % a.out)
    return 1 if d.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
