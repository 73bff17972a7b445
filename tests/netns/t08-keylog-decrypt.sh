#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t08: the debug key log (doc/protocol.md section 10) is enough to decrypt and
# verify a capture, and it says nothing else.
#
# A runs with --keylog, B without.  Two connections are captured in R with a
# full snaplen: socat pushes a file A -> B (port 5801), and tcpio sends a
# request A -> B and gets a reply B -> A on the same connection (port 5802;
# R drops some of A's data segments there, so retransmissions are captured).
# The first connection is a fresh key exchange (a TCPCRYPT_ES line), the
# second resumes from it (doc/protocol.md section 13: a TCPCRYPT_SS line).
# keylog_decrypt.py then works from the capture and the key-log lines
# alone (never the daemon logs): transcript, Init1/Init2 and ES looked up by
# N_A, or ss[i] looked up by the R_A of the SYN, key schedule, reassembly,
# decryption, and the MAC of every segment after the Init exchange (after
# the SYN-ACK when resumed) in both directions.  Asserted here:
#   - the session ID it computes equals the sid both daemons logged;
#   - the decrypted streams have the sha256 of the files sent;
#   - every tag verified (the tool fails on any bad or missing tag);
#   - the key log is mode 0600 (created under umask 000), holds exactly one
#     well-formed line per encrypted connection, and each line is written by
#     the time the connection has carried data (before the daemon stops);
#   - A warned at start that the key log is on; B (no key log) did not;
#   - negative control: one byte of ES flipped -> the tool reports a MAC
#     mismatch and exits 1.
. "$(dirname "$0")/lib.sh"

KD="$TC_NETNS_DIR/keylog_decrypt.py"
# The checker must be sound before it may decide anything.
kd_self=$(python3 "$KD" selftest 2>&1) || fail "keylog_decrypt.py selftest: $kd_self"

tc_need_daemon
topo_setup

W=$TC_WORK
keylog="$W/keys.log"
# umask 000: the daemon itself must make the file 0600, not the caller's umask.
old_umask=$(umask)
umask 0000
tc_start "$NS_A" --keylog "$keylog"
umask "$old_umask"
tc_start "$NS_B"

alog=${TC_DLOG[$NS_A]}
blog=${TC_DLOG[$NS_B]}
grep -qE "^(<4>)?warning: .*key log $keylog is ON" "$alog" ||
	fail "daemon in A (--keylog $keylog) logged no 'warning: key log ... is ON' at start"
# (The ready line names the control socket, whose path contains the test's
# name: leave it out.)
if grep -v "ready queue=" "$blog" | grep -ciE "key ?log" >/dev/null; then
	fail "daemon in B (no --keylog) mentions a key log: $(grep -v 'ready queue=' "$blog" | grep -iE 'key ?log' | head -n 1)"
fi
log "A warned: $(grep -E 'key log' "$alog" | head -n 1)"
[[ -f $keylog ]] || fail "--keylog $keylog: file not created at start"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$W/push.bin" $((1024 * 1024)) "$marker-PUSH"
make_payload "$W/request.bin" $((128 * 1024)) "$marker-REQUEST"
make_payload "$W/reply.bin" $((256 * 1024)) "$marker-REPLY"

KEYLOG_RE='^TCPCRYPT_ES [0-9a-f]{64} [0-9a-f]{64}$'
SS_RE='^TCPCRYPT_SS [0-9a-f]{18} [0-9a-f]{64} 740[23]$'
keylog_lines() { grep -cE "$KEYLOG_RE" "$keylog" || true; }
ss_lines() { grep -cE "$SS_RE" "$keylog" || true; }

cap_start keylog eth-a 262144

# 1. socat: A -> B only.
socat_push 5801 "$W/push.bin"
# The line must be in the file while the daemon still runs (it is flushed
# before the first tagged segment; the transfer is over by now).
n=$(keylog_lines)
((n == 1)) || fail "after one encrypted connection the key log has $n TCPCRYPT_ES lines, want 1"

# 2. tcpio: request A -> B, then reply B -> A on the same connection.  R
# drops every 10th full-size data segment of A's (after the capture on eth-a
# saw it), so the capture holds real retransmissions and the tool must
# reassemble around the duplicates and verify their tags too.
r_rule iptables -A FORWARD -p tcp -s 192.0.2.1 --dport 5802 -m length --length 1000: \
	-m statistic --mode nth --every 10 --packet 3 -m comment --comment tc-kd-drop -j DROP
ip netns exec "$NS_B" python3 "$TC_TCPIO" serve 198.51.100.1 5802 \
	--order recv-first --send "$W/reply.bin" --recv "$W/srv-5802.bin" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5802
ns_exec "$NS_A" timeout 60 python3 "$TC_TCPIO" connect 198.51.100.1 5802 \
	--order send-first --send "$W/request.bin" --recv "$W/cli-5802.bin" ||
	fail "tcpio client on port 5802 failed"
wait_pid "$spid" 30 "tcpio server on port 5802"
((TC_WAIT_RC == 0)) || fail "tcpio server on port 5802 exited with $TC_WAIT_RC"
expect_same_file "$W/request.bin" "$W/srv-5802.bin" "tcpio A -> B port 5802"
expect_same_file "$W/reply.bin" "$W/cli-5802.bin" "tcpio B -> A port 5802"
n=$(keylog_lines)
((n == 1)) || fail "after a fresh and a resumed connection the key log has $n TCPCRYPT_ES lines, want 1"
n=$(ss_lines)
((n == 1)) || fail "after a fresh and a resumed connection the key log has $n TCPCRYPT_SS lines, want 1"
grep -qE "encrypted .*:5801 .*kx=fresh" "$alog" || fail "port 5801 was not a fresh key exchange in A's log"
grep -qE "encrypted .*:5802 .*kx=resumed" "$alog" || fail "port 5802 was not resumed in A's log"

cap_stop keylog
drops=$(r_pkts iptables filter FORWARD tc-kd-drop)
((drops >= 1)) || fail "R dropped $drops data segments on port 5802, want >= 1"
log "R dropped $drops data segments of A's on port 5802"
tc_stop "$NS_A"
tc_stop "$NS_B"
pcap=$(cap_file keylog)

# --- The key log file itself.
mode=$(stat -c %a "$keylog")
[[ $mode == 600 ]] || fail "key log $keylog has mode $mode, want 600"
enc=$(grep -E "encrypted .*role=A.*sid=[0-9a-f]{66}" "$alog" | grep -cE "[^0-9]580[12]([^0-9]|$)" || true)
((enc == 2)) || fail "daemon in A logged $enc encrypted connections on ports 5801/5802, want 2"
total=$(wc -l <"$keylog")
good=$(($(keylog_lines) + $(ss_lines)))
((total == enc && good == enc)) ||
	fail "key log: $total lines, $good well-formed TCPCRYPT_ES/SS lines, want exactly $enc (one per encrypted connection):
$(cut -c1-40 "$keylog")..."
[[ -z $(tail -c 1 "$keylog") ]] || fail "key log does not end with a newline"
distinct=$(cut -d' ' -f2 "$keylog" | sort -u | wc -l)
((distinct == enc)) || fail "key log: $distinct distinct N_A / R_A values in $enc lines"
log "key log: mode $mode, $good well-formed lines, one per encrypted connection"

wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"

# kd_field FILE NAME: a value from keylog_decrypt.py's output.
kd_field() {
	local v
	v=$(awk -v n="$2" '$1 == n { print $2; exit }' "$1")
	[[ -n $v ]] || fail "keylog_decrypt output $1 has no '$2' line"
	echo "$v"
}

# decrypt PORT: run the tool, check the sid against both daemons.
decrypt() {
	local port=$1 out err sid sa sb vab vba suite
	out="$W/kd-$port.out"
	err="$W/kd-$port.err"
	python3 "$KD" "$pcap" "$keylog" "$port" \
		--out-ab "$W/dec-ab-$port.bin" --out-ba "$W/dec-ba-$port.bin" >"$out" 2>"$err" ||
		fail "keylog_decrypt.py on port $port failed (status $?):
$(cat "$err")"
	sid=$(kd_field "$out" session_id)
	[[ $sid =~ ^a0[0-9a-f]{64}$ ]] || fail "port $port: tool printed session_id '$sid'"
	sa=$(tc_sid "$NS_A" "$port" A) || exit 1
	sb=$(tc_sid "$NS_B" "$port" B) || exit 1
	[[ $sid == "$sa" ]] || fail "port $port: session ID from capture + key log $sid != A's logged sid $sa"
	[[ $sid == "$sb" ]] || fail "port $port: session ID from capture + key log $sid != B's logged sid $sb"
	suite=$(kd_field "$out" suite)
	[[ $suite == 0x7402 || $suite == 0x7403 ]] || fail "port $port: tool printed suite '$suite'"
	vab=$(kd_field "$out" verified_ab)
	vba=$(kd_field "$out" verified_ba)
	((vab > 0 && vba > 0)) || fail "port $port: verified $vab segments A->B and $vba B->A, want both > 0"
	log "port $port: suite $suite, sid from capture matches both daemons (${sid:0:16}...); all tags verified:" \
		"$vab A->B, $vba B->A, $(kd_field "$out" untagged_prekey) untagged before keys," \
		"$(kd_field "$out" segments) segments"
}

decrypt 5801
expect_same_file "$W/push.bin" "$W/dec-ab-5801.bin" "decrypted A -> B port 5801"
[[ $(kd_field "$W/kd-5801.out" bytes_ba) == 0 ]] ||
	fail "port 5801 (socat -u): decrypted $(kd_field "$W/kd-5801.out" bytes_ba) application bytes B -> A, want 0"
decrypt 5802
[[ $(kd_field "$W/kd-5802.out" n_a) == - ]] || fail "port 5802: the tool did not decrypt it as a resumed connection"
expect_same_file "$W/request.bin" "$W/dec-ab-5802.bin" "decrypted A -> B port 5802"
expect_same_file "$W/reply.bin" "$W/dec-ba-5802.bin" "decrypted B -> A port 5802"
ovl=$(kd_field "$W/kd-5802.out" overlapping)
((ovl >= 1)) || fail "port 5802: tool saw no overlapping (retransmitted) segments, but R dropped $drops"
log "port 5802: $ovl retransmitted/overlapping segments reassembled and verified"

# --- Negative control: one byte of ES flipped (the first hex digit of ES on
# every line) must make the tool fail on the tags, not pass vacuously.
bad="$W/keys-bad.log"
while IFS= read -r line; do
	c=${line:77:1}
	if [[ $c == 0 ]]; then c=1; else c=0; fi
	printf '%s%s%s\n' "${line:0:77}" "$c" "${line:78}"
done <"$keylog" >"$bad"
cmp -s "$keylog" "$bad" && fail "negative control: the corrupted key log equals the original"
rc=0
python3 "$KD" "$pcap" "$bad" 5801 >"$W/kd-bad.out" 2>"$W/kd-bad.err" || rc=$?
((rc == 1)) || fail "keylog_decrypt.py with a corrupted ES exited $rc, want 1:
$(cat "$W/kd-bad.err")"
grep -q "MAC mismatch" "$W/kd-bad.err" ||
	fail "keylog_decrypt.py with a corrupted ES did not report a MAC mismatch:
$(head -n 5 "$W/kd-bad.err")"
bad_sid=$(grep -oE "session_id computed from the capture and key log: [0-9a-f]{66}" "$W/kd-bad.err" |
	grep -oE "[0-9a-f]{66}$") || fail "keylog_decrypt.py with a corrupted ES did not print the session ID it computed"
[[ $bad_sid != "$(tc_sid "$NS_A" 5801 A)" ]] ||
	fail "keylog_decrypt.py with a corrupted ES computed the daemons' session ID $bad_sid"
log "negative control: ES with one byte flipped -> $(head -n 1 "$W/kd-bad.err" | cut -c1-150)..."
log "PASS"
