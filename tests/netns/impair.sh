# shellcheck shell=bash
# SPDX-License-Identifier: BSD-2-Clause
# impair.sh: loss, duplication, delay/reordering and chosen drops in the
# router namespace R, by tools/impair (an NFQUEUE program; there is no netem
# here).  Sourced after lib.sh, not run.
#
#   impair_start ARGS...   start tools/impair in R with ARGS (--seed, --loss,
#                          --dup, --delay, --jitter, --drop ...; see the
#                          comment at the top of tools/impair.c), wait for
#                          "ready queue=N", then queue every forwarded TCP
#                          segment of both families to it.  A --seed is added
#                          (IMPAIR_SEED, default 1) unless ARGS has one.
#   impair_stop            remove the rules, SIGTERM, wait; exit status must
#                          be 0.  The counters are then in the stats file.
#   impair_stat NAME       a counter of the last stopped run ("seen",
#                          "lost", "duplicated", "delayed", "drop_init1_1"...)
#
# The rules sit in R's FORWARD chain (filter table) and skip packets with
# mark bit 0x1: that is how impair marks the copies it injects for --dup, so
# a copy is never queued again.  The queue number (IMPAIR_QUEUE, default 700)
# differs from the daemons' (TC_QUEUE, 666); the daemons run in A and B, so
# the numbers would not collide anyway, but distinct numbers keep logs clear.
#
# Environment: IMPAIR (path of the program; default: tools/impair next to
# $TCPCRYPTD, else found like the other built programs),
# IMPAIR_QUEUE, IMPAIR_SEED.

IMPAIR_QUEUE=${IMPAIR_QUEUE:-700}
IMPAIR_PID=""
IMPAIR_LOG=""
IMPAIR_STATS=""
IMPAIR_SEQ=0
IMPAIR_RULES=0

impair_need() {
	if [[ -n ${IMPAIR:-} ]]; then
		[[ -x $IMPAIR ]] || fail "IMPAIR=$IMPAIR is not an executable"
		return 0
	fi
	# next to a daemon given as TCPCRYPTD=BUILDDIR/tcpcryptd, or where
	# lib.sh looks for built programs
	if [[ -n ${TCPCRYPTD:-} && -x $(dirname "$TCPCRYPTD")/tools/impair ]]; then
		IMPAIR=$(dirname "$TCPCRYPTD")/tools/impair
		return 0
	fi
	IMPAIR=$(tc_find_built tools/impair) ||
		fail "tools/impair is not built (looked next to \$TCPCRYPTD, in \$abs_top_builddir, $PWD, $TC_SRCDIR); run make or set IMPAIR"
}

# The rule, for -A and -D alike.
impair_rule() {
	local cmd=$1 op=$2
	ns_exec "$NS_R" "$cmd" "$op" FORWARD -p tcp -m mark ! --mark 0x1/0x1 \
		-m comment --comment tc-impair -j NFQUEUE --queue-num "$IMPAIR_QUEUE"
}

impair_start() {
	local pid args=("$@") a seeded=0
	[[ -z $IMPAIR_PID ]] || fail "impair_start: impair already running (pid $IMPAIR_PID)"
	impair_need
	for a in "${args[@]}"; do
		[[ $a == --seed || $a == --seed=* ]] && seeded=1
	done
	((seeded)) || args+=(--seed "${IMPAIR_SEED:-1}")
	IMPAIR_SEQ=$((IMPAIR_SEQ + 1))
	IMPAIR_LOG="$TC_WORK/impair-$IMPAIR_SEQ.log"
	IMPAIR_STATS="$TC_WORK/impair-$IMPAIR_SEQ.stats"
	: >"$IMPAIR_LOG"
	rm -f "$IMPAIR_STATS"
	TC_DAEMON_LOGS+=("$IMPAIR_LOG")
	ip netns exec "$NS_R" "$IMPAIR" --queue "$IMPAIR_QUEUE" --stats "$IMPAIR_STATS" "${args[@]}" \
		2>>"$IMPAIR_LOG" &
	pid=$!
	tc_track "$pid"
	IMPAIR_PID=$pid
	local deadline=$(($(date +%s) + 10))
	until grep -q "ready queue=$IMPAIR_QUEUE" "$IMPAIR_LOG"; do
		kill -0 "$pid" 2>/dev/null || fail "impair exited before it was ready: $(tail -n 5 "$IMPAIR_LOG")"
		(($(date +%s) <= deadline)) || fail "impair not ready after 10s (no 'ready queue=$IMPAIR_QUEUE' in $IMPAIR_LOG)"
		sleep 0.05
	done
	# Bound first, rules second: a queue rule without a listener drops.
	impair_rule iptables -A || fail "iptables rule for impair in R"
	impair_rule ip6tables -A || fail "ip6tables rule for impair in R"
	IMPAIR_RULES=1
	log "impair in R (pid $pid): ${args[*]}"
}

impair_stop() {
	local pid=$IMPAIR_PID
	[[ -n $pid ]] || return 0
	# Rules first: nothing new is queued, what is held is still released.
	if ((IMPAIR_RULES)); then
		impair_rule iptables -D || fail "removing the iptables impair rule in R"
		impair_rule ip6tables -D || fail "removing the ip6tables impair rule in R"
		IMPAIR_RULES=0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	wait_pid "$pid" 10 "impair after SIGTERM"
	IMPAIR_PID=""
	((TC_WAIT_RC == 0)) || fail "impair exited with status $TC_WAIT_RC after SIGTERM (want 0)"
	[[ -s $IMPAIR_STATS ]] || fail "impair wrote no counters to $IMPAIR_STATS"
	log "impair stopped: $(awk '$3 != 0 { printf "%s=%s ", $2, $3 }' "$IMPAIR_STATS")"
}

# impair_stat NAME: a counter of the last impair run (after impair_stop).
impair_stat() {
	local v
	[[ -n $IMPAIR_STATS && -f $IMPAIR_STATS ]] || fail "impair_stat $1: no stats file (impair_stop first)"
	v=$(awk -v n="$1" '$1 == "impair" && $2 == n { v = $3 } END { if (v != "") print v }' "$IMPAIR_STATS")
	[[ -n $v ]] || fail "impair counter $1 not found in $IMPAIR_STATS"
	echo "$v"
}
