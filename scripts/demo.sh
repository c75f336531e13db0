#!/bin/sh
# make demo: show what cgplace sees on a real kernel with an asymmetric NUMA
# host (a throwaway QEMU VM: two CPU+memory nodes of different sizes, a
# CPU-only node and a memory-only node). CGPLACE_DEMO=fixture shows the same
# commands on the bundled asymmetric fixture tree instead (no VM).
set -eu
B=${1:-build}
cd "$(dirname "$0")/.."
if [ "${CGPLACE_DEMO:-vm}" = vm ] && [ -x tests/vm/demo.sh ]; then
    exec tests/vm/demo.sh "$B"
fi
echo "cgplace demo on the bundled asymmetric fixture tree (no VM)"
root="$B/demo-fixture"
rm -rf "$root"
python3 tests/fixtures/mkfixtures.py "$root" asym
for cmd in nodeinfo topology "freecell --all"; do
    echo
    echo "\$ cgplace --sysroot $root/asym $cmd"
    # shellcheck disable=SC2086
    "$B/cgplace" --sysroot "$root/asym" $cmd
done
