#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Independent implementation of tcpcryptd's crypto (doc/protocol.md sections
3 to 6, 10 and 13, protocol version 2), checked against published and
protocol vectors.

Written from the protocol text alone: pure Python 3, standard library only
(hashlib, hmac, json), with its own X25519 (RFC 7748 Montgomery ladder),
original ChaCha20 (64-bit block counter in state words 12-13, 64-bit nonce in
words 14-15), HChaCha20, AES-128 (FIPS-197) and Poly1305 (RFC 8439).  It never
reads or runs the C code.

On top of them: Init1/Init2, the key schedule with its per-direction
generation chains (class Chain: g[j], and k[j] split into K_enc, K_hash,
K_prf), the keystreams of suites 0x7402 (ChaCha20) and 0x7403 (AES-128-CTR
from the secret start C), each byte in the generation of its offset, the
0x02 pseudo header, the Poly1305 + HChaCha20 tag under the keys of
t = gen(seq_offset) + gen(ack_offset) (2^64 - 1 in generation 0), the key-log
lines and resumption (doc/protocol.md section 13).
tests/netns/keylog_decrypt.py imports it.

Running it checks it against the published test vectors of RFC 5869,
RFC 7748, ChaCha20 (RFC 7539), FIPS-197, NIST SP 800-38A, RFC 8439 and
HChaCha20, then recomputes every value of protocol-v2.json (beside this
script) from its fixed inputs; any difference fails (exit status 1).

Usage: python3 tests/vectors/gen_vectors.py [--check] [--quick]
  --check   accepted for compatibility: checking is all it does
  --quick   skip the 1000-iteration RFC 7748 check (a few seconds)
"""

import hashlib
import hmac
import os
import sys

# ---------------------------------------------------------------------------
# HKDF-SHA256 (RFC 5869)


def hkdf_extract(salt, ikm):
    if not salt:
        salt = bytes(32)
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    if length > 255 * 32:
        raise ValueError("HKDF-Expand output too long")
    out = b""
    t = b""
    i = 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def cprf(key, context, length):
    return hkdf_expand(key, bytes([context]), length)


# ---------------------------------------------------------------------------
# X25519 (RFC 7748 section 5)

P25519 = 2**255 - 19
A24 = 121665


def _clamp(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def x25519(k, u):
    """Scalar k (32 bytes) times u-coordinate u (32 bytes) -> 32 bytes."""
    assert len(k) == 32 and len(u) == 32
    scalar = _clamp(k)
    # The top bit of u is ignored; non-canonical values reduce mod p.
    x1 = (int.from_bytes(u, "little") & (2**255 - 1)) % P25519
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    for t in range(254, -1, -1):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = bit
        a = (x2 + z2) % P25519
        aa = a * a % P25519
        b = (x2 - z2) % P25519
        bb = b * b % P25519
        e = (aa - bb) % P25519
        c = (x3 + z3) % P25519
        d = (x3 - z3) % P25519
        da = d * a % P25519
        cb = c * b % P25519
        x3 = (da + cb) ** 2 % P25519
        z3 = x1 * (da - cb) ** 2 % P25519
        x2 = aa * bb % P25519
        z2 = e * (aa + A24 * e) % P25519
    if swap:
        x2, x3 = x3, x2
        z2, z3 = z3, z2
    res = x2 * pow(z2, P25519 - 2, P25519) % P25519
    return res.to_bytes(32, "little")


BASE_U = (9).to_bytes(32, "little")


def x25519_base(k):
    return x25519(k, BASE_U)


# ---------------------------------------------------------------------------
# ChaCha20, original (DJB) variant: 64-bit counter, 64-bit nonce

MASK32 = 0xFFFFFFFF


def _rotl(v, n):
    return ((v << n) & MASK32) | (v >> (32 - n))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & MASK32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & MASK32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & MASK32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & MASK32
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_core(state):
    """The block function on 16 state words -> 64 bytes."""
    w = _chacha_rounds(state)
    return b"".join(((w[i] + state[i]) & MASK32).to_bytes(4, "little")
                    for i in range(16))


def _words(b):
    return [int.from_bytes(b[i:i + 4], "little") for i in range(0, len(b), 4)]


def chacha20_block(key, counter, nonce8):
    assert len(key) == 32 and len(nonce8) == 8 and 0 <= counter < 2**64
    state = ([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + _words(key) +
             [counter & MASK32, counter >> 32] + _words(nonce8))
    return chacha20_core(state)


def keystream(key, offset, length):
    """Keystream bytes [offset, offset + length) of the suite 0x7401
    stream: block floor(o / 64), byte o mod 64, all-zero nonce."""
    if length == 0:
        return b""
    first = offset // 64
    last = (offset + length - 1) // 64
    blocks = b"".join(chacha20_block(key, n, bytes(8))
                      for n in range(first, last + 1))
    skip = offset % 64
    return blocks[skip:skip + length]


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


# ---------------------------------------------------------------------------
# Primitives of protocol version 2: the ChaCha20 rounds alone (HChaCha20),
# AES-128 (FIPS-197), Poly1305 (RFC 8439 section 2.5)


def _chacha_rounds(state):
    """The 20 ChaCha rounds on 16 state words, without the final addition."""
    w = list(state)
    for _ in range(10):
        _quarter(w, 0, 4, 8, 12)
        _quarter(w, 1, 5, 9, 13)
        _quarter(w, 2, 6, 10, 14)
        _quarter(w, 3, 7, 11, 15)
        _quarter(w, 0, 5, 10, 15)
        _quarter(w, 1, 6, 11, 12)
        _quarter(w, 2, 7, 8, 13)
        _quarter(w, 3, 4, 9, 14)
    return w


def hchacha20(key, inp):
    """HChaCha20: key (32 bytes), 16-byte input in state words 12-15;
    output words 0-3 and 12-15 after the rounds (no feed-forward)."""
    assert len(key) == 32 and len(inp) == 16
    w = _chacha_rounds([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] +
                       _words(key) + _words(inp))
    return b"".join(w[i].to_bytes(4, "little") for i in (0, 1, 2, 3, 12, 13, 14, 15))


def _gf_mul(a, b):
    """Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.2)."""
    p = 0
    while b:
        if b & 1:
            p ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return p


def _make_sbox():
    """FIPS-197 5.1.1: multiplicative inverse (0 -> 0), then the affine map."""
    sbox = []
    for x in range(256):
        inv = 0
        if x:
            inv = next(y for y in range(1, 256) if _gf_mul(x, y) == 1)
        s = inv
        for r in range(1, 5):
            s ^= ((inv << r) | (inv >> (8 - r))) & 0xFF
        sbox.append(s ^ 0x63)
    return sbox


AES_SBOX = _make_sbox()
# One round's SubBytes, ShiftRows and MixColumns as table look-ups on 32-bit
# columns (row 0 in the most significant byte): TE[r][x] is the column that
# byte x, after SubBytes, contributes when it sits in row r of the column
# MixColumns multiplies (FIPS-197 5.1.3: column coefficients 02 01 01 03).
_TE0 = [(_gf_mul(s, 2) << 24) | (s << 16) | (s << 8) | _gf_mul(s, 3) for s in AES_SBOX]
_TE = [[((t >> (8 * r)) | (t << (32 - 8 * r))) & MASK32 for t in _TE0] for r in range(4)]
_AES_RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36]


def aes128_expand(key):
    """FIPS-197 5.2 for Nk = 4: the 44 round-key words."""
    assert len(key) == 16
    w = [int.from_bytes(key[i:i + 4], "big") for i in range(0, 16, 4)]
    sb = AES_SBOX
    for i in range(4, 44):
        t = w[i - 1]
        if i % 4 == 0:
            t = ((t << 8) & MASK32) | (t >> 24)                       # RotWord
            t = ((sb[t >> 24] << 24) | (sb[(t >> 16) & 0xFF] << 16) |  # SubWord
                 (sb[(t >> 8) & 0xFF] << 8) | sb[t & 0xFF])
            t ^= _AES_RCON[i // 4 - 1] << 24
        w.append(w[i - 4] ^ t)
    return w


def aes128_encrypt_block(rk, block):
    """FIPS-197 5.1 Cipher() with Nr = 10 on a 16-byte block."""
    t0, t1, t2, t3 = _TE
    sb = AES_SBOX
    s0 = int.from_bytes(block[0:4], "big") ^ rk[0]
    s1 = int.from_bytes(block[4:8], "big") ^ rk[1]
    s2 = int.from_bytes(block[8:12], "big") ^ rk[2]
    s3 = int.from_bytes(block[12:16], "big") ^ rk[3]
    for r in range(1, 10):
        k = 4 * r
        s0, s1, s2, s3 = (
            t0[s0 >> 24] ^ t1[(s1 >> 16) & 0xFF] ^ t2[(s2 >> 8) & 0xFF] ^ t3[s3 & 0xFF] ^ rk[k],
            t0[s1 >> 24] ^ t1[(s2 >> 16) & 0xFF] ^ t2[(s3 >> 8) & 0xFF] ^ t3[s0 & 0xFF] ^ rk[k + 1],
            t0[s2 >> 24] ^ t1[(s3 >> 16) & 0xFF] ^ t2[(s0 >> 8) & 0xFF] ^ t3[s1 & 0xFF] ^ rk[k + 2],
            t0[s3 >> 24] ^ t1[(s0 >> 16) & 0xFF] ^ t2[(s1 >> 8) & 0xFF] ^ t3[s2 & 0xFF] ^ rk[k + 3])
    out = b""
    for a, b, c, d, k in ((s0, s1, s2, s3, rk[40]), (s1, s2, s3, s0, rk[41]),
                          (s2, s3, s0, s1, rk[42]), (s3, s0, s1, s2, rk[43])):
        col = ((sb[a >> 24] << 24) | (sb[(b >> 16) & 0xFF] << 16) |
               (sb[(c >> 8) & 0xFF] << 8) | sb[d & 0xFF]) ^ k
        out += col.to_bytes(4, "big")
    return out


P1305 = 2**130 - 5


def poly1305(key, msg):
    """RFC 8439 section 2.5: one-time authenticator, 32-byte key r | s."""
    assert len(key) == 32
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:], "little")
    acc = 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % P1305
    return ((acc + s) % 2**128).to_bytes(16, "little")


# ---------------------------------------------------------------------------
# The protocol, version 2 (doc/protocol.md sections 3 to 6, 10 and 13)

INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")
SUITE_CHACHA20 = 0x7402
SUITE_AES128 = 0x7403
SUITES = (SUITE_CHACHA20, SUITE_AES128)
SUITE_NAMES = {SUITE_CHACHA20: "chacha20", SUITE_AES128: "aes128"}
ENO_A = bytes.fromhex("4505a07432")
ENO_B = bytes.fromhex("450601a07432")
TRANSCRIPT = ENO_A + ENO_B
FLAG_ACK = 0x10
FLAG_URG = 0x20
GEN_SIZE = 2**30           # G: one generation per GiB of stream offsets
M64 = 2**64


def gen_of(offset):
    """The generation of a 64-bit stream offset: floor(o / G), except that
    2^64 - 1 (S = ISN, a keepalive before the first byte) counts as 0."""
    offset %= M64
    return 0 if offset == M64 - 1 else offset // GEN_SIZE


def tag_index(seq_off, ack_off):
    """t = gen(seq_offset) + gen(ack_offset) (ack_offset 0 without ACK)."""
    return gen_of(seq_off) + gen_of(ack_off)


def init1(nonce, pub, suites=(SUITE_AES128, SUITE_CHACHA20), trailer=b""):
    """Init1 (doc/protocol.md section 4.1); len = the whole message, 77 bytes
    with two suites."""
    body = bytes([len(suites)]) + b"".join(s.to_bytes(2, "big") for s in suites)
    body += nonce + pub + trailer
    return INIT1_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


def init2(nonce, pub, suite):
    """Init2 (doc/protocol.md section 4.2), 74 bytes, naming the suite B chose."""
    body = suite.to_bytes(2, "big") + nonce + pub
    return INIT2_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


def key_schedule(transcript, i1, i2, n_a, es):
    """doc/protocol.md section 5.1 for a fresh key exchange: ss[0] = PRK and
    what follows."""
    prk = hkdf_extract(n_a, transcript + i1 + i2 + es)
    mk = cprf(prk, 0x03, 32)
    return {
        "prk": prk,
        "session_id": b"\xa0" + cprf(prk, 0x02, 32),
        "mk": mk,
        "ss1": cprf(prk, 0x01, 32),
    }


def resumption(ss_i, transcript):
    """doc/protocol.md section 13: what ss[i] and the resumed connection's
    transcript give."""
    r = cprf(ss_i, 0x06, 18)
    return {
        "session_id": b"\xa0" + hkdf_expand(ss_i, b"\x02" + transcript, 32),
        "mk": hkdf_expand(ss_i, b"\x03" + transcript, 32),
        "ss_next": cprf(ss_i, 0x01, 32),
        "r": r, "r_a": r[:9], "r_b": r[9:],
    }


class Chain:
    """One direction's generation chain (doc/protocol.md section 5.2):
    g[0] = CPRF(mk, 0x04 (A -> B) or 0x05 (B -> A), 32),
    g[j] = CPRF(g[j-1], 0x07, 32), and k[j] = CPRF(g[j], 0x08, 80) split into
    K_enc, K_hash, K_prf.  Derived
    on demand and cached (a checker, not the daemon: nothing is wiped)."""

    def __init__(self, mk, direction):
        assert direction in ("ab", "ba")
        self.g = [cprf(mk, 0x04 if direction == "ab" else 0x05, 32)]
        self._k = {}

    def secret(self, j):
        while len(self.g) <= j:
            self.g.append(cprf(self.g[-1], 0x07, 32))
        return self.g[j]

    def keys(self, j):
        """(K_enc, K_hash, K_prf) of generation j."""
        if j not in self._k:
            k = cprf(self.secret(j), 0x08, 80)
            self._k[j] = (k[:32], k[32:48], k[48:80])
        return self._k[j]


_AES_RK = {}


def _aes_ctr_stream(k_enc, offset, length):
    """0x7403: byte o mod 16 of AES-128(K_enc[0..15], (floor(o/16) + C) mod
    2^128), C = K_enc[16..31] big-endian."""
    rk = _AES_RK.get(k_enc[:16])
    if rk is None:
        rk = _AES_RK[k_enc[:16]] = aes128_expand(k_enc[:16])
    c = int.from_bytes(k_enc[16:32], "big")
    first = offset // 16
    last = (offset + length - 1) // 16
    blocks = b"".join(aes128_encrypt_block(rk, ((n + c) % 2**128).to_bytes(16, "big"))
                      for n in range(first, last + 1))
    skip = offset % 16
    return blocks[skip:skip + length]


def suite_keystream(suite, k_enc, offset, length):
    """Keystream bytes [offset, offset + length) of one generation's K_enc
    (block numbers count from offset 0 in every generation)."""
    if length == 0:
        return b""
    if suite == SUITE_CHACHA20:
        return keystream(k_enc, offset, length)
    if suite == SUITE_AES128:
        return _aes_ctr_stream(k_enc, offset, length)
    raise ValueError("unknown suite 0x%04x" % suite)


def keystream_spans(offset, length):
    """[(generation, first, end)] of the bytes [offset, offset + length):
    a payload straddling j*G uses generation j below, j + 1 above."""
    spans = []
    o, end = offset, offset + length
    while o < end:
        j = gen_of(o)
        stop = min(end, (o // GEN_SIZE + 1) * GEN_SIZE)
        spans.append((j, o, stop))
        o = stop
    return spans


def stream_xor(suite, chain, offset, data):
    """Encrypt or decrypt DATA at stream offset OFFSET of CHAIN's direction."""
    ks = b"".join(suite_keystream(suite, chain.keys(j)[0], a, b - a)
                  for j, a, b in keystream_spans(offset, len(data)))
    return xor(data, ks)


def pseudo_header(flags, seq_off, ack_off, payload_len, urg):
    return (bytes([0x02, flags & 0x37]) +
            (seq_off % M64).to_bytes(8, "big") +
            ((ack_off % M64) if flags & FLAG_ACK else 0).to_bytes(8, "big") +
            payload_len.to_bytes(2, "big") +
            (urg if flags & FLAG_URG else 0).to_bytes(2, "big"))


def poly_hchacha_tag(k_hash, k_prf, ph, ct):
    """(h, tag): h = Poly1305(K_hash | 0^16, ph | ct), tag = first 12 bytes
    of HChaCha20(K_prf, h)."""
    h = poly1305(k_hash + bytes(16), ph + ct)
    return h, hchacha20(k_prf, h)[:12]


def segment_tag(chain, flags, seq_off, ack_off, urg, ct):
    """The 12-byte tag of a segment sent on CHAIN's direction."""
    ack = ack_off if flags & FLAG_ACK else 0
    _, k_hash, k_prf = chain.keys(tag_index(seq_off, ack))
    ph = pseudo_header(flags, seq_off, ack, len(ct), urg)
    return poly_hchacha_tag(k_hash, k_prf, ph, ct)[1]


def keylog_es_line(n_a, es):
    return "TCPCRYPT_ES %s %s" % (n_a.hex(), es.hex())


def keylog_ss_line(r_a, ss_i, suite):
    return "TCPCRYPT_SS %s %s %04x" % (r_a.hex(), ss_i.hex(), suite)


# ---------------------------------------------------------------------------
# Self-checks against published vectors


def H(s):
    return bytes.fromhex("".join(s.split()))


def check(name, got, want):
    if got != want:
        sys.exit("self-check FAILED: %s\n  got  %s\n  want %s"
                 % (name, got.hex(), want.hex()))


def selfcheck_hkdf():
    # RFC 5869 appendix A, test cases 1-3 (SHA-256).
    cases = [
        (H("0b" * 22), H("000102030405060708090a0b0c"), H("f0f1f2f3f4f5f6f7f8f9"), 42,
         H("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"),
         H("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
           "34007208d5b887185865")),
        (bytes(range(0x00, 0x50)), bytes(range(0x60, 0xb0)), bytes(range(0xb0, 0x100)), 82,
         H("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"),
         H("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
           "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
           "cc30c58179ec3e87c14c01d5c1f3434f1d87")),
        (H("0b" * 22), b"", b"", 42,
         H("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"),
         H("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
           "9d201395faa4b61a96c8")),
    ]
    for n, (ikm, salt, info, length, prk, okm) in enumerate(cases, 1):
        got_prk = hkdf_extract(salt, ikm)
        check("RFC 5869 case %d PRK" % n, got_prk, prk)
        check("RFC 5869 case %d OKM" % n, hkdf_expand(got_prk, info, length), okm)


def selfcheck_x25519(quick):
    # RFC 7748 section 5.2.
    check("RFC 7748 5.2 #1",
          x25519(H("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                 H("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")),
          H("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"))
    check("RFC 7748 5.2 #2",
          x25519(H("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                 H("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")),
          H("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"))
    # RFC 7748 section 5.2, iterated: k = u = 9; k, u = X25519(k, u), k.
    k = u = BASE_U
    want = {1: H("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"),
            1000: H("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")}
    for i in range(1, 2 if quick else 1001):
        k, u = x25519(k, u), k
        if i in want:
            check("RFC 7748 iterated x%d" % i, k, want[i])
    # RFC 7748 section 6.1, Diffie-Hellman.
    a = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    pa = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    pb = H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    ss = H("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    check("RFC 7748 6.1 Alice pub", x25519_base(a), pa)
    check("RFC 7748 6.1 Bob pub", x25519_base(b), pb)
    check("RFC 7748 6.1 shared A", x25519(a, pb), ss)
    check("RFC 7748 6.1 shared B", x25519(b, pa), ss)


def selfcheck_chacha20():
    # All-zero key and nonce, block 0: the first test vector of the original
    # ChaCha20 (identical in both variants because the state is all zero
    # apart from the constants).
    check("ChaCha20 zero key block 0", chacha20_block(bytes(32), 0, bytes(8)),
          H("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"))
    # RFC 7539 section 2.3.2 block function.  Its state words 12-15 are
    # 1, 0x09000000, 0x4a000000, 0; in the original layout that is the
    # 64-bit counter 0x09000000_00000001 and the nonce 00 00 00 4a 00 00 00 00,
    # which also checks that the counter's high half lands in word 13.
    key = bytes(range(32))
    check("RFC 7539 2.3.2 block",
          chacha20_block(key, 0x0900000000000001, H("0000004a00000000")),
          H("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"))
    # RFC 7539 section 2.4.2 encryption: counter 1, IETF nonce
    # 00000000 0000004a 00000000 = original-layout counter 1 (high word 0)
    # and nonce 00 00 00 4a 00 00 00 00.
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you "
          b"only one tip for the future, sunscreen would be it.")
    ks = b"".join(chacha20_block(key, 1 + i, H("0000004a00000000")) for i in range(2))
    check("RFC 7539 2.4.2 ciphertext", xor(pt, ks),
          H("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
            "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
            "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
            "5af90bbf74a35be6b40b8eedf2785e42874d"))
    # The offset indexing must agree with whole blocks.
    ks = keystream(key, 0, 192)
    check("keystream(0,192) = blocks 0..2", ks,
          b"".join(chacha20_block(key, n, bytes(8)) for n in range(3)))
    check("keystream(70,10)", keystream(key, 70, 10), ks[70:80])


def selfcheck_v2_primitives():
    # FIPS-197 appendix B and appendix C.1 (AES-128).
    check("FIPS-197 B", aes128_encrypt_block(aes128_expand(H("2b7e151628aed2a6abf7158809cf4f3c")),
                                             H("3243f6a8885a308d313198a2e0370734")),
          H("3925841d02dc09fbdc118597196a0b32"))
    check("FIPS-197 C.1", aes128_encrypt_block(aes128_expand(bytes(range(16))),
                                               H("00112233445566778899aabbccddeeff")),
          H("69c4e0d86a7b0430d8cdb78070b4c55a"))
    check("FIPS-197 A.1 last round key",
          b"".join(w.to_bytes(4, "big")
                   for w in aes128_expand(H("2b7e151628aed2a6abf7158809cf4f3c"))[40:]),
          H("d014f9a8c9ee2589e13f0cc8b6630ca6"))
    # NIST SP 800-38A F.5.1 (CTR-AES128), as suite 0x7403 sees it: K_enc =
    # key | initial counter block, so offset 0 is the first counter block.
    k_enc = H("2b7e151628aed2a6abf7158809cf4f3c f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    pt = H("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
           "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710")
    ct = H("874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff"
           "5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee")
    check("SP 800-38A F.5.1", xor(pt, suite_keystream(SUITE_AES128, k_enc, 0, 64)), ct)
    check("SP 800-38A F.5.1 at offset 21", xor(pt[21:50],
                                               suite_keystream(SUITE_AES128, k_enc, 21, 29)),
          ct[21:50])
    # The whole 128-bit counter block is incremented: from C = 2^128 - 1 the
    # next block is 0.
    top = bytes(16) + b"\xff" * 16
    rk0 = aes128_expand(bytes(16))
    check("AES-CTR counter wrap", suite_keystream(SUITE_AES128, top, 0, 32),
          aes128_encrypt_block(rk0, b"\xff" * 16) + aes128_encrypt_block(rk0, bytes(16)))
    # RFC 8439 section 2.5.2 (Poly1305).
    check("RFC 8439 2.5.2", poly1305(
        H("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b"),
        b"Cryptographic Forum Research Group"), H("a8061dc1305136c6c22b8baf0c0127a9"))
    check("Poly1305 zero key", poly1305(bytes(32), bytes(64)), bytes(16))
    # draft-irtf-cfrg-xchacha section 2.2.1 (HChaCha20).
    check("HChaCha20 2.2.1", hchacha20(bytes(range(32)), H("000000090000004a0000000031415927")),
          H("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"))
    # Generations and the tag index (doc/protocol.md sections 6.1 and 6.5).
    for o, want in ((0, 0), (GEN_SIZE - 1, 0), (GEN_SIZE, 1), (2**38 - 30, 255),
                    (M64 - 2, (M64 - 2) // GEN_SIZE), (M64 - 1, 0), (-1, 0)):
        if gen_of(o) != want:
            sys.exit("self-check FAILED: gen_of(%d) = %d, want %d" % (o, gen_of(o), want))
    if keystream_spans(GEN_SIZE - 37, 100) != [(0, GEN_SIZE - 37, GEN_SIZE),
                                                (1, GEN_SIZE, GEN_SIZE + 63)]:
        sys.exit("self-check FAILED: keystream_spans across 2^30")


V2_JSON = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocol-v2.json")


def selfcheck_v2_json(path=V2_JSON):
    """Recompute every value of protocol-v2.json from its fixed inputs;
    return the number of values compared.  Exits on the first section that
    has mismatches, listing all of them."""
    import json
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    bad = []
    count = [0]

    def cmp(name, got, want):
        count[0] += 1
        if isinstance(got, (bytes, bytearray)):
            got = got.hex()
        if got != want:
            bad.append("%s: computed %s, vector %s" % (name, got, want))

    def done(section):
        if bad:
            sys.exit("self-check FAILED against %s, section %s:\n  %s"
                     % (path, section, "\n  ".join(bad)))

    if v.get("protocol") != "t2" or v.get("generation_size") != GEN_SIZE:
        sys.exit("self-check FAILED: %s is not a t2 vector file with G = 2^30" % path)

    # (a) key_schedule: a fresh key exchange.
    ks = v["key_schedule"]
    priv_a, priv_b = H(ks["a_private"]), H(ks["b_private"])
    n_a, n_b = H(ks["n_a"]), H(ks["n_b"])
    pub_a, pub_b = x25519_base(priv_a), x25519_base(priv_b)
    es = x25519(priv_a, pub_b)
    cmp("key_schedule.pub_a", pub_a, ks["pub_a"])
    cmp("key_schedule.pub_b", pub_b, ks["pub_b"])
    cmp("key_schedule.es (A)", es, ks["es"])
    cmp("key_schedule.es (B)", x25519(priv_b, pub_a), ks["es"])
    cmp("key_schedule.eno_a", ENO_A, ks["eno_a"])
    cmp("key_schedule.eno_b", ENO_B, ks["eno_b"])
    cmp("key_schedule.transcript", TRANSCRIPT, ks["transcript"])
    offered = tuple(int(s, 16) for s in ks["suites_offered"])
    # B picks the first suite of A's list that it supports (both, here).
    chosen = next(s for s in offered if s in SUITES)
    cmp("key_schedule.suite", "0x%04x" % chosen, ks["suite"])
    i1 = init1(n_a, pub_a, suites=offered)
    i2 = init2(n_b, pub_b, chosen)
    cmp("key_schedule.init1", i1, ks["init1"])
    cmp("key_schedule.init2", i2, ks["init2"])
    sched = key_schedule(TRANSCRIPT, i1, i2, n_a, es)
    for name in ("prk", "session_id", "mk", "ss1"):
        cmp("key_schedule." + name, sched[name], ks[name])
    chains = {("key_schedule", d): Chain(sched["mk"], d) for d in ("ab", "ba")}
    for d in ("ab", "ba"):
        ch = chains[("key_schedule", d)]
        for j, g in enumerate(ks["g_" + d]):
            cmp("key_schedule.g_%s[%d]" % (d, j), ch.secret(j), g)
        for j, k in enumerate(ks["k_" + d]):
            for n, val in zip(("k_enc", "k_hash", "k_prf"), ch.keys(j)):
                cmp("key_schedule.k_%s[%d].%s" % (d, j, n), val, k[n])
    cmp("key_schedule.keylog_line", keylog_es_line(n_a, es), ks["keylog_line"])
    done("key_schedule")

    # (c) resumption with ss[1] of key_schedule (computed before (b): two
    # segments of data_protection use its keys).
    rs = v["resumption"]
    ss1 = sched["ss1"]
    r1 = resumption(ss1, b"")
    cmp("resumption.ss1", ss1, rs["ss1"])
    cmp("resumption.ss2", r1["ss_next"], rs["ss2"])
    cmp("resumption.r1", r1["r"], rs["r1"])
    cmp("resumption.r_a", r1["r_a"], rs["r_a"])
    cmp("resumption.r_b", r1["r_b"], rs["r_b"])
    eno_a = bytes.fromhex("4512a07432") + r1["r_a"] + H(rs["n_a"])
    eno_b = bytes.fromhex("451301a07432") + r1["r_b"] + H(rs["n_b"])
    cmp("resumption.eno_a", eno_a, rs["eno_a"])
    cmp("resumption.eno_b", eno_b, rs["eno_b"])
    cmp("resumption.eno_b_declined", ENO_B, rs["eno_b_declined"])
    cmp("resumption.transcript", eno_a + eno_b, rs["transcript"])
    res = resumption(ss1, eno_a + eno_b)
    cmp("resumption.session_id", res["session_id"], rs["session_id"])
    cmp("resumption.mk", res["mk"], rs["mk"])
    for d in ("ab", "ba"):
        ch = chains[("resumption", d)] = Chain(res["mk"], d)
        for j, g in enumerate(rs["g_" + d]):
            cmp("resumption.g_%s[%d]" % (d, j), ch.secret(j), g)
        for j, k in enumerate(rs["k_" + d]):
            for n, val in zip(("k_enc", "k_hash", "k_prf"), ch.keys(j)):
                cmp("resumption.k_%s[%d].%s" % (d, j, n), val, k[n])
    r2 = resumption(r1["ss_next"], b"")
    cmp("resumption.r2_a", r2["r_a"], rs["r2_a"])
    cmp("resumption.r2_b", r2["r_b"], rs["r2_b"])
    cmp("resumption.keylog_line", keylog_ss_line(r1["r_a"], ss1, chosen), rs["keylog_line"])
    done("resumption")

    # (b) data_protection: every segment under both suites.
    for n, s in enumerate(v["data_protection"]):
        where = "data_protection[%d] (%s, %s)" % (n, s["suite"], s["name"])
        suite = int(s["suite"], 16)
        ch = chains[(s["keys"], s["direction"])]
        flags, seq, ack, urg = s["flags"], s["seq_offset"], s["ack_offset"], s["urgent_pointer"]
        pt = H(s["plaintext"])
        cmp(where + " payload_length", len(pt), s["payload_length"])
        spans = keystream_spans(seq, len(pt))
        cmp(where + " keystream_generations",
            [[j, ch.keys(j)[0].hex(), a, b] for j, a, b in spans],
            [[g["generation"], g["k_enc"], g["first_offset"], g["end_offset"]]
             for g in s["keystream_generations"]])
        ks_bytes = b"".join(suite_keystream(suite, ch.keys(j)[0], a, b - a) for j, a, b in spans)
        ct = stream_xor(suite, ch, seq, pt)
        cmp(where + " keystream", ks_bytes, s["keystream"])
        cmp(where + " ciphertext", ct, s["ciphertext"])
        t = tag_index(seq, ack if flags & FLAG_ACK else 0)
        cmp(where + " tag_index", t, s["tag_index"])
        _, k_hash, k_prf = ch.keys(t)
        cmp(where + " k_hash", k_hash, s["k_hash"])
        cmp(where + " k_prf", k_prf, s["k_prf"])
        ph = pseudo_header(flags, seq, ack, len(ct), urg)
        cmp(where + " pseudo_header", ph, s["pseudo_header"])
        h, tag = poly_hchacha_tag(k_hash, k_prf, ph, ct)
        cmp(where + " poly1305_hash", h, s["poly1305_hash"])
        cmp(where + " tag", tag, s["tag"])
        cmp(where + " segment_tag", segment_tag(ch, flags, seq, ack, urg, ct), s["tag"])
        cmp(where + " mac_option", b"\xfd\x10\x74\x63" + tag, s["mac_option"])
    done("data_protection")
    return count[0], len(v["data_protection"])


# ---------------------------------------------------------------------------
# Deterministic inputs for other tests' crafted connections


def drbg(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"tcpcryptd-vectors|%s|%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


def selfcheck(quick):
    selfcheck_hkdf()
    selfcheck_chacha20()
    selfcheck_x25519(quick)
    selfcheck_v2_primitives()
    print("self-checks passed (RFC 5869, RFC 7748%s, ChaCha20/RFC 7539, FIPS-197, "
          "SP 800-38A CTR, RFC 8439 Poly1305, HChaCha20)"
          % (" without iterations" if quick else ""))
    values, segments = selfcheck_v2_json()
    print("protocol-v2.json: all %d values match (key schedule, %d data protection "
          "segments, resumption)" % (values, segments))


def main(argv):
    quick = "--quick" in argv
    if any(a not in ("--quick", "--check") for a in argv):
        sys.exit(__doc__)
    selfcheck(quick)


if __name__ == "__main__":
    main(sys.argv[1:])
