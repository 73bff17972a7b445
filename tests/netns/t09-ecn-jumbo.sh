#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t09: ECN-capable SYNs (SYN|ECE|CWR) and 9000-byte jumbo frames.  Both
# hosts negotiate ECN, the links have MTU 9000, and a 20 MB transfer goes
# through encrypted in segments far larger than 1500 bytes: nothing in the
# daemon assumes a flag combination or an MTU.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup 9000
for ns in "$NS_A" "$NS_B"; do
	ns_exec "$ns" sysctl -qw net.ipv4.tcp_ecn=1
done
tc_start "$NS_A"
tc_start "$NS_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((20 * 1024 * 1024)) "$marker"
cap_start jumbo eth-a 256
socat_push 5009 "$TC_WORK/bulk.bin"
cap_stop jumbo --drops-ok
tc_stop "$NS_A"
tc_stop "$NS_B"

pcap=$(cap_file jumbo)
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
# The SYN asked for ECN (ECE and CWR set together with SYN) and the SYN-ACK
# agreed (ECE), so the daemon handled both flag combinations.
ecn_syn=$(tcpdump -r "$pcap" -n 'tcp[13] & 0xd2 == 0xc2' 2>/dev/null | wc -l)
ecn_synack=$(tcpdump -r "$pcap" -n 'tcp[13] & 0xd2 == 0x52' 2>/dev/null | wc -l)
((ecn_syn >= 1)) || fail "no SYN with ECE|CWR on the wire: ECN was not negotiated"
((ecn_synack >= 1)) || fail "no SYN-ACK with ECE on the wire"
# Jumbo frames were really used: segments longer than 8000 bytes.
big=$(tcpdump -r "$pcap" -n 'greater 8000 and tcp dst port 5009' 2>/dev/null | wc -l)
((big > 100)) || fail "only $big segments above 8000 bytes: jumbo frames not used"
log "ECN SYN $ecn_syn, SYN-ACK $ecn_synack; $big segments above 8000 bytes"
expect_same_sid 5009
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	expect_counter "$ns" oversize_drop 0
	expect_counter "$ns" encrypted_flows 1
done
log "PASS"
