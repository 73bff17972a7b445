#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t23: the guard that "tcpcrypt-firewall down" leaves in place.
#
# No daemon runs.  A connection that negotiated encryption is emulated by a
# helper rule in host A's mangle OUTPUT that sets the connmark bit
# 0x40000000 on connections to one port; the rule is removed once the
# connection is up, as the daemon's rules would be at a restart.  For each
# backend (nft only when the kernel accepts the nft queue statement, probed
# like the script does), with an IPv4 and an IPv6 connection of each kind:
#   (1) "up" then "down": the marked ("encrypted") connections cannot
#       exchange data any more, in either direction: A's next bytes never
#       reach B while A keeps trying, B's never reach A while B's kernel
#       retransmits, and the guard's drop counters go up.  Unmarked
#       connections on the neighbouring port carry the same messages
#       normally.  "status" exits 3 and says "guard only".
#   (3) "up" twice then "down": exactly one guard jump per hook and family
#       (one guard table with one chain per hook for nft), no queue rules,
#       and the encrypted connections are still frozen.
#   (2) "purge": no rule, chain or table named TCPCRYPT/tcpcrypt is left
#       (iptables-save, ip6tables-save, nft list ruleset) and "status"
#       exits 3.
# Without the guard, "down" leaves no rule at all and (1) fails: the bytes
# arrive in the clear.
. "$(dirname "$0")/lib.sh"
topo_setup

W=$TC_WORK
FW=$TC_FIREWALL
ENC_MARK=0x40000000
B4=198.51.100.1
B6=2001:db8:2::1

# One TCP connection, either end driven by files: every file TX.N (N = 1, 2,
# ...) that appears is sent as the next message; whatever arrives is
# appended to RX as it comes.  Stops at EOF, or after 300 s.
PEER_PY='
import os, select, sys, time
from netsock import one_connection
mode, addr, port, rx, tx = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
s = one_connection(mode == "listen", addr, port, connect_timeout=10)
out = open(rx, "ab", buffering=0)
n = 1
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    r, _, _ = select.select([s], [], [], 0.05)
    if r:
        d = s.recv(65536)
        if not d:
            break
        out.write(d)
    f = "%s.%d" % (tx, n)
    if os.path.exists(f):
        with open(f, "rb") as m:
            s.sendall(m.read())
        n += 1
'

declare -A CONN_PORT=() CONN_PIDS=()

# conn_open NAME FAMILY PORT: B listens, A connects.
conn_open() {
	local name=$1 fam=$2 port=$3 addr
	if [[ $fam == 6 ]]; then addr=$B6; else addr=$B4; fi
	CONN_PORT[$name]=$port
	rm -f "$W/$name.txA".* "$W/$name.txB".*
	: >"$W/$name.rxA"
	: >"$W/$name.rxB"
	ip netns exec "$NS_B" env PYTHONPATH="$TC_NETNS_DIR" python3 -c "$PEER_PY" listen "$addr" "$port" "$W/$name.rxB" "$W/$name.txB" &
	tc_track $!
	CONN_PIDS[$name]="$!"
	wait_listen "$NS_B" "$port"
	ip netns exec "$NS_A" env PYTHONPATH="$TC_NETNS_DIR" python3 -c "$PEER_PY" connect "$addr" "$port" "$W/$name.rxA" "$W/$name.txA" &
	tc_track $!
	CONN_PIDS[$name]+=" $!"
}

# say NAME SIDE N TEXT: SIDE (A or B) sends TEXT and a newline as its
# message number N on connection NAME.
say() {
	printf '%s\n' "$4" >"$W/$1.tx$2.$3.tmp"
	mv "$W/$1.tx$2.$3.tmp" "$W/$1.tx$2.$3"
}

# got NAME SIDE TEXT: SIDE received TEXT on connection NAME.
got() { grep -qxF -- "$3" "$W/$1.rx$2"; }

# conn_close NAME: end both programs and abort both sockets (ss -K), so
# that a frozen connection does not go on retransmitting into the next
# part of the test.
conn_close() {
	local name=$1 port=${CONN_PORT[$1]} pid
	for pid in ${CONN_PIDS[$name]}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ns_exec "$NS_A" ss -K -Htn "( dport = :$port )" >/dev/null 2>&1 || true
	ns_exec "$NS_B" ss -K -Htn "( sport = :$port )" >/dev/null 2>&1 || true
}

# tcp_quiet NS PORT: the connection on PORT exists in NS and has nothing in
# flight (Send-Q 0: everything sent was acknowledged).
tcp_quiet() {
	local out
	out=$(ns_exec "$1" ss -Htn state established "( sport = :$2 or dport = :$2 )") || return 1
	[[ -n $out ]] && awk '$2 != 0 { bad = 1 } END { exit bad }' <<<"$out"
}

# retrans NS PORT: total retransmissions of the connection on PORT in NS.
retrans() {
	local r
	r=$(ns_exec "$1" ss -Htni state established "( sport = :$2 or dport = :$2 )" |
		grep -oE 'retrans:[0-9]+/[0-9]+' | awk -F/ '!n++ { print $2 }') || true
	echo "${r:-0}"
}
retrans_at_least() { (($(retrans "$1" "$2") >= $3)); }

# helper_rule -A|-D PORT: mark connections from A to PORT as encrypted, the
# way the daemon's NF_REPEAT with 0x40000000 and the CONNMARK --save-mark
# rule would.
helper_rule() {
	local op=$1 port=$2 cmd
	for cmd in iptables ip6tables; do
		ns_exec "$NS_A" "$cmd" -w -t mangle "$op" OUTPUT -p tcp --dport "$port" \
			-j CONNMARK --or-mark "$ENC_MARK" || fail "$cmd $op helper rule for port $port in A failed"
	done
}

# fw ARGS...: tcpcrypt-firewall in A; its output in $W/fw.log.
fw() {
	ns_exec "$NS_A" "$FW" "$@" >>"$W/fw.log" 2>&1 || fail "tcpcrypt-firewall $* failed in A: $(tail -n 10 "$W/fw.log")"
}

# fw_status: exit status of "tcpcrypt-firewall status" in A; its output
# in $W/status.out.
fw_status() {
	local rc=0
	ns_exec "$NS_A" "$FW" status >"$W/status.out" 2>&1 || rc=$?
	echo "$rc"
}

# guard_drops BACKEND FAMILY DIRECTION: the packet counter of the guard's
# drop rule.  iptables: one chain per family for both directions; nft: one
# chain per direction for both families.
guard_drops() {
	local be=$1 fam=$2 dir=$3 n cmd=iptables hook=output
	if [[ $be == iptables ]]; then
		[[ $fam == 4 ]] || cmd=ip6tables
		n=$(ns_exec "$NS_A" "$cmd" -w -t mangle -L TCPCRYPT_GUARD -v -x -n 2>/dev/null |
			awk '$3 == "DROP" && !n++ { print $1 }')
	else
		[[ $dir == out ]] || hook=input
		n=$(ns_exec "$NS_A" nft list chain inet tcpcrypt_guard "$hook" 2>/dev/null |
			awk '/ct mark .* drop/ && !n++ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')
	fi
	[[ -n $n ]] || fail "no guard drop rule ($be, IPv$fam, $dir) in A after 'down': the guard is missing"
	echo "$n"
}
guard_summary() {
	if [[ $1 == iptables ]]; then
		echo "guard drops: IPv4 $(guard_drops "$1" 4 any), IPv6 $(guard_drops "$1" 6 any)"
	else
		echo "guard drops: output $(guard_drops "$1" any out), input $(guard_drops "$1" any in)"
	fi
}
drops_at_least() { (($(guard_drops "$1" "$2" "$3") >= $4)); }

# ours_left: lines of the rulesets of A that name our chains or tables.
ours_left() {
	{
		ns_exec "$NS_A" iptables-save 2>/dev/null
		ns_exec "$NS_A" ip6tables-save 2>/dev/null
		if command -v nft >/dev/null 2>&1; then ns_exec "$NS_A" nft list ruleset 2>/dev/null; fi
	} | grep -i tcpcrypt || true
}

# The script's own probe: does the kernel accept the nft queue statement?
nft_queue_supported() {
	command -v nft >/dev/null 2>&1 || return 1
	printf 'table inet t23_probe {\n chain c {\n  type filter hook output priority mangle\n  queue num %s\n }\n}\n' \
		"$TC_QUEUE" | ns_exec "$NS_A" nft -c -f - >/dev/null 2>&1
}

# ---------------------------------------------------------------------------

# round BACKEND BASE_PORT
round() {
	local be=$1 base=$2 name e4 p4 e6 p6 tag
	e4=$base p4=$((base + 1)) e6=$((base + 2)) p6=$((base + 3))
	tag=$(rand_tag)
	log "=== backend $be: encrypted-marked ports $e4 (IPv4) and $e6 (IPv6), unmarked $p4 and $p6"

	# Connections up, the "encrypted" ones marked while they open.
	helper_rule -A "$e4"
	helper_rule -A "$e6"
	conn_open enc4 4 "$e4"
	conn_open plain4 4 "$p4"
	conn_open enc6 6 "$e6"
	conn_open plain6 6 "$p6"
	for name in enc4 plain4 enc6 plain6; do
		say "$name" A 1 "A1-$name-$tag"
		say "$name" B 1 "B1-$name-$tag"
	done
	for name in enc4 plain4 enc6 plain6; do
		wait_for -m "first message A -> B on $name" got "$name" B "A1-$name-$tag"
		wait_for -m "first message B -> A on $name" got "$name" A "B1-$name-$tag"
	done
	helper_rule -D "$e4"
	helper_rule -D "$e6"
	# Nothing in flight before the rules change.
	for name in enc4 plain4 enc6 plain6; do
		wait_for -m "$name idle in A" tcp_quiet "$NS_A" "${CONN_PORT[$name]}"
		wait_for -m "$name idle in B" tcp_quiet "$NS_B" "${CONN_PORT[$name]}"
	done
	log "four connections up and idle; $e4 and $e6 carry connmark $ENC_MARK"

	# (1) up, then down: a daemon restart with no daemon.
	fw up --backend "$be" --queue "$TC_QUEUE"
	if [[ $be == iptables ]]; then
		local cmd rules
		for cmd in iptables ip6tables; do
			# While up, the guard comes right after the queue jumps.
			rules=$(ns_exec "$NS_A" "$cmd" -w -t mangle -S OUTPUT | awk '$1 == "-A" && ++n <= 2 { printf "%s ", $NF }')
			[[ $rules == "TCPCRYPT_OUT TCPCRYPT_GUARD " ]] || fail "$cmd mangle OUTPUT after up starts with '$rules', want TCPCRYPT_OUT then TCPCRYPT_GUARD"
			rules=$(ns_exec "$NS_A" "$cmd" -w -t mangle -S INPUT | awk '$1 == "-A" { printf "%s ", $NF }')
			[[ $rules =~ ^(TCPCRYPT_IN )+TCPCRYPT_GUARD\ $ ]] || fail "$cmd mangle INPUT after up is '$rules', want the TCPCRYPT_IN jumps then TCPCRYPT_GUARD"
		done
	fi
	fw down
	rc=$(fw_status)
	((rc == 3)) || fail "status after down exits $rc, want 3: $(cat "$W/status.out")"
	grep -q "guard only" "$W/status.out" || fail "status after down does not say 'guard only': $(cat "$W/status.out")"
	[[ $(ours_left | grep -ciE 'TCPCRYPT_(OUT|IN)\b|table inet tcpcrypt \{') == 0 ]] || fail "queue rules left after down:
$(ours_left)"
	log "(1) up, down: queue rules gone, status 3 'guard only'"

	# A -> B first: while B is silent, every drop is one of A's attempts.
	for name in enc4 plain4 enc6 plain6; do
		say "$name" A 2 "A2-$name-$tag"
	done
	wait_for -m "A -> B on the unmarked IPv4 connection after down" got plain4 B "A2-plain4-$tag"
	wait_for -m "A -> B on the unmarked IPv6 connection after down" got plain6 B "A2-plain6-$tag"
	if [[ $be == iptables ]]; then
		wait_for -t 20 -m "the IPv4 guard to drop A's attempts" drops_at_least "$be" 4 out 2
		wait_for -t 20 -m "the IPv6 guard to drop A's attempts" drops_at_least "$be" 6 out 2
	else
		wait_for -t 20 -m "the guard's output chain to drop A's attempts" drops_at_least "$be" 4 out 4
	fi
	for name in enc4 enc6; do
		! got "$name" B "A2-$name-$tag" || fail "A's bytes on the encrypted connection $name reached B after down: the guard let them through"
	done
	log "(1) A -> B: unmarked connections deliver; marked ones stall ($(guard_summary "$be"))"

	# B -> A: B has no rules, its kernel sends and retransmits; A's guard
	# must keep the bytes from A's sockets.
	local d4 d6 r4 r6
	d4=$(guard_drops "$be" 4 in)
	d6=$(guard_drops "$be" 6 in)
	r4=$(retrans "$NS_B" "$e4")
	r6=$(retrans "$NS_B" "$e6")
	for name in enc4 plain4 enc6 plain6; do
		say "$name" B 2 "B2-$name-$tag"
	done
	wait_for -m "B -> A on the unmarked IPv4 connection after down" got plain4 A "B2-plain4-$tag"
	wait_for -m "B -> A on the unmarked IPv6 connection after down" got plain6 A "B2-plain6-$tag"
	wait_for -t 20 -m "B retransmitting on $e4 (its segments dropped in A)" retrans_at_least "$NS_B" "$e4" $((r4 + 2))
	wait_for -t 20 -m "B retransmitting on $e6 (its segments dropped in A)" retrans_at_least "$NS_B" "$e6" $((r6 + 2))
	if [[ $be == iptables ]]; then
		wait_for -m "the IPv4 guard to drop B's segments" drops_at_least "$be" 4 in $((d4 + 2))
		wait_for -m "the IPv6 guard to drop B's segments" drops_at_least "$be" 6 in $((d6 + 2))
	else
		wait_for -m "the guard's input chain to drop B's segments" drops_at_least "$be" 4 in $((d4 + 4))
	fi
	for name in enc4 enc6; do
		! got "$name" A "B2-$name-$tag" || fail "B's bytes on the encrypted connection $name reached A's socket after down: the guard let them in"
	done
	log "(1) B -> A: unmarked connections deliver; marked ones stall while B retransmits ($(retrans "$NS_B" "$e4") and $(retrans "$NS_B" "$e6") retransmissions; $(guard_summary "$be"))"

	# (3) up twice, then down.
	fw up --backend "$be" --queue "$TC_QUEUE"
	fw up --backend "$be" --queue "$TC_QUEUE"
	rc=$(fw_status)
	((rc == 0)) || fail "status after up exits $rc, want 0: $(cat "$W/status.out")"
	fw down
	local cmd hook n
	for cmd in iptables ip6tables; do
		for hook in OUTPUT INPUT; do
			n=$(ns_exec "$NS_A" "$cmd" -w -t mangle -S "$hook" | grep -c -e '-j TCPCRYPT_GUARD$' || true)
			if [[ $be == iptables ]]; then
				((n == 1)) || fail "after up, up, down: $n jumps to TCPCRYPT_GUARD in $cmd mangle $hook, want 1"
			else
				((n == 0)) || fail "backend nft: $n jumps to TCPCRYPT_GUARD in $cmd mangle $hook, want 0"
			fi
		done
		n=$(ns_exec "$NS_A" "$cmd" -w -t mangle -S 2>/dev/null | grep -cE 'TCPCRYPT_(OUT|IN)' || true)
		((n == 0)) || fail "after up, up, down: $n $cmd lines still name TCPCRYPT_OUT/TCPCRYPT_IN"
		if [[ $be == iptables ]]; then
			n=$(ns_exec "$NS_A" "$cmd" -w -t mangle -S TCPCRYPT_GUARD | grep -c '^-A' || true)
			((n == 3)) || fail "after up, up, down: $cmd TCPCRYPT_GUARD has $n rules, want 3"
		fi
	done
	if [[ $be == nft ]]; then
		ns_exec "$NS_A" nft list tables >"$W/tables.out"
		n=$(grep -cx 'table inet tcpcrypt_guard' "$W/tables.out" || true)
		((n == 1)) || fail "after up, up, down: $n guard tables, want 1: $(cat "$W/tables.out")"
		! grep -qx 'table inet tcpcrypt' "$W/tables.out" || fail "after up, up, down: table inet tcpcrypt still there"
		ns_exec "$NS_A" nft list table inet tcpcrypt_guard >"$W/guard.out"
		for hook in output input; do
			n=$(grep -c "hook $hook " "$W/guard.out" || true)
			((n == 1)) || fail "after up, up, down: $n guard chains on hook $hook, want 1: $(cat "$W/guard.out")"
		done
		n=$(grep -c 'drop' "$W/guard.out" || true)
		((n == 2)) || fail "after up, up, down: $n drop rules in the guard table, want 2: $(cat "$W/guard.out")"
	fi
	for name in enc4 enc6; do
		! got "$name" B "A2-$name-$tag" || fail "A's bytes on $name reached B after up, up, down"
		! got "$name" A "B2-$name-$tag" || fail "B's bytes on $name reached A after up, up, down"
	done
	log "(3) up, up, down: one guard per hook and family, no queue rules; marked connections still frozen"

	# (2) purge.
	for name in enc4 plain4 enc6 plain6; do
		conn_close "$name"
	done
	fw purge
	[[ -z $(ours_left) ]] || fail "rules of ours left after purge:
$(ours_left)"
	rc=$(fw_status)
	((rc == 3)) || fail "status after purge exits $rc, want 3: $(cat "$W/status.out")"
	! grep -q "guard only" "$W/status.out" || fail "status after purge still reports a guard: $(cat "$W/status.out")"
	log "(2) purge: nothing named tcpcrypt left in iptables-save, ip6tables-save, nft list ruleset; status 3"
}

round iptables 5231
if nft_queue_supported; then
	round nft 5241
else
	log "backend nft not tested: this kernel rejects the nft queue statement (iptables only)"
fi
log "PASS"
