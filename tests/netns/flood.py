#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""flood: send TCP SYNs carrying the TCP-ENO option from spoofed sources,
for the flood tests (python3 stdlib only; needs CAP_NET_RAW).

  flood.py DEST PORT --count N --rate PPS --sources PREFIX
           [--progress-every K] [--seed S]

DEST is an IPv4 or IPv6 address; PREFIX (e.g. 198.18.0.0/15, or
2001:db8:f100::/48 for IPv6) must be of the same family.  Every SYN has a
different (source address, source port) pair drawn from PREFIX and
1024..65535, a random sequence number and the options a Linux SYN has
(MSS, SACK permitted, timestamps, window scale) plus ENO as tcpcryptd's
host A sends it (kind 69: 45 05 a0 74 32).  The packets go out through a
raw socket with our own IP header (IP_HDRINCL, IPv6 likewise), so the
sources need not belong to this host: the test routes PREFIX back to the
sender and drops what comes back.

The rate is kept by pacing against the monotonic clock (bursts of at most
1/100 s worth); after a pause (SIGSTOP, starved of CPU) it goes on at the
rate, without a burst to catch up.  Prints "progress SENT" every K packets (default 1000) and
"done SENT SECONDS PPS" at the end, flushed, so a test can poll stdout.
Exit status 0 when all N were sent, 1 on an error.
"""

import argparse
import ipaddress
import random
import socket
import struct
import sys
import time

from ipcsum import csum

ENO_SYN_A = bytes([0x45, 0x05, 0xA0, 0x74, 0x32])
IPPROTO_TCP = 6



def syn_options(tsval):
    # Linux order: MSS, SACK-permitted + timestamps, NOP + window scale;
    # then NOPs to align and ENO last (28 bytes, a multiple of 4).
    return (struct.pack("!BBH", 2, 4, 1460)
            + struct.pack("!BBBBII", 4, 2, 8, 10, tsval, 0)
            + struct.pack("!BBBB", 1, 3, 3, 7)
            + b"\x01\x01\x01" + ENO_SYN_A)


def tcp_syn(pseudo, sport, dport, seq, tsval):
    opts = syn_options(tsval)
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, off << 4, 0x02, 64240, 0, 0)
    seg = hdr + opts
    c = csum(pseudo + struct.pack("!I", len(seg)) + b"\0\0\0" + bytes([IPPROTO_TCP]) + seg
             if len(pseudo) == 32 else
             pseudo + struct.pack("!BBH", 0, IPPROTO_TCP, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def packet_v4(src, dst, sport, dport, seq, tsval, ident):
    seg = tcp_syn(src + dst, sport, dport, seq, tsval)
    # The kernel fills in the header checksum (and keeps our total length).
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), ident, 0x4000, 64,
                     IPPROTO_TCP, 0, src, dst)
    return ip + seg


def packet_v6(src, dst, sport, dport, seq, tsval, flow):
    seg = tcp_syn(src + dst, sport, dport, seq, tsval)
    ip = struct.pack("!IHBB16s16s", (6 << 28) | (flow & 0xFFFFF), len(seg), IPPROTO_TCP, 64,
                     src, dst)
    return ip + seg


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True, help="packets per second")
    ap.add_argument("--sources", required=True, help="prefix the sources come from")
    ap.add_argument("--progress-every", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args(argv[1:])

    dst = ipaddress.ip_address(a.dest)
    net = ipaddress.ip_network(a.sources, strict=False)
    if dst.version != net.version:
        ap.error("destination and --sources are of different families")
    nhosts = net.num_addresses - 2
    if nhosts < 1:
        ap.error("--sources is too small")
    rng = random.Random(a.seed)
    base = int(net.network_address)
    alen = 4 if dst.version == 4 else 16
    dbytes = dst.packed

    # Distinct (address, port) for every packet: walk the hosts of the
    # prefix, then move on to another port.
    port_off = rng.randrange(64512)

    def source(i):
        host = base + 1 + i % nhosts
        sport = 1024 + (port_off + i // nhosts * 7919) % 64512
        return host.to_bytes(alen, "big"), sport

    if dst.version == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        target = (a.dest, 0)
    else:
        # IPPROTO_RAW on an IPv6 raw socket means we write the IPv6 header.
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        target = (a.dest, 0, 0, 0)

    burst_max = max(1, int(a.rate / 100))
    start = time.monotonic()
    sent = 0
    while sent < a.count:
        # How many the rate allows by now.
        now = time.monotonic()
        due = min(a.count, int((now - start) * a.rate) + 1)
        if due - sent > a.rate / 10:
            # Stopped for a while (SIGSTOP from the test, or starved of
            # CPU): go on at the rate from here, never in a catch-up burst.
            start = now - sent / a.rate
            due = sent + 1
        if due <= sent:
            wait = start + sent / a.rate - time.monotonic()
            time.sleep(min(0.01, max(wait, 0.0001)))
            continue
        for _ in range(min(due - sent, burst_max)):
            src, sport = source(sent)
            seq = rng.getrandbits(32)
            tsval = rng.getrandbits(32)
            if dst.version == 4:
                pkt = packet_v4(src, dbytes, sport, a.port, seq, tsval, rng.getrandbits(16))
            else:
                pkt = packet_v6(src, dbytes, sport, a.port, seq, tsval, rng.getrandbits(20))
            while True:
                try:
                    s.sendto(pkt, target)
                    break
                except (BlockingIOError, InterruptedError):
                    time.sleep(0.001)
                except OSError as e:
                    if e.errno == 105:  # ENOBUFS: the device queue is full
                        time.sleep(0.001)
                        continue
                    print("flood: sendto: %s" % e, file=sys.stderr)
                    return 1
            sent += 1
            if sent % a.progress_every == 0:
                print("progress %d" % sent, flush=True)
    took = time.monotonic() - start
    print("done %d %.3f %.0f" % (sent, took, sent / took if took > 0 else 0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
