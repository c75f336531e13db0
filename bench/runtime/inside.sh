#!/bin/sh
# Runs INSIDE the test VM (tests/vm/run-vm.sh bench/runtime/bench.topo): the runtime benchmark.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$(dirname "$0")/inside.py" "$@"
