"""The sandbox probe on the host (issue 10, problem 3), part of the sandbox
layer (tests/sandbox/cli.py calls run()): tests/sandbox/probe.c, preloaded
into a sandboxed run on the fixture sysroot, tries at exit to create a file,
make a directory, read a 0600 file another user owns and unlink a file, all
in a temp directory outside the sandbox's paths, and reports its
capabilities. A control run with --no-sandbox shows each attempt succeeds
without the sandbox. Sandboxed: every attempt fails -- creating and
unlinking a file for every verb (EPERM from the seccomp filter: no O_CREAT,
unlinkat of directories only), mkdir where Landlock applies (EACCES; the
verbs that still touch guests' memory, apply, verify, numatune and changes,
get no Landlock), reading the secret because CAP_DAC_OVERRIDE is gone --,
CapEff is the verb's documented set, the bounding set empty, no_new_privs
on, seccomp filtering.
Landlock missing on this kernel: those checks skip loudly. Needs root (the
capabilities to lose). The real-kernel version is tests/vm/t/71-least-privilege.py."""
import ctypes
import os
import re
import shutil

# CapEff each verb keeps (docs/SECURITY.md, "Least privilege"; cli/privilege.c)
CAP_SYS_PTRACE, CAP_SYS_NICE = 19, 23
KEEP = {
    "nodeinfo": 0, "topology": 0, "check": 0, "plan": 0, "guests": 0, "vcpuinfo": 0, "vcpupin-show": 0,
    "verify": 1 << CAP_SYS_PTRACE, "numatune-show": 1 << CAP_SYS_PTRACE,
    "apply": (1 << CAP_SYS_PTRACE) | (1 << CAP_SYS_NICE), "vcpupin": (1 << CAP_SYS_PTRACE) | (1 << CAP_SYS_NICE),
}
# the verbs that still read or move guests' memory after setup: no Landlock
# (it fails the ptrace checks of numa_maps and migrate_pages), capabilities only
NO_LANDLOCK = {"verify", "numatune-show", "apply", "vcpupin"}
LINE_RE = re.compile(r"^cgp-probe: (.*)$", re.M)


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1))  # landlock_create_ruleset VERSION


def parse(text):
    """The probe's line as a dict, or None."""
    m = LINE_RE.findall(text)
    if not m:
        return None
    return dict(kv.split("=", 1) for kv in m[-1].split())


def run(H, check, skip, BIN, FX, WORK, POLICY, LOCK, fresh_cgroot):
    so = os.environ.get("CGP_PROBE_SO", "")
    if not so or not os.path.exists(so):
        skip("sandbox probe", "CGP_PROBE_SO (build/sandbox/probe.so) not built")
        return
    if os.geteuid() != 0:
        skip("sandbox probe", "needs root: the capabilities a sandboxed run drops")
        return
    abi = landlock_abi()
    if abi < 1:
        print(f"SKIP: Landlock is not available on this kernel (errno {ctypes.get_errno()}): "
              "the file system checks of the probe are skipped")
    out = WORK + "/outside"

    def targets():
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        with open(out + "/secret", "w") as f:
            f.write("secret\n")
        os.chmod(out + "/secret", 0o600)
        os.chown(out + "/secret", 65534, 65534)     # root without CAP_DAC_OVERRIDE: denied
        with open(out + "/victim", "w") as f:
            f.write("x\n")
        return {"CGP_PROBE_CREATE": out + "/created", "CGP_PROBE_MKDIR": out + "/dir",
                "CGP_PROBE_READ": out + "/secret", "CGP_PROBE_UNLINK": out + "/victim",
                "LD_PRELOAD": os.path.abspath(so), "CGPLACE_LOCK": LOCK}

    cases = [
        ("nodeinfo", ["nodeinfo"], False),
        ("topology", ["topology"], False),
        ("check", ["check", POLICY], False),
        ("guests", ["guests", "-p", POLICY], False),
        ("plan", ["plan", POLICY], True),
        ("verify", ["verify", POLICY], True),
        ("apply", ["apply", POLICY], True),
        ("vcpuinfo", ["vcpuinfo", "g1"], False),
        ("vcpupin-show", ["vcpupin", "g1"], False),
        ("numatune-show", ["numatune", "g1"], False),
        ("vcpupin", ["vcpupin", "g1", "0", "1"], True),
    ]
    for name, args, cg in cases:
        pre = ["--sysroot", FX] + (["--cgroup-root", fresh_cgroot("probe-" + name)] if cg else [])
        plain = H.run([BIN, "--no-sandbox"] + pre + args, env=targets(), timeout=120)
        p = parse(plain.err)
        check(f"probe {name} --no-sandbox: every attempt succeeds (control)",
              p and all(p.get(k) == "OK" for k in ("create", "mkdir", "read", "unlink"))
              and p.get("NoNewPrivs") == "0" and p.get("Seccomp") == "0", plain.err[-1500:])
        sbx = H.run([BIN] + pre + args, env=targets(), timeout=120)
        s = parse(sbx.err)
        check(f"probe {name}: same exit status sandboxed ({plain.rc})", sbx.rc == plain.rc, sbx.err[-1500:])
        if not s:
            check(f"probe {name}: the probe reported", False, sbx.err[-1500:])
            continue
        want = KEEP[name]
        check(f"probe {name}: CapEff {want:016x} and CapPrm the same, CapBnd empty",
              int(s.get("CapEff", "-1"), 16) == want and int(s.get("CapPrm", "-1"), 16) == want
              and int(s.get("CapBnd", "-1"), 16) == 0, str(s))
        check(f"probe {name}: no_new_privs and seccomp filter", s.get("NoNewPrivs") == "1"
              and s.get("Seccomp") == "2", str(s))
        check(f"probe {name}: reading another user's 0600 file fails", s.get("read") == "EACCES", str(s))
        # the filter: no file made (O_CREAT) or removed (unlinkat of a file), any path, any verb
        check(f"probe {name}: creating and unlinking a file fail (seccomp: EPERM)",
              s.get("create") == "EPERM" and s.get("unlink") == "EPERM"
              and os.path.exists(out + "/victim") and not os.path.exists(out + "/created"), str(s))
        if name in NO_LANDLOCK:
            continue
        if abi < 1:
            skip(f"probe {name}: mkdir outside the cgroup root fails", "no Landlock")
            continue
        check(f"probe {name}: mkdir outside the allowed paths fails (Landlock)",
              s.get("mkdir") == "EACCES" and not os.path.exists(out + "/dir"), str(s))
    if abi < 1:
        return
    # what stays allowed: reading the sysroot's sys/; the cgroup root is read-only
    cg = fresh_cgroot("probe-allowed")
    env = {"CGP_PROBE_READ": FX + "/sys/devices/system/node/online", "CGP_PROBE_CREATE": cg + "/created",
           "CGP_PROBE_MKDIR": cg + "/newgroup", "LD_PRELOAD": os.path.abspath(so), "CGPLACE_LOCK": LOCK}
    r = H.run([BIN, "--sysroot", FX, "--cgroup-root", cg, "plan", POLICY], env=env, timeout=120)
    s = parse(r.err) or {}
    check("probe plan: sys/ readable, the cgroup root read-only (no group made: Landlock; no file created: seccomp)",
          r.rc == 0 and s.get("read") == "OK" and s.get("mkdir") == "EACCES" and s.get("create") == "EPERM", r.err)
