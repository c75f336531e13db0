#!/bin/sh
# Run Criterion test binaries and count their tests through --tap (the one
# harness, tests/golden/harness.py) into BUILD/results/NAME as
# "PASSED FAILED SKIPPED".
#   tests/common/criterion.sh BUILD NAME "EXTRA CRITERION ARGS" BIN...
# A binary that dies before reporting all of its TAP plan counts the missing
# tests (at least one) as failures; a test that passes and then crashes in its
# teardown (a sanitizer report at exit) is a failure.
exec python3 "$(dirname "$0")/../golden/harness.py" criterion "$@"
