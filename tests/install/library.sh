# Sourced by tests/install/run.sh after `make install DESTDIR=$d PREFIX=/usr`:
# the library as a -dev user gets it (soname, no RUNPATH, pkg-config) and the
# example program of libcgplace(3), extracted from the page, built through
# pkg-config and run on a fixture: its output must be what the page shows.
# Uses $d, ok, ko, skip.  POSIX sh.

# readelf prints "(RUNPATH)" / "(RPATH)" entries; none may reach the installed binary
if readelf -d "$d/usr/bin/cgplace" | grep -q 'R.*PATH'; then
    ko "installed binary has no RUNPATH/RPATH"; readelf -d "$d/usr/bin/cgplace" | grep 'R.*PATH'
else ok "installed binary has no RUNPATH/RPATH"; fi
if readelf -d "$d/usr/lib/libcgplace.so.0" | grep -q 'SONAME.*\[libcgplace\.so\.0\]'; then ok "library soname libcgplace.so.0"
else ko "library soname libcgplace.so.0"; fi
if [ -L "$d/usr/lib/libcgplace.so" ] && [ "$(readlink "$d/usr/lib/libcgplace.so")" = libcgplace.so.0 ]; then
    ok "libcgplace.so is the -dev symlink to the soname"
else ko "libcgplace.so is the -dev symlink to the soname"; fi

# pkg-config as a user of the DESTDIR sees it: the sysroot prefix rewrites -I/-L
pc() { PKG_CONFIG_PATH="$d/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d" pkg-config "$@" cgplace; }
v=$(pc --modversion 2>&1)
if [ "$v" = "$(sed -n 's/^VERSION *:= *//p' Makefile)" ]; then ok "pkg-config --modversion cgplace: $v"
else ko "pkg-config --modversion cgplace: $v"; fi
# Requires.private names exactly the libraries the installed library links (NEEDED, libc aside)
req=$(pc --print-requires-private 2>&1 | awk '{print $1}')
fromreq=$(for m in $req; do pkg-config --libs-only-l "$m"; done | tr ' ' '\n' | sed -n 's/^-l//p' | sort -u | tr '\n' ' ')
needed=$(readelf -d "$d/usr/lib/libcgplace.so.0" | sed -n 's/.*(NEEDED).*\[lib\([^].]*\)\.so.*/\1/p' | grep -v '^c$' | sort -u | tr '\n' ' ')
if [ -n "$needed" ] && [ "$fromreq" = "$needed" ]; then ok "cgplace.pc Requires.private ($(echo $req)) gives what the library links: $needed"
else ko "cgplace.pc Requires.private ($(echo $req)) gives '$fromreq', the library links '$needed'"; fi
if pc --static --libs >/dev/null 2>&1; then ok "pkg-config --static --libs resolves"
else ko "pkg-config --static --libs resolves"; pc --static --libs; fi
case " $(pc --cflags) $(pc --libs) " in *" -I$d/usr/include "*" -L$d/usr/lib -lcgplace "*)
    ok "pkg-config --cflags/--libs point into the install" ;;
*) ko "pkg-config --cflags/--libs: $(pc --cflags) $(pc --libs)" ;; esac

# libcgplace(3) EXAMPLES: the block after "Program source", roff escapes undone
sed -n '/^\.SS Program source/,/^\.EE/p' docs/libcgplace.3 | sed -e '1,/^\.EX/d' -e '/^\.EE/,$d' \
    | sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' >"$d/placement.c"
if [ "$(grep -c '^int main' "$d/placement.c")" = 1 ] &&
   ${CC:-gcc} -std=c11 -Wall -Wextra -Werror -o "$d/placement" "$d/placement.c" $(pc --cflags --libs) 2>"$d/cc.log"; then
    ok "libcgplace(3) example builds through pkg-config"
    python3 tests/fixtures/mkfixtures.py "$d/fx" asym >/dev/null 2>&1
    sed -n '/^and on the four-cell asymmetric host/,/^\.EE/p' docs/libcgplace.3 | sed -e '1,/^\.EX/d' -e '/^\.EE/,$d' \
        | sed 's/\\-/-/g' >"$d/want"
    if LD_LIBRARY_PATH="$d/usr/lib" "$d/placement" "$d/fx/asym" >"$d/got" 2>&1 && [ -s "$d/want" ] && cmp -s "$d/want" "$d/got"; then
        ok "libcgplace(3) example prints what the page shows (asym fixture)"
    else ko "libcgplace(3) example output differs from the page"; diff "$d/want" "$d/got"; fi
    printf 'guest x { vcpus 1; cpus 99; }\n' >"$d/bad.conf"
    if ! LD_LIBRARY_PATH="$d/usr/lib" "$d/placement" "$d/fx/asym" "$d/bad.conf" >/dev/null 2>"$d/got" &&
       grep -q "^$d/bad.conf:1:[0-9]*: error: " "$d/got"; then
        ok "libcgplace(3) example: a bad policy fails with FILE:LINE:COL"
    else ko "libcgplace(3) example: a bad policy fails with FILE:LINE:COL"; cat "$d/got"; fi
    rm -rf "$d/fx" "$d/bad.conf" "$d/want" "$d/got" "$d/placement"
else ko "libcgplace(3) example builds through pkg-config"; cat "$d/cc.log"; fi
rm -f "$d/placement.c" "$d/cc.log"

# libcgplace(3) names no function the headers do not declare
phantom=$(grep -o 'cgp_[a-z0-9_]*[a-z0-9]' docs/libcgplace.3 | sort -u | while read -r f; do
    grep -q -w "$f" include/*.h || printf '%s ' "$f"; done)
if [ -z "$phantom" ]; then ok "libcgplace(3) names only functions and types of include/*.h"
else ko "libcgplace(3) names what include/*.h does not declare: $phantom"; fi
# the installed man pages render without a groff warning
if command -v man >/dev/null 2>&1; then
    for m in man1/cgplace.1 man5/cgplace.conf.5 man3/libcgplace.3; do
        w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$d/usr/share/man/$m" 2>&1 >/dev/null)
        if [ -z "$w" ]; then ok "man --warnings $m: none"; else ko "man --warnings $m:"; printf '%s\n' "$w" | head -5; fi
    done
else skip "man not installed: man page warnings"; fi
