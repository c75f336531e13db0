#!/usr/bin/env bash
# tests/golden/run.sh [--update] PATH_TO_CGPLACE
#
# Golden tests of the cgplace CLI on the fixture trees of
# tests/fixtures/mkfixtures.py:
#   1. every case in tests/golden/cases: stdout and exit status against
#      tests/golden/expected/FIXTURE/CASE.{out,rc} (a diff per failure);
#   2. every capabilities output (text and the --json .xml) validated with
#      xmllint against libvirt's capability.rng;
#   3. every case in tests/golden/errors: exit status, empty stdout, stderr
#      matching a regex (corrupted fixtures must name the bad file);
#   4. tests/golden/check.py: facts derived from the fixture descriptions
#      compared with the live output *and* with the golden files.
# Ends with "N passed, N failed" and exits 1 on any failure.
#
# --update rewrites expected/*/*.{out,rc} from the current output (the error
# cases and check.py are not blessed by it); review every changed file against
# the fixture description and spec section 2 before committing.
#
# Environment: GOLDEN_FIXTURES=DIR generate the fixtures there instead of a
# temporary directory under $TMPDIR, else /dev/shm, else /tmp (kept afterwards); GOLDEN_ONLY="fx1 fx2" limits fixtures;
# CAPABILITY_RNG overrides the schema path.
set -u
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
HERE=$(cd "$(dirname "$0")" && pwd)
MKFX="$HERE/../fixtures/mkfixtures.py"
EXP="$HERE/expected"
RNG=${CAPABILITY_RNG:-/usr/share/libvirt/schemas/capability.rng}

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 [--update] PATH_TO_CGPLACE" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

# ~20k small files per run: tmpfs when there is one (much faster than a busy disk).
if [ -n "${TMPDIR:-}" ]; then
    base=$TMPDIR
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
    base=/dev/shm
else
    base=/tmp
fi
WORK=$(mktemp -d "$base/cgplace-golden.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
# Run a snapshot of the binary (and the library next to it, found through its
# $ORIGIN rpath) so a concurrent relink of the build tree cannot change it mid-run.
mkdir -p "$WORK/bin"
if cp "$BIN" "$WORK/bin/" && { ! ls "$(dirname "$BIN")"/libcgplace.so* >/dev/null 2>&1 ||
        cp -P "$(dirname "$BIN")"/libcgplace.so* "$WORK/bin/"; }; then
    BIN=$WORK/bin/$(basename "$BIN")
else
    echo "golden: could not snapshot $BIN; running it in place" >&2
fi
if [ -n "${GOLDEN_FIXTURES:-}" ]; then
    FIX=$GOLDEN_FIXTURES
else
    FIX=$WORK/fixtures
fi
mkdir -p "$FIX"

if [ -n "${GOLDEN_ONLY:-}" ]; then
    FIXTURES=$GOLDEN_ONLY
else
    FIXTURES=$(python3 "$MKFX" --list) || exit 2
fi
# shellcheck disable=SC2086 # one line, single spaces
FIXTURES=$(printf "%s " $FIXTURES)
# shellcheck disable=SC2086
python3 "$MKFX" "$FIX" $FIXTURES || { echo "golden: fixture generation failed" >&2; exit 2; }

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

# run SYSROOT ARGS... -> $WORK/out, $WORK/err, $rc
run() {
    local root=$1
    shift
    "$BIN" --sysroot "$root" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

xml_valid() { # FILE LABEL
    if [ ! -r "$RNG" ]; then
        bad "$2: $RNG missing (apt-get install libvirt0)"
        return
    fi
    if xmllint --noout --relaxng "$RNG" "$1" >"$WORK/xmllint" 2>&1; then
        ok
    else
        bad "$2: does not validate against capability.rng"
        sed 's/^/    /' "$WORK/xmllint" | head -20
    fi
}

# ---------------------------------------------------------------- 1+2 golden
HERE_RE=$(printf '%s' "$HERE" | sed 's/[][\.*^$|]/\\&/g')
while read -r fx case args; do
    case "$fx" in ''|'#'*) continue ;; esac
    for f in $FIXTURES; do
        [ "$fx" = "*" ] || [ "$fx" = "$f" ] || continue
        # shellcheck disable=SC2086
        run "$FIX/$f" ${args//@HERE@/$HERE}
        sed -i "s|$HERE_RE|@HERE@|g" "$WORK/out" # a path named in the output
        exp_out="$EXP/$f/$case.out"
        exp_rc="$EXP/$f/$case.rc"
        if [ $update = 1 ]; then
            mkdir -p "$EXP/$f"
            cp "$WORK/out" "$exp_out"
            echo "$rc" >"$exp_rc"
        fi
        label="$f/$case (cgplace $args)"
        if [ ! -f "$exp_out" ] || [ ! -f "$exp_rc" ]; then
            bad "$label: no expected file $exp_out / .rc (run with --update, then review)"
        else
            want_rc=$(cat "$exp_rc")
            msg=""
            [ "$rc" = "$want_rc" ] || msg="exit status $rc, expected $want_rc; "
            if [ "$rc" != 0 ] && ! grep -q '^cgplace: ' "$WORK/err"; then
                msg="${msg}no 'cgplace: ' message on stderr; "
            fi
            if ! cmp -s "$exp_out" "$WORK/out"; then
                msg="${msg}stdout differs"
            fi
            if [ -n "$msg" ]; then
                bad "$label: $msg"
                diff -u --label "expected/$f/$case.out" --label "actual" "$exp_out" "$WORK/out" |
                    head -60 | sed 's/^/    /'
                [ -s "$WORK/err" ] && sed 's/^/    stderr: /' "$WORK/err" | head -5
            else
                ok
            fi
        fi
        case "$case" in
        capabilities)
            [ "$rc" = 0 ] && xml_valid "$WORK/out" "$f/$case xmllint"
            ;;
        capabilities-json)
            if [ "$rc" = 0 ] && python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["xml"])' \
                "$WORK/out" >"$WORK/caps.xml" 2>"$WORK/err"; then
                xml_valid "$WORK/caps.xml" "$f/$case .xml xmllint"
            else
                bad "$f/$case: no .xml string in the JSON output"
            fi
            ;;
        esac
    done
done <"$HERE/cases"

# ---------------------------------------------------------------- 3 errors
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }
n=0
while IFS='|' read -r name root mut want_rc regex args; do
    name=$(trim "$name")
    case "$name" in ''|'#'*) continue ;; esac
    root=$(trim "$root"); mut=$(trim "$mut"); want_rc=$(trim "$want_rc")
    regex=$(trim "$regex"); args=$(trim "$args")
    n=$((n + 1))
    case "$root" in
    /*) sysroot=$root ;;
    *)
        if ! [[ " $FIXTURES " == *" $root "* ]]; then
            continue # fixture not selected (GOLDEN_ONLY)
        fi
        sysroot=$FIX/$root
        if [ "$mut" != "-" ]; then
            sysroot=$WORK/err$n
            cp -a "$FIX/$root" "$sysroot"
            rest=$mut
            while [ -n "$rest" ]; do
                one=${rest%% && *}
                [ "$one" = "$rest" ] && rest="" || rest=${rest#* && }
                rel=${one%%=*}
                printf '%b' "${one#*=}" >"$sysroot/sys/devices/system/$rel"
            done
        fi
        ;;
    esac
    # shellcheck disable=SC2086
    run "$sysroot" ${args//@HERE@/$HERE}
    msg=""
    if [ "$want_rc" = nz ]; then
        [ "$rc" != 0 ] || msg="exit status 0, expected non-zero; "
    else
        [ "$rc" = "$want_rc" ] || msg="exit status $rc, expected $want_rc; "
    fi
    [ "$rc" -lt 128 ] || msg="${msg}killed by signal $((rc - 128)); "
    [ -s "$WORK/out" ] && msg="${msg}stdout not empty; "
    grep -Eq -- "$regex" "$WORK/err" || msg="${msg}stderr does not match /$regex/"
    if [ -n "$msg" ]; then
        bad "error case $name (cgplace $args on $root${mut:+ with $mut}): $msg"
        sed 's/^/    stderr: /' "$WORK/err" | head -5
        sed 's/^/    stdout: /' "$WORK/out" | head -10
    else
        ok
    fi
done <"$HERE/errors"

# ---------------------------------------------------------------- libxml2 on demand
# libxml2 is dlopen()ed by capabilities only: the other commands must not map
# it (start-up cost, docs/DESIGN.md), and a host where it cannot be loaded gets
# a clear error from capabilities while nodeinfo still works.
f1=${FIXTURES%% *}
if LD_DEBUG=files "$BIN" --sysroot "$FIX/$f1" nodeinfo 2>&1 >/dev/null | grep -q 'file=libxml2'; then
    bad "libxml2: nodeinfo loaded libxml2"
else
    ok
fi
if LD_DEBUG=files "$BIN" --sysroot "$FIX/$f1" capabilities 2>&1 >/dev/null | grep -q 'file=libxml2'; then
    ok
else
    bad "libxml2: capabilities did not load libxml2"
fi
mkdir -p "$WORK/nolibxml"
: >"$WORK/nolibxml/libxml2.so.2" # not an ELF file: dlopen fails
LD_LIBRARY_PATH=$WORK/nolibxml "$BIN" --sysroot "$FIX/$f1" capabilities >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ "$rc" = 1 ] && [ ! -s "$WORK/out" ] && grep -q 'libxml2.*cannot be loaded' "$WORK/err"; then
    ok
else
    bad "libxml2 missing: capabilities exit $rc, stderr: $(head -c 200 "$WORK/err")"
fi
if LD_LIBRARY_PATH=$WORK/nolibxml "$BIN" --sysroot "$FIX/$f1" nodeinfo >/dev/null 2>&1; then
    ok
else
    bad "libxml2 missing: nodeinfo failed"
fi

# ---------------------------------------------------------------- 4 checker
# shellcheck disable=SC2086
python3 "$HERE/check.py" "$BIN" "$FIX" "$EXP" $FIXTURES >"$WORK/check" 2>&1
grep -v '^PASS: ' "$WORK/check" | grep -v '^check.py: '
cp=$(grep -c '^PASS: ' "$WORK/check")
cf=$(grep -c '^FAIL: ' "$WORK/check")
if ! grep -q '^check.py: ' "$WORK/check"; then
    bad "check.py did not complete"
    tail -20 "$WORK/check" | sed 's/^/    /'
fi
pass=$((pass + cp))
fail=$((fail + cf))

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
