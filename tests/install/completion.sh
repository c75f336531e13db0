# Sourced by tests/install/run.sh after `make install DESTDIR=$d PREFIX=/usr`:
# the installed bash completion, run by bash itself (tests/install/complete.bash)
# with the build's cgplace as the command on the line.  Uses $d, $B, ok, ko.
# Which options and commands it offers against every --help: tests/install/docs.sh.
comp_file="$d/usr/share/bash-completion/completions/cgplace"
cgp_bin="$PWD/$B/cgplace"
comp() { bash tests/install/complete.bash "$comp_file" "$@" 2>&1 | sort | tr '\n' ' '; }
want() { # NAME EXPECTED WORD...: the completions, sorted, space-separated
    name=$1 exp=$2; shift 2
    got=$(comp "$@")
    if [ "$got" = "$exp" ]; then ok "completion: $name"
    else ko "completion: $name"; echo "  words: $*"; echo "  want: $exp"; echo "  got:  $got"; fi
}
if ! command -v bash >/dev/null 2>&1; then skip "bash not installed: completion"; else
if bash -n "$comp_file"; then ok "completion: bash -n"; else ko "completion: bash -n"; fi
python3 tests/fixtures/mkfixtures.py "$d/cfx" asym one-node >/dev/null 2>&1
fx="$d/cfx/asym"
want "nodes with memory of --sysroot DIR for --nodeset" "0 0-1,3 1 3 " "$cgp_bin" --sysroot "$fx" numatune g --nodeset ""
want "node ids of --sysroot=DIR for freecell" "0 0-3 1 2 3 " "$cgp_bin" --sysroot="$fx" freecell ""
want "node ids for a prefix" "1 " "$cgp_bin" --sysroot "$fx" suggest --memory-nodes 1
want "online node ids for --cellno" "0 0-3 1 2 3 " "$cgp_bin" --sysroot "$fx" freecell --cellno ""
want "CPU ids for emulatorpin's CPULIST" "0 0-7 1 2 3 4 5 6 7 " "$cgp_bin" --sysroot "$fx" emulatorpin g ""
want "CPU ids for vcpupin's CPULIST (after VCPU)" "0 0-7 1 2 3 4 5 6 7 " "$cgp_bin" --sysroot "$fx" vcpupin -p x.conf g 0 ""
want "nothing for vcpupin's VCPU" "" "$cgp_bin" --sysroot "$fx" vcpupin g ""
want "--mode values" "restrictive strict " "$cgp_bin" numatune g --mode ""
want "nothing for --vcpus N" "" "$cgp_bin" suggest --vcpus ""
mkdir -p "$d/pol/sub" && : >"$d/pol/a.conf" && : >"$d/pol/b.txt"
want "policy files (*.conf and directories) for check" "$d/pol/a.conf $d/pol/sub " "$cgp_bin" check "$d/pol/"
want "policy files for -p" "$d/pol/a.conf $d/pol/sub " "$cgp_bin" guests -p "$d/pol/"
want "policy files for --policy after a global option" "$d/pol/a.conf $d/pol/sub " "$cgp_bin" --json plan --policy "$d/pol/"
rm -rf "$d/pol"

# Guest names from `cgplace guests` on a fake /proc: only names a shell takes
# literally are offered (they come from other processes' argv).
root="$d/cfx/one-node"
fakeqemu() { # PID NAME
    p="$root/proc/$1"; mkdir -p "$p/task/$1"
    ln -s /usr/bin/qemu-system-x86_64 "$p/exe"
    echo qemu-system-x86 >"$p/comm"; echo qemu-system-x86 >"$p/task/$1/comm"
    printf '/usr/bin/qemu-system-x86_64\0-name\0%s\0' "$2" >"$p/cmdline"
    echo "$1 (qemu-system-x86) S 1 $1 $1 0 -1 4194560 0 0 0 0 0 0 0 0 0 0 3 0 $((1000 + $1)) 0 0 0 0 0 0 0 0 0 0 0" >"$p/stat"
    echo "0::/" >"$p/cgroup"
    printf 'Name:\tqemu\nTgid:\t%s\nPid:\t%s\nCpus_allowed_list:\t0-3\nMems_allowed_list:\t0\n' "$1" "$1" >"$p/task/$1/status"
}
fakeqemu 1000 web1
fakeqemu 1001 'x$(touch '"$d"'/pwned)'
fakeqemu 1002 'guest=db2,debug-threads=on'
fakeqemu 1003 'two words'
fakeqemu 1004 'web2'
want "guest names from cgplace guests" "db2 web1 web2 " "$cgp_bin" --sysroot "$root" vcpuinfo ""
want "guest names with a prefix" "web1 web2 " "$cgp_bin" --sysroot "$root" numatune we
if [ ! -e "$d/pwned" ]; then ok "completion: a hostile guest name is not run"; else ko "completion: a hostile guest name ran"; fi
# a cgplace that hangs: completion gives up (timeout 2) instead of hanging the shell
printf '#!/bin/sh\nsleep 30\n' >"$d/hang"; chmod +x "$d/hang"
if timeout 20 bash tests/install/complete.bash "$comp_file" "$d/hang" vcpuinfo "" >/dev/null 2>&1; then
    ok "completion: a hanging cgplace does not hang the shell"
else ko "completion: a hanging cgplace hangs the shell"; fi
# Nothing is a fixed list: a cgplace with other verbs and options (a script
# printing their --help) gets them completed, and an option's values come
# from the usage line's "--opt a|b|c".
cat >"$d/fakecg" <<'FAKE'
#!/bin/sh
case "$*" in
--help) printf 'usage: cgplace COMMAND\n\ncommands:\n  frob FILE                    frobs\n  emit --format libvirt|qemu|xl GUEST\n                               emits\n\n' ;;
"emit --help") printf 'usage: cgplace [GLOBAL OPTIONS] emit --format libvirt|qemu|xl GUEST\n\noptions:\n  -f, --format FORMAT      the format\n      --pretty             indent\n\nglobal options (before or after the command):\n      --sysroot DIR        the root\n' ;;
"guests --no-qmp") printf 'NAME  PID\nweb1  1000\n' ;;
esac
FAKE
chmod +x "$d/fakecg"
want "commands of another cgplace's --help" "emit frob " "$d/fakecg" ""
want "options of another command's --help" "--format --pretty --sysroot " "$d/fakecg" emit --
want "short and long options for -" "--format --pretty --sysroot -f " "$d/fakecg" emit -
want "option values from the usage line" "libvirt qemu xl " "$d/fakecg" emit --format ""
want "an option's value is not an operand (emit -f xl GUEST)" "web1 " "$d/fakecg" emit -f xl ""
want "a flag takes no value (emit --pretty GUEST)" "web1 " "$d/fakecg" emit --pretty ""
want "after GUEST, nothing (emit GUEST --pretty X)" "" "$d/fakecg" emit web1 --pretty ""
rm -rf "$d/cfx" "$d/hang" "$d/fakecg"
fi
