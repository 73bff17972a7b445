#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t32: the Wireshark dissector contrib/wireshark/tcpcrypt.lua, run by tshark
# on a capture of real tcpcryptd connections and on hand-made segments.
#   a) Two connections A -> B captured in R (suites aes128,chacha20 on both
#      hosts, A with --keylog): the first fresh, the second resumed
#      (doc/protocol.md section 13).  tshark with the dissector must show
#      the fresh SYN/SYN-ACK options (form fresh, TEP 0xa0, b 0 then 1),
#      Init1 with suites 0x7403,0x7402 and its N_A equal to the key log's
#      TCPCRYPT_ES line, Init2 choosing 0x7403, the resumption offer whose
#      R equals both the 9 bytes after 45 12 a0 74 32 in the raw SYN and the
#      R_A of the key log's TCPCRYPT_SS line, the acceptance, a 12-byte
#      MAC tag on every data segment that is not an Init, and no tcpcrypt
#      expert info at all.
#   b) tests/netns/craftpcap.py's segments: the well-formed ones decode
#      with no expert info; each malformed one (unknown version tag, wrong
#      TEP data length, ENO length byte past the end, misplaced global
#      suboption, short MAC option, truncated Init1, wrong Init length
#      fields, an unknown suite) raises its expert info; a kind 253
#      option of another experiment is left to Wireshark (no tcpcrypt.mac).
# About 5 s.
. "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null 2>&1 || fail "tshark is missing: scripts/install-deps installs it (Debian package tshark)"
LUA="$TC_SRCDIR/contrib/wireshark/tcpcrypt.lua"
CRAFT="$TC_NETNS_DIR/craftpcap.py"
[[ -f $LUA ]] || fail "$LUA is missing"
tc_need_daemon
topo_setup

B4=198.51.100.1
W=$TC_WORK
keylog="$W/keys.log"

# ts PCAP ARGS...: tshark with the dissector; a Lua error fails the test.
ts() {
	local pcap=$1 out
	shift
	out=$(tshark -n -r "$pcap" -X lua_script:"$LUA" "$@" 2>"$W/tshark.err") ||
		fail "tshark -r $pcap $* failed: $(cat "$W/tshark.err")"
	if grep -qi "lua" "$W/tshark.err"; then
		fail "tshark reports a Lua problem: $(grep -i lua "$W/tshark.err" | head -n 3)"
	fi
	printf '%s\n' "$out"
}

# expect WHAT GOT WANT
expect() { [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"; }

# ---------------------------------------------------------------------------
# a) real connections
tc_start "$NS_A" --suites aes128,chacha20 --keylog "$keylog"
tc_start "$NS_B" --suites aes128,chacha20
make_payload "$W/up.bin" $((48 * 1024)) "dissector-up-$(rand_tag)"
make_payload "$W/down.bin" $((8 * 1024)) "dissector-down-$(rand_tag)"

cap_start wire
ip netns exec "$NS_B" python3 "$TC_NETNS_DIR/connseq.py" serve "$B4" 5321 --count 2 \
	--send "$W/down.bin" --recv "$W/got-up" >/dev/null 2>"$W/server.err" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5321
ns_exec "$NS_A" timeout 60 python3 "$TC_NETNS_DIR/connseq.py" connect "$B4" 5321 --count 2 \
	--send "$W/up.bin" --recv "$W/got-down" 2>"$W/client.err" ||
	fail "client A -> $B4:5321 failed: $(cat "$W/client.err")"
wait_pid "$spid" 30 "server"
((TC_WAIT_RC == 0)) || fail "server exited with $TC_WAIT_RC: $(cat "$W/server.err")"
for i in 1 2; do
	expect "connection $i, A -> B data" "$(sha "$W/got-up-$i")" "$(sha "$W/up.bin")"
	expect "connection $i, B -> A data" "$(sha "$W/got-down-$i")" "$(sha "$W/down.bin")"
done
cap_stop wire
pcap=$(cap_file wire)

es_na=$(awk '$1 == "TCPCRYPT_ES" { print $2 }' "$keylog")
ss_ra=$(awk '$1 == "TCPCRYPT_SS" { print $2 }' "$keylog")
[[ $es_na =~ ^[0-9a-f]{64}$ ]] || fail "key log: want one TCPCRYPT_ES line, have: $(cat "$keylog")"
[[ $ss_ra =~ ^[0-9a-f]{18}$ ]] || fail "key log: want one TCPCRYPT_SS line, have: $(cat "$keylog")"

# One line per TCP segment of the connections (not R's sentinel datagrams).
F=(-Y "tcp.port == 5321" -T fields -E separator='|' -E occurrence=a -E 'aggregator=,'
	-e frame.number -e tcp.srcport -e tcp.flags.syn -e tcp.flags.ack -e tcp.len
	-e tcpcrypt.eno.form -e tcpcrypt.eno.tep -e tcpcrypt.eno.b -e tcpcrypt.eno.r
	-e tcpcrypt.mac.tag -e tcpcrypt.init1.suite -e tcpcrypt.init1.nonce
	-e tcpcrypt.init2.suite -e tcp.options)
ts "$pcap" "${F[@]}" >"$W/fields.txt"
log "tshark: $(wc -l <"$W/fields.txt") segments of port 5321"

# The SYNs from A and SYN-ACKs from B, in capture order.
mapfile -t syns < <(awk -F'|' '$3 == 1 && $4 == 0 { print $6 "|" $7 "|" $8 "|" $9 "|" $14 }' "$W/fields.txt" | uniq)
mapfile -t synacks < <(awk -F'|' '$3 == 1 && $4 == 1 { print $6 "|" $7 "|" $8 "|" $9 }' "$W/fields.txt" | uniq)
((${#syns[@]} == 2)) || fail "want 2 distinct SYNs from A, have ${#syns[@]}: ${syns[*]}"
((${#synacks[@]} == 2)) || fail "want 2 distinct SYN-ACKs from B, have ${#synacks[@]}: ${synacks[*]}"
IFS='|' read -r form tep b r _ <<<"${syns[0]}"
expect "fresh SYN: form|tep|b|r" "$form|$tep|$b|$r" "fresh|0xa0|0|"
IFS='|' read -r form tep b r <<<"${synacks[0]}"
expect "fresh SYN-ACK: form|tep|b|r" "$form|$tep|$b|$r" "fresh|0xa0|1|"
IFS='|' read -r form tep b r opts <<<"${syns[1]}"
expect "resumed SYN: form|tep|b" "$form|$tep|$b" "resumption offer|0xa0|0"
expect "resumed SYN: R shown vs key log's R_A" "$r" "$ss_ra"
raw=$(sed -n 's/.*4512a07432\([0-9a-f]\{18\}\).*/\1/p' <<<"${opts//:/}")
expect "resumed SYN: R shown vs the bytes after 45 12 a0 74 32 in the SYN" "$r" "$raw"
IFS='|' read -r form tep b rb <<<"${synacks[1]}"
expect "resumed SYN-ACK: form|tep|b|length of R" "$form|$tep|$b|${#rb}" "resumption accepted|0xa0|1|18"
log "ENO: fresh SYN/SYN-ACK, offer R=$r (= key log R_A and raw SYN), acceptance"

# Init1 and Init2: once each (the fresh connection), suites and N_A.
init1=$(awk -F'|' '$11 != ""' "$W/fields.txt")
init2=$(awk -F'|' '$13 != ""' "$W/fields.txt")
(($(grep -c . <<<"$init1") == 1)) || fail "want exactly one segment with Init1, have: $init1"
(($(grep -c . <<<"$init2") == 1)) || fail "want exactly one segment with Init2, have: $init2"
expect "Init1 suites" "$(cut -d'|' -f11 <<<"$init1")" "0x7403,0x7402"
expect "Init1 N_A vs key log's TCPCRYPT_ES" "$(cut -d'|' -f12 <<<"$init1")" "$es_na"
expect "Init2 suite" "$(cut -d'|' -f13 <<<"$init2")" "0x7403"
expect "Init1 sent by A" "$(cut -d'|' -f2 <<<"$init1" | grep -vx 5321 | grep -c .)" 1
expect "Init2 sent by B" "$(cut -d'|' -f2 <<<"$init2")" 5321

# Every data segment that is not an Init carries one 12-byte tag.
ndata=$(awk -F'|' '$5 > 0 && $11 == "" && $13 == ""' "$W/fields.txt" | wc -l)
bad=$(awk -F'|' '$5 > 0 && $11 == "" && $13 == "" && !(length($10) == 24 && $10 ~ /^[0-9a-f]+$/)' "$W/fields.txt")
((ndata >= 4)) || fail "only $ndata data segments in the capture"
[[ -z $bad ]] || fail "data segments without a (single, 12-byte) MAC tag: $(head -n 3 <<<"$bad")"
ntag=$(awk -F'|' '$10 != ""' "$W/fields.txt" | wc -l)
log "Init1 (0x7403,0x7402, N_A = key log), Init2 (0x7403); $ndata data segments all tagged, $ntag tags in all"

experts=$(ts "$pcap" -Y "tcp.port == 5321 && (tcpcrypt.eno.malformed || tcpcrypt.eno.unknown_version || tcpcrypt.eno.bad_data_len || tcpcrypt.mac.bad_len || tcpcrypt.init.truncated || tcpcrypt.init.bad_len || tcpcrypt.init.unknown_suite)")
[[ -z $experts ]] || fail "tcpcrypt expert info on the real capture: $(head -n 3 <<<"$experts")"

# ---------------------------------------------------------------------------
# b) hand-made segments
python3 "$CRAFT" "$W/craft.pcap" >"$W/craft.cases" || fail "craftpcap.py failed"
ts "$W/craft.pcap" -T fields -E separator='|' -E occurrence=a -E aggregator=, \
	-e tcp.srcport -e tcpcrypt.eno.form -e tcpcrypt.mac.tag \
	-e tcpcrypt.eno.malformed -e tcpcrypt.eno.unknown_version -e tcpcrypt.eno.bad_data_len \
	-e tcpcrypt.mac.bad_len -e tcpcrypt.init.truncated -e tcpcrypt.init.bad_len \
	-e tcpcrypt.init.unknown_suite -e tcp.options.experimental.exid >"$W/craft.txt"
# The expert fields present per case: "malformed" etc., or "-" for none.
declare -A GOT=()
while IFS='|' read -r port form tag e1 e2 e3 e4 e5 e6 e7 exid; do
	got=""
	[[ -n $e1 ]] && got+=" malformed"
	[[ -n $e2 ]] && got+=" unknown_version"
	[[ -n $e3 ]] && got+=" bad_data_len"
	[[ -n $e4 ]] && got+=" mac.bad_len"
	[[ -n $e5 ]] && got+=" truncated"
	[[ -n $e6 ]] && got+=" init.bad_len"
	[[ -n $e7 ]] && got+=" unknown_suite"
	[[ -n $exid ]] && got+=" exid=$exid"
	[[ -n $tag ]] && got+=" tag"
	GOT[$port]="${form:--}${got}"
done <"$W/craft.txt"
declare -A WANT=(
	[fresh-syn]="fresh"
	[fresh-synack]="fresh"
	[resume-offer]="resumption offer"
	[resume-accept]="resumption accepted"
	[nonsyn]="non-SYN"
	[init1]="-"
	[init2]="-"
	[data-mac]="- tag"
	[eno-version1]="TEP 0x20, unknown version unknown_version"
	[eno-badlen]="TEP 0x20, wrong data length bad_data_len"
	[eno-lenbyte-past-end]="malformed malformed"
	[eno-global-second]="malformed malformed unknown_version"
	[mac-short]="- mac.bad_len tag"
	[init1-truncated]="- truncated"
	[init1-badlen]="- init.bad_len"
	[init2-badlen]="- init.bad_len"
	[init2-unknown-suite]="- unknown_suite"
	[exp-other]="- exid=0x1234"
)
n=0
while read -r port name; do
	[[ -n ${WANT[$name]+x} ]] || fail "craftpcap.py case $name has no expectation here"
	expect "crafted $name (port $port): form and expert fields" "${GOT[$port]:-missing}" "${WANT[$name]}"
	n=$((n + 1))
done <"$W/craft.cases"
((n == ${#WANT[@]})) || fail "craftpcap.py wrote $n cases, want ${#WANT[@]}"
log "$n crafted segments: fields and expert info as expected"
log "PASS"
