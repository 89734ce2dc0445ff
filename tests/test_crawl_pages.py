"""Article pages are fetched on the crawl's event loop: a page whose server drips holds no
thread, a host's politeness slot is given back as soon as a page's bytes are in, not
held while the page is extracted, the pages in hand are bounded while extraction
lags, and a page goes to its extraction worker as it came off the wire (compressed).
Hostile peers are real servers on loopback."""

from __future__ import annotations

import gzip
import pickle
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import pytest

from chipwire.settings import Settings
from ingest.crawl import PAGES_IN_HAND_PER_SLOT
from ingest.extract import extract_page
from ingest.extracted import Extracted
from ingest.sources import Source
from tests.crawlkit import close_crawlers, crawler, raw_articles  # noqa: F401
from tests.loopback import LoopbackServer, gzip_bomb, header_drip, trickle
from tests.test_crawl_isolation import healthy_feed, rss
from tests.test_ingest_crawl import BODY, OTHER, page

T = TypeVar("T")


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


class Pipe(Executor):
    """Runs each task after sending it through pickle, as the extraction workers' pipe
    does, and keeps how many bytes each task took."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        data = pickle.dumps((fn, args, kwargs))
        self.sent.append(len(data))
        fn, args, kwargs = pickle.loads(data)
        done: Future[T] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done


def test_a_page_crosses_to_its_extraction_worker_as_it_came_compressed(
    server: LoopbackServer, settings: Settings
) -> None:
    links = "".join(
        f"<li><a href='/section/{i}'>Section {i} of the site</a></li>" for i in range(2000)
    )
    html = page("Shipment held at Lanport", BODY).replace("<footer>", f"<ul>{links}</ul><footer>")
    server.add(
        "/a.html",
        gzip.compress(html.encode()),
        Content_Type="text/html",
        Content_Encoding="gzip",
    )
    server.add_handler("/bomb.html", gzip_bomb(64))
    server.add("/two.xml", rss([server.url("/a.html"), server.url("/bomb.html")]))
    feed = Source(id="two", name="Two", feed=server.url("/two.xml"))
    pipe = Pipe()
    c = crawler(settings.model_copy(update={"max_page_bytes": 1_000_000}), pipe)

    assert c.poll_feed(feed).outcomes == {"seen": 0, "ok": 1, "too-large": 1}
    assert min(pipe.sent) < len(html) / 4  # the page crossed compressed, not inflated
    assert len(pipe.sent) == 2  # the bomb too (64 MiB inflated): the cap holds in the worker
    assert max(pipe.sent) < 100_000
    (article,) = raw_articles(c.conn)
    assert "graphics processors had been held" in article.text
