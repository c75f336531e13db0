#!/bin/sh
# tests/vm/demo.sh - boot the asymmetric NUMA VM (topos/asym.topo: two CPU+memory nodes of
# different sizes, a CPU-only node, a memory-only node, SLIT distances) and show what
# cgplace sees on that real kernel.  Exits non-zero if the VM or any command fails.
# Called by `make demo`; needs build/cgplace (make all).
set -u
VMDIR=$(cd "$(dirname "$0")" && pwd -P)
B=${B:-build}
case $B in /*) ;; *) B=$VMDIR/../../$B ;; esac
if [ ! -x "$B/cgplace" ]; then
    echo "demo: $B/cgplace does not exist; run 'make all' first" >&2
    exit 1
fi
echo "==== booting the asymmetric NUMA VM (QEMU/TCG, Linux 6.1, cgroup v2) ..."
sed -n 's/^# /   /p' "$VMDIR/topos/asym.topo" | head -n 6
B=$B exec "$VMDIR/run-vm.sh" "$VMDIR/topos/asym.topo" "$VMDIR/demo-guest.sh"
