#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcapflip: flip one payload bit of one TCP segment in a classic pcap file.

  pcapflip.py IN OUT SPORT DPORT [NTH]

Picks the NTH (default 3) segment with source port SPORT, destination port
DPORT and at least 100 bytes of payload, flips bit 0 of its 10th payload
byte and writes the capture to OUT, every other byte unchanged (no checksum
is fixed: the corruption must look like what a tamperer on the path
produced).  Prints one line:

  PACKET_NUMBER OFFSET SRC:SPORT>DST:DPORT

with the packet's number in the capture (from 1) and the stream offset of
the segment's first byte (sequence number - ISN - 1, the ISN taken from the
SYN or SYN-ACK of the same 4-tuple).  Exit status 1 when there is no such
segment.
"""

import struct
import sys

sys.dont_write_bytecode = True

from pcapread import SYN, parse_ip, strip_link  # noqa: E402


def main(argv):
    if len(argv) not in (5, 6):
        sys.stderr.write(__doc__)
        return 2
    src, dst, sport, dport = argv[1], argv[2], int(argv[3]), int(argv[4])
    nth = int(argv[5]) if len(argv) == 6 else 3
    with open(src, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        print("pcapflip: %s is not a little-endian classic pcap" % src, file=sys.stderr)
        return 2
    linktype = struct.unpack_from("<I", data, 20)[0] & 0x0FFFFFFF
    pos, no, isn, seen = 24, 0, None, 0
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        rec = pos + 16
        frame = bytes(data[rec:rec + incl])
        pos = rec + incl
        no += 1
        net = strip_link(linktype, frame)
        seg = parse_ip(net, no) if net is not None else None
        if seg is None or (seg.sport, seg.dport) != (sport, dport):
            continue
        if seg.flags & SYN:
            isn = seg.seq
            continue
        if seg.plen < 100 or isn is None:
            continue
        seen += 1
        if seen < nth:
            continue
        if net[0] >> 4 != 4:
            print("pcapflip: only IPv4 segments are flipped", file=sys.stderr)
            return 2
        ihl = (net[0] & 0x0F) * 4
        doff = (net[ihl + 12] >> 4) * 4
        at = rec + (len(frame) - len(net)) + ihl + doff + 9
        data[at] ^= 0x01
        with open(dst, "wb") as f:
            f.write(data)
        print("%d %d %s:%d>%s:%d" % (no, (seg.seq - isn - 1) % (1 << 32), seg.src,
                                     seg.sport, seg.dst, seg.dport))
        return 0
    print("pcapflip: no segment %d with payload >= 100 from port %d to port %d"
          % (nth, sport, dport), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
