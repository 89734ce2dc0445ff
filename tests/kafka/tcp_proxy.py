"""A loopback TCP proxy that can cut every connection and refuse new ones: a broker outage
without losing the broker's memory-only data. The broker advertises the proxy's port, so
every client connection (bootstrap and leader) goes through it.

It also counts the requests clients send, by Kafka API key (`requests`): how often a
client asks the broker for something, read from the wire."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter

PRODUCE, FETCH, OFFSET_COMMIT = 0, 1, 8  # Kafka API keys


class TcpProxy:
    def __init__(self, listen_port: int, upstream_port: int) -> None:
        self.listen_port = listen_port
        self.upstream = ("127.0.0.1", upstream_port)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.requests: Counter[int] = Counter()  # API key -> requests sent through the proxy

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.listen_port))
        listener.listen(64)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.start()

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.update((client, server))
            for src, dst, count in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, count), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        pending = b""  # the start of a request whose API key has not arrived yet
        remaining = 0  # bytes of the current request still to come
        try:
            while data := src.recv(65536):
                if count:
                    pending, remaining = self._count(pending + data, remaining)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(src)
            src.close()

    def _count(self, data: bytes, remaining: int) -> tuple[bytes, int]:
        """Count the requests that start in `data` (frames: int32 size, int16 API key, ...);
        returns what is kept for the next read and the bytes of a request still to come."""
        while data:
            if remaining:
                step = min(remaining, len(data))
                data, remaining = data[step:], remaining - step
                continue
            if len(data) < 6:
                return data, 0
            size, api_key = struct.unpack(">ih", data[:6])
            with self._lock:
                self.requests[api_key] += 1
            data, remaining = data[4:], size
        return b"", remaining
