"""The enrich stage on a real embedded log: raw in, enriched out, and `reenrich`
replaying the raw topic through the current taxonomy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from chipwire.bus import DLQ_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.cli import app
from chipwire.contract import EnrichedArticle, RawArticle, SourceRef, article_id
from chipwire.events import encode, publish
from chipwire.schemas import SCHEMA_DIR
from chipwire.stage import StageRunner
from enrich import event_store
from enrich.event_stage import EventSink
from enrich.event_store import EventStore
from enrich.lexicon import load_lexicon
from enrich.stage import EnrichSink

STORIES = {
    "https://example.test/cn-h200": (
        "China clears first H200 imports",
        "Chinese authorities approved the first imports of Nvidia's H200 processors for "
        "three large internet companies on Tuesday, two people familiar with it said.",
    ),
    "https://example.test/laptop": (
        "New gaming laptop arrives",
        "A laptop maker launched a thinner gaming notebook with a faster graphics card.",
    ),
}


def raw(url: str, title: str, text: str) -> RawArticle:
    return RawArticle(
        id=article_id(url),
        story_id=article_id(url),
        url=url,
        canonical_url=url,
        source=SourceRef(id="test", name="Test wire", feed="https://example.test/feed"),
        title=title,
        text=text,
        fetched_at=datetime(2026, 1, 28, tzinfo=UTC),
    )


def read_all(bus: EmbeddedBus, topic: str, group: str) -> list[bytes]:
    consumer = bus.consumer(group, [topic], from_beginning=True)
    values = [m.value for m in consumer.poll(1000, 0.2)]
    consumer.close()
    return values


@pytest.fixture
def bus(tmp_path: Path) -> EmbeddedBus:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for url, (title, text) in STORIES.items():
        publish(bus, RAW_TOPIC, raw(url, title, text), stage="crawl")
    return bus


def test_sink_publishes_one_valid_enriched_article_per_raw(bus: EmbeddedBus) -> None:
    runner = StageRunner(
        bus.consumer("enrich", [RAW_TOPIC]),
        EnrichSink(bus, EventSink(bus, EventStore(event_store.connect(Path(":memory:"))))),
        bus,
    )
    assert runner.drain(idle_s=0.2) == 2
    schema = json.loads((SCHEMA_DIR / f"{ENRICHED_TOPIC}.json").read_text())
    articles = {}
    for value in read_all(bus, ENRICHED_TOPIC, "check"):
        jsonschema.validate(json.loads(value), schema)
        article = EnrichedArticle.model_validate_json(value)
        articles[article.url] = article
    policy, launch = (
        articles["https://example.test/cn-h200"],
        articles["https://example.test/laptop"],
    )
    assert (policy.stance, policy.acting_jurisdiction) == ("ease", "CN")
    assert policy.enrichment_version == load_lexicon().version
    assert policy.relevance >= 0.5
    assert launch.stance == "none" and launch.relevance < 0.5 and launch.signals == []


def test_an_invalid_raw_message_is_dead_lettered_and_the_rest_go_on(bus: EmbeddedBus) -> None:
    bus.publish(RAW_TOPIC, "broken", b'{"not": "an article"}', {})
    runner = StageRunner(
        bus.consumer("enrich", [RAW_TOPIC]),
        EnrichSink(bus, EventSink(bus, EventStore(event_store.connect(Path(":memory:"))))),
        bus,
    )
    assert runner.drain(idle_s=0.2) == 3
    assert len(read_all(bus, ENRICHED_TOPIC, "check")) == 2
    assert len(read_all(bus, DLQ_TOPIC, "check")) == 1


def test_reenrich_replays_the_raw_topic_idempotently_by_id(
    bus: EmbeddedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_url = next(iter(STORIES))
    title, text = STORIES[first_url]
    key, value, headers = encode(raw(first_url, title, text + " Updated."), stage="crawl")
    bus.publish(RAW_TOPIC, key, value, headers)  # a re-crawl of the same article
    monkeypatch.setenv("CHIPWIRE_DATA_DIR", str(tmp_path))
    cli = CliRunner()
    for _ in range(2):
        outcome = cli.invoke(app, ["reenrich", "--idle-s", "0.2"])
        assert outcome.exit_code == 0, outcome.output
        assert "re-enriched 2 articles (3 raw messages" in outcome.output
    published = [
        EnrichedArticle.model_validate_json(v) for v in read_all(bus, ENRICHED_TOPIC, "check")
    ]
    assert len(published) == 4  # two runs, each one message per article id
    assert {a.id for a in published} == {article_id(u) for u in STORIES}
    assert all(a.enrichment_version == load_lexicon().version for a in published)
    latest = [a for a in published if a.url == first_url]
    assert all(a.text.endswith("Updated.") for a in latest)


def test_reenrich_goes_on_past_an_article_the_tagger_fails_on(
    bus: EmbeddedBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import enrich.stage

    broken = article_id(next(iter(STORIES)))
    tag = enrich.stage.tag_article

    def tagger_with_a_bug(article: RawArticle) -> EnrichedArticle:
        if article.id == broken:
            raise ValueError("max() arg is an empty sequence")
        return tag(article)

    monkeypatch.setattr(enrich.stage, "tag_article", tagger_with_a_bug)
    monkeypatch.setenv("CHIPWIRE_DATA_DIR", str(tmp_path))
    outcome = CliRunner().invoke(app, ["reenrich", "--idle-s", "0.2"])
    assert outcome.exit_code == 0, outcome.output
    assert f"could not re-enrich {broken}: ValueError" in outcome.output
    assert "re-enriched 1 articles (2 raw messages, 0 invalid, 1 the tagger failed on)" in (
        " ".join(outcome.output.split())
    )
    assert "Traceback" not in outcome.output
    published = [EnrichedArticle.model_validate_json(v) for v in read_all(bus, ENRICHED_TOPIC, "x")]
    assert [a.id for a in published] == [article_id(u) for u in STORIES if article_id(u) != broken]
