#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t16 (long; make check-long): bulk transfers through a bad network.  R loses
# 2% of the TCP segments, duplicates 2%, and delays every one by 10 ms +/-
# 5 ms (so they reorder), both directions, by tools/impair.  Over IPv4 and
# then over IPv6, 20 parallel encrypted connections each carry 50 MB in both
# directions at once (tcpio.py --order both).  Every stream must arrive
# intact (sha256 computed on the fly, nothing written to disk), neither
# daemon may count a MAC failure, and the throughput is reported.
#
# Sizes and impairments can be overridden for local runs:
#   T16_CONNS (20) T16_MB (50) T16_FAMILIES ("4 6") T16_LOSS (0.02)
#   T16_DUP (0.02) T16_DELAY (10, ms) T16_JITTER (5, ms) IMPAIR_SEED (16)
#   T16_TIMEOUT (seconds per family, 900)
#   T16_CAPTURE=1 also records the headers seen in R (eth-a), for
#   post-mortems; off by default (gigabytes of traffic).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/impair.sh"
tc_need_daemon
impair_need

conns=${T16_CONNS:-20}
mb=${T16_MB:-50}
families=${T16_FAMILIES:-4 6}
loss=${T16_LOSS:-0.02}
dup=${T16_DUP:-0.02}
delay=${T16_DELAY:-10}
jitter=${T16_JITTER:-5}
seed=${IMPAIR_SEED:-16}
limit=${T16_TIMEOUT:-900}
[[ $conns =~ ^[1-9][0-9]*$ && $conns -le 200 ]] || fail "T16_CONNS=$conns: want 1..200"
[[ $mb =~ ^[1-9][0-9]*$ ]] || fail "T16_MB=$mb: want a positive integer"

topo_setup
declare -A CTL_SOCK=()
tc_start "$NS_A"
CTL_SOCK[$NS_A]="$TC_WORK/ctl-$TC_DSEQ.sock"
tc_start "$NS_B"
CTL_SOCK[$NS_B]="$TC_WORK/ctl-$TC_DSEQ.sock"

marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$TC_WORK/a.bin" $((mb * 1024 * 1024)) "$marker-A"
make_payload "$TC_WORK/b.bin" $((mb * 1024 * 1024)) "$marker-B"
sum_a=$(sha "$TC_WORK/a.bin")
sum_b=$(sha "$TC_WORK/b.bin")
bytes_each=$(stat -c %s "$TC_WORK/a.bin")

# One end of one connection: tcpio.py in NS, what it receives hashed on the
# fly into HASHFILE.  The subshell's status is tcpio's (pipefail).
tcpio_end() {
	local ns=$1 mode=$2 addr=$3 port=$4 send=$5 hashfile=$6
	(
		set -o pipefail
		ip netns exec "$ns" python3 "$TC_TCPIO" "$mode" "$addr" "$port" --order both \
			--send "$send" --recv /dev/stdout --timeout 120 |
			sha256sum | cut -d' ' -f1 >"$hashfile"
	)
}

# t16_snapshot FAM: sockets and daemon flows, for a post-mortem of a stall.
TCNETSTAT=$(tc_find_built util/tcnetstat || { [[ -n ${TCPCRYPTD:-} ]] && echo "$(dirname "$TCPCRYPTD")/util/tcnetstat"; } || true)
t16_snapshot() {
	local f ns
	f="$TC_WORK/snapshot-v$1-$(date +%s).txt"
	for ns in "$NS_A" "$NS_B"; do
		echo "==== $ns: ss -tinoe" >>"$f"
		ns_exec "$ns" ss -tinoe >>"$f" 2>&1
		if [[ -x $TCNETSTAT ]]; then
			echo "==== $ns: tcnetstat --tsv" >>"$f"
			ns_exec "$ns" "$TCNETSTAT" -S "${CTL_SOCK[$ns]}" --tsv >>"$f" 2>&1
		fi
	done
	log "a transfer gave up: sockets and flows saved in $f"
}

# run_family FAM BASEPORT
run_family() {
	local fam=$1 base=$2 addr i port t0 t1 ms pids=() cpids=() bad=0 total mbps
	if [[ $fam == 6 ]]; then addr=2001:db8:2::1; else addr=198.51.100.1; fi
	log "---- IPv$fam: $conns connections x $mb MB each way, loss $loss dup $dup delay $delay+-$jitter ms"
	impair_start --seed "$seed" --loss "$loss" --dup "$dup" --delay "$delay" --jitter "$jitter"
	[[ -z ${T16_CAPTURE:-} ]] || cap_start "v$fam" eth-a 128
	for ((i = 0; i < conns; i++)); do
		port=$((base + i))
		tcpio_end "$NS_B" serve "$addr" "$port" "$TC_WORK/b.bin" "$TC_WORK/v$fam-b-$port.sha" \
			2>"$TC_WORK/v$fam-b-$port.err" &
		pids+=($!)
		tc_track "$!"
	done
	for ((i = 0; i < conns; i++)); do
		wait_listen "$NS_B" $((base + i))
	done
	t0=$(date +%s%N)
	for ((i = 0; i < conns; i++)); do
		port=$((base + i))
		tcpio_end "$NS_A" connect "$addr" "$port" "$TC_WORK/a.bin" "$TC_WORK/v$fam-a-$port.sha" \
			2>"$TC_WORK/v$fam-a-$port.err" &
		cpids+=($!)
		tc_track "$!"
	done
	# Wait for the clients; the first time one gives up (tcpio prints its
	# error), snapshot both hosts' TCP sockets and the daemons' flow tables
	# while the other end and any other stalled connection still exist.
	local deadline=$(($(date +%s) + limit)) running snap=0 pid
	while :; do
		running=0
		for pid in "${cpids[@]}"; do
			kill -0 "$pid" 2>/dev/null && running=1
		done
		((running)) || break
		if ((!snap)) && grep -qs . "$TC_WORK"/v"$fam"-[ab]-*.err; then
			snap=1
			t16_snapshot "$fam"
		fi
		if (($(date +%s) > deadline)); then
			t16_snapshot "$fam"
			[[ -z ${T16_CAPTURE:-} ]] || cap_stop "v$fam" --drops-ok
			fail "IPv$fam: transfers still running after ${limit}s"
		fi
		sleep 0.2
	done
	for i in "${!cpids[@]}"; do
		port=$((base + i))
		wait_pid "${cpids[$i]}" 10 "tcpio client IPv$fam port $port"
		((TC_WAIT_RC == 0)) || { log "client port $port failed ($TC_WAIT_RC): $(cat "$TC_WORK/v$fam-a-$port.err")"; bad=1; }
		wait_pid "${pids[$i]}" 60 "tcpio server IPv$fam port $port"
		((TC_WAIT_RC == 0)) || { log "server port $port failed ($TC_WAIT_RC): $(cat "$TC_WORK/v$fam-b-$port.err")"; bad=1; }
	done
	t1=$(date +%s%N)
	[[ -z ${T16_CAPTURE:-} ]] || cap_stop "v$fam" --drops-ok
	impair_stop
	((bad == 0)) || fail "IPv$fam: some transfers failed (see above)"
	for ((i = 0; i < conns; i++)); do
		port=$((base + i))
		[[ $(cat "$TC_WORK/v$fam-b-$port.sha") == "$sum_a" ]] ||
			fail "IPv$fam port $port: A -> B stream corrupted (sha256 $(cat "$TC_WORK/v$fam-b-$port.sha"), want $sum_a)"
		[[ $(cat "$TC_WORK/v$fam-a-$port.sha") == "$sum_b" ]] ||
			fail "IPv$fam port $port: B -> A stream corrupted (sha256 $(cat "$TC_WORK/v$fam-a-$port.sha"), want $sum_b)"
	done
	ms=$(((t1 - t0) / 1000000))
	total=$((2 * conns * bytes_each))
	mbps=$((total * 8 / 1000 / (ms > 0 ? ms : 1)))
	log "IPv$fam: all $((2 * conns)) streams intact: $((total / 1048576)) MiB in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s = $mbps Mbit/s aggregate"
	# The impairments really happened, and impair itself lost nothing.
	local c
	for c in lost duplicated delayed; do
		(($(impair_stat "$c") > 0)) || fail "IPv$fam: impair counter $c is 0: the network was not impaired"
	done
	for c in dup_errors send_errors kernel_errors recv_errors; do
		(($(impair_stat "$c") == 0)) || fail "IPv$fam: impair counter $c is $(impair_stat "$c"), want 0"
	done
	log "IPv$fam: impair saw $(impair_stat seen) segments: lost $(impair_stat lost), duplicated $(impair_stat duplicated), delayed $(impair_stat delayed) (held at most $(impair_stat held_max), overflow $(impair_stat delay_overflow))"
	RESULTS+=("IPv$fam ${ms}ms ${mbps}Mbit/s")
}

RESULTS=()
PORTS=()
base=6000
for fam in $families; do
	[[ $fam == 4 || $fam == 6 ]] || fail "T16_FAMILIES: unknown family $fam"
	run_family "$fam" "$base"
	for ((i = 0; i < conns; i++)); do PORTS+=($((base + i))); done
	base=$((base + 1000))
done

tc_stop "$NS_A"
tc_stop "$NS_B"
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
	n=$(tc_counter "$ns" encrypted_flows)
	want=$((conns * $(wc -w <<<"$families")))
	((n >= want)) || fail "encrypted_flows in $ns is $n, want >= $want"
	log "daemon in $ns: $(awk '$1 == "counter" && $3 != 0 { printf "%s=%s ", $2, $3 }' "${TC_DLOG[$ns]}")"
done
# every connection was encrypted, with the same session on both ends
for port in "${PORTS[@]}"; do
	expect_same_sid "$port" >/dev/null
done
log "all ${#PORTS[@]} connections encrypted with matching session IDs"
log "results: ${RESULTS[*]}"
log "PASS"
