#!/bin/sh
# Runs INSIDE the systemd-booted test VM (tests/vm/run-vm.sh --systemd): the backends benchmark.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$(dirname "$0")/inside.py" "$@"
