#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t24: "private" holds while no daemon runs (the private hold of
# "tcpcrypt-firewall down").
#
# B's policy: "private port 5024" in its configuration file and
# "private port 5025" on the daemon's command line.  A and B run daemons.
#   (1) B's daemon is killed (SIGKILL, a crash) and "tcpcrypt-firewall down"
#       runs as the unit's ExecStopPost= runs it (--config FILE, then the
#       daemon's arguments after "--").  A's daemon stops too.  New
#       connections from A to B:5024 (IPv4) and B:5025 (IPv6) never
#       connect, and B's own connection to A:5024 never leaves B; none of
#       the marker bytes, no payload at all on those ports, crosses R; the
#       hold's drop counters in B went up.  A connection to B:5027 (no
#       rule) carries its marker in plaintext: the hold is specific.
#   (2) A policy line "down" cannot parse: it exits non-zero naming
#       FILE:LINE, and holds everything not marked plaintext (5027 too).
#   (3) "up" and fresh daemons: no hold rule is left, and a transfer to
#       B:5024 is encrypted (ENO in the SYNs, MACs, no marker).
# The guard's part (encrypted connections frozen) is t23's.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup

W=$TC_WORK
FW=$TC_FIREWALL
tag=$(rand_tag)
CONF_B="$W/b.conf"
printf '# t24: host B\npolicy private port 5024\n' >"$CONF_B"
B_ARGS=(--config "$CONF_B" --policy "private port 5025")

# attempt NS ADDR PORT TEXT: connect (2 s at most) and send TEXT; prints
# "connected" or what went wrong.
attempt() {
	ns_exec "$1" timeout 20 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    s.sendall(sys.argv[3].encode() + b"\n")
    s.close()
    print("connected")
except OSError as e:
    print("failed: %s" % e)
' "$2" "$3" "$4" || true
}

# expect_held NS ADDR PORT TEXT: the connection must not come up.
expect_held() {
	local out
	out=$(attempt "$@")
	[[ $out != connected ]] || fail "$1 -> $2:$3 connected while B's daemon is down: the private hold let it through"
	log "$1 -> [$2]:$3 held: $out"
}

# sink HOST FAMILY PORT: HOST (A or B) stores whatever arrives on PORT in
# $W/rx-HOST-PORT.
declare -A SINK_PID=()
sink() {
	local ns=$NS_A fam=$2 port=$3
	[[ $1 == A ]] || ns=$NS_B
	: >"$W/rx-$1-$port"
	ip netns exec "$ns" socat -u "TCP$fam-LISTEN:$port,reuseaddr,fork" "OPEN:$W/rx-$1-$port,append" &
	tc_track $!
	SINK_PID[$1-$port]=$!
	wait_listen "$ns" "$port"
}
not_listening() { ! tc_listening "$1" "$2"; }

# hold_drops NS: packets dropped by the iptables hold chains in NS.
hold_drops() {
	local cmd
	for cmd in iptables ip6tables; do
		ns_exec "$1" "$cmd" -w -t mangle -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^TCPCRYPT_HOLD_/ { print $2 }' |
			while read -r ch; do
				ns_exec "$1" "$cmd" -w -t mangle -L "$ch" -v -x -n | awk '$3 == "DROP" { n += $1 } END { print n + 0 }'
			done
	done | awk '{ n += $1 } END { print n + 0 }'
}

hold_rules_left() {
	{
		ns_exec "$1" iptables-save -t mangle
		ns_exec "$1" ip6tables-save -t mangle
		ns_exec "$1" nft list tables 2>/dev/null || true
	} | grep -c -E 'TCPCRYPT_HOLD|tcpcrypt_hold' || true
}

sink B 4 5024
sink B 6 5025
sink B 4 5027
sink A 4 5024

tc_start "$NS_A"
tc_start "$NS_B" "${B_ARGS[@]}"

# --- (1) B's daemon crashes; ExecStopPost= runs "down" ---------------------
kill -KILL "${TC_DPID[$NS_B]}"
wait_pid "${TC_DPID[$NS_B]}" 10 "B's daemon after SIGKILL"
unset "TC_DPID[$NS_B]"
ns_exec "$NS_B" "$FW" down --config "$CONF_B" -- --foreground --queue "$TC_QUEUE" --policy "private port 5025" \
	>>"$W/fw-b.log" 2>&1 || fail "tcpcrypt-firewall down in B failed: $(tail -n 5 "$W/fw-b.log")"
tc_stop "$NS_A"
# A has no daemon and no policy: a plain TCP client.
ns_exec "$NS_A" "$FW" purge >>"$W/fw-a.log" 2>&1 || fail "tcpcrypt-firewall purge in A failed"
d0=$(hold_drops "$NS_B")
log "(1) B's daemon killed, firewall down with B's policy (hold drops so far: $d0)"

cap_start down
expect_held "$NS_A" 198.51.100.1 5024 "HELD-5024-$tag"
expect_held "$NS_A" 2001:db8:2::1 5025 "HELD-5025-$tag"
expect_held "$NS_B" 192.0.2.1 5024 "HELD-B-5024-$tag"
out=$(attempt "$NS_A" 198.51.100.1 5027 "OPEN-5027-$tag")
[[ $out == connected ]] || fail "A -> B:5027 (no policy rule) while B's daemon is down: $out"
wait_for -m "B to receive A's bytes on 5027" grep -qF "OPEN-5027-$tag" "$W/rx-B-5027"
cap_stop down
wirecheck absent "$(cap_file down)" "HELD-5024-$tag"
wirecheck absent "$(cap_file down)" "HELD-5025-$tag"
wirecheck absent "$(cap_file down)" "HELD-B-5024-$tag"
wirecheck no-payload "$(cap_file down)" 5024
wirecheck no-payload "$(cap_file down)" 5025
wirecheck present "$(cap_file down)" "OPEN-5027-$tag"
for f in B-5024 B-5025 A-5024; do
	[[ ! -s $W/rx-$f ]] || fail "something arrived on ${f/-/:} while the hold was up: $(head -c 200 "$W/rx-$f")"
done
d1=$(hold_drops "$NS_B")
((d1 >= d0 + 3)) || fail "B's hold chains dropped $((d1 - d0)) packets during the attempts, want at least 3"
log "(1) 5024 and 5025 held both ways (B's hold dropped $((d1 - d0)) packets); 5027 went through in plaintext"

# --- (2) a policy line that cannot be parsed: fail closed ------------------
printf 'policy private port 5024\npolicy privat port 5026\n' >"$W/bad.conf"
rc=0
ns_exec "$NS_B" "$FW" down --config "$W/bad.conf" >"$W/fw-bad.log" 2>&1 || rc=$?
((rc != 0)) || fail "tcpcrypt-firewall down with a bad policy line exited 0"
grep -qF "$W/bad.conf:2" "$W/fw-bad.log" || fail "the error does not name $W/bad.conf:2: $(cat "$W/fw-bad.log")"
grep -q "fail closed" "$W/fw-bad.log" || fail "down with a bad policy does not say it holds everything: $(cat "$W/fw-bad.log")"
expect_held "$NS_A" 198.51.100.1 5027 "CLOSED-5027-$tag"
log "(2) bad policy line: exit $rc, '$(grep -F "$W/bad.conf:2" "$W/fw-bad.log" | head -n 1)'; 5027 held too"

# --- (3) up and fresh daemons: encrypted again, no hold left ---------------
tc_start "$NS_B" "${B_ARGS[@]}"
n=$(hold_rules_left "$NS_B")
((n == 0)) || fail "$n hold rules or chains left in B after 'up'"
tc_start "$NS_A"
marker="TCPCRYPT-T24-$tag"
make_payload "$W/push.bin" $((64 * 1024)) "$marker"
rm -f "$W/recv-5024.bin"
kill -TERM "${SINK_PID[B-5024]}"
wait_for -m "B's sink on 5024 to close" not_listening "$NS_B" 5024
cap_start up
socat_push 5024 "$W/push.bin"
cap_stop up
wirecheck syn-has-eno "$(cap_file up)"
wirecheck data-has-mac "$(cap_file up)"
wirecheck absent "$(cap_file up)" "$marker"
expect_same_sid 5024
tc_stop "$NS_A"
tc_stop "$NS_B"
log "(3) up: no hold left, B:5024 encrypted again"
log "PASS"
