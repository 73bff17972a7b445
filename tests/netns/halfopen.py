#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""halfopen: a server that speaks first, a client that watches one
connection to it, and an attacker that leaves ENO handshakes half done,
for the half-open flood test (python3 stdlib only).

  halfopen.py serve  ADDR PORT --banner BYTES [--backlog N]
  halfopen.py client ADDR PORT --banner BYTES [--interval S] [--until FILE]
                     [--timeout S] [--ready FILE]
  halfopen.py attack SRC DEST PORT --count N [--rate PER_S] [--duration S]
                     [--first-port P]

serve   accepts any number of connections; on each it sends BYTES bytes of
        banner at once, then echoes whatever it receives.  On SIGTERM
        prints "accepted N" (connections accepted) and exits 0.
client  one connection: reads the whole banner, then an echo round trip of
        32 random bytes; with --until, one round trip every S seconds
        (default 0.2) until FILE exists.  Every read waits at most
        --timeout seconds (default 3).  Writes "ready" to --ready once the
        banner and the first round trip are done.  Prints "port LOCALPORT"
        first and "ok ROUNDS MAX_MS" at the end, exit status 0; on a stall,
        a short read or a wrong echo "stalled ..." and exit status 1.
attack  from SRC (an address of this host) to DEST:PORT, N handshakes with
        different source ports (from --first-port, default 20000): a SYN
        with the ENO option a tcpcryptd host A sends (45 05 a0 74 32,
        doc/protocol.md section 3.2), paced at RATE per second (default 200);
        every SYN-ACK gets the third segment of the handshake, an ACK
        without data carrying the non-SYN ENO option 45 02 -- and nothing
        after it, no Init1, no answer to anything else.  It goes on
        answering SYN-ACKs (retransmitted ones too) until DURATION seconds
        (default 10) after the start.  This host's kernel knows nothing of
        these connections and answers B's segments with RSTs: the test
        drops those.  Prints "progress SYNS SYNACKS ENO ACKS" every second
        and "done SYNS SYNACKS ENO ACKS PORTS" at the end: SYN-ACKs seen,
        those with B's ENO option (45 06 01 a0 74 32), ACKs sent, and
        distinct source ports that got a SYN-ACK.  Needs CAP_NET_RAW; IPv4.
"""

import argparse
import asyncio
import os
import random
import select
import signal
import socket
import struct
import sys
import time

from ipcsum import csum

ENO_SYN_A = bytes([0x45, 0x05, 0xA0, 0x74, 0x32])
ENO_SYN_B = bytes([0x45, 0x06, 0x01, 0xA0, 0x74, 0x32])
ENO_ACK = bytes([0x45, 0x02, 0x01, 0x01])  # padded with two NOPs
SYN, RST, ACK = 0x02, 0x04, 0x10


# --- serve -------------------------------------------------------------------

def serve(a):
    banner = bytes(i % 251 for i in range(a.banner))
    accepted = 0

    async def conn(reader, writer):
        nonlocal accepted
        accepted += 1
        try:
            writer.write(banner)
            while True:
                b = await reader.read(65536)
                if not b:
                    break
                writer.write(b)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        srv = await asyncio.start_server(conn, a.addr, a.port, backlog=a.backlog,
                                         reuse_address=True)
        await stop.wait()
        srv.close()
        print("accepted %d" % accepted, flush=True)
        # Thousands of connections may still be open: leave without
        # cancelling their tasks one by one.
        os._exit(0)

    asyncio.run(main())
    return 0


# --- client ------------------------------------------------------------------

def client(a):
    s = socket.create_connection((a.addr, a.port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("port %d" % s.getsockname()[1], flush=True)

    def read_exact(n, what):
        buf = b""
        t0 = time.monotonic()
        while len(buf) < n:
            try:
                b = s.recv(n - len(buf))
            except socket.timeout:
                b = None
            if not b:
                print("stalled: %s: %d of %d bytes after %.1f s%s" %
                      (what, len(buf), n, time.monotonic() - t0,
                       " (EOF)" if b == b"" else ""), flush=True)
                sys.exit(1)
            buf += b
        return buf

    want = bytes(i % 251 for i in range(a.banner))
    if read_exact(a.banner, "banner") != want:
        print("stalled: banner differs from what the server sends", flush=True)
        return 1
    rounds = 0
    worst = 0.0
    while True:
        msg = os.urandom(32)
        t0 = time.monotonic()
        s.sendall(msg)
        got = read_exact(len(msg), "echo %d" % (rounds + 1))
        ms = (time.monotonic() - t0) * 1000
        if got != msg:
            print("stalled: echo %d differs" % (rounds + 1), flush=True)
            return 1
        rounds += 1
        worst = max(worst, ms)
        if rounds == 1 and a.ready:
            with open(a.ready, "w") as f:
                f.write("ready\n")
        if not a.until or os.path.exists(a.until):
            break
        time.sleep(a.interval)
    s.close()
    print("ok %d %.0f" % (rounds, worst), flush=True)
    return 0


# --- attack ------------------------------------------------------------------


def tcp_segment(src, dst, sport, dport, seq, ack, flags, window, opts):
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0)
    seg = hdr + opts
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


# SYN options: MSS 1460, SACK permitted, window scale 7, then ENO and a
# NOP to end on a 4-byte boundary (16 bytes).
SYN_OPTS = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + b"\x01\x03\x03\x07"
            + ENO_SYN_A + b"\x01")
assert len(SYN_OPTS) % 4 == 0 and len(ENO_ACK) % 4 == 0


def attack(a):
    src = socket.inet_aton(a.src)
    dst = socket.inet_aton(a.dest)
    # One raw socket sends our TCP headers (the kernel adds the IP header),
    # the other sees every TCP segment that arrives here.
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    rx.setblocking(False)
    rng = random.Random()
    isn = {}
    for i in range(a.count):
        isn[a.first_port + i] = rng.getrandbits(32)
    ports = list(isn)
    syns = synacks = eno = acks = 0
    answered = set()
    start = time.monotonic()
    last_progress = start

    def send(seg):
        while True:
            try:
                tx.sendto(seg, (a.dest, 0))
                return
            except OSError as e:
                if e.errno == 105:  # ENOBUFS
                    time.sleep(0.001)
                    continue
                raise

    while True:
        now = time.monotonic()
        if now - start >= a.duration:
            break
        due = min(a.count, int((now - start) * a.rate) + 1)
        while syns < due:
            sport = ports[syns]
            send(tcp_segment(src, dst, sport, a.port, isn[sport], 0, SYN, 64240, SYN_OPTS))
            syns += 1
        if now - last_progress >= 1:
            print("progress %d %d %d %d" % (syns, synacks, eno, acks), flush=True)
            last_progress = now
        wait = 0.2 if syns >= a.count else max(0.0, start + syns / a.rate - now)
        r, _, _ = select.select([rx], [], [], min(wait, 0.2))
        if not r:
            continue
        while True:
            try:
                pkt = rx.recv(65535)
            except BlockingIOError:
                break
            ihl = (pkt[0] & 0x0F) * 4
            if len(pkt) < ihl + 20 or pkt[12:16] != dst:
                continue
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
            if sport != a.port or dport not in isn or (flags & (SYN | ACK | RST)) != SYN | ACK:
                continue
            if ack != (isn[dport] + 1) & 0xFFFFFFFF:
                continue
            synacks += 1
            opts = pkt[ihl + 20:ihl + (off >> 4) * 4]
            if ENO_SYN_B in opts:
                eno += 1
            answered.add(dport)
            # The third segment: no data, the non-SYN ENO option, a window
            # as large as scaling 7 allows; then silence.
            send(tcp_segment(src, dst, dport, a.port, ack, (seq + 1) & 0xFFFFFFFF, ACK,
                             0xFFFF, ENO_ACK))
            acks += 1
    print("done %d %d %d %d %d" % (syns, synacks, eno, acks, len(answered)), flush=True)
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--banner", type=int, required=True)
    p.add_argument("--backlog", type=int, default=4096)
    p = sub.add_parser("client")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--banner", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--until")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--ready")
    p = sub.add_parser("attack")
    p.add_argument("src")
    p.add_argument("dest")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--first-port", type=int, default=20000)
    a = ap.parse_args(argv[1:])
    if a.cmd == "serve":
        return serve(a)
    if a.cmd == "client":
        return client(a)
    if a.count < 1 or a.first_port + a.count > 65536:
        ap.error("--count and --first-port leave the port range")
    return attack(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
