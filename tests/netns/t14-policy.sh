#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t14: policy.  "private" towards a peer without tcpcryptd is refused with
# a reset and not one payload byte crosses the wire, on either side;
# "clear" never encrypts, on either side; a reload changes what new
# connections get while established ones keep their protection; a bad
# configuration line is reported as FILE:LINE and changes nothing.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
HOLD="$TC_NETNS_DIR/holdconn.py"
tag=$(rand_tag)

# sink PORT: B stores whatever arrives on PORT (every connection).
sink() {
	ip netns exec "$NS_B" socat -u "TCP4-LISTEN:$1,reuseaddr,fork" \
		"OPEN:$TC_WORK/rx-$1,creat,append" &
	tc_track $!
	wait_listen "$NS_B" "$1"
}

for p in 5015 5017 5020 5016 5018 5019 5021; do sink "$p"; done

# --- private towards a host without tcpcryptd (A's side) -------------------
tc_start "$NS_A" --policy "private port 5015"
cap_start priv-a
expect_refused "$NS_A" 198.51.100.1 5015
# Another port is private-or-clear: it falls back to plaintext.
printf 'PLAIN-5020-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5020
cap_stop priv-a
tc_stop "$NS_A"
wirecheck no-payload "$(cap_file priv-a)" 5015
wirecheck present "$(cap_file priv-a)" "PLAIN-5020-$tag"
n=$(tc_counter "$NS_A" policy_refused)
((n >= 1)) || fail "A counted $n refusals, want >= 1"

# --- private on the accepting side (B), client without tcpcryptd ------------
tc_start "$NS_B" --policy "private port 5017"
cap_start priv-b
expect_refused "$NS_A" 198.51.100.1 5017
cap_stop priv-b
tc_stop "$NS_B"
wirecheck no-payload "$(cap_file priv-b)" 5017
n=$(tc_counter "$NS_B" policy_refused)
((n >= 1)) || fail "B counted $n refusals, want >= 1"

# --- clear, on either side, between two tcpcryptd hosts ---------------------
tc_start "$NS_A" --policy "clear port 5016"
tc_start "$NS_B" --policy "clear port 5018"
cap_start clear
printf 'CLEAR-A-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5016
printf 'CLEAR-B-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5018
cap_stop clear
tc_stop "$NS_A"
tc_stop "$NS_B"
wirecheck present "$(cap_file clear)" "CLEAR-A-$tag" "CLEAR-B-$tag"
wirecheck no-mac "$(cap_file clear)"
expect_plaintext "$NS_A" 5016
expect_plaintext "$NS_A" 5018

# --- reload and latching ------------------------------------------------------
conf="$TC_WORK/tcpcryptd-a.conf"
printf '# before the reload\npolicy clear port 5019\n' >"$conf"
tc_start "$NS_A" --config "$conf"
tc_start "$NS_B"
cap_start reload
gate="$TC_WORK/gate"
ip netns exec "$NS_A" python3 "$HOLD" 198.51.100.1 5019 "$gate" "OLD-CLEAR-1-$tag" "OLD-CLEAR-2-$tag" >"$TC_WORK/hold-5019" 2>&1 &
h1=$!
tc_track "$h1"
ip netns exec "$NS_A" python3 "$HOLD" 198.51.100.1 5021 "$gate" "OLD-ENC-1-$tag" "OLD-ENC-2-$tag" >"$TC_WORK/hold-5021" 2>&1 &
h2=$!
tc_track "$h2"
wait_for -m "both held connections up" grep -q connected "$TC_WORK/hold-5019"
wait_for -m "both held connections up" grep -q connected "$TC_WORK/hold-5021"

# Swap the policy: 5019 becomes private, 5021 clear; reload with SIGHUP.
printf '# after the reload\npolicy private port 5019\npolicy clear port 5021\n' >"$conf"
kill -HUP "${TC_DPID[$NS_A]}"
wait_for -m "A logs the reload" grep -q "reloaded" "${TC_DLOG[$NS_A]}"
printf 'NEW-5019-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5019
printf 'NEW-5021-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5021

# A bad line: reported with file and line, the policy in force stays.
printf 'policy private port 5019\npolicy clear port 5021\npolicy sometimes port 1\n' >"$conf"
kill -HUP "${TC_DPID[$NS_A]}"
wait_for -m "A reports the bad line" grep -q "$conf:3" "${TC_DLOG[$NS_A]}"
printf 'AFTER-BAD-5021-%s\n' "$tag" | ns_exec "$NS_A" timeout 20 socat -u - TCP4:198.51.100.1:5021

# The held connections send their second line only now.
touch "$gate"
wait_pid "$h1" 20 "held connection 5019"
((TC_WAIT_RC == 0)) || fail "held connection 5019 failed: $(cat "$TC_WORK/hold-5019")"
wait_pid "$h2" 20 "held connection 5021"
((TC_WAIT_RC == 0)) || fail "held connection 5021 failed: $(cat "$TC_WORK/hold-5021")"
cap_stop reload
tc_stop "$NS_A"
tc_stop "$NS_B"

pcap=$(cap_file reload)
# Established connections kept what they started with ...
wirecheck present "$pcap" "OLD-CLEAR-1-$tag" "OLD-CLEAR-2-$tag"
wirecheck absent "$pcap" "OLD-ENC-1-$tag" "OLD-ENC-2-$tag"
# ... new ones follow the reloaded policy, which the bad file did not undo.
wirecheck absent "$pcap" "NEW-5019-$tag"
wirecheck present "$pcap" "NEW-5021-$tag" "AFTER-BAD-5021-$tag"
for m in OLD-CLEAR-1 OLD-CLEAR-2 OLD-ENC-1 OLD-ENC-2 NEW-5019 NEW-5021 AFTER-BAD-5021; do
	grep -q "$m-$tag" "$TC_WORK"/rx-50* || fail "B never received $m"
done
log "PASS"
