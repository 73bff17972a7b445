#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t05: t01 over IPv6 -- bulk data (socat) and HTTP (curl) between
# 2001:db8:1::1 and 2001:db8:2::1, both encrypted, checked on the wire;
# the second connection resumed.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((20 * 1024 * 1024)) "$marker-SOCAT"
mkdir -p "$TC_WORK/www"
make_payload "$TC_WORK/www/page.bin" $((2 * 1024 * 1024)) "$marker-HTTP"

cap_start data6
socat_push 5401 "$TC_WORK/bulk.bin" 2001:db8:2::1 6
http_fetch 8080 "$TC_WORK/www/page.bin" 2001:db8:2::1 6
cap_stop data6

tc_stop "$NS_A"
tc_stop "$NS_B"

pcap=$(cap_file data6)
# Make sure this really was IPv6 (a v4 fallback would prove nothing).
n=$(python3 -c '
import sys; sys.path.insert(0, sys.argv[1]); import wirecheck as w
print(sum(1 for s in w.read_pcap(sys.argv[2]) if ":" in s.src and s.plen > 0))
' "$TC_NETNS_DIR" "$pcap")
((n > 0)) || fail "no IPv6 data segments in the capture"
wirecheck syn-has-eno "$pcap"
wirecheck data-has-mac "$pcap"
wirecheck absent "$pcap" "$marker"
expect_same_sid 5401
# curl's connection resumes from socat's key exchange (doc/protocol.md
# section 13), keyed by B's IPv6 address.
expect_same_sid 8080
expect_counter "$NS_A" resume_accepted 1
expect_counter "$NS_B" resume_accepted 1
grep -qE "encrypted .*:8080 .*kx=resumed" "${TC_DLOG[$NS_A]}" || fail "the HTTP connection was not resumed"
expect_counter "$NS_A" mac_fail 0
expect_counter "$NS_B" mac_fail 0
log "PASS"
