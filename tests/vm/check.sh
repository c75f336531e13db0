#!/bin/bash
# check.sh BUILD_DIR [TOPO...] - host side of `make check-vm`.
# Boots one VM per topology (tests/vm/topos/*.topo, or the named ones), runs every test of
# that topology in it (suite.sh), prints PASS/FAIL per test and writes BUILD_DIR/results/vm
# as "PASSED FAILED SKIPPED".  A VM that does not boot, or dies, fails all its tests.
# CGPLACE_SKIP_VM=1 skips everything, loudly (written as skipped, never as passed).
set -u
VMDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=$(cd "$VMDIR/../.." && pwd -P)
B=${1:-build}; shift || true
case $B in /*) ;; *) B=$PROJECT/$B ;; esac
export B
RESULT=$B/results/vm
LOGS=$B/vm/logs
mkdir -p "$B/results" "$LOGS"
rm -f "$RESULT"

if [ $# -gt 0 ]; then
    topos=(); for t in "$@"; do topos+=("$VMDIR/topos/${t%.topo}.topo"); done
else
    topos=("$VMDIR"/topos/*.topo)
fi

# the tests each topology runs (same rule as suite.sh)
tests_for() {
    local name=$1 f t
    for f in "$VMDIR"/t/*.sh "$VMDIR"/t/*.py; do
        [ -e "$f" ] || continue
        for t in $(sed -n 's/^# vm-topos:[[:space:]]*//p' "$f" | head -n1); do
            if [ "$t" = all ] || [ "$t" = "$name" ]; then b=${f##*/}; echo "${b%.*}"; break; fi
        done
    done | sort
}

total=0
for topo in "${topos[@]}"; do total=$((total + $(tests_for "$(basename "$topo" .topo)" | wc -l))); done

if [ "${CGPLACE_SKIP_VM:-0}" = 1 ]; then
    echo "############################################################################"
    echo "###  check-vm: SKIPPED ($total VM tests) because CGPLACE_SKIP_VM=1."
    echo "###  Nothing about cgroup v2 or NUMA placement was tested on a real kernel."
    echo "############################################################################"
    echo "0 0 $total" > "$RESULT"
    exit 0
fi

QEMU=${QEMU:-qemu-system-x86_64}
# one boot takes 30-180 s on a 2-core machine (asym-services, the longest, 174 s
# at load 2); TCG is CPU-bound, so leave room for a busy host
export CGPLACE_VM_TIMEOUT=${CGPLACE_VM_TIMEOUT:-450}
if ! "$QEMU" --version >/dev/null 2>&1; then
    echo "check-vm: FAILED: cannot run $QEMU (install qemu-system-x86: scripts/deps.sh vm)." >&2
    echo "check-vm: set CGPLACE_SKIP_VM=1 to skip the VM tests explicitly." >&2
    echo "0 $total 0" > "$RESULT"
    exit 1
fi

pass=0; fail=0; skip=0; probes=0
t_all=$(date +%s)
for topo in "${topos[@]}"; do
    name=$(basename "$topo" .topo)
    want=$(tests_for "$name")
    [ -n "$want" ] || continue
    echo "--- vm/$name: booting ($(echo "$want" | wc -l) tests)"
    log=$LOGS/$name.log
    t0=$(date +%s)
    "$VMDIR/run-vm.sh" "$topo" "$VMDIR/suite.sh" > "$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    for t in $want; do
        line=$(grep -E "^(PASS|FAIL|SKIP) vm/$name/$t( |\$)" "$log" | head -n1)
        case $line in
            # kernel probes (t/2x-probe-*) never run cgplace: they check what the
            # engine assumes of the kernel, so they are listed apart and not
            # counted as cgplace tests; a probe that fails still fails the layer
            PASS*) case $t in [0-9][0-9]-probe-*) probes=$((probes + 1)); echo "KERNEL-PROBE-HOLDS ${line#PASS }" ;;
                   *) pass=$((pass + 1)); echo "$line" ;; esac ;;
            SKIP*) skip=$((skip + 1)); echo "$line" ;;
            FAIL*) fail=$((fail + 1))
                   # show the test's own output (indented lines just above its verdict)
                   awk -v v="$line" '/^    /{buf=buf $0 "\n"; next} $0==v{printf "%s", buf; exit} {buf=""}' "$log"
                   echo "$line" ;;
            *) fail=$((fail + 1)); echo "FAIL vm/$name/$t (no result: VM exit $rc)" ;;
        esac
    done
    if [ "$rc" -ge 124 ]; then
        echo "--- vm/$name: VM FAILED (exit $rc):"; grep -E '^run-vm: |^  \| ' "$log" | tail -n 40
    fi
    echo "--- vm/$name: ${secs}s, log $log"
done
echo "--- vm: $probes kernel probes held (not counted below)"
echo "--- vm: $pass passed, $fail failed, $skip skipped in $(( $(date +%s) - t_all ))s"
echo "$pass $fail $skip" > "$RESULT"
[ "$fail" -eq 0 ]
