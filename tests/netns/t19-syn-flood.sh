#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t19: a SYN flood with ENO against a host that runs tcpcryptd with a small
# flow table.  R sends B 50,000 SYNs carrying ENO (flood.py) from spoofed
# sources in 198.18.0.0/15 (RFC 2544's benchmarking prefix; R routes it to a
# blackhole, so B's SYN-ACKs go nowhere and are only counted) to the port
# B's server listens on, while B's daemon runs with --max-flows 4096.  Each
# such SYN makes B's daemon create a half-open flow, so the table fills up
# and must evict.
#
# Asserted:
#   - legitimate encrypted connections from A (5 during the flood, 3 after)
#     succeed: every byte intact (SHA-256 echoed by B's server) and the same
#     session ID logged by both daemons;
#   - 20 encrypted connections A opened before the flood and left idle
#     through it still work afterwards: the flood evicts the oldest
#     half-open flows, never established ones (B still lists them as
#     encrypted, and a second exchange on each succeeds);
#   - the table hit its limit (flows_evicted > 0, read live from
#     "tcnetstat -s" during the flood and at exit) and the number of flows
#     B's control socket lists never exceeds 4096: counted five times
#     during the flood, each time with the flooder stopped (SIGSTOP) until
#     B's queue drained, since "list" walks the table between packets and
#     is no snapshot under churn (a sampler listing every 0.2 s while the
#     flood runs sees up to ~10 more, tolerated up to 512 more);
#   - B's daemon memory stays bounded: VmHWM (peak RSS) at most
#     RSS_BEFORE + 8 MiB and never above 64 MiB.  The expected growth is
#     4096 * (336 B struct flow + 272 B handshake state + 8 B bucket, glibc
#     chunk sizes) = about 2.4 MiB; measured on the reference machine: see
#     the "memory" log line (about +2.5 MiB over a base of about 4 MiB);
#   - then 10,000 more from 2001:db8:f100::/48 to B's IPv6 address: a
#     legitimate IPv6 connection during and after them succeeds, B evicts
#     at least 9,000 more flows and still lists at most 4096;
#   - B's daemon keeps running and exits 0 on SIGTERM; mac_fail is 0.
# T19_FLOOD_COUNT, T19_FLOOD6_COUNT and T19_FLOOD_RATE (default 5000 SYNs
# per second: 10 s for the IPv4 flood) override the sizes; about 25 s in all.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat ||
	{ [[ -n ${TCPCRYPTD:-} ]] && echo "$(dirname "$TCPCRYPTD")/util/tcnetstat"; } || true)
[[ -x $TCNETSTAT ]] || fail "util/tcnetstat is not built"

MAX_FLOWS=4096
FLOOD_COUNT=${T19_FLOOD_COUNT:-50000}
FLOOD_RATE=${T19_FLOOD_RATE:-5000}
SPOOF_PREFIX=198.18.0.0/15
SPOOF_PREFIX6=2001:db8:f100::/48
FLOOD6_COUNT=${T19_FLOOD6_COUNT:-10000}
PORT=7000
HELD=20
RSS_GROWTH_MAX_KIB=$((8 * 1024))
RSS_ABS_MAX_KIB=$((64 * 1024))
CONNLOAD="$TC_NETNS_DIR/connload.py"
FLOWCOUNT="$TC_NETNS_DIR/flowcount.py"
SOCK_A="$TC_WORK/ctl-a.sock"
SOCK_B="$TC_WORK/ctl-b.sock"

topo_setup
# B answers every spoofed SYN: let its listen queue hold them all rather
# than fall back to syncookies at once (they may still kick in; the
# legitimate connections must work either way).
ns_exec "$NS_B" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65536
# R: the spoofed prefix goes to a blackhole (no ICMP back to B); count the
# SYN-ACKs B sends there.
ip -n "$NS_R" route add blackhole "$SPOOF_PREFIX"
ip -n "$NS_R" -6 route add blackhole "$SPOOF_PREFIX6"
r_rule iptables -t mangle -A PREROUTING -i eth-b -s 198.51.100.1 -d "$SPOOF_PREFIX" -p tcp \
	--tcp-flags SYN,ACK SYN,ACK -m comment --comment t19-synack-spoofed
r_rule ip6tables -t mangle -A PREROUTING -i eth-b -s 2001:db8:2::1 -d "$SPOOF_PREFIX6" -p tcp \
	--tcp-flags SYN,ACK SYN,ACK -m comment --comment t19-synack-spoofed6

tc_start "$NS_A" --socket "$SOCK_A"
tc_start "$NS_B" --socket "$SOCK_B" --max-flows "$MAX_FLOWS"
PID_B=${TC_DPID[$NS_B]}
[[ $(cat "/proc/$PID_B/comm") == tcpcryptd ]] || fail "pid $PID_B is $(cat "/proc/$PID_B/comm"), not tcpcryptd"

# --- helpers -----------------------------------------------------------------

# status_kib PID FIELD: VmRSS / VmHWM of a process, in KiB.
status_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# live_counter SOCK NAME: a counter read from a running daemon.
live_counter() {
	local v
	v=$("$TCNETSTAT" -S "$1" -s --tsv | awk -F'\t' -v n="$2" '$1 == n { print $2 }')
	[[ -n $v ]] || fail "tcnetstat -s on $1: no counter $2"
	echo "$v"
}

# flow_count SOCK: "count=N listed=N state=K ..." from the control socket.
flow_count() { python3 "$FLOWCOUNT" "$1"; }

# b_encrypted: how many flows B lists as encrypted.
b_encrypted() {
	local n
	n=$(flow_count "$SOCK_B" | grep -oE 'encrypted=[0-9]+' | cut -d= -f2) || true
	echo "${n:-0}"
}
b_encrypted_ge() { (($(b_encrypted) >= $1)); }

flood_sent() {
	local n
	n=$(awk '$1 == "progress" || $1 == "done" { n = $2 } END { print n + 0 }' "$TC_WORK/flood.out")
	echo "$n"
}
flood_sent_ge() { (($(flood_sent) >= $1)); }

# legit TAG [ADDR]: one encrypted connection A -> B:PORT with 256 KiB checked both
# ways, and the same session ID on both hosts.
LEGIT_OK=0
legit() {
	local tag=$1 addr=${2:-198.51.100.1} out port t0 ms
	t0=$(date +%s%N)
	out=$(ns_exec "$NS_A" timeout 60 python3 "$CONNLOAD" one "$addr" "$PORT" --timeout 40) ||
		fail "legitimate connection ($tag) failed: $out"
	ms=$((($(date +%s%N) - t0) / 1000000))
	read -r _ port _ <<<"$out"
	wait_for -m "daemon B logging connection :$port as encrypted" \
		grep -q "encrypted .*:$port.*sid=" "${TC_DLOG[$NS_B]}"
	expect_same_sid "$port"
	LEGIT_OK=$((LEGIT_OK + 1))
	log "legitimate connection $tag: 256 KiB intact in $ms ms (port $port)"
}

# --- server, held connections, sampler ------------------------------------

ip netns exec "$NS_B" python3 "$CONNLOAD" serve 198.51.100.1 "$PORT" --backlog 65535 \
	>"$TC_WORK/server.log" 2>&1 &
tc_track $!
ip netns exec "$NS_B" python3 "$CONNLOAD" serve 2001:db8:2::1 "$PORT" --backlog 65535 \
	>"$TC_WORK/server6.log" 2>&1 &
tc_track $!
two_listeners() { [[ $(ns_exec "$NS_B" ss -Hltn "sport = :$PORT" | wc -l) == 2 ]]; }
wait_for -m "B's servers on port $PORT (IPv4 and IPv6)" two_listeners

legit before

ip netns exec "$NS_A" python3 "$CONNLOAD" hold 198.51.100.1 "$PORT" --count "$HELD" --batch "$HELD" \
	--ready "$TC_WORK/held.ready" --stop "$TC_WORK/held.stop" --timeout 20 >"$TC_WORK/held.out" 2>&1 &
held_pid=$!
tc_track "$held_pid"
wait_for -t 30 -m "A's $HELD held connections" test -f "$TC_WORK/held.ready"
wait_for -m "B listing the held connections as encrypted" b_encrypted_ge "$HELD"
log "A holds $HELD idle encrypted connections to B: $(flow_count "$SOCK_B")"

rss0=$(status_kib "$PID_B" VmRSS)
hwm0=$(status_kib "$PID_B" VmHWM)
log "B's daemon before the flood: VmRSS ${rss0} KiB, VmHWM ${hwm0} KiB"

# Sampler: every 0.2 s the flow count, flows_evicted and RSS of B's daemon.
cat >"$TC_WORK/sampler.sh" <<'EOF'
# sampler.sh TCNETSTAT FLOWCOUNT SOCK PID OUT STOP
while [[ ! -e $6 ]]; do
	c=$(python3 "$2" "$3") || c="count=error"
	ev=$("$1" -S "$3" -s --tsv | awk -F'\t' '$1 == "flows_evicted" { print $2 }')
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$4/status")
	echo "$(date +%s.%N) ${c%% *} evicted=${ev:-error} rss=${rss:-gone}" >>"$5"
	sleep 0.2
done
EOF
: >"$TC_WORK/samples.txt"
bash "$TC_WORK/sampler.sh" "$TCNETSTAT" "$FLOWCOUNT" "$SOCK_B" "$PID_B" "$TC_WORK/samples.txt" \
	"$TC_WORK/sampler.stop" &
sampler_pid=$!
tc_track "$sampler_pid"

# --- the flood ---------------------------------------------------------------

: >"$TC_WORK/flood.out"
ip netns exec "$NS_R" python3 "$TC_NETNS_DIR/flood.py" 198.51.100.1 "$PORT" --count "$FLOOD_COUNT" \
	--rate "$FLOOD_RATE" --sources "$SPOOF_PREFIX" >"$TC_WORK/flood.out" 2>"$TC_WORK/flood.err" &
flood_pid=$!
tc_track "$flood_pid"
log "flood: $FLOOD_COUNT SYNs with ENO from $SPOOF_PREFIX at $FLOOD_RATE/s, R -> B:$PORT"
flood_t=$(((FLOOD_COUNT / FLOOD_RATE) * 4 + 60))

# evicted_quiet SOCK: true when flows_evicted did not move for 0.3 s.
evicted_quiet() {
	local a b
	a=$(live_counter "$1" flows_evicted)
	sleep 0.3
	b=$(live_counter "$1" flows_evicted)
	[[ $a == "$b" ]]
}

MAXC_PAUSED=0
for frac in 1 3 5 7 9; do
	m=$((FLOOD_COUNT * frac / 10))
	wait_for -t "$flood_t" -m "the flood reaching $m SYNs ($(cat "$TC_WORK/flood.err"))" flood_sent_ge "$m"
	legit "during the flood (after $(flood_sent) SYNs)"
	kill -0 "$PID_B" 2>/dev/null || fail "B's daemon died during the flood"
	# "list" walks the table a few buckets at a time between packets, so
	# under churn its count is no snapshot.  Pause the flood (it goes on at
	# its rate afterwards), let B's queue drain, then count.  The flood may
	# have ended already: its last tenth takes a second at its rate, about
	# as long as the legitimate transfer above.  Then there is nothing to
	# pause.
	kill -STOP "$flood_pid" 2>/dev/null || true
	wait_for -t 30 -m "B's daemon to drain its queue (flows_evicted steady)" evicted_quiet "$SOCK_B"
	fc=$(flow_count "$SOCK_B") || fail "B's control socket: list failed during the flood"
	kill -CONT "$flood_pid" 2>/dev/null || true
	c=${fc#count=}
	c=${c%% *}
	((c > MAXC_PAUSED)) && MAXC_PAUSED=$c
	((c <= MAX_FLOWS)) || fail "B lists $c flows after $(flood_sent) SYNs, more than --max-flows $MAX_FLOWS ($fc)"
	log "  flood paused at $(flood_sent): B lists $fc; flows_evicted $(live_counter "$SOCK_B" flows_evicted), VmRSS $(status_kib "$PID_B" VmRSS) KiB"
done
wait_pid "$flood_pid" "$flood_t" "flood.py"
((TC_WAIT_RC == 0)) || fail "flood.py exited with $TC_WAIT_RC: $(cat "$TC_WORK/flood.err")"
log "flood: $(tail -n 1 "$TC_WORK/flood.out") (sent, seconds, packets/s)"
# B's daemon has seen them all once the table stops churning: wait until
# flows_evicted no longer moves (polled, 1 s apart) -- at most 60 s.
ev_prev=-1
deadline=$(($(date +%s) + 60))
while :; do
	ev=$(live_counter "$SOCK_B" flows_evicted)
	((ev != ev_prev)) || break
	(($(date +%s) <= deadline)) || fail "flows_evicted still moving 60 s after the flood ($ev)"
	ev_prev=$ev
	sleep 1
done
: >"$TC_WORK/sampler.stop"
wait_pid "$sampler_pid" 10 "sampler"

for i in 1 2 3; do
	legit "after the flood ($i)"
done

# IPv6 too: 10,000 more SYNs with ENO from a prefix R blackholes, and a
# legitimate IPv6 connection meanwhile.
ev4=$(live_counter "$SOCK_B" flows_evicted)
: >"$TC_WORK/flood.out"
ip netns exec "$NS_R" python3 "$TC_NETNS_DIR/flood.py" 2001:db8:2::1 "$PORT" --count "$FLOOD6_COUNT" \
	--rate "$FLOOD_RATE" --sources "$SPOOF_PREFIX6" >"$TC_WORK/flood.out" 2>"$TC_WORK/flood.err" &
flood_pid=$!
tc_track "$flood_pid"
wait_for -t 60 -m "the IPv6 flood reaching half ($(cat "$TC_WORK/flood.err"))" flood_sent_ge $((FLOOD6_COUNT / 2))
legit "during the IPv6 flood (after $(flood_sent) SYNs)" 2001:db8:2::1
wait_pid "$flood_pid" 60 "flood.py (IPv6)"
((TC_WAIT_RC == 0)) || fail "flood.py (IPv6) exited with $TC_WAIT_RC: $(cat "$TC_WORK/flood.err")"
wait_for -t 30 -m "B's daemon to drain its queue (flows_evicted steady)" evicted_quiet "$SOCK_B"
ev6=$(($(live_counter "$SOCK_B" flows_evicted) - ev4))
fc=$(flow_count "$SOCK_B") || fail "list failed after the IPv6 flood"
c=${fc#count=}
c=${c%% *}
((c <= MAX_FLOWS)) || fail "B lists $c flows after the IPv6 flood, more than --max-flows $MAX_FLOWS ($fc)"
((ev6 >= FLOOD6_COUNT * 9 / 10)) || fail "the IPv6 flood of $FLOOD6_COUNT SYNs evicted only $ev6 flows on B"
log "IPv6 flood: $(tail -n 1 "$TC_WORK/flood.out"); B evicted $ev6 more, lists $fc"
legit "after the IPv6 flood" 2001:db8:2::1

# --- assertions --------------------------------------------------------------

kill -0 "$PID_B" 2>/dev/null || fail "B's daemon is gone after the flood"
ev=$(live_counter "$SOCK_B" flows_evicted)
((ev > 0)) || fail "flows_evicted on B is $ev after $FLOOD_COUNT SYNs with --max-flows $MAX_FLOWS: the table never filled"
nsamples=$(wc -l <"$TC_WORK/samples.txt")
((nsamples >= 5)) || fail "only $nsamples samples of B's flow table"
if grep -q "count=error" "$TC_WORK/samples.txt"; then
	fail "B's control socket did not answer 'list' during the flood: $(grep -c count=error "$TC_WORK/samples.txt") of $nsamples samples"
fi
maxc=$(sed -n 's/.* count=\([0-9]*\) .*/\1/p' "$TC_WORK/samples.txt" | sort -n | tail -n 1)
maxrss=$(sed -n 's/.* rss=\([0-9]*\)$/\1/p' "$TC_WORK/samples.txt" | sort -n | tail -n 1)
((MAXC_PAUSED >= MAX_FLOWS * 9 / 10)) || fail "B listed at most $MAXC_PAUSED flows while the flood paused: the table never came near its limit"
# While the flood runs the walk may count a flow inserted behind an
# evicted one already counted; more than a few hundred over the limit
# would still mean the limit is not kept.
((maxc <= MAX_FLOWS + 512)) || fail "B listed $maxc flows during the flood (limit $MAX_FLOWS): $(grep "count=$maxc " "$TC_WORK/samples.txt" | head -n 1)"
log "B's flow table: at most $MAXC_PAUSED flows listed while paused (limit $MAX_FLOWS); $nsamples samples while the flood ran: at most $maxc (list is no snapshot under churn); flows_evicted $ev"
synacks=$(r_pkts iptables mangle PREROUTING t19-synack-spoofed)
synacks6=$(r_pkts ip6tables mangle PREROUTING t19-synack-spoofed6)
cookies=$(ns_exec "$NS_B" nstat -az TcpExtSyncookiesSent 2>/dev/null | awk '$1 == "TcpExtSyncookiesSent" { print $2 }' || true)
log "B's kernel sent $synacks + $synacks6 (IPv6) SYN-ACKs to spoofed sources (R dropped them), syncookies sent: ${cookies:-unknown}"

# The established connections survived: listed, and usable.
enc=$(b_encrypted)
: >"$TC_WORK/held.stop"
wait_pid "$held_pid" 60 "A's held connections"
if ((TC_WAIT_RC != 0)); then
	fail "the $HELD encrypted connections held idle through the flood broke ($(tr '\n' ' ' <"$TC_WORK/held.out"));" \
		"B lists $enc encrypted flows after the flood, lost_flow_drop on B is $(live_counter "$SOCK_B" lost_flow_drop):" \
		"the flood evicted established flows"
fi
log "held connections: $(tr '\n' ' ' <"$TC_WORK/held.out")"

hwm=$(status_kib "$PID_B" VmHWM)
rss=$(status_kib "$PID_B" VmRSS)
# (the kernel updates VmHWM lazily: take the larger of it and the samples)
((maxrss <= hwm)) || hwm=$maxrss
log "memory: B's daemon VmRSS ${rss0} KiB before, max sampled ${maxrss} KiB, ${rss} KiB after; VmHWM ${hwm} KiB" \
	"(growth $((hwm - rss0)) KiB for a full table of $MAX_FLOWS, bound $RSS_GROWTH_MAX_KIB KiB and $RSS_ABS_MAX_KIB KiB total)"
if tc_daemon_sanitized; then
	log "AddressSanitizer build: memory bounds not checked (LeakSanitizer checks leaks at exit)"
else
	((hwm - rss0 <= RSS_GROWTH_MAX_KIB)) || fail "B's daemon peak RSS $hwm KiB grew by $((hwm - rss0)) KiB over $rss0 KiB (bound $RSS_GROWTH_MAX_KIB KiB)"
	((hwm <= RSS_ABS_MAX_KIB)) || fail "B's daemon peak RSS $hwm KiB is over $RSS_ABS_MAX_KIB KiB"
fi

tc_stop "$NS_A"
tc_stop "$NS_B"
ev_end=$(tc_counter "$NS_B" flows_evicted)
((ev_end >= ev)) || fail "flows_evicted at exit ($ev_end) below the live value ($ev)"
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
log "B at exit: flows_evicted $ev_end, flows_expired $(tc_counter "$NS_B" flows_expired), queue_enobufs $(tc_counter "$NS_B" queue_enobufs); $LEGIT_OK legitimate connections ok"
log "PASS"
