#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh: the two-host demonstration.  Installs what is missing, builds,
# then in network namespaces: host A and host B each run tcpcryptd, a router
# R between them captures the wire.  An unmodified client (socat) on A
# talks to an unmodified server (socat) on B.  Shows what B received, the
# session ID both daemons derived, and the captured wire with no plaintext.
#
#   sudo scripts/demo.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "demo.sh: needs root (namespaces, NFQUEUE): sudo $0" >&2; exit 1; }
echo "== building (scripts/build.sh)"
builddir=$("$top/scripts/build.sh" | tail -n 1)
export TCPCRYPTD=$builddir/tcpcryptd

# The system tests' plumbing: topology, daemons, capture, cleanup trap.
# shellcheck source=SCRIPTDIR/../tests/netns/lib.sh
. "$top/tests/netns/lib.sh"

echo
echo "== two hosts: A 192.0.2.1 --- router R --- B 198.51.100.1"
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

message="Attack at dawn. The password is swordfish. ($(rand_tag))"
cap_start demo

echo
echo "== B listens with socat; A sends one line with socat"
ip netns exec "$NS_B" socat -u TCP4-LISTEN:7777,reuseaddr "CREATE:$TC_WORK/received.txt" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 7777
printf '%s\n' "$message" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:7777,connect-timeout=10
wait_pid "$spid" 20 "socat server"
cap_stop demo
tc_stop "$NS_A"
tc_stop "$NS_B"

echo "   A sent:     $message"
echo "   B received: $(cat "$TC_WORK/received.txt")"
[[ $(cat "$TC_WORK/received.txt") == "$message" ]] || fail "B did not receive what A sent"

echo
echo "== what each daemon logged when the connection switched to encrypted"
grep -h "encrypted .*:7777" "${TC_DLOG[$NS_A]}" | sed 's/^/   host A: /'
grep -h "encrypted .*:7777" "${TC_DLOG[$NS_B]}" | sed 's/^/   host B: /'
sid_a=$(tc_sid "$NS_A" 7777 A)
sid_b=$(tc_sid "$NS_B" 7777 B)
echo "   session ID on A: $sid_a"
echo "   session ID on B: $sid_b"
[[ $sid_a == "$sid_b" ]] || fail "the two ends derived different session IDs"
echo "   -> the same on both ends"

pcap=$(cap_file demo)
echo
echo "== the wire as R saw it (tcpdump -v: option 69 is TCP-ENO, 253 the MAC)"
tcpdump -r "$pcap" -n -v 'tcp port 7777' 2>/dev/null | grep -E "Flags|options" | sed -n 1,12p | sed 's/^/   /'
echo
echo "== the segment that carried the message, as captured (hex and ASCII)"
# The second segment from A with payload: the first one carries Init1.
tcpdump -r "$pcap" -n -X 'tcp dst port 7777 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 0' 2>/dev/null |
	awk '/^[0-9]/ { n++ } n == 2' | sed 's/^/   /'
echo
echo "== searching the whole capture for the message (and a part of it)"
wirecheck absent "$pcap" "$message" "swordfish"
echo "   not found: the wire carried only ciphertext"
