#!/bin/sh
# Run Criterion test binaries and sum their "Synthesis" lines into
# BUILD/results/NAME as "PASSED FAILED SKIPPED".
#   tests/unit/run.sh BUILD NAME "EXTRA CRITERION ARGS" BIN...
# A binary that dies without printing a synthesis counts as one failure.
B=$1; name=$2; extra=$3; shift 3
mkdir -p "$B/results"
tp=0; tf=0; ts=0; rc_all=0
log=$(mktemp "${TMPDIR:-/tmp}/cgp-unit.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
for bin in "$@"; do
    echo "--- $bin"
    # shellcheck disable=SC2086
    "$bin" --ascii $extra >"$log" 2>&1
    rc=$?
    # Criterion's own IPC with its workers failed (seen once on a loaded
    # machine): not a test result; run the binary once more, and say so.
    if grep -q 'Could not spawn test instance' "$log"; then
        echo "$bin: criterion could not spawn a test instance ($(grep -m1 'Could not spawn' "$log")); running it again"
        # shellcheck disable=SC2086
        "$bin" --ascii $extra >"$log" 2>&1
        rc=$?
    fi
    # Show every failure/crash line (and the assertion messages after them).
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -v '^\[----\] Criterion v' |
        grep -E '\[(FAIL|----|ERR|WARN)\]|CRASH|Assertion|ERROR: |SUMMARY: |runtime error' || true
    syn=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep 'Synthesis:' | tail -n1)
    if [ -z "$syn" ]; then
        echo "$bin: no Criterion synthesis (exit $rc); counted as one failure"
        tail -n 40 "$log"
        tf=$((tf + 1)); rc_all=1
        continue
    fi
    echo "$syn"
    t=$(echo "$syn" | sed -n 's/.*Tested: *\([0-9]*\).*/\1/p')
    p=$(echo "$syn" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
    f=$(echo "$syn" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
    c=$(echo "$syn" | sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p')
    s=$(echo "$syn" | sed -n 's/.*Skipped: *\([0-9]*\).*/\1/p')
    # Criterion counts a crashed test in Failing as well as in Crashing.
    : "${t:=0}" "${p:=0}" "${f:=0}" "${c:=0}" "${s:=0}"
    # A test that passed but then died (e.g. LeakSanitizer at exit) is only a
    # warning to Criterion; it is a failure here.
    late=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -c 'crashed during its setup or teardown')
    if [ "$late" -gt 0 ]; then
        echo "$bin: $late test(s) crashed after passing (sanitizer report at exit?); counted as failures"
        [ "$p" -ge "$late" ] && p=$((p - late))
        f=$((f + late))
    fi
    tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + s))
    if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then
        echo "$bin: exit status $rc with no failing test; counted as one failure"
        tail -n 40 "$log"
        tf=$((tf + 1))
    fi
    [ "$f" -ne 0 ] || [ "$rc" -ne 0 ] && rc_all=1
done
echo "$tp $tf $ts" > "$B/results/$name"
echo "$name: $tp passed, $tf failed, $ts skipped"
exit $rc_all
