# shellcheck shell=bash
# SPDX-License-Identifier: BSD-2-Clause
# bash completion for tcpcryptd, tcnetstat, tcpcrypt-firewall and
# tcpcryptd-launch.  Installed as "tcpcryptd" in bash-completion's directory,
# with the other three names as links to it (bash-completion loads a file by
# the command's name).  Needs nothing from bash-completion itself.
#
# tcpcryptd and tcnetstat parse their options with getopt_long, so a long
# option that takes a value is completed as "--option=" and its value after
# the "=".  The two scripts take "--option VALUE" only.

_tcpcrypt_suites="aes128 chacha20"
_tcpcrypt_actions="private-or-clear private clear"

# _tcpcrypt_words: sets cur, prev, and, for a "--opt=value" word (split at
# "=" by COMP_WORDBREAKS or not), opt and val.
_tcpcrypt_words() {
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	opt=""
	val=""
	_tcpcrypt_split=0
	if [[ $cur == "=" && $prev == --* ]]; then
		opt=$prev val="" _tcpcrypt_split=1
	elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
		opt=${COMP_WORDS[COMP_CWORD - 2]} val=$cur _tcpcrypt_split=1
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*} val=${cur#*=}
	fi
}

# _tcpcrypt_add WORDS...: append the words to COMPREPLY; in the unsplit
# "--opt=value" case, with "--opt=" in front.
_tcpcrypt_add() {
	local w
	for w in "$@"; do
		if [[ -n $opt && $_tcpcrypt_split == 0 ]]; then
			COMPREPLY+=("$opt=$w")
		else
			COMPREPLY+=("$w")
		fi
	done
}

# _tcpcrypt_gen COMPGEN-ARGS...: _tcpcrypt_add what compgen prints, one
# completion per line (file names may hold spaces).
_tcpcrypt_gen() {
	local -a words
	mapfile -t words < <(compgen "$@")
	((${#words[@]} == 0)) || _tcpcrypt_add "${words[@]}"
}

# _tcpcrypt_values KIND WORD: completions of WORD as a value of KIND.
_tcpcrypt_values() {
	local kind=$1 word=$2 head last s
	case $kind in
	suites)
		# a comma-separated list: complete its last element
		head=""
		last=$word
		if [[ $word == *,* ]]; then
			head=${word%,*},
			last=${word##*,}
		fi
		for s in $_tcpcrypt_suites; do
			[[ ,$head == *,$s,* ]] && continue
			[[ $s == "$last"* ]] && _tcpcrypt_add "$head$s"
		done
		;;
	policy) _tcpcrypt_gen -W "$_tcpcrypt_actions" -- "$word" ;;
	file)
		_tcpcrypt_gen -f -- "$word"
		compopt -o filenames 2>/dev/null
		;;
	file-or-none)
		_tcpcrypt_gen -W none -- "$word"
		_tcpcrypt_gen -f -- "$word"
		compopt -o filenames 2>/dev/null
		;;
	group) _tcpcrypt_gen -g -- "$word" ;;
	backend) _tcpcrypt_gen -W "iptables nft auto" -- "$word" ;;
	user) _tcpcrypt_gen -u -- "$word" ;;
	*)
		# a number or free text: nothing to offer
		;;
	esac
}

# _tcpcrypt_getopt SHORTS LONGS KINDS: a getopt_long program.  SHORTS maps
# short options with a value to their kind ("-c:file -P:policy"), LONGS
# lists the long options ("--config=" when it takes a value), KINDS maps
# long options to kinds ("--config:file").
_tcpcrypt_getopt() {
	local shorts=$1 longs=$2 kinds=$3 cur prev opt val k o
	_tcpcrypt_words
	COMPREPLY=()
	if [[ -n $opt ]]; then
		for k in $kinds; do
			if [[ ${k%%:*} == "$opt" ]]; then
				_tcpcrypt_values "${k#*:}" "$val"
				return 0
			fi
		done
		return 0
	fi
	for k in $shorts; do
		if [[ ${k%%:*} == "$prev" ]]; then
			_tcpcrypt_values "${k#*:}" "$cur"
			return 0
		fi
	done
	if [[ $cur == -* ]]; then
		local all=$longs
		for k in $shorts; do all+=" ${k%%:*}"; done
		mapfile -t COMPREPLY < <(compgen -W "$all" -- "$cur")
		for o in "${COMPREPLY[@]}"; do
			if [[ $o == *= ]]; then
				compopt -o nospace 2>/dev/null
				break
			fi
		done
	fi
	return 0
}

_tcpcryptd() {
	_tcpcrypt_getopt \
		"-c:file -P:policy -q:number -k:file -S:file-or-none -h:flag -V:flag -f:flag -v:flag" \
		"--config= --policy= --queue= --keylog= --idle-timeout= --max-flows= --linger=
		 --rst-authenticated --suites= --no-resumption --resume-lifetime= --state-file=
		 --no-x25519-memo --socket= --socket-group= --allow-core-dump --foreground
		 --verbose --help --version" \
		"--config:file --policy:policy --keylog:file --suites:suites --state-file:file-or-none
		 --socket:file-or-none --socket-group:group"
}

_tcnetstat() {
	_tcpcrypt_getopt \
		"-S:file -s:flag -t:flag -j:flag -P:flag -w:flag -n:flag -h:flag -V:flag" \
		"--stats --tsv --json --prometheus --wide --numeric --encrypted-only --socket= --help
		 --version" \
		"--socket:file"
}

# The scripts: "--option VALUE", and in tcpcrypt-firewall a subcommand and,
# after "--", the daemon's own options.
_tcpcrypt_script() {
	local opts=$1 kinds=$2 subcmds=$3 cur prev i k
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			# the rest goes to tcpcryptd
			_tcpcryptd
			return 0
		fi
	done
	for k in $kinds; do
		if [[ ${k%%:*} == "$prev" ]]; then
			local opt="" _tcpcrypt_split=0
			_tcpcrypt_values "${k#*:}" "$cur"
			return 0
		fi
	done
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts --" -- "$cur")
		return 0
	fi
	if [[ -n $subcmds ]]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			[[ " $subcmds " == *" ${COMP_WORDS[i]} "* ]] && return 0
		done
		mapfile -t COMPREPLY < <(compgen -W "$subcmds" -- "$cur")
	fi
	return 0
}

_tcpcrypt_firewall() {
	_tcpcrypt_script "--ports --queue --backend --config --policy --help" \
		"--ports:number --queue:number --backend:backend --config:file --policy:policy" \
		"up down purge status"
}

_tcpcryptd_launch() {
	_tcpcrypt_script "--ports --queue --daemon --user --as-root --help" \
		"--ports:number --queue:number --daemon:file --user:user" ""
}

complete -F _tcpcryptd tcpcryptd
complete -F _tcnetstat tcnetstat
complete -F _tcpcrypt_firewall tcpcrypt-firewall
complete -F _tcpcryptd_launch tcpcryptd-launch
