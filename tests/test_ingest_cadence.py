"""Adaptive polling: the interval follows the feed's publishing rate within bounds, honours
what the feed and the server ask, and tightens after a policy shift on a covered subject."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from chipwire.bus.embedded import EmbeddedBus
from chipwire.runner import Pipeline
from chipwire.settings import Settings
from ingest import cadence, state
from ingest.cadence import Bounds, Hint
from ingest.sources import Source
from tests.alertkit import article, publish_all
from tests.crawlkit import close_crawlers, crawler  # noqa: F401
from tests.loopback import LoopbackServer

BOUNDS = Bounds(base_s=300, floor_s=60, max_s=3600)

times_st = st.lists(st.floats(0, 1e9, allow_nan=False), max_size=40)
hints_st = st.lists(st.builds(Hint, st.floats(1, 1e6), st.just("x")), max_size=3)
bounds_st = st.builds(
    lambda floor, extra, base: Bounds(base_s=floor + base, floor_s=floor, max_s=floor + extra),
    st.floats(1, 1e4),
    st.floats(0, 1e5),
    st.floats(0, 1e4),
).map(lambda b: Bounds(min(b.base_s, b.max_s), b.floor_s, b.max_s))


@given(times_st, bounds_st, hints_st, st.sampled_from([None, "shift"]))
def test_the_interval_stays_within_its_bounds(
    times: list[float], bounds: Bounds, hints: list[Hint], tightened: str | None
) -> None:
    choice = cadence.choose(times, bounds, hints, tightened)
    assert bounds.floor_s <= choice.seconds <= bounds.max_s
    assert choice.reason


@given(times_st, bounds_st, hints_st)
def test_never_sooner_than_the_server_asks_unless_that_is_beyond_the_max(
    times: list[float], bounds: Bounds, hints: list[Hint]
) -> None:
    choice = cadence.choose(times, bounds, hints)
    strictest = max((h.seconds for h in hints), default=0.0)
    assert choice.seconds >= min(strictest, bounds.max_s)


@given(times_st, bounds_st)
def test_tightening_never_lengthens_the_interval(times: list[float], bounds: Bounds) -> None:
    assert cadence.choose(times, bounds, tightened="shift").seconds <= (
        cadence.choose(times, bounds).seconds
    )


@given(st.lists(st.integers(0, 10**8), min_size=3, max_size=30, unique=True), st.integers(1, 100))
def test_a_feed_that_publishes_faster_is_polled_no_less_often(
    times: list[int], speedup: int
) -> None:
    faster = [t / speedup for t in times]
    assert cadence.choose(faster, BOUNDS).seconds <= cadence.choose(times, BOUNDS).seconds


def test_half_the_median_gap_between_items() -> None:
    every_40_minutes = [i * 2400.0 for i in range(6)]
    choice = cadence.choose(every_40_minutes, BOUNDS)
    assert choice.seconds == 1200 and "median gap" in choice.reason and "40m" in choice.reason
    assert cadence.choose([0.0, 60.0], BOUNDS).seconds == 300  # too few dates: the base


def test_caching_headers_ask_for_a_wait() -> None:
    now = time.time()
    assert cadence.header_hints({"cache-control": "public, max-age=900"}, now)[0].seconds == 900
    assert cadence.header_hints({"cache-control": "no-cache, max-age=900"}, now) == ()
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    headers = {
        "date": format_datetime(sent, usegmt=True),
        "expires": format_datetime(sent + timedelta(minutes=20), usegmt=True),
    }
    (hint,) = cadence.header_hints(headers, now)  # relative to the response's own Date
    assert hint.seconds == 1200 and "Expires" in hint.what
    assert cadence.header_hints({"expires": "0"}, now) == ()


def test_publish_to_fetch_delays_count_only_items_new_since_the_last_poll() -> None:
    now = 1_000_000.0
    first = cadence.remember(state.Cadence(), [_at(now - 7200), _at(now - 3600)], 2, now)
    assert first.delays == () and first.items_seen == 2  # published before chipwire looked
    later = now + 600
    second = cadence.remember(first, [_at(now - 3600), _at(now + 300), None], 1, later)
    assert second.delays == (300.0,) and second.items_seen == 3
    far_future = cadence.remember(second, [_at(later + 400 * 86400)], 0, later)
    assert far_future.item_times == second.item_times  # a date in 2999 is no date


def feed(server: LoopbackServer, minutes_apart: int, count: int, extra: str = "") -> str:
    newest = datetime.now(UTC).replace(microsecond=0)
    items = "".join(
        f"<item><title>n{i}</title><link>{server.url(f'/n{i}.html')}</link><pubDate>"
        f"{format_datetime(newest - timedelta(minutes=i * minutes_apart), usegmt=True)}"
        "</pubDate></item>"
        for i in range(count)
    )
    channel = f"<channel><title>t</title>{extra}{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _poll(settings: Settings, source: Source) -> state.FeedState:
    made = crawler(settings.model_copy(update={"respect_robots": False}))
    made.poll_feed(source)
    return state.feed_state(made.conn, source.id)


def test_a_busy_feed_is_polled_at_half_its_gap_and_a_server_can_ask_for_longer(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/busy.xml", feed(server, 10, 5), Content_Type="application/rss+xml")
    busy = _poll(settings, Source(id="busy", name="Busy", feed=server.url("/busy.xml")))
    assert busy.cadence.interval_s == 300 and "10m" in (busy.cadence.reason or "")
    assert abs(busy.next_check_at - (busy.last_polled_at or 0) - 300) < 1

    server.add("/cached.xml", feed(server, 10, 5), Cache_Control="max-age=1800")
    cached = _poll(settings, Source(id="cached", name="C", feed=server.url("/cached.xml")))
    assert cached.cadence.interval_s == 1800
    assert cached.cadence.reason == "server asks Cache-Control max-age 30m"

    sy = '<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">daily'
    sy += "</sy:updatePeriod>"
    server.add("/daily.xml", feed(server, 10, 5, sy))
    daily = _poll(settings, Source(id="daily", name="D", feed=server.url("/daily.xml")))
    assert daily.cadence.interval_s == settings.poll_max_interval_s  # 1 day, cut to the max
    assert "sy:updatePeriod" in (daily.cadence.reason or "")


def test_a_source_interval_is_its_floor_and_a_quiet_feed_waits_for_the_max(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/gov.xml", feed(server, 1, 5))
    official = Source(id="gov", name="G", feed=server.url("/gov.xml"), poll_interval_s=1800)
    assert _poll(settings, official).cadence.interval_s == 1800
    server.add("/quiet.xml", feed(server, 24 * 60, 5))
    quiet = _poll(settings, Source(id="quiet", name="Q", feed=server.url("/quiet.xml")))
    assert quiet.cadence.interval_s == 3600 and "cut to the max" in (quiet.cadence.reason or "")


def test_after_a_shift_a_covering_feed_is_due_at_its_floor(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/quiet.xml", feed(server, 24 * 60, 5), ETag='"q"')
    source = Source(id="quiet", name="Q", feed=server.url("/quiet.xml"))
    made = crawler(settings.model_copy(update={"respect_robots": False}))
    made.poll_feed(source)
    polled = state.feed_state(made.conn, source.id).last_polled_at or 0
    assert made.poll_due([source], now=polled + 120) == []  # an hour to wait

    state.tighten(made.conn, ["quiet"], until=polled + 6 * 3600, reason="shift on ai-chips")
    (report,) = made.poll_due([source], now=polled + 120)  # the floor (60 s) has passed
    assert report.status == "not-modified"
    after = state.feed_state(made.conn, source.id)
    assert after.cadence.interval_s == 60 and after.cadence.reason == (
        "tightened: shift on ai-chips"
    )
    assert after.tighten_until == polled + 6 * 3600  # a poll's save keeps the flag


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_a_shift_tightens_the_feeds_that_covered_its_subject(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, extract_workers=0, http_port=0)
    shift = [
        article(1, "restrict", 1, "a.example.com"),
        article(2, "restrict", 2, "b.example.org"),
        article(3, "ease", 15, "c.example.net"),
        article(4, "ease", 16, "d.example.info"),
    ]
    elsewhere = article(5, "restrict", 3, "e.example.com", subject="HBM")
    with Pipeline(settings, ("crawl", "alert")) as pipeline:
        assert isinstance(pipeline.bus, EmbeddedBus)
        publish_all(pipeline.bus, [*shift, elsewhere])
        pipeline.runners["alert"].drain(timeout_s=20)
        assert pipeline.alert_sink is not None and len(pipeline.alert_sink.alerts) == 1
    conn = state.connect(settings.state_db)
    try:
        feeds = {f.source_id: f for f in state.all_feed_states(conn) if f.tighten_until}
    finally:
        conn.close()
    covering = {"a-example-com", "b-example-org", "c-example-net", "d-example-info"}
    assert set(feeds) == covering  # e.example.com wrote about another subject
    hours = (feeds["a-example-com"].tighten_until or 0) - time.time()
    assert 5.9 * 3600 < hours <= 6 * 3600
    assert feeds["c-example-net"].tighten_reason == "CN restrict→ease on H200"
