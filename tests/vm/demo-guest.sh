#!/bin/sh
# Runs INSIDE the asym VM for tests/vm/demo.sh: what cgplace sees on a real kernel.
rc=0
section() { printf '\n==== %s\n' "$*"; }
run() { section "\$ cgplace $*"; "$CGPLACE" "$@" || { echo "!!! cgplace $* failed (exit $?)"; rc=1; }; }
section "guest kernel: $(uname -r), $(nproc) CPUs, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
section "\$ numactl --hardware   (the kernel's own view, for comparison)"
numactl --hardware || rc=1
run nodeinfo
run topology
run freecell --all
exit $rc
