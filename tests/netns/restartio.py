#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""restartio: one TCP connection that outlives a daemon restart, or not.

  restartio.py recv ADDR PORT
      Accepts one connection, reads until EOF, closes.  Prints
      "recv BYTES SHA256", or "error ERRNONAME" if the connection failed.
  restartio.py send ADDR PORT MARKER GATE
      Connects and sends lines "MARKER NNNNNNNN\\n" every 5 ms until the file
      GATE exists (at most 60 s), then closes its side and waits for the
      peer's EOF.  Prints "progress N" after line 20 (so a test can wait for
      the connection to be up), then "sent BYTES SHA256", or
      "error ERRNONAME" if the connection failed.

Exit status 0 when the connection ended normally, 3 when it failed (the
errno name says how: a test expecting a reset checks for ECONNRESET),
2 on usage errors.
"""

import errno
import hashlib
import os
import socket
import sys
import time

from netsock import one_connection


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__


def recv(addr, port):
    c = one_connection(True, addr, port)
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
    except OSError as e:
        print("error %s" % errname(e), flush=True)
        return 3
    c.close()
    print("recv %d %s" % (n, h.hexdigest()), flush=True)
    return 0


def send(addr, port, marker, gate):
    h = hashlib.sha256()
    n = 0
    i = 0
    try:
        s = one_connection(False, addr, port, connect_timeout=10)
        deadline = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < deadline:
            line = ("%s %08d\n" % (marker, i)).encode()
            s.sendall(line)
            h.update(line)
            n += len(line)
            i += 1
            if i == 20:
                print("progress %d" % i, flush=True)
            time.sleep(0.005)
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass
        s.close()
    except OSError as e:
        print("error %s" % errname(e), flush=True)
        return 3
    print("sent %d %s" % (n, h.hexdigest()), flush=True)
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "recv":
        return recv(argv[2], int(argv[3]))
    if len(argv) == 6 and argv[1] == "send":
        return send(argv[2], int(argv[3]), argv[4], argv[5])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
