"""No feed can stall another: each poll is its own task, a page waiting for its host's
politeness slot holds no worker, a feed still being polled is not started twice, and a
stop abandons what is in flight at once. Hostile peers are real servers on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import pytest

from chipwire.settings import Settings
from ingest import state
from ingest.crawl import Crawler
from ingest.fetch import make_client
from ingest.sources import HtmlListParams, Source
from tests.crawlkit import close_crawlers, crawler, raw_articles  # noqa: F401
from tests.loopback import Handler, LoopbackServer, header_drip
from tests.test_ingest_crawl import BODY, OTHER, page


@pytest.fixture
def elsewhere() -> Iterator[LoopbackServer]:
    """A second host: politeness is per host name, and 127.0.0.2 is not 127.0.0.1."""
    srv = LoopbackServer("127.0.0.2")
    yield srv
    srv.close()


def rss(links: list[str]) -> str:
    items = "".join(
        f"<item><title>item {i}</title><link>{u}</link></item>" for i, u in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )


class InFlight:
    """Requests a loopback host is serving at once, and the most it ever served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.most = 0

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            yield
        finally:
            with self._lock:
                self.now -= 1


def healthy_feed(server: LoopbackServer) -> Source:
    server.add("/a.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add("/b.html", page("Folding phone unveiled", OTHER), Content_Type="text/html")
    server.add("/ok.xml", rss([server.url("/a.html"), server.url("/b.html")]))
    return Source(id="healthy", name="Healthy", feed=server.url("/ok.xml"))


def test_a_feed_dripping_its_headers_never_delays_a_healthy_feeds_polls(
    server: LoopbackServer, elsewhere: LoopbackServer, settings: Settings
) -> None:
    dripping = threading.Event()
    server.add_handler("/drip.xml", header_drip(600, dripping))
    drip = Source(id="drip", name="Drip", feed=server.url("/drip.xml"))
    healthy = healthy_feed(elsewhere)
    c = crawler(settings.model_copy(update={"fetch_timeout_s": 60.0, "host_min_interval_s": 0.5}))

    first = c.start_due([drip, healthy])  # the tick returns at once
    assert dripping.wait(5)
    assert first["healthy"].result(timeout=10).outcomes == {"seen": 0, "ok": 2}
    assert c.polling() == {"drip"}  # still held by its server, 60 s deadline

    # the healthy feed falls due again: polled again now; the drip is not started twice
    later = c.start_due([drip, healthy], now=time.time() + 3600)
    assert set(later) == {"healthy"}
    assert later["healthy"].result(timeout=10).outcomes == {"seen": 2}
    assert server.hits["/drip.xml"] == 1 and not first["drip"].done()

    stopped_at = time.monotonic()
    c.stop()  # shutdown abandons the drip at once, and leaves its state as it was
    assert first["drip"].cancelled() and time.monotonic() - stopped_at < 2
    assert state.feed_state(c.conn, "drip").last_polled_at is None


def test_a_5000_item_feed_paced_on_its_host_does_not_hold_up_another_hosts_feed(
    server: LoopbackServer, elsewhere: LoopbackServer, settings: Settings
) -> None:
    paging = threading.Event()
    body = page("Shipment held at Lanport", BODY).encode()

    def one_page(request: BaseHTTPRequestHandler) -> None:
        paging.set()
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    server.add_handler("/page.html", one_page)
    server.add("/big.xml", rss([server.url(f"/page.html?n={n}") for n in range(5000)]))
    big = Source(id="big", name="Big", feed=server.url("/big.xml"))
    healthy = healthy_feed(elsewhere)
    # one page a second on the big feed's host: its items would take over 15 minutes
    c = crawler(settings.model_copy(update={"host_min_interval_s": 1.0}))

    first = c.start_due([big, healthy])
    assert paging.wait(30)  # the big feed is taking its items, one a second
    assert first["healthy"].result(timeout=15).outcomes == {"seen": 0, "ok": 2}
    assert c.polling() == {"big"}
    later = c.start_due([big, healthy], now=time.time() + 3600)
    assert set(later) == {"healthy"}  # the big feed keeps its progress: not listed again
    assert later["healthy"].result(timeout=10).outcomes == {"seen": 2}
    assert server.hits["/big.xml"] == 1

    c.stop()
    assert first["big"].cancelled()
    c.tasks.pool.shutdown(wait=True)
    fetched = sum(n for path, n in server.hits.items() if path.startswith("/page.html"))
    assert 1 <= fetched < 30  # paced, one a second
    # a page is accepted whole or left unseen for the next run: the stop marks none failed
    accepted = sum(a.source.id == "big" for a in raw_articles(c.conn))
    assert accepted <= fetched
    [(seen,)] = c.conn.execute("SELECT COUNT(*) FROM seen").fetchall()
    assert seen == accepted + 2  # the big feed's accepted pages and the healthy feed's two
    assert state.feed_state(c.conn, "big").last_polled_at is None


def test_a_listings_follow_up_pages_paced_on_a_slow_host_hold_no_worker(
    server: LoopbackServer, elsewhere: LoopbackServer, settings: Settings
) -> None:
    pages = 4
    for n in range(1, pages + 1):
        more = f"<a class='next' href='/list/{n + 1}.html'>next</a>" if n < pages else ""
        server.add(
            f"/list/{n}.html",
            f"<html><body><ul class='list'></ul>{more}</body></html>",
            Content_Type="text/html; charset=utf-8",
        )
    listing = Source(
        id="listing",
        name="Listing",
        feed=server.url("/list/1.html"),
        kind="html_list",
        html_list=HtmlListParams(item="ul.list li", next="a.next", max_pages=pages),
    )
    elsewhere.add("/feed.xml", rss([]))
    healthy = Source(id="healthy", name="Healthy", feed=elsewhere.url("/feed.xml"))
    # one worker, and a follow-up page every 2 s on the listing's host: a worker parked
    # on that wait would hold the other host's feed for 4 s
    c = crawler(settings.model_copy(update={"fetch_concurrency": 1, "host_min_interval_s": 2.0}))

    started = time.monotonic()
    first = c.start_due([listing, healthy])
    assert first["healthy"].result(timeout=1.5).status == "ok"
    assert c.polling() == {"listing"}  # still waiting for its next page's slot
    assert first["listing"].result(timeout=15).status == "ok"
    assert time.monotonic() - started >= 2 * (pages - 2)  # the follow-ups kept their pace
    assert all(server.hits[f"/list/{n}.html"] == 1 for n in range(1, pages + 1))


def test_a_crash_before_the_feed_states_are_written_loses_and_repeats_no_article(
    elsewhere: LoopbackServer, settings: Settings
) -> None:
    healthy = healthy_feed(elsewhere)
    doomed = Crawler(settings, state.connect(settings.state_db), make_client(settings), None)
    polled = doomed.start_due([healthy])["healthy"].result(timeout=15)
    assert polled.outcomes == {"seen": 0, "ok": 2}
    doomed.tasks.close()  # killed here: the poll's feed state was never written
    doomed.client.close()

    after = crawler(settings)
    assert state.feed_state(after.conn, "healthy").last_polled_at is None  # lost in the crash
    assert after.poll_feed(healthy).outcomes == {"seen": 2}  # polled again, nothing repeated
    assert sorted(a.url for a in raw_articles(after.conn)) == sorted(
        elsewhere.url(p) for p in ("/a.html", "/b.html")
    )
    assert state.feed_state(after.conn, "healthy").last_polled_at is not None
    doomed.conn.close()


def test_feed_polls_take_one_slot_per_host_and_a_held_host_delays_no_other_host(
    server: LoopbackServer, elsewhere: LoopbackServer, settings: Settings
) -> None:
    """Politeness holds for feed polls too: one feed request in flight per host (the
    default `host_concurrency`), waiting as a coroutine, so a host that holds its
    connection delays only its own feeds."""
    held, release = threading.Event(), threading.Event()
    in_flight = InFlight()

    def feed(request: BaseHTTPRequestHandler, hold: bool = False) -> None:
        with in_flight.one():
            if hold:
                held.set()
                release.wait(10)  # held by the test, released below
            body = rss([]).encode()
            request.send_response(200)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

    server.add_handler("/held.xml", lambda r: feed(r, hold=True))
    same_host = [
        Source(id=f"same{n}", name=f"Same {n}", feed=server.add_handler(f"/f{n}.xml", feed))
        for n in range(3)
    ]
    held_feed = Source(id="held", name="Held", feed=server.url("/held.xml"))
    other = Source(id="other", name="Other", feed=elsewhere.add("/other.xml", rss([])))
    c = crawler(settings)
    try:
        started = c.start_due([held_feed, *same_host, other])
        assert held.wait(5)
        assert started["other"].result(timeout=5).status == "ok"  # another host goes ahead
        assert not release.is_set()
    finally:
        release.set()
    assert {s: started[s].result(timeout=10).status for s in started} == dict.fromkeys(
        started, "ok"
    )
    assert in_flight.most == 1  # never two feed requests at once on one host


def test_a_hosts_feeds_and_pages_share_its_slot_and_a_feed_skips_its_page_queue(
    server: LoopbackServer, settings: Settings
) -> None:
    """One request in flight per host, feeds and pages counted together; a feed polled
    while the host's 5,000 paced pages wait is not queued behind them."""
    in_flight = InFlight()
    paging = threading.Event()

    def counted(body: bytes, content_type: str, slow_s: float = 0.0) -> Handler:
        def respond(request: BaseHTTPRequestHandler) -> None:
            with in_flight.one():
                if slow_s:
                    paging.set()
                    time.sleep(slow_s)  # a slow page: the server's pace, not a sync point
                request.send_response(200)
                request.send_header("Content-Type", content_type)
                request.send_header("Content-Length", str(len(body)))
                request.end_headers()
                request.wfile.write(body)

        return respond

    html = page("Shipment held at Lanport", BODY).encode()
    links = [server.url(f"/page.html?n={n}") for n in range(5000)]
    server.add_handler("/page.html", counted(html, "text/html", slow_s=0.3))
    server.add_handler("/big.xml", counted(rss(links).encode(), "application/rss+xml"))
    server.add_handler("/quiet.xml", counted(rss([]).encode(), "application/rss+xml"))
    big = Source(id="big", name="Big", feed=server.url("/big.xml"))
    quiet = Source(id="quiet", name="Quiet", feed=server.url("/quiet.xml"))
    c = crawler(settings.model_copy(update={"host_min_interval_s": 0.2}))

    first = c.start_due([big])
    assert paging.wait(30)
    # behind the whole queue the quiet feed would wait 5,000 × 0.3 s
    assert c.start_due([quiet])["quiet"].result(timeout=10).status == "ok"
    c.stop()
    assert first["big"].cancelled()
    assert in_flight.most == 1
