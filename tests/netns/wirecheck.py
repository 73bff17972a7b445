#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""wirecheck: assertions about what tcpcryptd put on the wire.

Reads a classic libpcap file (as written by tcpdump -w) with the Python
standard library only, so the system tests need nothing beyond python3.
Link types: EN10MB, LINUX_SLL, LINUX_SLL2, RAW (and the IPv4/IPv6 raw
variants); IPv4 and IPv6, TCP only.

Subcommands (exit 0 = holds, 1 = violated with a precise message, 2 = usage
or unreadable capture):

  syn-has-eno PCAP          every SYN and SYN-ACK carries option 69 (TCP-ENO)
                            offering or answering our TEP with protocol
                            version 2 (suboption a0 74 32)
  no-eno PCAP               no segment carries option 69
  data-has-mac PCAP         every segment with payload, and every non-SYN
                            segment of a connection whose SYN and SYN-ACK both
                            carried ENO, carries the MAC option
                            (fd 10 74 63 + 12 bytes), except the segments that
                            carry Init1 (15 10 1a 0e) or Init2 (09 71 05 e0):
                            the first payload in each direction and its
                            byte-identical retransmissions.  A resumed
                            connection (18-byte ENO offer, 19-byte acceptance)
                            has no Init messages: no exceptions
  no-mac PCAP               no segment carries the MAC option
  absent PCAP STRING...     no STRING occurs in any direction's reassembled
                            byte stream (so also not across segments)
  present PCAP STRING...    every STRING occurs in some stream (the negative
                            control that proves "absent" can see plaintext)
  no-payload PCAP PORT      no segment to or from PORT carries payload (a
                            refused connection sent nothing), and at least
                            one segment (the SYN) was seen
  count-syn-with-opt PCAP KIND [--synack]
                            print how many SYNs (or SYN-ACKs) carry option KIND
  eno-options PCAP          print one line per SYN and SYN-ACK: "SYN" or
                            "SYN-ACK", the connection, and its ENO option in
                            hex as on the wire ("-" without one)
  inits PCAP                print one line per Init message on the wire (the
                            first payload of each direction when it starts
                            with the magic): "Init1 CONN len=N suites=S,S"
                            or "Init2 CONN len=N suite=S", suites as 4 hex
                            digits
  summary PCAP              one line per connection, for diagnostics
  selftest                  check the checker on crafted captures (no root)

Checks that assert an absence also demand evidence of presence (SYNs, data),
so an empty or wrong capture never passes.
"""

import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree free of .pyc files

# pylint: disable=wrong-import-position
from pcapread import (ACK, FIN, MAC_EXID, MAC_LEN, OPT_EXP, PSH, RST, SYN, URG,  # noqa: E402,F401
                      LINKTYPE_EN10MB, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW,
                      CaptureError, read_pcap)

OPT_ENO = 69
# Our TEP suboption (0xa0: TEP 0x20 with v=1) and the protocol version tag.
ENO_TEP_V2 = bytes.fromhex("a07432")
INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")
# Resumption: A's offer and B's acceptance (doc/protocol.md section 13).
ENO_OFFER_LEN, ENO_ACCEPT_LEN = 18, 19


class Conn:
    """One TCP connection: the segments of both directions, split by SYN."""

    def __init__(self, a_key):
        self.a_key = a_key           # direction of the first SYN (the active opener)
        self.segs = []
        self.syn = None
        self.synack = None

    @property
    def b_key(self):
        s, sp, d, dp = self.a_key
        return (d, dp, s, sp)

    def label(self):
        s, sp, d, dp = self.a_key
        return "%s:%d -> %s:%d" % (s, sp, d, dp)

    def eno_both(self):
        return (self.syn is not None and self.synack is not None and
                self.syn.has_opt(OPT_ENO) and self.synack.has_opt(OPT_ENO))

    def resumed(self):
        """The SYN offered resumption (18-byte ENO) and the SYN-ACK accepted
        it (19 bytes): no Init messages, every later segment tagged."""
        return (self.eno_both() and
                [len(o) for o in self.syn.opt(OPT_ENO)] == [ENO_OFFER_LEN] and
                [len(o) for o in self.synack.opt(OPT_ENO)] == [ENO_ACCEPT_LEN])


def connections(segs):
    """Group segments into connections.  A SYN with a new ISN on a 4-tuple
    already seen starts a new connection (port reuse)."""
    by_tuple, conns = {}, []
    for s in segs:
        fwd, rev = s.key, (s.dst, s.dport, s.src, s.sport)
        if s.flags & SYN and not s.flags & ACK:
            c = by_tuple.get(fwd)
            if c is None or c.syn is None or c.syn.seq != s.seq or c.a_key != fwd:
                c = Conn(fwd)
                conns.append(c)
                by_tuple[fwd] = by_tuple[rev] = c
            if c.syn is None:
                c.syn = s
        c = by_tuple.get(fwd) or by_tuple.get(rev)
        if c is None:
            # mid-stream start of capture: take the first sender as "A"
            c = Conn(fwd)
            conns.append(c)
            by_tuple[fwd] = by_tuple[rev] = c
        if s.flags & SYN and s.flags & ACK and c.synack is None:
            c.synack = s
        c.segs.append(s)
    return conns


def streams(segs):
    """Reassemble every direction of every connection by sequence number.
    Returns [(label, bytes, missing_bytes, truncated_segments)]."""
    out = []
    for c in connections(segs):
        for key in (c.a_key, c.b_key):
            dsegs = [s for s in c.segs if s.key == key]
            if not dsegs:
                continue
            syn = next((s for s in dsegs if s.flags & SYN), None)
            data = [s for s in dsegs if s.plen > 0]
            if not data:
                continue
            base = (syn.seq + 1) if syn is not None else min(s.seq for s in data)
            pieces, end = [], 0
            for s in data:
                off = (s.seq - base) & 0xFFFFFFFF
                if off > 0x7FFFFFFF:
                    continue  # before the base (capture started mid-stream)
                pieces.append((off, s.payload))
                end = max(end, off + len(s.payload))
            buf = bytearray(end)
            have = bytearray(end)
            for off, p in pieces:
                buf[off:off + len(p)] = p
                have[off:off + len(p)] = b"\x01" * len(p)
            missing = have.count(0)
            label = "%s:%d -> %s:%d" % key
            out.append((label, bytes(buf), missing,
                        sum(1 for s in data if s.truncated)))
    return out


# ---------------------------------------------------------------------------
# Subcommands.  Each returns a list of violation messages (empty = holds).

MAX_REPORT = 10


def need(cond, msg):
    return [] if cond else [msg]


def eno_is_v2(s):
    """s carries an ENO option whose suboptions include our TEP with the
    version 2 tag (a fresh offer a0 74 32, or a resumption offer that
    continues after the tag)."""
    return any(ENO_TEP_V2 in o[2:] for o in s.opt(OPT_ENO))


def cmd_syn_has_eno(segs, _args):
    syns = [s for s in segs if s.flags & SYN]
    errs = need(syns, "no SYN segments in the capture")
    for s in syns:
        if not s.has_opt(OPT_ENO):
            errs.append("%s lacks the ENO option (kind 69)" % s.describe())
        elif not eno_is_v2(s):
            errs.append("%s: ENO option %s does not carry our TEP with version 2 (a0 74 32)"
                        % (s.describe(), " ".join(o.hex() for o in s.opt(OPT_ENO))))
    return errs


def cmd_no_eno(segs, _args):
    errs = need(segs, "no TCP segments in the capture")
    errs += ["%s carries ENO (kind 69)" % s.describe()
             for s in segs if s.has_opt(OPT_ENO)]
    return errs


def init_segment(c, s, first_seq):
    """Is s (no MAC allowed) the Init message of its direction?"""
    magic = INIT1_MAGIC if s.key == c.a_key else INIT2_MAGIC
    return (s.plen > 0 and s.key in first_seq and s.seq == first_seq[s.key]
            and s.payload[:4] == magic)


def cmd_data_has_mac(segs, _args):
    errs = []
    conns = connections(segs)
    if not any(s.plen > 0 for s in segs):
        errs.append("no segment with payload in the capture")
    for c in conns:
        first_seq = {}
        for s in c.segs:
            if s.plen > 0 and s.key not in first_seq:
                first_seq[s.key] = s.seq
                magic = INIT1_MAGIC if s.key == c.a_key else INIT2_MAGIC
                who = "A" if s.key == c.a_key else "B"
                if c.eno_both() and not c.resumed() and s.payload[:4] != magic:
                    errs.append("%s: first payload from %s does not start with the Init%s magic %s (%s)"
                                % (c.label(), who, "1" if who == "A" else "2",
                                   magic.hex(), s.describe()))
        encrypted = c.eno_both()
        for s in c.segs:
            if s.flags & SYN:
                continue
            if not (s.plen > 0 or encrypted):
                continue
            if s.opt_error:
                errs.append("%s: %s" % (s.describe(), s.opt_error))
                continue
            if s.mac_ok():
                continue
            if not c.resumed() and init_segment(c, s, first_seq):
                continue
            why = s.mac_bad() or "no MAC option (kind 253, 74 63, length 16)"
            state = "encrypted" if encrypted else "NOT ENO-negotiated (plaintext)"
            errs.append("%s connection %s: %s: %s" % (state, c.label(), s.describe(), why))
    return errs


def cmd_no_mac(segs, _args):
    errs = need(any(s.plen > 0 for s in segs), "no segment with payload in the capture")
    errs += ["%s carries a tcpcrypt MAC option" % s.describe()
             for s in segs if any(k == OPT_EXP and b[:2] == MAC_EXID for k, b in s.options)]
    return errs


def _stream_problems(st):
    errs = need(st, "no payload bytes in the capture")
    for label, _, missing, trunc in st:
        if trunc:
            errs.append("%s: %d segments truncated by the snaplen: cannot search the stream"
                        % (label, trunc))
        if missing:
            errs.append("%s: %d bytes missing from the capture (tcpdump dropped packets?)"
                        % (label, missing))
    return errs


def cmd_absent(segs, args):
    if not args:
        raise SystemExit("absent: give at least one STRING")
    st = streams(segs)
    errs = _stream_problems(st)
    for label, data, _, _ in st:
        for needle in args:
            i = data.find(needle.encode())
            if i >= 0:
                errs.append("%r found in stream %s at offset %d" % (needle, label, i))
    return errs


def cmd_present(segs, args):
    if not args:
        raise SystemExit("present: give at least one STRING")
    st = streams(segs)
    errs = []
    for needle in args:
        if not any(needle.encode() in data for _, data, _, _ in st):
            errs.append("%r not found in any of %d streams" % (needle, len(st)))
    return errs


def cmd_no_payload(segs, args):
    if len(args) != 1:
        raise SystemExit("no-payload: give PORT")
    port = int(args[0])
    mine = [s for s in segs if port in (s.sport, s.dport)]
    errs = need(mine, "no segment to or from port %d in the capture" % port)
    errs += ["%s carries %d payload bytes" % (s.describe(), s.plen) for s in mine if s.plen > 0]
    return errs


def cmd_count_syn_with_opt(segs, args):
    if not args:
        raise SystemExit("count-syn-with-opt: give KIND")
    kind = int(args[0], 0)
    synack = "--synack" in args[1:]
    n = sum(1 for s in segs
            if s.flags & SYN and bool(s.flags & ACK) == synack and s.has_opt(kind))
    print(n)
    return []


def cmd_eno_options(segs, _args):
    for c in connections(segs):
        for s in c.segs:
            if s.flags & SYN:
                print("%s %s:%d -> %s:%d %s" % (
                    "SYN-ACK" if s.flags & ACK else "SYN", s.src, s.sport, s.dst, s.dport,
                    " ".join(o.hex() for o in s.opt(OPT_ENO)) or "-"))
    return []


def cmd_inits(segs, _args):
    for c in connections(segs):
        seen = set()
        for s in c.segs:
            if s.plen == 0 or s.flags & (SYN | RST) or s.key in seen:
                continue
            seen.add(s.key)
            p = s.payload
            label = "%s:%d -> %s:%d" % s.key
            if s.key == c.a_key and p[:4] == INIT1_MAGIC and len(p) >= 9:
                n = p[8]
                suites = [p[9 + 2 * i:11 + 2 * i].hex() for i in range(n) if 11 + 2 * i <= len(p)]
                print("Init1 %s len=%d suites=%s" % (label, struct.unpack("!I", p[4:8])[0],
                                                      ",".join(suites) or "-"))
            elif s.key == c.b_key and p[:4] == INIT2_MAGIC and len(p) >= 10:
                print("Init2 %s len=%d suite=%s" % (label, struct.unpack("!I", p[4:8])[0],
                                                     p[8:10].hex()))
    return []


def cmd_summary(segs, _args):
    for c in connections(segs):
        a = [s for s in c.segs if s.key == c.a_key]
        b = [s for s in c.segs if s.key == c.b_key]
        print("%s eno=%s segs=%d/%d bytes=%d/%d mac=%d/%d" % (
            c.label(), "both" if c.eno_both() else
            ("syn" if c.syn is not None and c.syn.has_opt(OPT_ENO) else "no"),
            len(a), len(b), sum(s.plen for s in a), sum(s.plen for s in b),
            sum(1 for s in a if s.mac_ok()), sum(1 for s in b if s.mac_ok())))
    return []


# ---------------------------------------------------------------------------
# Self-test: crafted captures with known answers, so a checker bug cannot
# make every system test pass vacuously.

def _pkt(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", v6=False):
    opts += b"\x00" * (-len(opts) % 4)
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq, ack,
                      ((20 + len(opts)) // 4) << 12 | flags, 65535, 0, 0) + opts + payload
    if v6:
        import ipaddress
        return (struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64)
                + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + tcp)
    return (struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0)
            + bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + tcp)


def _write_pcap(path, pkts, linktype):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, p in enumerate(pkts):
            if linktype == LINKTYPE_EN10MB:
                p = b"\x02" * 6 + b"\x04" * 6 + (b"\x86\xdd" if p[0] >> 4 == 6 else b"\x08\x00") + p
            elif linktype == LINKTYPE_LINUX_SLL2:
                p = (b"\x86\xdd" if p[0] >> 4 == 6 else b"\x08\x00") + b"\x00" * 18 + p
            f.write(struct.pack("<IIII", i, 0, len(p), len(p)) + p)


def _flow(mac_everywhere=True, marker=b"", v6=False):
    a, b = ("2001:db8:1::1", "2001:db8:2::1") if v6 else ("192.0.2.1", "198.51.100.1")
    eno_a, eno_b = b"\x45\x05\xa0\x74\x32", b"\x45\x06\x01\xa0\x74\x32"
    mac = b"\xfd\x10\x74\x63" + b"\xee" * 12
    i1 = INIT1_MAGIC + b"\x00" * 73   # 77 bytes: two suites
    i2 = INIT2_MAGIC + b"\x00" * 70   # 74 bytes
    d1, d2 = b"x" * 40 + marker[:5], marker[5:] + b"y" * 40
    A = lambda *x, **k: _pkt(a, b, 40000, 5001, *x, v6=v6, **k)
    B = lambda *x, **k: _pkt(b, a, 5001, 40000, *x, v6=v6, **k)
    return [
        A(100, 0, SYN, opts=eno_a),
        B(900, 101, SYN | ACK, opts=eno_b),
        A(101, 901, ACK | PSH, opts=b"\x45\x02", payload=i1),
        B(901, 178, ACK | PSH, payload=i2),
        B(901, 178, ACK | PSH, payload=i2),           # retransmitted Init2
        A(178, 975, ACK, opts=mac),
        A(178, 975, ACK, opts=mac if mac_everywhere else b"", payload=d1),
        A(178 + len(d1), 975, ACK | PSH, opts=mac, payload=d2),
        B(975, 178 + len(d1) + len(d2), ACK | FIN, opts=mac),
    ]


def _resumed_flow(mac_everywhere=True, marker=b""):
    """A resumed connection: offer, acceptance, no Init, tags from A's third
    segment on (with 45 02 until B's first tagged segment)."""
    a, b = "192.0.2.1", "198.51.100.1"
    offer = b"\x45\x12\xa0\x74\x32" + b"\x11" * 13
    accept = b"\x45\x13\x01\xa0\x74\x32" + b"\x22" * 13
    mac = b"\xfd\x10\x74\x63" + b"\xee" * 12
    d1 = INIT1_MAGIC + b"x" * 40 + marker   # data that merely looks like Init1
    A = lambda *x, **k: _pkt(a, b, 40002, 5001, *x, **k)
    B = lambda *x, **k: _pkt(b, a, 5001, 40002, *x, **k)
    return [
        A(100, 0, SYN, opts=offer + b"\x01\x01"),
        B(900, 101, SYN | ACK, opts=accept + b"\x01"),
        A(101, 901, ACK, opts=b"\x45\x02\x01\x01" + mac),
        A(101, 901, ACK | PSH, opts=(b"\x45\x02\x01\x01" + mac) if mac_everywhere else b"\x45\x02",
          payload=d1),
        B(901, 101 + len(d1), ACK | FIN, opts=mac),
    ]


def selftest():
    import os
    import tempfile
    marker = b"TCPCRYPT-MARKER-SELFTEST"
    fails = []

    def expect(name, cmd, pkts, args, want_ok, linktype=LINKTYPE_EN10MB):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.pcap")
            _write_pcap(path, pkts, linktype)
            errs = COMMANDS[cmd](read_pcap(path), args)
        if (not errs) != want_ok:
            fails.append("%s: %s expected %s, got %s" % (
                name, cmd, "pass" if want_ok else "violation", errs or "pass"))

    for lt in (LINKTYPE_EN10MB, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW):
        for v6 in (False, True):
            good = _flow(True, marker, v6)
            tag = "lt%d%s" % (lt, "/v6" if v6 else "")
            expect(tag + " good", "syn-has-eno", good, [], True, lt)
            expect(tag + " good", "data-has-mac", good, [], True, lt)
            expect(tag + " split marker", "absent", good, [marker.decode()], False, lt)
            expect(tag + " split marker", "present", good, [marker.decode()], True, lt)
            expect(tag + " other string", "absent", good, ["NOT-THERE"], True, lt)
            expect(tag + " good", "no-mac", good, [], False, lt)
            expect(tag + " good", "no-eno", good, [], False, lt)
            expect(tag + " one untagged", "data-has-mac", _flow(False, marker, v6), [], False, lt)
    expect("resumed good", "data-has-mac", _resumed_flow(True, marker), [], True)
    expect("resumed, data untagged", "data-has-mac", _resumed_flow(False, marker), [], False)
    plain = [p for p in _flow(True, marker)]
    plain[0] = _pkt("192.0.2.1", "198.51.100.1", 40000, 5001, 100, 0, SYN)
    expect("SYN without ENO", "syn-has-eno", plain, [], False)
    v1 = [p for p in _flow(True, marker)]
    v1[0] = _pkt("192.0.2.1", "198.51.100.1", 40000, 5001, 100, 0, SYN,
                 opts=b"\x45\x05\xa0\x74\x31")
    expect("SYN with the version 1 tag", "syn-has-eno", v1, [], False)
    expect("empty capture", "absent", [], ["x"], False)
    expect("empty capture", "data-has-mac", [], [], False)
    for f in fails:
        print("wirecheck selftest: FAIL %s" % f, file=sys.stderr)
    if not fails:
        print("wirecheck selftest: ok")
    return 1 if fails else 0


COMMANDS = {
    "syn-has-eno": cmd_syn_has_eno,
    "no-eno": cmd_no_eno,
    "data-has-mac": cmd_data_has_mac,
    "no-mac": cmd_no_mac,
    "absent": cmd_absent,
    "present": cmd_present,
    "no-payload": cmd_no_payload,
    "count-syn-with-opt": cmd_count_syn_with_opt,
    "eno-options": cmd_eno_options,
    "inits": cmd_inits,
    "summary": cmd_summary,
}


def main(argv):
    if len(argv) == 2 and argv[1] == "selftest":
        return selftest()
    if len(argv) < 3 or argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        return 2
    cmd, pcap, args = argv[1], argv[2], argv[3:]
    try:
        segs = read_pcap(pcap)
    except CaptureError as e:
        print("wirecheck %s: %s" % (cmd, e), file=sys.stderr)
        return 2
    errs = COMMANDS[cmd](segs, args)
    if errs:
        for e in errs[:MAX_REPORT]:
            print("wirecheck %s %s: %s" % (cmd, pcap, e), file=sys.stderr)
        if len(errs) > MAX_REPORT:
            print("wirecheck %s: ... and %d more violations" % (cmd, len(errs) - MAX_REPORT),
                  file=sys.stderr)
        return 1
    if cmd not in ("count-syn-with-opt", "eno-options", "inits", "summary"):
        print("wirecheck %s: ok (%d TCP segments)" % (cmd, len(segs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
