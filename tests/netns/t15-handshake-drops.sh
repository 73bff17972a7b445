#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t15: R drops exactly one chosen packet of the connection setup -- the SYN,
# the SYN-ACK, A's final handshake ACK carrying Init1, B's Init2, the first
# data segment A -> B, the first data segment B -> A -- each in its own
# sub-case with fresh daemons and a fresh impairer, over IPv4 and IPv6.
# Every time the connection must still come up encrypted: impair's counter
# for that drop is exactly 1, both daemons log the same session ID, the data
# sent both ways at once arrives intact, no MAC failure, and the wire shows
# ENO in the SYNs, the MAC on every later segment and no plaintext marker.
#
# IMPAIR_SEED picks the PRNG seed (nothing here is random but the drops are
# by count, so the seed does not matter; it is logged for form's sake).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/impair.sh"
tc_need_daemon
impair_need
topo_setup

size=$((1024 * 1024))
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/a.bin" "$size" "$marker-A"
make_payload "$TC_WORK/b.bin" "$size" "$marker-B"

# exchange PORT ADDR: B serves on ADDR:PORT, A connects; both send their
# file and read the other's at the same time (tcpio.py --order both).
exchange() {
	local port=$1 addr=$2 spid
	rm -f "$TC_WORK/got-a.bin" "$TC_WORK/got-b.bin"
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve "$addr" "$port" --order both \
		--send "$TC_WORK/b.bin" --recv "$TC_WORK/got-b.bin" --timeout 30 &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	ns_exec "$NS_A" timeout 60 python3 "$TC_TCPIO" connect "$addr" "$port" --order both \
		--send "$TC_WORK/a.bin" --recv "$TC_WORK/got-a.bin" --timeout 30 ||
		fail "tcpio client A -> $addr:$port failed"
	wait_pid "$spid" 30 "tcpio server on port $port"
	((TC_WAIT_RC == 0)) || fail "tcpio server on port $port exited with $TC_WAIT_RC"
	expect_same_file "$TC_WORK/a.bin" "$TC_WORK/got-b.bin" "A -> B port $port"
	expect_same_file "$TC_WORK/b.bin" "$TC_WORK/got-a.bin" "B -> A port $port"
}

# subcase NAME SPEC PORT FAMILY IFACE
# The capture runs on R's interface toward the sender of the dropped packet
# (eth-a for A's, eth-b for B's): it sees that sender's packets before R's
# FORWARD chain, so the dropped packet itself is in it, and the first
# payload of each direction in it is the Init message wirecheck expects.
# (Seen from the other side, B's data that B may send as soon as it has
# Init1 comes before the retransmitted Init2, which A drops for lack of
# keys; that is allowed, doc/protocol.md section 7, but not what the check of
# "first payload is the Init" can tell apart from a broken sender.)
subcase() {
	local name=$1 spec=$2 port=$3 fam=$4 ifc=$5 addr counter pcap
	if [[ $fam == 6 ]]; then addr=2001:db8:2::1; else addr=198.51.100.1; fi
	log "---- $name (IPv$fam, port $port): drop $spec once"
	tc_start "$NS_A"
	tc_start "$NS_B"
	impair_start --seed "${IMPAIR_SEED:-15}" --drop "$spec"
	cap_start "$name" "$ifc"
	exchange "$port" "$addr"
	cap_stop "$name"
	impair_stop
	tc_stop "$NS_A"
	tc_stop "$NS_B"

	# drop_KIND_N[_FILTER_PORT], as impair names the counter
	counter="drop_${spec//[:=]/_}"
	n=$(impair_stat "$counter")
	((n == 1)) || fail "$name: impair counter $counter is $n, want exactly 1 (the packet was never seen)"
	n=$(impair_stat spec_dropped)
	((n == 1)) || fail "$name: impair dropped $n packets by spec, want 1"
	expect_same_sid "$port"
	expect_counter "$NS_A" mac_fail 0
	expect_counter "$NS_B" mac_fail 0
	pcap=$(cap_file "$name")
	wirecheck syn-has-eno "$pcap"
	wirecheck data-has-mac "$pcap"
	wirecheck absent "$pcap" "$marker"
	# A lost Init is recovered by the daemon itself (doc/protocol.md section 9)
	case $spec in
	init1:*) n=$(tc_counter "$NS_A" init_retransmit) ;;
	init2:*) n=$(tc_counter "$NS_B" init_retransmit) ;;
	*) n=1 ;;
	esac
	((n >= 1)) || fail "$name: the Init sender's init_retransmit counter is $n, want >= 1"
	log "$name: ok"
}

port=5700
for fam in 4 6; do
	subcase "v$fam-syn" syn:1 $((port + 1)) "$fam" eth-a
	subcase "v$fam-synack" synack:1 $((port + 2)) "$fam" eth-b
	subcase "v$fam-init1" init1:1 $((port + 3)) "$fam" eth-a
	subcase "v$fam-init2" init2:1 $((port + 4)) "$fam" eth-b
	subcase "v$fam-data-ab" "data:1:dport=$((port + 5))" $((port + 5)) "$fam" eth-a
	subcase "v$fam-data-ba" "data:1:sport=$((port + 6))" $((port + 6)) "$fam" eth-b
	port=$((port + 10))
done
log "PASS"
