"""What the host side of the VM benchmarks shares (bench/apply/run.py, bench/backends/run.py):
one boot of the test VM that writes a JSON result, the figures' formatting, and the rewrite
of one generated section of docs/PERFORMANCE.md. Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def arguments(budget, budget_help, runs, runs_help, guests):
    """The options every VM benchmark's host side takes: --out, --build, --budget, --runs,
    --guests, --no-boot (only re-render from the last run's JSON)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "docs/PERFORMANCE.md"))
    ap.add_argument("--build", default="build", help="build directory (cgplace, bench-apply/fakeqemu)")
    ap.add_argument("--budget", type=float, default=budget, help=budget_help)
    ap.add_argument("--runs", type=int, default=runs, help=runs_help)
    ap.add_argument("--guests", type=int, default=guests)
    ap.add_argument("--no-boot", action="store_true")
    return ap


def boot(tag, topo, script, resdir, result, env_extra, timeout, systemd=False):
    """Boot tests/vm/topos/TOPO.topo once (tests/vm/run-vm.sh [--systemd]) with SCRIPT, the
    result share in RESDIR (emptied first); returns RESDIR/RESULT as loaded JSON."""
    os.makedirs(resdir, exist_ok=True)
    for f in os.listdir(resdir):
        p = os.path.join(resdir, f)
        if os.path.isfile(p):
            os.unlink(p)
    env = dict(os.environ, CGPLACE_VM_RESULTS=os.path.abspath(resdir), CGPLACE_VM_TIMEOUT=str(timeout))
    env.update(env_extra)
    print("%s: booting the %s VM (results in %s, timeout %ds)" % (tag, topo, resdir, timeout), flush=True)
    rc = subprocess.call([os.path.join(REPO, "tests/vm/run-vm.sh")] + (["--systemd"] if systemd else []) +
                         [os.path.join(REPO, "tests/vm/topos/%s.topo" % topo), script], env=env, cwd=REPO)
    path = os.path.join(resdir, result)
    if not os.path.exists(path):
        sys.exit("%s: the VM run wrote no %s (exit %d)" % (tag, path, rc))
    if rc != 0:
        print("%s: warning: the VM run exited %d; using what it saved" % (tag, rc), file=sys.stderr)
    return json.load(open(path))


def med(d, k):
    v = d.get("samples", {}).get(k)
    return statistics.median(v) if v else None


def mn(d, k):
    v = d.get("samples", {}).get(k)
    return min(v) if v else None


def n(d, k):
    return len(d.get("samples", {}).get(k) or [])


def s(x, unit="s"):
    """Seconds for the reader: "0.97 s", "25.0 s", or with unit="ms" "253 ms", "4.5 ms"."""
    if x is None:
        return "n/a"
    if unit == "ms":
        return "%.0f ms" % (x * 1000) if x >= 0.1 else "%.1f ms" % (x * 1000)
    return "%.2f s" % x if x < 10 else "%.1f s" % x


def ratio(a, b):
    return "%.1f×" % (a / b) if a and b else "n/a"


def errors_section(d):
    """The lines of an "Errors during the run" subsection (none when the run had no error)."""
    if not d.get("errors"):
        return []
    return ["### Errors during the run", ""] + ["* %s" % e.replace("|", "\\|") for e in d["errors"][:10]] + [""]


def splice(path, name, text):
    """Rewrite the text between <!-- BEGIN NAME --> and <!-- END NAME --> of path (the pair
    is added at the end of the file if absent); nothing else in the file is touched."""
    begin, end = "<!-- BEGIN %s -->" % name, "<!-- END %s -->" % name
    cur = open(path).read() if os.path.exists(path) else ""
    block = begin + "\n" + text.rstrip("\n") + "\n" + end
    if begin in cur and end in cur and cur.index(begin) < cur.index(end):
        a, b = cur.index(begin), cur.index(end) + len(end)
        new = cur[:a] + block + cur[b:]
    else:
        new = cur.rstrip("\n") + ("\n\n" if cur else "") + block + "\n"
    tmp = path + "." + name + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)
