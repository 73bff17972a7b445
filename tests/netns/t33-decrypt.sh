#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t33: tcpcrypt-decrypt(1) turns a capture and the debug key log
# (doc/protocol.md section 10) into a capture that tshark reads as plain TCP.
#
# A runs with --keylog, B serves a file with python3 -m http.server on port
# 80; R captures eth-a (Ethernet) and, at the same time, "any" (Linux
# cooked v2, every packet twice).  A fetches the file with curl three times:
# over IPv4 (a fresh key exchange, default suites), over IPv4 again (resumed
# from the first, doc/protocol.md section 13), and, after A's daemon is
# restarted with --suites=chacha20, over IPv6 (fresh, suite 0x7402).
# Asserted:
#   - tcpcrypt-decrypt exits 0 and reports 3 connections decrypted, 2 fresh
#     and 1 resumed, the IPv6 one with suite 0x7402, no failure;
#   - in its output tshark finds the three HTTP request lines (and none in
#     the input), exports three response bodies with the sha256 of the file
#     served, among them the resumed connection's; no MAC option, no
#     non-SYN ENO option and no bad checksum are left; every packet keeps
#     its length;
#   - the pcapng form of the same capture gives the same output; the "any"
#     capture (SLL2) decrypts with no failure;
#   - before all that, decrypt_synth.py: resumed connections built from
#     tests/vectors/gen_vectors.py whose segments straddle stream offset
#     2^30, both suites, decrypt to their plaintext; a flipped bit there is
#     a bad tag at its offset;
#   - negative control: one payload bit of one B -> A segment of the
#     resumed connection flipped in the input -> "bad tag" on stderr naming
#     that connection, direction, stream offset and packet, exit status 1,
#     and that one segment left as captured.
. "$(dirname "$0")/lib.sh"
tc_require_tools tshark editcap
DECRYPT=${TCPCRYPT_DECRYPT:-}
[[ -n $DECRYPT ]] || DECRYPT=$(tc_find_built src/tools/tcpcrypt-decrypt) ||
	fail "src/tools/tcpcrypt-decrypt is not built (configure found no libpcap? scripts/install-deps installs libpcap-dev)"
FLIP="$TC_NETNS_DIR/pcapflip.py"

# Offsets past 2^30 (generations 1 and 2, both suites) from connections
# built in Python: a short transfer never gets there.
synth=$(python3 "$TC_NETNS_DIR/decrypt_synth.py" "$DECRYPT" "$TC_WORK" 2>&1) ||
	fail "decrypt_synth.py: $synth"
while IFS= read -r line; do log "$line"; done <<<"$synth"
tc_need_daemon
topo_setup

W=$TC_WORK
keylog="$W/keys.log"
A4=192.0.2.1
B4=198.51.100.1
B6=2001:db8:2::1
mkdir -p "$W/www"
make_payload "$W/www/body.bin" $((300 * 1024)) "TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
want=$(sha "$W/www/body.bin")

# tshark as root warns about it on stderr; the test reads stdout only.
ts() { tshark "$@" 2>/dev/null; }

cap_start wire eth-a
cap_start any any
tc_start "$NS_A" --keylog "$keylog"
tc_start "$NS_B"
# "::" is dual-stack in http.server: one server for both families.
ip netns exec "$NS_B" python3 -m http.server 80 --bind :: --directory "$W/www" \
	>"$W/http.log" 2>&1 &
tc_track $!
wait_listen "$NS_B" 80

# fetch N URL
fetch() {
	ns_exec "$NS_A" timeout 30 curl -g -sS --fail --connect-timeout 20 -o "$W/got-$1.bin" "$2" ||
		fail "curl $2 failed (status $?)"
	expect_same_file "$W/www/body.bin" "$W/got-$1.bin" "curl $2"
}
fetch 1 "http://$B4/body.bin"
fetch 2 "http://$B4/body.bin"
tc_stop "$NS_A"
tc_start "$NS_A" --keylog "$keylog" --suites=chacha20
fetch 3 "http://[$B6]/body.bin"
cap_stop wire
cap_stop any
tc_stop "$NS_A"
tc_stop "$NS_B"
grep -qE "encrypted .*$B4:80 .*kx=resumed" "${TC_DLOG[$NS_A]:-/dev/null}" "$W"/daemon-1-*.log ||
	fail "the second IPv4 connection was not resumed (A's log)"
in=$(cap_file wire)

# --- Decrypt.
out="$W/plain.pcap"
rc=0
"$DECRYPT" -v -k "$keylog" -o "$out" "$in" 2>"$W/dec.err" || rc=$?
((rc == 0)) || fail "tcpcrypt-decrypt exited $rc, want 0:
$(cat "$W/dec.err")"
summary=$(tail -n 1 "$W/dec.err")
log "tcpcrypt-decrypt: ${summary#tcpcrypt-decrypt: }"
[[ $summary == *"3 decrypted (2 fresh, 1 resumed)"* ]] || fail "want 3 connections decrypted (2 fresh, 1 resumed): $summary"
[[ $summary =~ " 0 failed"$ ]] || fail "want no failed segment: $summary"
conn_line() { grep -E "connection $1 .*: $2, suite" "$W/dec.err" | head -n 1; }
res=$(conn_line "$A4:[0-9]+>$B4:80" resumed)
[[ -n $res ]] || fail "tcpcrypt-decrypt reported no resumed IPv4 connection:
$(cat "$W/dec.err")"
rport=$(sed -E "s/.*connection $A4:([0-9]+)>.*/\1/" <<<"$res")
v6=$(conn_line "\[2001:db8:1::1\]:[0-9]+>\[$B6\]:80" fresh)
[[ $v6 =~ "suite 0x7402" ]] || fail "the IPv6 connection (A offering chacha20 only) is not reported fresh with suite 0x7402: '$v6'"
log "resumed: $res"
log "IPv6: $v6"

# --- What tshark sees.
n=$(ts -r "$in" -Y http.request | wc -l)
((n == 0)) || fail "tshark finds $n HTTP requests in the encrypted capture, want 0"
# (tshark 4.0's http.request.line holds the header lines, not the request line)
reqs=$(ts -r "$out" -Y http.request -T fields -E separator=' ' \
	-e http.request.method -e http.request.uri -e http.request.version)
n=$(grep -cx "GET /body.bin HTTP/1.1" <<<"$reqs" || true)
((n == 3)) || fail "tshark finds $n request lines 'GET /body.bin HTTP/1.1' in the decrypted capture, want 3:
$reqs"
n=$(ts -r "$out" -Y "http.request && tcp.srcport == $rport" | wc -l)
((n == 1)) || fail "no HTTP request in the resumed connection (port $rport) after decryption"
mkdir -p "$W/objects"
ts -r "$out" -q --export-objects "http,$W/objects" >/dev/null
n=0
for f in "$W"/objects/*; do
	[[ -f $f ]] || continue
	[[ $(sha "$f") == "$want" ]] && n=$((n + 1))
done
((n == 3)) || fail "tshark exported $n HTTP bodies with the served file's sha256, want 3: $(ls -l "$W/objects")"
log "tshark: 3 request lines, 3 response bodies with sha256 ${want:0:16}... (one in the resumed connection)"
n=$(ts -r "$in" -Y 'tcp.option_kind == 253' | wc -l)
((n > 100)) || fail "only $n segments with the MAC option in the input"
n=$(ts -r "$out" -Y 'tcp.option_kind == 253 || (tcp.option_kind == 69 && tcp.flags.syn == 0)' | wc -l)
((n == 0)) || fail "$n segments of the decrypted capture still carry the MAC option or a non-SYN ENO option"
n=$(ts -r "$out" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y 'tcp.checksum.status == 0 || ip.checksum.status == 0' | wc -l)
((n == 0)) || fail "$n packets of the decrypted capture have a bad IP or TCP checksum"
[[ $(ts -r "$in" -T fields -e frame.len | sha256sum) == $(ts -r "$out" -T fields -e frame.len | sha256sum) ]] ||
	fail "the decrypted capture's packet lengths differ from the input's"

# --- pcapng in, the same pcap out; the SLL2 capture of "any".
editcap -F pcapng "$in" "$W/wire.pcapng"
"$DECRYPT" -k "$keylog" -o "$W/plain-ng.pcap" "$W/wire.pcapng" 2>"$W/dec-ng.err" ||
	fail "tcpcrypt-decrypt on the pcapng form exited $?: $(cat "$W/dec-ng.err")"
cmp -s "$out" "$W/plain-ng.pcap" || fail "the pcapng form of the capture decrypts differently"
rc=0
"$DECRYPT" -k "$keylog" -o "$W/plain-any.pcap" "$(cap_file any)" 2>"$W/dec-any.err" || rc=$?
((rc == 0)) || fail "tcpcrypt-decrypt on the 'any' capture exited $rc: $(cat "$W/dec-any.err")"
[[ $(tail -n 1 "$W/dec-any.err") == *"3 decrypted (2 fresh, 1 resumed)"* ]] ||
	fail "'any' capture: $(tail -n 1 "$W/dec-any.err")"
n=$(ts -r "$W/plain-any.pcap" -Y http.request | wc -l)
# (each packet is there twice, eth-a and eth-b: tshark may take the copies
# for retransmissions)
((n >= 3)) || fail "'any' capture (every packet on two interfaces): $n HTTP requests, want >= 3"
log "pcapng input: same output; 'any' (SLL2) capture: $(tail -n 1 "$W/dec-any.err" | sed 's/.*; //')"

# --- Negative control: one bit of one B -> A segment of the resumed
# connection flipped.
read -r pno poff plabel < <(python3 "$FLIP" "$in" "$W/flipped.pcap" 80 "$rport") ||
	fail "pcapflip found no segment to flip"
rc=0
"$DECRYPT" -k "$keylog" -o "$W/flipped-out.pcap" "$W/flipped.pcap" 2>"$W/dec-flip.err" || rc=$?
((rc == 1)) || fail "tcpcrypt-decrypt on a capture with a flipped bit exited $rc, want 1:
$(cat "$W/dec-flip.err")"
want_msg="bad tag: connection $A4:$rport>$B4:80, direction B->A, offset $poff "
grep -qF "$want_msg" "$W/dec-flip.err" || fail "want '$want_msg...' (flipped $plabel packet $pno):
$(cat "$W/dec-flip.err")"
grep -q "packet $pno: left as captured" "$W/dec-flip.err" || fail "the report does not name packet $pno:
$(cat "$W/dec-flip.err")"
n=$(grep -c "bad tag" "$W/dec-flip.err")
((n == 1)) || fail "$n bad tags reported, want exactly 1"
[[ $(tail -n 1 "$W/dec-flip.err") =~ " 1 failed"$ ]] || fail "summary: $(tail -n 1 "$W/dec-flip.err")"
n=$(ts -r "$W/flipped-out.pcap" -Y "frame.number == $pno && tcp.option_kind == 253" | wc -l)
((n == 1)) || fail "packet $pno (bad tag) was not left as captured, MAC option included"
log "flipped bit: $(grep "bad tag" "$W/dec-flip.err")"
log "PASS"
