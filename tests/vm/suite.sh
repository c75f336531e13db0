#!/bin/sh
# suite.sh [TEST...] - runs INSIDE the VM (via run-vm.sh).  Runs every test in tests/vm/t/
# whose "# vm-topos:" header names $VM_TOPO (or "all"), or just the named tests.
# Prints one line per test:  "PASS vm/TOPO/NAME", "FAIL vm/TOPO/NAME", "SKIP vm/TOPO/NAME"
# (a test exiting 77 is skipped), with the test's own output indented above it.
# Exit status: 1 if any test failed.
T=$(dirname "$0")/t
VMDIR=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH="$VMDIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
PER_TEST_TIMEOUT=${CGPLACE_TEST_TIMEOUT:-120}
fails=0

wants() {   # wants FILE -> does this test run on $VM_TOPO?
    topos=$(sed -n 's/^# vm-topos:[[:space:]]*//p' "$1" | head -n1)
    for t in ${topos:-all}; do
        [ "$t" = all ] || [ "$t" = "$VM_TOPO" ] && return 0
    done
    return 1
}

if [ $# -gt 0 ]; then
    list=""
    for n in "$@"; do
        f=$(ls "$T/$n" "$T/$n".* 2>/dev/null | head -n1)
        [ -n "$f" ] || { echo "suite: no test $n" >&2; exit 2; }
        list="$list $f"
    done
else
    list=$(ls "$T"/*.sh "$T"/*.py 2>/dev/null | sort)
fi

for f in $list; do
    [ $# -gt 0 ] || wants "$f" || continue
    name=$(basename "$f"); name=${name%.*}
    start=$(date +%s)
    case $f in
        *.py) timeout "$PER_TEST_TIMEOUT" python3 "$f" > /tmp/test.out 2>&1 ;;
        *) timeout "$PER_TEST_TIMEOUT" sh "$f" > /tmp/test.out 2>&1 ;;
    esac
    rc=$?
    secs=$(( $(date +%s) - start ))
    sed 's/^/    /' /tmp/test.out
    cp /tmp/test.out "$RESULTS/$name.log" 2>/dev/null
    case $rc in
        0) echo "PASS vm/$VM_TOPO/$name (${secs}s)" ;;
        77) echo "SKIP vm/$VM_TOPO/$name (${secs}s)" ;;
        124) echo "    (timed out after ${PER_TEST_TIMEOUT}s; kernel log tail:)"; dmesg | tail -n 15 | sed 's/^/    /'; echo "FAIL vm/$VM_TOPO/$name (${secs}s)"; fails=$((fails + 1)) ;;
        *) echo "FAIL vm/$VM_TOPO/$name (${secs}s, exit $rc)"; fails=$((fails + 1)) ;;
    esac
done
[ "$fails" -eq 0 ]
