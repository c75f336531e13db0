#!/bin/sh
# Runs INSIDE the asym test VM (tests/vm/run-vm.sh): the apply benchmark.
export PYTHONDONTWRITEBYTECODE=1
exec python3 "$(dirname "$0")/inside.py" "$@"
