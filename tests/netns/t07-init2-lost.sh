#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t07: R drops B's Init2 segment once.  B must retransmit it (doc/protocol.md
# section 9) and the connection must still come up encrypted with the data
# intact.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup

# Match the first 4 payload bytes of a TCP segment from B: u32 skips the IPv4
# header (IHL) and the TCP header (data offset) and compares with the Init2
# magic.  "Exactly once": quota counts bytes of matching packets; an Init2
# segment is 114..154 bytes (20 IP + 20..60 TCP + 74), so a quota of 227
# admits the first one and no second one (two are at least 228).
r_rule iptables -A FORWARD -p tcp -s 198.51.100.1 \
	-m u32 --u32 '0>>22&0x3C@12>>26&0x3C@0=0x097105e0' \
	-m quota --quota 227 -m comment --comment tc-init2-drop -j DROP

tc_start "$NS_A"
tc_start "$NS_B"
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((4 * 1024 * 1024)) "$marker"

cap_start init2
socat_push 5601 "$TC_WORK/bulk.bin"
cap_stop init2
tc_stop "$NS_A"
tc_stop "$NS_B"

drops=$(r_pkts iptables filter FORWARD tc-init2-drop)
((drops == 1)) || fail "R dropped $drops Init2 segments, want exactly 1"
log "R dropped exactly one Init2 segment"
pcap=$(cap_file init2)
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"
expect_same_sid 5601
n=$(tc_counter "$NS_B" init_retransmit)
((n >= 1)) || fail "B's init_retransmit counter is $n, want >= 1"
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
log "PASS"
