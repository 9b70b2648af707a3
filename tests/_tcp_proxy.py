"""A loopback TCP proxy in front of the PostgreSQL server, to take "the server" away and back.

The tests connect a store through :class:`TcpProxy` instead of to the server itself.
:meth:`TcpProxy.stop` is the server going down, as a client sees it: every connection is
closed and new ones are refused (nothing listens on the port any more).
:meth:`TcpProxy.start` is the server coming back on the same port. The real server, which
other test processes share, is never touched.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

import psycopg

from _postgres import DSN

_POLL = 0.05  # seconds the accepting thread waits between looks at its stop flag


def server_address(conninfo: str = DSN) -> tuple[str, int]:
    """The TCP address of the tests' server: its host and port, or 127.0.0.1:5432."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    host = str(params.get("host") or "127.0.0.1")
    if host.startswith("/") or "," in host:  # a socket folder, or several hosts
        host = "127.0.0.1"
    return host, int(params.get("port") or 5432)


class TcpProxy:
    """Forwards connections to 127.0.0.1:<port> to *target*, until stopped.

    Args:
        target: The server's address; the tests' server by default.
    """

    def __init__(self, target: tuple[str, int] | None = None) -> None:
        self.target = target or server_address()
        self.port = 0  # chosen by the first start, kept by every later one
        self._lock = threading.Lock()
        self._running = False
        self._stopping = threading.Event()
        self._accepting: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._pumps: list[threading.Thread] = []

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def conninfo(self, conninfo: str = DSN) -> str:
        """*conninfo* (the tests' database, user...) reaching the server through this proxy."""
        return psycopg.conninfo.make_conninfo(conninfo, host="127.0.0.1", port=str(self.port))

    @property
    def connections(self) -> int:
        """How many client connections the proxy forwards now."""
        with self._lock:
            return len(self._open) // 2

    def start(self) -> None:
        """Listen (again) on the proxy's port and forward what connects."""
        with self._lock:
            if self._running:
                return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(_POLL)
        self.port = listener.getsockname()[1]
        self._stopping.clear()
        with self._lock:
            self._running = True
        self._accepting = threading.Thread(
            target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True
        )
        self._accepting.start()

    def stop(self) -> None:
        """Close every connection and stop listening: connecting is refused from now on."""
        with self._lock:
            self._running = False
            sockets, self._open = list(self._open), set()
            pumps, self._pumps = self._pumps, []
        self._stopping.set()
        if self._accepting is not None:
            self._accepting.join(timeout=10)  # it closes the listener
            self._accepting = None
        for each in sockets:
            _close(each)
        for pump in pumps:
            pump.join(timeout=10)

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self._stopping.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                try:
                    server = socket.create_connection(self.target, timeout=5)
                except OSError:
                    _close(client)
                    continue
                client.settimeout(None)
                server.settimeout(None)
                with self._lock:
                    if not self._running:  # stopped meanwhile: this one is refused too
                        _close(client)
                        _close(server)
                        return
                    self._open |= {client, server}
                    pumps = [
                        threading.Thread(target=self._pump, args=pair, daemon=True)
                        for pair in ((client, server), (server, client))
                    ]
                    self._pumps += pumps
                for pump in pumps:
                    pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
            _close(source)
            _close(sink)


def _close(each: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected, or closed already
        each.shutdown(socket.SHUT_RDWR)
    each.close()
