#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""flowcount: count the flows tcpcryptd lists on its control socket
(doc/control.md, "list"), per state (python3 stdlib only).

  flowcount.py SOCKET [--timeout S]

Prints one line: "count=N listed=L STATE=K ..." where N is the count from
the final "ok count=N" line, L the number of "flow" records read (they must
agree) and one STATE=K per state seen, sorted by name.  Exit status 0 on
success, 1 when the daemon cannot be reached or the answer is malformed.
"""

import socket
import sys


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--timeout"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    timeout = float(argv[3]) if len(argv) == 4 else 20.0
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(argv[1])
        s.sendall(b"list\n")
        buf = b""
        states = {}
        listed = 0
        final = None
        while final is None:
            d = s.recv(1 << 20)
            if not d:
                break
            buf += d
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                if line.startswith(b"flow "):
                    listed += 1
                    for kv in line.split(b" ")[1:]:
                        if kv.startswith(b"state="):
                            st = kv[6:].decode()
                            states[st] = states.get(st, 0) + 1
                            break
                elif line.startswith((b"ok", b"error")):
                    final = line.decode()
                    break
        s.close()
    except OSError as e:
        print("flowcount: %s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    if final is None or not final.startswith("ok count="):
        print("flowcount: no 'ok count=N' line (got %r)" % final, file=sys.stderr)
        return 1
    count = int(final.split("count=")[1].split()[0])
    if count != listed:
        print("flowcount: ok count=%d but %d flow records" % (count, listed), file=sys.stderr)
        return 1
    print(" ".join(["count=%d listed=%d" % (count, listed)]
                   + ["%s=%d" % (k, v) for k, v in sorted(states.items())]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
