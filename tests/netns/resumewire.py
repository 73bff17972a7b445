#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""resumewire: session resumption as seen on the wire (doc/protocol.md
section 13), for the system tests.  Python 3 standard library only.

  resumewire.py kx PCAP PORT
      One line per connection to TCP port PORT in the capture, in capture
      order:
          SPORT KIND untagged=N ra=R_A syn=HEX synack=HEX
      KIND from the ENO options of the SYN and the SYN-ACK:
          fresh     45 05 a0 74 32, answered by 45 06 01 a0 74 32
          declined  an 18-byte offer, answered by 45 06 01 a0 74 32
          resumed   an 18-byte offer, answered by a 19-byte acceptance
          lost      no SYN-ACK in the capture
          other     anything else (the hex says what)
      untagged counts the segments that break the tag rules of KIND: for
      fresh and declined, every non-SYN segment carries the MAC option
      except the Init1 and Init2 messages (wirecheck.py data-has-mac on
      this connection); for resumed, every segment after A's SYN and
      after B's SYN-ACK carries it and there is no Init message.  ra is
      the offer's R_A in hex ("-" for a fresh SYN).  Every SYN and SYN-ACK
      of the connection (retransmissions included) must carry the same
      option bytes; a difference is reported as KIND "other".

  resumewire.py syn PCAP PORT OUT
      Write the first SYN to PORT that carries an offer, IP header
      included and exactly as captured, to OUT; print
      "R_A TCPSHA256" (the SHA-256 of its TCP header and payload).

  resumewire.py tcpsha PCAP PORT
      Print "R_A TCPSHA256" for every SYN to PORT that carries an offer.

  resumewire.py send FILE
      Send the IP packet in FILE unchanged through a raw socket
      (IP_HDRINCL; run as root, e.g. in the router namespace).

Exit status 0 on success, 1 when the capture lacks what was asked for,
2 on usage errors.
"""

import hashlib
import socket
import struct
import sys

sys.dont_write_bytecode = True

# pylint: disable=wrong-import-position
from pcapread import ACK, RST, SYN, CaptureError, parse_ip, read_pcap, strip_link  # noqa: E402
from wirecheck import INIT1_MAGIC, INIT2_MAGIC, OPT_ENO, cmd_data_has_mac, connections  # noqa: E402

FRESH_SYN = bytes.fromhex("4505a07432")
FRESH_SYNACK = bytes.fromhex("450601a07432")
OFFER_HEAD = bytes.fromhex("4512a07432")      # + R_A(9) + n_A(4)
ACCEPT_HEAD = bytes.fromhex("451301a07432")   # + R_B(9) + n_B(4)


def eno(seg):
    opts = seg.opt(OPT_ENO)
    return opts[0] if len(opts) == 1 else b"".join(opts)


def is_offer(o):
    return len(o) == 18 and o.startswith(OFFER_HEAD)


def is_accept(o):
    return len(o) == 19 and o.startswith(ACCEPT_HEAD)


def untagged_resumed(c):
    """Segments of a resumed connection that break its tag rules."""
    bad = 0
    seen_synack = False
    for s in c.segs:
        if s.key == c.b_key and s.flags & SYN:
            seen_synack = True
            continue
        if s.flags & SYN:
            continue
        if s.key == c.b_key and not seen_synack:
            continue
        if not s.mac_ok():
            bad += 1
        elif s.plen >= 4 and s.payload[:4] in (INIT1_MAGIC, INIT2_MAGIC) and \
                not s.flags & RST:
            # an Init message in a resumed connection (2^-32 by chance)
            bad += 1
    return bad


def classify(c):
    syns = [s for s in c.segs if s.flags & SYN and not s.flags & ACK and s.key == c.a_key]
    synacks = [s for s in c.segs if s.flags & SYN and s.flags & ACK and s.key == c.b_key]
    so = eno(syns[0]) if syns else b""
    sa = eno(synacks[0]) if synacks else b""
    ra = so[5:14].hex() if is_offer(so) else "-"
    same = (all(eno(s) == so for s in syns) and all(eno(s) == sa for s in synacks))
    if not synacks:
        kind = "lost" if same else "other"
        return kind, 0, ra, so, sa
    if not same:
        kind = "other"
    elif so == FRESH_SYN and sa == FRESH_SYNACK:
        kind = "fresh"
    elif is_offer(so) and sa == FRESH_SYNACK:
        kind = "declined"
    elif is_offer(so) and is_accept(sa):
        kind = "resumed"
    else:
        kind = "other"
    if kind == "resumed":
        bad = untagged_resumed(c)
    elif kind in ("fresh", "declined"):
        # (a connection that never carried data is no violation here)
        bad = sum(1 for e in cmd_data_has_mac(c.segs, [])
                  if not e.startswith("no segment with payload"))
    else:
        bad = 0
    return kind, bad, ra, so, sa


def cmd_kx(pcap, port):
    for c in connections(read_pcap(pcap)):
        if c.a_key[3] != port or c.syn is None:
            continue
        kind, bad, ra, so, sa = classify(c)
        print("%d %s untagged=%d ra=%s syn=%s synack=%s" % (
            c.a_key[1], kind, bad, ra, so.hex() or "-", sa.hex() or "-"))
    return 0


def raw_syns(pcap, port):
    """(ip_packet, segment) for every SYN to PORT that carries an offer."""
    with open(pcap, "rb") as f:
        gh = f.read(24)
        if len(gh) < 24:
            raise CaptureError("%s: no pcap header" % pcap)
        endian = "<" if gh[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        linktype = struct.unpack(endian + "I", gh[20:24])[0] & 0x0FFFFFFF
        no = 0
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, incl, orig = struct.unpack(endian + "IIII", h)
            data = f.read(incl)
            if len(data) < incl:
                return
            no += 1
            net = strip_link(linktype, data)
            if net is None or incl != orig:
                continue
            s = parse_ip(net, no)
            if (s is not None and s.dport == port and s.flags & SYN and
                    not s.flags & ACK and is_offer(eno(s))):
                yield net, s


def tcp_part(pkt):
    if pkt[0] >> 4 == 4:
        return pkt[(pkt[0] & 0x0F) * 4:struct.unpack_from("!H", pkt, 2)[0]]
    return pkt[40:40 + struct.unpack_from("!H", pkt, 4)[0]]  # no extension headers


def describe(pkt, s):
    return "%s %s" % (eno(s)[5:14].hex(), hashlib.sha256(tcp_part(pkt)).hexdigest())


def cmd_syn(pcap, port, out):
    for pkt, s in raw_syns(pcap, port):
        with open(out, "wb") as f:
            f.write(pkt)
        print(describe(pkt, s))
        return 0
    print("resumewire syn: no SYN to port %d with an offer in %s" % (port, pcap), file=sys.stderr)
    return 1


def cmd_tcpsha(pcap, port):
    for pkt, s in raw_syns(pcap, port):
        print(describe(pkt, s))
    return 0


def cmd_send(path):
    with open(path, "rb") as f:
        pkt = f.read()
    if pkt[0] >> 4 == 4:
        dst = socket.inet_ntop(socket.AF_INET, pkt[16:20])
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    else:
        dst = socket.inet_ntop(socket.AF_INET6, pkt[24:40])
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    with s:
        s.sendto(pkt, (dst, 0))
    print("sent %d bytes to %s" % (len(pkt), dst))
    return 0


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "kx":
            return cmd_kx(argv[2], int(argv[3]))
        if len(argv) == 5 and argv[1] == "syn":
            return cmd_syn(argv[2], int(argv[3]), argv[4])
        if len(argv) == 4 and argv[1] == "tcpsha":
            return cmd_tcpsha(argv[2], int(argv[3]))
        if len(argv) == 3 and argv[1] == "send":
            return cmd_send(argv[2])
    except CaptureError as e:
        print("resumewire: %s" % e, file=sys.stderr)
        return 2
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
