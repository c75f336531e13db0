#!/usr/bin/python3
"""tests/selinux/query.py POLICY FILE_CONTEXTS ASSERTIONS - check each line of
ASSERTIONS (format: see that file) against the kernel policy POLICY with
setools, the library behind sesearch/seinfo (one process instead of one
sesearch per line), and the file contexts FILE_CONTEXTS with matchpathcon.
Prints one "ok ..." or "FAIL ..." line per assertion."""
import subprocess
import sys

import setools


_by_source = {}


def rules(p, src, tgt, cls, perm):
    """The allow rules that grant src tgt:cls perm, as sesearch -A finds them
    (attributes expanded on both sides): one query per source, then filtered
    here, since a query per line walks every rule of the policy again."""
    # a misspelt name must fail, not pass as "denied"
    p.lookup_type_or_attr(src)
    p.lookup_type_or_attr(tgt)
    c = p.lookup_class(cls)
    try:
        known = set(c.perms) | set(c.common.perms)
    except setools.exception.NoCommon:
        known = set(c.perms)
    if perm not in known:
        raise ValueError(f"class {cls} has no permission {perm}")
    if src not in _by_source:
        _by_source[src] = [(r, {str(t) for t in r.target.expand()})
                           for r in setools.TERuleQuery(p, ruletype=["allow"], source=src).results()]
    return [r for r, tgts in _by_source[src]
            if tgt in tgts and str(r.tclass) == cls and perm in r.perms]


def main():
    pol, fc, path = sys.argv[1:4]
    p = setools.SELinuxPolicy(pol)
    lines = [ln.split() for ln in open(path) if ln.strip() and not ln.lstrip().startswith("#")]
    paths = [w[1] for w in lines if w[0] == "fc"]
    labels = {}
    if paths:
        out = subprocess.run(["matchpathcon", "-f", fc] + paths, capture_output=True, text=True).stdout
        for ln in out.splitlines():
            f = ln.split()
            if len(f) == 2:
                labels[f[0]] = f[1].split(":")[2]
    for w in lines:
        kind, a = w[0], w[1:]
        try:
            if kind == "allow":
                ok = bool(rules(p, *a))
                print(("ok allowed: " if ok else "FAIL not allowed: ") + f"{a[0]} {a[1]}:{a[2]} {a[3]}")
            elif kind == "deny":
                r = rules(p, *a)
                print(f"FAIL allowed: {r[0]}" if r else f"ok denied: {a[0]} {a[1]}:{a[2]} {a[3]}")
            elif kind == "trans":
                r = [x for x in setools.TERuleQuery(p, ruletype=["type_transition"], source=a[0], target=a[1],
                                                    tclass=[a[2]]).results() if str(x.default) == a[3]]
                print(("ok " if r else "FAIL no ") + f"type_transition {a[0]} {a[1]}:{a[2]} {a[3]}")
            elif kind == "role":
                types = {str(t) for r in p.roles() if str(r) == a[0] for t in r.types()}
                print(f"ok role {a[0]} types {a[1]}" if a[1] in types else f"FAIL role {a[0]} may not run {a[1]}")
            elif kind == "fc":
                got = labels.get(a[0])
                print(f"ok {a[0]} is {a[1]}" if got == a[1] else f"FAIL {a[0]} is {got or 'unlabelled'}, want {a[1]}")
            else:
                print(f"FAIL unknown assertion kind '{kind}'")
        except (setools.exception.InvalidType, setools.exception.InvalidClass, ValueError) as e:
            print(f"FAIL {' '.join(w)}: {e}")


main()
