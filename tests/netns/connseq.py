#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""connseq: N TCP conversations in a row over one listener, for the system
tests (python3 stdlib only): starting a program per connection would cost
more than the connections.

  connseq.py serve   ADDR PORT --count N --send FILE --recv PREFIX
  connseq.py connect ADDR PORT --count N --send FILE --recv PREFIX

Each conversation sends FILE and reads the peer's bytes into PREFIX-I
(I = 1..N) at the same time, as tcpio.py --order both does.  The server
binds and listens once, prints "listening" on stdout, then accepts N
connections one after the other.  Exit status 0 when all N completed.
"""

import argparse
import socket
import sys

sys.dont_write_bytecode = True

from tcpio import converse  # noqa: E402  pylint: disable=wrong-import-position


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("serve", "connect"))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--send", required=True)
    p.add_argument("--recv", required=True)
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    fam = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    ls = None
    if args.mode == "serve":
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((args.addr, args.port))
        ls.listen(args.count)
        ls.settimeout(args.timeout)
        print("listening", flush=True)
    for i in range(1, args.count + 1):
        if ls is not None:
            sock, _ = ls.accept()
        else:
            sock = socket.create_connection((args.addr, args.port), timeout=args.timeout)
        sock.settimeout(args.timeout)
        conv = argparse.Namespace(order="both", send=args.send, recv="%s-%d" % (args.recv, i))
        with sock:
            converse(sock, conv)
    if ls is not None:
        ls.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, socket.timeout) as e:
        print("connseq: %s" % e, file=sys.stderr)
        sys.exit(1)
