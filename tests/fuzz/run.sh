#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS MAKE TARGET...
# Builds each target (skipped when clang cannot build libFuzzer binaries), runs
# it over its seed corpus tests/fuzz/corpus/<name>/ (name = target minus
# "fuzz_"), then fuzzes it for SECONDS into BUILD/fuzz/corpus-<name>/.
# One pass per target that finds nothing; writes BUILD/results/fuzz.
B=$1; secs=$2; make_cmd=$3; shift 3
mkdir -p "$B/results" "$B/fuzz"
pass=0; fail=0; skip=0
for bin in "$@"; do
    t=$(basename "$bin"); name=${t#fuzz_}
    seeds=tests/fuzz/corpus/$name
    echo "--- $t"
    if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
        echo "$t: SKIPPED: clang not installed (apt-get install clang)"
        skip=$((skip + 1)); continue
    fi
    if ! $make_cmd "$bin"; then
        echo "$t: FAILED to build"
        fail=$((fail + 1)); continue
    fi
    log=$B/fuzz/$t.log
    # 1. every seed once
    if ! "$bin" -runs=1 "$seeds"/* >"$log" 2>&1; then
        echo "$t: FAILED on the seed corpus ($seeds); log: $log"
        grep -E 'ERROR|invariant|runtime error|Running:|SUMMARY' "$log" | head -n 20
        fail=$((fail + 1)); continue
    fi
    # 2. fuzz
    work=$B/fuzz/corpus-$name
    mkdir -p "$work"
    if "$bin" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -max_len=4096 -timeout=30 -print_final_stats=1 \
            -artifact_prefix="$B/fuzz/$t-" "$work" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "$t: ok, ${runs:-?} executions in ${secs}s, corpus $(ls "$work" | wc -l) files"
        pass=$((pass + 1))
    else
        echo "$t: FAILED while fuzzing; log: $log"
        grep -E 'ERROR|invariant|runtime error|SUMMARY|artifact_prefix|Test unit written' "$log" | head -n 20
        for a in "$B/fuzz/$t-"crash-* "$B/fuzz/$t-"leak-* "$B/fuzz/$t-"timeout-* "$B/fuzz/$t-"oom-*; do
            [ -e "$a" ] && echo "  reproduce: $bin $a"
        done
        fail=$((fail + 1))
    fi
done
echo "$pass $fail $skip" > "$B/results/fuzz"
echo "fuzz: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
