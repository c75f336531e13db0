#!/usr/bin/env python3
"""tests/emit/run.py [--update] [--results FILE] PATH_TO_CGPLACE [CRITERION_BIN...]

emit and import-libvirt through the real CLI (tests/golden/harness.py):
  1. golden: every guest of tests/emit/policy.conf in every format on the
     cpuless-mem fixture, and import-libvirt of every file in domains/,
     against expected/CASE.{out,rc}; usage errors by message;
  2. every libvirt output, put inside a minimal <domain>, validated with
     xmllint against libvirt's domain.rng (DOMAIN_RNG overrides the path;
     skipped, loudly, where it or xmllint is missing: Debian's libvirt0 and
     libxml2-utils ship them);
  3. round trip: each file of domains/ imported alone, the policy checked on
     its fixture host (exit 0), then emitted as libvirt XML; the placement
     read back from both documents (Python's own XML parser) must be the same
     sets: each vCPU's CPUs, the emulator's, each I/O thread's, the memory,
     the numatune mode and nodes, each cell's vCPUs, memory, nodes and mode;
  4. hostile XML (DOCTYPE with entities, a billion laughs, external entities,
     a network DTD, a 50 MB file, broken XML, not a domain...): exit 2, the
     FILE:LINE: error message expected, nothing on stdout (the harness's
     timeout only catches a hang: nothing here is timed).
  5. every CRITERION_BIN (tests/emit/test_interop.c) runs with EMIT_FIXDIR set
     to the fixture trees, counted through --tap.
--update rewrites expected/ from the current output (review every diff).
Ends with "emit: N passed, N failed, N skipped" and writes "P F S" to FILE.
"""
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
import harness as H  # noqa: E402
import mkfixtures  # noqa: E402

POLICY = "policy.conf"  # run in HERE: messages name it so
DOMAINS = os.path.join(HERE, "domains")
EXP = os.path.join(HERE, "expected")
DOMAIN_RNG = os.environ.get("DOMAIN_RNG", "/usr/share/libvirt/schemas/domain.rng")
EMIT_FX = "cpuless-mem"
GUESTS = ["rhel5xen", "itanic", "wide", "weave", "pref", "iothr", "nomem", "autog"]
# the fixture host each domain file is written for (node 2 of cpuless-mem has memory only)
DOMAIN_FX = {"memnode.xml": "cpuless-mem"}
DEFAULT_FX = "two-socket-smt"


# ---------------------------------------------------------------- the XML side

def parse_list(s):
    """libvirt's list syntax (N, N-M, ^N, ^N-M) as a set."""
    out = set()
    for item in s.split(","):
        item = item.strip()
        neg = item.startswith("^")
        lo, _, hi = item.lstrip("^").partition("-")
        ids = set(range(int(lo), int(hi or lo) + 1))
        out = out - ids if neg else out | ids
    return out


UNITS = {"b": 1, "bytes": 1, "KB": 1000, "k": 1024, "KiB": 1024, "MB": 1000 ** 2, "M": 1024 ** 2,
         "MiB": 1024 ** 2, "GB": 1000 ** 3, "G": 1024 ** 3, "GiB": 1024 ** 3, "TB": 1000 ** 4,
         "T": 1024 ** 4, "TiB": 1024 ** 4}


def kib(num, unit):
    b = int(num) * UNITS[unit or "KiB"]
    return -(-b // 1024)


def placement(root, host_cpus):
    """The placement a libvirt domain element says, as sets (libvirt's meaning:
    an unpinned vCPU and the emulator run on <vcpu cpuset>, else anywhere)."""
    vcpu = root.find("vcpu")
    n = int(vcpu.text) if vcpu is not None else 1
    cpuset = parse_list(vcpu.get("cpuset")) if vcpu is not None and vcpu.get("cpuset") else set(host_cpus)
    pins = {int(p.get("vcpu")): parse_list(p.get("cpuset")) for p in root.findall("cputune/vcpupin")}
    emu = root.find("cputune/emulatorpin")
    io = {int(p.get("iothread")): parse_list(p.get("cpuset")) for p in root.findall("cputune/iothreadpin")}
    mem = root.find("numatune/memory")
    cells = {}
    for c in root.findall("cpu/numa/cell"):
        cells[int(c.get("id"))] = dict(vcpus=parse_list(c.get("cpus")), kib=kib(c.get("memory"), c.get("unit")))
    numa = None
    if mem is not None:
        numa = dict(mode=mem.get("mode", "strict"), nodes=parse_list(mem.get("nodeset")) if mem.get("nodeset") else None)
        for cid, c in cells.items():
            c.update(nodes=numa["nodes"], mode=numa["mode"])
        for m in root.findall("numatune/memnode"):
            c = cells[int(m.get("cellid"))]
            c.update(nodes=parse_list(m.get("nodeset")), mode=m.get("mode", numa["mode"]))
    memory = root.find("memory")
    total = sum(c["kib"] for c in cells.values()) if cells else \
        (kib(memory.text.strip(), memory.get("unit")) if memory is not None else 0)
    return dict(vcpus=[pins.get(v, cpuset) for v in range(n)],
                emulator=parse_list(emu.get("cpuset")) if emu is not None else cpuset,
                iothreads=io, memory=total, numatune=numa, cells=cells)


def fragment_domain(frag, name="g"):
    return "<domain type='kvm'>\n<name>%s</name>\n%s<os><type>hvm</type></os>\n</domain>\n" % (name, frag)


def host_cpus(fx):
    return sorted(c["id"] for c in mkfixtures.FIXTURES[fx]["cpus"] if c["online"])


def set_str(s):
    return mkfixtures.fmt_list(s) if isinstance(s, (set, frozenset)) else s


def differences(want, got, path="placement"):
    """Readable differences between two placement dicts (sets shown as lists)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(want) | set(got), key=str):
            out += differences(want.get(k), got.get(k), "%s.%s" % (path, k))
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        out = []
        for i, (a, b) in enumerate(zip(want, got)):
            out += differences(a, b, "%s[%d]" % (path, i))
        return out
    return [] if want == got else ["%s: domain %r, emitted %r" % (path, set_str(want), set_str(got))]


# ---------------------------------------------------------------- cases

def golden(layer, label, r, case, update):
    out, rc = os.path.join(EXP, case + ".out"), os.path.join(EXP, case + ".rc")
    if update:
        H.write_text(out, r.out)
        H.write_text(rc, "%d\n" % r.rc)
    if not os.path.isfile(out) or not os.path.isfile(rc):
        return layer.fail(label, "no expected file %s / .rc (run with --update, then review)" % out)
    return layer.expect(label, r, rc=int(H.read_text(rc)), out=H.read_text(out), cgplace_msg=True,
                        out_label="expected/%s.out" % case)


def validate(layer, label, doc):
    if not os.access(DOMAIN_RNG, os.R_OK) or not shutil.which("xmllint"):
        return layer.skip(label, "%s or xmllint missing (apt-get install libvirt0 libxml2-utils)" % DOMAIN_RNG)
    problems = H.relaxng(doc, DOMAIN_RNG)
    layer.check(label, problems, indent_doc(doc) if problems else "")


def indent_doc(doc):
    return H.indent(doc, "  | ", 40)


def emit_cases(layer, cli, fix, update):
    sysroot = os.path.join(fix, EMIT_FX)
    for g in GUESTS:
        for fmt in ("libvirt", "qemu", "xl"):
            r = cli.run("emit", "--format", fmt, g, "-p", POLICY, sysroot=sysroot, cwd=HERE)
            label = "emit-%s-%s" % (fmt, g)
            golden(layer, label, r, "%s.%s" % (g, fmt), update)
            if fmt == "libvirt" and r.rc == 0:
                validate(layer, "rng-" + g, fragment_domain(r.out, g))
    # --json wraps the same text; -f is --format
    r = cli.run("--json", "emit", "-f", "qemu", "-p", POLICY, "itanic", sysroot=sysroot, cwd=HERE)
    golden(layer, "emit-json", r, "itanic.qemu-json", update)
    errors = [
        (["emit", "rhel5xen", "-p", POLICY], r"^cgplace: emit: --format libvirt, qemu or xl is required$"),
        (["emit", "--format", "vmx", "rhel5xen", "-p", POLICY],
         r"^cgplace: emit: unknown --format 'vmx': expected libvirt, qemu or xl$"),
        (["emit", "--format", "xl", "-p", POLICY], r"^cgplace: emit: give the GUEST"),
        (["emit", "--format", "xl", "nosuch", "-p", POLICY], r"^cgplace: emit: no guest 'nosuch' in .*policy\.conf$"),
        (["emit", "--format", "qemu", "nomem", "-p", POLICY],
         r"^cgplace: emit: guest 'nomem' has no memory statement: no memory for QEMU to bind$"),
    ]
    for args, err_re in errors:
        r = cli.run(*args, sysroot=sysroot, cwd=HERE)
        layer.expect("emit-error (cgplace %s)" % " ".join(args[:3]), r, rc=2, out_empty=True, err_re=err_re)


def domain_files():
    return sorted(f for f in os.listdir(DOMAINS) if f.endswith(".xml"))


def import_cases(layer, cli, fix, work, update):
    for f in domain_files():
        path = os.path.join(DOMAINS, f)
        r = cli.run("import-libvirt", os.path.relpath(path, HERE), cwd=HERE)
        golden(layer, "import-" + f, r, "import-" + f[:-4], update)
        if r.rc != 0:
            continue
        round_trip(layer, cli, fix, work, f, r.out)


def round_trip(layer, cli, fix, work, f, policy_text):
    fx = DOMAIN_FX.get(f, DEFAULT_FX)
    sysroot = os.path.join(fix, fx)
    label = "round-trip-" + f
    conf = os.path.join(work, f + ".conf")
    H.write_text(conf, policy_text)
    c = cli.run("--json", "check", conf, sysroot=sysroot)
    if c.rc != 0:
        return layer.fail(label, "the imported policy fails check on %s (exit %s):" % (fx, c.rc),
                          H.indent(c.err, limit=20), H.indent(policy_text, "  | ", 40))
    name = re.search(r"^guest (\S+) \{", policy_text, re.M).group(1)
    e = cli.run("emit", "--format", "libvirt", name, "-p", conf, sysroot=sysroot)
    if e.rc != 0:
        return layer.fail(label, "emit failed (exit %s)" % e.rc, H.indent(e.err, limit=20))
    original = ET.parse(os.path.join(DOMAINS, f)).getroot()
    emitted = ET.fromstring(fragment_domain(e.out))
    want, got = placement(original, host_cpus(fx)), placement(emitted, host_cpus(fx))
    if original.find("vcpu") is not None and original.find("vcpu").get("placement") == "auto":
        # auto: the import says auto; the emitted sets are the solver's, as check --json has them
        if not re.search(r"^    cpus auto;$", policy_text, re.M) or "nodes auto" not in policy_text:
            return layer.fail(label, "placement='auto' not imported as cpus auto / nodes auto",
                              H.indent(policy_text, "  | ", 40))
        import json
        g = json.loads(c.out)["guests"][0]
        want["vcpus"] = [parse_list(v["cpus"]) for v in g["vcpus"]]
        want["emulator"] = parse_list(g["emulator"]["cpus"])
        want["numatune"] = dict(mode=g["mode"], nodes=parse_list(g["mems"]))
    if want["numatune"] is None:
        # no <numatune>: libvirt leaves memory alone; cgplace's default is nodes local
        got["numatune"] = None
    layer.check(label, differences(want, got), "policy:\n" + H.indent(policy_text, "  | ", 40) +
                "\nemitted:\n" + H.indent(e.out, "  | ", 40))


DOMAIN_OK = ("<domain type='kvm'>\n  <name>x</name>\n  <uuid>00000000-0000-4000-8000-000000000001</uuid>\n"
             "  <memory unit='KiB'>1048576</memory>\n  <vcpu>1</vcpu>\n</domain>\n")
LOL = '<!ENTITY lol "lol">\n' + "".join(
    '<!ENTITY lol%d "%s">\n' % (i, ("&lol%s;" % (i - 1 if i > 1 else "")) * 10) for i in range(1, 10))
DOCTYPE_RE = r"a DOCTYPE is refused: domain XML needs no DTD, and cgplace reads no DTD and expands no entity$"


def hostile_cases(layer, cli, work):
    big = os.path.join(work, "big.xml")
    with open(big, "w") as fh:
        fh.write(DOMAIN_OK.replace("</domain>", ""))
        chunk = "<!--" + "x" * (1 << 20) + "-->\n"
        for _ in range(50):
            fh.write(chunk)
        fh.write("</domain>\n")
    os.symlink(os.path.join(DOMAINS, "vcpupin.xml"), os.path.join(work, "link.xml"))
    cases = [
        ("doctype-entities", '<?xml version="1.0"?>\n<!DOCTYPE domain [\n<!ENTITY n "4">\n]>\n'
         + DOMAIN_OK.replace("<vcpu>1", "<vcpu>&n;"), r"^@:2: error: " + DOCTYPE_RE),
        ("billion-laughs", "<!DOCTYPE domain [\n" + LOL + "]>\n" + DOMAIN_OK.replace("<name>x", "<name>&lol9;"),
         r"^@:1: error: " + DOCTYPE_RE),
        ("network-dtd", '<!DOCTYPE domain SYSTEM "http://127.0.0.1:9/domain.dtd">\n' + DOMAIN_OK,
         r"^@:1: error: " + DOCTYPE_RE),
        ("external-entity", '<!DOCTYPE domain [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
         + DOMAIN_OK.replace("<name>x", "<name>&xxe;"), r"^@:1: error: " + DOCTYPE_RE),
        ("parameter-entity", '<!-- comment -->\n\n<!DOCTYPE domain [\n<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">\n'
         '%p;\n]>\n' + DOMAIN_OK, r"^@:3: error: " + DOCTYPE_RE),
        ("undefined-entity", DOMAIN_OK.replace("<name>x", "<name>&xxe;"),
         r"^@:2: error: not well-formed XML: Entity 'xxe' not defined$"),
        ("not-well-formed", DOMAIN_OK.replace("</domain>", ""), r"^@:\d+: error: not well-formed XML: "),
        ("empty", "", r"^@:?\d*: error: not well-formed XML: "),
        ("not-a-domain", "<capabilities/>\n", r"^@:1: error: expected a libvirt <domain>, not <capabilities>$"),
        ("no-uuid", DOMAIN_OK.replace("  <uuid>00000000-0000-4000-8000-000000000001</uuid>\n", ""),
         r"^@:1: error: the domain has no <uuid>: "),
        ("bad-uuid", DOMAIN_OK.replace("00000000-0000-4000-8000-000000000001", "not-a-uuid"),
         r"^@:3: error: invalid <uuid> 'not-a-uuid': expected 32 hex digits"),
        ("pin-range", DOMAIN_OK.replace("</domain>", "  <cputune>\n    <vcpupin vcpu='1' cpuset='0'/>\n"
                                        "  </cputune>\n</domain>"),
         r"^@:7: error: <vcpupin vcpu='1'> is out of range: the domain has 1 vCPU$"),
        ("bad-cpuset", DOMAIN_OK.replace("<vcpu>1", "<vcpu cpuset='0-'>1"),
         r"^@:5: error: invalid <vcpu cpuset='0-'>: expected a non-empty list"),
        ("bad-unit", DOMAIN_OK.replace("unit='KiB'", "unit='parsec'"), r"^@:4: error: invalid memory unit 'parsec'"),
        ("vcpus-zero", DOMAIN_OK.replace("<vcpu>1", "<vcpu>0"), r"^@:5: error: <vcpu> count 0"),
    ]
    for name, text, err_re in cases:
        path = os.path.join(work, name + ".xml")
        H.write_text(path, text)
        r = cli.run("import-libvirt", path, timeout=30)
        layer.expect("hostile-" + name, r, rc=2, out_empty=True, err_re=err_re.replace("@", re.escape(path)))
    files = [
        ("hostile-50MB", big, r"^%s: error: larger than 1024 KiB: not a libvirt domain \(refused unread\)$"),
        ("hostile-symlink", os.path.join(work, "link.xml"), r"^%s: error: is a symbolic link \(not followed\)$"),
        ("hostile-directory", work, r"^%s: error: Is a directory$"),
        ("hostile-missing", os.path.join(work, "none.xml"), r"^%s: error: No such file or directory$"),
    ]
    for label, path, err_re in files:
        r = cli.run("import-libvirt", path, timeout=30)
        layer.expect(label, r, rc=2, out_empty=True, err_re=err_re % re.escape(path))
    # one bad file among good ones: every file is still checked, nothing is printed
    ok = os.path.join(DOMAINS, "vcpupin.xml")
    r = cli.run("import-libvirt", ok, os.path.join(work, "billion-laughs.xml"), big, timeout=30)
    layer.expect("hostile-mixed", r, rc=2, out_empty=True, err_re=r"(?s)^(?=.*billion-laughs\.xml:1: error: a DOCTYPE)(?=.*big\.xml: error: larger)")
    # the same domain twice would be two blocks matching one guest
    r = cli.run("import-libvirt", ok, ok)
    layer.expect("duplicate-uuid", r, rc=2, out_empty=True,
                 err_re=r"error: domain uuid c7a5fdbd-cdaf-9455-926a-d65c16db1809 is also .*'s: one block per domain$")
    # "-": standard input, the same block as from the file; capped the same way
    r = cli.run("import-libvirt", "-", stdin=H.read_text(ok))
    want = cli.run("import-libvirt", ok).out.replace("from " + ok, "from -")
    layer.expect("stdin", r, rc=0, out=want)
    r = cli.run("import-libvirt", "-", stdin=b"<!--" + b"x" * (2 << 20) + b"-->", timeout=30)
    layer.expect("hostile-stdin-2MB", r, rc=2, out_empty=True,
                 err_re=r"^-: error: larger than 1024 KiB: not a libvirt domain \(refused unread\)$")
    r = cli.run("import-libvirt", "-", ok, "-", stdin="")
    layer.expect("stdin-twice", r, rc=2, out_empty=True,
                 err_re=r"^cgplace: import-libvirt: standard input \(-\) can be read once$")
    r = cli.run("import-libvirt")
    layer.expect("no-operand", r, rc=2, out_empty=True, err_re=r"^cgplace: import-libvirt: give one or more")


def main(argv):
    update = results = None
    args = argv[1:]
    if args and args[0] == "--update":
        update, args = True, args[1:]
    if len(args) >= 2 and args[0] == "--results":
        results, args = args[1], args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    layer = H.Layer("emit", results)
    work = tempfile.mkdtemp(prefix="cgplace-emit.", dir=H.scratch_base())
    try:
        cli = H.Cli(H.snapshot(args[0], work))
        fix = os.path.join(work, "fixtures")
        os.makedirs(fix)
        H.run([sys.executable, mkfixtures.__file__, fix, EMIT_FX, DEFAULT_FX])
        emit_cases(layer, cli, fix, update)
        import_cases(layer, cli, fix, work, update)
        hostile_cases(layer, cli, work)
        for binary in args[1:]:
            layer.criterion(binary, env={"EMIT_FIXDIR": fix})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return layer.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
