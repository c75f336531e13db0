#!/bin/sh
# tests/vm/demo-systemd.sh - `make demo-systemd`: boot the asymmetric NUMA VM with systemd as
# PID 1 and libvirtd (topos/asym-systemd.topo) and show one `cgplace apply` placing a libvirt
# guest through libvirt's API next to a plain QEMU guest in its own delegated systemd scope.
# Exits non-zero if the VM or any command fails.  Needs build/cgplace (make all).
set -u
VMDIR=$(cd "$(dirname "$0")" && pwd -P)
B=${B:-build}
case $B in /*) ;; *) B=$VMDIR/../../$B ;; esac
if [ ! -x "$B/cgplace" ]; then
    echo "demo-systemd: $B/cgplace does not exist; run 'make all' first" >&2
    exit 1
fi
echo "==== booting the asymmetric NUMA VM with systemd as PID 1 and libvirtd (QEMU/TCG, Linux 6.1) ..."
B=$B exec "$VMDIR/run-vm.sh" "$VMDIR/topos/asym-systemd.topo" "$VMDIR/demo-systemd-guest.py"
