#!/bin/bash
# complete.bash SCRIPT WORD... -- what bash completes for the command line
# WORD... (the last word is the one being completed, "" for a new one): sources
# the completion SCRIPT, sets COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT as
# bash does, calls the function `complete -p` names for WORD 1, and prints
# COMPREPLY one entry a line.  Used by tests/install/completion.sh.
script=$1; shift
# shellcheck source=/dev/null
. "$script" || exit 1
fn=$(complete -p cgplace 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || { echo "complete.bash: $script registers no -F function for cgplace" >&2; exit 1; }
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" cgplace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
if ((${#COMPREPLY[@]})); then printf '%s\n' "${COMPREPLY[@]}"; fi
