#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# check-completion: the bash completion (completions/tcpcryptd.bash) offers
# what the programs accept.  No root needed.
#   - a few completions, as bash computes them at a TAB (COMP_WORDS,
#     COMP_CWORD): tcpcryptd --su -> --suites=, suite lists after the "=",
#     policy actions, files for --config/--keylog, tcnetstat's options,
#     tcpcrypt-firewall's subcommands, backends and (after --) the daemon's
#     options;
#   - the option lists match the programs' --help: every long option that
#     tcpcryptd and tcnetstat print is offered (with "=" exactly when it takes
#     a value) and nothing else, and likewise for the usage lines of
#     tcpcrypt-firewall and tcpcryptd-launch.
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

if ((fails)); then
	echo "check-completion: $fails failed" >&2
	exit 1
fi
echo "check-completion: all passed"
