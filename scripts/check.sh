#!/bin/sh
# Run every test layer (make check-LAYER), then print one line "N passed, N failed"
# summing them.  Each layer writes BUILD/results/LAYER as "PASSED FAILED [SKIPPED]".
# A layer that dies without writing its result counts as one failure.
B=$1; shift
mkdir -p "$B/results"
tp=0; tf=0; ts=0
for layer in "$@"; do
    rm -f "$B/results/$layer"
    echo "=== check-$layer"
    t0=$(date +%s)
    make --no-print-directory "check-$layer"
    rc=$?
    if [ -s "$B/results/$layer" ]; then
        read -r p f s < "$B/results/$layer"
    else
        p=0; f=1; s=0
        echo "check-$layer: no result written (exit $rc), counted as a failure"
    fi
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then f=1; echo "check-$layer: exit $rc with no failed test, counted as a failure"; fi
    echo "--- check-$layer: ${p} passed, ${f} failed, ${s:-0} skipped ($(( $(date +%s) - t0 ))s)"
    tp=$((tp + p)); tf=$((tf + f)); ts=$((ts + ${s:-0}))
done
echo
echo "$tp passed, $tf failed, $ts skipped"
[ "$tf" -eq 0 ]
