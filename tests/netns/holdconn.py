#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""holdconn: keep one TCP connection open across a change made by the test.

  holdconn.py ADDR PORT GATE MSG1 MSG2

Connects, sends MSG1 and a newline, then waits (polling, at most 30 s) until
the file GATE exists, sends MSG2 and a newline and closes.  Prints
"connected" on stdout once MSG1 is sent, so the test can wait for it.
Exit status 0 on success, 1 on any socket error (with a message).
"""

import os
import socket
import sys
import time


def main(argv):
    if len(argv) != 6:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    addr, port, gate, msg1, msg2 = argv[1], int(argv[2]), argv[3], argv[4], argv[5]
    try:
        s = socket.create_connection((addr, port), timeout=20)
        s.sendall(msg1.encode() + b"\n")
        print("connected", flush=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(gate):
            if time.monotonic() > deadline:
                print("holdconn: gate %s never appeared" % gate, file=sys.stderr)
                return 1
            time.sleep(0.05)
        s.sendall(msg2.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
    except OSError as e:
        print("holdconn: %s:%d: %s" % (addr, port, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
