#!/bin/sh
# tests/selinux/run.sh BUILD - the check-selinux layer: build selinux/cgplace.pp
# with Debian's selinux-policy-dev, link it with Debian's base policy and every
# module of selinux-policy-default (downloaded with apt-get download, unpacked
# under BUILD/selinux, never installed), expand that into a kernel policy, and
# check each line of tests/selinux/assertions against it (tests/selinux/query.py:
# setools, as sesearch/seinfo, and matchpathcon), plus the module's file contexts with setfiles -c.  No SELinux
# kernel needed.  Writes BUILD/results/selinux ("PASSED FAILED SKIPPED").
# SELINUX_POLICY_DIR=DIR uses DIR/*.pp[.bz2] (with base.pp) instead of the download;
# SELINUX_DEVEL_MAKEFILE names another refpolicy build Makefile.
B=${1:-build}
here=$(dirname "$0")
top=$here/../..
W=$B/selinux
mkdir -p "$B/results" "$W"
W=$(cd "$W" && pwd)
p=0; f=0; s=0
ntests=$(( $(grep -cvE '^[[:space:]]*(#|$)' "$here/assertions") + 3 ))

finish() {
    echo "$p $f $s" > "$B/results/selinux"
    echo "selinux: $p passed, $f failed, $s skipped"
    [ "$f" -eq 0 ]; exit
}
# Everything is skipped, loudly, when a tool or the base policy is missing.
skip_all() {
    echo "selinux: SKIPPED all $ntests tests: $*"
    s=$((s + ntests)); finish
}
pass() { p=$((p + 1)); echo "  ok    $*"; }
fail() { f=$((f + 1)); echo "  FAIL  $*"; }

DEVEL=${SELINUX_DEVEL_MAKEFILE:-/usr/share/selinux/devel/Makefile}
[ -r "$DEVEL" ] || skip_all "$DEVEL missing (scripts/deps.sh selinux installs selinux-policy-dev)"
/usr/bin/python3 -c 'import setools' 2>/dev/null || skip_all "python3-setools not installed (scripts/deps.sh selinux: setools)"
for t in semodule_link semodule_expand semodule_unpackage setfiles matchpathcon bunzip2; do
    command -v $t >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v $t >/dev/null 2>&1 ||
        skip_all "$t not installed (scripts/deps.sh selinux)"
done
PATH=$PATH:/usr/sbin:/sbin

# 1. the module builds with the refpolicy headers
rm -rf "$W/module"; mkdir -p "$W/module"
cp "$top"/selinux/cgplace.te "$top"/selinux/cgplace.if "$top"/selinux/cgplace.fc "$W/module/"
if make -s -C "$W/module" -f "$DEVEL" cgplace.pp >"$W/build.log" 2>&1 && [ -s "$W/module/cgplace.pp" ]; then
    pass "selinux/cgplace.pp builds (make -f $DEVEL)"
else
    fail "selinux/cgplace.pp does not build; log: $W/build.log"; tail -n 20 "$W/build.log"
    s=$((s + ntests - 1)); finish
fi

# 2. the base policy: SELINUX_POLICY_DIR, the installed package, or the download
src=${SELINUX_POLICY_DIR:-}
if [ -z "$src" ] && { [ -e /usr/share/selinux/default/base.pp ] || [ -e /usr/share/selinux/default/base.pp.bz2 ]; }; then
    src=/usr/share/selinux/default
fi
if [ -z "$src" ]; then
    deb=$(ls "$W"/refpolicy/selinux-policy-default_*.deb 2>/dev/null | tail -n 1)
    if [ -z "$deb" ]; then
        mkdir -p "$W/refpolicy"
        (cd "$W/refpolicy" && apt-get download selinux-policy-default) >"$W/download.log" 2>&1
        deb=$(ls "$W"/refpolicy/selinux-policy-default_*.deb 2>/dev/null | tail -n 1)
        [ -n "$deb" ] || { s=$((s + ntests - 1)); echo "selinux: SKIPPED the other $((ntests - 1)) tests:" \
            "apt-get download selinux-policy-default failed (log: $W/download.log)"; finish; }
    fi
    rm -rf "$W/refpolicy/x"; dpkg-deb -x "$deb" "$W/refpolicy/x"
    src=$W/refpolicy/x/usr/share/selinux/default
    from=$(basename "$deb" .deb)
fi
rm -rf "$W/mods"; mkdir -p "$W/mods"
for m in "$src"/*.pp "$src"/*.pp.bz2; do
    [ -e "$m" ] || continue
    case $m in *.bz2) bunzip2 -c "$m" >"$W/mods/$(basename "$m" .bz2)" ;; *) cp "$m" "$W/mods/" ;; esac
done
[ -s "$W/mods/base.pp" ] || skip_all "no base.pp in $src"

# 3. linked with every module of the distribution's policy, and expanded
mods=""
for m in "$W"/mods/*.pp; do [ "${m##*/}" = base.pp ] || mods="$mods $m"; done
pol=$W/policy.kern
if semodule_link -o "$W/linked.pp" "$W/mods/base.pp" $mods "$W/module/cgplace.pp" >"$W/link.log" 2>&1 &&
   semodule_expand "$W/linked.pp" "$pol" >>"$W/link.log" 2>&1; then
    pass "links with base.pp and $(echo "$mods" | wc -w) modules of ${from:-$src}, and expands"
else
    fail "semodule_link/semodule_expand; log: $W/link.log"; grep -v 'loading package' "$W/link.log" | tail -n 20
    s=$((s + ntests - 2)); finish
fi

# 4. the file contexts: the module's are valid in this policy; all of them for matchpathcon
semodule_unpackage "$W/module/cgplace.pp" "$W/cgplace.mod" "$W/cgplace.fc"
if setfiles -c "$pol" "$W/cgplace.fc" >"$W/setfiles.log" 2>&1; then
    pass "setfiles -c: cgplace's file contexts are valid"
else
    fail "setfiles -c $W/cgplace.fc"; cat "$W/setfiles.log"
fi
: >"$W/all.fc"
for m in "$W"/mods/*.pp "$W/module/cgplace.pp"; do
    semodule_unpackage "$m" "$W/tmp.mod" "$W/tmp.fc" 2>/dev/null && cat "$W/tmp.fc" >>"$W/all.fc"
done
rm -f "$W/tmp.mod" "$W/tmp.fc"

# 5. each assertion (setools, the library of sesearch and seinfo; Debian's python3)
/usr/bin/python3 "$here/query.py" "$pol" "$W/all.fc" "$here/assertions" >"$W/assertions.out" 2>"$W/query.log" ||
    { echo "  query.py failed; log: $W/query.log"; tail -n 5 "$W/query.log"; }
while read -r st rest; do
    if [ "$st" = ok ]; then pass "$rest"; else fail "$rest"; fi
done <"$W/assertions.out"
# an assertion without an answer (query.py died) is a failure too
left=$((ntests - 3 - $(wc -l <"$W/assertions.out")))
[ "$left" -gt 0 ] && fail "$left assertions not evaluated"
finish
