#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t13: path MTU discovery through tcpcryptd.  R's link towards B is
# narrower than A's, and nothing tells the hosts at the handshake (B's own
# link is wide, so its MSS does not help): A learns the path MTU only from
# R's ICMP "fragmentation needed" / ICMPv6 "packet too big".  Those quote
# wire sequence numbers and an MTU that does not know about the 16-byte MAC
# option; A's daemon must rewrite both or the transfer stalls.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

# ICMP errors R has sent so far: an IPv6 counter by name, and IPv4's
# OutDestUnreachs (a column of the second "Icmp:" line).
# shellcheck disable=SC2016  # awk programs, not shell expansions
icmp_out() {
	ns_exec "$NS_R" awk -v k="$1" '$1 == k { print $2 }' /proc/net/snmp6
}
# shellcheck disable=SC2016
icmp4_out() {
	ns_exec "$NS_R" awk '/^Icmp:/ { n++; if (n == 1) { for (i = 1; i <= NF; i++) h[i] = $i } else { for (i = 1; i <= NF; i++) if (h[i] == "OutDestUnreachs") print $i } }' /proc/net/snmp
}

# IPv4: a 1280-byte link in the middle.
ip -n "$NS_R" link set eth-b mtu 1280
make_payload "$TC_WORK/v4.bin" $((4 * 1024 * 1024)) "PMTU4-$(rand_tag)"
before=$(icmp4_out)
socat_push 5013 "$TC_WORK/v4.bin"
sent4=$(($(icmp4_out) - before))
((sent4 >= 1)) || fail "R sent no ICMP fragmentation-needed: the path MTU was never exercised"
log "IPv4: R sent $sent4 ICMP destination-unreachable messages"

# IPv6: packet too big from a 1400-byte link (IPv6 cannot go below 1280,
# so a 1280-byte path leaves no room for the MAC option; see tcpcrypt(7)).
ip -n "$NS_R" link set eth-b mtu 1400
make_payload "$TC_WORK/v6.bin" $((4 * 1024 * 1024)) "PMTU6-$(rand_tag)"
before=$(icmp_out Icmp6OutPktTooBigs)
socat_push 5014 "$TC_WORK/v6.bin" 2001:db8:2::1 6
sent6=$(($(icmp_out Icmp6OutPktTooBigs) - before))
((sent6 >= 1)) || fail "R sent no ICMPv6 packet-too-big: the path MTU was never exercised"
log "IPv6: R sent $sent6 ICMPv6 packet-too-big messages"

tc_stop "$NS_A"
tc_stop "$NS_B"
n=$(tc_counter "$NS_A" icmp_translated)
((n >= 2)) || fail "A's daemon translated $n ICMP errors, want at least one per family"
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	n=$(tc_counter "$ns" encrypted_flows)
	((n == 2)) || fail "encrypted_flows in $ns is $n, want 2"
done
log "PASS"
