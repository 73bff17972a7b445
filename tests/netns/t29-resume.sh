#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t29: session resumption, the normal paths (doc/protocol.md section 13),
# checked by counters, tcnetstat and the wire captured in R.
#   a) 20 sequential connections A -> B, data both ways: the first is fresh,
#      the other 19 resumed.  Counters resume_offered/accepted 19 and
#      resume_declined 0; tcnetstat on both hosts (closed flows linger with
#      their session ID) shows Kx fresh once and resumed 19 times, 20
#      distinct session IDs, each the same on A and B; tcpcrypt-sessid
#      (libtcpcrypt) reads the same ID from inside a resumed connection.
#      On the wire: the first SYN fresh (45 05 a0 74 32), then 19 18-byte
#      offers answered by 19-byte acceptances, no Init1/Init2 in them, the
#      MAC on every later segment, 45 02 on A's first; no plaintext marker.
#   d) no option room: a SYN from a raw socket in A whose options already
#      take 28 bytes goes out with the fresh form, not an offer, and A's
#      entry is still there for the next connection, which is resumed.
#   b) loss: R drops the SYN carrying the offer once, then (another
#      connection) the accepting SYN-ACK once: both connections are resumed
#      and intact, and the retransmissions repeat the ENO option byte for
#      byte; one offer is counted per connection, not per SYN.
#   c) policy private on both hosts: fresh, then resumed, intact, no marker.
#   e) --no-resumption on A: every SYN fresh, nothing offered.  Resumption
#      on A and off on B: A offers, B declines, the connection is fresh
#      (Init1/Init2) and intact; A's next connection offers again (its entry
#      came from the fresh exchange) and is declined again.
# About 20 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/impair.sh"
tc_need_daemon
impair_need
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
SESSID=$(tc_find_built examples/tcpcrypt-sessid) || fail "examples/tcpcrypt-sessid is not built"
"$SESSID" --help >/dev/null || fail "$SESSID --help failed"
FORGE="$TC_NETNS_DIR/forge.py"
CONNSEQ="$TC_NETNS_DIR/connseq.py"
topo_setup

A4=192.0.2.1
B4=198.51.100.1
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/up.bin" $((64 * 1024)) "$marker-UP"
make_payload "$TC_WORK/down.bin" $((16 * 1024)) "$marker-DOWN"
# expect_live NS NAME WANT
expect_live() {
	local got
	got=$(tc_live "$1" "$2") || exit 1
	[[ $got == "$3" ]] || fail "counter $2 in $1 is $got, want $3 ($4)"
}

# xfer PORT [COUNT]: COUNT (default 1) connections A -> B:PORT one after the
# other, each sending up.bin up and down.bin down at the same time; all
# arrive intact.
xfer() {
	local port=$1 count=${2:-1} spid i
	rm -f "$TC_WORK"/got-*
	ip netns exec "$NS_B" python3 "$CONNSEQ" serve "$B4" "$port" --count "$count" \
		--send "$TC_WORK/down.bin" --recv "$TC_WORK/got-up" >/dev/null 2>"$TC_WORK/server.err" &
	spid=$!
	tc_track "$spid"
	wait_listen "$NS_B" "$port"
	ns_exec "$NS_A" timeout 60 python3 "$CONNSEQ" connect "$B4" "$port" --count "$count" \
		--send "$TC_WORK/up.bin" --recv "$TC_WORK/got-down" 2>"$TC_WORK/client.err" ||
		fail "client A -> $B4:$port failed: $(cat "$TC_WORK/client.err")"
	wait_pid "$spid" 30 "server on port $port"
	((TC_WAIT_RC == 0)) || fail "server on port $port exited with $TC_WAIT_RC: $(cat "$TC_WORK/server.err")"
	for i in $(seq "$count"); do
		[[ $(sha "$TC_WORK/up.bin") == $(sha "$TC_WORK/got-up-$i") ]] ||
			fail "port $port, connection $i: A -> B data differs ($(stat -c %s "$TC_WORK/got-up-$i") bytes arrived)"
		[[ $(sha "$TC_WORK/down.bin") == $(sha "$TC_WORK/got-down-$i") ]] ||
			fail "port $port, connection $i: B -> A data differs ($(stat -c %s "$TC_WORK/got-down-$i") bytes arrived)"
	done
}

# flows NS PORT: "PAIR KX SID" for every flow with B's PORT, PAIR written
# A's side first on both hosts, from tcnetstat --tsv (columns by name).
flows() {
	local ns=$1 port=$2 side=A
	[[ $ns == "$NS_B" ]] && side=B
	ns_exec "$ns" "$TCNETSTAT" -S "${TC_DSOCK[$ns]}" --tsv | awk -F'\t' -v b="$B4:$port" -v side="$side" '
		NR == 1 { for (i = 1; i <= NF; i++) col[tolower($i)] = i; next }
		{
			if (!("kx" in col) || !("sid" in col)) { print "no kx/sid column"; exit }
			if (side == "A" && $2 == b) pair = $1 "-" $2
			else if (side == "B" && $1 == b) pair = $2 "-" $1
			else next
			print pair, $(col["kx"]), $(col["sid"])
		}' | sort
}

# expect_kx_list PORT FRESH RESUMED: both hosts list FRESH + RESUMED flows
# to B's PORT with those Kx values, distinct session IDs, equal per pair.
expect_kx_list() {
	local port=$1 nf=$2 nr=$3 fa fb n
	fa=$(flows "$NS_A" "$port")
	fb=$(flows "$NS_B" "$port")
	[[ $fa == "$fb" ]] || fail "port $port: tcnetstat on A and B differ (pair kx sid):
A:
$fa
B:
$fb"
	n=$(awk '$2 == "fresh"' <<<"$fa" | wc -l)
	((n == nf)) || fail "port $port: $n flows with Kx fresh, want $nf:
$fa"
	n=$(awk '$2 == "resumed"' <<<"$fa" | wc -l)
	((n == nr)) || fail "port $port: $n flows with Kx resumed, want $nr:
$fa"
	n=$(awk 'length($3) == 66 && $3 ~ /^[0-9a-f]+$/ { print $3 }' <<<"$fa" | sort -u | wc -l)
	((n == nf + nr)) || fail "port $port: $n distinct session IDs, want $((nf + nr)):
$fa"
	log "port $port: tcnetstat on A and B agree: Kx fresh x$nf, resumed x$nr, $n distinct session IDs"
}

# kx_lines PCAP: wirecheck kx, one line per connection in capture order.
kx_lines() { python3 "$TC_WIRECHECK" kx "$1" || fail "wirecheck kx $1 failed"; }

# --- a) 20 sequential connections: one fresh, 19 resumed -----------------------
tc_start "$NS_A"
tc_start "$NS_B"
cap_start a
xfer 5291 20
log "20 connections to port 5291 intact both ways"
expect_live "$NS_A" resume_offered 19 "after 20 connections"
expect_live "$NS_A" resume_accepted 19 "after 20 connections"
expect_live "$NS_A" resume_declined 0 "after 20 connections"
expect_live "$NS_A" resume_aborted 0 "after 20 connections"
expect_live "$NS_B" resume_accepted 19 "after 20 connections"
expect_live "$NS_B" resume_declined 0 "after 20 connections"
expect_live "$NS_A" mac_fail 0 "after 20 connections"
expect_live "$NS_B" mac_fail 0 "after 20 connections"
expect_kx_list 5291 1 19

# libtcpcrypt from inside a resumed connection.
ip netns exec "$NS_B" env TCPCRYPT_SOCKET="${TC_DSOCK[$NS_B]}" timeout 30 "$SESSID" --wait 5 listen "$B4" 5292 \
	>"$TC_WORK/sessid-b.out" 2>"$TC_WORK/sessid-b.err" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5292
ns_exec "$NS_A" env TCPCRYPT_SOCKET="${TC_DSOCK[$NS_A]}" timeout 30 "$SESSID" --wait 5 connect "$B4" 5292 \
	>"$TC_WORK/sessid-a.out" 2>"$TC_WORK/sessid-a.err" ||
	fail "tcpcrypt-sessid connect failed: $(cat "$TC_WORK/sessid-a.err")"
wait_pid "$spid" 30 "tcpcrypt-sessid listen"
((TC_WAIT_RC == 0)) || fail "tcpcrypt-sessid listen exited $TC_WAIT_RC: $(cat "$TC_WORK/sessid-b.err")"
row=$(flows "$NS_A" 5292)
[[ $(wc -l <<<"$row") == 1 && $(cut -d' ' -f2 <<<"$row") == resumed ]] ||
	fail "tcpcrypt-sessid's connection: tcnetstat on A says '$row', want one resumed flow"
sid=$(cut -d' ' -f3 <<<"$row")
[[ $(cat "$TC_WORK/sessid-a.out") == "sid=$sid role=A" ]] ||
	fail "tcpcrypt-sessid on A printed '$(cat "$TC_WORK/sessid-a.out")', tcnetstat has sid=$sid"
[[ $(cat "$TC_WORK/sessid-b.out") == "sid=$sid role=B" ]] ||
	fail "tcpcrypt-sessid on B printed '$(cat "$TC_WORK/sessid-b.out")', tcnetstat has sid=$sid"
expect_kx_list 5292 0 1
log "tcpcrypt-sessid: both ends read sid ${sid:0:16}... of a resumed connection"
cap_stop a

pcap=$(cap_file a)
kx=$(kx_lines "$pcap" | grep -E " -> $B4:5291 " || true)
[[ $(wc -l <<<"$kx") == 20 ]] || fail "want 20 connections to port 5291 on the wire, got:
$kx"
head -n 1 <<<"$kx" | grep -qE " syn=fresh synack=fresh syns=1 synacks=1 init=yes$" ||
	fail "the first connection is not a fresh exchange on the wire: $(head -n 1 <<<"$kx")"
n=$(tail -n +2 <<<"$kx" | grep -cE " syn=offer synack=accept syns=1 synacks=1 init=no$") || true
((n == 19)) || fail "want 19 offers accepted without Init on the wire, got $n:
$kx"
log "wire: first SYN fresh, then 19 18-byte offers answered by 19-byte acceptances, no Init"
wirecheck syn-has-eno "$pcap"
wirecheck resumed "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"

# --- d) no option room in the SYN: fresh form, entry kept ----------------------
before=$(tc_live "$NS_A" resume_offered) || exit 1
ip netns exec "$NS_B" socat -u TCP4-LISTEN:5295,reuseaddr /dev/null &
tc_track $!
wait_listen "$NS_B" 5295
cap_start d
# MSS, SACK permitted, timestamps, window scale and a 6-byte experimental
# option: 25 bytes (28 with padding); 18 more would not fit in 40.
opts=020405b40402080a0000000100000000030307fe06abcd0102
ns_exec "$NS_A" python3 "$FORGE" syn --src "$A4:45295" --dst "$B4:5295" --seq 1000 --ttl 64 \
	--eno "$opts" >"$TC_WORK/forge-d.out" || fail "forge.py syn failed"
wait_for -m "B's SYN-ACK to the crowded SYN" \
	bash -c "tcpdump -r '$(cap_file d)' -n 'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack != 0 and src port 5295' 2>/dev/null | grep -q ."
cap_stop d
out=$(python3 "$TC_WIRECHECK" eno-options "$(cap_file d)")
grep -qx "SYN $A4:45295 -> $B4:5295 4505a07432" <<<"$out" ||
	fail "the SYN with 25 bytes of options does not carry the fresh form 45 05 a0 74 32: $out"
expect_live "$NS_A" resume_offered "$before" "a SYN without room must not offer"
log "no option room: the SYN carries the fresh form, nothing offered"
xfer 5296
expect_kx_list 5296 0 1
expect_live "$NS_A" resume_offered $((before + 1)) "the next connection"
log "the next connection is resumed: A's entry was kept"

# --- b) the offering SYN lost once, then the accepting SYN-ACK ------------------
acc=$(tc_live "$NS_A" resume_accepted) || exit 1
off=$(tc_live "$NS_A" resume_offered) || exit 1
impair_start --drop syn:1:dport=5293
cap_start b-syn eth-a
xfer 5293
cap_stop b-syn
impair_stop
n=$(impair_stat drop_syn_1_dport_5293)
((n == 1)) || fail "impair dropped $n offering SYNs, want 1"
expect_kx_list 5293 0 1
out=$(python3 "$TC_WIRECHECK" eno-options "$(cap_file b-syn)" | grep -E "^SYN .* -> $B4:5293 " || true)
[[ $(wc -l <<<"$out") == 2 && $(cut -d' ' -f5 <<<"$out" | sort -u | wc -l) == 1 ]] ||
	fail "want two SYNs with the same ENO option, the wire has:
$out"
wirecheck resumed "$(cap_file b-syn)"
kx=$(kx_lines "$(cap_file b-syn)")
grep -qE " -> $B4:5293 syn=offer synack=accept syns=2 synacks=1 init=no$" <<<"$kx" ||
	fail "SYN lost: want one connection with two offering SYNs and one acceptance, no Init:
$kx"
log "SYN lost: resumed; both SYNs carry $(head -n 1 <<<"$out" | cut -d' ' -f5)"

impair_start --drop synack:1:sport=5294
cap_start b-synack eth-b
xfer 5294
cap_stop b-synack
impair_stop
n=$(impair_stat drop_synack_1_sport_5294)
((n == 1)) || fail "impair dropped $n accepting SYN-ACKs, want 1"
expect_kx_list 5294 0 1
out=$(python3 "$TC_WIRECHECK" eno-options "$(cap_file b-synack)" | grep -E "^SYN-ACK $B4:5294 " || true)
if (($(wc -l <<<"$out") < 2)) || [[ $(cut -d' ' -f5 <<<"$out" | sort -u | wc -l) != 1 ]]; then
	fail "want two or more SYN-ACKs with the same ENO option, the wire has:
$out"
fi
wirecheck resumed "$(cap_file b-synack)"
kx=$(kx_lines "$(cap_file b-synack)")
grep -qE " -> $B4:5294 syn=offer synack=accept syns=[0-9]+ synacks=[2-9] init=no$" <<<"$kx" ||
	fail "SYN-ACK lost: want one connection with offers and two or more acceptances, no Init:
$kx"
log "SYN-ACK lost: resumed; $(wc -l <<<"$out") SYN-ACKs carry $(head -n 1 <<<"$out" | cut -d' ' -f5)"
expect_live "$NS_A" resume_offered $((off + 2)) "one offer per connection, not per SYN"
expect_live "$NS_A" resume_accepted $((acc + 2)) "both lossy connections"
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" resume_aborted 0
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
expect_counter "$NS_B" resume_declined 0

# --- c) policy private on both hosts ---------------------------------------------
tc_start "$NS_A" --policy private
tc_start "$NS_B" --policy private
cap_start c
xfer 5297 2
expect_kx_list 5297 1 1
cap_stop c
# The policy is in force: a peer without tcpcryptd (R) is refused, each way.
ip netns exec "$NS_R" socat -u TCP4-LISTEN:5300,reuseaddr,fork /dev/null &
tc_track $!
wait_listen "$NS_R" 5300
ip netns exec "$NS_B" socat -u TCP4-LISTEN:5300,reuseaddr,fork /dev/null &
tc_track $!
wait_listen "$NS_B" 5300
expect_refused "$NS_A" 192.0.2.254 5300
expect_refused "$NS_R" "$B4" 5300
n=$(tc_live "$NS_A" policy_refused) || exit 1
m=$(tc_live "$NS_B" policy_refused) || exit 1
((n >= 1 && m >= 1)) || fail "policy private: policy_refused is $n on A and $m on B, want >= 1 each"
log "policy private in force on both hosts: fresh then resumed, peers without tcpcryptd refused"
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" resume_accepted 1
expect_counter "$NS_B" resume_accepted 1
expect_counter "$NS_A" plaintext_flows 0
kx=$(kx_lines "$(cap_file c)")
grep -qE "syn=offer synack=accept .*init=no$" <<<"$kx" || fail "policy private: no resumed connection on the wire:
$kx"
wirecheck resumed "$(cap_file c)"
wirecheck data-has-mac "$(cap_file c)"
wirecheck absent "$(cap_file c)" "$marker"

# --- e) resumption off ------------------------------------------------------------
tc_start "$NS_A" --no-resumption
tc_start "$NS_B"
cap_start e-off
xfer 5298 2
expect_kx_list 5298 2 0
expect_live "$NS_A" resume_offered 0 "--no-resumption"
cap_stop e-off
kx=$(kx_lines "$(cap_file e-off)")
n=$(grep -cE " syn=fresh synack=fresh syns=1 synacks=1 init=yes$" <<<"$kx") || true
((n == 2)) || fail "--no-resumption on A: want 2 fresh connections on the wire, got:
$kx"
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" resume_offered 0
expect_counter "$NS_B" resume_declined 0
log "--no-resumption on A: every SYN fresh"

tc_start "$NS_A"
tc_start "$NS_B" --no-resumption
cap_start e-dec
xfer 5299 3
expect_kx_list 5299 3 0
cap_stop e-dec
tc_stop "$NS_A"
tc_stop "$NS_B"
expect_counter "$NS_A" resume_offered 2
expect_counter "$NS_A" resume_declined 2
expect_counter "$NS_A" resume_accepted 0
expect_counter "$NS_B" resume_declined 2
expect_counter "$NS_B" resume_accepted 0
kx=$(kx_lines "$(cap_file e-dec)")
n=$(tail -n +2 <<<"$kx" | grep -cE " syn=offer synack=fresh syns=1 synacks=1 init=yes$") || true
if [[ $(wc -l <<<"$kx") != 3 || $n != 2 ]] ||
	! head -n 1 <<<"$kx" | grep -qE " syn=fresh synack=fresh syns=1 synacks=1 init=yes$"; then
	fail "resumption off on B: want one fresh connection, then two declined offers with Init1/Init2:
$kx"
fi
wirecheck data-has-mac "$(cap_file e-dec)"
wirecheck absent "$(cap_file e-dec)" "$marker"
log "resumption off on B: A offered twice, B declined twice, both fresh and intact"
log "PASS"
