#!/bin/sh
# tests/fuzz/run.sh MODE LAYER BUILD MAKE SPEC... - the one libFuzzer harness.
#   SPEC = BIN:SEEDS:MAX_LEN:RUNS  (BIN is BUILD/fuzz/fuzz_NAME; SEEDS the committed corpus)
# MODE check: the gate of `make check`, the same on every machine: build,
#   replay every seed, then exactly RUNS inputs from -seed=1 starting from a
#   fresh empty work corpus BUILD/fuzz/check-NAME (listed first, so new units
#   never land in SEEDS). Writes BUILD/results/LAYER ("PASSED FAILED SKIPPED").
# MODE explore (`make fuzz`): FUZZ_SECONDS (default 600) per target, seed
#   FUZZ_SEED (default 0 = random), persistent corpus BUILD/fuzz/corpus-NAME.
# Crashes are written as BUILD/fuzz/[check-]fuzz_NAME-crash-* with a
# "reproduce:" line. FUZZ_ENV (VAR=value ...) is set for every target.
# No clang at all: every target is skipped loudly; a failed build fails.
mode=$1; layer=$2; B=$3; make_cmd=$4; shift 4
mkdir -p "$B/results" "$B/fuzz"
p=0; f=0; s=0
for spec in "$@"; do
    IFS=: read -r bin seeds maxlen runs <<EOF
$spec
EOF
    t=$(basename "$bin"); name=${t#fuzz_}
    log=$B/fuzz/$t.$mode.log
    if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
        echo "$t: SKIPPED: ${FUZZ_CC:-clang} not installed (apt-get install clang)"
        s=$((s + 1)); continue
    fi
    if ! $make_cmd "$bin"; then
        echo "$t: FAILED to build"
        f=$((f + 1)); continue
    fi
    if [ "$mode" = check ]; then
        work=$B/fuzz/check-$name; prefix=$B/fuzz/check-$t-
        rm -rf "$work" "$prefix"*; mkdir -p "$work"
        # -use_cmp=0: compared values include addresses (UBSan's pointer
        # checks), which ASLR changes, so CMP-guided mutations differ per run
        opts="-runs=$runs -seed=1 -reload=0 -use_cmp=0"
    else
        work=$B/fuzz/corpus-$name; prefix=$B/fuzz/$t-
        mkdir -p "$work"
        opts="-max_total_time=${FUZZ_SECONDS:-600} -seed=${FUZZ_SEED:-0}"
    fi
    # every seed once, so a seed that fails is named on its own
    if ! env $FUZZ_ENV "$bin" "$seeds"/* >"$log" 2>&1; then
        echo "$t: FAILED on the seed corpus ($seeds); log: $log"
        grep -E 'ERROR|invariant|runtime error|Running:|SUMMARY|whole:' "$log" | head -n 20
        f=$((f + 1)); continue
    fi
    start=$(date +%s)
    env $FUZZ_ENV "$bin" $opts -max_len="$maxlen" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$prefix" "$work" "$seeds" >"$log" 2>&1
    rc=$?
    seed=$(sed -n 's/^INFO: Seed: //p' "$log")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ "$rc" -eq 0 ]; then
        cov=$(grep -E '^#[0-9]+.*(DONE|INITED)' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
        echo "$t: ok, seed $seed, ${execs:-?} executions, ${cov:-cov ?}," \
             "$(ls "$work" | wc -l) units in $work ($(($(date +%s) - start)) s)"
        p=$((p + 1))
    else
        echo "$t: FAILED while fuzzing (seed $seed, ${execs:-?} executions); log: $log"
        grep -E 'ERROR|invariant|runtime error|SUMMARY|Test unit written|whole:' "$log" | head -n 20
        for a in "$prefix"crash-* "$prefix"leak-* "$prefix"timeout-* "$prefix"oom-*; do
            [ -e "$a" ] && echo "  reproduce: ${FUZZ_ENV:+$FUZZ_ENV }$bin $a"
        done
        f=$((f + 1))
    fi
done
[ "$mode" = check ] && echo "$p $f $s" > "$B/results/$layer"
echo "$layer: $p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
