#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t21 (long): one encrypted connection carries more than 4 GiB in each
# direction at once, so both directions' sequence numbers wrap and the
# stream offsets pass 2^32; every byte arrives intact and no MAC fails.
# Both directions go through five key generations, and the daemons enter
# and wipe exactly the generations the key schedule calls for.
# T21_BYTES overrides the size for local runs.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"
bytes=${T21_BYTES:-$((4 * 1024 * 1024 * 1024 + 64 * 1024 * 1024))}
BIG="$TC_NETNS_DIR/bigstream.py"

ip netns exec "$NS_B" python3 "$BIG" serve 198.51.100.1 5021 "$bytes" t21 >"$TC_WORK/b.out" 2>&1 &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5021
t0=$(date +%s%N)
ns_exec "$NS_A" timeout 900 python3 "$BIG" connect 198.51.100.1 5021 "$bytes" t21 >"$TC_WORK/a.out" 2>&1 ||
	fail "client failed: $(cat "$TC_WORK/a.out")"
wait_pid "$spid" 60 "server"
((TC_WAIT_RC == 0)) || fail "server failed: $(cat "$TC_WORK/b.out")"
ms=$((($(date +%s%N) - t0) / 1000000))
tc_stop "$NS_A"
tc_stop "$NS_B"

a_sent=$(awk '$1 == "sent" { print $2 }' "$TC_WORK/a.out")
a_recv=$(awk '$1 == "received" { print $2 }' "$TC_WORK/a.out")
b_sent=$(awk '$1 == "sent" { print $2 }' "$TC_WORK/b.out")
b_recv=$(awk '$1 == "received" { print $2 }' "$TC_WORK/b.out")
[[ -n $a_sent && $a_sent == "$b_recv" ]] || fail "A -> B stream differs: sent $a_sent, received $b_recv"
[[ -n $b_sent && $b_sent == "$a_recv" ]] || fail "B -> A stream differs: sent $b_sent, received $a_recv"
log "$bytes bytes each way intact in $ms ms ($((bytes * 16 / (ms * 1000))) Mbit/s both ways)"
expect_same_sid 5021
# Rekeying (doc/protocol.md section 5.2): one generation per GiB of each
# direction's stream offsets.  Offsets count the Init message too (Init1 77
# bytes with both suites offered, Init2 74), and the FIN one more, so A's
# stream ends in generation ga and B's in gb.  A segment's tag key is that
# of index floor(seq_offset / G) + floor(ack_offset / G) of the sender's
# chain, and the last segments of each direction (the second FIN, the
# final ACK) have both offsets at the ends of the streams: every daemon
# derives both of its chains (it sends with one, verifies with the other)
# up to index ga + gb, and gen_entered counts each generation beyond 0 once
# per chain.  Wiping moves each chain's low end up to the generation of the
# end of its stream (sender: of SND.UNA - 1, the FIN; receiver: of what its
# kernel acknowledged), ga for one chain and gb for the other; gen_wiped
# counts those steps.  (Exact for sizes that do not end within a few bytes
# of a GiB boundary, as the default does not.)
G=$((1 << 30))
ga=$(((77 + bytes + 1) / G))
gb=$(((74 + bytes + 1) / G))
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	expect_counter "$ns" encrypted_flows 1
	expect_counter "$ns" seal_fail 0
	expect_counter "$ns" gen_entered $((2 * (ga + gb)))
	expect_counter "$ns" gen_wiped $((ga + gb))
	log "$ns: gen_entered $((2 * (ga + gb))), gen_wiped $((ga + gb)) (streams end in generations $ga and $gb)"
done
log "PASS"
