"""A loopback TCP proxy that holds back what clients send: a database server a network hop away.

On one machine a round trip to PostgreSQL costs CPU, not waiting, so work that serialises on
a lock is limited by the cores rather than by the lock. Through :func:`delayed`, every
chunk a client sends reaches the server *delay* seconds later (the whole round trip, added
on the way there), in order, and the server's answers come straight back. Chunks sent one
after another (a pipeline) are each delayed once, not one after the other, as on a network.

The proxy runs in a process of its own (forked), one thread with a ``select`` loop, whose
timeouts are exact to the microsecond (``epoll`` and ``poll`` would round them up to whole
milliseconds), and is stopped (terminated by its handle) when its block ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import socket
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Proxy", "delayed", "server_address"]


def server_address(conninfo: str) -> tuple[str, int]:
    """The TCP address of the server *conninfo* names: its host and port, or 127.0.0.1:5432."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or params.get("hostaddr") or "127.0.0.1")
    if host.startswith("/") or "," in host:  # a socket folder, or several hosts
        host = "127.0.0.1"
    return host, int(str(params.get("port") or 5432))


class Proxy:
    """A running proxy: its port, and the CPU time its process has used."""

    def __init__(self, port: int, pid: int) -> None:
        self.port = port
        self.pid = pid

    def cpu_seconds(self) -> float | None:
        """User and system CPU seconds of the proxy's process so far (Linux), or None."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None


@contextmanager
def delayed(target: tuple[str, int], delay: float) -> Iterator[Proxy]:
    """A proxy on 127.0.0.1 to *target*, adding *delay* seconds to every round trip."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = int(listener.getsockname()[1])
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(listener, target, delay), daemon=True
    )
    process.start()
    listener.close()
    try:
        yield Proxy(port, process.pid or 0)
    finally:
        process.terminate()
        process.join(timeout=10)


def _serve(listener: socket.socket, target: tuple[str, int], delay: float) -> None:
    """Forward every connection, in one thread: a ``select`` loop with exact timeouts."""
    clients: dict[socket.socket, socket.socket] = {}  # client -> its server connection
    servers: dict[socket.socket, socket.socket] = {}  # server connection -> its client
    held: dict[socket.socket, deque[tuple[float, bytes]]] = {}  # what a server is yet to get
    while True:
        now = time.perf_counter()
        due: float | None = None
        for server, chunks in held.items():
            while chunks and chunks[0][0] <= now:
                _send(server, chunks.popleft()[1])
            if chunks and (due is None or chunks[0][0] < due):
                due = chunks[0][0]
        timeout = None if due is None else max(due - now, 0.0)
        readable, _, _ = select.select([listener, *clients, *servers], [], [], timeout)
        for end in readable:
            if end is listener:
                client, _ = listener.accept()
                try:
                    server = socket.create_connection(target, timeout=5)
                except OSError:
                    client.close()
                    continue
                for each in (client, server):
                    each.settimeout(None)
                    each.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                clients[client], servers[server], held[server] = server, client, deque()
                continue
            if end not in clients and end not in servers:
                continue  # closed in this round, with its other end
            try:
                data = end.recv(65536)
            except OSError:
                data = b""
            client = end if end in clients else servers[end]
            if not data:
                server = clients.pop(client)
                del servers[server], held[server]
                _close(client, server)
            elif end is client:
                held[clients[client]].append((time.perf_counter() + delay, data))
            else:
                _send(client, data)


def _send(end: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # a closed end is seen by the next select
        end.sendall(data)


def _close(*ends: socket.socket) -> None:
    for end in ends:
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()
