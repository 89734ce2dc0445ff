"""The crawler on a loopback site: new items accepted once, copies join a story, bad feeds
are state (not crashes), robots.txt is obeyed, and a restart re-sends nothing."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from chipwire import outbox
from chipwire.bus import RAW_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.settings import Settings
from ingest import state
from ingest.sources import Source
from tests.crawlkit import close_crawlers, crawler, raw_articles  # noqa: F401
from tests.loopback import LoopbackServer, header_drip, redirect

BODY = (
    "Port officials in the fictional city of Lanport said on Tuesday that a container of "
    "graphics processors had been held for inspection while paperwork was checked. "
    "The agency did not say how long the review would take, and importers were asked to "
    "submit additional declarations about the end users of the hardware. "
    "Traders said the pause added to a week of uncertainty for the regional electronics market, "
    "where distributors have been waiting for clarity on licensing rules since the autumn. "
)
OTHER = (
    "A consumer electronics maker unveiled a folding phone with a larger battery on Monday, "
    "promising two days of use between charges and a brighter outer display for readers. "
    "The company said preorders open next week in twelve markets, with shipments in March, "
    "and that a cheaper model without the stylus will follow later in the year. "
    "Reviewers who handled the device praised its hinge but questioned the price. "
)


def page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in body.split(". ") if s.strip())
    return (
        f"<html lang='en'><head><title>{title}</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/tech'>Tech</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Sample site for tests. All rights reserved.</footer></body></html>"
    )


def feed(server: LoopbackServer, items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{server.url(p)}?utm_source=rss</link>"
        "<pubDate>Tue, 13 Jan 2026 09:00:00 GMT</pubDate></item>"
        for t, p in items
    )
    channel = f"<channel><title>t</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def serve_page(request: BaseHTTPRequestHandler) -> None:
    body = page("Shipment held at Lanport", BODY).encode()
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def site(server: LoopbackServer) -> list[Source]:
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add(
        "/a2.html",
        page("Lanport holds GPU container", BODY.replace("Tuesday", "Tuesday morning")),
        Content_Type="text/html",
    )
    server.add("/a3.html", page("Folding phone unveiled", OTHER), Content_Type="text/html")
    server.add("/private/a4.html", page("Members only", OTHER + BODY), Content_Type="text/html")
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    server.add(
        "/feed.xml",
        feed(
            server,
            [
                ("Shipment held at Lanport", "/a1.html"),
                ("Folding phone unveiled", "/a3.html"),
                ("Members only", "/private/a4.html"),
            ],
        ),
        ETag='"f1"',
    )
    server.add(
        "/copy.xml",
        feed(
            server,
            [("Lanport holds GPU container", "/a2.html"), ("Shipment held at Lanport", "/a1.html")],
        ),
    )
    server.add("/broken.xml", "<html>this is not a feed</html>")
    return [
        Source(id="wire", name="Wire", feed=server.url("/feed.xml")),
        Source(id="copies", name="Copies", feed=server.url("/copy.xml")),
        Source(id="broken", name="Broken", feed=server.url("/broken.xml")),
    ]


_CLOSE_BUS: list[EmbeddedBus] = []


def test_poll_accepts_new_articles_once_and_joins_copies(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = site(server)
    c = crawler(settings)
    reports = {s.id: c.poll_feed(s) for s in sources}
    assert reports["wire"].outcomes == {"seen": 0, "ok": 2, "robots-disallowed": 1}
    assert reports["copies"].outcomes == {"seen": 1, "ok": 1}
    assert reports["broken"].status == "feed-unparseable"
    articles = raw_articles(c.conn)
    assert sorted(a.title for a in articles) == [
        "Folding phone unveiled",
        "Lanport holds GPU container",
        "Shipment held at Lanport",
    ]
    by_title = {a.title: a for a in articles}
    assert (
        by_title["Lanport holds GPU container"].story_id == by_title["Shipment held at Lanport"].id
    )
    assert by_title["Folding phone unveiled"].story_id == by_title["Folding phone unveiled"].id
    assert all("utm_source" not in a.canonical_url for a in articles)
    assert all("Home" not in a.text and "rights reserved" not in a.text for a in articles)
    assert server.hits.get("/private/a4.html") is None


def test_second_poll_and_restart_resend_nothing(server: LoopbackServer, settings: Settings) -> None:
    sources = site(server)
    first = crawler(settings)
    for s in sources:
        first.poll_feed(s)
    restarted = crawler(settings)  # a new process on the same state
    reports = [restarted.poll_feed(s) for s in sources]
    assert reports[0].status == "not-modified"
    assert reports[1].outcomes == {"seen": 2}
    assert len(raw_articles(restarted.conn)) == 3


def test_broken_feed_is_state_and_backs_off(server: LoopbackServer, settings: Settings) -> None:
    sources = site(server)
    c = crawler(settings)
    c.poll_feed(sources[2])
    c.poll_feed(sources[2])
    broken = state.feed_state(c.conn, "broken")
    assert broken.error_count == 2 and "not a feed" in (broken.last_error or "")
    assert broken.next_check_at - (broken.last_polled_at or 0) >= 2 * settings.poll_interval_s - 1
    assert c.poll_due(sources, now=broken.last_polled_at) == [] or all(
        r.source_id != "broken" for r in c.poll_due(sources, now=broken.last_polled_at)
    )


def test_unreachable_feed_does_not_stop_the_others(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = [
        Source(id="dead", name="Dead", feed="http://127.0.0.1:9/feed.xml"),
        *site(server)[:1],
    ]
    c = crawler(settings)
    reports = c.poll_due(sources)
    assert reports[0].status == "connect-error" and reports[1].outcomes["ok"] == 2


def test_outbox_relay_publishes_raw_articles_in_order(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = site(server)
    c = crawler(settings)
    for s in sources:
        c.poll_feed(s)
    bus = EmbeddedBus(settings.log_db)
    _CLOSE_BUS.append(bus)
    assert outbox.relay_all(c.conn, bus) == 3
    assert outbox.relay_all(c.conn, bus) == 0
    consumer = bus.consumer("check", [RAW_TOPIC])
    messages = consumer.poll(10, 1.0)
    assert len(messages) == 3
    assert all(json.loads(m.value)["id"] == m.key for m in messages)
    assert {m.headers["ce_type"] for m in messages} == {"io.chipwire.article.raw.v1"}


def test_bad_sources_file_is_a_clear_error(tmp_path: Path) -> None:
    from ingest.sources import SourcesError, load_sources

    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - id: ok\n    name: OK\n    feed: file:///etc/passwd\n")
    try:
        load_sources(path)
    except SourcesError as exc:
        assert "source #1" in str(exc) and "feed" in str(exc)
    else:
        raise AssertionError("a file: feed must be rejected")


def test_feed_past_the_error_limit_is_checked_once_a_day(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = site(server)
    c = crawler(settings.model_copy(update={"feed_error_limit": 2}))
    c.poll_feed(sources[2])
    c.poll_feed(sources[2])
    broken = state.feed_state(c.conn, "broken")
    assert broken.next_check_at - (broken.last_polled_at or 0) >= 24 * 3600 - 1


def test_a_malformed_link_and_a_redirect_to_javascript_spoil_nothing(
    server: LoopbackServer, settings: Settings
) -> None:
    """`http://[::1` made urljoin raise out of poll_feed: the feed failed every tick, no
    state was saved and its good items never arrived."""
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add_handler("/js.html", redirect("javascript:alert(1)"))
    server.add_handler("/v6.html", redirect("http://[::1"))
    items = "".join(
        f"<item><title>{n}</title><link>{link}</link></item>"
        for n, link in [
            ("bad", "http://[::1"),
            ("js", server.url("/js.html")),
            ("v6", server.url("/v6.html")),
            ("good", server.url("/a1.html")),
        ]
    )
    server.add("/mixed.xml", f'<rss version="2.0"><channel><title>m</title>{items}</channel></rss>')
    c = crawler(settings)
    report = c.poll_feed(Source(id="mixed", name="Mixed", feed=server.url("/mixed.xml")))
    assert report.status == "ok"
    assert report.outcomes == {"seen": 0, "ok": 1, "bad-url": 1, "bad-redirect": 1, "bad-link": 1}
    assert [a.title for a in raw_articles(c.conn)] == ["Shipment held at Lanport"]
    saved = state.feed_state(c.conn, "mixed")
    assert saved.error_count == 0 and saved.next_check_at > (saved.last_polled_at or 0)


def test_a_feed_redirected_elsewhere_resolves_items_against_its_final_url(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/new/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add(
        "/new/feed.xml",
        '<rss version="2.0"><channel><title>m</title>'
        "<item><title>one</title><link>a1.html</link>"
        "<pubDate>Mon, 01 Jan 2999 00:00:00 GMT</pubDate></item></channel></rss>",
    )
    server.add_handler("/old/feed.xml", redirect(server.url("/new/feed.xml"), 301))
    c = crawler(settings)
    report = c.poll_feed(Source(id="moved", name="Moved", feed=server.url("/old/feed.xml")))
    assert report.outcomes == {"seen": 0, "ok": 1}
    [article] = raw_articles(c.conn)
    assert article.url == server.url("/new/a1.html")
    assert article.published_at is None  # dated 2999 in the feed: dropped, not indexed wrong


def test_an_empty_channel_is_a_successful_poll(server: LoopbackServer, settings: Settings) -> None:
    server.add("/empty.xml", '<rss version="2.0"><channel><title>quiet</title></channel></rss>')
    c = crawler(settings)
    report = c.poll_feed(Source(id="quiet", name="Quiet", feed=server.url("/empty.xml")))
    assert report.status == "ok"
    assert state.feed_state(c.conn, "quiet").error_count == 0


def test_an_undeclared_gbk_page_arrives_readable_and_the_guess_is_logged(
    server: LoopbackServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.test_ingest_extract import ZH

    more = (
        "一位分析师指出，如果审查持续数周，下游的服务器组装厂可能不得不调整交货时间表。",
        "当地商会呼吁主管部门尽快公布审查标准，以便企业提前准备所需的文件和证明。",
        "记者在码头看到，多个集装箱停放在查验区，工作人员正在逐一核对货物清单和原产地证书。",
        "有进口商表示，他们已经按要求提交了补充材料，但尚未收到任何关于放行时间的答复。",
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in (ZH, *more))
    html = (
        f"<html><head><title>兰港</title></head><body><article>{paragraphs}</article></body></html>"
    )
    server.add("/zh.html", html.encode("gbk"), Content_Type="text/html")
    server.add(
        "/zh.xml",
        '<rss version="2.0"><channel><title>z</title>'
        f"<item><title>zh</title><link>{server.url('/zh.html')}</link></item></channel></rss>",
    )
    c = crawler(settings)
    with caplog.at_level("WARNING", logger="ingest.crawl"):
        c.poll_feed(Source(id="zh", name="Zh", feed=server.url("/zh.xml")))
    [article] = raw_articles(c.conn)
    assert ZH[:40] in article.text and "\ufffd" not in article.text
    assert "no charset declared" in caplog.text and server.url("/zh.html") in caplog.text


def test_a_feed_dripping_its_headers_does_not_hold_up_a_healthy_one(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add_handler("/drip.xml", header_drip(600))
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add("/ok.xml", feed(server, [("Shipment held at Lanport", "/a1.html")]))
    c = crawler(settings.model_copy(update={"fetch_timeout_s": 2.0}))
    started = time.monotonic()
    reports = c.poll_feeds(
        [
            Source(id="drip", name="Drip", feed=server.url("/drip.xml")),
            Source(id="ok", name="Ok", feed=server.url("/ok.xml")),
        ]
    )
    assert time.monotonic() - started < 6  # the drip is cut at its 2 s deadline
    assert {r.source_id: r.status for r in reports} == {"drip": "timeout", "ok": "ok"}
    assert state.feed_state(c.conn, "drip").error_count == 1


def test_articles_published_during_an_outage_arrive_after_the_site_recovers(
    server: LoopbackServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A page failing three times was never tried again and its Retry-After was ignored: a
    15-minute outage lost every new article. Now the page is due again after a backoff at
    least as long as Retry-After, even once its feed no longer lists it."""
    server.add("/a1.html", "down for maintenance", status=503, Retry_After="900")
    server.add("/news.xml", feed(server, [("Shipment held at Lanport", "/a1.html")]))
    source = Source(id="news", name="News", feed=server.url("/news.xml"))
    c = crawler(settings.model_copy(update={"page_retry_base_s": 60.0}))
    before = time.time()
    assert c.poll_feed(source).outcomes == {"seen": 0, "retry": 1}
    [pending] = state.pending_pages(c.conn)
    assert pending.next_try_at is not None and pending.next_try_at >= before + 900
    assert "will be retried in 900s" in caplog.text

    assert c.retry_due_pages([source], now=time.time()) == {}  # not due yet: nothing fetched
    assert server.hits["/a1.html?utm_source=rss"] == 1

    server.add("/news.xml", feed(server, []))  # the item has left the feed
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    assert c.retry_due_pages([source], now=time.time() + 901) == {"ok": 1}
    assert [a.title for a in raw_articles(c.conn)] == ["Shipment held at Lanport"]
    assert state.pending_pages(c.conn) == []


def test_a_page_failing_past_the_retry_window_is_given_up_and_logged(
    server: LoopbackServer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    server.add("/a1.html", "boom", status=500)
    server.add("/news.xml", feed(server, [("Shipment held at Lanport", "/a1.html")]))
    source = Source(id="news", name="News", feed=server.url("/news.xml"))
    c = crawler(settings.model_copy(update={"page_retry_max_age_h": 0.0}))
    assert c.poll_feed(source).outcomes == {"seen": 0, "gave-up": 1}
    assert "article given up after 1 attempts" in caplog.text
    assert state.given_up_counts(c.conn) == {"news": 1}
    c.poll_feed(source)
    assert server.hits["/a1.html?utm_source=rss"] == 1  # given up means never fetched again


def test_sources_status_shows_feed_health_and_pending_page_retries(
    server: LoopbackServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from chipwire.cli import app

    server.add("/a1.html", "down", status=503, Retry_After="600")
    server.add("/news.xml", feed(server, [("Shipment held at Lanport", "/a1.html")]))
    source = Source(id="news", name="News", feed=server.url("/news.xml"))
    settings.sources_file.write_text(
        f"sources:\n  - id: news\n    name: News\n    feed: {source.feed}\n"
    )
    c = crawler(settings)
    c.poll_feed(source)
    monkeypatch.setenv("CHIPWIRE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CHIPWIRE_SOURCES_FILE", str(settings.sources_file))
    outcome = CliRunner().invoke(app, ["sources", "status", "--pages"], env={"COLUMNS": "200"})
    assert outcome.exit_code == 0, outcome.output
    assert "news" in outcome.output and "1 (next in 10m)" in outcome.output
    assert "a1.html" in outcome.output and "http-503" in outcome.output


def test_a_stopping_crawler_changes_nothing_and_the_next_run_takes_the_items(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = site(server)
    c = crawler(settings)
    c.stopping.set()
    assert c.poll_feed(sources[0]).status == "stopped"
    assert raw_articles(c.conn) == [] and not any(p.startswith("/a") for p in server.hits)
    assert state.feed_state(c.conn, "wire").last_polled_at is None  # due again at once
    c.stopping.clear()  # the items were left unseen: the next run takes them
    assert c.poll_feed(sources[0]).outcomes["ok"] == 2


def test_shutdown_does_not_wait_out_the_politeness_delay(
    server: LoopbackServer, settings: Settings
) -> None:
    sources = site(server)
    first_page = threading.Event()

    def a1(request: BaseHTTPRequestHandler) -> None:
        first_page.set()
        serve_page(request)

    server.add_handler("/a1.html", a1)
    c = crawler(settings.model_copy(update={"host_min_interval_s": 30.0}))
    poll = c.tasks.spawn(c._poll_feed(sources[0]))
    assert first_page.wait(10)  # the second page now waits 30 s for its host's slot
    stopped_at = time.monotonic()
    c.stop()
    assert poll.cancelled() and time.monotonic() - stopped_at < 3
    c.tasks.pool.shutdown(wait=True)  # a page already fetched is accepted whole, or not at all
    accepted = len(raw_articles(c.conn))
    assert accepted <= 1  # the page that waited for its slot was never fetched
    after = crawler(settings)  # the next run takes what was left, and nothing twice
    assert after.poll_feed(sources[0]).outcomes.get("ok") == 2 - accepted
    assert len(raw_articles(after.conn)) == 2


def test_a_feed_item_with_title_and_date_names_the_article_and_the_page_gives_its_text(
    server: LoopbackServer, settings: Settings
) -> None:
    """The page's own metadata is read only when the feed lacks the title or the date."""
    dated_page = page("Page headline, never used", BODY).replace(
        "<head>",
        "<head><meta name='author' content='Page Byline'>"
        "<meta property='article:published_time' content='2025-06-01'>",
    )
    server.add("/dated.html", dated_page, Content_Type="text/html")
    undated_page = page("Folding phone unveiled", OTHER).replace(
        "<head>", "<head><meta name='author' content='Jo Reviewer'>"
    )
    server.add("/undated.html", undated_page, Content_Type="text/html")
    items = (
        "<item><title>Lanport holds a GPU shipment</title>"
        f"<link>{server.url('/dated.html')}</link><author>desk@wire.test (Ann Desk)</author>"
        "<pubDate>Tue, 13 Jan 2026 09:00:00 GMT</pubDate></item>"
        f"<item><title>no date here</title><link>{server.url('/undated.html')}</link></item>"
    )
    server.add("/meta.xml", f'<rss version="2.0"><channel><title>m</title>{items}</channel></rss>')
    c = crawler(settings)
    c.poll_feed(Source(id="m", name="M", feed=server.url("/meta.xml")))
    by_url = {a.url.rsplit("/", 1)[1]: a for a in raw_articles(c.conn)}
    dated = by_url["dated.html"]
    assert dated.title == "Lanport holds a GPU shipment"
    assert dated.authors and "Ann Desk" in dated.authors[0]
    assert dated.published_at is not None and dated.published_at.year == 2026
    assert "graphics processors" in dated.text
    undated = by_url["undated.html"]
    assert undated.title == "Folding phone unveiled"  # the page's own metadata
    assert undated.authors == ["Jo Reviewer"]
