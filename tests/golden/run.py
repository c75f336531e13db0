#!/usr/bin/env python3
"""tests/golden/run.py [--update] [--results FILE] PATH_TO_CGPLACE

Golden tests of the cgplace CLI on the fixture trees of
tests/fixtures/mkfixtures.py (through tests/golden/harness.py):
  1. every case in tests/golden/cases: stdout and exit status against
     tests/golden/expected/FIXTURE/CASE.{out,rc} (a diff per failure; a
     non-zero status also needs a "cgplace: " line on stderr);
  2. every capabilities output (text and the --json .xml) validated with
     xmllint against libvirt's capability.rng;
  3. every case in tests/golden/errors: exit status, empty stdout, stderr
     matching a regex (corrupted fixtures must name the bad file);
  4. libxml2 is loaded by capabilities only, and its absence is a clear error;
  5. tests/golden/check.py: facts derived from the fixture descriptions
     compared with the live output *and* with the golden files.
Ends with "golden: N passed, N failed, N skipped", writes "P F S" to FILE
(--results; make check-golden gives $(B)/results/golden) and exits 1 on any
failure.

--update rewrites expected/*/*.{out,rc} from the current output (the error
cases and check.py are not blessed by it); review every changed file against
the fixture description and spec section 2 before committing.

Environment: GOLDEN_FIXTURES=DIR generate the fixtures there (kept afterwards)
instead of a temporary directory under $TMPDIR, else /dev/shm, else /tmp
(removed afterwards); GOLDEN_ONLY="fx1 fx2" limits fixtures; CAPABILITY_RNG
overrides the schema path.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness as H  # noqa: E402
import check  # noqa: E402

MKFX = os.path.join(HERE, "..", "fixtures", "mkfixtures.py")
EXP = os.path.join(HERE, "expected")


def printf_b(s):
    """printf %b: backslash escapes (\\n, \\t, \\\\, \\0NNN, \\xHH)."""
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


def xml_valid(layer, case, text):
    problems = H.relaxng(text)
    layer.check(case, ["%s or xmllint missing (apt-get install libvirt0 libxml2-utils)" % H.CAPABILITY_RNG]
                if problems is None else problems)


def golden_cases(layer, cli, fix, fixtures, update):
    with open(os.path.join(HERE, "cases")) as f:
        lines = f.read().splitlines()
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fx, case, args = (line.split(None, 2) + [""])[:3]
        for name in fixtures:
            if fx not in ("*", name):
                continue
            r = cli.run(*args.replace("@HERE@", HERE).split(), sysroot=os.path.join(fix, name))
            r.out = r.out.replace(HERE, "@HERE@")  # a path named in the output
            exp_out = os.path.join(EXP, name, case + ".out")
            exp_rc = os.path.join(EXP, name, case + ".rc")
            if update:
                H.write_text(exp_out, r.out)
                H.write_text(exp_rc, "%d\n" % r.rc)
            label = "%s/%s (cgplace %s)" % (name, case, args)
            if not os.path.isfile(exp_out) or not os.path.isfile(exp_rc):
                layer.fail(label, "no expected file %s / .rc (run with --update, then review)" % exp_out)
            else:
                layer.expect(label, r, rc=int(H.read_text(exp_rc)), out=H.read_text(exp_out), cgplace_msg=True,
                             out_label="expected/%s/%s.out" % (name, case))
            if case == "capabilities" and r.rc == 0:
                xml_valid(layer, "%s/%s xmllint" % (name, case), r.out)
            elif case == "capabilities-json":
                try:
                    assert r.rc == 0
                    xml = json.loads(r.out)["xml"]
                except (AssertionError, ValueError, KeyError, TypeError):
                    layer.fail("%s/%s" % (name, case), "no .xml string in the JSON output")
                else:
                    xml_valid(layer, "%s/%s .xml xmllint" % (name, case), xml)


def error_cases(layer, cli, fix, fixtures, work):
    with open(os.path.join(HERE, "errors")) as f:
        lines = f.read().splitlines()
    n = 0
    for line in lines:
        fields = [x.strip() for x in (line.split("|", 5) + [""] * 5)[:6]]
        name, root, mut, want_rc, regex, args = fields
        if not name or name.startswith("#"):
            continue
        n += 1
        if root.startswith("/"):
            sysroot = root
        elif root not in fixtures:
            continue  # fixture not selected (GOLDEN_ONLY)
        elif mut == "-":
            sysroot = os.path.join(fix, root)
        else:
            sysroot = os.path.join(work, "err%d" % n)
            shutil.copytree(os.path.join(fix, root), sysroot, symlinks=True)
            for one in mut.split(" && "):
                rel, content = one.split("=", 1)
                H.write_text(os.path.join(sysroot, "sys/devices/system", rel), printf_b(content))
        r = cli.run(*args.replace("@HERE@", HERE).split(), sysroot=sysroot)
        label = "error %s (cgplace %s on %s%s)" % (name, args, root, " with " + mut if mut != "-" else "")
        layer.expect(label, r, rc=want_rc if want_rc == "nz" else int(want_rc), out_empty=True, err_re=regex)


def libxml2_cases(layer, cli, root, work):
    """libxml2 is dlopen()ed by capabilities only: the other commands must not
    map it (start-up cost, docs/DESIGN.md), and a host where it cannot be loaded
    gets a clear error from capabilities while nodeinfo still works."""
    debug = {"LD_DEBUG": "files"}
    r = cli.run("nodeinfo", sysroot=root, env=debug)
    layer.check("libxml2: nodeinfo does not load libxml2", "file=libxml2" not in r.err)
    r = cli.run("capabilities", sysroot=root, env=debug)
    layer.check("libxml2: capabilities loads libxml2", "file=libxml2" in r.err)
    nolib = os.path.join(work, "nolibxml")
    H.write_text(os.path.join(nolib, "libxml2.so.2"), "")  # not an ELF file: dlopen fails
    missing = {"LD_LIBRARY_PATH": nolib}
    r = cli.run("capabilities", sysroot=root, env=missing)
    layer.expect("libxml2 missing: capabilities fails clearly", r, rc=1, out_empty=True,
                 err_re=r"libxml2.*cannot be loaded")
    r = cli.run("nodeinfo", sysroot=root, env=missing)
    layer.expect("libxml2 missing: nodeinfo works", r, rc=0)


def main(argv):
    update = results = None
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--update":
            update = True
            args = args[1:]
        elif args[0] == "--results" and len(args) > 1:
            results = args[1]
            args = args[2:]
        else:
            break
    if len(args) != 1 or not os.access(args[0], os.X_OK):
        print("usage: %s [--update] [--results FILE] PATH_TO_CGPLACE" % argv[0], file=sys.stderr)
        return 2
    layer = H.Layer("golden", results)
    work = tempfile.mkdtemp(prefix="cgplace-golden.", dir=H.scratch_base())
    try:
        cli = H.Cli(H.snapshot(args[0], work))
        fix = os.environ.get("GOLDEN_FIXTURES") or os.path.join(work, "fixtures")
        os.makedirs(fix, exist_ok=True)
        if os.environ.get("GOLDEN_ONLY"):
            fixtures = os.environ["GOLDEN_ONLY"].split()
        else:
            fixtures = subprocess.run([sys.executable, MKFX, "--list"], check=True, capture_output=True,
                                      text=True).stdout.split()
        if subprocess.run([sys.executable, MKFX, fix] + fixtures).returncode != 0:
            print("golden: fixture generation failed", file=sys.stderr)
            return 2
        golden_cases(layer, cli, fix, fixtures, update)
        error_cases(layer, cli, fix, fixtures, work)
        libxml2_cases(layer, cli, os.path.join(fix, fixtures[0]), work)
        check.run_checks(layer, cli, fix, EXP, fixtures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return layer.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
