#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck source-path=SCRIPTDIR
# t10: the control socket (doc/control.md) and tcnetstat.  Both hosts run
# tcpcryptd, each with its own socket.  While A holds an encrypted
# connection to B, a plaintext one to R (no daemon there) and a loopback
# one, tcnetstat on both hosts shows the encrypted connection with roles A
# and B and the session ID both daemons logged, the others as plaintext and
# local.  The protocol itself: version, lookup hit and miss, malformed
# lines, an over-long line, reload without permission, clients that never
# read (traffic goes on; a flooder is cut off at 64 KiB), a second daemon
# on a live socket, the socket's mode, sd_notify READY=1/STOPPING=1, and
# the socket removed on SIGTERM.
. "$(dirname "$0")/lib.sh"
tc_require_tools setpriv stat getent
tc_need_daemon
TCNETSTAT=$(tc_find_built util/tcnetstat) || fail "util/tcnetstat is not built"
topo_setup

# The non-root client below must reach B's socket: let others traverse the
# work directory (they cannot list it).
chmod 0711 "$TC_WORK"
SOCK_A="$TC_WORK/ctl-a/tcpcryptd.sock"
SOCK_B="$TC_WORK/ctl-b/tcpcryptd.sock"
nogroup=$(getent group 65534 | cut -d: -f1) || true
[[ -n $nogroup ]] || nogroup=65534

# --- helpers -------------------------------------------------------------

# ctlq NS SOCK REQUEST...: send the request lines on one connection, print
# every response line (until as many final lines as requests, or EOF).
cat >"$TC_WORK/ctlq.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
reqs = sys.argv[2:]
s.sendall("".join(r + "\n" for r in reqs).encode())
buf, finals = b"", 0
while finals < len(reqs):
    try:
        d = s.recv(65536)
    except ConnectionResetError:
        d = b""
    if not d:
        print("EOF")
        break
    buf += d
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        t = line.decode()
        print(t)
        if t == "ok" or t.startswith(("ok ", "error ")):
            finals += 1
EOF
ctlq() {
	local ns=$1 sock=$2
	shift 2
	ns_exec "$ns" python3 "$TC_WORK/ctlq.py" "$sock" "$@"
}

# An echo server (on B and on R) for any number of connections.
cat >"$TC_WORK/echo.py" <<'EOF'
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], int(sys.argv[2])))
ls.listen(16)
def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
EOF

# A's connections, held open until the stop file appears.  Writes the three
# local ports (encrypted, plaintext, loopback client) to the ready file.
cat >"$TC_WORK/hold.py" <<'EOF'
import os, socket, sys, time
ready, stop = sys.argv[1], sys.argv[2]
def exchange(s, n):
    s.sendall(b"x" * n)
    got = 0
    while got < n:
        d = s.recv(65536)
        if not d:
            sys.exit("peer closed")
        got += len(d)
enc = socket.create_connection(("198.51.100.1", 7001), timeout=20)
exchange(enc, 1000)
plain = socket.create_connection(("192.0.2.254", 7003), timeout=20)
exchange(plain, 100)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
lo = socket.create_connection(ls.getsockname())
lo_srv, _ = ls.accept()
with open(ready + ".tmp", "w") as f:
    f.write("%d %d %d\n" % (enc.getsockname()[1], plain.getsockname()[1], lo.getsockname()[1]))
os.rename(ready + ".tmp", ready)
while not os.path.exists(stop):
    time.sleep(0.05)
EOF

cat >"$TC_WORK/flood.py" <<'EOF'
import os, socket, sys, time
# flood.py SOCK REQUEST SECONDS [STOPFILE]: send REQUEST lines as fast as
# the daemon takes them, never read, until SECONDS pass, STOPFILE appears or
# the daemon disconnects us; then print "connected" or "disconnected".
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.setblocking(False)
chunk = (sys.argv[2] + "\n").encode() * 4096
deadline = time.time() + float(sys.argv[3])
stop = sys.argv[4] if len(sys.argv) > 4 else None
state, sent = "connected", 0
while time.time() < deadline and not (stop and os.path.exists(stop)):
    try:
        sent += s.send(chunk)
    except BlockingIOError:
        time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        state = "disconnected"
        break
print(state, sent, flush=True)
EOF

# sd_notify listener: one datagram per line into notify.log.
cat >"$TC_WORK/notify.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()
EOF

# tsv_row NS SOCK LOCAL REMOTE: the tab-separated row of that connection.
tsv_row() {
	ns_exec "$1" "$TCNETSTAT" -S "$2" --tsv | awk -F'\t' -v l="$3" -v r="$4" '$1 == l && $2 == r'
}

# --- daemons ---------------------------------------------------------------

NOTIFY_SOCK="$TC_WORK/notify.sock"
python3 "$TC_WORK/notify.py" "$NOTIFY_SOCK" "$TC_WORK/notify.log" &
tc_track $!
wait_for -m "the sd_notify listener" test -S "$NOTIFY_SOCK"

NOTIFY_SOCKET="$NOTIFY_SOCK" tc_start "$NS_A" -f --socket "$SOCK_A"
wait_for -m "READY=1 from the daemon in A" grep -q "^READY=1" "$TC_WORK/notify.log"
log "sd_notify: $(head -n 1 "$TC_WORK/notify.log")"
tc_start "$NS_B" -f --socket "$SOCK_B" --socket-group "$nogroup"

# The socket files: mode 0660, B's in group nogroup, its directory 0750.
[[ $(stat -c %a "$SOCK_A") == 660 ]] || fail "$SOCK_A has mode $(stat -c %a "$SOCK_A"), want 660"
[[ $(stat -c %a:%g "$SOCK_B") == 660:65534 ]] ||
	fail "$SOCK_B is $(stat -c %a:%g "$SOCK_B"), want 660:65534"
[[ $(stat -c %a:%g "$(dirname "$SOCK_B")") == 750:65534 ]] ||
	fail "$(dirname "$SOCK_B") is $(stat -c %a:%g "$(dirname "$SOCK_B")"), want 750:65534"
log "sockets: mode 660, --socket-group applied, parent created 0750"

# A second daemon on a live socket refuses to start and leaves it alone.
rc=0
ns_exec "$NS_A" "$TC_DAEMON" -f --queue $((TC_QUEUE + 1)) --socket "$SOCK_A" --state-file none \
	>"$TC_WORK/second.log" 2>&1 || rc=$?
((rc != 0)) || fail "a second daemon started on the live socket $SOCK_A"
grep -q "another tcpcryptd" "$TC_WORK/second.log" || fail "second daemon: $(cat "$TC_WORK/second.log")"
[[ $(ctlq "$NS_A" "$SOCK_A" version) == "ok version="* ]] || fail "A's socket broken by the second daemon"
log "second daemon on a live socket: refused (status $rc)"

# A second daemon on the queue the first one holds: the kernel refuses the
# bind, and the daemon says so and exits 69 instead of running on nothing.
rc=0
timeout 10 ip netns exec "$NS_A" "$TC_DAEMON" -f --queue "$TC_QUEUE" --config /dev/null \
	--socket "$TC_WORK/second-q.sock" --state-file none >"$TC_WORK/second-q.log" 2>&1 || rc=$?
((rc == 69)) || fail "a second daemon on queue $TC_QUEUE: status $rc (want 69): $(cat "$TC_WORK/second-q.log")"
grep -q "binding NFQUEUE $TC_QUEUE" "$TC_WORK/second-q.log" || fail "second daemon on the queue: $(cat "$TC_WORK/second-q.log")"
[[ $(ctlq "$NS_A" "$SOCK_A" version) == "ok version="* ]] || fail "A's daemon disturbed by the second one"
log "second daemon on a held queue: refused (status 69)"

# --- connections -----------------------------------------------------------

ip netns exec "$NS_B" python3 "$TC_WORK/echo.py" 198.51.100.1 7001 &
tc_track $!
ip netns exec "$NS_R" python3 "$TC_WORK/echo.py" 192.0.2.254 7003 &
tc_track $!
wait_listen "$NS_B" 7001
wait_listen "$NS_R" 7003
ip netns exec "$NS_A" python3 "$TC_WORK/hold.py" "$TC_WORK/ready" "$TC_WORK/stop" &
hold_pid=$!
tc_track "$hold_pid"
wait_for -t 20 -m "A's connections" test -f "$TC_WORK/ready"
read -r p_enc p_plain p_lo <"$TC_WORK/ready"
log "A holds: encrypted :$p_enc -> B:7001, plaintext :$p_plain -> R:7003, loopback :$p_lo"
wait_for -m "daemon A logging the encrypted connection" grep -q "encrypted .*:$p_enc .*sid=" "${TC_DLOG[$NS_A]}"
wait_for -m "daemon B logging the encrypted connection" grep -q "encrypted .*:$p_enc.*sid=" "${TC_DLOG[$NS_B]}"
sid=$(tc_sid "$NS_A" "$p_enc" A) || exit 1
sid_b=$(tc_sid "$NS_B" "$p_enc" B) || exit 1
[[ $sid == "$sid_b" ]] || fail "daemons logged different sids: A=$sid B=$sid_b"

# --- tcnetstat --tsv -----------------------------------------------------

A_L="192.0.2.1:$p_enc"
B_L="198.51.100.1:7001"
# Both daemons run the default suite list: AES-128 first on a CPU with AES
# instructions.  1000 bytes each way: both directions in generation 0.
if grep -qw aes /proc/cpuinfo; then SUITE=aes128; else SUITE=chacha20; fi
check_tsv() {
	local ns=$1 sock=$2 l=$3 r=$4 role=$5 row
	row=$(tsv_row "$ns" "$sock" "$l" "$r")
	[[ -n $row ]] || fail "tcnetstat --tsv in $ns has no row $l $r: $(ns_exec "$ns" "$TCNETSTAT" -S "$sock" --tsv)"
	IFS=$'\t' read -r _ _ st ro su gn kx sd bo bi <<<"$row"
	# The daemons' first connection: a fresh key exchange.
	[[ $st == encrypted && $ro == "$role" && $su == "$SUITE" && $gn == 0/0 && $kx == fresh &&
		$sd == "$sid" ]] ||
		fail "tcnetstat in $ns: '$row', want encrypted role $role suite $SUITE gen 0/0 kx fresh sid $sid"
	((bo == 1000 && bi == 1000)) || fail "tcnetstat in $ns: bytes out/in $bo/$bi, want 1000/1000"
	log "tcnetstat --tsv in $ns: $l $r encrypted role $role sid ${sd:0:16}... bytes $bo/$bi"
}
check_tsv "$NS_A" "$SOCK_A" "$A_L" "$B_L" A
check_tsv "$NS_B" "$SOCK_B" "$B_L" "$A_L" B

head_line=$(ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" --tsv | sed -n 1p)
[[ $head_line == $'local\tremote\tstate\trole\tsuite\tgen\tkx\tsid\tbytes_out\tbytes_in' ]] ||
	fail "tsv header: $head_line"

row=$(tsv_row "$NS_A" "$SOCK_A" "192.0.2.1:$p_plain" "192.0.2.254:7003")
[[ $(cut -f3 <<<"$row") == plaintext && $(cut -f7 <<<"$row") == - && $(cut -f8 <<<"$row") == - ]] ||
	fail "connection to R (no daemon): '$row', want plaintext without sid"
row=$(tsv_row "$NS_A" "$SOCK_A" "127.0.0.1:$p_lo" "$(ns_exec "$NS_A" ss -Htn "sport = :$p_lo" | awk '{ print $5 }')")
[[ $(cut -f3 <<<"$row") == local ]] || fail "loopback connection: '$row', want local"
log "tcnetstat: connection to R plaintext, loopback local"

# --encrypted-only: just the one connection.
out=$(ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" --tsv --encrypted-only | tail -n +2)
[[ $(wc -l <<<"$out") == 1 && $(cut -f3 <<<"$out") == encrypted ]] ||
	fail "--encrypted-only printed: $out"

# --- the human table and JSON ------------------------------------------------

table=$(ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" -n)
grep -q "^Local Address" <<<"$table" || fail "table header missing: $table"
grep -F "$A_L" <<<"$table" | grep -cF " ${sid:0:16}... " >/dev/null || fail "table row without short sid: $table"
ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" -w | grep -cF "$sid" >/dev/null || fail "-w does not show the whole sid"
log "table:"$'\n'"$table"

for side in A B; do
	if [[ $side == A ]]; then ns=$NS_A sock=$SOCK_A l=$A_L r=$B_L; else ns=$NS_B sock=$SOCK_B l=$B_L r=$A_L; fi
	ns_exec "$ns" "$TCNETSTAT" -S "$sock" --json >"$TC_WORK/list-$side.json" ||
		fail "tcnetstat --json in $side failed"
	python3 - "$TC_WORK/list-$side.json" "$l" "$r" "$side" "$sid" "$SUITE" <<'EOF' || fail "tcnetstat --json in $side: see above"
import json, sys
rows = json.load(open(sys.argv[1]))
_, l, r, role, sid, suite = sys.argv[1:]
assert isinstance(rows, list), "not an array"
m = [x for x in rows if x["local"] == l and x["remote"] == r]
assert len(m) == 1, "no single row for %s %s in %s" % (l, r, rows)
x = m[0]
want = {"state": "encrypted", "role": role, "suite": suite, "gen": "0/0", "kx": "fresh", "sid": sid,
        "bytes_out": 1000, "bytes_in": 1000}
for k, v in want.items():
    assert x[k] == v, "%s is %r, want %r" % (k, x[k], v)
for y in rows:
    if y["state"] in ("plaintext", "local"):
        assert y["sid"] is None and y["role"] is None, y
EOF
done
log "tcnetstat --json on both hosts: encrypted, roles A and B, same sid"

# --- tcnetstat -s and exit statuses ----------------------------------------

n=$(ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" -s --tsv | awk -F'\t' '$1 == "encrypted_flows" { print $2 }')
if [[ -z $n ]] || ((n < 1)); then fail "tcnetstat -s: encrypted_flows is '$n', want >= 1"; fi
ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" -s | grep -cE '^mac_fail +0$' >/dev/null || fail "tcnetstat -s table"
ns_exec "$NS_A" "$TCNETSTAT" -S "$SOCK_A" -s -j | python3 -c 'import json,sys; assert json.load(sys.stdin)["encrypted_flows"] >= 1' ||
	fail "tcnetstat -s -j"
rc=0
ns_exec "$NS_A" "$TCNETSTAT" -S "$TC_WORK/no-such.sock" 2>"$TC_WORK/unreach.err" || rc=$?
if ((rc != 1)) || ! grep -q "cannot reach tcpcryptd" "$TC_WORK/unreach.err"; then
	fail "unreachable daemon: status $rc, $(cat "$TC_WORK/unreach.err")"
fi
rc=0
ns_exec "$NS_A" "$TCNETSTAT" --bogus 2>/dev/null || rc=$?
((rc == 2)) || fail "usage error: status $rc, want 2"
rc=0
TCPCRYPT_SOCKET="$SOCK_A" ns_exec "$NS_A" "$TCNETSTAT" --tsv >/dev/null || rc=$?
((rc == 0)) || fail "TCPCRYPT_SOCKET not honoured (status $rc)"
log "tcnetstat -s: encrypted_flows=$n; exit statuses 1 (unreachable), 2 (usage)"

# --- tcnetstat against a daemon that answers wrongly ------------------------
# A stand-in on a socket of its own answers a list request with one flow
# record: tcnetstat shows a good one (kx=resumed) and refuses each bad one
# with exit status 3, naming the field, instead of printing it.

fake_list() { # RECORD: tcnetstat --tsv against a stand-in that answers RECORD
	local fsock="$TC_WORK/fake-$RANDOM.sock" fpid rc=0
	ns_exec "$NS_A" python3 - "$fsock" "$1" <<'EOF' &
import os, socket, sys
path, record = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(10)
if c.recv(1024).startswith(b"list"):
    c.sendall(record.encode() + b"\nok count=1\n")
c.close()
EOF
	fpid=$!
	tc_track "$fpid"
	wait_for -m "the stand-in daemon" test -S "$fsock"
	ns_exec "$NS_A" "$TCNETSTAT" -S "$fsock" --tsv >"$TC_WORK/fake.out" 2>"$TC_WORK/fake.err" || rc=$?
	wait "$fpid" || true
	return "$rc"
}
good="flow local=192.0.2.1:40000 remote=198.51.100.1:7001 state=encrypted role=A suite=aes128 gen=0/0"
good+=" kx=resumed sid=a0$(printf '%064d' 0) bytes_out=1 bytes_in=2 policy=private age=3"
rc=0
fake_list "$good" || rc=$?
((rc == 0)) || fail "tcnetstat against a good record: status $rc, $(cat "$TC_WORK/fake.err")"
grep -qP '^192\.0\.2\.1:40000\t198\.51\.100\.1:7001\tencrypted\tA\taes128\t0/0\tresumed\t' "$TC_WORK/fake.out" ||
	fail "tcnetstat --tsv of a resumed record: $(cat "$TC_WORK/fake.out")"
# FIELD VALUE WHAT: each a record with one bad field, and what tcnetstat says
while read -r field value what; do
	rec=$(sed -E "s| $field=[^ ]+| $field=$value|" <<<"$good")
	rc=0
	fake_list "$rec" || rc=$?
	if ((rc != 3)) || ! grep -q "flow record with $what" "$TC_WORK/fake.err"; then
		fail "tcnetstat against $field=$value: status $rc, $(cat "$TC_WORK/fake.err")"
	fi
done <<'EOF'
kx RESUMED a bad kx
kx fresh;x a bad kx
kx resumedresumedresumed a bad kx
gen 0/x bad generations
suite AES a bad suite
role C a bad role
EOF
log "tcnetstat: a resumed record shown; bad kx, gen, suite and role refused (status 3)"

# --- the protocol directly -------------------------------------------------

out=$(ctlq "$NS_A" "$SOCK_A" version)
[[ $out =~ ^ok\ version=[0-9.]+\ protocol=1$ ]] || fail "version: $out"
out=$(ctlq "$NS_A" "$SOCK_A" "lookup local=$A_L remote=$B_L")
[[ $(head -n 1 <<<"$out") == "flow local=$A_L remote=$B_L state=encrypted role=A suite=$SUITE gen=0/0 kx=fresh sid=$sid "* &&
	$(tail -n 1 <<<"$out") == ok ]] || fail "lookup hit: $out"
out=$(ctlq "$NS_B" "$SOCK_B" "lookup local=[::ffff:198.51.100.1]:7001 remote=[::ffff:192.0.2.1]:$p_enc")
grep -q "role=B .*sid=$sid" <<<"$out" || fail "lookup with mapped addresses: $out"
out=$(ctlq "$NS_A" "$SOCK_A" "lookup local=$A_L remote=198.51.100.1:7002")
[[ $out == "error code=not-found msg="* ]] || fail "lookup miss: $out"
# Malformed lines: an error each, and the connection stays usable.
out=$(ctlq "$NS_A" "$SOCK_A" "lookup local=nonsense remote=$B_L" "list extra=1" "" \
	"lookup local=$A_L" "lookup local=$A_L remote=[2001:db8:2::1]:7001" "frobnicate" version)
want=$'error code=bad-request\nerror code=bad-request\nerror code=bad-request\nerror code=bad-request\nerror code=bad-request\nerror code=unknown-command\nok version'
[[ $(cut -d' ' -f1-2 <<<"$out" | sed 's/^ok version=.*/ok version/') == "$want" ]] ||
	fail "malformed lines: $out"
log "protocol: version, lookup hit (also ::ffff:), miss, malformed lines answered"

# An over-long line: too-long, then the daemon closes the connection.
out=$(ns_exec "$NS_A" python3 - "$SOCK_A" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"version\n" + b"l" * 2000 + b"\nversion\n")
buf = b""
while True:
    try:
        d = s.recv(4096)
    except ConnectionResetError:
        break
    if not d:
        break
    buf += d
print(buf.decode(), end="")
print("CLOSED")
EOF
)
[[ $out == $'ok version='*$'\nerror code=too-long msg='*$'\nCLOSED' ]] || fail "over-long line: $out"
log "protocol: 2000-byte line -> too-long, connection closed"

# reload: root may (there is no configuration file: a config error, not a
# permission error); another uid may not.
root_out=$(ctlq "$NS_B" "$SOCK_B" reload)
[[ $root_out == "ok rules="* || $root_out == "error code=config "* ]] || fail "reload as root: $root_out"
# (socat: python3 may live where uid 65534 cannot run it, e.g. pyenv)
out=$(printf 'reload\nversion\n' | ns_exec "$NS_B" setpriv --reuid=65534 --regid=65534 --clear-groups \
	socat -t 5 - "UNIX-CONNECT:$SOCK_B") || fail "client as uid 65534 failed: $out"
[[ $(head -n 1 <<<"$out") == "error code=permission msg="* && $(tail -n 1 <<<"$out") == "ok version="* ]] ||
	fail "reload as uid 65534: $out"
log "protocol: reload as root -> '$root_out', as uid 65534 -> permission"

# --- clients that never read ---------------------------------------------

# Flooding "list" without reading: the daemon produces a list only as the
# client reads, so it holds the client without buffering more; traffic and
# other clients are unaffected.
ns_exec "$NS_A" python3 "$TC_WORK/flood.py" "$SOCK_A" list 60 "$TC_WORK/stop-flood" \
	>"$TC_WORK/flood-list.out" &
flood_pid=$!
tc_track "$flood_pid"
make_payload "$TC_WORK/bulk.bin" $((2 * 1024 * 1024)) "T10-$(rand_tag)"
socat_push 7010 "$TC_WORK/bulk.bin"
[[ $(ctlq "$NS_A" "$SOCK_A" version) == "ok version="* ]] || fail "A does not answer while a client floods"
# The stuck client costs nothing: no busy loop in the daemon.
cpu0=$(awk '{ print $14 + $15 }' "/proc/${TC_DPID[$NS_A]}/stat")
sleep 1
cpu1=$(awk '{ print $14 + $15 }' "/proc/${TC_DPID[$NS_A]}/stat")
: >"$TC_WORK/stop-flood"
wait_pid "$flood_pid" 10 "list flooder"
grep -q "^connected [1-9]" "$TC_WORK/flood-list.out" || fail "list flooder: $(cat "$TC_WORK/flood-list.out")"
((cpu1 - cpu0 < 20)) || fail "the daemon spun while a client did not read ($((cpu1 - cpu0)) ticks in 1 s)"
log "a client flooding list without reading: transfer intact, others answered, daemon idle meanwhile ($((cpu1 - cpu0)) ticks/s)"

# Flooding "counters" (answered at once, about 1 KiB each): more than
# 64 KiB waiting, and the daemon disconnects it.
out=$(ns_exec "$NS_A" python3 "$TC_WORK/flood.py" "$SOCK_A" counters 10)
[[ $out == "disconnected "* ]] || fail "a client flooding counters without reading was not disconnected"
[[ $(ctlq "$NS_A" "$SOCK_A" version) == "ok version="* ]] || fail "A does not answer after the flood"
log "a client flooding counters without reading: disconnected at 64 KiB"

# --- shutdown ------------------------------------------------------------

: >"$TC_WORK/stop"
wait_pid "$hold_pid" 10 "A's connections"
tc_stop "$NS_A"
tc_stop "$NS_B"
[[ ! -e $SOCK_A && ! -e $SOCK_B ]] || fail "control sockets left behind after SIGTERM"
wait_for -m "STOPPING=1 from the daemon in A" grep -q "^STOPPING=1" "$TC_WORK/notify.log"
for ns in "$NS_A" "$NS_B"; do
	expect_counter "$ns" mac_fail 0
done
log "SIGTERM: sockets removed, STOPPING=1 sent, counters printed"
log "PASS"
