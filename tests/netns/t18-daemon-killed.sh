#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# t18: tcpcryptd is killed (SIGKILL) in the middle of an encrypted transfer.
# The firewall rules stay and fail closed: while the daemon is down not one
# plaintext byte of the connection reaches the wire.  A daemon started
# again has no keys for the connection; the connmark says it was encrypted,
# so its segments are dropped and counted, never passed in clear.
. "$(dirname "$0")/lib.sh"
tc_need_daemon
topo_setup
tc_start "$NS_A"
tc_start "$NS_B"
marker="KILLED-MARKER-$(rand_tag)"

# B counts what arrives; A writes a marker line every 10 ms for 8 seconds.
ip netns exec "$NS_B" socat -u TCP4-LISTEN:5018,reuseaddr "CREATE:$TC_WORK/rx.txt" &
spid=$!
tc_track "$spid"
wait_listen "$NS_B" 5018
cap_start killed
ip netns exec "$NS_A" timeout 30 python3 -c '
import socket, sys, time
s = socket.create_connection(("198.51.100.1", 5018), timeout=20)
end = time.monotonic() + 8
n = 0
while time.monotonic() < end:
    s.sendall(("%s %06d\n" % (sys.argv[1], n)).encode())
    n += 1
    time.sleep(0.01)
' "$marker" >"$TC_WORK/sender.log" 2>&1 &
cpid=$!
tc_track "$cpid"
wait_for -m "the first lines reach B" grep -q "$marker 000010" "$TC_WORK/rx.txt"
wait_for -m "A logged the connection as encrypted" grep -q "encrypted .*5018" "${TC_DLOG[$NS_A]}"

apid=${TC_DPID[$NS_A]}
kill -KILL "$apid"
wait_pid "$apid" 10 "killed daemon"
unset "TC_DPID[$NS_A]"
before=$(wc -l <"$TC_WORK/rx.txt")
log "daemon in A killed after $before lines reached B"

# While no daemon runs, the queue has no reader and drops: the sender's
# kernel starts retransmitting.  Wait for that before starting a new daemon.
retransmitting() {
	ip netns exec "$NS_A" ss -tni state established '( dport = :5018 )' |
		grep -qE 'retrans:[0-9]+/[1-9]'
}
wait_for -m "A's kernel retransmits into the dead queue" retransmitting
tc_start "$NS_A"
# Its segments keep coming (the sender's kernel retransmits): wait for the
# new daemon to have dropped some as a lost encrypted connection.
wait_for -m "the new daemon drops the lost connection's segments" \
	bash -c "kill -USR1 ${TC_DPID[$NS_A]} && grep -qE 'counter lost_flow_drop [1-9]' '${TC_DLOG[$NS_A]}'"
cap_stop killed --drops-ok
tc_stop "$NS_A"
tc_stop "$NS_B"

pcap=$(cap_file killed)
wirecheck absent "$pcap" "$marker"
after=$(wc -l <"$TC_WORK/rx.txt")
((after == before)) || log "note: $((after - before)) lines arrived after the kill (in flight before it)"
grep -v "^$marker [0-9]\{6\}\$" "$TC_WORK/rx.txt" | grep -q . && fail "B received bytes that were never sent"
log "PASS"
