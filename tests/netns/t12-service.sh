#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t12: the daemon as the systemd unit runs it, and what "make install" puts
# on a system.
#
#   (a) launchers/tcpcryptd.service.in, rendered with the build's paths,
#       passes systemd-analyze verify; launchers/tcpcrypt.sysusers creates
#       the user and group tcpcrypt (systemd-sysusers --root).  Skipped with
#       a log line when systemd-analyze is not installed.
#   (b) In hosts A and B: firewall rules installed by root first (the unit's
#       ExecStartPre=+), then the daemon with --foreground as an unprivileged
#       user holding only CAP_NET_ADMIN and CAP_NET_RAW (ambient, bounding
#       set reduced, no_new_privs: the unit's User=, AmbientCapabilities=,
#       CapabilityBoundingSet=, NoNewPrivileges=) with NOTIFY_SOCKET set.
#       READY=1 arrives, and by then the queue is bound and the control
#       socket answers; /proc/PID/status shows CapEff 0x3000 and non-zero
#       uids; a transfer A -> B is encrypted with the same sid on both ends
#       (logs and control socket agree); SIGHUP with a broken policy file
#       reports FILE:LINE and the daemon goes on.
#   (c) SIGTERM: exit status 0; "tcpcrypt-firewall down" (ExecStopPost=+)
#       leaves no queue rules: "tcpcrypt-firewall status" exits 3.
#   (d) A configuration file with a bad line: exit status 78 and FILE:LINE
#       in the message.  The installed example configuration with every
#       directive and example policy uncommented is accepted.
#   (f) tcpcryptd-launch runs the daemon as nobody with only CAP_NET_ADMIN
#       and CAP_NET_RAW, in socket and state directories it created for
#       that user; SIGTERM to the launcher: exit 0, queue rules down, and
#       the daemon's --policy is held (the arguments reach "down").
#   (e) make install DESTDIR=... from the build tree installs the programs,
#       the unit (paths substituted), the sysusers file, the example
#       configuration, the header, the pkg-config file, the library and the
#       man pages; every man page renders (man -l, groff -ww without
#       warnings); the installed unit passes systemd-analyze verify
#       including its Documentation= man pages.
#
# Items of (e) whose sources are not in the tree are logged as skipped;
# TC_STRICT=1 makes them failures.
. "$(dirname "$0")/lib.sh"
tc_require_tools setpriv make man groff
tc_need_daemon

W=$TC_WORK
STRICT=${TC_STRICT:-0}
# The unprivileged identity the daemon runs as (the unit's User=tcpcrypt).
RUN_UID=$(id -u nobody 2>/dev/null) || skip "no user 'nobody' to run the daemon as"
RUN_GID=$(getent group nogroup | cut -d: -f3) || RUN_GID=$(id -g nobody)
# CAP_NET_ADMIN (12) and CAP_NET_RAW (13).
WANT_CAPS=0000000000003000

# The build tree: where "make install" runs.
tc_builddir() {
	local d
	for d in "${abs_top_builddir:-}" "$PWD" "$TC_SRCDIR" "$TC_SRCDIR/build"; do
		if [[ -n $d && -f $d/Makefile && -f $d/config.status ]]; then
			(cd "$d" && pwd)
			return 0
		fi
	done
	return 1
}
BUILDDIR=$(tc_builddir) || fail "no configured build tree (looked in \$abs_top_builddir, $PWD, $TC_SRCDIR, $TC_SRCDIR/build)"

# make_vars NAME...: installation directories as the build tree's Makefile
# expands them, "NAME=VALUE" one per line.
make_vars() {
	local v rules=""
	for v in "$@"; do
		rules+=$'\t'"@echo '$v=\$($v)'"$'\n'
	done
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$BUILDDIR" -f Makefile -f - t12-print-vars <<<"t12-print-vars:"$'\n'"$rules"
}
declare -A DIRS=()
while IFS='=' read -r k v; do
	DIRS[$k]=$v
done < <(make_vars prefix bindir sbindir sysconfdir includedir libdir mandir systemdsystemunitdir)
[[ -n ${DIRS[sbindir]:-} && -n ${DIRS[mandir]:-} ]] || fail "could not read the installation directories from $BUILDDIR/Makefile"
log "build tree $BUILDDIR, prefix ${DIRS[prefix]}"

# The daemon binary must be executable by the unprivileged user; the build
# tree may live where that user cannot reach, so run a copy.
mkdir -p "$W/sbin"
chmod 0711 "$W"
if [[ $(head -c 2 "$TC_DAEMON") == '#!' ]]; then
	ln -s "$TC_DAEMON" "$W/sbin/tcpcryptd"
else
	install -m 0755 "$TC_DAEMON" "$W/sbin/tcpcryptd"
fi
ln -s "$TC_FIREWALL" "$W/sbin/tcpcrypt-firewall"
DAEMON="$W/sbin/tcpcryptd"

# ---------------------------------------------------------------------------
# (a) The unit and the sysusers file.

UNIT_IN="$TC_SRCDIR/launchers/tcpcryptd.service.in"
SYSUSERS="$TC_SRCDIR/launchers/tcpcrypt.sysusers"
EXAMPLE="$TC_SRCDIR/etc/tcpcryptd.conf"
[[ -f $EXAMPLE ]] || fail "$EXAMPLE is missing"
[[ -f $UNIT_IN ]] || fail "$UNIT_IN is missing"
[[ -f $SYSUSERS ]] || fail "$SYSUSERS is missing"

# render_unit SBINDIR OUT: the unit as "make install" renders it.
render_unit() {
	sed "s|@sbindir@|$1|g" "$UNIT_IN" >"$2"
	! grep -n '@[a-z_]*@' "$2" || fail "$2 still has @...@ placeholders after substituting @sbindir@"
}

# verify_unit UNIT [MAN=no|yes]: systemd-analyze verify, quietly on success.
verify_unit() {
	local unit=$1 man=${2:-no} out
	if ! out=$(systemd-analyze verify --man="$man" "$unit" 2>&1); then
		fail "systemd-analyze verify --man=$man $unit failed:
$out"
	fi
	# verify reports some problems without failing; none are expected.
	[[ -z $out ]] || fail "systemd-analyze verify --man=$man $unit complained:
$out"
}

mkdir -p "$W/unit"
render_unit "$W/sbin" "$W/unit/tcpcryptd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	verify_unit "$W/unit/tcpcryptd.service" no
	log "(a) systemd-analyze verify: rendered tcpcryptd.service is valid"
else
	log "(a) SKIPPED: systemd-analyze is not installed (Debian package systemd); unit not verified"
fi
# The properties the rest of this test reproduces by hand.
for want in 'Type=notify' 'User=tcpcrypt' 'Group=tcpcrypt' 'NoNewPrivileges=yes' \
	'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW' 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW' \
	"ExecStartPre=+$W/sbin/tcpcrypt-firewall up" "ExecStart=$W/sbin/tcpcryptd --foreground" \
	"ExecStopPost=+$W/sbin/tcpcrypt-firewall down \$TCPCRYPT_FIREWALL_ARGS -- \$TCPCRYPTD_ARGS" 'RestartPreventExitStatus=64 78' \
	'RuntimeDirectory=tcpcrypt' 'SystemCallFilter=@system-service' 'SystemCallErrorNumber=EPERM' \
	'ProtectProc=invisible' 'ProcSubset=pid'; do
	grep -qF -- "$want" "$W/unit/tcpcryptd.service" || fail "rendered unit lacks '$want'"
done
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$W/sysroot/etc"
	systemd-sysusers --root="$W/sysroot" - <"$SYSUSERS" >"$W/sysusers.log" 2>&1 ||
		fail "systemd-sysusers on $SYSUSERS failed: $(cat "$W/sysusers.log")"
	grep -qE '^tcpcrypt:x:[1-9][0-9]*:[1-9][0-9]*:[^:]*:[^:]*:.*nologin$' "$W/sysroot/etc/passwd" ||
		fail "sysusers did not create a system user tcpcrypt with a nologin shell: $(cat "$W/sysroot/etc/passwd")"
	grep -qE '^tcpcrypt:x:[1-9][0-9]*:' "$W/sysroot/etc/group" ||
		fail "sysusers did not create the group tcpcrypt: $(cat "$W/sysroot/etc/group")"
	log "(a) systemd-sysusers: $(grep '^tcpcrypt:' "$W/sysroot/etc/passwd")"
else
	log "(a) SKIPPED: systemd-sysusers is not installed; sysusers file not applied"
fi

# ---------------------------------------------------------------------------
# (b) The daemon as the unit runs it.

topo_setup

# The readiness listener: a datagram socket like systemd's notify socket.
# Every datagram is appended to FILE, followed by an empty line.
NOTIFY_PY='
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(out, "wb").close()
while True:
    data = s.recv(65536)
    with open(out, "ab") as f:
        f.write(data + b"\n\n")
'
# ctl SOCKET REQUEST: one request on the control socket; the response on
# stdout; exit 1 when the socket does not answer with a final line.
CTL_PY='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
    lines = buf.split(b"\n")
    if any(l.startswith((b"ok", b"error")) for l in lines[:-1]):
        break
sys.stdout.write(buf.decode())
sys.exit(0 if buf.endswith(b"\n") and buf.split(b"\n")[-2].startswith((b"ok", b"error")) else 1)
'
ctl() { python3 -c "$CTL_PY" "$@"; }

# The unit's credentials: User=/Group= (no supplementary groups),
# AmbientCapabilities= and CapabilityBoundingSet= CAP_NET_ADMIN CAP_NET_RAW,
# NoNewPrivileges=yes.  Started in the background as a simple command
# ("ip netns exec NS env ... ${AS_UNIT[@]} CMD &"), so that every step execs
# and $! is the daemon's own pid.
# shellcheck disable=SC2054  # the commas belong to setpriv's capability lists
AS_UNIT=(setpriv --reuid="$RUN_UID" --regid="$RUN_GID" --clear-groups
	--inh-caps=+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw
	--bounding-set=-all,+net_admin,+net_raw --no-new-privs)

declare -A NOTIFY_OUT=() CTL_SOCK=() CONF=() STATE_DIR=()

# svc_start NS NAME: firewall up as root, then the daemon as the unit runs
# it, with its own config file, control socket and notify socket.
svc_start() {
	local ns=$1 name=$2 dir lpid pid dlog
	dir="$W/run-$name"
	mkdir -p "$dir"
	chown "$RUN_UID:$RUN_GID" "$dir"
	chmod 0750 "$dir"
	CTL_SOCK[$ns]="$dir/tcpcryptd.sock"
	CONF[$ns]="$W/tcpcryptd-$name.conf"
	# The flow state file on tmpfs, in a directory of the service user,
	# as RuntimeDirectory= makes /run/tcpcrypt.
	chmod 0711 "$TC_STATE_DIR"
	STATE_DIR[$ns]="$TC_STATE_DIR/run-$name"
	mkdir -p "${STATE_DIR[$ns]}"
	chown "$RUN_UID:$RUN_GID" "${STATE_DIR[$ns]}"
	chmod 0750 "${STATE_DIR[$ns]}"
	cat >"${CONF[$ns]}" <<-EOF
		# t12: host $name
		queue $TC_QUEUE
		socket ${CTL_SOCK[$ns]}
		state-file ${STATE_DIR[$ns]}/flows
		policy private port 5012
	EOF
	chmod 0644 "${CONF[$ns]}"
	NOTIFY_OUT[$ns]="$W/notify-$name.txt"
	python3 -c "$NOTIFY_PY" "$W/notify-$name.sock" "${NOTIFY_OUT[$ns]}" &
	lpid=$!
	tc_track "$lpid"
	wait_for -m "notify listener for $name" test -S "$W/notify-$name.sock" -a -f "${NOTIFY_OUT[$ns]}"

	TC_DSEQ=$((TC_DSEQ + 1))
	dlog="$W/daemon-$TC_DSEQ-$name.log"
	: >"$dlog"
	TC_DLOG[$ns]=$dlog
	TC_DAEMON_LOGS+=("$dlog")
	# ExecStartPre=+: root installs the rules.
	ns_exec "$ns" "$TC_FIREWALL" up --queue "$TC_QUEUE" >>"$dlog" 2>&1 ||
		fail "tcpcrypt-firewall up failed in $name: $(tail -n 5 "$dlog")"
	# ExecStart=: unprivileged, --foreground, NOTIFY_SOCKET.
	ip netns exec "$ns" env NOTIFY_SOCKET="$W/notify-$name.sock" "${AS_UNIT[@]}" \
		"$DAEMON" --foreground --config "${CONF[$ns]}" -v -v 2>>"$dlog" &
	pid=$!
	tc_track "$pid"
	TC_DPID[$ns]=$pid
	local deadline=$(($(date +%s) + 10))
	until grep -qx 'READY=1' "${NOTIFY_OUT[$ns]}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			local rc=0
			wait "$pid" || rc=$?
			fail "daemon in $name exited with status $rc before it sent READY=1"
		fi
		(($(date +%s) <= deadline)) || fail "daemon in $name sent no READY=1 within 10s (got: $(tr '\n' ' ' <"${NOTIFY_OUT[$ns]}"))"
		sleep 0.05
	done
	# READY=1 promises: the queue is bound and the control socket listens.
	local q
	q=$(ns_exec "$ns" cat /proc/net/netfilter/nfnetlink_queue | awk -v q="$TC_QUEUE" '$1 == q')
	[[ -n $q ]] || fail "daemon in $name sent READY=1 before binding queue $TC_QUEUE (/proc/net/netfilter/nfnetlink_queue: $(ns_exec "$ns" cat /proc/net/netfilter/nfnetlink_queue))"
	local v
	v=$(ctl "${CTL_SOCK[$ns]}" version) || fail "daemon in $name sent READY=1 but its control socket ${CTL_SOCK[$ns]} does not answer: $v"
	grep -q '^ok version=' <<<"$v" || fail "control socket in $name: 'version' answered '$v'"
	# The flow state (keys) is the service user's alone.
	local fst
	fst=$(stat -c '%a %u %F' "${STATE_DIR[$ns]}/flows" 2>&1) || fail "daemon in $name made no state file: $fst"
	[[ $fst == "600 $RUN_UID regular file" ]] || fail "state file in $name is '$fst', want '600 $RUN_UID regular file'"
	log "(b) daemon in $name ready (pid $pid): READY=1 received, queue $TC_QUEUE bound, control socket answers '$v'"
}

# expect_unit_creds NS NAME: uid and capabilities as the unit gives them.
expect_unit_creds() {
	local ns=$1 name=$2 pid st uids capeff capbnd capamb nnp
	pid=${TC_DPID[$ns]}
	st=$(cat "/proc/$pid/status") || fail "cannot read /proc/$pid/status of the daemon in $name"
	grep -q "^Name:.*tcpcryptd" <<<"$st" || fail "pid $pid in $name is not tcpcryptd: $(grep '^Name:' <<<"$st")"
	uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' <<<"$st")
	for u in $uids; do
		((u != 0)) || fail "daemon in $name runs with uid 0 somewhere in 'Uid: $uids'"
	done
	capeff=$(awk '$1 == "CapEff:" { print $2 }' <<<"$st")
	capbnd=$(awk '$1 == "CapBnd:" { print $2 }' <<<"$st")
	capamb=$(awk '$1 == "CapAmb:" { print $2 }' <<<"$st")
	nnp=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")
	[[ $capeff == "$WANT_CAPS" ]] || fail "daemon in $name has CapEff $capeff, want $WANT_CAPS (net_admin+net_raw)"
	[[ $capbnd == "$WANT_CAPS" ]] || fail "daemon in $name has CapBnd $capbnd, want $WANT_CAPS"
	[[ $nnp == 1 ]] || fail "daemon in $name has NoNewPrivs $nnp, want 1"
	log "(b) daemon in $name: Uid $uids, CapEff $capeff, CapBnd $capbnd, CapAmb $capamb, NoNewPrivs $nnp"
}

svc_start "$NS_A" A
svc_start "$NS_B" B
expect_unit_creds "$NS_A" A
expect_unit_creds "$NS_B" B

# An encrypted transfer (port 5012 is "private" in both configs).
marker="TCPCRYPT-MARKER-PLAINTEXT-$(rand_tag)"
make_payload "$W/push.bin" $((512 * 1024)) "$marker"
cap_start svc
socat_push 5012 "$W/push.bin"
cap_stop svc
wirecheck syn-has-eno "$(cap_file svc)"
wirecheck data-has-mac "$(cap_file svc)"
wirecheck absent "$(cap_file svc)" "$marker"
expect_same_sid 5012
sid=$(tc_sid "$NS_A" 5012 A)

# The control socket tells the same session ID, on both hosts.
for ns in "$NS_A" "$NS_B"; do
	out=$(ctl "${CTL_SOCK[$ns]}" list) || fail "control socket ${CTL_SOCK[$ns]}: 'list' failed: $out"
	line=$(grep -E '^flow .*:5012 ' <<<"$out" | grep -F "sid=$sid" | sed -n 1p) ||
		fail "control socket in $ns lists no flow on port 5012 with sid $sid:
$out"
	grep -q 'policy=private ' <<<"$line" || fail "flow on port 5012 in $ns was not opened under policy private: $line"
done
log "(b) control sockets of A and B list the connection with sid ${sid:0:16}... policy=private"
if tcn=$(tc_find_built util/tcnetstat || tc_find_built tcnetstat); then
	out=$(ns_exec "$NS_A" "$tcn" -S "${CTL_SOCK[$NS_A]}" -w 2>&1) || fail "tcnetstat -S ${CTL_SOCK[$NS_A]} -w failed (status $?): $out"
	grep -qF "$sid" <<<"$out" || fail "tcnetstat -w in A does not show sid $sid:
$out"
	log "(b) tcnetstat -w in A shows the connection's sid"
else
	log "(b) SKIPPED tcnetstat cross-check: tcnetstat is not built"
fi

# ExecReload=: SIGHUP with a broken policy keeps the daemon and its policy.
printf 'queue %s\nsocket %s\npolicy private port 5012\npolicy privat port 22\n' \
	"$TC_QUEUE" "${CTL_SOCK[$NS_A]}" >"${CONF[$NS_A]}"
kill -HUP "${TC_DPID[$NS_A]}"
wait_for -m "A's daemon to report ${CONF[$NS_A]}:4 after SIGHUP" grep -qF "${CONF[$NS_A]}:4" "${TC_DLOG[$NS_A]}"
kill -0 "${TC_DPID[$NS_A]}" 2>/dev/null || fail "daemon in A exited after SIGHUP with a bad configuration file"
v=$(ctl "${CTL_SOCK[$NS_A]}" version) || fail "daemon in A stopped answering after SIGHUP: $v"
log "(b) SIGHUP with a bad line: reported as $(grep -F "${CONF[$NS_A]}:4" "${TC_DLOG[$NS_A]}" | head -n 1 | cut -c1-120); daemon goes on"

# ---------------------------------------------------------------------------
# (c) Stop: SIGTERM, exit 0, ExecStopPost=+ leaves no queue rules.

for ns in "$NS_A" "$NS_B"; do
	pid=${TC_DPID[$ns]}
	kill -TERM "$pid"
	wait_pid "$pid" 10 "daemon in $ns after SIGTERM"
	unset "TC_DPID[$ns]"
	((TC_WAIT_RC == 0)) || fail "daemon in $ns exited with status $TC_WAIT_RC after SIGTERM (want 0)"
	ns_exec "$ns" "$TC_FIREWALL" down >>"${TC_DLOG[$ns]}" 2>&1 || fail "tcpcrypt-firewall down failed in $ns"
	rc=0
	ns_exec "$ns" "$TC_FIREWALL" status >"$W/status.out" 2>&1 || rc=$?
	((rc == 3)) || fail "after tcpcrypt-firewall down in $ns, status exits $rc (want 3, nothing installed):
$(cat "$W/status.out")"
	[[ ! -e ${CTL_SOCK[$ns]} ]] || log "(c) note: ${CTL_SOCK[$ns]} left behind after exit (removed at the next start)"
done
log "(c) SIGTERM: both daemons exited 0; firewall down leaves no queue rules (status 3)"

# ---------------------------------------------------------------------------
# (d) Configuration errors: exit 78 and FILE:LINE.

# expect_conf_error FILE LINE WHAT
expect_conf_error() {
	local conf=$1 line=$2 what=$3 rc=0 err="$W/conf-err.log"
	chmod 0644 "$conf"
	ip netns exec "$NS_A" "${AS_UNIT[@]}" timeout 10 "$DAEMON" --foreground --config "$conf" 2>"$err" || rc=$?
	((rc == 78)) || fail "$what: daemon exited $rc, want 78 (configuration error):
$(head -n 5 "$err")"
	grep -qF "$conf:$line" "$err" || fail "$what: the message does not name $conf:$line:
$(head -n 5 "$err")"
	log "(d) $what: exit 78, $(grep -F "$conf:$line" "$err" | head -n 1 | cut -c1-140)"
}
printf '# bad action\nqueue %s\npolicy privat port 22\n' "$TC_QUEUE" >"$W/bad1.conf"
expect_conf_error "$W/bad1.conf" 3 "unknown policy action on line 3"
printf 'queue %s\n\n\n# comment\nbogus-directive 1\n' "$TC_QUEUE" >"$W/bad2.conf"
expect_conf_error "$W/bad2.conf" 5 "unknown directive on line 5"
printf 'max-flows 3\n' >"$W/bad3.conf"
expect_conf_error "$W/bad3.conf" 1 "max-flows out of range on line 1"

# The example configuration, every directive and example uncommented (with
# paths and the group adapted to this test), is valid and starts.
ex_dir="$W/run-example"
mkdir -p "$ex_dir"
chown "$RUN_UID:$RUN_GID" "$ex_dir"
sed -E -e 's/^# ((queue|socket|socket-group|idle-timeout|max-flows|linger|state-file|rst|keylog|suites|resumption|resume-lifetime|policy) )/\1/' \
	-e "s|^socket .*|socket $ex_dir/tcpcryptd.sock|" \
	-e "s|^state-file .*|state-file $ex_dir/flows|" \
	-e "s|^socket-group .*|socket-group $(getent group "$RUN_GID" | cut -d: -f1)|" \
	-e "s|^keylog .*|keylog $ex_dir/keys.log|" \
	-e "s|^queue .*|queue $TC_QUEUE|" "$EXAMPLE" >"$W/example.conf"
chmod 0644 "$W/example.conf"
n=$(grep -cE '^(queue|socket|socket-group|idle-timeout|max-flows|linger|state-file|rst|keylog|suites|resumption|resume-lifetime|policy) ' "$W/example.conf")
((n >= 15)) || fail "the example configuration has only $n directives once uncommented"
: >"$W/notify-example.txt"
python3 -c "$NOTIFY_PY" "$W/notify-example.sock" "$W/notify-example.txt" &
lpid=$!
tc_track "$lpid"
wait_for -m "notify listener for the example" test -S "$W/notify-example.sock"
ip netns exec "$NS_A" env NOTIFY_SOCKET="$W/notify-example.sock" "${AS_UNIT[@]}" \
	"$DAEMON" --foreground --config "$W/example.conf" 2>"$W/example.log" &
pid=$!
tc_track "$pid"
deadline=$(($(date +%s) + 10))
until grep -qx 'READY=1' "$W/notify-example.txt"; do
	kill -0 "$pid" 2>/dev/null || fail "daemon with the uncommented example configuration exited: $(head -n 5 "$W/example.log")"
	(($(date +%s) <= deadline)) || fail "daemon with the uncommented example configuration not ready after 10s"
	sleep 0.05
done
out=$(ctl "$ex_dir/tcpcryptd.sock" version) || fail "example configuration: control socket does not answer: $out"
kill -TERM "$pid"
wait_pid "$pid" 10 "daemon with the example configuration"
((TC_WAIT_RC == 0)) || fail "daemon with the example configuration exited $TC_WAIT_RC after SIGTERM"
log "(d) example configuration with $n directives uncommented: accepted, ready, exit 0"

# ---------------------------------------------------------------------------
# (f) tcpcryptd-launch: the daemon as an unprivileged user with only
# CAP_NET_ADMIN and CAP_NET_RAW, in directories the launcher made for it;
# on SIGTERM the rules go down with the daemon's policy held.

LAUNCH="$TC_SRCDIR/launchers/tcpcryptd-launch"
lsock_dir="$W/launch-run"
lstate_dir="$TC_STATE_DIR/launch"
ip netns exec "$NS_A" "$LAUNCH" --queue "$TC_QUEUE" --daemon "$DAEMON" --user nobody -- \
	--config /dev/null --socket "$lsock_dir/ctl.sock" --state-file "$lstate_dir/flows" \
	--policy "private port 5012" -v >"$W/launch.log" 2>&1 &
lpid=$!
tc_track "$lpid"
wait_for -m "the launched daemon to be ready" grep -q "ready queue=$TC_QUEUE" "$W/launch.log"
dpid=$(pgrep -P "$lpid" -x tcpcryptd) || fail "no tcpcryptd child of the launcher (pid $lpid): $(tail -n 5 "$W/launch.log")"
TC_DPID[$NS_A]=$dpid
expect_unit_creds "$NS_A" "A (launcher)"
unset "TC_DPID[$NS_A]"
for d in "$lsock_dir" "$lstate_dir"; do
	st=$(stat -c '%u %a' "$d") || fail "the launcher did not create $d"
	[[ $st == "$RUN_UID 750" ]] || fail "$d is '$st' (owner, mode), want '$RUN_UID 750'"
done
[[ -S $lsock_dir/ctl.sock ]] || fail "the launched daemon made no control socket in $lsock_dir"
kill -TERM "$lpid"
wait_pid "$lpid" 10 "the launcher after SIGTERM"
((TC_WAIT_RC == 0)) || fail "the launcher exited $TC_WAIT_RC after SIGTERM, want 0: $(tail -n 5 "$W/launch.log")"
rc=0
ns_exec "$NS_A" "$TC_FIREWALL" status >"$W/status.out" 2>&1 || rc=$?
((rc == 3)) || fail "after the launcher, status exits $rc (want 3): $(cat "$W/status.out")"
ns_exec "$NS_A" iptables -w -t mangle -S TCPCRYPT_HOLD_IA 2>/dev/null | grep -qF -- "--dport 5012 -j DROP" ||
	fail "the launcher's 'down' did not hold the daemon's 'private port 5012': $(ns_exec "$NS_A" iptables -w -t mangle -S 2>&1 | grep HOLD)"
ns_exec "$NS_A" "$TC_FIREWALL" purge >>"$W/launch.log" 2>&1 || fail "tcpcrypt-firewall purge in A failed"
log "(f) tcpcryptd-launch: daemon as uid $RUN_UID with CAP_NET_ADMIN+CAP_NET_RAW, directories made for it; SIGTERM: exit 0, rules down, port 5012 held"

# ---------------------------------------------------------------------------
# (e) make install.

INST="$W/inst"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$BUILDDIR" install DESTDIR="$INST" >"$W/install.log" 2>&1 ||
	fail "make install DESTDIR=$INST failed: $(tail -n 20 "$W/install.log")"
log "(e) make install DESTDIR=$INST done"

# need WHAT SOURCE-GLOB INSTALLED-GLOB...: the installed file must exist when
# its source is in the tree (always with TC_STRICT=1).
missing=()
need() {
	local what=$1 src=$2 g f
	shift 2
	for g in "$@"; do
		# shellcheck disable=SC2086  # g may be a glob (libtcpcrypt.so*)
		for f in $INST$g; do
			if [[ -e $f ]]; then
				log "(e) installed $what: ${f#"$INST"}"
				return 0
			fi
		done
	done
	if ((STRICT)) || compgen -G "$TC_SRCDIR/$src" >/dev/null; then
		missing+=("$what (looked for: $*)")
	else
		log "(e) SKIPPED $what: no $src in the source tree yet"
	fi
}
D_SBIN=${DIRS[sbindir]}
D_BIN=${DIRS[bindir]}
D_LIB=${DIRS[libdir]}
need tcpcryptd src/daemon/main.c "$D_SBIN/tcpcryptd"
need tcpcrypt-firewall scripts/tcpcrypt-firewall "$D_SBIN/tcpcrypt-firewall"
need tcpcryptd-launch launchers/tcpcryptd-launch "$D_SBIN/tcpcryptd-launch"
need tcnetstat util/tcnetstat.c "$D_BIN/tcnetstat"
need tcpcrypt-sessid examples/tcpcrypt-sessid.c "$D_BIN/tcpcrypt-sessid"
need "systemd unit" launchers/tcpcryptd.service.in "${DIRS[systemdsystemunitdir]}/tcpcryptd.service"
need "sysusers.d file" launchers/tcpcrypt.sysusers "${DIRS[prefix]}/lib/sysusers.d/tcpcrypt.conf"
need "example configuration" etc/tcpcryptd.conf "${DIRS[sysconfdir]}/tcpcryptd.conf"
need "header tcpcrypt.h" lib/tcpcrypt.h "${DIRS[includedir]}/tcpcrypt.h"
need "pkg-config file" lib/libtcpcrypt.pc.in "$D_LIB/pkgconfig/libtcpcrypt.pc"
need "library libtcpcrypt" lib/tcpcrypt.c "$D_LIB/libtcpcrypt.so.0"
for page in "$TC_SRCDIR"/man/*.[0-9]; do
	base=${page##*/}
	need "man page $base" "man/$base" "${DIRS[mandir]}/man${base##*.}/$base"
done
if ((STRICT)); then
	for base in tcpcryptd.8 tcpcrypt.7 tcnetstat.8 tcpcryptd.conf.5 libtcpcrypt.3 tcpcrypt-sessid.1; do
		[[ -f $TC_SRCDIR/man/$base ]] || need "man page $base" "man/$base" "${DIRS[mandir]}/man${base##*.}/$base"
	done
fi
((${#missing[@]} == 0)) || fail "make install did not install:
$(printf '  %s\n' "${missing[@]}")"

# The installed unit: @sbindir@ substituted with the real sbindir.
unit="$INST${DIRS[systemdsystemunitdir]}/tcpcryptd.service"
if [[ -f $unit ]]; then
	! grep -n '@[a-z_]*@' "$unit" || fail "installed unit $unit has unsubstituted placeholders"
	grep -qx "ExecStart=$D_SBIN/tcpcryptd --foreground.*" "$unit" ||
		fail "installed unit: ExecStart is not $D_SBIN/tcpcryptd --foreground: $(grep '^ExecStart=' "$unit")"
	# Verify it as installed, with the Documentation= pages looked up in the
	# installed man tree, the programs in the installed sbindir.
	if command -v systemd-analyze >/dev/null 2>&1; then
		mkdir -p "$W/unit-inst"
		sed "s|$D_SBIN/|$INST$D_SBIN/|g" "$unit" >"$W/unit-inst/tcpcryptd.service"
		MANPATH="$INST${DIRS[mandir]}" verify_unit "$W/unit-inst/tcpcryptd.service" yes
		log "(e) systemd-analyze verify --man=yes: installed unit valid, its man pages installed"
	fi
fi
# The installed example configuration is the source's.
conf="$INST${DIRS[sysconfdir]}/tcpcryptd.conf"
[[ ! -f $conf ]] || cmp -s "$conf" "$EXAMPLE" || fail "installed $conf differs from $EXAMPLE"

# Every installed man page renders without a warning.
pages=0
while IFS= read -r -d '' page; do
	man -l "$page" >/dev/null 2>"$W/man.err" || fail "man -l $page failed: $(cat "$W/man.err")"
	groff -man -Tutf8 -ww "$page" >/dev/null 2>"$W/groff.err" || fail "groff -man $page failed: $(cat "$W/groff.err")"
	[[ ! -s $W/groff.err ]] || fail "groff -man -ww ${page##*/} warns:
$(head -n 10 "$W/groff.err")"
	pages=$((pages + 1))
done < <(find "$INST${DIRS[mandir]}" -type f -print0)
((pages > 0)) || fail "no man pages installed under ${DIRS[mandir]}"
log "(e) $pages installed man pages render with man -l and groff -ww without warnings"
log "PASS"
