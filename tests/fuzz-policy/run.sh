#!/bin/sh
# tests/fuzz-policy/run.sh BUILD SECONDS BIN SYSROOT — seeds once, then fuzz
# for SECONDS; writes BUILD/results/fuzzpolicy. Skips when clang is missing.
B=$1; secs=$2; bin=$3; root=$4
mkdir -p "$B/results" "$B/fuzz-policy/corpus"
seeds=tests/fuzz-policy/corpus
log=$B/fuzz-policy/fuzz_policy.log
if [ ! -x "$bin" ]; then
    echo "fuzzpolicy: SKIPPED: $bin not built (clang with libFuzzer needed)"
    echo "0 0 1" > "$B/results/fuzzpolicy"; exit 0
fi
export FUZZ_POLICY_SYSROOT="$root"
if ! "$bin" -runs=1 "$seeds"/* >"$log" 2>&1; then
    echo "fuzz_policy: FAILED on the seed corpus; log: $log"
    grep -E 'ERROR|runtime error|Running:|SUMMARY' "$log" | head -n 20
    echo "0 1 0" > "$B/results/fuzzpolicy"; exit 1
fi
if "$bin" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -max_len=8192 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$B/fuzz-policy/fuzz_policy-" "$B/fuzz-policy/corpus" "$seeds" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_policy: ok, ${runs:-?} executions in ${secs}s"
    echo "1 0 0" > "$B/results/fuzzpolicy"
else
    echo "fuzz_policy: FAILED while fuzzing; log: $log"
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -n 20
    for a in "$B/fuzz-policy/fuzz_policy-"*; do [ -e "$a" ] && echo "  reproduce: FUZZ_POLICY_SYSROOT=$root $bin $a"; done
    echo "0 1 0" > "$B/results/fuzzpolicy"; exit 1
fi
