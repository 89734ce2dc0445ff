"""Article pages are fetched on the crawl's event loop: a page whose server drips holds no
thread, a host's politeness slot is given back as soon as a page's bytes are in, not
held while the page is extracted, and the pages in hand are bounded while extraction
lags. Hostile peers are real servers on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from chipwire.settings import Settings
from ingest.crawl import PAGES_IN_HAND_PER_SLOT
from ingest.extract import extract_page
from ingest.extracted import Extracted
from ingest.sources import Source
from tests.crawlkit import close_crawlers, crawler, raw_articles  # noqa: F401
from tests.loopback import LoopbackServer, header_drip, trickle
from tests.test_crawl_isolation import healthy_feed, rss
from tests.test_ingest_crawl import BODY, OTHER, page


@pytest.fixture
def elsewhere() -> Iterator[LoopbackServer]:
    """A second host (127.0.0.2): politeness is per host name."""
    srv = LoopbackServer("127.0.0.2")
    yield srv
    srv.close()


def test_a_page_dripping_its_headers_holds_no_thread(
    server: LoopbackServer, elsewhere: LoopbackServer, settings: Settings
) -> None:
    dripping = threading.Event()
    server.add_handler("/drip.html", header_drip(600, dripping))
    server.add("/drip.xml", rss([server.url("/drip.html")]))
    drip = Source(id="drip", name="Drip", feed=server.url("/drip.xml"))
    healthy = healthy_feed(elsewhere)
    # one thread for every blocking step: a page fetched on it would hold it for 60 s
    c = crawler(settings.model_copy(update={"fetch_timeout_s": 60.0, "fetch_concurrency": 1}))

    first = c.start_due([drip])
    assert dripping.wait(10)
    second = c.start_due([healthy])
    assert second["healthy"].result(timeout=10).outcomes == {"seen": 0, "ok": 2}
    assert c.polling() == {"drip"}  # its page is still dripping

    c.stop()
    assert first["drip"].cancelled()


def test_a_page_trickling_its_body_is_cut_at_the_deadline_and_retried_later(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add_handler("/slow.html", trickle(30))
    server.add("/slow.xml", rss([server.url("/slow.html")]))
    slow = Source(id="slow", name="Slow", feed=server.url("/slow.xml"))
    c = crawler(settings.model_copy(update={"fetch_timeout_s": 1.0}))

    assert c.poll_feed(slow).outcomes == {"seen": 0, "retry": 1}
    assert raw_articles(c.conn) == []


def test_a_hosts_slot_is_free_while_its_last_page_is_extracted(
    server: LoopbackServer, settings: Settings
) -> None:
    second_fetched = threading.Event()
    second = page("Folding phone unveiled", OTHER).encode()

    def serve_second(request: BaseHTTPRequestHandler) -> None:
        second_fetched.set()
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(second)))
        request.end_headers()
        request.wfile.write(second)

    server.add("/a.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add_handler("/b.html", serve_second)
    server.add("/two.xml", rss([server.url("/a.html"), server.url("/b.html")]))
    feed = Source(id="two", name="Two", feed=server.url("/two.xml"))
    waited: list[bool] = []

    def extract_after_the_next_fetch(
        body: bytes, content_type: str | None, url: str, with_metadata: bool
    ) -> Extracted | None:
        if url.endswith("/a.html"):  # the host's next page is fetched while this one waits
            waited.append(second_fetched.wait(10))
        return extract_page(body, content_type, url, with_metadata)

    # one request in flight per host, two threads: one extracts, one is free
    c = crawler(settings.model_copy(update={"fetch_concurrency": 2, "host_concurrency": 1}))
    c.extract_fn = extract_after_the_next_fetch

    assert c.poll_feed(feed).outcomes == {"seen": 0, "ok": 2}
    assert waited == [True]
    assert len(raw_articles(c.conn)) == 2


class Requests:
    """Requests a loopback server has answered, for a test to wait on."""

    def __init__(self) -> None:
        self._seen = threading.Condition()
        self.count = 0

    def one(self) -> None:
        with self._seen:
            self.count += 1
            self._seen.notify_all()

    def reach(self, count: int, timeout_s: float) -> bool:
        with self._seen:
            return self._seen.wait_for(lambda: self.count >= count, timeout_s)


def test_pages_in_hand_are_bounded_while_extraction_lags(
    server: LoopbackServer, settings: Settings
) -> None:
    slots = 2
    bound = PAGES_IN_HAND_PER_SLOT * slots
    body = page("Shipment held at Lanport", BODY).encode()
    served = Requests()

    def serve_page(request: BaseHTTPRequestHandler) -> None:
        served.one()
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    links = [server.add_handler(f"/p/{i}.html", serve_page) for i in range(3 * bound)]
    server.add("/many.xml", rss(links))
    many = Source(id="many", name="Many", feed=server.url("/many.xml"))

    # a second feed on the same host name (one request in flight per host): its request
    # queues behind every page already waiting for the host, so when it arrives, those
    # pages have been fetched, and the ones the bound holds back have not
    probe_server = LoopbackServer("127.0.0.1")
    pages_at_probe: list[int] = []
    probe_arrived = threading.Event()
    empty = rss([]).encode()

    def serve_probe(request: BaseHTTPRequestHandler) -> None:
        pages_at_probe.append(served.count)
        probe_arrived.set()
        request.send_response(200)
        request.send_header("Content-Length", str(len(empty)))
        request.end_headers()
        request.wfile.write(empty)

    probe_server.add_handler("/probe.xml", serve_probe)
    probe = Source(id="probe", name="Probe", feed=probe_server.url("/probe.xml"))

    release = threading.Event()

    def held_extraction(
        body: bytes, content_type: str | None, url: str, with_metadata: bool
    ) -> Extracted | None:
        release.wait(30)  # every extraction slot held until the test has looked
        return extract_page(body, content_type, url, with_metadata)

    c = crawler(settings.model_copy(update={"fetch_concurrency": slots, "host_concurrency": 1}))
    c.extract_fn = held_extraction
    try:
        polls = c.start_due([many])
        assert served.reach(bound, 30)  # the slots are full and the pages in hand fetched
        polls |= c.start_due([probe])
        assert probe_arrived.wait(30)
    finally:
        release.set()
    try:
        assert pages_at_probe[0] <= bound
        assert polls["many"].result(timeout=60).outcomes == {"seen": 0, "ok": 3 * bound}
        assert polls["probe"].result(timeout=30).status == "ok"
    finally:
        probe_server.close()
