#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# check-completion: the bash completion (completions/tcpcryptd.bash) and the
# zsh one (completions/_tcpcryptd) offer what the programs accept.  No root
# needed.
#   - a few completions, as bash computes them at a TAB (COMP_WORDS,
#     COMP_CWORD): tcpcryptd --su -> --suites=, suite lists after the "=",
#     policy actions, files for --config/--keylog, tcnetstat's options,
#     tcpcrypt-firewall's subcommands, backends and (after --) the daemon's
#     options;
#   - the option lists match the programs' --help: every long option that
#     tcpcryptd and tcnetstat print is offered (with "=" exactly when it takes
#     a value) and nothing else, and likewise for the usage lines of
#     tcpcrypt-firewall and tcpcryptd-launch.
# zsh, when installed (scripts/install-deps installs it): the same kind of
# completions and the same option lists, from an interactive zsh run in a
# pseudo-terminal (zsh/zpty) with compinit loading completions/_tcpcryptd;
# compadd is wrapped to record what the completion offers.
set -euo pipefail
top_srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=completions/tcpcryptd.bash
. "$top_srcdir/completions/tcpcryptd.bash"

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# comp FUNCTION WORD...: the completions for the command line WORD... with
# the cursor at the end of the last word, one per line, sorted.
comp() {
	local fn=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$fn" 2>/dev/null
	((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

# expect WANT FUNCTION WORD...: WANT is the space-separated sorted list.
expect() {
	local want=$1 got
	shift
	got=$(comp "$@" | tr '\n' ' ')
	got=${got% }
	[[ $got == "$want" ]] || fail "${*:2} <TAB>: got '$got', want '$want'"
}

# expect_has WORD FUNCTION WORD...: WORD is among the completions.
expect_has() {
	local w=$1
	shift
	comp "$@" | grep -qxF -- "$w" || fail "${*:2} <TAB>: '$w' not offered (got: $(comp "$@" | tr '\n' ' '))"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/tcpcryptd.conf" "$tmp/tcpcryptd.keys"

# "=" is in COMP_WORDBREAKS, so bash splits "--suites=aes" into three words;
# without it the word stays whole.  Both are covered.
expect "--suites=" _tcpcryptd tcpcryptd --su
expect "aes128 chacha20" _tcpcryptd tcpcryptd --suites =
expect "chacha20" _tcpcryptd tcpcryptd --suites = ch
expect "aes128,chacha20" _tcpcryptd tcpcryptd --suites = aes128,
expect "--suites=chacha20,aes128" _tcpcryptd tcpcryptd --suites=chacha20,
expect "--suites=aes128" _tcpcryptd tcpcryptd --suites=a
expect "clear private private-or-clear" _tcpcryptd tcpcryptd -P ""
expect "private private-or-clear" _tcpcryptd tcpcryptd --policy = pr
expect "$tmp/tcpcryptd.conf" _tcpcryptd tcpcryptd --config = "$tmp/tcpcryptd.c"
expect "$tmp/tcpcryptd.keys" _tcpcryptd tcpcryptd -k "$tmp/tcpcryptd.k"
expect "--keylog=$tmp/tcpcryptd.keys" _tcpcryptd tcpcryptd --keylog="$tmp/tcpcryptd.k"
expect_has none _tcpcryptd tcpcryptd --state-file = ""
expect "--no-resumption --no-x25519-memo" _tcpcryptd tcpcryptd --no-
expect "" _tcpcryptd tcpcryptd --queue = ""
expect "--encrypted-only" _tcnetstat tcnetstat --e
expect_has -s _tcnetstat tcnetstat -
expect_has --json _tcnetstat tcnetstat -
expect_has --socket= _tcnetstat tcnetstat -
expect "$tmp/tcpcryptd.conf" _tcnetstat tcnetstat -S "$tmp/tcpcryptd.c"
expect "down purge status up" _tcpcrypt_firewall tcpcrypt-firewall ""
expect "" _tcpcrypt_firewall tcpcrypt-firewall up ""
expect "auto iptables nft" _tcpcrypt_firewall tcpcrypt-firewall up --backend ""
expect "$tmp/tcpcryptd.conf" _tcpcrypt_firewall tcpcrypt-firewall down --config "$tmp/tcpcryptd.c"
expect "clear" _tcpcrypt_firewall tcpcrypt-firewall down --policy c
expect "--suites=" _tcpcrypt_firewall tcpcrypt-firewall up -- --su
expect "--as-root" _tcpcryptd_launch tcpcryptd-launch --as
expect "aes128 chacha20" _tcpcryptd_launch tcpcryptd-launch --queue 7 -- --suites =
[[ $(complete -p tcpcryptd tcnetstat tcpcrypt-firewall tcpcryptd-launch 2>&1 | grep -c '^complete -F') == 4 ]] ||
	fail "not all four commands have a completion function"

# help_getopt PROG: "--opt" / "--opt=" for each option line of PROG --help.
help_getopt() {
	"$@" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z0-9-]*\)\( [A-Z]\)\{0,1\}.*/\2\3/p' |
		sed 's/ [A-Z]$/=/' | LC_ALL=C sort
}
# help_usage PROG: the --options of the usage lines at the top of --help.
help_usage() {
	"$@" --help | sed -n '1,/^$/p;/^ *tcpcrypt[-a-z]* /,/^$/p' | grep -o '[[|] \{0,1\}--[a-z-]*' |
		grep -o -- '--[a-z-]*' | grep -vx -- -- | { cat; echo --help; } | LC_ALL=C sort -u
}
# offered FUNCTION COMMAND: the long options offered for "COMMAND --".
offered() { comp "$1" "$2" -- | grep -v '^--$' | LC_ALL=C sort -u; }

check_list() {
	local what=$1 help=$2 comp=$3
	if [[ -z $help ]]; then
		fail "$what: no options found in its --help"
	elif [[ $help != "$comp" ]]; then
		fail "$what: --help and the completion differ:
$(diff <(echo "$help") <(echo "$comp") | grep '^[<>]' | sed 's/^</ only in --help:/;s/^>/ only in the completion:/')"
	fi
}

find_built() {
	local d
	for d in "${abs_top_builddir:-}" "$PWD" "$top_srcdir" "$top_srcdir/build"; do
		[[ -n $d && -x $d/$1 && ! -d $d/$1 ]] && { echo "$d/$1"; return 0; }
	done
	return 1
}
if daemon=$(find_built tcpcryptd) && tcn=$(find_built util/tcnetstat); then
	check_list tcpcryptd "$(help_getopt "$daemon")" "$(offered _tcpcryptd tcpcryptd)"
	check_list tcnetstat "$(help_getopt "$tcn")" "$(offered _tcnetstat tcnetstat)"
else
	fail "tcpcryptd or util/tcnetstat is not built: cannot compare with their --help"
fi
check_list tcpcrypt-firewall "$(help_usage bash "$top_srcdir/scripts/tcpcrypt-firewall")" \
	"$(offered _tcpcrypt_firewall tcpcrypt-firewall)"
check_list tcpcryptd-launch "$(help_usage bash "$top_srcdir/launchers/tcpcryptd-launch")" \
	"$(offered _tcpcryptd_launch tcpcryptd-launch)"

# --- zsh --------------------------------------------------------------------

# Reads one command line per line of its input; prints, for each, one line:
# what zsh offers at a TAB at the end of it (sorted, space-separated; an
# option's "=" is not part of it).  Arguments: the completions directory, a
# scratch directory.  A widget on ^T puts the line into the editor and runs
# complete-word; it touches a file when done, which the driver polls for.
# shellcheck disable=SC2016 # zsh code, expanded by zsh
ZSH_DRIVER='
zmodload zsh/zpty || exit 1
compdir=$1 w=$2
zpty -b z "zsh -f -i"
zpty -w z "PS1=\"> \"; fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D -d $w/zcompdump"
zpty -w z "compadd() { local -a m; builtin compadd -O m \"\$@\"; (( \$#m )) && print -rl -- \$m >> $w/matches; builtin compadd \"\$@\"; }"
zpty -w z "t-complete() { BUFFER=\$TEST_BUF; CURSOR=\$#BUFFER; : >| $w/matches; zle complete-word; BUFFER=\"\"; : >| $w/done; }; zle -N t-complete; bindkey \"^T\" t-complete"
while IFS= read -r line; do
	rm -f $w/done
	zpty -w z "TEST_BUF=${(q)line}"
	zpty -w -n z $'\''\x14'\''
	for i in {1..200}; do [[ -e $w/done ]] && break; sleep 0.05; done
	[[ -e $w/done ]] || { print -r -- "TIMEOUT"; continue; }
	print -r -- ${(j: :)${(ou)${(f)"$(<$w/matches)"}}}
done
zpty -d z
'

if ! command -v zsh >/dev/null; then
	echo "check-completion: zsh is not installed: its completion is not checked (scripts/install-deps installs it)"
else
	mkdir "$tmp/zsh"
	zlines=(
		"tcpcryptd --su"
		"tcpcryptd --suites="
		"tcpcryptd --suites=aes128,"
		"tcpcryptd -P "
		"tcpcryptd --no-"
		"tcpcryptd --config=$tmp/tcpcryptd.c"
		"tcnetstat --e"
		"tcpcrypt-firewall "
		"tcpcrypt-firewall up --backend "
		"tcpcrypt-firewall up -- --su"
		"tcpcrypt-firewall down --queue 3 -- --suites="
		"tcpcryptd-launch --as"
		"tcpcryptd-launch --queue 7 -- --suites="
		"tcpcryptd -"
		"tcnetstat -"
		"tcpcrypt-firewall -"
		"tcpcryptd-launch -"
	)
	mapfile -t zgot < <(printf '%s\n' "${zlines[@]}" |
		timeout 120 zsh -f -c "$ZSH_DRIVER" zsh "$top_srcdir/completions" "$tmp/zsh")
	# zoffers LINE: what the driver printed for LINE.
	zoffers() {
		local i
		for i in "${!zlines[@]}"; do
			[[ ${zlines[$i]} == "$1" ]] && { echo "${zgot[$i]:-}"; return; }
		done
	}
	zexpect() {
		local got
		got=$(zoffers "$2")
		[[ $got == "$1" ]] || fail "zsh: $2<TAB>: got '$got', want '$1'"
	}
	zexpect "--suites" "tcpcryptd --su"
	zexpect "aes128 chacha20" "tcpcryptd --suites="
	zexpect "chacha20" "tcpcryptd --suites=aes128,"
	zexpect "clear private private-or-clear" "tcpcryptd -P "
	zexpect "--no-resumption --no-x25519-memo" "tcpcryptd --no-"
	[[ " $(zoffers "tcpcryptd --config=$tmp/tcpcryptd.c") " == *" tcpcryptd.conf "* ]] ||
		fail "zsh: tcpcryptd --config=$tmp/tcpcryptd.c<TAB>: tcpcryptd.conf not offered"
	zexpect "--encrypted-only" "tcnetstat --e"
	zexpect "down purge status up" "tcpcrypt-firewall "
	zexpect "auto iptables nft" "tcpcrypt-firewall up --backend "
	zexpect "--suites" "tcpcrypt-firewall up -- --su"
	zexpect "aes128 chacha20" "tcpcrypt-firewall down --queue 3 -- --suites="
	zexpect "--as-root" "tcpcryptd-launch --as"
	zexpect "aes128 chacha20" "tcpcryptd-launch --queue 7 -- --suites="
	# zlong LINE: the long options offered for LINE, one per line.
	zlong() { zoffers "$1" | tr ' ' '\n' | grep '^--.' | LC_ALL=C sort -u; }
	# nameonly: a --help list without the "=" of options that take a value.
	nameonly() { sed 's/=$//' | LC_ALL=C sort -u; }
	if [[ -n ${daemon:-} && -n ${tcn:-} ]]; then
		check_list "zsh: tcpcryptd" "$(help_getopt "$daemon" | nameonly)" "$(zlong "tcpcryptd -")"
		check_list "zsh: tcnetstat" "$(help_getopt "$tcn" | nameonly)" "$(zlong "tcnetstat -")"
	fi
	check_list "zsh: tcpcrypt-firewall" "$(help_usage bash "$top_srcdir/scripts/tcpcrypt-firewall")" \
		"$(zlong "tcpcrypt-firewall -")"
	check_list "zsh: tcpcryptd-launch" "$(help_usage bash "$top_srcdir/launchers/tcpcryptd-launch")" \
		"$(zlong "tcpcryptd-launch -")"
fi

if ((fails)); then
	echo "check-completion: $fails failed" >&2
	exit 1
fi
echo "check-completion: all passed"
