# Sourced by tests/install/run.sh after `make install DESTDIR=$d PREFIX=/usr`:
# the boot-time enforcement files of init/ (cgplace(1) BOOT).  Uses $d, ok, ko;
# counts what it cannot check here in $skipped.  POSIX sh.
skipped=${skipped:-0}
skip() { echo "SKIP: $1"; skipped=$((skipped + 1)); }
units="cgplace.service cgplace-watch.service"
# the Makefile's default: systemd's own answer, else Debian's place
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
[ -n "$unitdir" ] || unitdir=/lib/systemd/system

for f in "$unitdir/cgplace.service" "$unitdir/cgplace-watch.service" /etc/init.d/cgplace \
         /usr/share/cgplace/openrc/cgplace /etc/cgplace/policy.conf; do
    if [ -f "$d$f" ]; then ok "installed $f"; else ko "installed $f"; fi
done
for f in /etc/init.d/cgplace /usr/share/cgplace/openrc/cgplace; do
    if [ -x "$d$f" ]; then ok "$f is executable"; else ko "$f is executable"; fi
    if sh -n "$d$f"; then ok "sh -n $f"; else ko "sh -n $f"; fi
done
if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck -s sh "$d/etc/init.d/cgplace" "$d/usr/share/cgplace/openrc/cgplace"; then ok "shellcheck init scripts"
    else ko "shellcheck init scripts"; fi
else skip "shellcheck not installed"; fi
if grep -l '@[A-Z]*@' "$d$unitdir"/cgplace*.service "$d/etc/init.d/cgplace" "$d/usr/share/cgplace/openrc/cgplace"; then
    ko "no @VAR@ left in the installed units and scripts"
else ok "no @VAR@ left in the installed units and scripts"; fi
if grep -q '^ExecStart=/usr/bin/cgplace apply /etc/cgplace/policy.conf$' "$d$unitdir/cgplace.service" &&
   grep -q '^: "${CGPLACE:=/usr/bin/cgplace}"$' "$d/etc/init.d/cgplace"; then
    ok "units and scripts run the installed BINDIR/cgplace"
else ko "units and scripts run the installed BINDIR/cgplace"; fi
if [ -n "$(find "$d/etc/systemd" "$d/etc/rc"*.d -name '*cgplace*' 2>/dev/null)" ]; then
    ko "install enables no unit or runlevel link"
else ok "install enables no unit or runlevel link"; fi

# systemd-analyze verify wants ExecStart= to exist: check copies that run the DESTDIR binary.
if command -v systemd-analyze >/dev/null 2>&1 && systemd-analyze verify --help >/dev/null 2>&1; then
    mkdir -p "$d/verify"
    for u in $units; do
        sed "s|=/usr/bin/cgplace |=$d/usr/bin/cgplace |" "$d$unitdir/$u" >"$d/verify/$u"
    done
    for u in $units; do
        out=$(cd "$d/verify" && systemd-analyze verify --man=no "./$u" 2>&1)
        if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $u"
        else ko "systemd-analyze verify $u"; printf '%s\n' "$out"; fi
    done
    # the check can fail: a bad Type= and a missing ExecStart binary are found
    sed 's/^Type=oneshot/Type=bogus/' "$d/verify/cgplace.service" >"$d/verify/bad1.service"
    sed "s|=$d/usr/bin/cgplace |=$d/nonexistent/cgplace |" "$d/verify/cgplace.service" >"$d/verify/bad2.service"
    for u in bad1.service bad2.service; do
        out=$(cd "$d/verify" && systemd-analyze verify --man=no "./$u" 2>&1)
        if [ $? -ne 0 ] || [ -n "$out" ]; then ok "systemd-analyze verify rejects a broken unit ($u)"
        else ko "systemd-analyze verify rejects a broken unit ($u)"; fi
    done
    rm -rf "$d/verify"
else skip "systemd-analyze verify not available"; fi

# The default policy: valid on this host and on every fixture, and places nothing.
cg() { LD_LIBRARY_PATH="$d/usr/lib" "$d/usr/bin/cgplace" "$@"; }
if out=$(cg check "$d/etc/cgplace/policy.conf" 2>&1) && printf '%s\n' "$out" | grep -q 'valid (0 guests)'; then
    ok "default policy: cgplace check on this host, 0 guests"
else ko "default policy: cgplace check on this host: $out"; fi
if python3 tests/fixtures/mkfixtures.py "$d/fx" >/dev/null 2>&1; then
    bad=""
    for fx in "$d"/fx/*/; do
        cg --sysroot "$fx" check "$d/etc/cgplace/policy.conf" >/dev/null 2>&1 || bad="$bad $(basename "$fx")"
    done
    if [ -z "$bad" ]; then ok "default policy: cgplace check on every fixture"
    else ko "default policy: cgplace check fails on$bad"; fi
    # its commented-out guest example is valid too once uncommented
    sed '/^#guest/,/^#}/s/^#//' "$d/etc/cgplace/policy.conf" >"$d/example.conf"
    if grep -q '^guest ' "$d/example.conf" &&
       cg --sysroot "$d/fx/two-socket-smt" check "$d/example.conf" 2>&1 | grep -q 'valid (1 guest)'; then
        ok "default policy: the commented guest example is valid (two-socket-smt)"
    else ko "default policy: the commented guest example is valid (two-socket-smt)"; fi
    rm -rf "$d/fx" "$d/example.conf"
else ko "mkfixtures.py"; fi

# The SysV script without the host's cgplace (nothing here may touch the host's cgroups).
sysv() { INIT_FUNCTIONS=/nonexistent "$d/etc/init.d/cgplace" "$@" >/dev/null 2>&1; echo $?; }
rc=$(CGPLACE=/nonexistent/cgplace sysv status);  [ "$rc" = 4 ] && ok "sysv status without cgplace: 4 (unknown)" || ko "sysv status without cgplace: $rc, want 4"
rc=$(CGPLACE=/nonexistent/cgplace sysv start);   [ "$rc" = 5 ] && ok "sysv start without cgplace: 5 (not installed)" || ko "sysv start without cgplace: $rc, want 5"
rc=$(CGPLACE="$d/usr/bin/cgplace" POLICY=/nonexistent.conf sysv start); [ "$rc" = 6 ] && ok "sysv start without a policy: 6 (not configured)" || ko "sysv start without a policy: $rc, want 6"
printf 'guest g { vcpus 1; cpus 99999; }\n' >"$d/bad.conf"
rc=$(LD_LIBRARY_PATH="$d/usr/lib" CGPLACE="$d/usr/bin/cgplace" POLICY="$d/bad.conf" sysv start); [ "$rc" = 6 ] && ok "sysv start with an invalid policy: 6" || ko "sysv start with an invalid policy: $rc, want 6"
rm -f "$d/bad.conf"
rc=$(CGPLACE=/nonexistent/cgplace sysv stop);    [ "$rc" = 0 ] && ok "sysv stop: 0, nothing to undo" || ko "sysv stop: $rc, want 0"
rc=$(sysv bogus);                                [ "$rc" = 2 ] && ok "sysv unknown action: 2" || ko "sysv unknown action: $rc, want 2"
if grep -q '^# Required-Start:.*\$local_fs' "$d/etc/init.d/cgplace" && grep -q '^# X-Start-Before:.*libvirtd' "$d/etc/init.d/cgplace"
then ok "sysv LSB header: after \$local_fs, before libvirtd"; else ko "sysv LSB header"; fi

# A changed policy survives install and uninstall.
echo "# changed by the admin" >>"$d/etc/cgplace/policy.conf"
make --no-print-directory -s install-init DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
if tail -1 "$d/etc/cgplace/policy.conf" | grep -q 'changed by the admin'; then ok "make install keeps a changed policy"
else ko "make install overwrote a changed policy"; fi
uninstall_policy_checks() {
    if [ -f "$d/etc/cgplace/policy.conf" ]; then ok "make uninstall keeps a changed policy"
    else ko "make uninstall removed a changed policy"; fi
    rm -f "$d/etc/cgplace/policy.conf"
    make --no-print-directory -s install-init DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
    make --no-print-directory -s uninstall-init DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
    if [ ! -e "$d/etc/cgplace" ]; then ok "make uninstall removes an unchanged policy and its directory"
    else ko "make uninstall left $(find "$d/etc/cgplace" | tr '\n' ' ')"; fi
}
