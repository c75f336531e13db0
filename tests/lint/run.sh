#!/bin/bash
# tests/lint/run.sh BUILD_DIR SOURCES... - see lint.mk
set -u
B=$1; shift
mkdir -p "$B/results"
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null; then
    echo "check-lint: $CLANG not found (scripts/deps.sh check installs it)"; echo "0 1 0" > "$B/results/lint"; exit 1
fi
# shellcheck disable=SC2046
FLAGS=(-fsyntax-only -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -D_GNU_SOURCE
       -DCGP_VERSION=\"lint\" -Iinclude -Ilib $(pkg-config --cflags libxml-2.0 json-c libseccomp))
pass=0 fail=0
for f in "$@"; do
    extra=()
    case $f in cli/*) ;; *) extra=(-fvisibility=hidden -DCGP_BUILDING_LIB) ;; esac
    if out=$("$CLANG" "${FLAGS[@]}" "${extra[@]}" "$f" 2>&1); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); echo "FAIL: lint $f"; echo "$out" | head -20
    fi
done
# the check must be able to fail: a jump past a cleanup variable
bad=$(mktemp --suffix=.c); trap 'rm -f "$bad"' EXIT
cat > "$bad" <<'C'
#include <stdlib.h>
static void drop(char **p) { free(*p); }
int f(int x) { if (x) goto out; char *s __attribute__((cleanup(drop))) = NULL; (void)s; out: return 0; }
C
if "$CLANG" "${FLAGS[@]}" "$bad" >/dev/null 2>&1; then
    fail=$((fail + 1)); echo "FAIL: lint: clang accepted a goto past a cleanup variable"
else
    pass=$((pass + 1))
fi
echo "lint: $pass passed, $fail failed, 0 skipped"
echo "$pass $fail 0" > "$B/results/lint"
[ "$fail" -eq 0 ]
