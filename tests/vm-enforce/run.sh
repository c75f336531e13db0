#!/bin/sh
# Runs INSIDE the test VM (tests/vm/run-vm.sh): the enforcement checks with real nested QEMU.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$(dirname "$0")/enforce.py"
