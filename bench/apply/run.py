#!/usr/bin/env python3
"""Apply benchmark (issue 5, "Performance (benchmark, in the VM)"), host side. Not a test.

    bench/apply/run.py [--out docs/PERFORMANCE.md] [--build build]
                       [--budget 165] [--runs 5] [--profile | --only-profile] [--no-boot]

Boots the asym test VM once (tests/vm/run-vm.sh) with bench/apply/inside.sh, which starts
50 stand-in guests x 4 vCPUs and places them with cgplace apply, a shell script and
libcgroup's cgconfigparser; reads BUILD/bench-apply/vm-results/bench-apply.json and rewrites the
section between <!-- BEGIN apply --> and <!-- END apply --> of --out (created at the end of
the file if absent; nothing else in the file is touched). --profile boots a second VM that
runs cgplace apply under strace (BUILD/bench-apply/vm-profile/bench-apply.json) and adds where the
time goes (with BUILD/bench-apply/syscost, run on the host, for a native estimate); --only-profile
boots only that one. --no-boot only re-renders from the JSON files already there.
Standard library only.
"""
import datetime
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from hostside import REPO, errors_section, med, mn, n, ratio, s, splice  # noqa: E402
import hostside  # noqa: E402


def boot(resdir, env_extra, timeout):
    return hostside.boot("bench-apply", "asym", os.path.join(HERE, "inside.sh"), resdir, "bench-apply.json",
                         env_extra, timeout)


def render(d, prof):
    L = []
    w = L.append
    pt, pp = d.get("plan_threads", {}), d.get("plan_procs", {})
    wr = d.get("writes", {})
    fl = d.get("floor_medians", {})
    vm = d.get("vm", {})
    ng, nv = d.get("guests"), d.get("vcpus")
    w("## Enforcement: `cgplace apply` vs a shell script and libcgroup (issue 5)")
    w("")
    w("Benchmark of issue 5 (\"Performance (benchmark, in the VM)\"). It is not a test and `make check` "
      "does not run it. Regenerate this section with `make bench-apply` (`bench/apply/run.py`; "
      "`BENCH_APPLY_ARGS=--profile` adds the strace profile below). Run on %s, host load average %s."
      % (d.get("_when", "?"), d.get("_load", "?")))
    w("")
    w("### What and how")
    w("")
    nodes = ", ".join("node %s %s (CPUs %s)" % (k, v["kind"], v["cpus"] or "none") for k, v in sorted(vm.get("nodes", {}).items()))
    w("* One boot of the asym test VM (`tests/vm/run-vm.sh tests/vm/topos/asym.topo`: QEMU TCG, "
      "Linux %s, cgroup v2; %s). Everything below happens inside it; all figures come from the same "
      "boot." % (vm.get("kernel", "?"), nodes))
    w("* %d stand-in guests × %d vCPUs: `bench/apply/fakeqemu.c`, copied to `/tmp/.../qemu-system-x86_64` "
      "(so `/proc/PID/exe` is a QEMU name), started with QEMU's command line "
      "(`-name guest=gN,debug-threads=on -smp %d ...`); it starts %d threads named `CPU k/KVM` and one "
      "emulator thread, then sleeps: %s threads in all. Correctness of apply with real QEMU is the "
      "job of `tests/vm-enforce`." % (ng, nv, nv, nv, d.get("threads", "?")))
    w("* The policy (`bench/apply/inside.py`, `guest_spec`) has %d guest blocks in four patterns over "
      "the VM's nodes: big node's CPUs with its memory; small node + CPU-only node's CPUs with the "
      "small node's memory; CPU-only node's CPUs with the **memory-only** node's memory; all CPUs "
      "with both CPU+memory nodes' memory. Every guest has `vcpupin` for each vCPU and an "
      "`emulatorpin`, `memory 1M`, mode strict." % ng)
    w("* Two phases, each with freshly started guests. **Thread level** (threads named): "
      "`PARENT/gN/` (domain threaded) with `emulator/`, `vcpu0/`..`vcpu%d/`, every thread in its own "
      "cgroup. **Process level** (the same guests started without `debug-threads=on`, so their "
      "threads cannot be told apart and cgplace places each whole guest; the policy without the pins): "
      "`PARENT/gN/` with `cpuset.cpus`/`cpuset.mems` and the process in `cgroup.procs` — "
      "what libcgroup can express (it has no threaded cgroups)." % (nv - 1))
    w("* Every method starts from the same state: every guest process in the root cgroup, no "
      "`PARENT` subtree, `+cpuset` already in the root's `cgroup.subtree_control`. Between two "
      "methods (not timed) the processes go back to the root, the subtree is removed, and the run "
      "waits until the kernel has destroyed the removed cgroups (root `cgroup.stat` "
      "`nr_dying_descendants` 0), so that the kernel's background work of destroying hundreds of "
      "cgroups does not fall into the next method's time (a precaution: in the recorded runs it was "
      "done within %s of the removal)." % s(max(d.get("quiesce_waits") or [0]), "ms"))
    w("* The methods take turns round by round. Round 0 runs every method; later rounds repeat all "
      "but the slow shell scripts, as long as the VM time budget allows (the VM run stays near 3 "
      "minutes): %s round(s) at thread level, %s at process level, %s guests, %s s in the VM after boot. "
      "cgplace's re-apply runs %s times after each first apply. Times are wall time "
      "(`time.perf_counter()` around starting the process and waiting for it), median with the minimum "
      "in brackets."
      % (d.get("rounds", {}).get("threads", 0), d.get("rounds", {}).get("procs", 0), ng,
         d.get("vm_seconds", "?"), max(1, n(d, "cgplace_reapply") // max(1, n(d, "cgplace")))))
    w("* After the first round of every method, every thread is checked against the kernel: "
      "`/proc/PID/task/TID/cgroup`, `Cpus_allowed_list` and `Mems_allowed_list` against the policy "
      "(%s)." % "; ".join("%s: %d/%d threads %s" % (c["method"], c["threads"] - c["mismatches"], c["threads"],
                                                     "right" if not c["mismatches"] else "RIGHT (%d wrong)" % c["mismatches"])
                          for c in d.get("checks", [])))
    w("")
    w("| method | what runs | level |")
    w("|---|---|---|")
    w("| cgplace | `cgplace --json apply POLICY` (discovery, diff against the live tree, writes, "
      "read-back of every touched cgroup's effective sets and every thread's status) | thread / process |")
    w("| sh | a generated `/bin/sh` script (dash): exactly the minimum writes in the same order, one "
      "`echo V > FILE` per write, one `mkdir` command per guest (mkdir is not a builtin: a fork+exec "
      "each); PIDs and TIDs baked in, so it does no discovery | thread / process |")
    w("| cgconfigparser | `cgconfigparser -l cgconfig.conf` (libcgroup %s, one `group PARENT/gN { cpuset "
      "{ cpuset.cpus; cpuset.mems } }` per guest), then `cgclassify -g cpuset:PARENT/gN PID` once per guest "
      "| process |" % d.get("cgroup_tools", "?"))
    w("| direct | the floor: the minimum writes made by the already running benchmark script itself "
      "(Python `os.mkdir` / `open`+`write`+`close`), nothing read, no process started | thread / process |")
    w("")
    w("### Writes")
    w("")
    w("The minimum is counted by the benchmark from the policy and the live tree, not from cgplace: "
      "`+cpuset` in `PARENT`'s `cgroup.subtree_control` (the root's is already on), and per guest: "
      "`mkdir` of the guest cgroup%s, its `cpuset.cpus` and `cpuset.mems`, the PID into `cgroup.procs` "
      "once%s. It is also compared op by op (as a set) with `cgplace plan --json`."
      % (" and its %d threaded children, `cgroup.type` = threaded for each child, `+cpuset` in the "
         "guest's `cgroup.subtree_control`, `cpuset.cpus` and `cpuset.mems` of every child (mode "
         "strict sets `cpuset.mems` on every thread's cgroup, cgplace.conf(5))" % (nv + 1),
         ", then each thread's TID into its child's `cgroup.threads`"))
    w("")
    w("| level | minimum (breakdown) | `plan` ops | same ops as the minimum | first `apply` writes | re-apply writes |")
    w("|---|---|---|---|---|---|")
    for lvl, p, k in (("thread", pt, "cgplace"), ("process", pp, "cgplace_procs")):
        if not p:
            continue
        bd = ", ".join("%s %d" % (a, b) for a, b in sorted(p.get("minimum_breakdown", {}).items()))
        fw = sorted(set(wr.get(k, [])))
        rw = sorted(set(wr.get(k + "_reapply", [])))
        w("| %s | **%d** (%s) | %d | %s | %s | %s |" % (
            lvl, p["minimum"], bd, p["ops"], "yes" if p.get("same_set") else "**no**",
            "**%s**" % "/".join(map(str, fw)) if fw else "n/a",
            "/".join(map(str, rw)) + (" (%d runs)" % len(wr.get(k + "_reapply", []))) if rw else "n/a"))
    eq_ok = all(set(wr.get(k, [None])) == {p.get("minimum")} for p, k in ((pt, "cgplace"), (pp, "cgplace_procs")) if p)
    re_ok = all(set(wr.get(k, [None])) == {0} for k in ("cgplace_reapply", "cgplace_procs_reapply"))
    w("")
    w("Writes of `apply` = minimum: **%s**. Re-apply makes zero writes: **%s**."
      % ("yes" if eq_ok else "NO", "yes" if re_ok else "NO"))
    w("")
    w("### Times (inside the TCG VM)")
    w("")
    w("| level | method | writes | median (min) | runs | method / cgplace |")
    w("|---|---|---|---|---|---|")
    rows = [("thread", "cgplace apply", "cgplace", pt.get("minimum")),
            ("thread", "cgplace re-apply", "cgplace_reapply", 0),
            ("thread", "sh script", "sh_threads", pt.get("minimum")),
            ("thread", "direct (floor)", "direct_threads", pt.get("minimum")),
            ("process", "cgplace apply", "cgplace_procs", pp.get("minimum")),
            ("process", "cgplace re-apply", "cgplace_procs_reapply", 0),
            ("process", "sh script", "sh_procs", pp.get("minimum")),
            ("process", "cgconfigparser alone (moves no process)", "cgconfigparser", None),
            ("process", "cgclassify × %s" % ng, "cgclassify", None),
            ("process", "cgconfigparser + cgclassify", "cgconfig_total", pp.get("minimum")),
            ("process", "direct (floor)", "direct_procs", pp.get("minimum"))]
    for lvl, label, k, nw in rows:
        base = med(d, "cgplace" if lvl == "thread" else "cgplace_procs")
        m = med(d, k)
        unit = "ms" if "reapply" in k else "s"
        w("| %s | %s | %s | %s (%s) | %d | %s |" % (lvl, label, "" if nw is None else nw, s(m, unit), s(mn(d, k), unit),
                                                n(d, k), "" if "cgplace" in k else ratio(m, base)))
    w("")
    w("Starting a process in this VM (medians of 5): `/bin/true` %s, `cgplace --version` %s, "
      "`mkdir DIR` %s. The shell script runs `mkdir` %d times (one per guest and one for `PARENT`), "
      "so about %s of its time is starting `mkdir` (dynamically linked coreutils with libselinux, "
      "read over 9p in this VM)."
      % (s(fl.get("true"), "ms"), s(fl.get("cgplace_version"), "ms"), s(fl.get("mkdir"), "ms"),
         (ng or 0) + 1, s(fl.get("mkdir", 0) * ((ng or 0) + 1)) if fl.get("mkdir") else "n/a"))
    w("")
    # ---- goals
    cgp, cgt, cgpar = med(d, "cgplace_procs"), med(d, "cgconfig_total"), med(d, "cgconfigparser")
    cgp_t = med(d, "cgplace")
    dp, dt_ = med(d, "direct_procs"), med(d, "direct_threads")
    ra = med(d, "cgplace_reapply")
    w("### Goals")
    w("")
    if cgp and cgt:
        w("* At least 5× faster than cgconfigparser: **%s**. Process level, same placement: "
          "cgconfigparser + cgclassify take %s× cgplace's time; cgplace at thread level (%s× the writes) "
          "still takes %s of their time. cgconfigparser alone (%s) is %s cgplace's time, but it moves no "
          "process: the placement is not done until `cgclassify` (or a rules daemon) moves each guest, "
          "and that move is where the kernel spends its time."
          % ("met" if cgt / cgp >= 5 else "not met", "%.1f" % (cgt / cgp),
             "%.1f" % (pt.get("minimum", 0) / max(1, pp.get("minimum", 1))),
             "%.0f%%" % (100 * cgp_t / cgt) if cgp_t else "n/a", s(cgpar),
             "%.2f×" % (cgpar / cgp) if cgpar else "n/a"))
    if cgp and dp:
        w("* The floor (the same writes made by an already running process, nothing read) is %s at "
          "process level and %s at thread level: %.0f%% and %.0f%% of cgplace's time. Most of it is the "
          "`cgroup.procs` writes: moving a process into a cpuset with other `cpuset.mems` migrates its "
          "pages synchronously (probe (d) in tests/vm/README.md); every method pays it. cgplace's own "
          "cost above the floor: %s at process level (discovery, diff, read-back and its own start, "
          "within the run-to-run noise), %s at thread level (see the profile below); the shell script's: "
          "%s and %s, mostly starting `mkdir`; cgconfigparser + cgclassify: %s (50 process starts)."
          % (s(dp), s(dt_), 100 * dp / cgp, 100 * dt_ / cgp_t if cgp_t and dt_ else 0,
             s(max(0.0, cgp - dp)), s(cgp_t - dt_) if cgp_t and dt_ else "n/a",
             s(med(d, "sh_procs") - dp) if med(d, "sh_procs") else "n/a",
             s(med(d, "sh_threads") - dt_) if med(d, "sh_threads") and dt_ else "n/a",
             s(cgt - dp) if cgt else "n/a"))
    if ra:
        w("* Re-apply under 5 ms: **%s** as measured here: %s (thread level, %d guests, zero writes), "
          "against %s for starting `cgplace --version` in the same VM. TCG makes every system call and "
          "every process start many times slower than on hardware, so the absolute time says little; the "
          "system-call count below is the hardware-independent measure, and the estimate from it says "
          "the goal would be missed on hardware too."
          % ("met" if ra < 0.005 else "not met", s(ra, "ms"), ng, s(fl.get("cgplace_version"), "ms")))
    w("")
    cg = d.get("cgconfig", {})
    w("### libcgroup on cgroup v2")
    w("")
    rc = sorted(set(cg.get("parser_rc", [])))
    ta = cg.get("tree_after_parser", {})
    w("* `cgconfigparser -l` exit status %s%s." % ("/".join(map(str, rc)) or "n/a",
                                                  (": %s" % cg["parser_output"][:300].replace("\n", " ")) if cg.get("parser_output") else ""))
    if ta:
        g0 = ta.get("g0", {})
        w("* After it: `PARENT/cgroup.subtree_control` = `%s`; `g0/cpuset.cpus` = `%s`, `cpuset.mems` = `%s`, "
          "`cgroup.type` = `%s`, `cgroup.procs` = `%s` — it creates the cgroups, enables `cpuset` on the way "
          "and writes both sets on v2, but places no process." % (ta.get("parent_subtree_control"), g0.get("cpuset.cpus"),
                                                                 g0.get("cpuset.mems"), g0.get("cgroup.type"),
                                                                 g0.get("cgroup.procs") or "(empty)"))
    w("* `cgclassify -g cpuset:PARENT/gN PID` exit status %s%s. It works per process only: libcgroup has "
      "no threaded cgroups and no `cgroup.threads`, so per-vCPU placement cannot be expressed."
      % ("/".join(map(str, sorted(set(cg.get("classify_rc", []))))) or "n/a",
         (": %s" % cg["classify_output"][:300].replace("\n", " ")) if cg.get("classify_output") else ""))
    w("")
    if prof and prof.get("profile"):
        P = prof["profile"]
        G = max(1, prof.get("guests", 1))
        w("### Profile: where apply's time goes (strace, a separate boot)")
        w("")
        w("`strace -f -T -y` of one first apply and one re-apply at thread level (%d guests, %d threads). "
          "strace slows every call down, so the counts are the result, not the times. The count does not "
          "depend on TCG, so it gives an estimate for hardware: on the machine that ran this benchmark, "
          "natively, %s."
          % (G, prof.get("threads", 0), syscost_text(prof.get("_syscost"))))
        w("")
        w("| run | writes | system calls | per guest | per write | estimate on this host, natively |")
        w("|---|---|---|---|---|---|")
        us = syscost_us(prof.get("_syscost"))
        for k, label, nw in (("first", "first apply", (pt or {}).get("minimum", 0)), ("reapply", "re-apply", 0)):
            if k in P:
                tc = P[k]["total_calls"]
                w("| %s | %d | %d | %.0f | %s | %s |" % (label, nw, tc, tc / G, "%.0f" % (tc / nw) if nw else "",
                                                        "%.0f ms" % (tc * us / 1000) if us else "n/a"))
        w("")
        for k, label in (("first", "First apply"), ("reapply", "Re-apply")):
            if k not in P:
                continue
            agg = {}
            for key, (c, t) in P[k]["per_call"].items():
                call, _, f = key.partition(" ")
                a_ = agg.setdefault(f, [0, {}])
                a_[0] += c
                a_[1][call] = a_[1].get(call, 0) + c
            w("%s: system calls by file, the largest groups (`cgroup dir` = opening a cgroup directory "
              "or `.`/the root; `other` = the loader, pidfds, `poll`, `readlinkat` of `/proc/N/exe`...):" % label)
            w("")
            w("| file | calls | of which |")
            w("|---|---|---|")
            for f, (c, cs) in sorted(agg.items(), key=lambda x: -x[1][0])[:12]:
                w("| `%s` | %d | %s |" % (f.replace("cgroup ", "cgroup/") if f.startswith("cgroup ") else f, c,
                                         ", ".join("%s %d" % (x, y) for x, y in sorted(cs.items(), key=lambda z: -z[1])[:5])))
            w("")
        fa, ra_ = P.get("first", {}), P.get("reapply", {})
        tf, tr = fa.get("total_calls", 0), ra_.get("total_calls", 0)
        ncg = pt.get("minimum_breakdown", {}).get("mkdir", 0) if pt else 0
        nth = prof.get("threads", 0)
        w("Findings (engine `cgctl/` model.c, execute.c and the cgroupfs backend cgfs.c; discovery `guests/discover.c`):")
        w("")
        w("* **What the engine does per run.** Each cgroup directory is opened once, relative to its parent's "
          "fd, one component at a time with `O_NOFOLLOW`, and kept for the run (at most 384 at a time); "
          "single-record files (cgroup files, `/proc/PID/{stat,status,comm,cgroup}`) are read with one "
          "`read` (open, read, close); a thread's `comm` is opened in one `openat2` with "
          "`RESOLVE_NO_SYMLINKS`; the guests are discovered once per run; only the files planning looks at "
          "are read (`cgroup.type` of threaded children, `cgroup.subtree_control` of cgroups that need "
          "`+cpuset`); liveness is one `poll` of the guest's pidfd per write. The first profile of this "
          "benchmark (2026-11-26 04:49, before these changes) counted 43452 calls for the first apply and "
          "25965 for the re-apply; now %d and %d." % (tf, tr))
        w("* **What is left in a re-apply is the proof that nothing needs writing**: the sets of each of "
          "the %d cgroups, the type of each threaded child and the cgroup of each of the %d threads, three "
          "calls per file, plus discovery (`/proc` scan, each guest's command line, each thread's name). "
          "On hardware that is about %s, still above the 5 ms goal at 300 threads. Reading memberships "
          "from each cgroup's `cgroup.threads` instead of each thread's `/proc` file saves nothing at one "
          "thread per cgroup. Under 5 ms needs not reading at all: a resident `cgplace watch` that keeps the "
          "model and re-reads only what `inotify` on `cgroup.events` and `/proc` process events say "
          "changed (not built yet)."
          % (ncg, nth, "%.0f ms" % (tr * us / 1000) if us else "n/a"))
        w("")
    L += errors_section(d)
    return "\n".join(L)


def syscost(build):
    """Native cost of reading a small procfs/sysfs file on this host (bench/apply/syscost.c)."""
    exe = os.path.join(build, "bench-apply", "syscost")
    try:
        out = subprocess.run([exe], capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return None
    rows = [l.split() for l in out.splitlines() if len(l.split()) == 3]
    return {r[0]: float(r[2]) for r in rows} or None


def syscost_us(sc):
    return statistics.median(sc.values()) if sc else None


def syscost_text(sc):
    if not sc:
        return "not measured (build/bench-apply/syscost missing)"
    return ("one system call on a small procfs/sysfs file costs about %.1f µs (median over %s; "
            "`bench/apply/syscost.c`: open+fstat+read+read+close, 20000 times each)"
            % (syscost_us(sc), ", ".join("`%s` %.1f" % (k, v) for k, v in sorted(sc.items()))))


def main():
    ap = hostside.arguments(165.0, "seconds of measurement inside the VM", 5, "rounds per phase at most", 50)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only-profile", action="store_true", help="boot only the profile VM; keep the timings")
    a = ap.parse_args()
    bdir = a.build if os.path.isabs(a.build) else os.path.join(REPO, a.build)
    workdir = os.path.join(bdir, "bench-apply")
    resdir = os.path.join(workdir, "vm-results")
    profdir = os.path.join(workdir, "vm-profile")
    env = {"CGPLACE_TEST_BENCH_BUDGET": str(a.budget), "CGPLACE_TEST_BENCH_RUNS": str(a.runs),
           "CGPLACE_TEST_BENCH_GUESTS": str(a.guests), "B": bdir}
    if a.no_boot or a.only_profile:
        d = json.load(open(os.path.join(resdir, "bench-apply.json")))
    else:
        load = os.getloadavg()[0]
        d = boot(resdir, env, int(a.budget + 240))
        d["_load"] = "%.2f at the start, %.2f at the end" % (load, os.getloadavg()[0])
        d["_when"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        json.dump(d, open(os.path.join(resdir, "bench-apply.json"), "w"), indent=1, sort_keys=True)
    prof = None
    if (a.profile or a.only_profile) and not a.no_boot:
        prof = boot(profdir, dict(env, CGPLACE_TEST_BENCH_PROFILE="1"), 600)
        prof["_syscost"] = syscost(bdir)
        json.dump(prof, open(os.path.join(profdir, "bench-apply.json"), "w"), indent=1, sort_keys=True)
    elif os.path.exists(os.path.join(profdir, "bench-apply.json")):
        prof = json.load(open(os.path.join(profdir, "bench-apply.json")))
    splice(a.out, "apply", render(d, prof))
    print("bench-apply: wrote the apply section of %s" % a.out)
    return 1 if d.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
