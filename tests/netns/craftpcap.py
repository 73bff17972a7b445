# SPDX-License-Identifier: BSD-2-Clause
"""craftpcap: write a capture of hand-made tcpcrypt segments, well-formed and
malformed, for the Wireshark dissector test (t32).

    python3 craftpcap.py OUT.pcap

Raw IPv4 link type, one segment per frame, 10.0.0.1 -> 10.0.0.2.  Each case
has its own source port (40000 + case number) and prints one line
"PORT NAME" so that the test can map tshark's output to the case.  The
cases follow doc/protocol.md sections 3.1, 4, 6.3 and 13.  Python standard
library only, and ipcsum.py beside it.
"""

import struct
import sys

from ipcsum import csum

LINKTYPE_IPV4 = 228
SYN, ACK, PSH = 0x02, 0x10, 0x08

INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")


def segment(sport, flags, options=b"", payload=b"", seq=1000, ack=0):
    while len(options) % 4:
        options += b"\x01"          # NOP padding in front of nothing: fine
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    off = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, 5001, seq, ack, off << 4, flags, 65535, 0, 0)
    tcp += options + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    c = csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


R = h("01 02 03 04 05 06 07 08 09")
N = h("aa bb cc dd")
NONCE = bytes(range(32))
PUB = bytes(range(0x40, 0x60))
MAC = h("fd 10 74 63") + bytes(range(0xc0, 0xcc))

INIT1 = INIT1_MAGIC + struct.pack("!I", 77) + h("02 7403 7402") + NONCE + PUB
INIT2 = INIT2_MAGIC + struct.pack("!I", 74) + h("7403") + NONCE + PUB

# name, flags, options, payload
CASES = [
    ("fresh-syn", SYN, h("45 05 a0 74 32"), b""),
    ("fresh-synack", SYN | ACK, h("45 06 01 a0 74 32"), b""),
    ("resume-offer", SYN, h("45 12 a0 74 32") + R + N, b""),
    ("resume-accept", SYN | ACK, h("45 13 01 a0 74 32") + R + N, b""),
    ("nonsyn", ACK, h("45 02 01 01"), b""),
    ("init1", ACK | PSH, b"", INIT1),
    ("init2", ACK | PSH, b"", INIT2),
    ("data-mac", ACK | PSH, MAC, b"ciphertext"),
    # malformed ones
    ("eno-version1", SYN, h("45 05 a0 74 31"), b""),
    ("eno-badlen", SYN, h("45 08 a0 74 32 00 00 00"), b""),
    ("eno-lenbyte-past-end", SYN | ACK, h("45 05 01 9f a0"), b""),
    ("eno-global-second", SYN, h("45 04 20 01"), b""),
    ("mac-short", ACK, h("fd 0c 74 63 01 02 03 04 05 06 07 08"), b"x"),
    ("init1-truncated", ACK | PSH, b"", INIT1[:30]),
    ("init1-badlen", ACK | PSH, b"", INIT1_MAGIC + struct.pack("!I", 80) + INIT1[8:]),
    ("init2-badlen", ACK | PSH, b"", INIT2_MAGIC + struct.pack("!I", 70) + INIT2[8:]),
    ("init2-unknown-suite", ACK | PSH, b"", INIT2[:8] + h("7401") + INIT2[10:]),
    # kind 253 of another experiment: left to Wireshark's own dissector
    ("exp-other", ACK, h("fd 06 12 34 00 00"), b""),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: craftpcap.py OUT.pcap")
    with open(sys.argv[1], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, LINKTYPE_IPV4))
        for i, (name, flags, opts, payload) in enumerate(CASES):
            port = 40000 + i
            ack = 1 if flags & ACK else 0
            pkt = segment(port, flags, opts, payload, ack=ack)
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(pkt), len(pkt)) + pkt)
            print(port, name)


if __name__ == "__main__":
    main()
