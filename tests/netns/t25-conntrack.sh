#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t25: conntrack sees every segment of an encrypted connection as valid.
# The daemon rewrites sequence numbers (the Init messages take sequence
# space on the wire only), so conntrack's window check would class most
# segments INVALID and detach them from their entry: no connmark, no
# ESTABLISHED.  tcpcryptd relaxes the window check of each encrypted
# connection through ctnetlink (doc/conntrack.md).  Checked in both A and
# B, while a slow line-by-line connection (IPv4) stays open and a 4 MiB
# transfer (IPv6) runs:
#   - conntrack -L shows the open connection ESTABLISHED, with the
#     encrypted bit 0x40000000 in its mark;
#   - the INVALID counters of conntrack -S (summed over CPUs) do not grow;
#   - both transfers arrive intact, the marker never on the wire, and each
#     daemon counts its conntrack updates (ct_liberal_set) without failures.
. "$(dirname "$0")/lib.sh"
tc_require_tools conntrack
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"
IO="$TC_SRCDIR/tests/netns/restartio.py"
ENC=$((0x40000000))

# invalid NS: conntrack's INVALID counter in NS, all CPUs.
invalid() {
	ns_exec "$1" conntrack -S | sed -n 's/.*[[:space:]]invalid=\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# ct_entry NS PORT: conntrack's line for the TCP connection to PORT.
ct_entry() { ns_exec "$1" conntrack -L -p tcp --dport "$2" 2>/dev/null | head -n 1; }

# ct_encrypted NS PORT: the entry is ESTABLISHED and its mark has the bit.
ct_encrypted() {
	local line mark
	line=$(ct_entry "$1" "$2")
	[[ $line == *" ESTABLISHED "* ]] || return 1
	mark=$(sed -n 's/.* mark=\([0-9]*\).*/\1/p' <<<"$line")
	[[ -n $mark ]] && ((mark & ENC))
}

# Per-packet view, after the queue rules (table filter): packets of the
# two test connections that conntrack left without an entry (INVALID), and
# those whose entry lacks the encrypted bit.
for ns in "$NS_A" "$NS_B"; do
	for ipt in iptables ip6tables; do
		for ch in INPUT OUTPUT; do
			ns_exec "$ns" "$ipt" -A "$ch" -p tcp -m multiport --ports 5025,5026 \
				-m conntrack --ctstate INVALID
			ns_exec "$ns" "$ipt" -A "$ch" -p tcp -m multiport --ports 5025,5026 \
				-m connmark ! --mark $ENC/$ENC
		done
	done
done

# rule_pkts NS N: packets counted by the Nth rule of INPUT plus OUTPUT, both
# families.
rule_pkts() {
	local ns=$1 n=$2 ipt ch sum=0 v
	for ipt in iptables ip6tables; do
		for ch in INPUT OUTPUT; do
			v=$(ns_exec "$ns" "$ipt" -L "$ch" -v -x -n | awk -v n="$n" 'NR == n + 2 { print $1 }')
			sum=$((sum + v))
		done
	done
	echo "$sum"
}

inv_a0=$(invalid "$NS_A")
inv_b0=$(invalid "$NS_B")
log "INVALID before: A $inv_a0, B $inv_b0"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
cap_start data

# A slow, long-lived connection: a marker line every 5 ms until the gate.
ip netns exec "$NS_B" timeout 60 python3 "$IO" recv 198.51.100.1 5025 >"$TC_WORK/lines-recv.out" 2>&1 &
rpid=$!
tc_track "$rpid"
wait_listen "$NS_B" 5025
ip netns exec "$NS_A" timeout 60 python3 "$IO" send 198.51.100.1 5025 "$marker-LINES" "$TC_WORK/gate" \
	>"$TC_WORK/lines-send.out" 2>&1 &
spid=$!
tc_track "$spid"
wait_for -m "the line-by-line connection is under way" grep -q "^progress" "$TC_WORK/lines-send.out"

# Bulk data over IPv6 while it is open.
make_payload "$TC_WORK/bulk.bin" $((4 * 1024 * 1024)) "$marker-BULK"
socat_push 5026 "$TC_WORK/bulk.bin" 2001:db8:2::1 6

# Still open: what conntrack says about it on both hosts.
for ns in "$NS_A" "$NS_B"; do
	wait_for -t 5 -m "conntrack in $ns: port 5025 ESTABLISHED with mark 0x40000000 ($(ct_entry "$ns" 5025))" \
		ct_encrypted "$ns" 5025
	log "conntrack in $ns: $(ct_entry "$ns" 5025)"
done

touch "$TC_WORK/gate"
wait_pid "$spid" 30 "line sender"
((TC_WAIT_RC == 0)) || fail "line sender failed: $(cat "$TC_WORK/lines-send.out")"
wait_pid "$rpid" 30 "line receiver"
((TC_WAIT_RC == 0)) || fail "line receiver failed: $(cat "$TC_WORK/lines-recv.out")"
s=$(grep '^sent ' "$TC_WORK/lines-send.out" | cut -d' ' -f2-)
r=$(grep '^recv ' "$TC_WORK/lines-recv.out" | cut -d' ' -f2-)
[[ -n $s && $s == "$r" ]] || fail "lines: sent '$s' but received '$r'"
log "lines: intact: $s"
cap_stop data

inv_a1=$(invalid "$NS_A")
inv_b1=$(invalid "$NS_B")
log "INVALID after: A $inv_a1, B $inv_b1"
for ns in "$NS_A" "$NS_B"; do
	ni=$(rule_pkts "$ns" 1)
	nu=$(rule_pkts "$ns" 2)
	log "$ns: test packets without a conntrack entry: $ni; without the encrypted bit: $nu"
	((ni == 0)) || fail "$ns: $ni packets of the test connections had no conntrack entry"
	# Only the handshake comes before the bit: SYN, SYN-ACK and the
	# first ACK at most, per connection.
	((nu <= 6)) || fail "$ns: $nu packets of the test connections lacked the encrypted bit"
done
((inv_a1 == inv_a0)) || fail "conntrack in A classed $((inv_a1 - inv_a0)) packets INVALID during the transfers"
((inv_b1 == inv_b0)) || fail "conntrack in B classed $((inv_b1 - inv_b0)) packets INVALID during the transfers"

tc_stop "$NS_A"
tc_stop "$NS_B"
data=$(cap_file data)
wirecheck syn-has-eno "$data"
wirecheck data-has-mac "$data"
wirecheck absent "$data" "$marker"
expect_same_sid 5025
expect_same_sid 5026
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	expect_counter "$ns" ct_liberal_fail 0
	n=$(tc_counter "$ns" ct_liberal_set)
	((n >= 2)) || fail "ct_liberal_set in $ns is $n, want >= 2 (one per connection)"
done
log "PASS"
