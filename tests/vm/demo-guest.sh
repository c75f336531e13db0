#!/bin/sh
# Runs INSIDE the asym VM for tests/vm/demo.sh (make demo): what cgplace sees on a
# real kernel, then the whole enforcement story with real nested QEMU guests.
rc=0
section() { printf '\n==== %s\n' "$*"; }
run() { section "\$ cgplace $*"; "$CGPLACE" "$@" || { echo "!!! cgplace $* exited $?"; rc=1; }; }
section "guest kernel: $(uname -r), $(nproc) CPUs, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
section "\$ numactl --hardware   (the kernel's own view, for comparison)"
numactl --hardware || rc=1
run nodeinfo
run topology
run freecell --all
python3 "$(dirname "$0")/demo-enforce.py" || rc=1
exit $rc
