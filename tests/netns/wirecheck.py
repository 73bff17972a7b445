#!/usr/bin/env python3
"""wirecheck: assertions about what tcpcryptd put on the wire.

Reads a classic libpcap file (as written by tcpdump -w) with the Python
standard library only, so the system tests need nothing beyond python3.
Link types: EN10MB, LINUX_SLL, LINUX_SLL2, RAW (and the IPv4/IPv6 raw
variants); IPv4 and IPv6, TCP only.

Subcommands (exit 0 = holds, 1 = violated with a precise message, 2 = usage
or unreadable capture):

  syn-has-eno PCAP          every SYN and SYN-ACK carries option 69 (TCP-ENO)
  no-eno PCAP               no segment carries option 69
  data-has-mac PCAP         every segment with payload, and every non-SYN
                            segment of a connection whose SYN and SYN-ACK both
                            carried ENO, carries the MAC option
                            (fd 10 74 63 + 12 bytes), except the segments that
                            carry Init1 (15 10 1a 0e) or Init2 (09 71 05 e0):
                            the first payload in each direction and its
                            byte-identical retransmissions
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
  summary PCAP              one line per connection, for diagnostics
  selftest                  check the checker on crafted captures (no root)

Checks that assert an absence also demand evidence of presence (SYNs, data),
so an empty or wrong capture never passes.
"""

import struct
import sys

OPT_ENO = 69
OPT_EXP = 253
MAC_EXID = b"\x74\x63"
MAC_LEN = 16
INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

LINKTYPE_EN10MB = 1
LINKTYPE_RAW_OLD = 12
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


class CaptureError(Exception):
    """The capture cannot be read at all (not a violation of a rule)."""


class Segment:
    __slots__ = ("no", "src", "sport", "dst", "dport", "seq", "ack", "flags",
                 "options", "opt_error", "payload", "plen", "truncated")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def key(self):
        return (self.src, self.sport, self.dst, self.dport)

    def has_opt(self, kind):
        return any(k == kind for k, _ in self.options)

    def mac_ok(self):
        """True when a well-formed tcpcrypt MAC option is present."""
        for k, body in self.options:
            if k == OPT_EXP and len(body) + 2 == MAC_LEN and body[:2] == MAC_EXID:
                return True
        return False

    def mac_bad(self):
        """A kind-253 tcpcrypt option that is malformed, if any (for messages)."""
        for k, body in self.options:
            if k == OPT_EXP and body[:2] == MAC_EXID and len(body) + 2 != MAC_LEN:
                return "MAC option has length %d, want %d" % (len(body) + 2, MAC_LEN)
        return None

    def describe(self):
        names = "".join(n for b, n in ((SYN, "S"), (ACK, "."), (PSH, "P"),
                                       (FIN, "F"), (RST, "R"), (URG, "U"))
                        if self.flags & b)
        return "packet #%d %s:%d > %s:%d [%s] seq=%u len=%d opts=%s" % (
            self.no, self.src, self.sport, self.dst, self.dport, names,
            self.seq, self.plen,
            ",".join(str(k) for k, _ in self.options) or "-")


def fmt_addr(raw):
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    # compact IPv6 text without the ipaddress module's cost per packet
    import ipaddress
    return str(ipaddress.IPv6Address(raw))


def parse_tcp_options(data):
    """[(kind, body)], error-or-None.  EOL ends the list, NOP is skipped."""
    opts, i = [], 0
    while i < len(data):
        kind = data[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(data):
            return opts, "option %d has no length byte" % kind
        ln = data[i + 1]
        if ln < 2 or i + ln > len(data):
            return opts, "option %d has bad length %d" % (kind, ln)
        opts.append((kind, bytes(data[i + 2:i + ln])))
        i += ln
    return opts, None


def parse_ip(pkt, no):
    """Return a Segment for an IPv4/IPv6 TCP packet, else None."""
    if len(pkt) < 1:
        return None
    ver = pkt[0] >> 4
    if ver == 4:
        if len(pkt) < 20:
            return None
        ihl = (pkt[0] & 0x0F) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        frag = struct.unpack_from("!H", pkt, 6)[0] & 0x1FFF
        if pkt[9] != 6 or frag != 0:
            return None
        src, dst = fmt_addr(pkt[12:16]), fmt_addr(pkt[16:20])
        l4, l4len = ihl, total - ihl
    elif ver == 6:
        if len(pkt) < 40:
            return None
        plen = struct.unpack_from("!H", pkt, 4)[0]
        nxt, off = pkt[6], 40
        end = 40 + plen
        # walk extension headers up to TCP
        while nxt in (0, 43, 60, 44):
            if off + 8 > len(pkt):
                return None
            if nxt == 44:
                if struct.unpack_from("!H", pkt, off + 2)[0] & 0xFFF8:
                    return None  # non-first fragment
                nxt, off = pkt[off], off + 8
            else:
                nxt, off = pkt[off], off + (pkt[off + 1] + 1) * 8
        if nxt != 6:
            return None
        src, dst = fmt_addr(pkt[8:24]), fmt_addr(pkt[24:40])
        l4, l4len = off, end - off
    else:
        return None
    if l4 + 20 > len(pkt):
        return None
    sport, dport, seq, ack, offflags = struct.unpack_from("!HHIIH", pkt, l4)
    doff = (offflags >> 12) * 4
    flags = offflags & 0x3F
    hdr = pkt[l4 + 20:l4 + doff]
    truncated_hdr = l4 + doff > len(pkt)
    opts, err = parse_tcp_options(hdr)
    if truncated_hdr:
        err = err or "TCP header truncated by snaplen"
    plen = max(0, l4len - doff)
    payload = bytes(pkt[l4 + doff:l4 + doff + plen])
    return Segment(no=no, src=src, sport=sport, dst=dst, dport=dport, seq=seq,
                   ack=ack, flags=flags, options=opts, opt_error=err,
                   payload=payload, plen=plen, truncated=len(payload) < plen)


def strip_link(linktype, data):
    """Return the network-layer bytes of one frame, or None."""
    if linktype == LINKTYPE_EN10MB:
        if len(data) < 14:
            return None
        etype, off = struct.unpack_from("!H", data, 12)[0], 14
        while etype in (0x8100, 0x88A8) and len(data) >= off + 4:
            etype, off = struct.unpack_from("!H", data, off + 2)[0], off + 4
        return data[off:] if etype in (0x0800, 0x86DD) else None
    if linktype == LINKTYPE_LINUX_SLL:
        if len(data) < 16:
            return None
        etype = struct.unpack_from("!H", data, 14)[0]
        return data[16:] if etype in (0x0800, 0x86DD) else None
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(data) < 20:
            return None
        etype = struct.unpack_from("!H", data, 0)[0]
        return data[20:] if etype in (0x0800, 0x86DD) else None
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_OLD, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return data
    raise CaptureError("unsupported link type %d" % linktype)


def read_pcap(path):
    """All TCP segments in capture order."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise CaptureError("cannot open %s: %s" % (path, e))
    with f:
        gh = f.read(24)
        if len(gh) < 24:
            raise CaptureError("%s: too short for a pcap header (empty capture?)" % path)
        magic = gh[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        elif magic == b"\x0a\x0d\x0d\x0a":
            raise CaptureError("%s is pcapng; write classic pcap (tcpdump -w does)" % path)
        else:
            raise CaptureError("%s: not a pcap file" % path)
        linktype = struct.unpack(endian + "I", gh[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII")
        segs, no = [], 0
        while True:
            h = f.read(16)
            if len(h) < 16:
                break  # a capture cut short mid-record is read up to there
            _, _, incl, _ = rec.unpack(h)
            data = f.read(incl)
            if len(data) < incl:
                break
            no += 1
            net = strip_link(linktype, data)
            if net is None:
                continue
            seg = parse_ip(net, no)
            if seg is not None:
                segs.append(seg)
        return segs


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


def cmd_syn_has_eno(segs, _args):
    syns = [s for s in segs if s.flags & SYN]
    errs = need(syns, "no SYN segments in the capture")
    errs += ["%s lacks the ENO option (kind 69)" % s.describe()
             for s in syns if not s.has_opt(OPT_ENO)]
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
                if c.eno_both() and s.payload[:4] != magic:
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
            if init_segment(c, s, first_seq):
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
    eno_a, eno_b = b"\x45\x05\xa0\x74\x31", b"\x45\x06\x01\xa0\x74\x31"
    mac = b"\xfd\x10\x74\x63" + b"\xee" * 12
    i1 = INIT1_MAGIC + b"\x00" * 71
    i2 = INIT2_MAGIC + b"\x00" * 70
    d1, d2 = b"x" * 40 + marker[:5], marker[5:] + b"y" * 40
    A = lambda *x, **k: _pkt(a, b, 40000, 5001, *x, v6=v6, **k)
    B = lambda *x, **k: _pkt(b, a, 5001, 40000, *x, v6=v6, **k)
    return [
        A(100, 0, SYN, opts=eno_a),
        B(900, 101, SYN | ACK, opts=eno_b),
        A(101, 901, ACK | PSH, opts=b"\x45\x02", payload=i1),
        B(901, 176, ACK | PSH, payload=i2),
        B(901, 176, ACK | PSH, payload=i2),           # retransmitted Init2
        A(176, 975, ACK, opts=mac),
        A(176, 975, ACK, opts=mac if mac_everywhere else b"", payload=d1),
        A(176 + len(d1), 975, ACK | PSH, opts=mac, payload=d2),
        B(975, 176 + len(d1) + len(d2), ACK | FIN, opts=mac),
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
    plain = [p for p in _flow(True, marker)]
    plain[0] = _pkt("192.0.2.1", "198.51.100.1", 40000, 5001, 100, 0, SYN)
    expect("SYN without ENO", "syn-has-eno", plain, [], False)
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
    if cmd not in ("count-syn-with-opt", "summary"):
        print("wirecheck %s: ok (%d TCP segments)" % (cmd, len(segs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
