#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t20: many encrypted connections.  Both hosts run tcpcryptd with the
# default --max-flows 65536 and --linger 2 (closed flows are kept 2 s
# instead of 60, so the tables empty quickly); B runs a server (connload.py) that answers every request with the
# SHA-256 of what it received.
#
# (a) 10,000 concurrent encrypted connections A -> B, opened 200 at a time,
#     one exchange each, then all held open: both daemons list >= 10,000
#     encrypted flows; memory per connection = (VmRSS with them open -
#     VmRSS before) / 10,000 for each daemon, on fresh daemons.  Target:
#     under 1 KiB per connection; asserted: at most PER_CONN_MAX_B (1024 B).
#     Expected: struct flow is 328 bytes (a 336-byte malloc chunk) plus its
#     share of the bucket array (512 KiB / 10,000 = 52 B) = about 390 B;
#     see the log for the measurement.  Then a second exchange on every one
#     of them (the daemons still hold all their state) and all are closed;
#     once the closed flows expired (polled with the control socket's
#     "list" until both tables are empty), each VmRSS is logged and must
#     not have grown (by more than 256 KiB) over its value with all 10,000
#     open: closing and expiring allocates nothing that stays.  Back at the
#     baseline it need not be: the bucket array (512 KiB) stays resident,
#     and so does whatever free heap glibc could not trim -- measured +0.7
#     to +3.8 MiB over the baseline, resident [heap] 136 KiB to 3.3 MiB
#     (A's, with either build; B's always 136 KiB), i.e. sometimes none of
#     it is trimmed, which looks exactly like leaking all 10,000 flows.
#     RSS cannot tell the two apart here; (b) is the sharper check.
# (b) churn, on the warmed-up daemons: 5,000 connections opened and closed,
#     each with one request/response, paced at 500 per second (about 10 s),
#     at most 100 in flight.  Every exchange succeeds, both daemons count
#     5,000 more encrypted flows, both tables empty again (polled), and no
#     leak: VmRSS at most CHURN_RSS_MAX_KIB (256 KiB) above what it was
#     before the churn (measured: +0 KiB, every run).  The churn's peak
#     (5,000 lingering flows, 1.6 MiB) is below (a)'s, so without a leak it
#     fits in memory malloc already has; leaking its flows would need 1.6
#     MiB more, of which only the free heap left resident after (a) (the
#     logged [heap] figure) could hide.
# Both daemons stay up and exit 0 with mac_fail 0 and nothing evicted.
. "$(dirname "$0")/lib.sh"
tc_need_daemon

CHURN=5000
CHURN_RATE=500
HOLD=10000
PORT=7000
AFTER_HOLD_GROWTH_MAX_KIB=256
CHURN_RSS_MAX_KIB=256
PER_CONN_MAX_B=1024
CONNLOAD="$TC_NETNS_DIR/connload.py"
FLOWCOUNT="$TC_NETNS_DIR/flowcount.py"
TCNETSTAT=$(tc_find_built util/tcnetstat ||
	{ [[ -n ${TCPCRYPTD:-} ]] && echo "$(dirname "$TCPCRYPTD")/util/tcnetstat"; } || true)
[[ -x $TCNETSTAT ]] || fail "util/tcnetstat is not built"
declare -A SOCK=()

topo_setup
# Room for 10,000 connections plus 5,000 in TIME_WAIT on A, and a listen
# queue that never overflows on B.
ns_exec "$NS_A" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
ns_exec "$NS_B" sysctl -qw net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65536
SOCK[$NS_A]="$TC_WORK/ctl-a.sock"
SOCK[$NS_B]="$TC_WORK/ctl-b.sock"
tc_start "$NS_A" --socket "${SOCK[$NS_A]}" --linger 2
tc_start "$NS_B" --socket "${SOCK[$NS_B]}" --linger 2
for ns in "$NS_A" "$NS_B"; do
	[[ $(cat "/proc/${TC_DPID[$ns]}/comm") == tcpcryptd ]] || fail "pid ${TC_DPID[$ns]} in $ns is not tcpcryptd"
done

# --- helpers -----------------------------------------------------------------

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/${TC_DPID[$1]}/status"; }
# heap_kib NS: resident KiB of the daemon's brk heap (where flows live).
heap_kib() { awk '/\[heap\]/ { h = 1; next } /^[0-9a-f]+-/ { h = 0 } h && $1 == "Rss:" { print $2 }' "/proc/${TC_DPID[$1]}/smaps"; }
hwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/${TC_DPID[$1]}/status"; }

live_counter() {
	local v
	v=$("$TCNETSTAT" -S "${SOCK[$1]}" -s --tsv | awk -F'\t' -v n="$2" '$1 == n { print $2 }')
	[[ -n $v ]] || fail "tcnetstat -s in $1: no counter $2"
	echo "$v"
}

# flows NS [STATE]: how many flows the daemon in NS lists (in STATE).
flows() {
	local out n
	out=$(python3 "$FLOWCOUNT" "${SOCK[$1]}" --timeout 30) || fail "list on ${SOCK[$1]} failed"
	if [[ -n ${2:-} ]]; then
		n=$(grep -oE "(^| )$2=[0-9]+" <<<"$out" | cut -d= -f2) || true
	else
		n=$(grep -oE "^count=[0-9]+" <<<"$out" | cut -d= -f2) || true
	fi
	echo "${n:-0}"
}
table_empty() { (($(flows "$1") == 0)); }
both_empty() { table_empty "$NS_A" && table_empty "$NS_B"; }

ip netns exec "$NS_B" python3 "$CONNLOAD" serve 198.51.100.1 "$PORT" --backlog 65535 \
	>"$TC_WORK/server.log" 2>&1 &
tc_track $!
wait_listen "$NS_B" "$PORT"
# One connection first, so the one-time allocations (B's key pair,
# buffers) are in the baseline.  Its flow lingers; 336 bytes do not matter.
ns_exec "$NS_A" python3 "$CONNLOAD" one 198.51.100.1 "$PORT" --size 100 >/dev/null ||
	fail "the first connection failed"

# --- (a) 10,000 concurrent connections ----------------------------------------

declare -A RSS0=()
for ns in "$NS_A" "$NS_B"; do RSS0[$ns]=$(rss_kib "$ns"); done
log "baseline VmRSS: A ${RSS0[$NS_A]} KiB (heap $(heap_kib "$NS_A") KiB), B ${RSS0[$NS_B]} KiB (heap $(heap_kib "$NS_B") KiB)"
t0=$(date +%s%N)
ip netns exec "$NS_A" python3 "$CONNLOAD" hold 198.51.100.1 "$PORT" --count "$HOLD" --batch 200 \
	--ready "$TC_WORK/hold.ready" --stop "$TC_WORK/hold.stop" --timeout 60 >"$TC_WORK/hold.out" 2>&1 &
hold_pid=$!
tc_track "$hold_pid"
deadline=$(($(date +%s) + 300))
until [[ -f $TC_WORK/hold.ready ]]; do
	kill -0 "$hold_pid" 2>/dev/null || fail "(a) opening $HOLD connections failed: $(cat "$TC_WORK/hold.out")"
	(($(date +%s) <= deadline)) || fail "(a) $HOLD connections not open after 300 s"
	sleep 0.2
done
open_ms=$((($(date +%s%N) - t0) / 1000000))
log "(a) $(head -n 1 "$TC_WORK/hold.out")"
declare -A PER=() RSS_OPEN=()
for ns in "$NS_A" "$NS_B"; do
	n=$(flows "$ns" encrypted)
	((n >= HOLD)) || fail "(a) the daemon in $ns lists $n encrypted flows, want >= $HOLD"
	r=$(rss_kib "$ns")
	RSS_OPEN[$ns]=$r
	PER[$ns]=$(((r - RSS0[$ns]) * 1024 / HOLD))
	log "(a) $ns: $n encrypted flows listed; VmRSS ${RSS0[$ns]} -> $r KiB: ${PER[$ns]} bytes per connection (target < 1024)"
done
# An AddressSanitizer build's memory says nothing about the daemon's own
# use (LeakSanitizer checks leaks at exit there instead).
check_mem=1
if tc_daemon_sanitized; then
	check_mem=0
	log "AddressSanitizer build: memory bounds not checked"
fi
for ns in "$NS_A" "$NS_B"; do
	((!check_mem || PER[$ns] <= PER_CONN_MAX_B)) ||
		fail "(a) the daemon in $ns uses ${PER[$ns]} bytes per open connection (bound $PER_CONN_MAX_B)"
done
: >"$TC_WORK/hold.stop"
wait_pid "$hold_pid" 300 "(a) the second exchange on $HOLD connections"
((TC_WAIT_RC == 0)) || fail "(a) $(tr '\n' ' ' <"$TC_WORK/hold.out")"
log "(a) $HOLD connections open in $open_ms ms; $(tail -n 1 "$TC_WORK/hold.out")"

# All closed: once the closed flows have lingered 2 s the tables are empty
# and each daemon back near its baseline.  What stays is the bucket array
# (65,536 pointers, 512 KiB: calloc'ed, resident once touched) and malloc
# slack.
t0=$(date +%s%N)
wait_for -t 180 -m "both flow tables to empty after (a)" both_empty
empty_ms=$((($(date +%s%N) - t0) / 1000000))
declare -A RSS1=() ENC1=()
for ns in "$NS_A" "$NS_B"; do
	RSS1[$ns]=$(rss_kib "$ns")
	ENC1[$ns]=$(live_counter "$ns" encrypted_flows)
	log "(a) $ns: table empty $empty_ms ms after the close; VmRSS ${RSS0[$ns]} -> ${RSS1[$ns]} KiB ($((RSS1[$ns] - RSS0[$ns])) KiB), VmHWM $(hwm_kib "$ns") KiB, heap $(heap_kib "$ns") KiB"
	((!check_mem || RSS1[$ns] <= RSS_OPEN[$ns] + AFTER_HOLD_GROWTH_MAX_KIB)) ||
		fail "(a) the daemon in $ns grew from ${RSS_OPEN[$ns]} KiB with $HOLD connections open to ${RSS1[$ns]} KiB after they closed and expired"
done

# --- (b) churn -----------------------------------------------------------------

t0=$(date +%s%N)
out=$(ns_exec "$NS_A" timeout 300 python3 "$CONNLOAD" churn 198.51.100.1 "$PORT" --count "$CHURN" \
	--rate "$CHURN_RATE" --concurrency 100 --timeout 30 2>&1) || fail "(b) churn failed: $out"
churn_ms=$((($(date +%s%N) - t0) / 1000000))
log "(b) $out"
((churn_ms <= 30000)) || fail "(b) $CHURN connections took $churn_ms ms (paced for $((CHURN / CHURN_RATE)) s)"
for ns in "$NS_A" "$NS_B"; do
	kill -0 "${TC_DPID[$ns]}" 2>/dev/null || fail "(b) the daemon in $ns died"
	d=$(($(live_counter "$ns" encrypted_flows) - ENC1[$ns]))
	((d >= CHURN)) || fail "(b) the daemon in $ns counted $d new encrypted flows, want >= $CHURN"
done
log "(b) right after: A lists $(flows "$NS_A") flows (VmRSS $(rss_kib "$NS_A") KiB), B $(flows "$NS_B") (VmRSS $(rss_kib "$NS_B") KiB)"
t0=$(date +%s%N)
wait_for -t 180 -m "both flow tables to empty after the churn" both_empty
empty_ms=$((($(date +%s%N) - t0) / 1000000))
for ns in "$NS_A" "$NS_B"; do
	r=$(rss_kib "$ns")
	log "(b) $ns: table empty; VmRSS ${RSS1[$ns]} -> $r KiB ($((r - RSS1[$ns])) KiB; $((r - RSS0[$ns])) KiB over the fresh baseline), VmHWM $(hwm_kib "$ns") KiB, heap $(heap_kib "$ns") KiB"
	((!check_mem || r - RSS1[$ns] <= CHURN_RSS_MAX_KIB)) ||
		fail "(b) the daemon in $ns kept $((r - RSS1[$ns])) KiB more after $CHURN connections came and went (bound $CHURN_RSS_MAX_KIB KiB): a leak"
done
log "(b) $CHURN connections in $churn_ms ms, all ok; tables empty $empty_ms ms after the last close (linger 2 s)"

for ns in "$NS_A" "$NS_B"; do
	kill -0 "${TC_DPID[$ns]}" 2>/dev/null || fail "the daemon in $ns died"
done
tc_stop "$NS_A"
tc_stop "$NS_B"
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	expect_counter "$ns" flows_evicted 0
	n=$(tc_counter "$ns" encrypted_flows)
	((n >= CHURN + HOLD + 1)) || fail "encrypted_flows in $ns is $n, want >= $((CHURN + HOLD + 1))"
done
log "memory per open connection: A ${PER[$NS_A]} B, B ${PER[$NS_B]} B;" \
	"flows_expired at exit: A $(tc_counter "$NS_A" flows_expired), B $(tc_counter "$NS_B" flows_expired)"
log "PASS"
