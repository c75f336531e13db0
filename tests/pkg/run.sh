#!/bin/sh
# check-pkg: dpkg-buildpackage -us -uc -b on a copy of the tree (the checkout
# stays clean: tracked and untracked-but-not-ignored files, as they are now),
# lintian (no error; every warning is one debian/README.source lists and
# explains), the packages' contents, apt's simulation of installing them on
# this host (dependencies resolve; nothing is changed), then the packages
# unpacked into a throwaway root with dpkg-deb -x and used from there:
# cgplace nodeinfo and cgplace check with the packaged default policy, and a
# program built through the packaged cgplace.pc.  Not dpkg --root: it would
# run the maintainer scripts chrooted into an empty root.  POSIX sh.
B=${1:-build}
mkdir -p "$B/results"
pass=0; fail=0; skipped=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
ko() { echo "FAIL: $1"; fail=$((fail + 1)); }
skip() { echo "SKIP: $1"; skipped=$((skipped + 1)); }
finish() { echo "pkg: $pass passed, $fail failed, $skipped skipped"; echo "$pass $fail $skipped" >"$B/results/pkg"; [ "$fail" -eq 0 ]; exit; }

for t in dpkg-buildpackage dh lintian fakeroot; do
    command -v $t >/dev/null 2>&1 || { skip "$t not installed (scripts/deps.sh check installs it): no package test"; finish; }
done
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
V=$(dpkg-parsechangelog -l debian/changelog -S Version)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)

# 1. build from a copy
before=$(git status --porcelain 2>/dev/null)
mkdir "$w/cgplace-$V"
if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$w/cgplace-$V"
else
    tar -C . --exclude=./build --exclude="./$B" -cf - . | tar -C "$w/cgplace-$V" -xf -
fi
if (cd "$w/cgplace-$V" && dpkg-buildpackage -us -uc -b) >"$w/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else ko "dpkg-buildpackage -us -uc -b"; tail -30 "$w/build.log"; finish; fi
for p in cgplace libcgplace0 libcgplace-dev; do
    if [ -f "$w/${p}_${V}_$ARCH.deb" ]; then ok "built $p"; else ko "built $p"; fi
done
if [ "$(git status --porcelain 2>/dev/null)" = "$before" ]; then ok "the checkout is left as it was"
else ko "the build changed the checkout"; git status --short; fi

# 2. lintian: errors fail; warnings must be listed in debian/README.source
lintian --no-tag-display-limit "$w/cgplace_${V}_$ARCH.changes" >"$w/lintian" 2>"$w/lintian.err"; lrc=$?
sed -i '/^N: /d' "$w/lintian"
if [ "$lrc" -gt 1 ]; then ko "lintian ran (exit $lrc)"; cat "$w/lintian.err"
elif grep -q '^E: ' "$w/lintian"; then ko "lintian: no error"; grep '^E: ' "$w/lintian"
else ok "lintian: no error"; fi
unexplained=$(sed -n 's/^W: [^:]*: \([^ ]*\).*/\1/p' "$w/lintian" | sort -u | while read -r tag; do
    grep -q -- "^- \`$tag\`" debian/README.source || echo "$tag"; done)
if [ -z "$unexplained" ]; then ok "lintian: every warning is explained in debian/README.source ($(grep -c '^W: ' "$w/lintian") warnings)"
else ko "lintian warnings not explained in debian/README.source: $(echo $unexplained)"; grep '^W: ' "$w/lintian"; fi

# 3. contents
has() { # PKG PATH...
    p=$1; shift
    dpkg-deb -c "$w/${p}_${V}_$ARCH.deb" | awk '{print $6}' | sed 's|^\./|/|' >"$w/list"
    for f; do
        if grep -qx -- "$f" "$w/list"; then ok "$p ships $f"; else ko "$p ships $f"; fi
    done
}
has cgplace /usr/bin/cgplace /usr/share/man/man1/cgplace.1.gz /usr/share/man/man5/cgplace.conf.5.gz \
    /usr/share/bash-completion/completions/cgplace /etc/cgplace/policy.conf /etc/init.d/cgplace \
    /lib/systemd/system/cgplace.service /lib/systemd/system/cgplace-watch.service
has libcgplace0 "/usr/lib/$MA/libcgplace.so.0" "/usr/lib/$MA/libcgplace.so.$V"
has libcgplace-dev "/usr/lib/$MA/libcgplace.so" "/usr/lib/$MA/pkgconfig/cgplace.pc" /usr/include/cgplace.h \
    /usr/share/man/man3/libcgplace.3.gz
# the SELinux module source, once the tree has selinux/
if [ -f selinux/cgplace.te ]; then
    if dpkg-deb -c "$w/cgplace_${V}_$ARCH.deb" | grep -q '/usr/share/.*/cgplace\.te$'; then ok "cgplace ships the SELinux module source"
    else ko "cgplace ships the SELinux module source"; fi
else skip "no selinux/ in this tree: SELinux module source not packaged"; fi
if dpkg-deb -c "$w/libcgplace0_${V}_$ARCH.deb" | grep -q 'libcgplace\.so$\|/include/'; then
    ko "libcgplace0 ships no development files"; else ok "libcgplace0 ships no development files"; fi
if dpkg-deb -f "$w/cgplace_${V}_$ARCH.deb" Depends | grep -q 'libcgplace0 (>= '; then
    ok "cgplace depends on libcgplace0 (shlibs)"; else ko "cgplace depends on libcgplace0: $(dpkg-deb -f "$w/cgplace_${V}_$ARCH.deb" Depends)"; fi
dpkg-deb -e "$w/cgplace_${V}_$ARCH.deb" "$w/ctl"
if grep -qx /etc/cgplace/policy.conf "$w/ctl/conffiles"; then ok "the default policy is a conffile (never overwritten)"
else ko "the default policy is a conffile"; fi
# opt-in boot-time enforcement, as with make install (cgplace(1) BOOT)
if grep -q 'update-rc.d cgplace defaults-disabled' "$w/ctl/postinst" && ! grep -q 'deb-systemd-invoke.*start\|update-rc.d cgplace defaults$' "$w/ctl/postinst"
then ok "postinst enables and starts nothing"; else ko "postinst enables and starts nothing"; cat "$w/ctl/postinst"; fi

# 4. installable here: apt resolves the dependencies (simulation, nothing changes)
if apt-get -s install "$w/cgplace_${V}_$ARCH.deb" "$w/libcgplace0_${V}_$ARCH.deb" "$w/libcgplace-dev_${V}_$ARCH.deb" \
       >"$w/apt.log" 2>&1 && grep -q '^Conf cgplace ' "$w/apt.log"; then ok "apt-get -s install resolves the three packages"
else ko "apt-get -s install"; tail -15 "$w/apt.log"; fi

# 5. the throwaway root
r="$w/root"
for p in cgplace libcgplace0 libcgplace-dev; do dpkg-deb -x "$w/${p}_${V}_$ARCH.deb" "$r"; done
if readelf -d "$r/usr/bin/cgplace" | grep -q 'R.*PATH'; then ko "packaged cgplace has no RUNPATH"
else ok "packaged cgplace has no RUNPATH"; fi
cg() { LD_LIBRARY_PATH="$r/usr/lib/$MA" "$r/usr/bin/cgplace" "$@"; }
if [ "$(LD_LIBRARY_PATH="$r/usr/lib/$MA" ldd "$r/usr/bin/cgplace" | sed -n 's/.*libcgplace.so.0 => \([^ ]*\).*/\1/p')" = "$r/usr/lib/$MA/libcgplace.so.0" ]
then ok "packaged cgplace runs on the packaged library"; else ko "packaged cgplace runs on the packaged library"; fi
if out=$(cg nodeinfo 2>&1) && printf '%s\n' "$out" | grep -q '^CPU(s):'; then ok "cgplace nodeinfo (this host)"
else ko "cgplace nodeinfo (this host): $out"; fi
if out=$(cg check "$r/etc/cgplace/policy.conf" 2>&1) && printf '%s\n' "$out" | grep -q 'valid (0 guests)'; then
    ok "cgplace check /etc/cgplace/policy.conf (this host)"
else ko "cgplace check /etc/cgplace/policy.conf (this host): $out"; fi
python3 tests/fixtures/mkfixtures.py "$w/fx" asym >/dev/null 2>&1
if [ -f tests/golden/expected/asym/nodeinfo.out ] && cg --sysroot "$w/fx/asym" nodeinfo >"$w/got" 2>&1 &&
   cmp -s "$w/got" tests/golden/expected/asym/nodeinfo.out; then ok "cgplace --sysroot nodeinfo (asym fixture, golden)"
else ko "cgplace --sysroot nodeinfo (asym fixture, golden)"; diff tests/golden/expected/asym/nodeinfo.out "$w/got"; fi
if cg --sysroot "$w/fx/asym" check "$r/etc/cgplace/policy.conf" >/dev/null 2>&1; then ok "cgplace --sysroot check, default policy (asym fixture)"
else ko "cgplace --sysroot check, default policy (asym fixture)"; fi
printf 'guest g { vcpus 1; cpus 99; }\n' >"$w/bad.conf"
cg --sysroot "$w/fx/asym" check "$w/bad.conf" >/dev/null 2>&1; rc=$?
if [ "$rc" = 2 ]; then ok "cgplace check, invalid policy: exit 2"; else ko "cgplace check, invalid policy: exit $rc, want 2"; fi
# the -dev package: a program through the packaged cgplace.pc
pcflags=$(PKG_CONFIG_PATH="$r/usr/lib/$MA/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$r" pkg-config --cflags --libs cgplace 2>&1)
if ${CC:-gcc} -std=c11 -Wall -Werror -o "$w/api-demo" tests/install/api-demo.c $pcflags >"$w/cc.log" 2>&1 &&
   LD_LIBRARY_PATH="$r/usr/lib/$MA" "$w/api-demo" "$w/fx/asym" >/dev/null; then
    ok "libcgplace-dev: a program built through cgplace.pc runs"
else ko "libcgplace-dev: a program built through cgplace.pc ($pcflags)"; cat "$w/cc.log"; fi
finish
