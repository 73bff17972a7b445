#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t03: middleboxes that dislike option 69.
#  1. R strips ENO from SYNs: both daemons must fall back to plaintext and
#     the transfer must still work (markers visible, no MAC).
#  2. R drops SYNs that carry ENO: A's daemon, after two unanswered
#     retransmissions, retries without ENO (doc/protocol.md section 9), so the
#     connection comes up (in plaintext) a few seconds late.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((4 * 1024 * 1024)) "$marker"

log "--- part 1: R strips option 69 from SYNs"
r_rule iptables -t mangle -A FORWARD -p tcp --syn -m comment --comment tc-strip \
	-j TCPOPTSTRIP --strip-options 69
cap_start strip
socat_push 5201 "$TC_WORK/bulk.bin"
cap_stop strip
r_rule iptables -t mangle -D FORWARD -p tcp --syn -m comment --comment tc-strip \
	-j TCPOPTSTRIP --strip-options 69
pcap=$(cap_file strip)
wirecheck no-mac "$pcap"
wirecheck present "$pcap" "$marker-BEGIN" "$marker-END"
# The capture is on A's side of R: A's SYN still has ENO, B never answered it.
n=$(python3 "$TC_WIRECHECK" count-syn-with-opt "$pcap" 69)
((n >= 1)) || fail "A's SYN did not carry ENO before R stripped it"
n=$(python3 "$TC_WIRECHECK" count-syn-with-opt "$pcap" 69 --synack)
((n == 0)) || fail "B answered with ENO although R stripped it ($n SYN-ACKs)"
expect_plaintext "$NS_A" 5201
expect_plaintext "$NS_B" 5201

log "--- part 2: R drops SYNs carrying option 69"
r_rule iptables -A FORWARD -p tcp --syn -m tcp --tcp-option 69 -m comment --comment tc-drop-eno -j DROP
cap_start dropsyn
t_start=$(date +%s)
socat_push 5202 "$TC_WORK/bulk.bin"
t_took=$(($(date +%s) - t_start))
cap_stop dropsyn
drops=$(r_pkts iptables filter FORWARD tc-drop-eno)
log "R dropped $drops SYNs with ENO; transfer took ${t_took}s"
# SYN + two retransmissions with ENO, then the retry without it.
((drops >= 1 && drops <= 3)) || fail "R dropped $drops ENO SYNs, want 1..3 (fallback after two retransmissions)"
pcap=$(cap_file dropsyn)
wirecheck no-mac "$pcap"
wirecheck present "$pcap" "$marker-BEGIN" "$marker-END"
plain_syns=$(python3 -c '
import sys; sys.path.insert(0, sys.argv[1]); import wirecheck as w
segs = w.read_pcap(sys.argv[2])
print(sum(1 for s in segs if s.flags & w.SYN and not s.flags & w.ACK and not s.has_opt(69)))
' "$TC_NETNS_DIR" "$pcap")
((plain_syns >= 1)) || fail "no SYN without ENO seen: A never retried without it"
expect_plaintext "$NS_A" 5202

tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
log "PASS"
