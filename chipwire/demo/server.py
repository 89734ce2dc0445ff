"""A loopback web server for the sample corpus: feeds, article pages and robots.txt.

`serve_demo()` starts it on 127.0.0.1 in a daemon thread; use it as a context manager
or call `.stop()`. Every response carries an ETag and Last-Modified and answers a
conditional GET with 304; gzip is sent when the client asks for it. The serving core
(`LoopbackServer` over any `Site`) is reused by the throughput benchmark.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

from chipwire.demo.corpus import DEMO_ARTICLES, DEMO_OUTLETS, DemoArticle
from chipwire.demo.render import outlet, render_feed, render_page

ROBOTS_TXT = b"User-agent: *\nDisallow: /admin/\nAllow: /\n"
_CACHE_CONTROL = "max-age=60"


@dataclass(frozen=True)
class Resource:
    """One servable body; `gzipped` marks a body already gzip-encoded."""

    body: bytes
    content_type: str
    last_modified: datetime
    gzipped: bool = False
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.blake2b(self.body, digest_size=12).hexdigest()
        object.__setattr__(self, "etag", f'"{digest}"')


class Site(Protocol):
    def resource(self, path: str, base_url: str) -> Resource | None:
        """What lives at `path` (no query string), or None for a 404."""
        ...


class LoopbackServer:
    """A ThreadingHTTPServer serving a `Site` from a daemon thread."""

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0) -> None:
        self.site = site
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="chipwire-demo-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class DemoSite:
    """The sample corpus as a site; `visible_until` hides articles not yet 'published'."""

    def __init__(self) -> None:
        self.visible_until: datetime | None = None

    def visible(self) -> list[DemoArticle]:
        cutoff = self.visible_until
        return [a for a in DEMO_ARTICLES if cutoff is None or a.date <= cutoff]

    def resource(self, path: str, base_url: str) -> Resource | None:
        if path == "/robots.txt":
            return Resource(ROBOTS_TXT, "text/plain; charset=utf-8", DEMO_ARTICLES[0].date)
        articles = self.visible()
        for source in DEMO_OUTLETS:
            if path == f"/feeds/{source.id}.xml":
                mine = [a for a in articles if a.outlet == source.id]
                newest = max((a.date for a in mine), default=DEMO_ARTICLES[0].date)
                mime = (
                    "application/atom+xml"
                    if source.feed_format == "atom"
                    else "application/rss+xml"
                )
                body = render_feed(outlet(source.id), mine, base_url)
                return Resource(body, f"{mime}; charset=utf-8", newest)
        for article in articles:
            if path == article.path:
                page = render_page(article, base_url).encode("utf-8")
                return Resource(page, "text/html; charset=utf-8", article.date)
        return None


class DemoServer(LoopbackServer):
    """The demo site on loopback. `publish_until(t)` shows only articles dated ≤ t."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.demo_site = DemoSite()
        super().__init__(self.demo_site, host, port)

    def publish_until(self, when: datetime | None) -> None:
        """Replay the timeline: feeds and pages list only articles up to `when` (None: all)."""
        self.demo_site.visible_until = when

    def feed_url(self, outlet_id: str) -> str:
        return f"{self.base_url}/feeds/{outlet_id}.xml"

    def __enter__(self) -> DemoServer:
        return self


def serve_demo(host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """Start the sample-corpus server; port 0 picks a free port (see `.base_url`)."""
    return DemoServer(host, port)


def _handler_for(server: LoopbackServer) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: LoopbackServer
    protocol_version = "HTTP/1.1"
    server_version = "chipwire-demo/1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests and benchmarks would drown in access logs."""

    def _answer(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        try:
            found = self.owner.site.resource(path, self.owner.base_url)
        except Exception:
            self._plain(500, b"internal error\n", send_body)
            raise
        if found is None:
            self._plain(404, b"not found\n", send_body)
            return
        if self._not_modified(found):
            self.send_response(304)
            self._validators(found)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, encoding = self._encoded(found)
        self.send_response(200)
        self.send_header("Content-Type", found.content_type)
        self._validators(found)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _not_modified(self, found: Resource) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return found.etag in {t.strip() for t in tags.split(",")} or tags.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return found.last_modified.replace(microsecond=0) <= when

    def _encoded(self, found: Resource) -> tuple[bytes, str | None]:
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if found.gzipped:
            return (found.body, "gzip") if wants_gzip else (gzip.decompress(found.body), None)
        if wants_gzip:
            return gzip.compress(found.body, compresslevel=5, mtime=0), "gzip"
        return found.body, None

    def _validators(self, found: Resource) -> None:
        self.send_header("ETag", found.etag)
        self.send_header(
            "Last-Modified", format_datetime(found.last_modified.astimezone(UTC), usegmt=True)
        )
        self.send_header("Cache-Control", _CACHE_CONTROL)

    def _plain(self, status: int, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
