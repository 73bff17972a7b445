#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t06: who speaks first must not matter.
#  1. server speaks first: B sends a banner (marker line + 1 MB) on accept,
#     A reads it all, then answers with 1 MB.
#  2. client speaks first: A sends 1 MB, B reads it all, then answers 1 MB.
#  3. both at once: each side sends 10 MB while receiving 10 MB.
# Every received byte stream is checked by sha256 on the receiving side, and
# the wire must show only encrypted data.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
W=$TC_WORK
make_payload "$W/banner.bin" $((1024 * 1024)) "$marker-BANNER"
make_payload "$W/reply.bin" $((1024 * 1024)) "$marker-REPLY"
make_payload "$W/a10.bin" $((10 * 1024 * 1024)) "$marker-A"
make_payload "$W/b10.bin" $((10 * 1024 * 1024)) "$marker-B"

# conversation PORT SERVER_ORDER CLIENT_ORDER SERVER_SEND CLIENT_SEND
conversation() {
	local port=$1 sorder=$2 corder=$3 ssend=$4 csend=$5 spid
	ip netns exec "$NS_B" python3 "$TC_TCPIO" serve 198.51.100.1 "$port" \
		--order "$sorder" --send "$ssend" --recv "$W/srv-$port.bin" &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	ns_exec "$NS_A" timeout 60 python3 "$TC_TCPIO" connect 198.51.100.1 "$port" \
		--order "$corder" --send "$csend" --recv "$W/cli-$port.bin" ||
		fail "client on port $port ($corder) failed"
	wait_pid "$spid" 30 "server on port $port"
	((TC_WAIT_RC == 0)) || fail "server on port $port ($sorder) exited with $TC_WAIT_RC"
	expect_same_file "$ssend" "$W/cli-$port.bin" "port $port B -> A"
	expect_same_file "$csend" "$W/srv-$port.bin" "port $port A -> B"
}

cap_start dirs
log "--- server speaks first"
conversation 5501 send-first recv-first "$W/banner.bin" "$W/reply.bin"
log "--- client speaks first"
conversation 5502 recv-first send-first "$W/reply.bin" "$W/banner.bin"
log "--- both directions at once"
conversation 5503 both both "$W/b10.bin" "$W/a10.bin"
cap_stop dirs

tc_stop "$NS_A"
tc_stop "$NS_B"

pcap=$(cap_file dirs)
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"
for port in 5501 5502 5503; do expect_same_sid "$port"; done
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
log "PASS"
