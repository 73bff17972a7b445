#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t17: an active attacker in R (tools/attack on its own NFQUEUE in R's
# FORWARD chain) attacks one connection A -> B that carries a file, one attack
# per case, with fresh daemons on both hosts each time.  A bystander
# connection A -> B on another port runs at the same time and must arrive
# whole and encrypted.  For every case:
#   - B's application receives a prefix of the file (or all of it), never a
#     byte that was not sent; the attacker's 100 bytes appear nowhere;
#   - both daemons keep running and exit 0 on SIGTERM;
#   - the counter that belongs to the attack moved;
#   - no plaintext marker of an encrypted connection is on the wire.
# T17_CASES="flip replay" runs only those cases; TC_ATTACK names the
# attacker binary.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
# The attacker: $TC_ATTACK, or tools/attack in the build tree (also next to
# the daemon given as $TCPCRYPTD).
ATTACK=${TC_ATTACK:-}
if [[ -z $ATTACK ]]; then
	ATTACK=$(tc_find_built tools/attack) || ATTACK="$(dirname "$TC_DAEMON")/tools/attack"
fi
[[ -x $ATTACK ]] ||
	fail "tools/attack is not built (make tools/attack, or set TC_ATTACK)"
topo_setup

AQ=710
AMARK=0x7100
ATTACK_PATTERN="ATTACKER-INJECTED-BYTES"
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/attacked.bin" $((1024 * 1024)) "$marker-ATTACKED"
make_payload "$TC_WORK/bystander.bin" $((2 * 1024 * 1024)) "$marker-BYSTANDER"

# case name | attack mode | family | daemon args | expected outcome
#   whole: the transfer completes intact
#   reset: the connection is reset (client fails), the receiver got a prefix
#   prefix: either of the two (only "no forged byte" is asserted)
CASES=(
	"inject-data|inject-data|4||whole"
	"inject-data6|inject-data|6||whole"
	"forge-fin|forge-fin|4||whole"
	"forge-rst|forge-rst|4||whole"
	"forge-rst6|forge-rst|6||whole"
	"forge-rst-kernel|forge-rst-kernel|4||prefix"
	"forge-rst-kernel-auth|forge-rst-kernel|4|--rst-authenticated|whole"
	"flip|flip|4||whole"
	"flip6|flip|6||whole"
	"replay|replay|4||whole"
	"truncate-mac|truncate-mac|4||whole"
	"dup-eno|dup-eno|4||whole"
	"bad-eno|bad-eno|4||whole"
	"bad-init1|bad-init1|4||reset"
	"trunc-init1|trunc-init1|4||reset"
	"init1-suites|init1-suites|4||prefix"
	"bad-init2|bad-init2|4||whole"
	"trunc-init2|trunc-init2|4||reset"
	"init2-suite|init2-suite|4||reset"
	"zero-key|zero-key|4||reset"
	"zero-key6|zero-key|6||reset"
)

# at_least NS COUNTER N: the counter is at least N.
at_least() {
	local v
	v=$(tc_counter "$1" "$2") || exit 1
	((v >= $3)) || fail "case $CASE: counter $2 in $1 is $v, want >= $3"
	log "case $CASE: $1 $2=$v"
}

# is_prefix FILE SENT: FILE holds the first bytes of SENT (or all of them).
is_prefix() {
	local got=$1 sent=$2 n
	[[ -f $got ]] || return 0	# never accepted: nothing received
	n=$(stat -c %s "$got")
	((n <= $(stat -c %s "$sent"))) || return 1
	cmp -s -n "$n" "$got" "$sent"
}

# finish PID SECONDS: wait for it; kill it (by pid) when it overstays.
# Status in TC_WAIT_RC.
finish() {
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -TERM "$pid" 2>/dev/null || true
	TC_WAIT_RC=0
	wait "$pid" || TC_WAIT_RC=$?
}

run_case() {
	local spec=$1 mode fam dargs expect port bport dst alog apid
	local s1 s2 c1 c2 rc_s1 rc_s2 rc_c1 rc_c2 got byst n rules r
	IFS='|' read -r CASE mode fam dargs expect <<<"$spec"
	port=$((6100 + NCASE))
	bport=$((6500 + NCASE))
	NCASE=$((NCASE + 1))
	if [[ $fam == 6 ]]; then dst=2001:db8:2::1; else dst=198.51.100.1; fi
	got="$TC_WORK/$CASE-recv.bin"
	byst="$TC_WORK/$CASE-bystander.bin"
	log "=== case $CASE: mode $mode, IPv$fam, port $port, bystander $bport${dargs:+, daemons $dargs}"

	# The cases attack the fresh key exchange (Init1, Init2, and the
	# sequence numbers they shift): no resumption, so the attacked
	# connection never resumes from the bystander's.  (A resumed
	# connection shifts nothing: there an RST at the wire's numbers is
	# the forge-rst-kernel case.)
	# shellcheck disable=SC2086  # dargs is a word list on purpose
	tc_start "$NS_A" --no-resumption $dargs
	# shellcheck disable=SC2086
	tc_start "$NS_B" --no-resumption $dargs

	alog="$TC_WORK/$CASE-attack.log"
	ip netns exec "$NS_R" "$ATTACK" --queue "$AQ" --port "$port" --mode "$mode" \
		--mark "$AMARK" -v 2>"$alog" &
	apid=$!
	tc_track "$apid"
	wait_for -m "attack ready in R" grep -q "ready queue=$AQ" "$alog"
	rules=()
	for r in "--dport $port" "--sport $port"; do
		for cmd in iptables ip6tables; do
			# shellcheck disable=SC2206  # r is two words on purpose
			rules+=("$cmd -I FORWARD -p tcp ${r} -m mark ! --mark $AMARK -m comment --comment t17-$CASE -j NFQUEUE --queue-num $AQ")
		done
	done
	for r in "${rules[@]}"; do
		# shellcheck disable=SC2086
		r_rule $r
	done

	cap_start "$CASE"
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$dst" "$port" --recv "$got" --timeout 15 \
		2>"$TC_WORK/$CASE-server.err" &
	s1=$!
	tc_track "$s1"
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$dst" "$bport" --recv "$byst" --timeout 30 \
		2>"$TC_WORK/$CASE-bystander-server.err" &
	s2=$!
	tc_track "$s2"
	wait_listen "$NS_B" "$port"
	wait_listen "$NS_B" "$bport"
	ip netns exec "$NS_A" python3 "$TC_TCPIO" connect "$dst" "$bport" --send "$TC_WORK/bystander.bin" \
		--order send-first --timeout 30 2>"$TC_WORK/$CASE-bystander-client.err" &
	c2=$!
	tc_track "$c2"
	ip netns exec "$NS_A" python3 "$TC_TCPIO" connect "$dst" "$port" --send "$TC_WORK/attacked.bin" \
		--order send-first --timeout 15 2>"$TC_WORK/$CASE-client.err" &
	c1=$!
	tc_track "$c1"

	finish "$c1" 40
	rc_c1=$TC_WAIT_RC
	# a reset connection may leave the server waiting in accept()
	if [[ $expect == whole ]]; then finish "$s1" 20; else finish "$s1" 3; fi
	rc_s1=$TC_WAIT_RC
	finish "$c2" 40
	rc_c2=$TC_WAIT_RC
	finish "$s2" 20
	rc_s2=$TC_WAIT_RC
	cap_stop "$CASE"

	kill -TERM "$apid" 2>/dev/null || true
	wait_pid "$apid" 10 "attack"
	((TC_WAIT_RC == 0)) || fail "case $CASE: attack exited with $TC_WAIT_RC"
	n=$(sed -n 's/^attack done=\([0-9]*\).*/\1/p' "$alog")
	[[ -n $n && $n -ge 1 ]] || fail "case $CASE: the attack was not carried out: $(tail -n 3 "$alog")"
	log "case $CASE: $(grep '^attack done=' "$alog")"
	for r in "${rules[@]}"; do
		# shellcheck disable=SC2086
		r_rule ${r/ -I / -D }
	done

	# Both daemons survived the attack and stop cleanly (exit 0).
	tc_stop "$NS_A"
	tc_stop "$NS_B"

	# The bystander is untouched and encrypted.
	((rc_c2 == 0 && rc_s2 == 0)) ||
		fail "case $CASE: bystander failed (client $rc_c2: $(cat "$TC_WORK/$CASE-bystander-client.err"), server $rc_s2)"
	expect_same_file "$TC_WORK/bystander.bin" "$byst" "case $CASE bystander"
	expect_same_sid "$bport"

	# The receiver never saw a byte that was not sent.
	is_prefix "$got" "$TC_WORK/attacked.bin" ||
		fail "case $CASE: B's application received bytes that A never sent ($(stat -c %s "$got") bytes; first difference: $(cmp "$got" "$TC_WORK/attacked.bin" 2>&1 | head -n 1))"
	if [[ -f $got ]] && grep -q "$ATTACK_PATTERN" "$got"; then
		fail "case $CASE: the attacker's bytes reached B's application"
	fi
	n=0
	[[ -f $got ]] && n=$(stat -c %s "$got")
	log "case $CASE: client status $rc_c1, server status $rc_s1, received $n of $(stat -c %s "$TC_WORK/attacked.bin") bytes, all genuine"
	case $expect in
	whole)
		((rc_c1 == 0 && rc_s1 == 0)) ||
			fail "case $CASE: transfer failed (client $rc_c1: $(cat "$TC_WORK/$CASE-client.err"), server $rc_s1)"
		expect_same_file "$TC_WORK/attacked.bin" "$got" "case $CASE attacked connection"
		;;
	reset)
		((rc_c1 != 0)) || fail "case $CASE: the client finished normally; want the connection reset"
		;;
	esac

	# The wire: the bystander never in clear; the attacked connection in
	# clear only where ENO legitimately fell back (and then visibly so).
	wirecheck absent "$(cap_file "$CASE")" "$marker-BYSTANDER"
	case $mode in
	dup-eno | bad-eno) wirecheck present "$(cap_file "$CASE")" "$marker-ATTACKED" ;;
	*) wirecheck absent "$(cap_file "$CASE")" "$marker-ATTACKED" ;;
	esac

	# The counter that belongs to the attack.
	case $mode in
	inject-data) at_least "$NS_B" mac_fail 2 ;;&
	inject-data | forge-* | flip | replay | truncate-mac)
		# the attacked connection itself was (and stayed) encrypted
		expect_same_sid "$port"
		;;&
	forge-fin)
		at_least "$NS_B" mac_fail 1
		at_least "$NS_A" mac_fail 1
		;;
	forge-rst | forge-rst-kernel)
		if [[ $dargs == *--rst-authenticated* ]]; then
			at_least "$NS_B" mac_fail 1
			at_least "$NS_A" mac_fail 1
		else
			at_least "$NS_B" untagged_rst 1
			at_least "$NS_A" untagged_rst 1
		fi
		;;
	flip | replay | truncate-mac) at_least "$NS_B" mac_fail 1 ;;
	dup-eno | bad-eno)
		at_least "$NS_A" eno_fallback 1
		at_least "$NS_A" plaintext_flows 1
		at_least "$NS_B" plaintext_flows 1
		expect_plaintext "$NS_A" "$port"
		;;
	# zero-key: B aborts before sending Init2; its RST carries the number
	# A's kernel expects, so A's application fails at once.
	bad-init1 | trunc-init1 | zero-key)
		at_least "$NS_B" init_bad 1
		at_least "$NS_B" aborts 1
		;;
	init1-suites)
		# B picked another suite from an Init1 that A never sent; both
		# key schedules hash Init1 as each end has it, so the two ends
		# hold different keys (different session IDs): no tagged
		# segment of A passes B, and not one byte reaches B's
		# application.  A downgrade of the suite choice gains nothing.
		at_least "$NS_B" mac_fail 1
		((rc_c1 != 0)) || fail "case $CASE: the client finished normally"
		[[ ! -s $got ]] || fail "case $CASE: B's application received $(stat -c %s "$got") bytes"
		sa=$(tc_sid "$NS_A" "$port" A) || exit 1
		sb=$(tc_sid "$NS_B" "$port" B) || exit 1
		[[ $sa != "$sb" ]] || fail "case $CASE: both ends derived the same session ID from different Init1s"
		log "case $CASE: session IDs differ: A ${sa:0:16}..., B ${sb:0:16}..."
		;;
	bad-init2)
		# A never parses a segment without the Init2 magic: it drops it
		# as data that arrived before the keys, and B's retransmission
		# of Init2 brings the connection up.
		at_least "$NS_A" no_keys_drop 1
		expect_same_sid "$port"
		;;
	trunc-init2 | init2-suite)
		at_least "$NS_A" init_bad 1
		at_least "$NS_A" aborts 1
		;;
	esac
	log "case $CASE: ok"
}

NCASE=0
ran=0
for spec in "${CASES[@]}"; do
	name=${spec%%|*}
	if [[ -n ${T17_CASES:-} && " $T17_CASES " != *" $name "* ]]; then
		NCASE=$((NCASE + 1))
		continue
	fi
	run_case "$spec"
	ran=$((ran + 1))
done
((ran > 0)) || fail "no case selected (T17_CASES=${T17_CASES:-})"
log "PASS ($ran cases)"
