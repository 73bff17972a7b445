# SPDX-License-Identifier: BSD-2-Clause
"""pcapread: the TCP segments of a classic libpcap file, for the system
tests' capture checkers (wirecheck.py, keylog_decrypt.py).

Python standard library only.  read_pcap(path) returns a Segment for every
IPv4/IPv6 TCP packet (fragments other than the first are skipped) of link
types Ethernet, Linux cooked (v1, v2) and raw IP.  A capture cut short in the
middle of a record is read up to there; a file that is not classic pcap
raises CaptureError.
"""

import struct

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
OPT_EXP = 253
MAC_EXID = b"\x74\x63"
MAC_LEN = 16

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
                 "win", "urp", "options", "opt_error", "payload", "plen", "truncated")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    @property
    def key(self):
        return (self.src, self.sport, self.dst, self.dport)

    def has_opt(self, kind):
        return any(k == kind for k, _ in self.options)

    def opt(self, kind):
        """The options of KIND as on the wire (kind and length included)."""
        return [bytes([k, len(body) + 2]) + body for k, body in self.options if k == kind]

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
    sport, dport, seq, ack, offflags, win, _csum, urp = struct.unpack_from(
        "!HHIIHHHH", pkt, l4)
    doff = (offflags >> 12) * 4
    flags = offflags & 0xFF
    hdr = pkt[l4 + 20:l4 + doff]
    truncated_hdr = l4 + doff > len(pkt)
    opts, err = parse_tcp_options(hdr)
    if truncated_hdr:
        err = err or "TCP header truncated by snaplen"
    plen = max(0, l4len - doff)
    payload = bytes(pkt[l4 + doff:l4 + doff + plen])
    return Segment(no=no, src=src, sport=sport, dst=dst, dport=dport, seq=seq,
                   ack=ack, flags=flags, win=win, urp=urp, options=opts, opt_error=err,
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


