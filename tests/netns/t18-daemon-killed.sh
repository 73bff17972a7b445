#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t18: tcpcryptd dies or is restarted in the middle of an encrypted transfer
# (A sends marker lines to B every 5 ms), and each time not one plaintext
# byte of the connection reaches the wire (capture in R):
#   (a) kill -9 of both daemons; new daemons started while A's kernel
#       retransmits into the dead queue take the connection over from their
#       state files and the transfer completes with the right sha256;
#   (b) the same with SIGTERM of A's daemon and "tcpcrypt-firewall down",
#       then "up" and a new daemon, as an upgrade or systemd restart does
#       (the firewall's guard keeps the connection frozen while no rules
#       are up; without it A's kernel would send the lines in clear) --
#       over IPv6;
#   (c) kill -9 and the state file made unusable (its header names another
#       layout of the flow slots, as after an upgrade that changed it): the
#       new daemon says so, starts with an empty table and cannot resume,
#       so both applications get ECONNRESET (never silence, never clear).
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"
IO="$TC_SRCDIR/tests/netns/restartio.py"
declare -A RPID=() SPID=()

# start_transfer NAME ADDR PORT MARKER: receiver in B, sender in A, and
# wait until lines flow and both daemons call the connection encrypted.
start_transfer() {
	local name=$1 addr=$2 port=$3 marker=$4
	ip netns exec "$NS_B" timeout 120 python3 "$IO" recv "$addr" "$port" >"$TC_WORK/$name-recv.out" 2>&1 &
	RPID[$name]=$!
	tc_track "${RPID[$name]}"
	wait_listen "$NS_B" "$port"
	ip netns exec "$NS_A" timeout 120 python3 "$IO" send "$addr" "$port" "$marker" "$TC_WORK/$name.gate" \
		>"$TC_WORK/$name-send.out" 2>&1 &
	SPID[$name]=$!
	tc_track "${SPID[$name]}"
	wait_for -m "$name: the transfer is under way" grep -q "^progress" "$TC_WORK/$name-send.out"
	wait_for -m "$name: A's daemon calls it encrypted" grep -q "encrypted .*$port" "${TC_DLOG[$NS_A]}"
	wait_for -m "$name: B's daemon calls it encrypted" grep -q "encrypted .*$port" "${TC_DLOG[$NS_B]}"
}

# b_received PORT: bytes B's kernel has received on the connection.
b_received() { ip netns exec "$NS_B" ss -Htni state established "( sport = :$1 )" | grep -o 'bytes_received:[0-9]*' | cut -d: -f2; }

# retransmitting NS PORT: the connection's kernel retransmits into a queue
# nobody reads (or a guard that drops).
retransmitting() {
	ip netns exec "$1" ss -tni state established "( sport = :$2 or dport = :$2 )" |
		grep -qE 'retrans:[0-9]+/[1-9]'
}

# finish NAME: open the gate; both ends must report the same bytes and sha.
finish_intact() {
	local name=$1 s r
	touch "$TC_WORK/$name.gate"
	wait_pid "${SPID[$name]}" 60 "$name: sender"
	((TC_WAIT_RC == 0)) || fail "$name: sender failed: $(cat "$TC_WORK/$name-send.out")"
	wait_pid "${RPID[$name]}" 60 "$name: receiver"
	((TC_WAIT_RC == 0)) || fail "$name: receiver failed: $(cat "$TC_WORK/$name-recv.out")"
	s=$(grep '^sent ' "$TC_WORK/$name-send.out" | cut -d' ' -f2-)
	r=$(grep '^recv ' "$TC_WORK/$name-recv.out" | cut -d' ' -f2-)
	[[ -n $s && $s == "$r" ]] || fail "$name: sent '$s' but received '$r'"
	log "$name: intact after the restart: $s"
}

resumed_count() { sed -n 's/.*resumed \([0-9]*\) flows.*/\1/p' "${TC_DLOG[$1]}" | tail -n 1; }

# --- (a) kill -9 of A's daemon, resumed ------------------------------------
ma="KILL9-MARKER-$(rand_tag)"
cap_start killed
start_transfer killed 198.51.100.1 5018 "$ma"
for ns in "$NS_A" "$NS_B"; do
	pid=${TC_DPID[$ns]}
	kill -KILL "$pid"
	wait_pid "$pid" 10 "killed daemon in $ns"
	unset "TC_DPID[$ns]"
done
wait_for -m "(a) A's kernel retransmits into the dead queue" retransmitting "$NS_A" 5018
before=$(b_received 5018)
for ns in "$NS_A" "$NS_B"; do
	tc_start "$ns"
	[[ $(resumed_count "$ns") -ge 1 ]] || fail "(a) the new daemon in $ns resumed no flow: $(grep -i 'state file' "${TC_DLOG[$ns]}")"
done
more_arrived() { (($(b_received 5018) > before)); }
wait_for -m "(a) data flows again after the restart" more_arrived
finish_intact killed
cap_stop killed
wirecheck absent "$(cap_file killed)" "$ma"

# --- (b) SIGTERM of B's daemon, firewall down and up again, IPv6 ----------
mb="SIGTERM-MARKER-$(rand_tag)"
cap_start restarted
start_transfer restarted 2001:db8:2::1 5019 "$mb"
tc_stop "$NS_A"
wait_for -m "(b) A's kernel retransmits while it has no daemon" retransmitting "$NS_A" 5019
tc_start "$NS_A"
[[ $(resumed_count "$NS_A") -ge 1 ]] || fail "(b) A's new daemon resumed no flow: $(grep -i 'state file' "${TC_DLOG[$NS_A]}")"
finish_intact restarted
cap_stop restarted
wirecheck absent "$(cap_file restarted)" "$mb"

# --- (c) kill -9, state unusable: both ends reset --------------------------
mc="LOST-MARKER-$(rand_tag)"
cap_start lost
start_transfer lost 198.51.100.1 5020 "$mc"
apid=${TC_DPID[$NS_A]}
kill -KILL "$apid"
wait_pid "$apid" 10 "killed daemon"
unset "TC_DPID[$NS_A]"
# The layout fingerprint is the header's last field, at byte 80 (struct
# flowstore_hdr in src/daemon/flowstore.h): change its lowest byte.
sf="$TC_STATE_DIR/flows-$NS_A"
fp=$(od -An -tx1 -j80 -N1 "$sf" | tr -d ' ')
printf '%b' "\\x$(printf %02x $((0x$fp ^ 0xff)))" | dd of="$sf" bs=1 seek=80 conv=notrunc status=none
[[ $(od -An -tx1 -j80 -N1 "$sf" | tr -d ' ') != "$fp" ]] || fail "(c) the state file's layout fingerprint is unchanged"
wait_for -m "(c) A's kernel retransmits into the dead queue" retransmitting "$NS_A" 5020
tc_start "$NS_A"
grep -q "state file .*another flow layout.*starting with an empty flow table" "${TC_DLOG[$NS_A]}" ||
	fail "(c) A's new daemon did not refuse the slots of another layout: $(grep -i 'state file' "${TC_DLOG[$NS_A]}")"
wait_pid "${SPID[lost]}" 30 "(c) the sender to see the reset"
grep -qx "error ECONNRESET" "$TC_WORK/lost-send.out" || fail "(c) sender: want ECONNRESET, got: $(cat "$TC_WORK/lost-send.out")"
wait_pid "${RPID[lost]}" 30 "(c) the receiver to see the reset"
grep -qx "error ECONNRESET" "$TC_WORK/lost-recv.out" || fail "(c) receiver: want ECONNRESET, got: $(cat "$TC_WORK/lost-recv.out")"
log "(c) state of another layout refused: sender and receiver both got ECONNRESET"
cap_stop lost --drops-ok
wirecheck absent "$(cap_file lost)" "$mc"

tc_stop "$NS_A"
tc_stop "$NS_B"
lost=$(tc_counter "$NS_A" lost_flow_drop)
resets=$(tc_counter "$NS_A" lost_flow_reset)
((lost > 0 && resets > 0)) || fail "(c) A's daemon counted lost_flow_drop=$lost lost_flow_reset=$resets"
log "(c) A's daemon: lost_flow_drop=$lost lost_flow_reset=$resets"
log "PASS"
