#!/bin/sh
# tests/asan/run.sh BUILD ASAN_BUILD [ORACLES_DIR]
# Runs, with ASan+UBSan binaries from ASAN_BUILD (make B=ASAN_BUILD SAN=1):
#   1. the Criterion unit tests of lib, topology, parsers and cli
#      (make check-unit: ASAN_BUILD/PART/test_*);
#   2. tests/golden/run.py, tests/runtime/run.py and tests/emit/run.py with
#      the sanitized cgplace;
#   3. a smoke run of every read-only command of the sanitized cgplace over
#      each oracle dump (hwloc/util-linux tarballs), if ORACLES_DIR is given:
#      one test per tree, failing on any sanitizer report or a signal.
# For 2 and 3 sanitizer reports go to log files (log_path), and every report
# counts as a failure even when the golden comparison passed.
# Writes BUILD/results/asan ("PASSED FAILED SKIPPED").
B=$1; AB=$2; ORACLES=${3:-}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p "$B/results"
tp=0; tf=0; ts=0; rc_all=0

# ---------------------------------------------------------------- 1 unit
echo "--- asan: unit tests"
rm -f "$AB/results/unit"
make --no-print-directory B="$AB" SAN=1 UNIT_ARGS= check-unit || rc_all=1
if read -r p f s < "$AB/results/unit"; then
    tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + s))
else
    tf=$((tf + 1))
fi

# Sanitized cgplace wrapper (no seccomp sandbox under the sanitizers, spec §2).
SAN_LOGS=$AB/sanlogs
rm -rf "$SAN_LOGS"; mkdir -p "$SAN_LOGS" "$AB/wrap"
ABS_BIN=$(cd "$AB" && pwd)/cgplace
cat > "$AB/wrap/cgplace" <<EOW
#!/bin/sh
exec "$ABS_BIN" --no-sandbox "\$@"
EOW
chmod +x "$AB/wrap/cgplace"
ABS_LOGS=$(cd "$SAN_LOGS" && pwd)
san_env() {
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$ABS_LOGS/$1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$ABS_LOGS/$1"
    export ASAN_OPTIONS UBSAN_OPTIONS
}
# Count and show the sanitizer reports whose name starts with $1.
san_reports() {
    n=0
    for f in "$SAN_LOGS/$1".*; do
        [ -s "$f" ] || continue
        n=$((n + 1))
        echo "sanitizer report $f:"
        grep -E 'ERROR|runtime error|SUMMARY|^    #[0-9] ' "$f" | head -n 12 | sed 's/^/    /'
    done
    return $n
}

# ---------------------------------------------------------------- 2 golden
echo "--- asan: tests/golden/run.py with $AB/cgplace"
rm -f "$AB/results/asan-golden"
( san_env golden; python3 tests/golden/run.py --results "$AB/results/asan-golden" "$AB/wrap/cgplace" ) \
    > "$AB/golden.log" 2>&1
grc=$?
grep -E '^FAIL|^golden: ' "$AB/golden.log"
if read -r gp gf gs < "$AB/results/asan-golden"; then
    tp=$((tp + gp)); tf=$((tf + gf)); ts=$((ts + gs))
    [ "$grc" -eq 0 ] || [ "$gf" -gt 0 ] || { echo "golden: exit $grc with no failure; counted as one"; tf=$((tf + 1)); }
else
    echo "golden: no result written (exit $grc); counted as one failure; log $AB/golden.log"
    tail -n 20 "$AB/golden.log"
    tf=$((tf + 1))
fi
san_reports golden; n=$?
[ "$n" -gt 0 ] && { echo "golden: $n sanitizer report(s), each counted as a failure"; tf=$((tf + n)); }

# ---------------------------------------------------------------- 2b runtime verbs
# tests/runtime/run.py (fake /proc and cgroup tree, the fake libvirt of tests/cgctl)
echo "--- asan: tests/runtime/run.py with $AB/cgplace"
rm -f "$AB/results/asan-runtime"
make --no-print-directory B="$B" "$B/cgctl/fakevirt/libvirt.so.0" > /dev/null
( san_env runtime; python3 tests/runtime/run.py "$AB/wrap/cgplace" "$(cd "$B" && pwd)/cgctl/fakevirt" "$AB/runtime" \
      "$AB/results/asan-runtime" ) > "$AB/runtime.log" 2>&1
# Add layer $1's counts (results asan-$1, log $1.log) and its sanitizer reports.
add_layer() {
    grep -E "^FAIL|^$1: " "$AB/$1.log"
    if read -r lp lf ls < "$AB/results/asan-$1"; then
        tp=$((tp + lp)); tf=$((tf + lf)); ts=$((ts + ls))
    else
        echo "$1: no result written; counted as one failure; log $AB/$1.log"
        tf=$((tf + 1))
    fi
    san_reports "$1"; n=$?
    [ "$n" -gt 0 ] && { echo "$1: $n sanitizer report(s), each counted as a failure"; tf=$((tf + n)); }
}
add_layer runtime

# ---------------------------------------------------------------- 2c emit, import-libvirt
# tests/emit/run.py: the libvirt XML reader on hostile documents, emit per format
echo "--- asan: tests/emit/run.py with $AB/cgplace"
rm -f "$AB/results/asan-emit"
( san_env emit; python3 tests/emit/run.py --results "$AB/results/asan-emit" "$AB/wrap/cgplace" ) > "$AB/emit.log" 2>&1
add_layer emit

# ---------------------------------------------------------------- 2c hostile inputs
# tests/hostile/hostile.py: issue 10's names, includes, sizes near 2^64 (UBSan)
echo "--- asan: tests/hostile/hostile.py with $AB/cgplace"
( san_env hostile; python3 tests/hostile/hostile.py "$AB/wrap/cgplace" "$AB/hostile" "$AB/results/asan-hostile" ) \
    > "$AB/hostile.log" 2>&1
grep -E '^FAIL|^hostile: ' "$AB/hostile.log"
if read -r hp hf hs < "$AB/results/asan-hostile"; then
    tp=$((tp + hp)); tf=$((tf + hf)); ts=$((ts + hs))
else
    echo "hostile: no result written; counted as one failure; log $AB/hostile.log"
    tf=$((tf + 1))
fi
san_reports hostile; n=$?
[ "$n" -gt 0 ] && { echo "hostile: $n sanitizer report(s), each counted as a failure"; tf=$((tf + n)); }

# ---------------------------------------------------------------- 3 oracle smoke
if [ "${ASAN_SMOKE:-1}" = 0 ]; then
    echo "--- asan: oracle smoke run disabled (ASAN_SMOKE=0)"
elif [ -z "$ORACLES" ] || [ ! -d "$ORACLES" ]; then
    echo "--- asan: no oracle dumps (ASAN_ORACLES): smoke run skipped"
    ts=$((ts + 1))
else
    echo "--- asan: smoke run over the oracle dumps in $ORACLES"
    # Unpacked once into a cache (ASAN_BUILD/trees), like the oracle layer does.
    cache=$AB/trees; mkdir -p "$cache"
    work=$(mktemp -d "${TMPDIR:-/tmp}/cgp-asan.XXXXXX")
    sp=0; sf=0
    for tb in "$ORACLES"/hwloc/tests/hwloc/linux/*.tar.bz2 "$ORACLES"/util-linux/tests/ts/lscpu/dumps/*.tar.gz; do
        [ -f "$tb" ] || continue
        name=$(basename "$tb"); name=${name%.tar.*}
        d=$cache/$name
        if [ ! -e "$d/.unpacked" ]; then
            rm -rf "$d"; mkdir -p "$d"
            if ! tar -xf "$tb" -C "$d" 2>/dev/null; then
                echo "SKIP $name: cannot unpack"; ts=$((ts + 1)); continue
            fi
            touch "$d/.unpacked"
        fi
        root=$(find "$d" -maxdepth 4 -path '*/sys/devices/system' -type d | head -n1)
        root=${root%/sys/devices/system}
        if [ -z "$root" ] || [ ! -d "$root/sys" ]; then
            echo "SKIP $name: no sys/devices/system"; ts=$((ts + 1)); continue
        fi
        bad=""
        for cmd in nodeinfo capabilities "freecell --all" "freecell 0" topology \
                   "topology --json"; do
            ( san_env "smoke-$name"
              # shellcheck disable=SC2086
              "$AB/wrap/cgplace" --sysroot "$root" $cmd ) >/dev/null 2>"$work/err"
            rc=$?
            if [ "$rc" -ge 128 ] || [ "$rc" -gt 3 ]; then
                bad="$bad [$cmd: exit $rc: $(head -c 200 "$work/err")]"
            fi
        done
        san_reports "smoke-$name"; n=$?
        [ "$n" -gt 0 ] && bad="$bad [$n sanitizer report(s)]"
        if [ -n "$bad" ]; then
            echo "FAIL smoke $name:$bad"; sf=$((sf + 1))
        else
            sp=$((sp + 1))
        fi
    done
    rm -rf "$work"
    echo "smoke: $sp passed, $sf failed"
    tp=$((tp + sp)); tf=$((tf + sf))
fi

# The other Criterion+golden layers (engine, discovery, policy) against the
# sanitized library and CLI too.
if [ "${ASAN_LAYERS:-1}" != 0 ]; then
    for layer in cgctl guests policy; do
        rm -f "$AB/results/$layer"
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
            make --no-print-directory B="$AB" SAN=1 "check-$layer" || rc_all=1
        if read -r p f s < "$AB/results/$layer" 2>/dev/null; then
            echo "asan $layer: $p passed, $f failed"
            tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + ${s:-0}))
        else
            echo "FAIL asan $layer: no result"; tf=$((tf + 1))
        fi
    done
fi

echo "$tp $tf $ts" > "$B/results/asan"
echo "asan: $tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ] && [ "$rc_all" -eq 0 ] || exit 1
