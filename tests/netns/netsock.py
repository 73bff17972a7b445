# SPDX-License-Identifier: BSD-2-Clause
"""netsock: the single connection a test program makes (python3 stdlib only).

  one_connection(listen, addr, port, connect_timeout=20, accept_timeout=None)

With listen, binds ADDR:PORT (IPv6 when ADDR has a colon), accepts one
connection and closes the listener; else connects to ADDR:PORT.  Returns
the connected socket in blocking mode; callers set their own timeouts.
"""

import socket


def one_connection(listen, addr, port, connect_timeout=20, accept_timeout=None):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    if not listen:
        sock = socket.create_connection((addr, port), timeout=connect_timeout)
        sock.settimeout(None)
        return sock
    ls = socket.socket(family, socket.SOCK_STREAM)
    try:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        ls.bind((addr, port))
        ls.listen(1)
        ls.settimeout(accept_timeout)
        sock, _ = ls.accept()
    finally:
        ls.close()
    sock.settimeout(None)
    return sock
