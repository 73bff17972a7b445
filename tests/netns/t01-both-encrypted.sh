#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t01: both hosts run tcpcryptd.  Bulk data (socat), HTTP (curl against
# python3 -m http.server) and iperf3 go through encrypted, intact; the wire
# seen in the router shows ENO in every SYN, the MAC on every segment, and
# none of the plaintext markers; both ends agree on the session ID.
. "$(dirname "$0")/lib.sh"
tc_require_tools iperf3
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((20 * 1024 * 1024)) "$marker-SOCAT"
mkdir -p "$TC_WORK/www"
make_payload "$TC_WORK/www/page.bin" $((2 * 1024 * 1024)) "$marker-HTTP"

cap_start data
socat_push 5001 "$TC_WORK/bulk.bin"
http_fetch 8080 "$TC_WORK/www/page.bin"
cap_stop data

# iperf3 at full speed: capture headers only (the MAC is in the header);
# drops in the capture do not weaken a per-segment check.
cap_start iperf eth-a 200
ip netns exec "$NS_B" iperf3 -s -1 -B 198.51.100.1 -p 5201 >"$TC_WORK/iperf-server.log" 2>&1 &
ipid=$!
tc_track "$ipid"
wait_listen "$NS_B" 5201
ns_exec "$NS_A" timeout 60 iperf3 -c 198.51.100.1 -p 5201 -t 5 -J >"$TC_WORK/iperf.json" ||
	fail "iperf3 client failed: $(tail -n 5 "$TC_WORK/iperf.json")"
gbps=$(python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$TC_WORK/iperf.json") ||
	fail "iperf3 result unreadable"
log "iperf3 A -> B through tcpcryptd: $gbps Gbit/s"
wait_pid "$ipid" 15 "iperf3 server"
cap_stop iperf --drops-ok

tc_stop "$NS_A"
tc_stop "$NS_B"

data=$(cap_file data)
wirecheck syn-has-eno "$data"
wirecheck data-has-mac "$data"
wirecheck absent "$data" "$marker"
wirecheck syn-has-eno "$(cap_file iperf)"
wirecheck data-has-mac "$(cap_file iperf)"

expect_same_sid 5001
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	n=$(tc_counter "$ns" encrypted_flows)
	# socat 1 + curl 1 + iperf3 control and data 2
	((n >= 4)) || fail "encrypted_flows in $ns is $n, want >= 4"
	# Resumption is on by default: the first connection (socat) does
	# the key exchange, every later one resumes from it (doc/protocol.md
	# section 13) ...
	r=$(tc_counter "$ns" resume_accepted)
	((r == n - 1)) || fail "resume_accepted in $ns is $r of $n encrypted connections, want $((n - 1))"
	grep -qE "encrypted .*:5001 .*kx=fresh" "${TC_DLOG[$ns]}" ||
		fail "$ns: the first connection (port 5001) was not a fresh key exchange"
	# ... and still every connection has a session ID of its own.
	u=$(grep -oE "encrypted .* sid=[0-9a-f]{66}" "${TC_DLOG[$ns]}" | sed 's/.*sid=//' | sort -u | wc -l)
	((u == n)) || fail "$ns logged $u distinct session IDs for $n encrypted connections"
	log "$ns: $n encrypted connections, $r of them resumed, $u distinct session IDs"
done
log "PASS"
