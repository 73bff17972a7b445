#!/usr/bin/env python3
"""Known-answer vectors for tcpcryptd's crypto (PROTOCOL.md sections 2-4).

This is a second, independent implementation of the key exchange, the key
schedule and the data protection of suite 0x7401, written from the protocol
text alone: pure Python 3, standard library only (hashlib, hmac), with its
own X25519 (RFC 7748 Montgomery ladder) and original ChaCha20 (64-bit block
counter in state words 12-13, 64-bit nonce in words 14-15).  It never reads
or runs the C code.  Before writing anything it checks itself against the
published test vectors of RFC 5869, RFC 7748 and ChaCha20, and refuses to
write files if any check fails.

Usage: python3 tests/vectors/gen_vectors.py [--quick] [OUTDIR]
  --quick   skip the 1000-iteration RFC 7748 check (a few seconds)
  OUTDIR    defaults to the directory holding this script

Output is deterministic: all "random" inputs come from SHA-256 of fixed
labels, so rerunning rewrites identical files.
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
# The protocol (PROTOCOL.md sections 2-4)

INIT1_MAGIC = bytes.fromhex("15101a0e")
INIT2_MAGIC = bytes.fromhex("097105e0")
SUITE_V1 = 0x7401
ENO_A = bytes.fromhex("4505a07431")
ENO_B = bytes.fromhex("450601a07431")
TRANSCRIPT = ENO_A + ENO_B


def init1(nonce, pub, suites=(SUITE_V1,), trailer=b""):
    body = bytes([len(suites)]) + b"".join(s.to_bytes(2, "big") for s in suites)
    body += nonce + pub + trailer
    return INIT1_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


def init2(nonce, pub, suite=SUITE_V1):
    body = suite.to_bytes(2, "big") + nonce + pub
    return INIT2_MAGIC + (8 + len(body)).to_bytes(4, "big") + body


def key_schedule(transcript, i1, i2, n_a, es):
    prk = hkdf_extract(n_a, transcript + i1 + i2 + es)
    mk = cprf(prk, 0x03, 32)
    return {
        "prk": prk,
        "session_id": b"\xa0" + cprf(prk, 0x02, 32),
        "mk": mk,
        "k_ab": cprf(mk, 0x04, 64),
        "k_ba": cprf(mk, 0x05, 64),
        "ss1": cprf(prk, 0x01, 32),
    }


FLAG_ACK = 0x10
FLAG_URG = 0x20


def pseudo_header(flags, seq_off, ack_off, payload_len, urg):
    return (bytes([0x01, flags & 0x37]) +
            seq_off.to_bytes(8, "big") +
            (ack_off if flags & FLAG_ACK else 0).to_bytes(8, "big") +
            payload_len.to_bytes(2, "big") +
            (urg if flags & FLAG_URG else 0).to_bytes(2, "big"))


def seal_tag(k_mac, ph, ct):
    return hashlib.blake2b(ph + ct, digest_size=16, key=k_mac).digest()[:12]


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


# ---------------------------------------------------------------------------
# Vector generation


def drbg(label, n):
    """n deterministic pseudo-random bytes named by label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"tcpcryptd-vectors|%s|%d" % (label.encode(), i)).digest()
        i += 1
    return out[:n]


def fmt_case(fields):
    lines = []
    for name, value in fields:
        if isinstance(value, (bytes, bytearray)):
            value = value.hex()
        lines.append(("%s = %s" % (name, value)).rstrip())
    return "\n".join(lines) + "\n"


def write_file(path, header, cases):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for line in header.strip("\n").split("\n"):
            f.write(("# " + line).rstrip() + "\n")
        for c in cases:
            f.write("\n")
            f.write(fmt_case(c))
    print("wrote %s (%d cases)" % (path, len(cases)))


COMMON_FORMAT = """\
Generated by tests/vectors/gen_vectors.py (independent pure-Python
implementation of PROTOCOL.md); regenerate with
    python3 tests/vectors/gen_vectors.py
Do not edit by hand.

Format: lines starting with '#' are comments.  A case is a run of
"name = value" lines; cases are separated by one or more blank lines.
Byte strings are lower-case hex (possibly empty); integers are decimal,
or hex with a 0x prefix.
"""

KX_HEADER = COMMON_FORMAT + """
Key exchange and key schedule (PROTOCOL.md sections 2 and 3).
  variant      "standard": init1/init2 are exactly what kx_init1_encode and
               kx_init2_encode produce from n_a/pub_a and n_b/pub_b.
               "peer-init1": init1 is a message from another implementation
               (several suites, trailing bytes); it must parse to n_a/pub_a
               and is hashed as given.
  priv_a priv_b  X25519 private keys (unclamped bytes)
  pub_a pub_b    X25519(priv, 9)
  n_a n_b        nonces
  transcript   A's ENO option | B's ENO option
  init1 init2  the Init messages, all len bytes
  es           X25519(priv_a, pub_b) = X25519(priv_b, pub_a)
  prk          HKDF-Extract(salt = n_a, transcript | init1 | init2 | es)
  session_id   0xa0 | CPRF(prk, 0x02, 32)
  mk           CPRF(prk, 0x03, 32)
  k_ab k_ba    CPRF(mk, 0x04, 64), CPRF(mk, 0x05, 64)
  ss1          CPRF(prk, 0x01, 32)
"""

KS_HEADER = COMMON_FORMAT + """
Keystream of suite 0x7401 (PROTOCOL.md section 4): the byte at stream
offset o is XORed with byte o mod 64 of original-ChaCha20 block o div 64
under k_enc with the all-zero 64-bit nonce.
  k_enc        32-byte key
  offset       stream offset of the first byte
  plaintext    input bytes
  ciphertext   plaintext XOR keystream[offset, offset + len)
"""

MAC_HEADER = COMMON_FORMAT + """
Segment tag of suite 0x7401 (PROTOCOL.md section 4).
  k_mac        32-byte key
  flags        raw TCP flags byte as on the segment (not yet masked)
  seq_off ack_off payload_len urg_ptr
               as on the segment; ack_off is ignored when ACK (0x10) is
               clear and urg_ptr when URG (0x20) is clear
  pseudo_header  the 22 bytes actually hashed
  ciphertext   the payload (payload_len bytes)
  tag          first 12 bytes of BLAKE2b(key = k_mac, outlen = 16,
               pseudo_header | ciphertext)
"""


def kx_case(label, priv_a, priv_b, n_a, n_b, peer_init1=False):
    pub_a, pub_b = x25519_base(priv_a), x25519_base(priv_b)
    if peer_init1:
        i1 = init1(n_a, pub_a, suites=(0x1234, 0x7402, SUITE_V1),
                   trailer=drbg(label + "/trailer", 7))
    else:
        i1 = init1(n_a, pub_a)
        assert len(i1) == 75
    i2 = init2(n_b, pub_b)
    assert len(i2) == 74
    es = x25519(priv_a, pub_b)
    assert es == x25519(priv_b, pub_a) and es != bytes(32)
    ks = key_schedule(TRANSCRIPT, i1, i2, n_a, es)
    return [
        ("variant", "peer-init1" if peer_init1 else "standard"),
        ("priv_a", priv_a), ("priv_b", priv_b),
        ("pub_a", pub_a), ("pub_b", pub_b),
        ("n_a", n_a), ("n_b", n_b),
        ("transcript", TRANSCRIPT),
        ("init1", i1), ("init2", i2),
        ("es", es), ("prk", ks["prk"]), ("session_id", ks["session_id"]),
        ("mk", ks["mk"]), ("k_ab", ks["k_ab"]), ("k_ba", ks["k_ba"]),
        ("ss1", ks["ss1"]),
    ]


def kx_cases():
    cases = []
    for i in range(3):
        lab = "kx%d" % i
        cases.append(kx_case(lab, drbg(lab + "/priv_a", 32), drbg(lab + "/priv_b", 32),
                             drbg(lab + "/n_a", 32), drbg(lab + "/n_b", 32)))
    # RFC 7748's Alice and Bob as A and B, with patterned nonces.
    cases.append(kx_case(
        "kx-rfc7748",
        H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
        H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
        bytes(range(32)), bytes(range(32, 64))))
    lab = "kx-peer"
    cases.append(kx_case(lab, drbg(lab + "/priv_a", 32), drbg(lab + "/priv_b", 32),
                         drbg(lab + "/n_a", 32), drbg(lab + "/n_b", 32),
                         peer_init1=True))
    return cases


def ks_cases():
    # (offset, length, zero plaintext?)  Chosen to hit: block-aligned and
    # unaligned starts and ends, one-byte segments, Init boundaries (74/75),
    # MSS-sized segments, the 2^32 byte offset (32-bit sequence wrap), the
    # 2^32 block counter (offset 2^38, where a 32-bit counter would wrap),
    # and large 64-bit offsets.
    specs = [
        (0, 1, False), (0, 64, True), (0, 1500, False), (1, 63, False),
        (1, 1, False), (63, 1, False), (63, 2, False), (63, 130, True),
        (64, 64, False), (64, 1448, False), (74, 1, False), (75, 1460, False),
        (75, 100, False), (1000, 537, False), (1000, 1, False),
        (2**32 - 5, 10, False), (2**32 - 5, 1400, False), (2**32 - 64, 64, True),
        (2**38 - 5, 200, False), (2**38 - 64, 128, True), (2**38, 3, False),
        (2**40 + 17, 1459, False), (2**40 + 17, 47, False),
        (2**63 + 100, 900, False), (2**64 - 1000, 1000, False),
    ]
    cases = []
    for n, (off, length, zero) in enumerate(specs):
        lab = "ks%d" % n
        key = drbg(lab + "/k_enc", 32)
        pt = bytes(length) if zero else drbg(lab + "/pt", length)
        ct = xor(pt, keystream(key, off, length))
        cases.append([("k_enc", key), ("offset", off),
                      ("plaintext", pt), ("ciphertext", ct)])
    return cases


def mac_cases():
    FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
    # (flags, seq_off, ack_off, payload_len, urg_ptr)
    specs = [
        (ACK, 75, 74, 0, 0),                          # pure ACK, no payload
        (ACK | PSH, 75, 74, 100, 0),                  # PSH must be masked off
        (ACK | PSH | ECE | CWR, 75, 74, 100, 0),      # same tag as the previous
        (ACK, 75, 74, 100, 0),                        # same tag again
        (PSH, 75, 0x1122334455667788, 20, 0),         # ACK clear: ack_off ignored
        (PSH, 75, 0, 20, 0),                          # same tag as the previous
        (ACK | URG, 2**32 + 3, 9999, 33, 7),          # URG set: urg_ptr covered
        (ACK, 2**32 + 3, 9999, 33, 7),                # URG clear: urg_ptr ignored
        (ACK, 2**32 + 3, 9999, 33, 0),                # same tag as the previous
        (ACK | FIN, 2**40 + 17, 2**33 + 1, 1, 0),
        (ACK | RST, 12345, 54321, 0, 0),
        (RST, 12345, 54321, 0, 0),
        (0xff, 2**64 - 1, 2**64 - 2, 1460, 0xffff),   # every flag, extreme values
        (ACK | PSH, 1000000, 2000000, 1448, 0),
    ]
    cases = []
    for n, (flags, seq, ack, plen, urg) in enumerate(specs):
        # Pairs that must give equal tags share key and payload.
        lab = "mac-shared" if n < 9 else "mac%d" % n
        key = drbg(lab + "/k_mac", 32)
        ct = drbg(lab + "/ct", plen)
        ph = pseudo_header(flags, seq, ack, plen, urg)
        cases.append([("k_mac", key), ("flags", "0x%02x" % flags),
                      ("seq_off", seq), ("ack_off", ack),
                      ("payload_len", plen), ("urg_ptr", urg),
                      ("pseudo_header", ph), ("ciphertext", ct),
                      ("tag", seal_tag(key, ph, ct))])
    # The masking rules, restated as equalities between cases, so a
    # mistake in pseudo_header() cannot slip into the files unnoticed.
    tags = [dict(c)["tag"] for c in cases]
    assert tags[1] == tags[2] == tags[3]       # PSH, ECE, CWR not covered
    assert tags[4] == tags[5]                  # ack_off ignored without ACK
    assert tags[7] == tags[8] != tags[6]       # urg_ptr ignored without URG
    assert tags[10] != tags[11]                # ACK itself is covered
    assert len(set(tags)) == len(tags) - 4
    return cases


def main(argv):
    quick = "--quick" in argv
    args = [a for a in argv if a != "--quick"]
    outdir = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    selfcheck_hkdf()
    selfcheck_chacha20()
    selfcheck_x25519(quick)
    print("self-checks passed (RFC 5869, RFC 7748%s, ChaCha20/RFC 7539)"
          % (" without iterations" if quick else ""))
    write_file(os.path.join(outdir, "kx.txt"), KX_HEADER, kx_cases())
    write_file(os.path.join(outdir, "keystream.txt"), KS_HEADER, ks_cases())
    write_file(os.path.join(outdir, "mac.txt"), MAC_HEADER, mac_cases())


if __name__ == "__main__":
    main(sys.argv[1:])
