#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""tcpio: one TCP conversation with a fixed order of speaking, for the
system tests (python3 stdlib only).

  tcpio.py serve  ADDR PORT [--send FILE] [--recv FILE] [--order ORDER]
  tcpio.py connect ADDR PORT [--send FILE] [--recv FILE] [--order ORDER]

ORDER says what this end does with the connection:
  send-first  send FILE, half-close (SHUT_WR), then read until EOF
  recv-first  read until the peer half-closes, then send FILE and half-close
  both        send and read at the same time (a thread sends)

socat closes a connection half a second after one direction ends; these
orders need the other direction to go on, hence this helper.  The server
accepts exactly one connection and exits.  Exit status 0 on success.
"""

import argparse
import socket
import sys
import threading

from netsock import one_connection

CHUNK = 256 * 1024


def send_file(sock, path):
    if path:
        with open(path, "rb") as f:
            while True:
                b = f.read(CHUNK)
                if not b:
                    break
                sock.sendall(b)
    sock.shutdown(socket.SHUT_WR)


def recv_file(sock, path):
    out = open(path, "wb") if path else None
    try:
        while True:
            b = sock.recv(CHUNK)
            if not b:
                return
            if out:
                out.write(b)
    finally:
        if out:
            out.close()


def converse(sock, args):
    if args.order == "send-first":
        send_file(sock, args.send)
        recv_file(sock, args.recv)
    elif args.order == "recv-first":
        recv_file(sock, args.recv)
        send_file(sock, args.send)
    else:
        err = []

        def sender():
            try:
                send_file(sock, args.send)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=sender)
        t.start()
        recv_file(sock, args.recv)
        t.join()
        if err:
            raise err[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("serve", "connect"))
    p.add_argument("addr")
    p.add_argument("port", type=int)
    p.add_argument("--send")
    p.add_argument("--recv")
    p.add_argument("--order", default="both", choices=("send-first", "recv-first", "both"))
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    sock = one_connection(args.mode == "serve", args.addr, args.port,
                          accept_timeout=args.timeout)
    sock.settimeout(args.timeout)
    with sock:
        converse(sock, args)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, socket.timeout) as e:
        print("tcpio: %s" % e, file=sys.stderr)
        sys.exit(1)
