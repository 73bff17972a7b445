#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t28: cipher suite negotiation (doc/protocol.md sections 4.3 and 11 (m)), checked
# on the wire captured in R.
#   a) A offers only chacha20 (--suites=chacha20), B accepts aes128 and
#      chacha20 and prefers aes128: B takes A's choice.  Init1 on the wire
#      is 75 bytes offering 0x7402 alone, Init2 names 0x7402; tcnetstat on
#      both hosts shows suite chacha20 and generation 0/0 while the
#      connection is open; the data arrives intact both ways and no
#      plaintext marker is on the wire.
#   b) A offers only chacha20, B accepts only aes128: no common suite.  B
#      aborts: the client fails, B's application never gets the connection,
#      B counts no_common_suite 1 and init_bad 1, and not one plaintext byte
#      crosses the wire (never a fallback once ENO is on).
#   c) a SYN offering protocol version 1 (45 05 a0 74 31), sent from a raw
#      socket in A with no daemon there, is another experiment to B: B's
#      SYN-ACK carries no ENO (plaintext), counted in eno_fallback.
#   d) default suites on both hosts: aes128 when this CPU has the AES
#      instructions (the "aes" flag of /proc/cpuinfo), chacha20 otherwise,
#      in tcnetstat and in Init2; A offers both, the preferred one first.
#      (Run before c, whose B is this one.)
# About 10 s.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
FORGE="$TC_NETNS_DIR/forge.py"
topo_setup

A4=192.0.2.1
B4=198.51.100.1
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/up.bin" $((512 * 1024)) "$marker-UP"
make_payload "$TC_WORK/down.bin" $((512 * 1024)) "$marker-DOWN"
if grep -qw aes /proc/cpuinfo; then
	DEFAULT_SUITE=aes128
	DEFAULT_OFFER=7403,7402
else
	DEFAULT_SUITE=chacha20
	DEFAULT_OFFER=7402,7403
fi
# tsv_field NS PORT FIELD: FIELD (by its name in the header) of the
# connection with PORT as local or remote port, from tcnetstat --tsv.
tsv_field() {
	ns_exec "$1" "$TCNETSTAT" -S "${TC_DSOCK[$1]}" --tsv | awk -F'\t' -v p=":$2" -v f="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		(substr($1, length($1) - length(p) + 1) == p || substr($2, length($2) - length(p) + 1) == p) {
			if (!(f in col)) { print "no-column-" f; exit }
			print $(col[f]); exit
		}'
}

# expect_suite NS PORT SUITE: tcnetstat in NS shows the open connection on
# PORT encrypted with SUITE, at generation 0 both ways.
expect_suite() {
	local ns=$1 port=$2 want=$3 st su gen
	st=$(tsv_field "$ns" "$port" state)
	su=$(tsv_field "$ns" "$port" suite)
	gen=$(tsv_field "$ns" "$port" gen)
	[[ $st == encrypted && $su == "$want" && $gen == 0/0 ]] ||
		fail "tcnetstat in $ns for port $port: state '$st' suite '$su' gen '$gen', want encrypted $want 0/0:
$(ns_exec "$ns" "$TCNETSTAT" -S "${TC_DSOCK[$ns]}" --tsv)"
	log "tcnetstat in $ns: port $port encrypted, suite $su, gen $gen"
}

# held_transfer PORT: A connects from source port PORT+30000 to B:PORT,
# sends half of up.bin and stops until the test opens the gate; B sends
# down.bin once A has sent everything.  Returns with the connection open.
held_transfer() {
	local port=$1
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$B4" "$port" --recv "$TC_WORK/up-$port.bin" \
		--send "$TC_WORK/down.bin" --order recv-first --timeout 30 2>"$TC_WORK/server-$port.err" &
	SPID=$!
	tc_track "$SPID"
	wait_listen "$NS_B" "$port"
	ip netns exec "$NS_A" python3 "$FORGE" client "$B4" "$port" --sport $((port + 30000)) \
		--send "$TC_WORK/up.bin" --recv "$TC_WORK/down-$port.bin" \
		--ready "$TC_WORK/ready-$port" --gate "$TC_WORK/gate-$port" 2>"$TC_WORK/client-$port.err" &
	CPID=$!
	tc_track "$CPID"
	wait_for -m "A's client on port $port half way" test -f "$TC_WORK/ready-$port"
}

# finish_transfer PORT: open the gate; both directions arrive intact.
finish_transfer() {
	local port=$1
	touch "$TC_WORK/gate-$port"
	wait_pid "$CPID" 30 "client on port $port"
	((TC_WAIT_RC == 0)) || fail "client on port $port failed: $(cat "$TC_WORK/client-$port.err")"
	wait_pid "$SPID" 30 "server on port $port"
	((TC_WAIT_RC == 0)) || fail "server on port $port failed: $(cat "$TC_WORK/server-$port.err")"
	expect_same_file "$TC_WORK/up.bin" "$TC_WORK/up-$port.bin" "port $port A -> B"
	expect_same_file "$TC_WORK/down.bin" "$TC_WORK/down-$port.bin" "port $port B -> A"
}

# expect_inits PCAP PORT INIT1_LEN SUITES INIT2_SUITE: the Init messages of
# the connection to PORT, as wirecheck inits prints them.
expect_inits() {
	local pcap=$1 port=$2 len=$3 suites=$4 chosen=$5 out
	out=$(python3 "$TC_WIRECHECK" inits "$pcap") || fail "wirecheck inits failed: $out"
	grep -qxE "Init1 [0-9.]+:[0-9]+ -> [0-9.]+:$port len=$len suites=$suites" <<<"$out" ||
		fail "want Init1 to port $port of $len bytes offering $suites; the wire has:
$out"
	if [[ -n $chosen ]]; then
		grep -qxE "Init2 [0-9.]+:$port -> [0-9.]+:[0-9]+ len=74 suite=$chosen" <<<"$out" ||
			fail "want Init2 from port $port naming $chosen; the wire has:
$out"
	elif grep -qE "^Init2 [0-9.]+:$port " <<<"$out"; then
		fail "B answered the Init1 to port $port with an Init2: $out"
	fi
	log "port $port on the wire: Init1 $len bytes offering $suites${chosen:+, Init2 chose $chosen}"
}

# --- a) A offers chacha20 only; B prefers aes128 but takes A's choice ---------
tc_start "$NS_A" --suites=chacha20
tc_start "$NS_B" --suites=aes128,chacha20
cap_start a
held_transfer 5281
expect_suite "$NS_A" 5281 chacha20
expect_suite "$NS_B" 5281 chacha20
finish_transfer 5281
cap_stop a
tc_stop "$NS_A"
expect_counter "$NS_A" suite_chacha20 1
expect_counter "$NS_A" suite_aes128 0
expect_counter "$NS_A" mac_fail 0
pcap=$(cap_file a)
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"
expect_inits "$pcap" 5281 75 7402 7402
expect_same_sid 5281

# --- b) no common suite: B aborts, nothing in clear ---------------------------
tc_stop "$NS_B"
expect_counter "$NS_B" suite_chacha20 1
expect_counter "$NS_B" mac_fail 0
tc_start "$NS_A" --suites=chacha20
tc_start "$NS_B" --suites=aes128
cap_start b
ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$B4" 5282 --recv "$TC_WORK/up-5282.bin" \
	--timeout 30 2>"$TC_WORK/server-5282.err" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5282
rc=0
ns_exec "$NS_A" timeout 30 python3 "$TC_TCPIO" connect "$B4" 5282 --send "$TC_WORK/up.bin" \
	--order send-first --timeout 20 2>"$TC_WORK/client-5282.err" || rc=$?
((rc != 0 && rc != 124)) ||
	fail "client without a common suite: status $rc (want a failure, not success or a hang): $(cat "$TC_WORK/client-5282.err")"
grep -qiE "reset|broken pipe" "$TC_WORK/client-5282.err" ||
	fail "client without a common suite: want a reset, got: $(cat "$TC_WORK/client-5282.err")"
log "client without a common suite failed at once: $(tail -n 1 "$TC_WORK/client-5282.err")"
cap_stop b
# B's application never got the connection (its kernel's half-open
# connection was reset with it).
tc_listening "$NS_B" 5282 || fail "B's server is no longer listening: it accepted the aborted connection"
[[ ! -s $TC_WORK/up-5282.bin ]] || fail "B's application received $(stat -c %s "$TC_WORK/up-5282.bin") bytes"
kill -TERM "$spid" 2>/dev/null || true
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_B" no_common_suite 1
expect_counter "$NS_B" init_bad 1
expect_counter "$NS_B" encrypted_flows 0
expect_counter "$NS_A" encrypted_flows 0
expect_counter "$NS_B" plaintext_flows 0
expect_counter "$NS_A" plaintext_flows 0
pcap=$(cap_file b)
wirecheck syn-has-eno "$pcap"
wirecheck absent "$pcap" "$marker"
expect_inits "$pcap" 5282 75 7402 ""
if grep -E "plaintext" "${TC_DLOG[$NS_B]}" "${TC_DLOG[$NS_A]}" | grep -qE "[^0-9]5282([^0-9]|$)"; then
	fail "a daemon logged the connection to port 5282 as plaintext"
fi

# --- d) default suites: the CPU decides -----------------------------------------
tc_start "$NS_A"
tc_start "$NS_B"
want_list=$DEFAULT_SUITE,chacha20
[[ $DEFAULT_SUITE == aes128 ]] || want_list=chacha20,aes128
grep -q "cipher suites: $want_list\$" "${TC_DLOG[$NS_A]}" ||
	fail "A's daemon does not log 'cipher suites: $want_list' at start: $(grep -i suite "${TC_DLOG[$NS_A]}")"
cap_start d
held_transfer 5284
expect_suite "$NS_A" 5284 "$DEFAULT_SUITE"
expect_suite "$NS_B" 5284 "$DEFAULT_SUITE"
finish_transfer 5284
cap_stop d
tc_stop "$NS_A"
expect_counter "$NS_A" "suite_$DEFAULT_SUITE" 1
pcap=$(cap_file d)
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"
expect_inits "$pcap" 5284 77 "$DEFAULT_OFFER" "${DEFAULT_OFFER%%,*}"

# --- c) a version 1 offer gets plaintext from B -------------------------------
# No daemon on A now: A's kernel answers B's SYN-ACK with a RST.
ip netns exec "$NS_B" socat -u TCP4-LISTEN:5283,reuseaddr /dev/null &
tc_track $!
wait_listen "$NS_B" 5283
cap_start c
ns_exec "$NS_A" python3 "$FORGE" syn --src "$A4:45283" --dst "$B4:5283" --seq 1000 \
	--eno 4505a07431 >"$TC_WORK/forge-c.out" || fail "forge.py syn failed"
wait_for -m "B's SYN-ACK to the version 1 SYN" \
	bash -c "tcpdump -r '$(cap_file c)' -n 'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack != 0 and src port 5283' 2>/dev/null | grep -q ."
cap_stop c
out=$(python3 "$TC_WIRECHECK" eno-options "$(cap_file c)")
grep -qx "SYN $A4:45283 -> $B4:5283 4505a07431" <<<"$out" || fail "the version 1 SYN is not on the wire as sent: $out"
grep -qx "SYN-ACK $B4:5283 -> $A4:45283 -" <<<"$out" || fail "B's SYN-ACK to a version 1 offer carries ENO: $out"
log "version 1 offer: B's SYN-ACK without ENO"
tc_stop "$NS_B"
expect_counter "$NS_B" eno_fallback 1
expect_counter "$NS_B" suite_"$DEFAULT_SUITE" 1
expect_plaintext "$NS_B" 45283
log "PASS"
