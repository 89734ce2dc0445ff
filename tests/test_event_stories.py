"""Event stories: reports of one move by several outlets, in English and Chinese, are one
event story (whatever order they arrive in); a later move on the same chip is another;
copies still count once for corroboration while each outlet's own report counts.
The texts are written by the team; the tagger is the real one."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alerts.corroborate import Profile, replay
from alerts.observe import observations_of
from chipwire.bus import ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.cli import app
from chipwire.contract import EnrichedArticle, RawArticle, SourceRef, article_id
from chipwire.settings import Settings
from enrich import event_store
from enrich.event_stage import EventSink
from enrich.event_store import EventStore
from enrich.event_stories import Report, numbers_in, same_event
from enrich.stage import EnrichSink
from index.tantivy_backend import TantivyBackend
from ingest import dedupe

T0 = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)

LEDGER = (
    "https://harbor-ledger.example/h200-customs",
    "Harbor Ledger",
    "en",
    T0,
    "China's customs agency told clearing agents this week that Nvidia's H200 accelerators "
    "are not permitted to enter the country, three people briefed on the instruction said. "
    "The General Administration of Customs gave no reason, and the agents were told to stop "
    "filing paperwork for the chips.",
)
BRIEF = (
    "https://silicon-brief.example/h200-border",
    "Silicon Brief",
    "en",
    T0 + timedelta(hours=6),
    "Chinese customs officers have been instructed to block imports of Nvidia H200 "
    "processors, according to two logistics executives. Shipments already at the border in "
    "Shenzhen were turned back on Wednesday, they said.",
)
HUAXIA = (
    "https://huaxia-tech.example/h200",
    "华夏科技报",
    "zh",
    T0 + timedelta(hours=17),
    "据三名知情人士透露，中国海关总署本周通知报关代理，禁止英伟达H200芯片进口，"
    "相关申报手续一律暂停办理。",
)
MONTH_LATER = (
    "https://harbor-ledger.example/h200-hong-kong",
    "Harbor Ledger",
    "en",
    T0 + timedelta(days=35),
    "China's customs agency has widened its block on Nvidia's H200 accelerators to cover "
    "chips routed through Hong Kong, two freight forwarders said on Friday. The General "
    "Administration of Customs told agents that such parcels are not permitted to enter.",
)
SAME_EVENT = (LEDGER, BRIEF, HUAXIA)


def raw(
    report: tuple[str, str, str, datetime, str],
    copies: dedupe.NearDuplicates | None = None,
    seen_after: timedelta = timedelta(minutes=4),
) -> RawArticle:
    url, outlet, language, published, text = report
    aid = article_id(url)
    copy_id = aid
    if copies is not None:  # the crawler's own copy clustering
        signature = dedupe.minhash(text)
        copy_id = copies.story_of(signature) or aid
        copies.add(aid, copy_id, signature)
    return RawArticle(
        id=aid,
        story_id=copy_id,
        url=url,
        canonical_url=url,
        source=SourceRef(id=outlet.lower().replace(" ", "-"), name=outlet, feed=url),
        title="",
        text=text,
        language=language,
        published_at=published,
        fetched_at=published + seen_after,
    )


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[EmbeddedBus]:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    yield bus
    bus.close()


@pytest.fixture
def events(tmp_path: Path) -> Iterator[EventStore]:
    conn = event_store.connect(tmp_path / "events.sqlite")
    yield EventStore(conn)
    conn.close()


@pytest.fixture
def sink(bus: EmbeddedBus, events: EventStore) -> EnrichSink:
    return EnrichSink(bus, EventSink(bus, events))


def published(bus: EmbeddedBus) -> dict[str, EnrichedArticle]:
    """Each article's latest enriched message (what compaction keeps, what sinks hold)."""
    consumer = bus.consumer(f"check-{uuid.uuid4().hex}", [ENRICHED_TOPIC], from_beginning=True)
    latest = {}
    while batch := consumer.poll(500, 0.1):
        for message in batch:
            article = EnrichedArticle.model_validate_json(message.value)
            latest[article.id] = article
    consumer.close()
    return latest


def test_the_article_kept_for_a_rename_is_the_message_as_published(
    sink: EnrichSink, bus: EmbeddedBus, events: EventStore
) -> None:
    """Serialised once: the same bytes go to the bus and into the store."""
    for report in SAME_EVENT:
        sink.enrich(raw(report))
    sink.flush()
    consumer = bus.consumer("check", [ENRICHED_TOPIC], from_beginning=True)
    sent = {m.key: m.value for m in consumer.poll(100, 0.1)}
    consumer.close()
    kept = dict(events.conn.execute("SELECT article_id, article FROM event_reports"))
    assert len(sent) == len(SAME_EVENT)
    assert {key: value.decode() for key, value in sent.items()} == kept


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_english_and_chinese_reports_of_one_move_are_one_event_story(
    sink: EnrichSink, bus: EmbeddedBus, order: tuple[int, int, int]
) -> None:
    for i in order:
        sink.enrich(raw(SAME_EVENT[i]))
        sink.flush()
    first = article_id(LEDGER[0])
    # reports published before the ones that arrived first renamed them: published again
    assert {a.event_id for a in published(bus).values()} == {first}
    later = sink.enrich(raw(MONTH_LATER))
    assert later.event_id == later.id != first  # same chip, same move, a month on: another


def test_copies_count_once_and_each_outlets_own_report_counts(
    sink: EnrichSink, tmp_path: Path
) -> None:
    copies = dedupe.NearDuplicates(0.7)
    _, _, language, published, text = LEDGER
    syndicated = ("https://wire-reprints.example/h200", "Wire Reprints", language, published, text)
    original = sink.enrich(raw(LEDGER, copies))
    copy = sink.enrich(raw(syndicated, copies, seen_after=timedelta(hours=2)))
    own = sink.enrich(raw(BRIEF, copies))
    assert copy.story_id == original.story_id != own.story_id  # the copy id
    assert original.event_id == copy.event_id == own.event_id == original.id  # the event

    settings = Settings(data_dir=tmp_path)
    profile = Profile()
    copied = [o for a in (original, copy) for o in observations_of(a, settings)]
    assert len({o.publisher for o in copied}) == 2  # two publishers carry the one text
    assert replay(copied, profile).confirmed is None  # one text on two sites: one report
    both = copied + observations_of(own, settings)
    state = replay(both, profile)
    assert (state.confirmed, state.reports) == ("restrict", 2)  # two outlets' own reports


def test_redelivery_keeps_the_event_and_a_late_earlier_report_renames_it(
    sink: EnrichSink, bus: EmbeddedBus, events: EventStore
) -> None:
    brief = sink.enrich(raw(BRIEF))
    sink.flush()
    assert brief.event_id == brief.id
    assert sink.enrich(raw(BRIEF)).event_id == brief.id  # redelivered: same event
    sink.flush()
    assert events.stale() == []
    ledger = sink.enrich(raw(LEDGER))  # published earlier, arrived later
    assert ledger.event_id == ledger.id
    assert events.event_of(brief.id) == ledger.id
    sink.flush()
    latest = published(bus)
    assert latest[brief.id].event_id == ledger.id  # the renamed article went out again
    assert latest[brief.id].text == brief.text  # whole, as compaction will keep it


@pytest.mark.parametrize(
    ("english", "chinese", "expected"),
    [
        ("more than 400,000 chips", "超过40万颗", "400000"),
        ("a 25% fee", "25%的费用", "25%"),
        ("$5.5bn in charges", "55亿美元", "5.5e+09"),
        ("25 per cent of revenue", "收入的25％", "25%"),
    ],
)
def test_numbers_are_written_one_way_in_both_languages(
    english: str, chinese: str, expected: str
) -> None:
    assert expected in numbers_in(english) and expected in numbers_in(chinese)


def test_years_and_days_of_the_month_are_not_event_numbers() -> None:
    assert numbers_in("On January 28, 2026, after 12 days") == frozenset()


# order independence, on reports drawn from a small world so that many of them match

_MOVES = ["H200|CN|restrict", "H200|CN|ease", "H20|US|restrict"]
_WORDS = ["customs", "imports", "licence", "海关", "进口", "approval"]


@st.composite
def reports(draw: st.DrawFn) -> list[Report]:
    n = draw(st.integers(1, 9))
    drawn = []
    for i in range(n):
        drawn.append(
            Report(
                article_id=f"a{i}",
                copy_id=f"a{draw(st.integers(0, i))}",
                published=T0 + timedelta(hours=draw(st.integers(0, 24 * 8))),
                language=draw(st.sampled_from(["en", "zh"])),
                moves=frozenset(draw(st.sets(st.sampled_from(_MOVES), max_size=2))),
                actions=frozenset(draw(st.sets(st.sampled_from(["import_restriction"])))),
                agencies=frozenset(draw(st.sets(st.sampled_from(["CN:GAC", "US:BIS"])))),
                entities=frozenset(draw(st.sets(st.sampled_from(["H200", "Nvidia"])))),
                numbers=frozenset(draw(st.sets(st.sampled_from(["25%", "400000"])))),
                words=frozenset(draw(st.sets(st.sampled_from(_WORDS), max_size=4))),
            )
        )
    return drawn


def _file_all(drawn: list[Report]) -> dict[str, str]:
    conn = event_store.connect(Path(":memory:"))
    store = EventStore(conn)
    for report in drawn:
        store.assign(report)
    found = store.events()
    conn.close()
    return found


def _components(drawn: list[Report]) -> dict[str, str]:
    """The events by definition: connected components of the rule, named after their
    earliest report."""
    parent = {r.article_id: r.article_id for r in drawn}

    def root(a: str) -> str:
        while parent[a] != a:
            a = parent[a]
        return a

    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            if same_event(a, b):
                parent[root(a.article_id)] = root(b.article_id)
    by_id = {r.article_id: r for r in drawn}
    groups: dict[str, list[Report]] = {}
    for r in drawn:
        groups.setdefault(root(r.article_id), []).append(r)
    name = {
        g: min(members, key=lambda r: (r.published, r.article_id)).article_id
        for g, members in groups.items()
    }
    return {a: name[root(a)] for a in by_id}


@settings(max_examples=60)
@given(data=st.data())
def test_events_do_not_depend_on_arrival_order(data: st.DataObject) -> None:
    drawn = data.draw(reports())
    shuffled = data.draw(st.permutations(drawn))
    assert _file_all(drawn) == _file_all(list(shuffled)) == _components(drawn)


@settings(max_examples=40)
@given(drawn=reports())
def test_the_rule_is_symmetric(drawn: list[Report]) -> None:
    assert all(same_event(a, b) == same_event(b, a) for a in drawn for b in drawn)


# the story seen through the API, the article page and the CLI


@pytest.fixture
def indexed(tmp_path: Path, events: EventStore) -> tuple[Path, list[EnrichedArticle]]:
    delays = [timedelta(minutes=3), timedelta(minutes=40), timedelta(hours=2)]
    log = EmbeddedBus(tmp_path / "log.sqlite")
    sink = EnrichSink(log, EventSink(log, events))
    articles = [sink.enrich(raw(r, seen_after=d)) for r, d in zip(SAME_EVENT, delays, strict=True)]
    articles.append(sink.enrich(raw(MONTH_LATER)))
    backend = TantivyBackend(tmp_path / "data" / "index")
    backend.upsert(articles)
    backend.commit()
    backend.close()
    return tmp_path / "data", articles


def test_the_api_shows_the_first_reporter_and_every_outlets_delays(
    indexed: tuple[Path, list[EnrichedArticle]],
) -> None:
    from chipwire.web import create_web_app
    from tests.test_search_api import serve_app

    data_dir, articles = indexed
    chinese = articles[2]
    site_app = create_web_app(Settings(data_dir=data_dir, search="tantivy"))
    for site in serve_app(site_app):
        story = site.get(f"/api/articles/{chinese.id}/story").json()
        assert story["event_id"] == articles[0].id
        assert story["first"]["outlet"] == "Harbor Ledger"
        assert [o["outlet"] for o in story["outlets"]] == [
            "Harbor Ledger",
            "Silicon Brief",
            "华夏科技报",
        ]
        assert [o["after_first_s"] for o in story["outlets"]] == [0, 6 * 3600, 17 * 3600]
        assert [o["seen_after_s"] for o in story["outlets"]] == [180, 2400, 7200]
        assert story["languages"] == ["en", "zh"]
        assert site.get("/api/articles/nope/story").status_code == 404

        page = site.get(f"/articles/{articles[0].id}").text
        section = page[page.index("The story's other outlets") :]
        assert f'href="/articles/{chinese.id}" lang="zh"' in section
        assert f'href="/articles/{articles[3].id}"' not in section  # the month-later move
        assert "First reported by <strong>Harbor Ledger</strong>" in section


def test_the_cli_prints_the_story(indexed: tuple[Path, list[EnrichedArticle]]) -> None:
    data_dir, articles = indexed
    env = {"CHIPWIRE_DATA_DIR": str(data_dir), "CHIPWIRE_CONFIG": "/absent.toml", "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["story", articles[1].id, "--json"], env=env)
    assert result.exit_code == 0, result.output
    story = json.loads(result.stdout)
    assert story["first"]["article_id"] == articles[0].id and len(story["outlets"]) == 3
    table = CliRunner().invoke(app, ["story", articles[1].id], env=env)
    assert "3 reports from 3 outlets, first by Harbor Ledger" in table.stdout
    missing = CliRunner().invoke(app, ["story", "nope"], env=env)
    assert missing.exit_code == 1 and "no indexed article" in missing.stderr


def test_articles_are_kept_to_publish_again_for_thirty_days_after_they_were_filed(
    sink: EnrichSink, events: EventStore
) -> None:
    now = [1_800_000_000.0]
    events.clock = lambda: now[0]
    old = sink.enrich(raw(LEDGER))
    sink.flush()  # published: nothing left to publish again
    now[0] += timedelta(days=31).total_seconds()
    sink.enrich(raw(MONTH_LATER))
    events.forget_articles()
    kept = events.conn.execute(
        "SELECT article_id FROM event_reports WHERE article IS NOT NULL"
    ).fetchall()
    assert kept == [(article_id(MONTH_LATER[0]),)]
    assert events.event_of(old.id) == old.id  # its event is still known


def test_news_from_a_month_later_filed_first_leaves_an_older_event_its_rename(
    sink: EnrichSink, bus: EmbeddedBus
) -> None:
    """Partitions are read at their own pace: the later reports and a month-later one are
    filed (and the kept articles pruned) before the earliest report of their event."""
    for report in (HUAXIA, BRIEF, MONTH_LATER):
        sink.enrich(raw(report))
    sink.flush()
    sink.enrich(raw(LEDGER))
    sink.flush()
    latest = published(bus)
    first = article_id(LEDGER[0])
    assert {latest[article_id(r[0])].event_id for r in SAME_EVENT} == {first}


def test_a_store_from_before_filing_times_keeps_its_articles_from_the_upgrade_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.sqlite"
    old_schema = event_store._SCHEMA.replace(
        "stale INTEGER NOT NULL,     -- 1: its event id differs from the one last published\n"
        "    filed REAL                  -- when `article` was kept (Unix time), to drop it later",
        "stale INTEGER NOT NULL",
    )
    assert "filed" not in old_schema
    before = sqlite3.connect(path)
    before.executescript(old_schema)
    before.execute("INSERT INTO event_reports VALUES ('a', 'a', '2026-01-14', '{}', '{}', 0)")
    before.commit()
    before.close()
    store = EventStore(event_store.connect(path))
    store.forget_articles()
    kept = store.conn.execute("SELECT article_id FROM event_reports WHERE article IS NOT NULL")
    assert kept.fetchall() == [("a",)]
    store.clock = lambda: 1e12  # long after the upgrade
    store.forget_articles()
    kept = store.conn.execute("SELECT article_id FROM event_reports WHERE article IS NOT NULL")
    assert kept.fetchall() == []
