#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t26: a blind attacker in R forges single packets of one connection A -> B.
# It knows the 4-tuple (the client binds a fixed source port, as if the
# attacker guessed it) but no sequence number: forge.py sends from a raw
# socket with A's or B's address and random numbers, while the transfer runs
# (the client sends half a file, waits for the forgeries, sends the rest; B
# answers with a file of its own).  For every case:
#   - not one byte of either file's marker is on the wire in clear;
#   - every segment of the encrypted connection carries the MAC option;
#   - both files arrive intact (or, where the case allows a refusal, the
#     receiver got nothing but a prefix of what was sent);
#   - both daemons keep running and exit 0.
# Forged packets carry TTL / hop limit 7, which tells them apart in the
# capture in R; the wire checks look at the genuine packets only.
# T26_CASES="syn-eno synack" runs only those cases; T26_DRY=1 runs them
# without the forgeries (the control: the harness itself passes).
. "$(dirname "$0")/lib.sh"
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
topo_setup

FORGE="$TC_NETNS_DIR/forge.py"
A4=192.0.2.1
B4=198.51.100.1
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/up.bin" $((256 * 1024)) "$marker-UP"
make_payload "$TC_WORK/down.bin" $((128 * 1024)) "$marker-DOWN"
declare -A CTL=()

# start NS [ARGS...]: tc_start, remembering the control socket.
start() {
	tc_start "$@"
	CTL[$1]="$TC_WORK/ctl-$TC_DSEQ.sock"
}

# live NS NAME: a counter of the running daemon.
live() {
	ns_exec "$1" "$TCNETSTAT" -S "${CTL[$1]}" -s | awk -v n="$2" '$1 == n || $1 == n":" { print $2 }'
}

# at_least_live NS NAME N: poll predicate.
at_least_live() {
	local v
	v=$(live "$1" "$2")
	[[ -n $v ]] && ((v >= $3))
}

# rule_hit CMD COMMENT: the R rule with COMMENT matched a packet.
rule_hit() { (($(r_pkts iptables filter FORWARD "$1") >= 1)); }

# forge NS_TARGET KIND ARGS...: forge in R, then wait until the target's
# daemon has seen that many more incoming segments.
forge() {
	local target=$1 before n
	shift
	if [[ -n ${T26_DRY:-} ]]; then
		log "case $CASE: T26_DRY: not sending $*"
		return 0
	fi
	# an unparseable segment counts as malformed, not as received
	local ctr=packets_in
	[[ $1 == trunc ]] && ctr=malformed
	before=$(live "$target" "$ctr")
	ns_exec "$NS_R" python3 "$FORGE" "$@" >>"$TC_WORK/$CASE-forge.log" ||
		fail "case $CASE: forge.py $* failed"
	n=$(grep -c '^sent' "$TC_WORK/$CASE-forge.log")
	log "case $CASE: forged $* (total $n)"
	# (Segments of a connection the daemon passed as plaintext no longer
	# reach it; the checks at the end of the case find that out.)
	local deadline=$(($(date +%s) + 5))
	until at_least_live "$target" "$ctr" $((before + 1)); do
		if (($(date +%s) > deadline)); then
			log "case $CASE: the daemon in $target never saw them"
			return 0
		fi
		sleep 0.05
	done
}

# begin [a|b]: daemons (policy private for PORT on the host named),
# capture, server in B.
begin() {
	local priv=(--policy "private port $PORT")
	GATE="$TC_WORK/$CASE.gate"
	READY="$TC_WORK/$CASE.ready"
	if [[ ${1:-} == a ]]; then start "$NS_A" "${priv[@]}"; else start "$NS_A"; fi
	if [[ ${1:-} == b ]]; then start "$NS_B" "${priv[@]}"; else start "$NS_B"; fi
	cap_start "$CASE"
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$B4" "$PORT" --recv "$TC_WORK/$CASE-up.bin" \
		--send "$TC_WORK/down.bin" --order recv-first --timeout "${SRV_TIMEOUT:-20}" \
		2>"$TC_WORK/$CASE-server.err" &
	SPID=$!
	tc_track "$SPID"
	wait_listen "$NS_B" "$PORT"
}

# The client pauses a little before the middle marker, so the marker is
# among the first bytes sent after the forgeries.
SPLIT=$(($(grep -boa -- "$marker-UP-MIDDLE" "$TC_WORK/up.bin" | head -n 1 | cut -d: -f1) - 1000))
client() {
	ip netns exec "$NS_A" timeout 40 python3 "$FORGE" client "$B4" "$PORT" --sport "$CPORT" \
		--timeout "${CLI_TIMEOUT:-20}" --split "$SPLIT" --send "$TC_WORK/up.bin" --recv "$TC_WORK/$CASE-down.bin" --gate "$GATE" --ready "$READY" \
		2>"$TC_WORK/$CASE-client.err" &
	CPID=$!
	tc_track "$CPID"
}

# encrypted_both: client under way, both daemons call it encrypted.
encrypted_both() {
	wait_for -m "client sent its first half" test -e "$READY"
	wait_for -m "A calls port $CPORT encrypted" grep -q "encrypted .*$CPORT" "${TC_DLOG[$NS_A]}"
	wait_for -m "B calls port $CPORT encrypted" grep -q "encrypted .*$CPORT" "${TC_DLOG[$NS_B]}"
}

# finish whole|refusable: wait for both ends, stop everything, check.
finish() {
	local expect=$1 rc_c rc_s pcap wire
	touch "$GATE"
	wait_pid "$CPID" 45 "client"
	rc_c=$TC_WAIT_RC
	wait_pid "$SPID" 30 "server"
	rc_s=$TC_WAIT_RC
	cap_stop "$CASE"
	tc_stop "$NS_A"
	tc_stop "$NS_B"
	log "case $CASE: client status $rc_c, server status $rc_s"
	pcap=$(cap_file "$CASE")
	wire="$TC_WORK/$CASE-genuine.pcap"
	tcpdump -r "$pcap" -w "$wire" 'not ((ip and ip[8] == 7) or (ip6 and ip6[7] == 7))' 2>/dev/null ||
		fail "case $CASE: cannot filter the capture"
	# Neither daemon ever let the connection go plaintext.
	local ns
	for ns in "$NS_A" "$NS_B"; do
		! grep -E "plaintext .*:$CPORT( |$)" "${TC_DLOG[$ns]}" ||
			fail "case $CASE: the daemon in $ns let the connection fall back to plaintext"
	done
	if [[ $expect == refusable && $rc_c != 0 ]] && python3 "$TC_WIRECHECK" no-payload "$wire" "$PORT" >/dev/null 2>&1; then
		log "case $CASE: refused before any payload crossed the wire"
	else
		wirecheck absent "$wire" "$marker-UP" "$marker-DOWN"
	fi
	if [[ $expect == whole || $rc_c == 0 ]]; then
		if [[ -n ${MAC_FILTER:-} ]]; then
			tcpdump -r "$wire" -w "$wire.mac" "not ($MAC_FILTER)" 2>/dev/null
			wire="$wire.mac"
		fi
		wirecheck data-has-mac "$wire"
		((rc_c == 0 && rc_s == 0)) ||
			fail "case $CASE: transfer failed (client $rc_c: $(cat "$TC_WORK/$CASE-client.err"), server $rc_s: $(cat "$TC_WORK/$CASE-server.err"))"
		expect_same_file "$TC_WORK/up.bin" "$TC_WORK/$CASE-up.bin" "case $CASE A -> B"
		expect_same_file "$TC_WORK/down.bin" "$TC_WORK/$CASE-down.bin" "case $CASE B -> A"
		expect_same_sid "$CPORT"
	else
		# refused: the receiver got at most a prefix of what was sent
		local got="$TC_WORK/$CASE-up.bin" n
		if [[ -f $got ]]; then
			n=$(stat -c %s "$got")
			cmp -s -n "$n" "$got" "$TC_WORK/up.bin" ||
				fail "case $CASE: B's application received $n bytes that A's application never sent"
		fi
		log "case $CASE: refused (client $rc_c), B's application got ${n:-0} genuine bytes"
	fi
	log "case $CASE: ok"
}

# --- cases ---------------------------------------------------------------

# A forged SYN from "B" to A's established client socket, with TCP-ENO and
# without: A's flow keeps its role and keys, and A's kernel's challenge ACK
# is sealed like every other segment.
case_syn_eno() {
	begin
	client
	encrypted_both
	forge "$NS_A" syn --src "$B4:$PORT" --dst "$A4:$CPORT" --eno 4505a07432
	finish whole
}

case_syn_plain() {
	begin
	client
	encrypted_both
	forge "$NS_A" syn --src "$B4:$PORT" --dst "$A4:$CPORT"
	finish whole
}

# delay_synack: R drops B's SYN-ACKs until the test lifts the rule.
delay_synack() {
	r_rule iptables -I FORWARD -p tcp -s "$B4" --sport "$PORT" --tcp-flags SYN,ACK SYN,ACK \
		-m comment --comment "t26-$CASE" -j DROP
	client
	wait_for -m "R dropped B's SYN-ACK" rule_hit "t26-$CASE"
}
lift() { r_rule iptables -D FORWARD "$@" -m comment --comment "t26-$CASE" -j DROP; }

# Policy private on A; a forged SYN reaches A while it is in SYN_SENT.  The
# connection is encrypted or refused, never in clear.
case_private_synsent() {
	begin a
	delay_synack
	forge "$NS_A" syn --src "$B4:$PORT" --dst "$A4:$CPORT"
	lift -p tcp -s "$B4" --sport "$PORT" --tcp-flags SYN,ACK SYN,ACK
	finish refusable
}

# Forged SYN-ACKs without ENO while A is in SYN_SENT (ACK numbers a quarter
# of the space apart, then a random one): A's kernel resets each of them,
# and the real SYN-ACK still negotiates.
case_synack() {
	begin
	delay_synack
	forge "$NS_A" synack --src "$B4:$PORT" --dst "$A4:$CPORT" --count 4 --ack-step 0x40000000
	forge "$NS_A" synack --src "$B4:$PORT" --dst "$A4:$CPORT"
	lift -p tcp -s "$B4" --sport "$PORT" --tcp-flags SYN,ACK SYN,ACK
	# A's kernel answered the forgeries with RSTs before any key existed
	MAC_FILTER="tcp[13] & 4 != 0 and src host $A4" finish whole
}

# Forged bare ACKs from "A" to B after B took Init1 but before A's first
# tagged segment arrived (R drops A's tagged segments until then).
case_acks_before_tag() {
	begin
	r_rule iptables -I FORWARD -p tcp -s "$A4" --sport "$CPORT" --tcp-option 253 \
		-m comment --comment "t26-$CASE" -j DROP
	client
	wait_for -m "R dropped A's first tagged segment" rule_hit "t26-$CASE"
	forge "$NS_B" ack --src "$A4:$CPORT" --dst "$B4:$PORT" --count 4 --seq-step 0x40000000
	forge "$NS_B" ack --src "$A4:$CPORT" --dst "$B4:$PORT" --count 4 --seq-step 0x40000000 --eno 45020101
	lift -p tcp -s "$A4" --sport "$CPORT" --tcp-option 253
	finish whole
}

# A forged ACK without ENO reaches B after its SYN-ACK, before A's first
# non-SYN segment (R holds back everything A sends after its SYN).
ack_after_synack() {
	r_rule iptables -I FORWARD -p tcp -s "$A4" --sport "$CPORT" --tcp-flags SYN NONE \
		-m comment --comment "t26-$CASE" -j DROP
	client
	wait_for -m "R dropped A's third segment" rule_hit "t26-$CASE"
	forge "$NS_B" ack --src "$A4:$CPORT" --dst "$B4:$PORT" --count 4 --seq-step 0x40000000 --ack-step 0x40000000
	lift -p tcp -s "$A4" --sport "$CPORT" --tcp-flags SYN NONE
	finish whole
}
case_ack_no_eno() {
	begin
	ack_after_synack
}
case_ack_no_eno_private() {
	begin b
	ack_after_synack
}

# Policy private on B; B's daemon loses the flow while the key exchange is
# under way (Init1 held back in R, daemon restarted without a state file).
# The rest of the connection is dropped or reset, never passed in clear.
case_lost_kx() {
	local SRV_TIMEOUT=8 CLI_TIMEOUT=8
	begin b
	r_rule iptables -I FORWARD -p tcp -s "$A4" --sport "$CPORT" -m length --length 100:65535 \
		-m comment --comment "t26-$CASE" -j DROP
	client
	wait_for -m "R dropped A's Init1" rule_hit "t26-$CASE"
	tc_stop "$NS_B"
	start "$NS_B" --policy "private port $PORT" --state-file none
	lift -p tcp -s "$A4" --sport "$CPORT" -m length --length 100:65535
	finish refusable
}

# Unparseable packets during the transfer: a segment in two IPv4 fragments
# and a TCP header that claims more options than the packet holds, to both
# hosts.  They are counted and change nothing.
case_malformed() {
	begin
	client
	encrypted_both
	forge "$NS_A" frag --src "$B4:$PORT" --dst "$A4:$CPORT" --payload "FORGED-FRAGMENT-BYTES-$marker"
	forge "$NS_A" trunc --src "$B4:$PORT" --dst "$A4:$CPORT"
	forge "$NS_B" frag --src "$A4:$CPORT" --dst "$B4:$PORT" --payload "FORGED-FRAGMENT-BYTES-$marker"
	forge "$NS_B" trunc --src "$A4:$CPORT" --dst "$B4:$PORT"
	finish whole
	grep -q "FORGED-FRAGMENT" "$TC_WORK/$CASE-up.bin" "$TC_WORK/$CASE-down.bin" &&
		fail "case $CASE: forged bytes reached an application"
	[[ -z ${T26_DRY:-} ]] || return 0
	local ns v
	for ns in "$NS_A" "$NS_B"; do
		v=$(tc_counter "$ns" malformed)
		((v >= 1)) || fail "case $CASE: counter malformed in $ns is $v, want >= 1"
	done
	log "case $CASE: malformed A=$(tc_counter "$NS_A" malformed) B=$(tc_counter "$NS_B" malformed)"
}

CASES=(syn-eno syn-plain private-synsent synack acks-before-tag ack-no-eno ack-no-eno-private
	lost-kx malformed)
NCASE=0
ran=0
for CASE in "${CASES[@]}"; do
	NCASE=$((NCASE + 1))
	PORT=$((7100 + NCASE))
	CPORT=$((41000 + NCASE))
	if [[ -n ${T26_CASES:-} && " $T26_CASES " != *" $CASE "* ]]; then
		continue
	fi
	log "=== case $CASE"
	"case_${CASE//-/_}"
	ran=$((ran + 1))
done
((ran > 0)) || fail "no case selected (T26_CASES=${T26_CASES:-})"
log "PASS ($ran cases)"
