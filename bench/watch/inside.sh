#!/bin/sh
# Runs INSIDE the test VM (tests/vm/run-vm.sh tests/vm/topos/asym.topo): the watch benchmark.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$(dirname "$0")/inside.py" "$@"
