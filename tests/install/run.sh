#!/bin/sh
# check-install: DESTDIR install, use the installed library, uninstall.
B=${1:-build}
mkdir -p "$B/results"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pass=0; fail=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
ko() { echo "FAIL: $1"; fail=$((fail + 1)); }
if make --no-print-directory -s install DESTDIR="$d" PREFIX=/usr >"$d.log" 2>&1; then ok "make install"; else ko "make install"; cat "$d.log"; fi
for f in usr/bin/cgplace usr/lib/libcgplace.so usr/lib/libcgplace.so.0 usr/include/cgplace.h \
         usr/share/man/man1/cgplace.1 usr/share/man/man5/cgplace.conf.5 usr/share/man/man3/libcgplace.3 \
         usr/lib/pkgconfig/cgplace.pc usr/share/bash-completion/completions/cgplace; do
    if [ -e "$d/$f" ]; then ok "installed $f"; else ko "installed $f"; fi
done
if [ -f selinux/cgplace.te ]; then
    if [ -n "$(find "$d/usr/share" -name cgplace.te)" ]; then ok "installed the SELinux module source"
    else ko "installed the SELinux module source"; fi
fi
if LD_LIBRARY_PATH="$d/usr/lib" "$d/usr/bin/cgplace" --version | grep -q '^cgplace [0-9]'; then ok "installed binary runs"; else ko "installed binary runs"; fi
# Only the public API is exported: internal helpers stay hidden.
if nm -D --defined-only "$d/usr/lib/libcgplace.so" | awk '{print $3}' | grep -qv '^cgp_\|^CGPLACE'; then
    ko "exports only cgp_* symbols"; nm -D --defined-only "$d/usr/lib/libcgplace.so" | grep -v ' cgp_'
else ok "exports only cgp_* symbols"; fi
if nm -D --defined-only "$d/usr/lib/libcgplace.so" | grep -q ' cgp_read_file$'; then ko "internal cgp_read_file hidden"; else ok "internal cgp_read_file hidden"; fi
if ${CC:-gcc} -std=c11 -Wall -Werror -o "$d/api-demo" tests/install/api-demo.c \
       $(PKG_CONFIG_PATH="$d/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d" pkg-config --cflags --libs cgplace) 2>"$d.log"; then
    ok "program builds against installed header and library (pkg-config)"
    if LD_LIBRARY_PATH="$d/usr/lib" "$d/api-demo"; then ok "public API on the live host"; else ko "public API on the live host"; fi
else ko "program builds against installed header and library"; cat "$d.log"; fi
. tests/install/init.sh
. tests/install/library.sh
. tests/install/completion.sh
. tests/install/docs.sh
# files uninstall must leave: another soname of the library, another header
: >"$d/usr/lib/libcgplace.so.1"; : >"$d/usr/include/cgplace-other.h"
make --no-print-directory -s uninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
if [ -e "$d/usr/lib/libcgplace.so.1" ] && [ -e "$d/usr/include/cgplace-other.h" ]; then ok "make uninstall removes only what it installed"
else ko "make uninstall removed files it did not install"; fi
rm -f "$d/usr/lib/libcgplace.so.1" "$d/usr/include/cgplace-other.h"
left=$(find "$d/usr" "$d/lib" "$d/etc" \( -type f -o -type l \) ! -path "$d/etc/cgplace/policy.conf" 2>/dev/null | wc -l)
if [ "$left" -eq 0 ]; then ok "make uninstall removes everything"; else ko "make uninstall left $left files"; fi
uninstall_policy_checks
rm -f "$d.log"
echo "$pass passed, $fail failed"
echo "$pass $fail ${skipped:-0}" > "$B/results/install"
[ "$fail" -eq 0 ]
