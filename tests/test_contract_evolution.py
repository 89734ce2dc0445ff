"""The contract can evolve: a record with a field this version does not know flows through
every stage (and the stages write only the fields they know); a tombstone is skipped, not
dead-lettered; each committed schema changes only additively against the released one."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chipwire.bus import DLQ_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import RawArticle, SourceRef, article_id
from chipwire.events import encode
from chipwire.runner import Pipeline
from chipwire.schemas import RELEASED_DIR, SCHEMA_DIR, TOPIC_MODELS, incompatibilities
from chipwire.settings import Settings
from tests.test_stream_schemas import contract_violations

TEXT = (
    "China's customs administration told import agents that Nvidia's H200 processors are not "
    "permitted to enter the country, according to logistics firms briefed on the instruction. "
    "Shipments already at the border were sent back to Hong Kong warehouses."
)


def raw_article(slug: str) -> RawArticle:
    url = f"https://news.example.org/{slug}"
    return RawArticle(
        id=article_id(url),
        story_id=article_id(url),
        url=url,
        canonical_url=url,
        source=SourceRef(id="wire", name="Wire", feed="https://news.example.org/feed"),
        title="Customs turn back Nvidia H200 shipments",
        text=TEXT,
        published_at=datetime(2026, 1, 13, 8, tzinfo=UTC),
        fetched_at=datetime(2026, 1, 13, 9, tzinfo=UTC),
    )


def with_future_fields(value: bytes) -> bytes:
    """The body as a newer producer might write it: new optional fields, also nested."""
    body: dict[str, Any] = json.loads(value)
    body["sentiment_v2"] = {"score": 0.3, "model": "next"}
    body["source"]["region"] = "APAC"
    return json.dumps(body).encode()


def test_a_record_with_unknown_fields_flows_through_every_stage(settings: Settings) -> None:
    with Pipeline(settings, ("enrich", "events", "index", "alert")) as pipeline:
        key, value, headers = encode(raw_article("customs"), stage="crawl")
        pipeline.bus.publish(RAW_TOPIC, key, with_future_fields(value), headers)
        pipeline.runners["enrich"].drain()
        # a newer enricher's output reaches the index and the alerter too
        bus = pipeline.bus
        assert isinstance(bus, EmbeddedBus)
        (enriched,) = bus.read(ENRICHED_TOPIC, 0, 10)
        key2, value2, headers2 = encode(raw_article("customs-2"), stage="enrich")
        bus.publish(ENRICHED_TOPIC, key2, with_future_fields(value2), headers2)
        for name in ("index", "alert"):
            pipeline.runners[name].drain()
        handled = {name: dict(r.handled) for name, r in pipeline.runners.items()}
        assert pipeline.backend is not None
        assert pipeline.backend.count() == 2
        dead = bus.read(DLQ_TOPIC, 0, 10)
    assert dead == []
    assert handled == {"enrich": {"ok": 1}, "index": {"ok": 2}, "alert": {"ok": 2}}
    # the enricher read the record and wrote only the fields it knows, valid for v1
    assert "sentiment_v2" not in json.loads(enriched.value)
    assert "region" not in json.loads(enriched.value)["source"]
    assert contract_violations([enriched]) == []


def test_tombstones_are_skipped_not_dead_lettered(settings: Settings) -> None:
    with Pipeline(settings, ("enrich", "events", "index", "alert")) as pipeline:
        pipeline.bus.publish(RAW_TOPIC, "gone-1", b"", {})
        pipeline.bus.publish(ENRICHED_TOPIC, "gone-2", b"", {})
        for runner in pipeline.runners.values():
            runner.drain()
        handled = {name: dict(r.handled) for name, r in pipeline.runners.items()}
        bus = pipeline.bus
        assert isinstance(bus, EmbeddedBus)
        dead = bus.read(DLQ_TOPIC, 0, 10)
    assert dead == []
    assert handled == {
        "enrich": {"tombstone": 1},
        "index": {"tombstone": 1},
        "alert": {"tombstone": 1},
    }


@pytest.mark.parametrize("topic", list(TOPIC_MODELS))
def test_each_schema_is_additive_against_the_released_one(topic: str) -> None:
    released = json.loads((RELEASED_DIR / f"{topic}.json").read_text(encoding="utf-8"))
    current = json.loads((SCHEMA_DIR / f"{topic}.json").read_text(encoding="utf-8"))
    assert incompatibilities(released, current) == [], (
        f"{topic} changed incompatibly within v1: make the change additive, or publish a v2"
    )


def test_the_compatibility_check_catches_breaking_changes() -> None:
    released = json.loads((RELEASED_DIR / f"{ENRICHED_TOPIC}.json").read_text(encoding="utf-8"))
    added = copy.deepcopy(released)
    added["properties"]["sentiment"] = {"type": "number", "default": 0}
    assert incompatibilities(released, added) == []

    removed = copy.deepcopy(released)
    del removed["properties"]["summary"]
    retyped = copy.deepcopy(released)
    retyped["properties"]["relevance"]["type"] = "string"
    required = copy.deepcopy(released)
    required["required"] = [*required["required"], "stance"]
    narrowed = copy.deepcopy(released)
    narrowed["$defs"]["Signal"]["properties"]["direction"]["enum"] = ["restrict"]
    found = {
        "removed": incompatibilities(released, removed),
        "retyped": incompatibilities(released, retyped),
        "required": incompatibilities(released, required),
        "narrowed": incompatibilities(released, narrowed),
    }
    assert all(found.values()), found
    assert "$.summary: removed" in found["removed"]
