#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t27: a remote flood of half-open ENO handshakes against a server that
# speaks first.
#
# A fourth host M (203.0.113.1, attached to R, no daemon) runs
# halfopen.py attack: up to 1,000 handshakes to B's server from different
# source ports, each a SYN with ENO, B's SYN-ACK with ENO, and a bare ACK
# carrying the non-SYN ENO option 45 02 -- then nothing, never an Init1.
# M's kernel knows nothing of these connections; its RSTs are dropped in
# M, as an attacker would.  B runs tcpcryptd and a server that sends a
# 16 KiB banner on accept (B's kernel sends about ten segments of it at
# once, its initial window; it does not retransmit a segment that still
# sits in the queue, so a one-segment banner would take one queue slot per
# connection) and then echoes.  Whatever B's daemon keeps of such a
# connection while it waits for an Init1 that never comes must not eat up
# its NFQUEUE (no fail-open: a full queue drops every TCP packet of the
# host).
#
# Asserted:
#   - the attack happened: most handshakes got B's SYN-ACK with B's ENO
#     option (45 06 01 a0 74 32);
#   - B's queue never dropped: queue_dropped and user_dropped in
#     /proc/net/netfilter/nfnetlink_queue (B's namespace, sampled every
#     0.1 s through the attack, read again at the end) stay 0, and the
#     queue never held more than QUEUE_MAX (1024, a quarter of the
#     daemon's 4096) packets;
#   - a bystander, an encrypted connection A -> B opened before the
#     attack, gets every echo within 3 s, one every 0.2 s, throughout;
#   - a fresh connection A -> B after the attack works and is encrypted
#     (the same session ID on both hosts);
#   - B's daemon held at most HELD_MAX (250) segments in all, kept running
#     and exits 0; mac_fail 0 on both.
# T27_COUNT, T27_RATE (handshakes per second, default 200) and T27_BANNER
# (bytes) override the sizes.  About 15 s.
. "$(dirname "$0")/lib.sh"
tc_need_daemon

COUNT=${T27_COUNT:-1000}
RATE=${T27_RATE:-200}
DURATION=10
BANNER=${T27_BANNER:-16384}
PORT=7100
QUEUE_MAX=1024
HELD_MAX=250
HALFOPEN="$TC_NETNS_DIR/halfopen.py"
M_ADDR=203.0.113.1
B_ADDR=198.51.100.1
SOCK_B="$TC_WORK/ctl-b.sock"
TCNETSTAT=$(tc_find_built util/tcnetstat ||
	{ [[ -n ${TCPCRYPTD:-} ]] && echo "$(dirname "$TCPCRYPTD")/util/tcnetstat"; } || true)
[[ -x $TCNETSTAT ]] || fail "util/tcnetstat is not built"

topo_setup
# M: a fourth namespace on its own link to R (TEST-NET-3).
NS_M="tcpc-m-$$"
ip netns add "$NS_M" || fail "ip netns add $NS_M"
TC_NAMESPACES+=("$NS_M")
ip -n "$NS_M" link set lo up
ip -n "$NS_M" link add eth0 type veth peer name eth-m netns "$NS_R" || fail "veth M-R"
ip -n "$NS_M" addr add "$M_ADDR/24" dev eth0
ip -n "$NS_R" addr add 203.0.113.254/24 dev eth-m
ip -n "$NS_M" link set eth0 up
ip -n "$NS_R" link set eth-m up
ip -n "$NS_M" route add default via 203.0.113.254
wait_for -m "reachability M -> B through R" tc_reachable "$NS_M" "$B_ADDR"
# M's kernel would reset every connection it never opened.
ns_exec "$NS_M" iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP \
	-m comment --comment t27-no-rst || fail "RST drop rule in M"
# B's listen queues take the whole attack (no SYN cookies needed).
ns_exec "$NS_B" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65536

tc_start "$NS_A"
tc_start "$NS_B" --socket "$SOCK_B"
PID_B=${TC_DPID[$NS_B]}
NFQ_PROC=/proc/$PID_B/net/netfilter/nfnetlink_queue

ip netns exec "$NS_B" python3 "$HALFOPEN" serve "$B_ADDR" "$PORT" --banner "$BANNER" --backlog 65535 \
	>"$TC_WORK/server.out" 2>&1 &
server_pid=$!
tc_track "$server_pid"
wait_listen "$NS_B" "$PORT"

# --- the bystander -------------------------------------------------------------

ip netns exec "$NS_A" python3 "$HALFOPEN" client "$B_ADDR" "$PORT" --banner "$BANNER" \
	--interval 0.2 --timeout 3 --until "$TC_WORK/bystander.stop" --ready "$TC_WORK/bystander.ready" \
	>"$TC_WORK/bystander.out" 2>&1 &
bystander_pid=$!
tc_track "$bystander_pid"
wait_for -m "the bystander's banner and first echo" \
	test -f "$TC_WORK/bystander.ready"
bport=$(awk '$1 == "port" { print $2 }' "$TC_WORK/bystander.out")
wait_for -m "daemon B logging the bystander :$bport as encrypted" \
	grep -q "encrypted .*:$bport.*sid=" "${TC_DLOG[$NS_B]}"
expect_same_sid "$bport"

# --- queue sampler -----------------------------------------------------------------

# Every 0.1 s B's queue line: queue_number peer_portid queue_total copy_mode
# copy_range queue_dropped user_dropped id_sequence 1.
[[ -r $NFQ_PROC ]] || fail "cannot read $NFQ_PROC"
cat >"$TC_WORK/sampler.sh" <<'EOF'
# sampler.sh PROCFILE QUEUE OUT STOP
while [[ ! -e $4 ]]; do
	awk -v q="$2" -v t="$(date +%s.%N)" '$1 == q { print t, $3, $6, $7 }' "$1" >>"$3"
	sleep 0.1
done
EOF
: >"$TC_WORK/queue.txt"
bash "$TC_WORK/sampler.sh" "$NFQ_PROC" "$TC_QUEUE" "$TC_WORK/queue.txt" "$TC_WORK/sampler.stop" &
sampler_pid=$!
tc_track "$sampler_pid"
wait_for -m "the first queue sample" test -s "$TC_WORK/queue.txt"

# --- the attack ----------------------------------------------------------------------

log "attack: $COUNT half-open ENO handshakes from $M_ADDR at $RATE/s for ${DURATION}s, banner $BANNER bytes"
ip netns exec "$NS_M" python3 "$HALFOPEN" attack "$M_ADDR" "$B_ADDR" "$PORT" --count "$COUNT" \
	--rate "$RATE" --duration "$DURATION" >"$TC_WORK/attack.out" 2>"$TC_WORK/attack.err" &
attack_pid=$!
tc_track "$attack_pid"
wait_pid "$attack_pid" $((DURATION + 20)) "halfopen.py attack"
((TC_WAIT_RC == 0)) || fail "halfopen.py attack exited with $TC_WAIT_RC: $(cat "$TC_WORK/attack.err")"
# Two more seconds of bystander echoes after the last SYN-ACK was answered.
sleep_until=$(($(date +%s%N) + 2000000000))
bystander_past() { (($(date +%s%N) > sleep_until)) || ! kill -0 "$bystander_pid" 2>/dev/null; }
wait_for bystander_past
: >"$TC_WORK/bystander.stop"
: >"$TC_WORK/sampler.stop"
wait_pid "$sampler_pid" 10 "queue sampler"
wait_pid "$bystander_pid" 10 "the bystander"
bystander_rc=$TC_WAIT_RC

# B's daemon is still running (it must be): its counters now, non-zero ones.
live=$("$TCNETSTAT" -S "$SOCK_B" -s --tsv | awk -F'\t' '$2 ~ /^[0-9]+$/ && $2 != 0 { printf "%s=%s ", $1, $2 }') ||
	fail "tcnetstat -s on B's control socket failed after the attack"
log "B's counters after the attack: ${live}(others 0)"

# --- assertions ----------------------------------------------------------------------

read -r _ syns synacks eno acks ports < <(grep '^done ' "$TC_WORK/attack.out") ||
	fail "no 'done' line from the attacker: $(tail -n 3 "$TC_WORK/attack.out")"
rsts=$(ns_exec "$NS_M" iptables -L OUTPUT -v -x -n | awk 'index($0, "/* t27-no-rst */") { print $1 }')
log "attack: $syns SYNs, $synacks SYN-ACKs ($eno with B's ENO) for $ports ports, $acks ACKs with 45 02 sent; $rsts RSTs of M's kernel dropped"
nsamples=$(wc -l <"$TC_WORK/queue.txt")
qmax=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$TC_WORK/queue.txt")
read -r qdrop udrop < <(tail -n 1 "$TC_WORK/queue.txt" | awk '{ print $3, $4 }')
first_drop=$(awk '$3 > 0 || $4 > 0 { print; exit }' "$TC_WORK/queue.txt")
log "B's queue: $nsamples samples, at most $qmax packets queued, queue_dropped $qdrop, user_dropped $udrop at the end"

if [[ -n $first_drop ]]; then
	t0=$(head -n 1 "$TC_WORK/queue.txt" | cut -d' ' -f1)
	fail "B's NFQUEUE dropped packets during the attack: queue_dropped $qdrop, user_dropped $udrop at the end;" \
		"first drop $(awk -v a="$t0" -v b="${first_drop%% *}" 'BEGIN { printf "%.1f", b - a }') s into the sampling" \
		"(queue_total then ${first_drop#* }); at most $qmax packets queued; bystander: $(tail -n 1 "$TC_WORK/bystander.out")"
fi
((qmax <= QUEUE_MAX)) || fail "B's queue held up to $qmax packets (bound $QUEUE_MAX)"
((bystander_rc == 0)) || fail "the bystander connection stalled during the attack: $(tail -n 1 "$TC_WORK/bystander.out")"
((ports >= COUNT * 9 / 10)) || fail "only $ports of $COUNT handshakes got a SYN-ACK from B: the attack did not happen"
((eno >= ports)) || fail "only $eno SYN-ACKs carried B's ENO option (for $ports ports): B's daemon did not negotiate"
((nsamples >= DURATION * 5)) || fail "only $nsamples samples of B's queue"
read -r _ rounds worst < <(grep '^ok ' "$TC_WORK/bystander.out")
log "bystander: $rounds echo round trips, the slowest $worst ms"

out=$(ns_exec "$NS_A" timeout 20 python3 "$HALFOPEN" client "$B_ADDR" "$PORT" --banner "$BANNER" --timeout 5) ||
	fail "a fresh connection A -> B after the attack failed: $out"
fport=$(awk '$1 == "port" { print $2 }' <<<"$out")
wait_for -m "daemon B logging the fresh connection :$fport as encrypted" \
	grep -q "encrypted .*:$fport.*sid=" "${TC_DLOG[$NS_B]}"
expect_same_sid "$fport"

kill -0 "$PID_B" 2>/dev/null || fail "B's daemon died during the attack"
read -r qdrop udrop < <(awk -v q="$TC_QUEUE" '$1 == q { print $6, $7 }' "$NFQ_PROC")
((qdrop == 0 && udrop == 0)) || fail "B's NFQUEUE dropped packets after the attack: queue_dropped $qdrop, user_dropped $udrop"
kill -TERM "$server_pid"
wait_pid "$server_pid" 10 "B's server"
log "B's server: $(cat "$TC_WORK/server.out")"
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
held=$(tc_counter "$NS_B" held)
log "B's counters: $(grep '^counter ' "${TC_DLOG[$NS_B]}" | awk '$3 != 0 { printf "%s=%s ", $2, $3 }')(others 0)"
((held <= HELD_MAX)) || fail "B's daemon held $held segments (bound $HELD_MAX)"
log "PASS"
