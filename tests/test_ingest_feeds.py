"""Feed parsing: well-formed feeds give items; hostile or broken ones never crash or explode."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from chipwire.errors import Discard
from ingest.feeds import parse_feed

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Sample Wire</title><ttl>30</ttl>
<item><title>Customs halts a chip shipment</title><link>https://news.example/a?utm_source=rss</link>
<pubDate>Wed, 14 Jan 2026 10:00:00 GMT</pubDate>
<description>&lt;p&gt;Lead&lt;/p&gt;</description></item>
<item><title>Relative link</title><link>/b</link></item>
<item><title>Script link</title><link>javascript:alert(1)</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom sample</title>
<entry><title>Licence granted</title><link href="https://atom.example/x"/><id>tag:x</id>
<updated>2026-01-28T08:00:00Z</updated></entry></feed>"""


def test_rss_items_with_dates_ttl_and_only_http_links() -> None:
    parsed = parse_feed(RSS, "https://news.example/feed.xml")
    assert [i.url for i in parsed.items] == [
        "https://news.example/a?utm_source=rss",
        "https://news.example/b",
    ]
    assert parsed.items[0].published_at is not None
    assert parsed.items[0].published_at.isoformat().startswith("2026-01-14T10:00")
    assert parsed.ttl_s == 1800


def test_atom_entries() -> None:
    parsed = parse_feed(ATOM, "https://atom.example/feed")
    assert parsed.items[0].url == "https://atom.example/x"
    assert parsed.items[0].title == "Licence granted"


def test_quadratic_entity_blowup_is_defused_quickly() -> None:
    big = b"x" * 100_000
    refs = b"&a;" * 2000
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + big + b'">]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>'
        + refs
        + b"</title><link>https://e.example/1</link></item></channel></rss>"
    )
    started = time.monotonic()
    parsed = parse_feed(bomb, "https://e.example/feed")
    assert time.monotonic() - started < 1.0
    assert all(len(item.title) <= 1000 for item in parsed.items)


def test_lone_surrogate_reference_does_not_crash() -> None:
    feed = RSS.replace(b"Customs halts", b"Customs &#xD800; halts")
    parsed = parse_feed(feed, "https://news.example/feed.xml")
    assert parsed.items


def test_html_page_is_not_a_feed() -> None:
    try:
        parse_feed(b"<html><body>not a feed</body></html>", "https://x.example/")
    except Discard as exc:
        assert exc.reason == "feed-unparseable"
    else:
        raise AssertionError("an HTML page must not parse as a feed")


def test_truncated_feed_keeps_what_parsed() -> None:
    parsed = parse_feed(RSS[: RSS.index(b"<item><title>Relative")], "https://news.example/feed.xml")
    assert [i.url for i in parsed.items] == ["https://news.example/a?utm_source=rss"]
    assert parsed.warning is not None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_items_or_a_discard(data: bytes) -> None:
    try:
        parsed = parse_feed(data, "https://fuzz.example/feed")
    except Discard:
        return
    assert all(i.url.startswith(("http://", "https://")) for i in parsed.items)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_title_text_round_trips_or_is_dropped_safely(title: str) -> None:
    from xml.sax.saxutils import escape

    safe = "".join(c for c in title if c.isprintable())
    feed = RSS.replace(b"Customs halts a chip shipment", escape(safe).encode("utf-8"))
    parsed = parse_feed(feed, "https://news.example/feed.xml")
    assert parsed.items[0].url == "https://news.example/a?utm_source=rss"
