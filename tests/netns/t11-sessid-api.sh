#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t11: the session ID API end to end.  Both hosts run tcpcryptd with a
# control socket; examples/tcpcrypt-sessid (libtcpcrypt) listens on B and
# connects from A, over IPv4, IPv6 and an IPv6 socket with IPv4-mapped
# addresses.  Both ends must print the same 66-hex session ID, equal to the
# one both daemons logged, role A on the connecting host and B on the
# accepting one.  Then B's daemon is stopped: the connection falls back to
# plaintext, and the example must say so and exit non-zero without ever
# printing a session ID.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
if [[ ${TC_STANDIN:-} != passthrough ]] && ! "$TC_DAEMON" --help 2>&1 | grep -c -- '--socket' >/dev/null; then
	skip "$TC_DAEMON has no --socket option (control socket not built yet)"
fi
SESSID=$(tc_find_built examples/tcpcrypt-sessid) ||
	fail "examples/tcpcrypt-sessid is not built; run make"
# In the build tree this is libtool's wrapper: let it set itself up once,
# before two copies run at the same time.
"$SESSID" --help >/dev/null || fail "$SESSID --help failed"

SOCK_A="$TC_WORK/a.sock"
SOCK_B="$TC_WORK/b.sock"

topo_setup
tc_start "$NS_A" --socket "$SOCK_A"
tc_start "$NS_B" --socket "$SOCK_B"
wait_for -m "control socket $SOCK_A" test -S "$SOCK_A"
wait_for -m "control socket $SOCK_B" test -S "$SOCK_B"

# sessid_run NAME PORT LISTEN_ARGS -- CONNECT_ARGS: tcpcrypt-sessid listen on
# B, connect from A; each one's stdout, stderr and status in $TC_WORK/NAME-*.
sessid_run() {
	local name=$1 port=$2 pid largs=() cargs=()
	shift 2
	while [[ $1 != -- ]]; do largs+=("$1"); shift; done
	shift
	cargs=("$@")
	ip netns exec "$NS_B" env TCPCRYPT_SOCKET="$SOCK_B" timeout 60 "$SESSID" "${largs[@]}" \
		>"$TC_WORK/$name-b.out" 2>"$TC_WORK/$name-b.err" &
	pid=$!
	tc_track "$pid"
	wait_listen "$NS_B" "$port"
	local rc=0
	ns_exec "$NS_A" env TCPCRYPT_SOCKET="$SOCK_A" timeout 60 "$SESSID" "${cargs[@]}" \
		>"$TC_WORK/$name-a.out" 2>"$TC_WORK/$name-a.err" || rc=$?
	echo "$rc" >"$TC_WORK/$name-a.rc"
	wait_pid "$pid" 30 "tcpcrypt-sessid listen on port $port"
	echo "$TC_WAIT_RC" >"$TC_WORK/$name-b.rc"
}

# expect_sessid NAME PORT: both ends printed one sid line, the right roles,
# the same ID, and it is the one both daemons logged for that port.
expect_sessid() {
	local name=$1 port=$2 h out role want sa sb da db
	for h in a b; do
		[[ $(cat "$TC_WORK/$name-$h.rc") == 0 ]] ||
			fail "$name: tcpcrypt-sessid on ${h^^} exited $(cat "$TC_WORK/$name-$h.rc"): $(cat "$TC_WORK/$name-$h.err")"
		out=$(cat "$TC_WORK/$name-$h.out")
		role=${h^^}
		[[ $out =~ ^sid=([0-9a-f]{66})\ role=([AB])$ ]] ||
			fail "$name: ${h^^} printed '$out', want 'sid=<66 hex> role=$role'"
		[[ ${BASH_REMATCH[2]} == "$role" ]] || fail "$name: ${h^^} printed role=${BASH_REMATCH[2]}, want $role"
		want=${BASH_REMATCH[1]}
		if [[ $h == a ]]; then sa=$want; else sb=$want; fi
	done
	[[ $sa == "$sb" ]] || fail "$name: the two ends printed different session IDs: A=$sa B=$sb"
	da=$(tc_sid "$NS_A" "$port" A) || exit 1
	db=$(tc_sid "$NS_B" "$port" B) || exit 1
	[[ $sa == "$da" ]] || fail "$name: A printed $sa, A's daemon logged $da"
	[[ $sb == "$db" ]] || fail "$name: B printed $sb, B's daemon logged $db"
	log "$name: port $port: both ends and both daemons agree: sid=${sa:0:16}..."
}

sessid_run v4 7101 --wait 5 listen 198.51.100.1 7101 -- --wait 5 connect 198.51.100.1 7101
expect_sessid v4 7101

sessid_run v6 7102 -6 --wait 5 listen 2001:db8:2::1 7102 -- -6 --wait 5 connect 2001:db8:2::1 7102
expect_sessid v6 7102

# An IPv6 socket on A talking to B's IPv4 address: the library must ask
# the daemon in the IPv4 form.
sessid_run mapped 7103 --wait 5 listen 198.51.100.1 7103 -- -6 --wait 5 connect ::ffff:198.51.100.1 7103
expect_sessid mapped 7103

# B without tcpcryptd: plaintext.  A's daemon has no state for the
# connection (ENODATA); B has no daemon to ask at all.
tc_stop "$NS_B"
sessid_run plain 7104 --wait 5 listen 198.51.100.1 7104 -- --wait 5 connect 198.51.100.1 7104
for h in a b; do
	rc=$(cat "$TC_WORK/plain-$h.rc")
	((rc != 0)) || fail "plain: tcpcrypt-sessid on ${h^^} exited 0 on a plaintext connection"
	((rc != 124)) || fail "plain: tcpcrypt-sessid on ${h^^} hung (killed by timeout)"
	! grep -q 'sid=' "$TC_WORK/plain-$h.out" ||
		fail "plain: ${h^^} printed a session ID for a plaintext connection: $(cat "$TC_WORK/plain-$h.out")"
done
grep -q 'not encrypted' "$TC_WORK/plain-a.err" ||
	fail "plain: A did not say 'not encrypted': $(cat "$TC_WORK/plain-a.err")"
grep -q 'cannot ask tcpcryptd' "$TC_WORK/plain-b.err" ||
	fail "plain: B (no daemon) did not say it cannot ask tcpcryptd: $(cat "$TC_WORK/plain-b.err")"
log "plain: A: $(cat "$TC_WORK/plain-a.err")"
log "plain: B: $(cat "$TC_WORK/plain-b.err")"
expect_plaintext "$NS_A" 7104

tc_stop "$NS_A"
log "PASS"
