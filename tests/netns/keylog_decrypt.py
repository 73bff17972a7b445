#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""keylog_decrypt: decrypt and verify a tcpcrypt connection from a packet
capture and a debug key log (doc/protocol.md section 10), python3 stdlib only.

  keylog_decrypt.py PCAP KEYLOG PORT [--out-ab FILE] [--out-ba FILE]
  keylog_decrypt.py selftest

Everything comes from the capture and the key log, never from the
daemon: the connection with PORT in its 4-tuple is found in PCAP (classic
libpcap; EN10MB, LINUX_SLL, LINUX_SLL2 or raw IP; IPv4 or IPv6), then

  transcript  = A's ENO option (SYN) | B's ENO option (SYN-ACK), as on the wire
  Init1/Init2 = the first payload of A / of B (stream offset 0); Init1 lists
                the suites A offers, Init2 names the one B chose (0x7402
                ChaCha20 or 0x7403 AES-128-CTR), which must be in A's list
  ES          = the key-log line whose N_A is the nonce inside Init1
  PRK, session_id, mk, the generation chains g_ab / g_ba and each
  generation's K_enc, K_hash, K_prf   as in doc/protocol.md section 5

Each direction is reassembled by 64-bit stream offset (duplicates and
retransmissions must agree byte for byte), the application bytes after the
Init message are decrypted with the chosen suite's keystream, each byte with
the generation of its offset (one generation per 2^30 bytes), and the MAC
option (kind 253, fd 10 74 63 + 12-byte tag: Poly1305 + HChaCha20 under the
keys of generation gen(seq_offset) + gen(ack_offset)) of every captured
segment after the Init exchange is verified in both directions.  The only
segments allowed without a tag are SYNs, the segments carrying Init1/Init2
(and their byte-identical retransmissions), and A's dataless ACKs (flags
ACK only among FIN, SYN, RST, ACK, URG) that acknowledge nothing beyond Init2
and come before A's first tagged segment (A has no keys yet: doc/protocol.md
section 7).  A resumed connection (doc/protocol.md section 13: B's SYN-ACK
accepts A's offer) has no Init messages: its keys come from the
TCPCRYPT_SS line of the R_A in A's SYN, its offsets start at 0, and every
segment after the SYN and SYN-ACK needs a tag.

Output (stdout), one "name value" pair a line:
  connection  A-addr:port>B-addr:port
  n_a         64 hex digits ("-" for a resumed connection)
  session_id  66 hex digits
  suite       0x7402 or 0x7403 (the suite Init2 chose)
  verified    number of segments whose tag verified (both directions)
  verified_ab / verified_ba / untagged_prekey / segments
  overlapping number of payload segments that overlap bytes of another one
              (retransmissions, duplicates)
  bytes_ab / bytes_ba   application bytes decrypted per direction
  sha256_ab / sha256_ba
The decrypted application streams go to --out-ab / --out-ba.

Exit status: 0 = everything verified; 1 = a verification failed (wrong key,
bad tag, missing tag, hole in a stream, inconsistent retransmission, no
key-log line, suite not offered, ...), with a precise
message on stderr; 2 = usage error or unreadable capture.

The crypto (X25519 is not needed; HKDF-SHA256, the generation chains,
original ChaCha20 with a 64-bit counter and nonce, AES-128-CTR, the 0x02
pseudo header, Poly1305 and HChaCha20) is imported from
tests/vectors/gen_vectors.py, the project's independent pure-Python
implementation of doc/protocol.md that self-checks against published vectors
and protocol-v2.json ("selftest" runs those checks too).
"""

import hashlib
import importlib.util
import os
import re
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree free of .pyc files

_GV_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "vectors", "gen_vectors.py")


def _load_gen_vectors():
    spec = importlib.util.spec_from_file_location("tc_gen_vectors", _GV_PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gv = _load_gen_vectors()

# pylint: disable=wrong-import-position
from pcapread import (ACK, FIN, MAC_EXID, OPT_EXP, PSH, RST, SYN, URG,  # noqa: E402,F401
                      LINKTYPE_RAW, CaptureError, read_pcap)
from pcapread import MAC_LEN as MAC_OPT_LEN  # noqa: E402

OPT_ENO = 69
TAG_LEN = 12
INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")
SUITES = gv.SUITES                  # 0x7402 ChaCha20, 0x7403 AES-128-CTR
ENO_B_FRESH = bytes.fromhex("450601a07432")
ENO_B_RESUME = bytes.fromhex("451301a07432")   # + R_B(9) + n_B(4): accepted
M32 = 1 << 32
M64 = 1 << 64


class VerifyError(Exception):
    """Something in the capture does not verify (exit 1)."""


# ---------------------------------------------------------------------------
# Key log


KEYLOG_ES_RE = re.compile(r"^TCPCRYPT_ES ([0-9a-f]{64}) ([0-9a-f]{64})$")
KEYLOG_SS_RE = re.compile(r"^TCPCRYPT_SS ([0-9a-f]{18}) ([0-9a-f]{64}) ([0-9a-f]{4})$")


class KeyLog:
    """es: {N_A: ES} from the TCPCRYPT_ES lines; ss: {R_A: (ss[i], suite)}
    from the TCPCRYPT_SS lines (resumption, read but not used)."""

    def __init__(self):
        self.es = {}
        self.ss = {}

    def __len__(self):
        return len(self.es) + len(self.ss)


def read_keylog(path):
    """The KeyLog of PATH.  Blank lines and '#' comments are ignored; any
    other line that is not a well-formed TCPCRYPT_ES or TCPCRYPT_SS line is
    an error."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise CaptureError("cannot open key log %s: %s" % (path, e))
    out = KeyLog()
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = KEYLOG_SS_RE.match(line)
        if m:
            r_a, ss = bytes.fromhex(m.group(1)), bytes.fromhex(m.group(2))
            if out.ss.setdefault(r_a, (ss, int(m.group(3), 16))) != (ss, int(m.group(3), 16)):
                raise VerifyError("key log %s line %d: R_A %s appears twice with different "
                                  "values" % (path, n, m.group(1)))
            continue
        m = KEYLOG_ES_RE.match(line)
        if not m:
            raise VerifyError("key log %s line %d is malformed (want 'TCPCRYPT_ES <64 hex> "
                              "<64 hex>' or 'TCPCRYPT_SS <18 hex> <64 hex> <4 hex>', "
                              "lowercase): %r" % (path, n, line[:200]))
        n_a, es = bytes.fromhex(m.group(1)), bytes.fromhex(m.group(2))
        if n_a in out.es and out.es[n_a] != es:
            raise VerifyError("key log %s line %d: N_A %s appears twice with different ES"
                              % (path, n, m.group(1)))
        out.es[n_a] = es
    return out


# ---------------------------------------------------------------------------
# Connection analysis


def extend(rel32, ref):
    """The 64-bit value congruent to rel32 mod 2^32 nearest to ref (>= 0),
    modulo 2^64: S = ISN (a keepalive before the first byte) has offset
    2^64 - 1 (doc/protocol.md section 6.1)."""
    v = (ref - (ref % M32)) + rel32
    if v - ref > M32 // 2:
        v -= M32
    elif ref - v > M32 // 2:
        v += M32
    return v % M64


def before_stream(off):
    """True for the offsets just below 0 (2^64 - 1, ...), which hold no byte
    of the stream."""
    return off >= M64 // 2


def find_connection(segs, port):
    """Segments of the single connection with PORT in its 4-tuple."""
    mine = [s for s in segs if port in (s.sport, s.dport)]
    if not mine:
        raise VerifyError("no TCP segment with port %d in the capture" % port)
    syns = [s for s in mine if s.flags & SYN and not s.flags & ACK]
    if not syns:
        raise VerifyError("no SYN for port %d in the capture (capture started too late?)" % port)
    conns = {(s.key, s.seq) for s in syns}
    if len(conns) != 1:
        raise VerifyError("%d connections (distinct SYNs) with port %d in the capture; "
                          "want exactly one" % (len(conns), port))
    a_key, isn_a = next(iter(conns))
    b_key = (a_key[2], a_key[3], a_key[0], a_key[1])
    conn = [s for s in mine if s.key in (a_key, b_key)]
    stray = [s for s in mine if s.key not in (a_key, b_key)]
    if stray:
        raise VerifyError("segment of another 4-tuple with port %d: %s"
                          % (port, stray[0].describe()))
    return a_key, b_key, isn_a, conn


def parse_init1(msg, where):
    if len(msg) < 8 or msg[:4] != INIT1_MAGIC:
        raise VerifyError("%s: first payload of A is not Init1 (magic %s, got %s)"
                          % (where, INIT1_MAGIC.hex(), msg[:4].hex()))
    ln = struct.unpack_from("!I", msg, 4)[0]
    if ln > len(msg) or ln < 9:
        raise VerifyError("%s: Init1 len field %d, segment payload %d bytes "
                          "(Init1 must be whole in one segment)" % (where, ln, len(msg)))
    nc = msg[8]
    need = 9 + 2 * nc + 64
    if nc == 0 or ln < need:
        raise VerifyError("%s: Init1 with %d suites needs %d bytes, len field says %d"
                          % (where, nc, need, ln))
    suites = [struct.unpack_from("!H", msg, 9 + 2 * i)[0] for i in range(nc)]
    if not set(suites) & set(SUITES):
        raise VerifyError("%s: Init1 offers suites %s, none of 0x7402, 0x7403"
                          % (where, suite_list(suites)))
    n_a = msg[9 + 2 * nc:9 + 2 * nc + 32]
    return msg[:ln], n_a, suites


def suite_list(suites):
    return ",".join("0x%04x" % x for x in suites)


def parse_init2(msg, where, offered):
    if len(msg) < 8 or msg[:4] != INIT2_MAGIC:
        raise VerifyError("%s: first payload of B is not Init2 (magic %s, got %s)"
                          % (where, INIT2_MAGIC.hex(), msg[:4].hex()))
    ln = struct.unpack_from("!I", msg, 4)[0]
    if ln > len(msg) or ln < 74:
        raise VerifyError("%s: Init2 len field %d, segment payload %d bytes (want >= 74, whole)"
                          % (where, ln, len(msg)))
    suite = struct.unpack_from("!H", msg, 8)[0]
    if suite not in offered:
        raise VerifyError("%s: Init2 names suite 0x%04x, which Init1 did not offer (%s)"
                          % (where, suite, suite_list(offered)))
    if suite not in SUITES:
        raise VerifyError("%s: Init2 names suite 0x%04x, not 0x7402 or 0x7403" % (where, suite))
    return msg[:ln], suite


def mac_option(s):
    """The 12-byte tag of S, or None when S has no tcpcrypt MAC option."""
    found = [raw for raw in s.opt(OPT_EXP) if raw[2:4] == MAC_EXID]
    if not found:
        return None
    if len(found) > 1:
        raise VerifyError("%s carries %d tcpcrypt MAC options" % (s.describe(), len(found)))
    raw = found[0]
    if len(raw) != MAC_OPT_LEN:
        raise VerifyError("%s: MAC option has length %d, want %d (%s)"
                          % (s.describe(), len(raw), MAC_OPT_LEN, raw.hex()))
    return raw[4:]


def decrypt(suite, chain, offset, ct):
    """CT, the bytes at stream offset OFFSET of CHAIN's direction, decrypted
    with SUITE: each byte with the keystream of its own generation."""
    ks = b"".join(gv.suite_keystream(suite, chain.keys(j)[0], a, b - a)
                  for j, a, b in gv.keystream_spans(offset, len(ct)))
    return (int.from_bytes(ct, "big") ^ int.from_bytes(ks, "big")).to_bytes(len(ct), "big")


def fresh_keys(label, keylog, conn, transcript, isn, a_key, b_key):
    """A fresh key exchange: Init1 and Init2 (the payloads at stream offset
    0 of A and of B), ES from the TCPCRYPT_ES line of N_A, the key schedule.
    (n_a, key schedule, suite, {dir: Init length}, {dir: Init message})."""
    init_segs = {}
    for s in conn:
        if (s.plen and not s.flags & SYN and (s.seq - isn[s.key] - 1) % M32 == 0
                and s.key not in init_segs):
            init_segs[s.key] = s
    if a_key not in init_segs:
        raise VerifyError("%s: no payload at offset 0 from A (Init1 not captured)" % label)
    if b_key not in init_segs:
        raise VerifyError("%s: no payload at offset 0 from B (Init2 not captured)" % label)
    s1, s2 = init_segs[a_key], init_segs[b_key]
    init1, n_a, offered = parse_init1(s1.payload, s1.describe())
    init2, suite = parse_init2(s2.payload, s2.describe(), offered)
    es = keylog.es.get(n_a)
    if es is None:
        raise VerifyError("%s: no TCPCRYPT_ES line for N_A %s in the key log (%d lines)"
                          % (label, n_a.hex(), len(keylog)))
    ks = gv.key_schedule(transcript, init1, init2, n_a, es)
    return (n_a, ks, suite, {a_key: len(init1), b_key: len(init2)},
            {a_key: init1, b_key: init2})


def resumed_keys(label, keylog, eno_a, eno_b):
    """A resumed connection (doc/protocol.md section 13): ss[i] and the suite from
    the TCPCRYPT_SS line of the R_A in A's SYN; (key schedule, suite)."""
    if len(eno_a) != 18 or not eno_a.startswith(bytes.fromhex("4512a07432")):
        raise VerifyError("%s: B accepted a resumption (%s) that A's SYN (ENO %s) did not "
                          "offer" % (label, eno_b.hex(), eno_a.hex()))
    r_a = eno_a[5:14]
    if r_a not in keylog.ss:
        raise VerifyError("%s: resumed connection, but no TCPCRYPT_SS line for R_A %s in the "
                          "key log (%d lines)" % (label, r_a.hex(), len(keylog)))
    ss_i, suite = keylog.ss[r_a]
    if suite not in SUITES:
        raise VerifyError("%s: the TCPCRYPT_SS line of R_A %s names suite 0x%04x, not 0x7402 "
                          "or 0x7403" % (label, r_a.hex(), suite))
    ks = gv.resumption(ss_i, eno_a + eno_b)
    if ks["r_a"] != r_a or ks["r_b"] != eno_b[6:15]:
        raise VerifyError("%s: R_A %s / R_B %s on the wire, but the key log's ss[i] gives %s / %s"
                          % (label, r_a.hex(), eno_b[6:15].hex(), ks["r_a"].hex(),
                             ks["r_b"].hex()))
    return ks, suite


def analyse(segs, keylog, port):
    a_key, b_key, isn_a, conn = find_connection(segs, port)
    label = "%s:%d>%s:%d" % a_key
    for s in conn:
        if s.opt_error:
            raise VerifyError("%s: %s" % (s.describe(), s.opt_error))
        if s.truncated:
            raise VerifyError("%s: payload truncated by the snaplen (%d of %d bytes "
                              "captured); capture with a full snaplen"
                              % (s.describe(), len(s.payload), s.plen))

    # --- ENO transcript: the options exactly as on the wire.
    syns = [s for s in conn if s.key == a_key and s.flags & SYN and not s.flags & ACK]
    synacks = [s for s in conn if s.key == b_key and s.flags & SYN and s.flags & ACK
               and s.ack == (isn_a + 1) % M32]
    if not synacks:
        raise VerifyError("%s: no SYN-ACK from B answering A's SYN (ISN %u)" % (label, isn_a))
    synack = synacks[0]
    if any(s.seq != synack.seq for s in synacks):
        raise VerifyError("%s: SYN-ACKs with different ISNs" % label)
    isn_b = synack.seq
    # the SYN that B answered: the last one A sent before the SYN-ACK
    before = [s for s in syns if s.no < synack.no]
    if not before:
        raise VerifyError("%s: the SYN-ACK %s precedes every SYN of A in the capture"
                          % (label, synack.describe()))
    syn = before[-1]
    eno_a, eno_b = syn.opt(OPT_ENO), synack.opt(OPT_ENO)
    if len(eno_a) != 1 or len(eno_b) != 1:
        raise VerifyError("%s: want exactly one ENO option in SYN and SYN-ACK, got %d in %s "
                          "and %d in %s" % (label, len(eno_a), syn.describe(), len(eno_b),
                                            synack.describe()))
    transcript = eno_a[0] + eno_b[0]
    resumed = eno_b[0].startswith(ENO_B_RESUME) and len(eno_b[0]) == 19
    if not resumed and eno_b[0] != ENO_B_FRESH:
        raise VerifyError("%s: B's SYN-ACK ENO option is %s, want %s (a fresh protocol "
                          "version 2 exchange) or %s + R_B + n_B (resumption)"
                          % (label, eno_b[0].hex(), ENO_B_FRESH.hex(), ENO_B_RESUME.hex()))
    isn = {a_key: isn_a, b_key: isn_b}
    other = {a_key: b_key, b_key: a_key}
    if resumed:
        ks, suite = resumed_keys(label, keylog, eno_a[0], eno_b[0])
        n_a = None
        init_len = {a_key: 0, b_key: 0}
        init_msg = {a_key: None, b_key: None}
    else:
        n_a, ks, suite, init_len, init_msg = fresh_keys(label, keylog, conn, transcript,
                                                         isn, a_key, b_key)
    chains = {a_key: gv.Chain(ks["mk"], "ab"), b_key: gv.Chain(ks["mk"], "ba")}

    def rel(s):
        return (s.seq - isn[s.key] - 1) % M32

    # --- Walk the segments in capture order.
    high = {a_key: 0, b_key: 0}            # highest stream offset seen per direction
    pieces = {a_key: {}, b_key: {}}        # offset -> payload
    fin_off = {}
    verified = {a_key: 0, b_key: 0}
    prekey = []
    failures = []
    a_tagged = False                       # a validly tagged segment from A seen
    for s in conn:
        d = s.key
        if s.flags & SYN:
            continue
        off = extend(rel(s), high[d])
        ack_off = extend((s.ack - isn[other[d]] - 1) % M32, high[other[d]]) if s.flags & ACK else 0
        if before_stream(off):
            # S = ISN: a keepalive before the first byte (seq_offset 2^64 - 1);
            # its byte, if any, is not part of the stream.  Only the tag counts.
            if s.plen > 1 or s.flags & FIN:
                failures.append("%s: %d bytes%s at stream offset %d, before the stream"
                                % (s.describe(), s.plen, " and FIN" if s.flags & FIN else "",
                                   off - M64))
                continue
        else:
            if s.plen:
                pieces[d].setdefault(off, []).append((s, s.payload))
            high[d] = max(high[d], off + s.plen + (1 if s.flags & FIN else 0))
        if s.flags & FIN:
            f = off + s.plen
            if fin_off.setdefault(d, f) != f:
                raise VerifyError("%s: FIN at offset %d, earlier FIN at %d" % (s.describe(), f, fin_off[d]))
        is_init = (not resumed and off == 0 and s.plen
                   and s.payload[:init_len[d]] == init_msg[d])
        if is_init:
            if s.plen != init_len[d]:
                raise VerifyError("%s: Init segment carries %d bytes beyond the Init message"
                                  % (s.describe(), s.plen - init_len[d]))
        tag = mac_option(s)
        if tag is None:
            if is_init:
                continue
            # doc/protocol.md section 7: B accepts a dataless ACK from A without a
            # tag (flags & 0x37 = ACK, ack_offset <= len2) only until A's first
            # validly tagged segment.
            if (d == a_key and not resumed and not a_tagged and not s.plen
                    and s.flags & 0x37 == ACK and ack_off <= init_len[b_key]):
                prekey.append(s)
                continue
            why = "of a resumed connection" if resumed else "after the Init exchange"
            if d == a_key and not a_tagged and not s.plen and s.flags & 0x37 == ACK:
                why = "acknowledging B's offset %d, beyond Init2 (%d bytes)" % (
                    ack_off, init_len[b_key])
            failures.append("%s: no MAC option (kind 253, fd 10 74 63) on a segment %s"
                            % (s.describe(), why))
            continue
        if is_init:
            failures.append("%s: Init segment carries a MAC option" % s.describe())
            continue
        want = gv.segment_tag(chains[d], s.flags, off, ack_off, s.urp, s.payload)
        if want != tag:
            failures.append("%s: MAC mismatch: tag on the wire %s, computed %s "
                            "(seq_off=%d ack_off=%d flags=0x%02x tag index %d)"
                            % (s.describe(), tag.hex(), want.hex(), off, ack_off, s.flags,
                               gv.tag_index(off, ack_off)))
            continue
        verified[d] += 1
        if d == a_key:
            a_tagged = True
    if failures:
        msg = "%s: %d of %d segments failed verification (session_id computed from the "\
              "capture and key log: %s):\n  %s" % (
                  label, len(failures), len(conn), ks["session_id"].hex(),
                  "\n  ".join(failures[:10]))
        if len(failures) > 10:
            msg += "\n  ... and %d more" % (len(failures) - 10)
        raise VerifyError(msg)

    # --- Reassemble and decrypt.
    streams = {}
    overlapping = 0
    for d in (a_key, b_key):
        end = max((o + len(p) for o, lst in pieces[d].items() for _, p in lst), default=0)
        if d in fin_off and fin_off[d] < end:
            raise VerifyError("%s direction %s:%d>%s:%d: data up to offset %d beyond the FIN "
                              "at %d" % (label, *d, end, fin_off[d]))
        buf, have = bytearray(end), bytearray(end)
        for o in sorted(pieces[d]):
            for s, p in pieces[d][o]:
                old = buf[o:o + len(p)]
                mask = have[o:o + len(p)]
                if 1 in mask:
                    overlapping += 1
                if 1 in mask and old != p:
                    for i in range(len(p)):
                        if mask[i] and old[i] != p[i]:
                            raise VerifyError("%s: retransmitted byte at stream offset %d is 0x%02x, "
                                              "earlier copy 0x%02x" % (s.describe(), o + i, p[i], old[i]))
                buf[o:o + len(p)] = p
                have[o:o + len(p)] = b"\x01" * len(p)
        hole = have.find(0)
        if hole >= 0:
            raise VerifyError("%s direction %s:%d>%s:%d: stream offset %d never captured "
                              "(%d bytes missing); capture incomplete"
                              % (label, *d, hole, have.count(0)))
        il = init_len[d]
        streams[d] = decrypt(suite, chains[d], il, bytes(buf[il:]))
    return {
        "connection": label,
        "n_a": n_a.hex() if n_a else "-",
        "session_id": ks["session_id"].hex(),
        "suite": "0x%04x" % suite,
        "verified": verified[a_key] + verified[b_key],
        "verified_ab": verified[a_key],
        "verified_ba": verified[b_key],
        "untagged_prekey": len(prekey),
        "segments": len(conn),
        "overlapping": overlapping,
        "ab": streams[a_key],
        "ba": streams[b_key],
    }


def report(res, out_ab, out_ba):
    for k in ("connection", "n_a", "session_id", "suite", "verified", "verified_ab", "verified_ba",
              "untagged_prekey", "segments", "overlapping"):
        print("%s %s" % (k, res[k]))
    for d, path in (("ab", out_ab), ("ba", out_ba)):
        print("bytes_%s %d" % (d, len(res[d])))
        print("sha256_%s %s" % (d, hashlib.sha256(res[d]).hexdigest()))
        if path:
            with open(path, "wb") as f:
                f.write(res[d])


# ---------------------------------------------------------------------------
# Self-test: a crafted connection with known keys, so that a bug in this tool
# cannot make the system test pass vacuously.


def _pkt(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", urp=0):
    opts += b"\x00" * (-len(opts) % 4)
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq % M32, ack % M32,
                      ((20 + len(opts)) // 4) << 12 | flags, 65535, 0, urp) + opts + payload
    return (struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0)
            + bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + tcp)


def _selftest_flow(es_flip=False, tamper=None, drop_mac=None, isn_a=0xFFFFFF00, isn_b=7,
                   offer=(gv.SUITE_AES128, gv.SUITE_CHACHA20), choose=None,
                   early_ack=0, update_only=False, eno_a=gv.ENO_A, eno_b=gv.ENO_B):
    """(packets, keylog text, A->B plaintext, B->A plaintext, session_id)."""
    n_a, n_b = gv.drbg("kd/n_a", 32), gv.drbg("kd/n_b", 32)
    pa, pb = gv.drbg("kd/priv_a", 32), gv.drbg("kd/priv_b", 32)
    suite = offer[0] if choose is None else choose
    i1 = gv.init1(n_a, gv.x25519_base(pa), suites=offer)
    i2 = gv.init2(n_b, gv.x25519_base(pb), suite)
    l1, l2 = len(i1), len(i2)
    es = gv.x25519(pa, gv.x25519_base(pb))
    ks = gv.key_schedule(eno_a + eno_b, i1, i2, n_a, es)
    ch_ab, ch_ba = gv.Chain(ks["mk"], "ab"), gv.Chain(ks["mk"], "ba")
    pt_ab, pt_ba = gv.drbg("kd/ab", 300), gv.drbg("kd/ba", 130)
    ct_ab = gv.stream_xor(suite, ch_ab, l1, pt_ab) if suite in SUITES else pt_ab
    ct_ba = gv.stream_xor(suite, ch_ba, l2, pt_ba) if suite in SUITES else pt_ba
    a, b = "192.0.2.1", "198.51.100.1"
    pkts = []

    def send(frm_a, off, ack_off, flags, payload=b"", mac=True, urp=0):
        opts = b""
        if mac:
            opts = b"\xfd\x10\x74\x63" + gv.segment_tag(ch_ab if frm_a else ch_ba, flags,
                                                           off, ack_off, urp, payload)
        if tamper == len(pkts) and payload:
            payload = bytes([payload[0] ^ 1]) + payload[1:]
        if drop_mac == len(pkts):
            opts = b""
        if frm_a:
            pkts.append(_pkt(a, b, 40000, 5001, isn_a + 1 + off, isn_b + 1 + ack_off,
                             flags, opts, payload, urp))
        else:
            pkts.append(_pkt(b, a, 5001, 40000, isn_b + 1 + off, isn_a + 1 + ack_off,
                             flags, opts, payload, urp))

    pkts.append(_pkt(a, b, 40000, 5001, isn_a, 0, SYN, eno_a))                   # 0
    pkts.append(_pkt(b, a, 5001, 40000, isn_b, isn_a + 1, SYN | ACK, eno_b))     # 1
    send(True, 0, 0, ACK | PSH, i1, mac=False)            # 2 Init1 (with 45 02 in reality)
    send(True, 0, 0, ACK | PSH, i1, mac=False)            # 3 retransmitted Init1
    send(True, l1, early_ack, ACK, mac=False)             # 4 dataless, before Init2
    send(False, 0, l1, ACK | PSH, i2, mac=False)          # 5 Init2
    send(True, l1, l2, ACK)                               # 6 tagged ACK of Init2
    send(True, l1 + 100, l2, ACK | PSH, ct_ab[100:200])   # 7 out of order
    send(True, l1, l2, ACK, ct_ab[:100])                  # 8
    send(True, l1 + 50, l2, ACK | PSH, ct_ab[50:150])     # 9 overlapping retransmission
    send(False, l2, l1 + 200, ACK | PSH | 0xC0, ct_ba[:64])   # 10 ECE|CWR not covered
    # 11: A acknowledges B's data (or, update_only, sends a window update
    # that acknowledges nothing beyond Init2)
    send(True, l1 + 200, l2 if update_only else l2 + 64, ACK)
    send(True, l1 + 200, l2 + 64, ACK | URG, ct_ab[200:], urp=3)   # 12 URG covered
    send(False, l2 + 64, l1 + 300, ACK | FIN, ct_ba[64:])  # 13
    send(True, l1 + 300, l2 + 131, ACK | FIN)              # 14
    send(False, l2 + 131, l1 + 301, ACK)                   # 15
    esl = bytearray(es)
    if es_flip:
        esl[5] ^= 0x01
    # A resumption line of some other connection must not disturb anything.
    keylog = "%s\n%s\n" % (gv.keylog_es_line(n_a, bytes(esl)),
                           gv.keylog_ss_line(gv.drbg("kd/r_a", 9), gv.drbg("kd/ss", 32), suite))
    return pkts, keylog, pt_ab, pt_ba, ks["session_id"].hex()


def _selftest_resumed_flow(ss_flip=False, tamper=None, drop_mac=None, isn_a=0xFFFFFFF0,
                           isn_b=12345, use_suite=gv.SUITE_CHACHA20, log_ss=True):
    """A resumed connection (no Init messages): like _selftest_flow."""
    ss_i = gv.drbg("kd/ss_i", 32)
    suite = use_suite
    r = gv.resumption(ss_i, b"")
    eno_a = bytes.fromhex("4512a07432") + r["r_a"] + gv.drbg("kd/n_a4", 4)
    eno_b = bytes.fromhex("451301a07432") + r["r_b"] + gv.drbg("kd/n_b4", 4)
    ks = gv.resumption(ss_i, eno_a + eno_b)
    ch_ab, ch_ba = gv.Chain(ks["mk"], "ab"), gv.Chain(ks["mk"], "ba")
    pt_ab, pt_ba = gv.drbg("kd/r-ab", 300), gv.drbg("kd/r-ba", 130)
    ct_ab = gv.stream_xor(suite, ch_ab, 0, pt_ab)
    ct_ba = gv.stream_xor(suite, ch_ba, 0, pt_ba)
    a, b = "192.0.2.1", "198.51.100.1"
    pkts = []

    def send(frm_a, off, ack_off, flags, payload=b""):
        opts = b"\xfd\x10\x74\x63" + gv.segment_tag(ch_ab if frm_a else ch_ba, flags,
                                                       off, ack_off, 0, payload)
        if tamper == len(pkts) and payload:
            payload = bytes([payload[0] ^ 1]) + payload[1:]
        if drop_mac == len(pkts):
            opts = b""
        if frm_a:
            pkts.append(_pkt(a, b, 40000, 5001, isn_a + 1 + off, isn_b + 1 + ack_off,
                             flags, opts, payload))
        else:
            pkts.append(_pkt(b, a, 5001, 40000, isn_b + 1 + off, isn_a + 1 + ack_off,
                             flags, opts, payload))

    pkts.append(_pkt(a, b, 40000, 5001, isn_a, 0, SYN, eno_a))                   # 0
    pkts.append(_pkt(b, a, 5001, 40000, isn_b, isn_a + 1, SYN | ACK, eno_b))     # 1
    send(True, 0, 0, ACK)                             # 2 A's third segment: tagged
    send(True, M64 - 1, 0, ACK)                       # 3 keepalive at S = ISN
    send(True, 0, 0, ACK, ct_ab[:100])                # 4
    send(True, 100, 0, ACK | PSH, ct_ab[100:])        # 5
    send(False, 0, 300, ACK | PSH, ct_ba)             # 6
    send(True, 300, 130, ACK | FIN)                   # 7
    send(False, 130, 301, ACK | FIN)                  # 8
    send(True, 301, 131, ACK)                         # 9
    ssl = bytearray(ss_i)
    if ss_flip:
        ssl[3] ^= 0x10
    keylog = gv.keylog_es_line(gv.drbg("kd/other_n_a", 32), gv.drbg("kd/other_es", 32)) + "\n"
    if log_ss:
        keylog += gv.keylog_ss_line(r["r_a"], bytes(ssl), suite) + "\n"
    return pkts, keylog, pt_ab, pt_ba, ks["session_id"].hex()


def _selftest_units(fails):
    """The crypto against its vectors, and this tool's own helpers."""
    for name, fn in (("gen_vectors.py primitives", gv.selfcheck_v2_primitives),
                     ("gen_vectors.py protocol-v2.json", gv.selfcheck_v2_json)):
        try:
            fn()
        except SystemExit as e:
            fails.append("%s: %s" % (name, e))
    for rel32, ref, want in ((M32 - 1, 0, M64 - 1), (5, M32 - 10, M32 + 5),
                             (M32 - 3, M32 + 5, M32 - 3), (7, 3 * M32 + 1, 3 * M32 + 7),
                             (0, 2**30 - 1, 0), (2**31 + 1, 2**31, 2**31 + 1)):
        if extend(rel32, ref) != want:
            fails.append("extend(%d, %d) = %d, want %d" % (rel32, ref, extend(rel32, ref), want))
    if not before_stream(M64 - 1) or before_stream(2**40):
        fails.append("before_stream")
    # decrypt() on every payload vector of protocol-v2.json: generation
    # boundaries (2^30, 2^38), both suites, both directions.
    import json
    with open(gv.V2_JSON, encoding="utf-8") as f:
        v = json.load(f)
    n = 0
    for s in v["data_protection"]:
        if not s["payload_length"]:
            continue
        ch = gv.Chain(bytes.fromhex(v[s["keys"]]["mk"]), s["direction"])
        got = decrypt(int(s["suite"], 16), ch, s["seq_offset"], bytes.fromhex(s["ciphertext"]))
        if got.hex() != s["plaintext"]:
            fails.append("decrypt() of vector %s %r" % (s["suite"], s["name"]))
        n += 1
    if n < 16:
        fails.append("only %d payload vectors in protocol-v2.json" % n)


def selftest():
    import tempfile
    fails = []
    _selftest_units(fails)

    def run(name, want_ok, want_msg=None, counts=(10, 1, 3), suite=0x7403,
            flow=_selftest_flow, **kw):
        pkts, keylog, pt_ab, pt_ba, sid = flow(**kw)
        with tempfile.TemporaryDirectory() as d:
            pc, kl = os.path.join(d, "t.pcap"), os.path.join(d, "k.log")
            with open(pc, "wb") as f:
                f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW))
                for i, p in enumerate(pkts):
                    f.write(struct.pack("<IIII", i, 0, len(p), len(p)) + p)
            with open(kl, "w") as f:
                f.write(keylog)
            try:
                res = analyse(read_pcap(pc), read_keylog(kl), 5001)
            except VerifyError as e:
                if want_ok:
                    fails.append("%s: unexpected failure: %s" % (name, e))
                elif want_msg and want_msg not in str(e):
                    fails.append("%s: failure without %r: %s" % (name, want_msg, e))
                return
        if not want_ok:
            fails.append("%s: passed, want a failure" % name)
        elif (res["ab"], res["ba"], res["session_id"]) != (pt_ab, pt_ba, sid):
            fails.append("%s: wrong plaintext or session id" % name)
        elif res["suite"] != "0x%04x" % suite:
            fails.append("%s: suite %s, want 0x%04x" % (name, res["suite"], suite))
        elif (res["verified"], res["untagged_prekey"], res["overlapping"]) != counts:
            fails.append("%s: verified %d, prekey %d, overlapping %d; want %d, %d, %d"
                         % ((name, res["verified"], res["untagged_prekey"], res["overlapping"])
                            + counts))

    c, x = gv.SUITE_CHACHA20, gv.SUITE_AES128
    run("aes128 (ISN wrap)", True)
    run("chacha20 (no wrap)", True, suite=c, offer=(c, x), isn_a=1000, isn_b=M32 - 2)
    run("one suite offered (75-byte Init1)", True, suite=c, offer=(c,))
    run("B picks A's second suite", True, suite=c, offer=(x, c), choose=c)
    run("Init2 names a suite A did not offer", False, "did not offer", offer=(c,), choose=x)
    run("Init1 offers only 0x7401", False, "none of 0x7402, 0x7403", offer=(0x7401,))
    run("ES flipped", False, "MAC mismatch", es_flip=True)
    run("payload byte flipped", False, "MAC mismatch", tamper=7)
    run("untagged ACK of Init2 before A's first tag", True, counts=(9, 2, 3), drop_mac=6)
    run("untagged ACK from A after its first tag", False, "no MAC option", drop_mac=11,
        update_only=True)
    run("untagged ACK from A of B's data", False, "no MAC option", drop_mac=11)
    run("untagged ACK from A beyond Init2", False, "beyond Init2", early_ack=75)
    run("B data without MAC", False, "no MAC option", drop_mac=10)
    run("version 1 answer", False, "want 450601a07432",
        eno_a=bytes.fromhex("4505a07431"), eno_b=bytes.fromhex("450601a07431"))
    run("resumption answer to a fresh offer", False, "did not offer",
        eno_b=bytes.fromhex("451301a07432") + bytes(13))
    run("resumed chacha20", True, flow=_selftest_resumed_flow, suite=c, counts=(8, 0, 0))
    run("resumed aes128 (no ISN wrap)", True, flow=_selftest_resumed_flow, suite=x,
        use_suite=x, counts=(8, 0, 0), isn_a=5, isn_b=M32 - 1)
    run("resumed, ss[i] flipped", False, "but the key log's ss[i] gives",
        flow=_selftest_resumed_flow, ss_flip=True)
    run("resumed, no TCPCRYPT_SS line", False, "no TCPCRYPT_SS line",
        flow=_selftest_resumed_flow, log_ss=False)
    run("resumed, A's third segment untagged", False, "no MAC option",
        flow=_selftest_resumed_flow, drop_mac=2)
    run("resumed, payload byte flipped", False, "MAC mismatch",
        flow=_selftest_resumed_flow, tamper=5)
    for f in fails:
        print("keylog_decrypt selftest: FAIL %s" % f, file=sys.stderr)
    if not fails:
        print("keylog_decrypt selftest: ok")
    return 1 if fails else 0


def main(argv):
    if argv[1:] == ["selftest"]:
        return selftest()
    args, out_ab, out_ba = [], None, None
    it = iter(argv[1:])
    for a in it:
        if a == "--out-ab":
            out_ab = next(it, None)
        elif a == "--out-ba":
            out_ba = next(it, None)
        else:
            args.append(a)
    if len(args) != 3 or not args[2].isdigit():
        sys.stderr.write(__doc__)
        return 2
    pcap, keylog_path, port = args[0], args[1], int(args[2])
    try:
        segs = read_pcap(pcap)
        keylog = read_keylog(keylog_path)
        res = analyse(segs, keylog, port)
    except CaptureError as e:
        print("keylog_decrypt: %s" % e, file=sys.stderr)
        return 2
    except VerifyError as e:
        print("keylog_decrypt: FAIL: %s" % e, file=sys.stderr)
        return 1
    report(res, out_ab, out_ba)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
