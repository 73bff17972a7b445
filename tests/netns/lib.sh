# shellcheck shell=bash
# SPDX-License-Identifier: BSD-2-Clause
# lib.sh: shared plumbing for the tcpcryptd system tests.  Sourced, not run.
#
# Every test builds its own little network out of namespaces and tears it
# down on any exit:
#
#     ns A (192.0.2.1, 2001:db8:1::1) --veth-- ns R (router) --veth-- ns B
#                                     (198.51.100.1, 2001:db8:2::1)
#
# R forwards IPv4 and IPv6; A and B route everything through R.  The test
# sees the wire in R (tcpdump), impairs it in R (iptables FORWARD), and runs
# tcpcryptd in A and/or B exactly as a user would: firewall rules from
# scripts/tcpcrypt-firewall, daemon in the foreground of its namespace.
#
# Readiness is always polled (log lines, listening sockets), never slept for.
#
# Environment:
#   TCPCRYPTD          path of the daemon (default: built ./tcpcryptd)
#   TC_STANDIN=passthrough
#                      run tools/nfq-passthrough instead of the daemon, to
#                      check the plumbing (namespaces, rules, captures) on
#                      its own (tests then fail at the first tcpcrypt
#                      assertion)
#   TC_KEEP=1          keep the work directory even when the test passes
#   abs_top_builddir, srcdir   as set by automake's test harness
#
# Daemon interface relied on (tcpcryptd's documented contract):
#   tcpcryptd --foreground --queue N [--socket PATH] [--state-file FILE]
#   [-v]; "ready queue=N" on stderr once bound;
#   "encrypted ... role=A|B ... sid=<66 hex>" per encrypted connection;
#   "plaintext ... reason=..." per fallback; on SIGTERM exits 0 after
#   printing "counter NAME VALUE" lines.  Marks, NF_REPEAT and the guard:
#   doc/design.md section 1.

set -euo pipefail

# ---------------------------------------------------------------------------
# Locations.

TC_NETNS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TC_SRCDIR=$(cd "$TC_NETNS_DIR/../.." && pwd)
TC_WIRECHECK="$TC_NETNS_DIR/wirecheck.py"
# shellcheck disable=SC2034  # used by the tests that source this file
TC_TCPIO="$TC_NETNS_DIR/tcpio.py"
TC_FIREWALL=${TC_FIREWALL:-$TC_SRCDIR/scripts/tcpcrypt-firewall}
TC_QUEUE=${TC_QUEUE:-666}
# the helpers import wirecheck.py; keep the source tree free of .pyc files
export PYTHONDONTWRITEBYTECODE=1
TC_TEST=$(basename "$0" .sh)

# The build tree: automake runs tests from the top build directory; a test
# run by hand from the source tree finds an in-tree build.
tc_find_built() {
	local rel=$1 d
	for d in "${abs_top_builddir:-}" "$PWD" "$TC_SRCDIR"; do
		if [[ -n $d && -x $d/$rel && ! -d $d/$rel ]]; then
			echo "$d/$rel"
			return 0
		fi
	done
	return 1
}

# ---------------------------------------------------------------------------
# Messages and failure.

T0=$(date +%s%N)
log() {
	local ms=$((($(date +%s%N) - T0) / 1000000))
	printf '[%s %3d.%03ds] %s\n' "$TC_TEST" $((ms / 1000)) $((ms % 1000)) "$*"
}

skip() {
	echo "SKIP: $TC_TEST: $*"
	exit 77
}

TC_DAEMON_LOGS=()

fail() {
	echo "FAIL: $TC_TEST: $*" >&2
	local f
	for f in "${TC_DAEMON_LOGS[@]}"; do
		[[ -f $f ]] || continue
		echo "---- last lines of $f ----" >&2
		grep -v '^counter ' "$f" | tail -n 20 >&2 || true
		if grep -q '^counter ' "$f"; then
			echo "---- counters: $(grep '^counter ' "$f" | awk '$3 != 0 { printf "%s=%s ", $2, $3 }')(others 0)" >&2
		fi
	done
	TC_FAILED=1
	exit 1
}

# ---------------------------------------------------------------------------
# Preconditions: skip (77), never fail, when the machine cannot run us.

tc_require_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	((${#missing[@]} == 0)) || skip "missing tools: ${missing[*]} (scripts/install-deps installs them)"
}

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, iptables, NFQUEUE)"
tc_require_tools ip iptables ip6tables iptables-restore ss tcpdump python3 timeout sha256sum socat curl
ip netns add "tcpc-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "tcpc-probe-$$"
# The wire checks decide pass/fail: make sure the checker itself is sound.
python3 "$TC_WIRECHECK" selftest >/dev/null || { echo "FAIL: wirecheck.py selftest" >&2; exit 1; }

TC_DAEMON=""
tc_need_daemon() {
	if [[ ${TC_STANDIN:-} == passthrough ]]; then
		TC_DAEMON=$(tc_find_built tools/nfq-passthrough) ||
			fail "TC_STANDIN=passthrough but tools/nfq-passthrough is not built"
		return 0
	fi
	if [[ -n ${TCPCRYPTD:-} ]]; then
		[[ -x $TCPCRYPTD ]] || fail "TCPCRYPTD=$TCPCRYPTD is not an executable"
		TC_DAEMON=$TCPCRYPTD
		return 0
	fi
	TC_DAEMON=$(tc_find_built tcpcryptd) ||
		fail "tcpcryptd is not built (looked in \$abs_top_builddir, $PWD, $TC_SRCDIR); run: autoreconf -fi && ./configure && make"
}

# tc_daemon_sanitized: the daemon is an AddressSanitizer build, whose memory
# figures (redzones, quarantine) say nothing about the daemon's own use;
# LeakSanitizer checks leaks there instead.
tc_daemon_sanitized() {
	[[ -n $TC_DAEMON ]] || tc_need_daemon
	# (grep -c reads all of ldd's output: with pipefail, grep -q could
	# stop early and ldd die of SIGPIPE, which reads as "not sanitized")
	ldd "$TC_DAEMON" 2>/dev/null | grep -c libasan >/dev/null
}

# ---------------------------------------------------------------------------
# Work directory, process bookkeeping and cleanup.

TC_WORK=$(mktemp -d "/tmp/tcpcrypt-$TC_TEST.XXXXXX")
# The daemons' flow state files hold keys: on tmpfs, and always removed.
TC_STATE_DIR=$(mktemp -d "/dev/shm/tcpcrypt-$TC_TEST.XXXXXX")
TC_PIDS=()
TC_FAILED=0
NS_A="tcpc-a-$$"
NS_R="tcpc-r-$$"
NS_B="tcpc-b-$$"
TC_NAMESPACES=()

# Remember a background process so that cleanup ends it.
tc_track() { TC_PIDS+=("$1"); }

tc_cleanup() {
	local rc=$? pid ns
	set +e
	for pid in "${TC_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TC_PIDS[@]}"; do
		# bounded wait, then force
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Anything still living in our namespaces was started by this test
	# (the names carry our PID); end it by id before deleting them.
	for ns in "${TC_NAMESPACES[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TC_STATE_DIR"
	if ((rc != 0 || TC_FAILED)) || [[ -n ${TC_KEEP:-} ]]; then
		echo "$TC_TEST: logs and captures kept in $TC_WORK" >&2
	else
		rm -rf "$TC_WORK"
	fi
	exit "$rc"
}
trap tc_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Polling.

# wait_for [-t SECONDS] [-m MESSAGE] CMD...: run CMD every 50 ms until it
# succeeds; fail with MESSAGE (or the command) after SECONDS (default 10).
wait_for() {
	local timeout=10 msg="" deadline
	while [[ $# -gt 0 ]]; do
		case $1 in
		-t) timeout=$2; shift 2 ;;
		-m) msg=$2; shift 2 ;;
		*) break ;;
		esac
	done
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	until "$@" >/dev/null 2>&1; do
		if (($(date +%s%N) > deadline)); then
			fail "timed out after ${timeout}s waiting for: ${msg:-$*}"
		fi
		sleep 0.05
	done
}

# True when something in namespace NS listens on TCP port PORT.
tc_listening() {
	local ns=$1 port=$2
	[[ -n $(ip netns exec "$ns" ss -Hltn "sport = :$port") ]]
}

# expect_refused NS ADDR PORT: connect() from NS must fail with ECONNREFUSED
# (a refused connection, never a plaintext one: nothing may be sent).
expect_refused() {
	local out
	out=$(ns_exec "$1" timeout 20 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
    s.sendall(b"must never be sent\n")
    print("connected")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("error %s" % e)
' "$2" "$3") || true
	[[ $out == refused ]] || fail "connection from $1 to $2:$3: want refused, got '$out'"
	log "$2:$3 from $1: refused"
}

wait_listen() {
	wait_for -m "a listener on TCP port $2 in $1" tc_listening "$1" "$2"
}

# Wait up to SECONDS for background PID to exit; its status in TC_WAIT_RC.
wait_pid() {
	local pid=$1 timeout=${2:-60} what=${3:-process $1}
	wait_for -t "$timeout" -m "$what to finish" tc_not_running "$pid"
	TC_WAIT_RC=0
	wait "$pid" || TC_WAIT_RC=$?
}
tc_not_running() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------
# Topology.

# ns_exec NS CMD...: run in a namespace.
ns_exec() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# tc_reachable NS ADDR: a TCP connect to a closed port of ADDR is answered
# (refused) -- proves routing both ways without needing ping.
tc_reachable() {
	ns_exec "$1" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=1)
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(0)
' "$2"
}

# topo_setup [MTU]: A -- R -- B, both families, optional link MTU.
# shellcheck disable=SC2120  # the MTU argument is optional
topo_setup() {
	local mtu=${1:-}
	local ns
	for ns in "$NS_A" "$NS_R" "$NS_B"; do
		ip netns add "$ns" || fail "ip netns add $ns"
		TC_NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up
		# No DAD delays and no autoconfiguration noise on the test links.
		ns_exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	done
	# Create the veth pairs directly inside the namespaces so that parallel
	# runs never collide on interface names in the root namespace.
	ip -n "$NS_A" link add eth0 type veth peer name eth-a netns "$NS_R" || fail "veth A-R"
	ip -n "$NS_B" link add eth0 type veth peer name eth-b netns "$NS_R" || fail "veth B-R"
	if [[ -n $mtu ]]; then
		ip -n "$NS_A" link set eth0 mtu "$mtu"
		ip -n "$NS_B" link set eth0 mtu "$mtu"
		ip -n "$NS_R" link set eth-a mtu "$mtu"
		ip -n "$NS_R" link set eth-b mtu "$mtu"
	fi
	ip -n "$NS_A" addr add 192.0.2.1/24 dev eth0
	ip -n "$NS_A" addr add 2001:db8:1::1/64 dev eth0 nodad
	ip -n "$NS_R" addr add 192.0.2.254/24 dev eth-a
	ip -n "$NS_R" addr add 2001:db8:1::fe/64 dev eth-a nodad
	ip -n "$NS_R" addr add 198.51.100.254/24 dev eth-b
	ip -n "$NS_R" addr add 2001:db8:2::fe/64 dev eth-b nodad
	ip -n "$NS_B" addr add 198.51.100.1/24 dev eth0
	ip -n "$NS_B" addr add 2001:db8:2::1/64 dev eth0 nodad
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_B" link set eth0 up
	ip -n "$NS_R" link set eth-a up
	ip -n "$NS_R" link set eth-b up
	ns_exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$NS_A" route add default via 192.0.2.254
	ip -n "$NS_A" -6 route add default via 2001:db8:1::fe
	ip -n "$NS_B" route add default via 198.51.100.254
	ip -n "$NS_B" -6 route add default via 2001:db8:2::fe
	# Both families must work end to end before any test starts.
	wait_for -m "IPv4 reachability A -> B through R" tc_reachable "$NS_A" 198.51.100.1
	wait_for -m "IPv6 reachability A -> B through R" tc_reachable "$NS_A" 2001:db8:2::1
	log "topology up: $NS_A -- $NS_R -- $NS_B${mtu:+ (mtu $mtu)}"
}

# ---------------------------------------------------------------------------
# Daemon.

declare -A TC_DPID=()
declare -A TC_DLOG=()
declare -A TC_DSOCK=()	# the control socket of the daemon tc_start started
TC_DSEQ=0

# tc_start NS [DAEMON ARGS...]: firewall up in NS, daemon in the background,
# wait for "ready queue=N" in its log.
tc_start() {
	local ns=$1 log pid
	shift
	[[ -n $TC_DAEMON ]] || tc_need_daemon
	# one log per daemon run: a test may restart daemons (t02)
	TC_DSEQ=$((TC_DSEQ + 1))
	log="$TC_WORK/daemon-$TC_DSEQ-$ns.log"
	: >"$log"
	TC_DLOG[$ns]=$log
	TC_DSOCK[$ns]="$TC_WORK/ctl-$TC_DSEQ.sock"
	TC_DAEMON_LOGS+=("$log")
	ns_exec "$ns" "$TC_FIREWALL" up --queue "$TC_QUEUE" >>"$log" 2>&1 ||
		fail "tcpcrypt-firewall up failed in $ns: $(tail -n 5 "$log")"
	if [[ ${TC_STANDIN:-} == passthrough ]]; then
		ip netns exec "$ns" "$TC_DAEMON" "$TC_QUEUE" 2>>"$log" &
	else
		# -v -v: the daemon logs the passive side's "SYN without ENO"
		# fallback only at debug level, and the tests check for it.
		# One state file per host, so a daemon started again in the
		# same namespace finds its predecessor's flows.
		ip netns exec "$ns" "$TC_DAEMON" --foreground --queue "$TC_QUEUE" --config /dev/null \
			--socket "${TC_DSOCK[$ns]}" --state-file "$TC_STATE_DIR/flows-$ns" \
			-v "$@" 2>>"$log" &
	fi
	pid=$!
	tc_track "$pid"
	TC_DPID[$ns]=$pid
	local deadline=$(($(date +%s) + 10))
	until grep -q "ready queue=$TC_QUEUE" "$log"; do
		kill -0 "$pid" 2>/dev/null || fail "daemon in $ns exited before it was ready"
		(($(date +%s) <= deadline)) || fail "daemon in $ns not ready after 10s (no 'ready queue=$TC_QUEUE' in $log)"
		sleep 0.05
	done
	log "daemon ready in $ns (pid $pid, log $log)"
}

# tc_stop NS: SIGTERM, wait, check exit status 0, firewall down; log kept.
tc_stop() {
	local ns=$1 pid
	pid=${TC_DPID[$ns]:-}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_pid "$pid" 10 "daemon in $ns after SIGTERM"
	unset "TC_DPID[$ns]"
	ns_exec "$ns" "$TC_FIREWALL" down >>"${TC_DLOG[$ns]}" 2>&1 || fail "tcpcrypt-firewall down failed in $ns"
	((TC_WAIT_RC == 0)) || fail "daemon in $ns exited with status $TC_WAIT_RC after SIGTERM (want 0)"
	log "daemon in $ns stopped"
}

# tc_counter NS NAME: value of a counter printed at exit (daemon stopped).
tc_counter() {
	local v
	v=$(awk -v n="$2" '$1 == "counter" && $2 == n { v = $3 } END { if (v != "") print v }' "${TC_DLOG[$1]}")
	[[ -n $v ]] || fail "counter $2 not found in ${TC_DLOG[$1]} (daemon stopped? counters print at exit)"
	echo "$v"
}

# tc_live NS NAME: a counter (or gauge) of the daemon running in NS, read
# through its control socket (tc_counter reads the one it printed at exit).
tc_live() {
	local v
	[[ -n ${TC_TCNETSTAT:-} ]] || TC_TCNETSTAT=$(tc_find_built util/tcnetstat) ||
		fail "util/tcnetstat is not built"
	v=$(ns_exec "$1" "$TC_TCNETSTAT" -S "${TC_DSOCK[$1]}" -s --tsv |
		awk -F'\t' -v n="$2" '$1 == n { print $2 }')
	[[ -n $v ]] || fail "tcnetstat -s in $1: no counter $2"
	echo "$v"
}

expect_counter() {
	local ns=$1 name=$2 want=$3 got
	got=$(tc_counter "$ns" "$name")
	[[ $got == "$want" ]] || fail "counter $name in $ns is $got, want $want"
}

# tc_sid NS PORT [ROLE]: the session ID the daemon in NS logged for the
# encrypted connection that has PORT in its 4-tuple (last one if several).
tc_sid() {
	local ns=$1 port=$2 role=${3:-} line
	line=$(grep -E "encrypted" "${TC_DLOG[$ns]}" | grep -E "sid=[0-9a-f]{66}" |
		grep -E "[^0-9]${port}([^0-9]|$)" | tail -n 1) || true
	[[ -n $line ]] || fail "no 'encrypted ... sid=' line for port $port in ${TC_DLOG[$ns]}"
	if [[ -n $role ]] && ! grep -qE "(^|[^a-z])role=$role([^A-Za-z]|$)" <<<"$line"; then
		fail "daemon in $ns logged '$line', want role=$role"
	fi
	grep -oE "sid=[0-9a-f]{66}" <<<"$line" | head -n 1 | cut -d= -f2
}

# expect_same_sid PORT: both daemons agree on the session of that connection.
expect_same_sid() {
	local port=$1 sa sb
	sa=$(tc_sid "$NS_A" "$port" A) || exit 1
	sb=$(tc_sid "$NS_B" "$port" B) || exit 1
	[[ $sa == "$sb" ]] || fail "session IDs differ for port $port: A=$sa B=$sb"
	log "port $port: same sid on both hosts: ${sa:0:16}..."
}

# expect_plaintext NS PORT: the daemon in NS logged a plaintext fallback for
# the connection with PORT in its 4-tuple, and no encrypted line for it.
expect_plaintext() {
	local ns=$1 port=$2 line
	line=$(grep -E "plaintext" "${TC_DLOG[$ns]}" | grep -E "[^0-9]${port}([^0-9]|$)" | tail -n 1) || true
	[[ -n $line ]] || fail "no 'plaintext' line for port $port in ${TC_DLOG[$ns]}"
	grep -q "reason=" <<<"$line" || fail "plaintext line without reason=: $line"
	if grep -E "encrypted.*sid=" "${TC_DLOG[$ns]}" | grep -cE "[^0-9]${port}([^0-9]|$)" >/dev/null; then
		fail "daemon in $ns logged port $port as encrypted too"
	fi
	log "daemon in $ns: plaintext for port $port (${line##*reason=})"
}

# ---------------------------------------------------------------------------
# Impairments in R.

# r_rule CMD ARGS...: add a rule in R (CMD iptables or ip6tables); the last
# argument pair should include "-m comment --comment NAME" to read it back.
r_rule() {
	ns_exec "$NS_R" "$@" || fail "rule in R failed: $*"
}

# r_pkts CMD TABLE CHAIN COMMENT: packet counter of the rule with COMMENT.
r_pkts() {
	local n
	n=$(ns_exec "$NS_R" "$1" -t "$2" -L "$3" -v -x -n | awk -v c="/* $4 */" 'index($0, c) { print $1; exit }')
	[[ -n $n ]] || fail "no rule with comment $4 in R's $1 $2 $3"
	echo "$n"
}

# ---------------------------------------------------------------------------
# Capture in R.

declare -A TC_CAP_PID=()
declare -A TC_CAP_ERR=()

# cap_start NAME [IFACE [SNAPLEN]]  (not in a subshell: it records the pid)
# tcpdump in R on IFACE (default eth-a, the A side: it sees what A sends
# before R's FORWARD rules act, and what A receives after them).  Writes
# $TC_WORK/NAME.pcap.  Besides TCP it records UDP to port 9: the sentinel
# that cap_stop sends to know the capture is complete.
declare -A TC_CAP_IF=()
cap_start() {
	local name=$1 ifc=${2:-eth-a} snap=${3:-262144} pcap err pid
	pcap="$TC_WORK/$name.pcap"
	err="$TC_WORK/$name.tcpdump.err"
	# No --immediate-mode: immediate mode uses a ring of fixed-size slots
	# (one per snaplen), which overflows at full speed with a large snaplen;
	# the default block ring does not.  -U writes each packet as it comes out
	# of the ring; -B gives the ring 64 MiB.
	ip netns exec "$NS_R" tcpdump -n -i "$ifc" -s "$snap" -B 65536 -U \
		-w "$pcap" 'tcp or (udp and dst port 9)' 2>"$err" &
	pid=$!
	tc_track "$pid"
	TC_CAP_PID[$name]=$pid
	TC_CAP_ERR[$name]=$err
	TC_CAP_IF[$name]=$ifc
	local deadline=$(($(date +%s) + 10))
	until grep -q "listening on" "$err"; do
		kill -0 "$pid" 2>/dev/null || fail "tcpdump $name died: $(cat "$err")"
		(($(date +%s) <= deadline)) || fail "tcpdump $name not capturing after 10s"
		sleep 0.05
	done
}

# cap_file NAME: path of a capture.
cap_file() { echo "$TC_WORK/$1.pcap"; }

# cap_stop NAME [--drops-ok]: stop the capture; fail if tcpdump reports
# kernel drops (a capture with holes cannot prove anything is absent) unless
# the capture only serves per-segment checks.
cap_stop() {
	local name=$1 drops_ok=${2:-} pid err pcap dst drops
	pid=${TC_CAP_PID[$name]}
	err=${TC_CAP_ERR[$name]}
	pcap="$TC_WORK/$name.pcap"
	if [[ ${TC_CAP_IF[$name]} == eth-b ]]; then dst=198.51.100.1; else dst=192.0.2.1; fi
	# Packets leave the capture ring in order, so once a datagram that R sends
	# now is in the file, everything the transfer put on the link before it
	# is there too.  (Polling the file, not sleeping for the ring timeout.)
	local deadline=$(($(date +%s) + 10))
	until tcpdump -r "$pcap" -c 1 'udp and dst port 9' 2>/dev/null | grep -c . >/dev/null; do
		(($(date +%s) <= deadline)) || fail "capture $name: sentinel datagram never reached the file"
		ns_exec "$NS_R" python3 -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"tcpcrypt-test-sentinel", (sys.argv[1], 9))' "$dst"
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null || true
	wait_pid "$pid" 10 "tcpdump $name"
	drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$err")
	[[ -z $drops || $drops == 0 || $drops_ok == --drops-ok ]] || fail "tcpdump $name: $drops packets dropped by kernel; capture incomplete"
	log "capture $name: $(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$err") packets, ${drops:-0} dropped"
}

# wirecheck SUBCOMMAND PCAP [ARGS...]: assert; fail with its message.
wirecheck() {
	local out
	if ! out=$(python3 "$TC_WIRECHECK" "$@" 2>&1); then
		fail "wire check '$1' on $(basename "$2") failed:
$out"
	fi
	log "$out"
}

# ---------------------------------------------------------------------------
# Payloads and transfers.

# rand_tag: a fresh random hex string for markers.
rand_tag() { head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# make_payload FILE SIZE_BYTES MARKER: marker lines at the start, middle and
# end of random data, so a plaintext leak anywhere in the stream shows.
make_payload() {
	local f=$1 size=$2 marker=$3 half=$(($2 / 2))
	{
		printf '%s-BEGIN\n' "$marker"
		head -c "$half" /dev/urandom
		printf '\n%s-MIDDLE\n' "$marker"
		head -c "$((size - half))" /dev/urandom
		printf '\n%s-END\n' "$marker"
	} >"$f"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

expect_same_file() {
	local want=$1 got=$2 what=$3
	[[ -f $got ]] || fail "$what: $got was not written"
	local a b
	a=$(sha "$want")
	b=$(sha "$got")
	[[ $a == "$b" ]] || fail "$what: sha256 mismatch: sent $a ($(stat -c %s "$want") bytes), received $b ($(stat -c %s "$got") bytes)"
	log "$what: sha256 ok ($(stat -c %s "$got") bytes)"
}

# socat_push PORT FILE [DEST] [FAMILY]: send FILE from A to B through socat and
# check that B stored exactly FILE.  DEST defaults to B's IPv4 address.
socat_push() {
	local port=$1 file=$2 dest=${3:-198.51.100.1} fam=${4:-4} out spid conn listen
	out="$TC_WORK/recv-$port.bin"
	if [[ $fam == 6 ]]; then
		listen="TCP6-LISTEN:$port,reuseaddr,ipv6only=1"
		conn="TCP6:[$dest]:$port,connect-timeout=20"
	else
		listen="TCP4-LISTEN:$port,reuseaddr"
		conn="TCP4:$dest:$port,connect-timeout=20"
	fi
	ip netns exec "$NS_B" socat -u "$listen" "CREATE:$out" &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	ns_exec "$NS_A" timeout 60 socat -u "OPEN:$file" "$conn" ||
		fail "socat client A -> $dest:$port failed (status $?)"
	wait_pid "$spid" 30 "socat server on port $port"
	((TC_WAIT_RC == 0)) || fail "socat server on port $port exited with $TC_WAIT_RC"
	expect_same_file "$file" "$out" "socat A -> B port $port"
}

# http_fetch PORT FILE [ADDR] [FAMILY]: B serves FILE's directory with
# python3 -m http.server; A fetches it with curl; same bytes.
http_fetch() {
	local port=$1 file=$2 addr=${3:-198.51.100.1} fam=${4:-4} dir url out spid
	dir=$(dirname "$file")
	out="$TC_WORK/curl-$port.bin"
	ip netns exec "$NS_B" python3 -m http.server "$port" --bind "$addr" --directory "$dir" \
		>"$TC_WORK/http-$port.log" 2>&1 &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	if [[ $fam == 6 ]]; then url="http://[$addr]:$port/$(basename "$file")"; else url="http://$addr:$port/$(basename "$file")"; fi
	ns_exec "$NS_A" timeout 60 curl -g -sS --fail --connect-timeout 20 -o "$out" "$url" ||
		fail "curl $url failed (status $?)"
	expect_same_file "$file" "$out" "curl $url"
	kill -TERM "$spid" 2>/dev/null || true
}
