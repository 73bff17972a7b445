#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""decrypt_synth: tcpcrypt-decrypt on connections built from the protocol
itself, where a short system test cannot go: stream offsets past the first
gibibyte, so that keystream and tag come from generations 1 and 2.

  decrypt_synth.py TCPCRYPT_DECRYPT WORKDIR

For each suite (0x7402, 0x7403) a resumed connection (doc/protocol.md
section 13) is written as a raw-IP pcap with its TCPCRYPT_SS line; A sends
a segment that straddles offset 2^30, B answers from generation 1 while
acknowledging A's generation 1 (tag index 2).  The keys, keystreams and tags
come from tests/vectors/gen_vectors.py (through keylog_decrypt.py), not from
the C core.  Asserted: exit status 0, every payload decrypted to the
plaintext that was encrypted, no MAC option left; and with one ciphertext
bit flipped in the straddling segment, exit status 1 and a bad tag at
offset 2^30 - 50.  Prints one line per check; exit status 1 on failure.
"""

import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keylog_decrypt as kd  # noqa: E402
from pcapread import LINKTYPE_RAW, read_pcap  # noqa: E402

gv = kd.gv
G = 1 << 30
ACK, PSH, SYN = 0x10, 0x08, 0x02


def flow(suite, flip=False):
    ss_i = gv.drbg("synth/ss_i/%x" % suite, 32)
    r = gv.resumption(ss_i, b"")
    eno_a = bytes.fromhex("4512a07432") + r["r_a"] + gv.drbg("synth/n_a", 4)
    eno_b = bytes.fromhex("451301a07432") + r["r_b"] + gv.drbg("synth/n_b", 4)
    ks = gv.resumption(ss_i, eno_a + eno_b)
    ch = {True: gv.Chain(ks["mk"], "ab"), False: gv.Chain(ks["mk"], "ba")}
    isn = {True: 0xFFFFFF00, False: 77}
    a, b = "192.0.2.1", "198.51.100.1"
    pkts, plain = [], []

    def send(frm_a, off, ack_off, flags, pt=b"", bad=False):
        ct = gv.stream_xor(suite, ch[frm_a], off, pt) if pt else b""
        opts = b"\xfd\x10\x74\x63" + gv.segment_tag(ch[frm_a], flags, off, ack_off, 0, ct)
        if bad:
            ct = bytes([ct[0] ^ 0x01]) + ct[1:]
        s, d = (a, b) if frm_a else (b, a)
        sp, dp = (40000, 80) if frm_a else (80, 40000)
        pkts.append(kd._pkt(s, d, sp, dp, isn[frm_a] + 1 + off, isn[not frm_a] + 1 + ack_off,
                            flags, opts, ct))
        plain.append(pt)

    pkts.append(kd._pkt(a, b, 40000, 80, isn[True], 0, SYN, eno_a))
    plain.append(b"")
    pkts.append(kd._pkt(b, a, 80, 40000, isn[False], isn[True] + 1, SYN | ACK, eno_b))
    plain.append(b"")
    send(True, 0, 0, ACK | PSH, gv.drbg("synth/p1", 100))
    send(False, 0, 100, ACK | PSH, gv.drbg("synth/q1", 100))
    send(True, G - 50, 100, ACK | PSH, gv.drbg("synth/p2", 100), bad=flip)
    send(False, G + 1000, G + 50, ACK | PSH, gv.drbg("synth/q2", 300))
    send(True, G + 50, G + 1300, ACK)
    keylog = gv.keylog_ss_line(r["r_a"], ss_i, suite) + "\n"
    return pkts, plain, keylog


def write(path, pkts):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW))
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    tool, work = argv[1], argv[2]
    fails = []
    for suite in (0x7402, 0x7403):
        for flip in (False, True):
            pkts, plain, keylog = flow(suite, flip)
            name = "suite 0x%04x%s" % (suite, ", bit flipped" if flip else "")
            base = os.path.join(work, "synth-%04x-%d" % (suite, flip))
            write(base + ".pcap", pkts)
            with open(base + ".keys", "w") as f:
                f.write(keylog)
            res = subprocess.run([tool, "-k", base + ".keys", "-o", base + ".out.pcap",
                                  base + ".pcap"], capture_output=True, text=True)
            if flip:
                want = "bad tag: connection 192.0.2.1:40000>198.51.100.1:80, direction A->B, " \
                       "offset %d " % (G - 50)
                if res.returncode != 1 or want not in res.stderr:
                    fails.append("%s: want exit 1 and '%s...', got %d: %s"
                                 % (name, want, res.returncode, res.stderr.strip()))
                else:
                    print("decrypt_synth: %s: %s" % (name, res.stderr.splitlines()[0]))
                continue
            if res.returncode != 0:
                fails.append("%s: exit %d: %s" % (name, res.returncode, res.stderr.strip()))
                continue
            segs = read_pcap(base + ".out.pcap")
            got = [s.payload for s in segs]
            if got != plain:
                bad = [i + 1 for i, (x, y) in enumerate(zip(got, plain)) if x != y]
                fails.append("%s: packets %s not decrypted to their plaintext" % (name, bad))
            elif any(s.mac_ok() for s in segs):
                fails.append("%s: a MAC option is left in the output" % name)
            else:
                print("decrypt_synth: %s: offsets across 2^30 (tag index up to 2) "
                      "decrypted and verified: %s" % (name, res.stderr.splitlines()[-1]))
    for f in fails:
        print("decrypt_synth: FAIL %s" % f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
