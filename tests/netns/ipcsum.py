# SPDX-License-Identifier: BSD-2-Clause
"""The Internet checksum (RFC 1071), shared by the test programs that build
raw IP packets (flood.py, forge.py, halfopen.py, craftpcap.py)."""
import struct


def csum(data):
    """One's complement of the one's complement sum of data's 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
