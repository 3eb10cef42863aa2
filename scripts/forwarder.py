#!/usr/bin/env python3
"""A TCP forwarder for the tests: one listening port per target, each connection
counted, each direction optionally delayed. It stands for what sits between an
operator and a deployment: an SSH tunnel, a published container port, a slow link.

  forwarder.py --pidfile FILE --counts FILE [--delay-ms N] [--owner PID]
               [--shun-pidfile FILE] [--listen-host HOST] TARGET_HOST:PORT...

Listens on each target's host (or --listen-host: 127.0.0.2 makes the dialled address
differ from the announced one). Prints `TARGET=LISTEN_PORT` per target once listening, then runs in the background
(its pid in --pidfile) until SIGTERM/SIGKILL or until --owner exits. --counts holds
`TARGET COUNT` lines, rewritten at each accepted connection. --delay-ms holds every
chunk that long in each direction, order kept (so a round trip costs twice that);
the client's first bytes wait one round trip more, for the TCP handshake that the
local kernel completed at once (on a real link, connect takes a round trip).
--shun-pidfile holds connections from the process whose pid that file names: each
is accepted and never answered, as a private address looks from outside the network
(the client waits for its own timeout), while the sentinels and nodes get through.
"""
import argparse
import asyncio
import os
import signal
import socket
import sys
import time


def parse_target(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def listen_on(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Forwarder:
    def __init__(self, targets, counts_path, delay, shun_pidfile):
        self.targets = targets
        self.counts = {target: 0 for target in targets}
        self.counts_path = counts_path
        self.delay = delay
        self.shun_pidfile = shun_pidfile
        self.write_counts()

    def write_counts(self):
        temporary = self.counts_path + ".tmp"
        with open(temporary, "w") as f:
            for target, count in self.counts.items():
                f.write(f"{target} {count}\n")
        os.replace(temporary, self.counts_path)

    async def serve(self, target, client_reader, client_writer):
        peer = client_writer.get_extra_info("peername")
        if self.shun_pidfile and peer and from_shunned_process(peer, self.shun_pidfile):
            await client_reader.read()  # held, never answered, until the client gives up
            client_writer.close()
            return
        self.counts[target] += 1
        self.write_counts()
        host, port = parse_target(target)
        try:
            server_reader, server_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self.pump(client_reader, server_writer, first_extra=2 * self.delay),
            self.pump(server_reader, client_writer), return_exceptions=True)
        for writer in (client_writer, server_writer):
            writer.close()

    async def pump(self, reader, writer, first_extra=0):
        """Copies reader to writer, each chunk held `delay` seconds (the first one
        `first_extra` more), then half-closes."""
        queue = asyncio.Queue()

        async def read():
            extra = first_extra
            while True:
                try:
                    chunk = await reader.read(65536)
                except OSError:
                    chunk = b""
                await queue.put((time.monotonic() + self.delay + extra, chunk))
                extra = 0
                if not chunk:
                    return

        async def write():
            while True:
                due, chunk = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        reading = asyncio.ensure_future(read())
        try:
            await write()
        finally:
            reading.cancel()


def from_shunned_process(peer, pidfile):
    """Whether the socket at `peer` (the client's end) belongs to the process pidfile names."""
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except (OSError, ValueError):
        return False
    inodes = {link[8:-1] for link in fds if link.startswith("socket:[")}
    port = f"{peer[1]:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.readlines()[1:]:
                columns = row.split()
                if columns[1].endswith(":" + port) and columns[9] in inodes:
                    return True
    return False


async def run(forwarder, sockets, owner):
    for target, sock in sockets.items():
        await asyncio.start_server(lambda r, w, t=target: forwarder.serve(t, r, w), sock=sock)
    while owner is None or alive(owner):
        await asyncio.sleep(0.5)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pidfile", required=True)
    parser.add_argument("--counts", required=True)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--owner", type=int)
    parser.add_argument("--shun-pidfile")
    parser.add_argument("--listen-host")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()
    sockets = {target: listen_on(args.listen_host or parse_target(target)[0]) for target in args.targets}
    forwarder = Forwarder(args.targets, args.counts, args.delay_ms / 1000, args.shun_pidfile)
    for target, sock in sockets.items():
        print(f"{target}={sock.getsockname()[1]}")
    sys.stdout.flush()
    child = os.fork()
    if child:
        with open(args.pidfile, "w") as f:
            f.write(f"{child}\n")
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(run(forwarder, sockets, args.owner))


if __name__ == "__main__":
    main()
