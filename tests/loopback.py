"""A programmable HTTP server on a loopback address, for tests that need a real peer."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    handler: Handler | None = None


class LoopbackServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                server.hits[path] = server.hits.get(path, 0) + 1
                route = server.routes.get(path) or server.routes.get(path.split("?")[0])
                if route is None:
                    self._send(404, b"not found", {})
                elif route.handler is not None:
                    route.handler(self)
                else:
                    etag = route.headers.get("ETag")
                    if etag and self.headers.get("If-None-Match") == etag:
                        self._send(304, b"", {"ETag": etag})
                    else:
                        self._send(route.status, route.body, route.headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes | str = b"", status: int = 200, **headers: str) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(
            data, status, {k.replace("_", "-"): v for k, v in headers.items()}
        )
        return self.url(path)

    def add_handler(self, path: str, handler: Handler) -> str:
        self.routes[path] = Route(handler=handler)
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def trickle(seconds: int) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(seconds))
        request.end_headers()
        for _ in range(seconds):
            try:
                request.wfile.write(b"x")
                request.wfile.flush()
            except OSError:
                return
            time.sleep(1)  # the misbehaving server's pace, not test synchronisation

    return handler


def gzip_bomb(uncompressed_mib: int) -> Handler:
    payload = gzip.compress(b"\0" * (uncompressed_mib * 1024 * 1024), compresslevel=9)

    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def header_drip(seconds: int, started: threading.Event | None = None) -> Handler:
    """A server that sends its status line and headers one byte a second (`started` is set
    when a request arrives)."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        if started is not None:
            started.set()
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Drip-%d: x\r\n" % i for i in range(seconds))
        for i in range(len(head)):
            try:
                request.wfile.write(head[i : i + 1])
                request.wfile.flush()
            except OSError:
                return
            time.sleep(1)  # the misbehaving server's pace, not test synchronisation
        request.close_connection = True

    return handler
