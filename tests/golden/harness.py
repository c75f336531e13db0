#!/usr/bin/env python3
"""tests/golden/harness.py - the one harness of the test layers that run cgplace
or Criterion binaries and count results.

Used by tests/golden/run.py (+ check.py), tests/policy/golden.py,
tests/guests/golden.py, tests/sandbox/cli.py and tests/oracle/run.py, and,
through its command line, by tests/common/criterion.sh (the Criterion layers
lib, topology, parsers, cli and cgctl, make check-unit, and asan).

    import harness as H
    cli = H.Cli(BIN)                                   # or H.Cli(BIN, "--no-sandbox")
    r = cli.run("freecell", "0", sysroot=FIX, cwd=None, env=None, timeout=60)
    r.rc, r.out, r.err                                 # exit status (-N: signal N), stdout, stderr
    layer = H.Layer("golden", RESULTS_FILE)            # removes a stale RESULTS_FILE
    layer.expect("fx/case", r, rc=0, out=WANT)         # compare() + a FAIL block on mismatch
    layer.check("fx/case", problems_or_bool, detail)   # any other check
    layer.skip("case", why)
    layer.criterion(TEST_BIN, ["-j1"])                 # a Criterion binary, counted through --tap
    sys.exit(layer.finish())                           # RESULTS_FILE "P F S" + "golden: N passed, ..."

compare(r, rc=, out=, err=, err_re=, out_empty=, cgplace_msg=) returns a list
of problems (empty when all holds); a differing stdout or stderr comes as a
unified diff. A failure prints one block:

    FAIL golden/two-socket-smt/nodeinfo (cgplace nodeinfo)
        exit status 1, expected 0
        --- expected/two-socket-smt/nodeinfo.out
        +++ actual
        ...

Outputs are decoded as UTF-8 with surrogateescape, so any bytes round-trip
(write them back with write_text()).

Command line (the Criterion layers, replacing the scraping of Criterion's
"Synthesis" line):
    harness.py criterion BUILD NAME "EXTRA CRITERION ARGS" BIN...
runs every BIN with --tap=FILE, writes BUILD/results/NAME and exits 1 on any
failure.  Counts come from the TAP stream: "ok" passed, "ok ... # SKIP"
skipped (also the tests a --filter leaves out), "not ok" failed.  Criterion's
own log (stderr) is kept for what TAP does not say: a test that passed and
then crashed in its teardown (a LeakSanitizer report at exit) is a failure,
"Could not spawn test instance" (Criterion's IPC, not a test) runs the binary
once more, and a binary that dies before reporting every test of its TAP plan
counts the missing ones (at least one) as failures.
"""
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

ENC = dict(encoding="utf-8", errors="surrogateescape")


def decode(b):
    return b.decode(**ENC) if isinstance(b, bytes) else (b or "")


def read_text(path):
    with open(path, newline="", **ENC) as f:
        return f.read()


def write_text(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="", **ENC) as f:
        f.write(text)


def file_tree(root):
    """Every file below root as sorted (relative path, content) pairs, and
    every directory as (path + "/", ""): a cgroup tree of plain files to
    compare before and after a command."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        out.extend((os.path.relpath(os.path.join(dirpath, d), root) + "/", "") for d in dirs)
        out.extend((os.path.relpath(os.path.join(dirpath, f), root), read_text(os.path.join(dirpath, f)))
                   for f in files)
    return sorted(out)


def indent(text, prefix="    ", limit=None):
    lines = text.splitlines() if isinstance(text, str) else list(text)
    if limit is not None and len(lines) > limit:
        lines = lines[:limit] + ["... %d more lines" % (len(lines) - limit)]
    return "\n".join(prefix + line for line in lines)


# ---------------------------------------------------------------- running

class Result:
    def __init__(self, argv, rc, out, err, timed_out=False):
        self.argv, self.rc, self.out, self.err, self.timed_out = argv, rc, out, err, timed_out

    def __repr__(self):
        return "Result(rc=%r, out=%r, err=%r)" % (self.rc, self.out[:200], self.err[:200])


def run(argv, cwd=None, env=None, timeout=60, stdin=None):
    """Run argv; env is added to (not replacing) the environment. Never raises on
    a non-zero exit, a timeout (rc None, timed_out True, a note on err) or a
    program that cannot be executed (rc 127, the reason on err, like a shell)."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        p = subprocess.run(argv, cwd=cwd, env=full_env, timeout=timeout, capture_output=True,
                           input=stdin.encode(**ENC) if isinstance(stdin, str) else stdin)
    except subprocess.TimeoutExpired as e:
        return Result(argv, None, decode(e.stdout), decode(e.stderr) + "\n(timed out after %ss: a hang?)" % timeout,
                      timed_out=True)
    except OSError as e:
        return Result(argv, 127, "", "%s: %s\n" % (argv[0], e))
    return Result(argv, p.returncode, decode(p.stdout), decode(p.stderr))


class Cli:
    """cgplace BINARY with fixed leading arguments (e.g. --no-sandbox)."""

    def __init__(self, binary, *pre):
        self.binary = binary
        self.pre = list(pre)

    def argv(self, args, sysroot=None):
        return [self.binary] + self.pre + (["--sysroot", sysroot] if sysroot else []) + list(args)

    def run(self, *args, sysroot=None, cwd=None, env=None, timeout=60, stdin=None):
        return run(self.argv(args, sysroot), cwd=cwd, env=env, timeout=timeout, stdin=stdin)


def snapshot(binary, workdir):
    """Copy BINARY (and the libcgplace.so* next to it, found through its $ORIGIN
    rpath) into WORKDIR/bin, so a concurrent relink of the build tree cannot
    change it mid-run. Returns the path to run (BINARY itself if copying failed)."""
    src = os.path.dirname(os.path.abspath(binary))
    dst = os.path.join(workdir, "bin")
    try:
        os.makedirs(dst, exist_ok=True)
        shutil.copy2(binary, dst)
        for n in os.listdir(src):
            if n.startswith("libcgplace.so"):
                p = os.path.join(src, n)
                if os.path.islink(p):
                    os.symlink(os.readlink(p), os.path.join(dst, n))
                else:
                    shutil.copy2(p, dst)
    except OSError as e:
        print("harness: could not snapshot %s (%s); running it in place" % (binary, e), file=sys.stderr)
        return os.path.abspath(binary)
    return os.path.join(dst, os.path.basename(binary))


CAPABILITY_RNG = os.environ.get("CAPABILITY_RNG", "/usr/share/libvirt/schemas/capability.rng")


def relaxng(text, rng=CAPABILITY_RNG):
    """Validate the XML TEXT with xmllint against the RelaxNG schema RNG
    (libvirt's capability.rng unless CAPABILITY_RNG says otherwise): a list of
    problems, empty when valid; None when xmllint or the schema is missing."""
    if not os.access(rng, os.R_OK) or not shutil.which("xmllint"):
        return None
    r = run(["xmllint", "--noout", "--relaxng", rng, "-"], stdin=text)
    return [] if r.rc == 0 else ["does not validate against %s:" % os.path.basename(rng), indent(r.err, limit=20)]


QEMU_EXE = "/usr/bin/qemu-system-x86_64"


def guest_identity(root, pid, exe=QEMU_EXE, uid=0, exe_mode=0o755, dir_mode=0o755):
    """What makes fake process PID of fixture tree ROOT a guest (the trust
    model, docs/SECURITY.md): its proc/PID/exe link names EXE, a regular
    file inside ROOT (created when missing, with the given modes; owned by
    whoever runs the test: cgplace trusts its own user's files), and its
    proc/PID/status says it runs as UID."""
    d = os.path.join(root, "proc", str(pid))
    os.makedirs(d, exist_ok=True)
    if not os.path.lexists(d + "/exe"):
        os.symlink(exe, d + "/exe")
    f = os.path.join(root, exe.lstrip("/"))
    os.makedirs(os.path.dirname(f), exist_ok=True)
    if not os.path.exists(f):
        write_text(f, "#!/bin/false\n")
    os.chmod(f, exe_mode)
    os.chmod(os.path.dirname(f), dir_mode)
    write_text(d + "/status", "Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n" % (os.path.basename(exe)[:15], uid, uid, uid, uid))


def fake_cgroup_root(path, cpus, mems):
    """An empty cgroup v2 root of plain files at PATH (removed first) for
    plan/apply on a fixture tree: cpuset available, the given effective sets."""
    shutil.rmtree(path, ignore_errors=True)
    write_text(path + "/cgroup.controllers", "cpuset cpu memory\n")
    write_text(path + "/cgroup.subtree_control", "\n")
    write_text(path + "/cgroup.procs", "1\n")
    write_text(path + "/cpuset.cpus.effective", cpus + "\n")
    write_text(path + "/cpuset.mems.effective", mems + "\n")
    return path


def silent_unix_socket(path):
    """A unix stream socket at PATH that takes connections into its backlog and
    never answers: a QMP server that stalls. Count them with accepted()."""
    import socket
    if os.path.lexists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    s.setblocking(False)
    return s


def accepted(s):
    """How many connections wait on silent_unix_socket S (taken and closed)."""
    n = 0
    while True:
        try:
            c, _ = s.accept()
        except BlockingIOError:
            return n
        c.close()
        n += 1


def scratch_base():
    """~20k small files per golden run: tmpfs when there is one ($TMPDIR first)."""
    if os.environ.get("TMPDIR"):
        return os.environ["TMPDIR"]
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return "/tmp"


# ---------------------------------------------------------------- comparing

def diff(want, got, want_label="expected", got_label="actual", limit=60):
    """A unified diff of two texts (or lists of lines), at most LIMIT lines."""
    w = want.splitlines(True) if isinstance(want, str) else [x + "\n" for x in want]
    g = got.splitlines(True) if isinstance(got, str) else [x + "\n" for x in got]
    lines = [x.rstrip("\n") for x in difflib.unified_diff(w, g, want_label, got_label)]
    if bool(w and not w[-1].endswith("\n")) != bool(g and not g[-1].endswith("\n")):
        lines.append("(only one side ends with a newline)")
    if len(lines) > limit:
        lines = lines[:limit] + ["... %d more diff lines" % (len(lines) - limit)]
    return "\n".join(lines)


def describe_rc(rc):
    if rc is None:
        return "no exit status (timed out)"
    if rc < 0:
        return "killed by signal %d" % -rc
    return "exit status %d" % rc


def compare(r, rc=None, out=None, err=None, err_re=None, out_empty=False, cgplace_msg=False,
            out_label="expected stdout", err_label="expected stderr"):
    """Problems of result R against what is wanted (None: not checked).
    rc: an int or "nz" (any non-zero exit, not a signal); out/err: exact text
    (err may be a list of lines); err_re: a regex searched in stderr (multiline);
    out_empty: stdout must be empty; cgplace_msg: a non-zero exit needs a
    "cgplace: " line on stderr."""
    p = []
    if r.timed_out:
        p.append("timed out (a hang?)")
    elif rc == "nz":
        if r.rc == 0:
            p.append("exit status 0, expected non-zero")
        elif r.rc < 0:
            p.append(describe_rc(r.rc))
    elif rc is not None and r.rc != rc:
        p.append("%s, expected %d" % (describe_rc(r.rc), rc))
    if cgplace_msg and r.rc != 0 and not re.search(r"^cgplace: ", r.err, re.M):
        p.append("no 'cgplace: ' message on stderr")
    if out is not None and r.out != out:
        p.append("stdout differs:\n" + diff(out, r.out, out_label, "actual stdout"))
    if out_empty and r.out:
        p.append("stdout not empty:\n" + indent(r.out, "  stdout: ", 10))
    if err is not None:
        got = r.err.splitlines() if isinstance(err, list) else r.err
        if got != err:
            p.append("stderr differs:\n" + diff(err, got, err_label, "actual stderr"))
    if err_re is not None and not re.search(err_re, r.err, re.M):
        p.append("stderr does not match /%s/" % err_re)
    return p


# ---------------------------------------------------------------- counting

class Layer:
    """Counts of one layer; prints FAIL blocks; writes RESULTS as "P F S"."""

    def __init__(self, name, results=None, verbose=False):
        self.name, self.results, self.verbose = name, results, verbose
        self.passed = self.failed = self.skipped = 0
        if results and os.path.exists(results):
            os.remove(results)

    def ok(self, case, note=""):
        self.passed += 1
        if self.verbose:
            print("PASS %s/%s%s" % (self.name, case, ": " + note if note else ""))

    def fail(self, case, *details):
        self.failed += 1
        print("FAIL %s/%s" % (self.name, case))
        for d in details:
            if d:
                print(indent(str(d).rstrip("\n"), limit=80))
        sys.stdout.flush()

    def skip(self, case, why):
        self.skipped += 1
        print("SKIP %s/%s: %s" % (self.name, case, why))

    def check(self, case, result, detail=""):
        """RESULT is a list of problems (empty: passed) or a bool."""
        if isinstance(result, bool):
            problems = [] if result else [detail or "check failed"]
        else:
            problems = list(result)
            if problems and detail:
                problems.append(detail)
        if problems:
            self.fail(case, *problems)
            return False
        self.ok(case)
        return True

    def expect(self, case, r, **want):
        """compare(R, **want); a failure also shows stderr (and stdout when it
        is not already diffed)."""
        problems = compare(r, **want)
        if problems:
            if r.err and "err" not in want:
                problems.append(indent(r.err, "stderr: ", 8))
            if r.out and "out" not in want and not want.get("out_empty"):
                problems.append(indent(r.out, "stdout: ", 10))
        return self.check(case, problems)

    def add(self, passed=0, failed=0, skipped=0):
        self.passed += passed
        self.failed += failed
        self.skipped += skipped

    def criterion(self, binary, args=(), env=None, timeout=900):
        """Run one Criterion test binary with --tap and count its tests."""
        label = os.path.basename(binary)
        with tempfile.TemporaryDirectory(prefix="cgp-tap.") as d:
            tap = os.path.join(d, "tap")
            for attempt in (1, 2):
                if os.path.exists(tap):
                    os.remove(tap)
                r = run([binary, "--tap=" + tap] + list(args), env=env, timeout=timeout)
                log = re.sub(r"\x1b\[[0-9;]*m", "", r.out + r.err)
                spawn = re.search(r".*Could not spawn test instance.*", log)
                if not spawn or attempt == 2:
                    break
                # Criterion's own IPC with its workers failed (seen once on a
                # loaded machine): not a test result; run it once more, and say so.
                print("%s: criterion could not spawn a test instance (%s); running it again"
                      % (binary, spawn.group(0).strip()))
            text = read_text(tap) if os.path.exists(tap) else ""
        p0, f0, s0 = self.passed, self.failed, self.skipped
        late = set(re.findall(r"The test `([^`]+)` crashed during its setup or teardown", log))
        plan, seen, failing = None, 0, False
        for line in text.splitlines():
            m = re.match(r"1\.\.(\d+)", line)
            if m:
                plan = int(m.group(1))
                continue
            m = re.match(r"(not ok|ok)\b(?: -)? ?(.*)", line)
            if m:
                seen += 1
                status, rest = m.groups()
                name = (rest.split() or ["?"])[0]
                failing = False
                if status == "not ok":
                    self.fail("%s/%s" % (label, name), rest)
                    failing = True  # show the YAML block that follows
                elif "# SKIP" in rest:
                    self.skip("%s/%s" % (label, name), rest.split("# SKIP", 1)[1].strip())
                elif name in late:
                    self.fail("%s/%s" % (label, name), "crashed after passing (a sanitizer report at exit?)")
                else:
                    self.ok("%s/%s" % (label, name))
            elif failing and line.startswith("  ") and line.strip() not in ("---", "..."):
                print(indent(line[2:]))
        if plan is None or seen < plan:
            missing = 1 if plan is None else plan - seen
            self.failed += missing - 1  # fail() counts the last one
            self.fail(label, "%s with %s of %s tests reported; the %d missing counted as failures"
                      % (describe_rc(r.rc), seen, plan if plan is not None else "?", missing),
                      indent(log, "log: ", 40))
        elif r.rc != 0 and self.failed == f0:
            self.fail(label, "%s with no failing test" % describe_rc(r.rc), indent(log, "log: ", 40))
        if self.failed != f0:  # sanitizer reports and crash lines, for the failures
            extra = [x for x in log.splitlines()
                     if re.search(r"CRASH|ERROR: |SUMMARY: |runtime error|Unexpected signal", x)]
            if extra:
                print(indent(extra, limit=40))
        print("--- %s: %d passed, %d failed, %d skipped" % (binary, self.passed - p0, self.failed - f0,
                                                            self.skipped - s0))

    def finish(self):
        """Write RESULTS, print the closing line, return the exit status."""
        if self.results:
            os.makedirs(os.path.dirname(self.results) or ".", exist_ok=True)
            with open(self.results, "w") as f:
                f.write("%d %d %d\n" % (self.passed, self.failed, self.skipped))
        print("%s: %d passed, %d failed, %d skipped" % (self.name, self.passed, self.failed, self.skipped))
        return 1 if self.failed else 0


def split_argv(argv, n):
    """[--criterion-args ARGS] ARG1..ARGn [CRITERION_BIN...] (the command line
    of a layer that also runs Criterion binaries) -> ([ARG1..ARGn],
    [CRITERION_BIN...], ARGS split like a shell would)."""
    extra = []
    if argv[:1] == ["--criterion-args"] and len(argv) > 1:
        extra, argv = shlex.split(argv[1]), argv[2:]
    if len(argv) < n:
        print("usage: %s [--criterion-args ARGS] %d arguments [CRITERION_BIN...]"
              % (os.path.basename(sys.argv[0]), n), file=sys.stderr)
        sys.exit(2)
    return argv[:n], argv[n:], extra


def criterion_main(argv):
    """criterion BUILD NAME "EXTRA ARGS" BIN...: the Criterion layers."""
    if len(argv) < 3:
        print("usage: harness.py criterion BUILD NAME \"EXTRA CRITERION ARGS\" BIN...", file=sys.stderr)
        return 2
    build, name, extra = argv[:3]
    layer = Layer(name, os.path.join(build, "results", name))
    for binary in argv[3:]:
        layer.criterion(binary, shlex.split(extra))
    return layer.finish()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "criterion":
        sys.exit(criterion_main(sys.argv[2:]))
    sys.stderr.write(__doc__)
    sys.exit(2)
