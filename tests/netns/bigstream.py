#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""bigstream: one TCP connection carrying BYTES each way at once, without
files: each end sends a deterministic pseudo-random stream and hashes what
it receives.

  bigstream.py serve ADDR PORT BYTES SEED
  bigstream.py connect ADDR PORT BYTES SEED

Prints "sent SHA256" and "received SHA256 BYTES" lines; the test compares
one end's "sent" with the other end's "received".  Exit status 0 when
BYTES were sent and BYTES received, 1 otherwise.
"""

import hashlib
import random
import socket
import sys
import threading

from netsock import one_connection

CHUNK = 1 << 20


def sender(sock, nbytes, seed, out):
    rng = random.Random(seed)
    h = hashlib.sha256()
    left = nbytes
    block = rng.randbytes(CHUNK)
    i = 0
    while left > 0:
        # A fresh block every 64 MiB keeps generation cheap and the stream
        # far from periodic at TCP's scale.
        if i % 64 == 63:
            block = rng.randbytes(CHUNK)
        b = block[:min(CHUNK, left)]
        sock.sendall(b)
        h.update(b)
        left -= len(b)
        i += 1
    sock.shutdown(socket.SHUT_WR)
    out["sent"] = h.hexdigest()


def main(argv):
    if len(argv) != 6 or argv[1] not in ("serve", "connect"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, addr, port, nbytes, seed = argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5]
    sock = one_connection(mode == "serve", addr, port, connect_timeout=30)
    out = {}
    t = threading.Thread(target=sender, args=(sock, nbytes, seed + mode, out))
    t.start()
    h = hashlib.sha256()
    got = 0
    while True:
        b = sock.recv(CHUNK)
        if not b:
            break
        h.update(b)
        got += len(b)
    t.join()
    sock.close()
    print("sent %s" % out.get("sent", "-"))
    print("received %s %d" % (h.hexdigest(), got))
    return 0 if got == nbytes and "sent" in out else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
