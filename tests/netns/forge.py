#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""forge: a blind attacker's packets, and a client that pauses for them.

Python 3 standard library only.  Forged packets are built whole (IP header
included, checksums computed here) and sent through a raw socket, so the
source address can be anyone's.  Run as root in the router namespace.

  forge.py syn|synack|ack|frag|trunc --src ADDR:PORT --dst ADDR:PORT
           [--eno HEX] [--seq N|random] [--ack N|random] [--count K]
           [--seq-step N] [--ack-step N] [--payload TEXT] [--ttl N]

    syn      SYN (no ACK)
    synack   SYN-ACK
    ack      bare ACK (no payload unless --payload)
    frag     an ACK with --payload (default 64 bytes), sent as two IPv4
             fragments (IPv4 only)
    trunc    a TCP header whose data offset claims 60 bytes while the
             packet holds only 24: no parser may read past its end

  --eno HEX      option bytes to add (e.g. 4505a07432, TCP-ENO), padded with
                 NOPs to a multiple of 4
  --seq/--ack    a number, or "random" (default) for a fresh random number
  --count K      send K packets; packet i uses seq + i*seq-step and
                 ack + i*ack-step (a random start is drawn once)
  --ttl N        IPv4 TTL / IPv6 hop limit (default 7).  The tests use it to
                 tell forged packets from genuine ones in a capture.

  Prints one line per packet sent: "sent KIND SRC -> DST seq=N ack=N".

  forge.py client ADDR PORT --sport N --send FILE [--recv FILE]
           --gate PATH [--ready PATH] [--split BYTES] [--timeout S]

    Connects from source port N, sends the first BYTES of FILE (default
    half), creates READY, waits (polling, at most 30 s) until GATE exists,
    sends the rest, half-closes, and stores what the peer sends back in
    --recv until EOF.  Every socket operation times out after S seconds
    (default 30).  Exit status 0 on success.
"""

import argparse
import os
import random
import socket
import struct
import sys
import time

from ipcsum import csum

sys.dont_write_bytecode = True

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10



def parse_ep(text):
    """ADDR:PORT, [V6ADDR]:PORT or V6ADDR:PORT (last colon separates)."""
    if text.startswith("["):
        addr, _, port = text[1:].partition("]:")
    else:
        addr, _, port = text.rpartition(":")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return fam, addr, int(port)


def tcp_segment(fam, src, dst, sport, dport, seq, ack, flags, opts, payload, doff=None):
    if len(opts) % 4:
        opts += b"\x01" * (4 - len(opts) % 4)
    hlen = 20 + len(opts)
    off = (doff if doff is not None else hlen // 4) << 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off, flags, 65535, 0, 0) + opts
    seg = hdr + payload
    if fam == socket.AF_INET:
        pseudo = (socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) +
                  struct.pack("!BBH", 0, 6, len(seg)))
    else:
        pseudo = (socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) +
                  struct.pack("!IxxxB", len(seg), 6))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ipv4(src, dst, body, ttl, ident=0, frag=0):
    """frag: the 16-bit flags/fragment-offset field."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag, ttl, 6, 0,
                      socket.inet_pton(socket.AF_INET, src), socket.inet_pton(socket.AF_INET, dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + body


def ipv6(src, dst, body, ttl):
    return (struct.pack("!IHBB", 6 << 28, len(body), 6, ttl) +
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + body)


def number(text):
    return random.getrandbits(32) if text == "random" else int(text, 0) & 0xFFFFFFFF


def cmd_forge(args):
    fam, src, sport = parse_ep(args.src)
    fam2, dst, dport = parse_ep(args.dst)
    if fam != fam2:
        raise SystemExit("forge: --src and --dst are of different families")
    if args.kind == "frag" and fam != socket.AF_INET:
        raise SystemExit("forge: frag is IPv4 only")
    opts = bytes.fromhex(args.eno) if args.eno else b""
    flags = {"syn": SYN, "synack": SYN | ACK, "ack": ACK, "frag": ACK | PSH, "trunc": ACK}[args.kind]
    payload = args.payload.encode() if args.payload else b""
    if args.kind == "frag" and not payload:
        payload = b"FORGED-FRAGMENT-" * 4
    seq0, ack0 = number(args.seq), number(args.ack)
    if fam == socket.AF_INET:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    with s:
        for i in range(args.count):
            seq = seq0 + i * args.seq_step
            ack = ack0 + i * args.ack_step
            if args.kind == "trunc":
                seg = tcp_segment(fam, src, dst, sport, dport, seq, ack, flags, b"", b"", doff=15)
                seg += b"\x01\x01\x01\x01"
            else:
                seg = tcp_segment(fam, src, dst, sport, dport, seq, ack, flags, opts, payload)
            if fam == socket.AF_INET6:
                pkts = [ipv6(src, dst, seg, args.ttl)]
            elif args.kind == "frag":
                ident = random.getrandbits(16)
                cut = 24  # a multiple of 8: the TCP header and 4 bytes
                pkts = [ipv4(src, dst, seg[:cut], args.ttl, ident, 0x2000),
                        ipv4(src, dst, seg[cut:], args.ttl, ident, cut // 8)]
            else:
                pkts = [ipv4(src, dst, seg, args.ttl)]
            for pkt in pkts:
                s.sendto(pkt, (dst, 0))
            print("sent %s %s:%d -> %s:%d seq=%d ack=%d" % (args.kind, src, sport, dst, dport,
                                                           seq & 0xFFFFFFFF, ack & 0xFFFFFFFF),
                  flush=True)
    return 0


def wait_file(path, what):
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise OSError("%s %s never appeared" % (what, path))
        time.sleep(0.02)


def cmd_client(args):
    with open(args.send, "rb") as f:
        data = f.read()
    split = args.split if args.split is not None else len(data) // 2
    fam = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", args.sport))
    s.settimeout(args.timeout)
    s.connect((args.addr, args.port))
    s.sendall(data[:split])
    if args.ready:
        open(args.ready, "w").close()
    wait_file(args.gate, "gate")
    s.sendall(data[split:])
    s.shutdown(socket.SHUT_WR)
    out = open(args.recv, "wb") if args.recv else None
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            if out:
                out.write(b)
    finally:
        if out:
            out.close()
        s.close()
    return 0


def main(argv):
    p = argparse.ArgumentParser(description="forge packets / gated client")
    sub = p.add_subparsers(dest="kind", required=True)
    for kind in ("syn", "synack", "ack", "frag", "trunc"):
        q = sub.add_parser(kind)
        q.add_argument("--src", required=True)
        q.add_argument("--dst", required=True)
        q.add_argument("--eno")
        q.add_argument("--seq", default="random")
        q.add_argument("--ack", default="random")
        q.add_argument("--count", type=int, default=1)
        q.add_argument("--seq-step", type=lambda x: int(x, 0), default=0)
        q.add_argument("--ack-step", type=lambda x: int(x, 0), default=0)
        q.add_argument("--payload")
        q.add_argument("--ttl", type=int, default=7)
    c = sub.add_parser("client")
    c.add_argument("addr")
    c.add_argument("port", type=int)
    c.add_argument("--sport", type=int, required=True)
    c.add_argument("--send", required=True)
    c.add_argument("--recv")
    c.add_argument("--gate", required=True)
    c.add_argument("--ready")
    c.add_argument("--split", type=int)
    c.add_argument("--timeout", type=float, default=30)
    args = p.parse_args(argv[1:])
    try:
        return cmd_client(args) if args.kind == "client" else cmd_forge(args)
    except OSError as e:
        print("forge: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
