#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""connload: many TCP connections with a checked request/response, for the
flood and scale tests (python3 stdlib only, asyncio).

  connload.py serve ADDR PORT [--backlog N]
  connload.py one   ADDR PORT [--size BYTES] [--timeout S]
  connload.py hold  ADDR PORT --count N [--batch B] --ready FILE --stop FILE
                    [--timeout S]
  connload.py churn ADDR PORT --count N [--rate PER_S] [--concurrency C]
                    [--timeout S]

The protocol: the client sends a 4-byte big-endian length and that many
bytes; the server answers with the SHA-256 of those bytes in hex and a
newline, then waits for the next request or EOF.  The client compares the
answer with the hash of what it sent, so every exchange proves the bytes
arrived intact both ways.

serve   accepts any number of connections until killed.
one     one connection, one exchange of BYTES random bytes (default 256 KiB);
        prints "ok LOCALPORT SHA256".
hold    opens N connections, B connects in flight at a time (default 200),
        one small exchange on each; then writes "N" to FILE (--ready) and
        keeps them all open until the --stop file appears; then a second
        exchange on every one of them and closes them all.  Prints
        "held N", "second exchange ok N".
churn   N connections, each: connect, one small exchange, close (the client
        closes first); started at most RATE per second (default: no limit),
        at most C in flight (default 100).  Prints "churn N ok, F failed in
        S s".

The open-file limit is raised to 1048576 (or what the hard limit allows)
first.  Exit status 0 when every connection and exchange succeeded, 1
otherwise (the first failures are printed on stderr).
"""

import argparse
import asyncio
import hashlib
import os
import resource
import socket
import struct
import sys
import time

REPLY_LEN = 65


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (1048576, 262144, 65536):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            return
        except (ValueError, OSError):
            continue
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def exchange(reader, writer, payload):
    writer.write(struct.pack("!I", len(payload)) + payload)
    await writer.drain()
    line = await reader.readexactly(REPLY_LEN)
    want = hashlib.sha256(payload).hexdigest().encode() + b"\n"
    if line != want:
        raise RuntimeError("reply %r, want %r" % (line, want))
    return want[:64].decode()


async def serve(a):
    async def handle(reader, writer):
        try:
            while True:
                try:
                    hdr = await reader.readexactly(4)
                except asyncio.IncompleteReadError:
                    break
                (n,) = struct.unpack("!I", hdr)
                data = await reader.readexactly(n)
                writer.write(hashlib.sha256(data).hexdigest().encode() + b"\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, a.addr, a.port, backlog=a.backlog,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


async def connect(a):
    return await asyncio.wait_for(asyncio.open_connection(a.addr, a.port), a.timeout)


async def one(a):
    payload = os.urandom(a.size)
    reader, writer = await connect(a)
    sha = await asyncio.wait_for(exchange(reader, writer, payload), a.timeout)
    port = writer.get_extra_info("sockname")[1]
    writer.close()
    await writer.wait_closed()
    print("ok %d %s" % (port, sha), flush=True)
    return 0


class Failures:
    def __init__(self):
        self.n = 0

    def add(self, what, e):
        self.n += 1
        if self.n <= 5:
            print("connload: %s: %s: %s" % (what, type(e).__name__, e), file=sys.stderr, flush=True)


async def hold(a):
    sem = asyncio.Semaphore(a.batch)
    conns = []
    fails = Failures()

    async def open_one(i):
        async with sem:
            try:
                r, w = await connect(a)
                await asyncio.wait_for(exchange(r, w, b"hello %d" % i), a.timeout)
                conns.append((r, w))
            except (OSError, asyncio.TimeoutError, RuntimeError, asyncio.IncompleteReadError) as e:
                fails.add("connection %d" % i, e)

    t0 = time.monotonic()
    await asyncio.gather(*(open_one(i) for i in range(a.count)))
    print("held %d (%d failed) in %.1f s" % (len(conns), fails.n, time.monotonic() - t0), flush=True)
    if fails.n:
        return 1
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % len(conns))
    os.rename(tmp, a.ready)
    deadline = time.monotonic() + a.hold_max
    while not os.path.exists(a.stop):
        if time.monotonic() > deadline:
            print("connload: stop file %s never appeared" % a.stop, file=sys.stderr)
            return 1
        await asyncio.sleep(0.05)

    ok = 0

    async def again(i, r, w):
        nonlocal ok
        async with sem:
            try:
                await asyncio.wait_for(exchange(r, w, b"again %d" % i), a.timeout)
                ok += 1
            except (OSError, asyncio.TimeoutError, RuntimeError, asyncio.IncompleteReadError) as e:
                fails.add("second exchange %d" % i, e)
            w.close()
            try:
                await w.wait_closed()
            except OSError:
                pass

    await asyncio.gather(*(again(i, r, w) for i, (r, w) in enumerate(conns)))
    print("second exchange ok %d (%d failed)" % (ok, fails.n), flush=True)
    return 1 if fails.n else 0


async def churn(a):
    sem = asyncio.Semaphore(a.concurrency)
    fails = Failures()
    ok = 0
    tasks = []

    async def one_conn(i):
        nonlocal ok
        try:
            r, w = await connect(a)
            await asyncio.wait_for(exchange(r, w, b"churn %d" % i), a.timeout)
            w.close()
            await w.wait_closed()
            ok += 1
        except (OSError, asyncio.TimeoutError, RuntimeError, asyncio.IncompleteReadError) as e:
            fails.add("connection %d" % i, e)
        finally:
            sem.release()

    t0 = time.monotonic()
    for i in range(a.count):
        if a.rate:
            delay = t0 + i / a.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await sem.acquire()
        tasks.append(asyncio.ensure_future(one_conn(i)))
    await asyncio.gather(*tasks)
    print("churn %d ok, %d failed in %.2f s" % (ok, fails.n, time.monotonic() - t0), flush=True)
    return 1 if fails.n else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "one", "hold", "churn"):
        p = sub.add_parser(name)
        p.add_argument("addr")
        p.add_argument("port", type=int)
        p.add_argument("--timeout", type=float, default=30)
        if name == "serve":
            p.add_argument("--backlog", type=int, default=4096)
        elif name == "one":
            p.add_argument("--size", type=int, default=256 * 1024)
        elif name == "hold":
            p.add_argument("--count", type=int, required=True)
            p.add_argument("--batch", type=int, default=200)
            p.add_argument("--ready", required=True)
            p.add_argument("--stop", required=True)
            p.add_argument("--hold-max", type=float, default=600)
        else:
            p.add_argument("--count", type=int, required=True)
            p.add_argument("--rate", type=float, default=0)
            p.add_argument("--concurrency", type=int, default=100)
    a = ap.parse_args(argv[1:])
    raise_nofile()
    if ":" in a.addr:
        socket.inet_pton(socket.AF_INET6, a.addr)
    fn = {"serve": serve, "one": one, "hold": hold, "churn": churn}[a.cmd]
    try:
        return asyncio.run(fn(a))
    except (OSError, asyncio.TimeoutError, RuntimeError, asyncio.IncompleteReadError) as e:
        print("connload %s %s:%d: %s: %s" % (a.cmd, a.addr, a.port, type(e).__name__, e),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
