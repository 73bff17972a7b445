#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t02: the 2x2 matrix -- tcpcryptd on A only, on B only, on both, on neither.
# Every transfer must succeed.  Only "both" may encrypt (MAC on the wire, no
# markers); the other three must fall back to plaintext, and their captures
# must show the markers: that proves the marker check in t01/t05 can see
# plaintext when there is some (negative control).
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/bulk.bin" $((8 * 1024 * 1024)) "$marker"

cell() {
	local name=$1 on_a=$2 on_b=$3 port=$4 pcap
	log "--- cell $name: daemon on A=$on_a B=$on_b, port $port"
	if ((on_a)); then tc_start "$NS_A"; fi
	if ((on_b)); then tc_start "$NS_B"; fi
	cap_start "$name"
	socat_push "$port" "$TC_WORK/bulk.bin"
	cap_stop "$name"
	if ((on_a)); then tc_stop "$NS_A"; fi
	if ((on_b)); then tc_stop "$NS_B"; fi
	pcap=$(cap_file "$name")
	if ((on_a && on_b)); then
		wirecheck syn-has-eno "$pcap"
		wirecheck data-has-mac "$pcap"
		wirecheck absent "$pcap" "$marker"
		expect_same_sid "$port"
		expect_counter "$NS_A" mac_fail 0
		expect_counter "$NS_B" mac_fail 0
		return
	fi
	wirecheck no-mac "$pcap"
	wirecheck present "$pcap" "$marker-BEGIN" "$marker-MIDDLE" "$marker-END"
	local syn_eno synack_eno
	syn_eno=$(python3 "$TC_WIRECHECK" count-syn-with-opt "$pcap" 69)
	synack_eno=$(python3 "$TC_WIRECHECK" count-syn-with-opt "$pcap" 69 --synack)
	# Only A's daemon offers ENO (in the SYN); B's daemon answers ENO only
	# with ENO, so in these cells no SYN-ACK may carry it.
	((synack_eno == 0)) || fail "cell $name: $synack_eno SYN-ACKs carry ENO"
	if ((on_a)); then
		((syn_eno >= 1)) || fail "cell $name: A's daemon did not offer ENO in its SYN"
		expect_plaintext "$NS_A" "$port"
		expect_counter "$NS_A" mac_fail 0
	else
		((syn_eno == 0)) || fail "cell $name: $syn_eno SYNs carry ENO without a daemon on A"
	fi
	if ((on_b)); then
		expect_plaintext "$NS_B" "$port"
		expect_counter "$NS_B" mac_fail 0
	fi
}

cell neither 0 0 5100
cell a-only 1 0 5101
cell b-only 0 1 5102
cell both 1 1 5103
log "PASS"
