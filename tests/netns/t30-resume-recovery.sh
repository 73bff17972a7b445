#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t30: session resumption (doc/protocol.md section 13) when something goes
# wrong.  Every connection carries a payload each way with a plaintext
# marker, compared by sha256 at the far end; the marker is never on the
# wire (captures in R); the kind of each connection (fresh, declined offer,
# resumed) is read from its SYN and SYN-ACK in the capture, and its
# segments follow the tag rules of that kind.
#   a) B restarted between two connections: B has no secrets any more, so
#      it declines A's next offer (resume_declined 1 on both hosts), the
#      connection runs a fresh exchange and is intact, and the one after
#      it is resumed again.
#   c) B's window exceeded: after a fresh connection, five attempts whose
#      offering SYNs are dropped in R (each uses up one secret of A's
#      chain); the next offer is beyond B's window of four and declined,
#      the exchange is fresh and intact.  With only three lost attempts
#      the next connection is still resumed.
#   d) a replayed offer: A's SYN of a resumed connection, captured in R,
#      sent to B again from R once that connection is over: B declines it
#      (its SYN-ACK carries 45 06 01 a0 74 32), resume_accepted unchanged;
#      the same offer option in a SYN from another port is declined too.
#   e) kill -9 of B's daemon in the middle of a transfer on a resumed
#      connection: restarted with its state file it adopts the flow and
#      the transfer completes intact; restarted without one, both ends are
#      reset.  Never a plaintext byte on the wire.
#   b) A's entry expired (A with --resume-lifetime=2): its resume_entries
#      gauge falls to 0 and its next SYN has the fresh form.
# About 30 s.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
RW="$TC_NETNS_DIR/resumewire.py"
IO="$TC_NETNS_DIR/restartio.py"
topo_setup

B4=198.51.100.1
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/up.bin" $((192 * 1024)) "$marker-UP"
make_payload "$TC_WORK/down.bin" $((64 * 1024)) "$marker-DOWN"
# snap NS NAME...: remember the daemon's counters as BASE[NS:NAME].
declare -A BASE=()
snap() {
	local ns=$1 n
	shift
	for n in "$@"; do BASE[$ns:$n]=$(tc_live "$ns" "$n") || exit 1; done
}

# defer MESSAGE: a failed check after which the later cases can still run;
# the test fails at the end with every such message.
DEFERRED=()
defer() {
	echo "FAIL (reported at the end): $TC_TEST: $*" >&2
	DEFERRED+=("$*")
}

# expect_delta NS NAME N: the counter moved by exactly N since snap.
expect_delta() {
	local ns=$1 name=$2 want=$3 got base
	got=$(tc_live "$ns" "$name") || exit 1
	base=${BASE[$ns:$name]}
	((got - base == want)) ||
		fail "$CASE: $name in $ns went from ${BASE[$ns:$name]} to $got, want +$want"
}

# conn PORT: one connection A -> B:PORT, up.bin up and down.bin down,
# both compared by sha256.
conn() {
	local port=$1 spid
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$B4" "$port" --recv "$TC_WORK/up-$port.bin" \
		--send "$TC_WORK/down.bin" --order recv-first --timeout 20 2>"$TC_WORK/server-$port.err" &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	ns_exec "$NS_A" timeout 30 python3 "$TC_TCPIO" connect "$B4" "$port" --send "$TC_WORK/up.bin" \
		--recv "$TC_WORK/down-$port.bin" --order send-first --timeout 20 2>"$TC_WORK/client-$port.err" ||
		fail "$CASE: client to port $port failed: $(cat "$TC_WORK/client-$port.err")"
	wait_pid "$spid" 20 "server on port $port"
	((TC_WAIT_RC == 0)) || fail "$CASE: server on port $port failed: $(cat "$TC_WORK/server-$port.err")"
	expect_same_file "$TC_WORK/up.bin" "$TC_WORK/up-$port.bin" "$CASE: port $port A -> B"
	expect_same_file "$TC_WORK/down.bin" "$TC_WORK/down-$port.bin" "$CASE: port $port B -> A"
}

# lost_attempt PORT: a connection attempt whose SYN R drops; the client
# gives up after 0.4 s (before the kernel's first retransmission).
lost_attempt() {
	ns_exec "$NS_A" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=0.4)
except (socket.timeout, TimeoutError):
    sys.exit(0)
sys.exit("connected or refused although the SYN should be dropped")
' "$B4" "$1" || fail "$CASE: the attempt to port $1 did not time out"
}

# kx_of CAP PORT: the resumewire kx lines of the connections to PORT.
kx_of() {
	python3 "$RW" kx "$(cap_file "$1")" "$2" || fail "resumewire kx $1 $2 failed"
}

# expect_kx CAP PORT KIND: exactly one connection to PORT in capture CAP,
# of KIND (fresh, declined, resumed), every segment tagged as KIND wants.
expect_kx() {
	local cap=$1 port=$2 want=$3 out
	out=$(kx_of "$cap" "$port") || exit 1
	[[ $(grep -c . <<<"$out") -eq 1 ]] || fail "$CASE: want one connection to port $port in capture $cap, got:
${out:-nothing}"
	read -r _ kind untagged _ <<<"$out"
	[[ $kind == "$want" ]] || fail "$CASE: connection to port $port is '$kind', want $want: $out"
	[[ $untagged == untagged=0 ]] || fail "$CASE: connection to port $port ($kind) breaks the tag rules: $out"
	log "$CASE: port $port: $out"
}

# tsv_kx NS PORT: the Kx column of tcnetstat --tsv for the flow with PORT.
tsv_kx() {
	ns_exec "$1" "$TCNETSTAT" -S "${TC_DSOCK[$1]}" --tsv | awk -F'\t' -v p=":$2" '
		NR == 1 { for (i = 1; i <= NF; i++) col[tolower($i)] = i; next }
		(substr($1, length($1) - length(p) + 1) == p || substr($2, length($2) - length(p) + 1) == p) {
			if (!("kx" in col)) { print "no-kx-column"; exit }
			print $(col["kx"]); exit
		}'
}

tc_start "$NS_A"
tc_start "$NS_B"

# --- a) B restarted: it declines, the exchange is fresh, then resumed ---------
CASE=a
cap_start a
conn 5301
conn 5302
tc_stop "$NS_B"
expect_counter "$NS_B" resume_accepted 1
expect_counter "$NS_B" resume_declined 0
tc_start "$NS_B"
snap "$NS_A" resume_offered resume_accepted resume_declined
conn 5303
expect_delta "$NS_A" resume_offered 1
expect_delta "$NS_A" resume_declined 1
expect_delta "$NS_A" resume_accepted 0
[[ $(tc_live "$NS_B" resume_declined) == 1 ]] || fail "a: B's new daemon counts resume_declined $(tc_live "$NS_B" resume_declined), want 1"
[[ $(tc_live "$NS_B" resume_accepted) == 0 ]] || fail "a: B's new daemon counts resume_accepted $(tc_live "$NS_B" resume_accepted), want 0"
conn 5304
[[ $(tc_live "$NS_B" resume_accepted) == 1 ]] || fail "a: B's new daemon counts resume_accepted $(tc_live "$NS_B" resume_accepted), want 1 after port 5304"
cap_stop a
expect_kx a 5301 fresh
expect_kx a 5302 resumed
expect_kx a 5303 declined
expect_kx a 5304 resumed
wirecheck syn-has-eno "$(cap_file a)"
wirecheck absent "$(cap_file a)" "$marker"

# --- c) B's window of four exceeded by five lost offers -----------------------
CASE=c
# A restarted has no entry: its next connection is fresh, and gives A a new
# chain ss[1..] and B a window ss[1..4].
tc_stop "$NS_A"
expect_counter "$NS_A" resume_offered 3
expect_counter "$NS_A" resume_accepted 2
expect_counter "$NS_A" resume_declined 1
expect_counter "$NS_A" resume_aborted 0
tc_start "$NS_A"
cap_start c
conn 5310
snap "$NS_A" resume_offered resume_accepted resume_declined
snap "$NS_B" resume_accepted resume_declined
r_rule iptables -I FORWARD -i eth-a -p tcp --dport 5311 --tcp-flags SYN,ACK SYN \
	-m comment --comment t30-lost-syn -j DROP
for _ in 1 2 3 4 5; do lost_attempt 5311; done
ns_exec "$NS_R" iptables -D FORWARD -i eth-a -p tcp --dport 5311 --tcp-flags SYN,ACK SYN \
	-m comment --comment t30-lost-syn -j DROP
conn 5312
expect_delta "$NS_A" resume_offered 6
expect_delta "$NS_A" resume_declined 1
expect_delta "$NS_A" resume_accepted 0
expect_delta "$NS_B" resume_declined 1
expect_delta "$NS_B" resume_accepted 0
# 5312's fresh exchange started a new chain: three lost offers stay
# inside B's window, the fourth secret is accepted.
snap "$NS_A" resume_offered resume_accepted
snap "$NS_B" resume_accepted resume_declined
r_rule iptables -I FORWARD -i eth-a -p tcp --dport 5313 --tcp-flags SYN,ACK SYN \
	-m comment --comment t30-lost-syn3 -j DROP
for _ in 1 2 3; do lost_attempt 5313; done
conn 5314
expect_delta "$NS_A" resume_offered 4
expect_delta "$NS_A" resume_accepted 1
expect_delta "$NS_B" resume_accepted 1
expect_delta "$NS_B" resume_declined 0
cap_stop c
expect_kx c 5310 fresh
expect_kx c 5312 declined
expect_kx c 5314 resumed
# The lost attempts: each offered its own secret (distinct R_A), none of
# them answered, and the declined offer's R_A is none of them.
lost=$(kx_of c 5311)
[[ $(grep -c ' lost ' <<<"$lost") -eq 5 ]] || fail "c: want 5 lost offers to port 5311, got:
$lost"
[[ $(grep -oE 'ra=[0-9a-f]{18}' <<<"$lost" | sort -u | grep -c .) -eq 5 ]] ||
	fail "c: the 5 lost offers do not carry 5 distinct R_A values:
$lost"
ra12=$(kx_of c 5312 | grep -oE 'ra=[0-9a-f]{18}')
! grep -q "$ra12" <<<"$lost" || fail "c: the declined offer repeats a lost R_A ($ra12)"
lost3=$(kx_of c 5313)
[[ $(grep -c ' lost ' <<<"$lost3") -eq 3 ]] || fail "c: want 3 lost offers to port 5313, got:
$lost3"
log "c: 5 lost offers then declined (${ra12}); 3 lost offers then resumed"
wirecheck syn-has-eno "$(cap_file c)"
wirecheck absent "$(cap_file c)" "$marker"

# --- d) a replayed offer is declined -------------------------------------------
CASE=d
cap_start d1
conn 5320
cap_stop d1
expect_kx d1 5320 resumed
sport1=$(kx_of d1 5320 | cut -d' ' -f1)
offer1=$(kx_of d1 5320 | grep -oE 'syn=[0-9a-f]{36}' | cut -d= -f2)
syn1=$(python3 "$RW" syn "$(cap_file d1)" 5320 "$TC_WORK/syn-5320.bin") || fail "d: no offering SYN to 5320 in the capture"
# B's kernel answers the replay from its listener (A's side of that port
# pair is in TIME_WAIT, B's is closed); R keeps the SYN-ACKs from A.
ip netns exec "$NS_B" socat -u TCP4-LISTEN:5320,reuseaddr /dev/null &
tc_track $!
wait_listen "$NS_B" 5320
r_rule iptables -I FORWARD -i eth-b -p tcp --sport 5320 --tcp-flags SYN,ACK SYN,ACK \
	-m comment --comment t30-replay-synack -j DROP
cap_start d2 eth-b
# synack_seen PORT: B's SYN-ACK to A's port PORT is in the capture d2.
synack_seen() {
	tcpdump -r "$(cap_file d2)" -n "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack != 0 and src port 5320 and dst port $1" 2>/dev/null | grep -q .
}
# (d1) the very same bytes: IP header and TCP segment as A sent them
snap "$NS_B" resume_accepted resume_declined
ns_exec "$NS_R" python3 "$RW" send "$TC_WORK/syn-5320.bin" >/dev/null || fail "d: the replay could not be sent"
wait_for -m "d: B's SYN-ACK to the replayed SYN" synack_seen "$sport1"
# R_A is never accepted twice: no acceptance counted, none on the wire.
expect_delta "$NS_B" resume_accepted 0
declined=$(tc_live "$NS_B" resume_declined)
declined=$((declined - ${BASE[$NS_B:resume_declined]}))
# (d2) the same offer option from another source port: a SYN that matches
# no flow B remembers, only the secret
snap "$NS_B" resume_accepted resume_declined
ns_exec "$NS_R" python3 "$TC_NETNS_DIR/forge.py" syn --src 192.0.2.1:45320 --dst "$B4:5320" \
	--eno "$offer1" >/dev/null || fail "d: forge.py syn failed"
wait_for -m "d: B's SYN-ACK to the offer from port 45320" synack_seen 45320
expect_delta "$NS_B" resume_accepted 0
expect_delta "$NS_B" resume_declined 1
cap_stop d2
syn2=$(python3 "$RW" tcpsha "$(cap_file d2)" 5320)
syn2=${syn2%%$'\n'*}
[[ $syn2 == "$syn1" ]] || fail "d: the SYN B received is not the captured one: sent '$syn1', on B's link '$syn2'"
out2=$(kx_of d2 5320 | grep '^45320 ')
read -r _ kind _ _ _ synack <<<"$out2"
[[ $kind == declined && $synack == synack=450601a07432 ]] ||
	fail "d: B's answer to the spent offer from another port is not a decline: $out2"
log "d: a spent offer from another port is declined: $out2"
out=$(kx_of d2 5320 | grep "^$sport1 ")
read -r _ kind _ _ _ synack <<<"$out"
[[ $kind != resumed && $synack != synack=4513* ]] || fail "d: B accepted a replayed offer: $out"
# ... and the replay itself is declined like any unknown R_A.  (Checked
# last, so that a failure here still lets e and b run: see DEFERRED.)
# The replay has the 4-tuple and ISN of the finished connection whose flow
# still lingers in B; B's kernel answers it as a new connection (new ISN).
# That SYN-ACK must decline (doc/protocol.md section 13), never leave
# without ENO.
if ((declined != 1)) || [[ $kind != declined || $synack != synack=450601a07432 ]]; then
	defer "d: B's answer to the replayed offer (R_A ${syn1%% *}) is not a decline: resume_declined +$declined (want +1), capture in R: $out (want synack=450601a07432)"
else
	log "d: replayed offer (R_A ${syn1%% *}) declined: $out"
fi

# --- e) kill -9 of B's daemon on a resumed connection -------------------------
CASE=e
declare -A RPID=() SPID=()

# start_transfer PORT: restartio receiver in B, sender in A (lines with the
# marker every 5 ms), under way and encrypted on both hosts.
start_transfer() {
	local port=$1
	ip netns exec "$NS_B" timeout 60 python3 "$IO" recv "$B4" "$port" >"$TC_WORK/recv-$port.out" 2>&1 &
	RPID[$port]=$!
	tc_track "${RPID[$port]}"
	wait_listen "$NS_B" "$port"
	ip netns exec "$NS_A" timeout 60 python3 "$IO" send "$B4" "$port" "$marker-LINE" "$TC_WORK/gate-$port" \
		>"$TC_WORK/send-$port.out" 2>&1 &
	SPID[$port]=$!
	tc_track "${SPID[$port]}"
	wait_for -m "e: the transfer to $port is under way" grep -q "^progress" "$TC_WORK/send-$port.out"
}

# kill_b: kill -9 B's daemon, wait until A's kernel retransmits on PORT.
kill_b() {
	local port=$1 pid=${TC_DPID[$NS_B]}
	kill -KILL "$pid"
	wait_pid "$pid" 10 "killed daemon in B"
	unset "TC_DPID[$NS_B]"
	wait_for -m "e: A's kernel retransmits to the dead queue" retransmitting "$NS_A" "$port"
}
retransmitting() {
	ip netns exec "$1" ss -tni state established "( dport = :$2 )" | grep -qE 'retrans:[0-9]+/[1-9]'
}
b_received() { ip netns exec "$NS_B" ss -Htni state established "( sport = :$1 )" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2; }

# (e1) with the state file: adopted, intact
snap "$NS_A" resume_accepted
cap_start e1
start_transfer 5330
expect_delta "$NS_A" resume_accepted 1
[[ $(tsv_kx "$NS_A" 5330) == resumed ]] || fail "e: tcnetstat on A shows Kx '$(tsv_kx "$NS_A" 5330)' for port 5330, want resumed"
kill_b 5330
before=$(b_received 5330)
tc_start "$NS_B"
grep -qE "resumed [1-9][0-9]* flows" "${TC_DLOG[$NS_B]}" ||
	fail "e: B's new daemon took over no flow: $(grep -i 'state file' "${TC_DLOG[$NS_B]}")"
more_arrived() { (($(b_received 5330) > before)); }
wait_for -m "e: data flows again after the restart" more_arrived
touch "$TC_WORK/gate-5330"
wait_pid "${SPID[5330]}" 30 "e: sender 5330"
s=$(cat "$TC_WORK/send-5330.out")
wait_pid "${RPID[5330]}" 30 "e: receiver 5330"
r=$(cat "$TC_WORK/recv-5330.out")
s=$(grep -E '^(sent|error) ' <<<"$s" | sed 's/^sent //')
r=$(grep -E '^(recv|error) ' <<<"$r" | sed 's/^recv //')
[[ -n $s && $s == "$r" && $s != error* ]] ||
	fail "e: the resumed connection adopted after kill -9 did not complete intact: sender '$s', receiver '$r'"
log "e: adopted by B's new daemon, completed intact: $s"
cap_stop e1
expect_kx e1 5330 resumed
wirecheck syn-has-eno "$(cap_file e1)"
wirecheck absent "$(cap_file e1)" "$marker"

# (e2) without the state file: both ends reset
# B's new daemon has no secrets: one declined (fresh) connection gives A and
# B a new chain, the next one is resumed.
cap_start e2
conn 5331
snap "$NS_A" resume_accepted
start_transfer 5332
expect_delta "$NS_A" resume_accepted 1
kill_b 5332
rm -f "$TC_STATE_DIR/flows-$NS_B"
tc_start "$NS_B"
wait_pid "${SPID[5332]}" 30 "e: the sender to see the reset"
grep -qx "error ECONNRESET" "$TC_WORK/send-5332.out" || fail "e: sender: want ECONNRESET, got: $(cat "$TC_WORK/send-5332.out")"
wait_pid "${RPID[5332]}" 30 "e: the receiver to see the reset"
grep -qx "error ECONNRESET" "$TC_WORK/recv-5332.out" || fail "e: receiver: want ECONNRESET, got: $(cat "$TC_WORK/recv-5332.out")"
log "e: without the state file both ends were reset"
cap_stop e2 --drops-ok
expect_kx e2 5331 declined
out=$(kx_of e2 5332)
[[ $out == *" resumed "* ]] || fail "e: the transfer to 5332 was not on a resumed connection: $out"
wirecheck syn-has-eno "$(cap_file e2)"
wirecheck absent "$(cap_file e2)" "$marker"
tc_stop "$NS_B"
(($(tc_counter "$NS_B" lost_flow_reset) > 0)) || fail "e: B's daemon without state counted no lost_flow_reset"

# --- b) A's entry expires ------------------------------------------------------
CASE=b
tc_stop "$NS_A"
expect_counter "$NS_A" resume_aborted 0
tc_start "$NS_A" --resume-lifetime=2
tc_start "$NS_B"
cap_start b
conn 5340
(($(tc_live "$NS_A" resume_entries) >= 1)) || fail "b: A holds no resumption entry after a fresh exchange"
entries_zero() { [[ $(tc_live "$NS_A" resume_entries) == 0 ]]; }
wait_for -t 6 -m "b: A's resume_entries gauge to fall to 0 (lifetime 2 s)" entries_zero
conn 5341
[[ $(tc_live "$NS_A" resume_offered) == 0 ]] || fail "b: A offered resumption with an expired entry"
cap_stop b
expect_kx b 5340 fresh
expect_kx b 5341 fresh
wirecheck syn-has-eno "$(cap_file b)"
wirecheck absent "$(cap_file b)" "$marker"

tc_stop "$NS_A"
tc_stop "$NS_B"
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	expect_counter "$ns" resume_aborted 0
done
((${#DEFERRED[@]} == 0)) || fail "$(printf '%s\n' "${DEFERRED[@]}")"
log "PASS"
