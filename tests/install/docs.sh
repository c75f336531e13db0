# Sourced by tests/install/run.sh after `make install DESTDIR=$d PREFIX=/usr`:
# the docs stand alone.  (1) Nothing in README.md, docs/ or examples/ points
# outside the repository (../shared, absolute checkout paths, "spec §N", a
# relative link leaving the tree or naming a missing file).  (2) Every command of
# `cgplace --help` and every option of each `cgplace CMD --help` (read from the
# binary, so new verbs and options are covered) is in cgplace(1) and offered by
# the installed completion; each miss is named.  Uses $d, $B, ok, ko, comp.

# (1) the lint: every hit as FILE:LINE: TEXT
top=$(pwd)
out=$(grep -n -E '\.\./shared|/work/|shared/(spec|oracles)' README.md docs/* examples/* debian/README.source 2>/dev/null)
# "spec §N" sends the reader to the contract outside the tree: name the man page's section
out="$out
$(grep -n -E 'spec §' README.md docs/* examples/* debian/README.source 2>/dev/null | sed 's/$/   <- name the man page section instead/')"
for f in README.md docs/*.md; do
    # markdown link targets ](target): relative ones must stay inside and exist
    grep -n -o -E '\]\([^)#]+' "$f" | while IFS= read -r hit; do
        line=${hit%%:*} tgt=${hit#*](}
        case $tgt in http://* | https://* | mailto:*) continue ;; esac
        p=$(realpath -m "$(dirname "$f")/$tgt")
        case $p in "$top"/*) [ -e "$p" ] || echo "$f:$line: link to a missing file: $tgt" ;;
            *) echo "$f:$line: link outside the repository: $tgt" ;; esac
    done
done >"$d/links"
out=$(printf '%s\n%s' "$out" "$(cat "$d/links")" | sed '/^$/d'); rm -f "$d/links"
if [ -z "$out" ]; then ok "docs: no link or path outside the repository (README.md docs/ examples/ debian/README.source)"
else ko "docs: links or paths outside the repository:"; printf '%s\n' "$out" | sed 's/^/  /'; fi

# (2) the help against the man page and the completion
man_text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/ /g' docs/cgplace.1)
in_man() { printf '%s\n' "$man_text" | grep -q -E -- "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)"; }
cmds=$("$B/cgplace" --help | sed -n -E '/^commands:/,/^$/s/^  ([a-z][a-z0-9-]*)( .*)?$/\1/p')
offered=" $(comp "$cgp_bin" "")"
miss_man=""; miss_comp=""; nopts=0
for c in $cmds; do
    printf '%s\n' "$man_text" | grep -q -E "^\.(B|BR|TP) $c( |\$)|^\.B $c\$" || miss_man="$miss_man
  command $c: not in docs/cgplace.1 (a .B $c entry)"
    case $offered in *" $c "*) ;; *) miss_comp="$miss_comp
  command $c: not offered by the completion for 'cgplace '";; esac
    long=" $(comp "$cgp_bin" "$c" --)" short=" $(comp "$cgp_bin" "$c" -)"
    for o in $("$B/cgplace" "$c" --help | sed -n -E 's/^ +(-[A-Za-z], )?(--[a-z][a-z0-9-]*).*/\1\2/p' | sed 's/, / /'); do
        nopts=$((nopts + 1))
        in_man "$o" || miss_man="$miss_man
  cgplace $c $o: not in docs/cgplace.1"
        case $o in --*) set -- "$long" ;; *) set -- "$short" ;; esac
        case $1 in *" $o "*) ;; *) miss_comp="$miss_comp
  cgplace $c $o: not offered by the completion for 'cgplace $c ${o%"${o#-?}"}'";; esac
    done
done
n=$(echo "$cmds" | wc -w)
if [ "$n" -gt 10 ] && [ "$nopts" -gt 100 ]; then ok "docs: read $n commands and $nopts options from --help"
else ko "docs: read only $n commands and $nopts options from --help"; fi
if [ -z "$miss_man" ]; then ok "docs: every command and option of --help is in cgplace(1)"
else ko "docs: missing from cgplace(1):$miss_man"; fi
if [ -z "$miss_comp" ]; then ok "docs: the completion offers every command and option of --help"
else ko "docs: missing from the completion:$miss_comp"; fi

# (3) cgplace(1) EXAMPLES: each "$ cgplace ARGS" of the checked block, run on
# the asym fixture from the source tree, prints the lines that follow it
python3 tests/fixtures/mkfixtures.py "$d/exfx" asym >/dev/null 2>&1
sed -n '/^\.\\" checked-begin/,/^\.\\" checked-end/p' docs/cgplace.1 | sed -e '1d' -e '$d' \
    | sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/^\\&//' -e 's/\\(aq/'"'"'/g' >"$d/examples"
nex=0; bad=""
ex_run() { # the previous example's command against its lines, if there was one
    [ -n "${args+x}" ] || return 0
    # shellcheck disable=SC2086 # the example's words
    "$B/cgplace" --sysroot "$d/exfx/asym" $args >"$d/ex.got" 2>&1
    cmp -s "$d/ex.want" "$d/ex.got" || bad="$bad
  \$ cgplace $args: $(diff "$d/ex.want" "$d/ex.got" | head -5 | tr '\n' ' ')"
}
while IFS= read -r line; do
    case $line in
        '$ cgplace '*) ex_run; args=${line#'$ cgplace '}; nex=$((nex + 1)); : >"$d/ex.want" ;;
        *) printf '%s\n' "$line" >>"$d/ex.want" ;;
    esac
done <"$d/examples"
ex_run
if [ "$nex" -ge 3 ] && [ -z "$bad" ]; then ok "docs: cgplace(1) EXAMPLES print what the page shows ($nex commands, asym fixture)"
else ko "docs: cgplace(1) EXAMPLES ($nex commands) differ from the page:$bad"; fi
rm -rf "$d/exfx" "$d/examples" "$d/ex.want" "$d/ex.got"; unset args
