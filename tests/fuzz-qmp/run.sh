#!/bin/sh
# tests/fuzz-qmp/run.sh BUILD SECONDS BIN... — for each libFuzzer binary:
# its seed corpus (tests/fuzz-qmp/corpus-NAME) once, then SECONDS of fuzzing.
# Writes BUILD/results/fuzzqmp ("PASSED FAILED SKIPPED", one test per binary).
B=$1; secs=$2; shift 2
mkdir -p "$B/results"
p=0; f=0; s=0
for bin in "$@"; do
    name=$(basename "$bin")          # fuzz_qmp, fuzz_cmdline
    seeds=tests/fuzz-qmp/corpus-${name#fuzz_}
    work=$B/fuzz-qmp/corpus-${name#fuzz_}
    log=$B/fuzz-qmp/$name.log
    mkdir -p "$work"
    if [ ! -x "$bin" ]; then
        echo "$name: SKIPPED: $bin not built (clang with libFuzzer needed)"
        s=$((s + 1)); continue
    fi
    if ! "$bin" -runs=1 "$seeds"/* >"$log" 2>&1; then
        echo "$name: FAILED on the seed corpus; log: $log"
        grep -E 'ERROR|runtime error|Running:|SUMMARY|whole:' "$log" | head -n 20
        f=$((f + 1)); continue
    fi
    if "$bin" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -max_len=8192 -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$B/fuzz-qmp/$name-" "$work" "$seeds" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "$name: ok, ${runs:-?} executions in ${secs}s"
        p=$((p + 1))
    else
        echo "$name: FAILED while fuzzing; log: $log"
        grep -E 'ERROR|runtime error|SUMMARY|Test unit written|whole:' "$log" | head -n 20
        for a in "$B/fuzz-qmp/$name-"*; do [ -e "$a" ] && echo "  reproduce: $bin $a"; done
        f=$((f + 1))
    fi
done
echo "$p $f $s" > "$B/results/fuzzqmp"
echo "fuzzqmp: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
