"""The message contract: committed JSON Schemas match the models, and every model
round-trips through its JSON (what the bus carries) unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from chipwire.bus import ENRICHED_TOPIC, Message
from chipwire.contract import EnrichedArticle, EntityRef, Signal, SourceRef, Tags, article_id
from chipwire.events import decode, encode
from chipwire.schemas import SCHEMA_DIR, TOPIC_MODELS, render

texts = st.text(max_size=200)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789:-", min_size=1, max_size=20)
dates = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
entities = st.lists(st.builds(EntityRef, id=ids, name=texts), max_size=3)
signals = st.builds(
    Signal,
    subject=ids,
    jurisdiction=ids,
    agency=st.none() | ids,
    action=ids,
    direction=st.sampled_from(["restrict", "ease"]),
    certainty=st.sampled_from(["official", "reported", "proposed"]),
    evidence=texts,
    evidence_start=st.integers(0, 10_000),
    evidence_end=st.integers(0, 10_000),
    confidence=st.floats(0, 1),
)
articles = st.builds(
    EnrichedArticle,
    id=ids,
    story_id=ids,
    url=texts,
    canonical_url=texts,
    source=st.builds(SourceRef, id=ids, name=texts, feed=texts),
    title=texts,
    text=texts,
    summary=texts,
    authors=st.lists(texts, max_size=3),
    language=st.none() | st.sampled_from(["en", "zh"]),
    published_at=st.none() | dates,
    fetched_at=dates,
    tags=st.builds(
        Tags,
        chips=entities,
        companies=entities,
        agencies=entities,
        countries=entities,
        topics=st.lists(ids, max_size=3),
    ),
    signals=st.lists(signals, max_size=3),
    stance=st.sampled_from(["restrict", "ease", "mixed", "none"]),
    acting_jurisdiction=st.none() | ids,
    relevance=st.floats(0, 1),
    enrichment_version=ids,
)


def test_committed_schemas_match_the_models() -> None:
    for topic in TOPIC_MODELS:
        committed = (SCHEMA_DIR / f"{topic}.json").read_text(encoding="utf-8")
        assert committed == render(topic), f"schemas/{topic}.json drifted: run `make schemas`"


@given(articles)
def test_enriched_article_round_trips_and_validates(article: EnrichedArticle) -> None:
    key, value, headers = encode(article, "test")
    assert key == article.id
    assert headers["ce_type"] == "io.chipwire.article.enriched.v1"
    schema = json.loads((SCHEMA_DIR / f"{ENRICHED_TOPIC}.json").read_text())
    jsonschema.validate(json.loads(value), schema)
    again = decode(Message(ENRICHED_TOPIC, key, value, headers), EnrichedArticle)
    assert again == article


@given(st.text(max_size=100))
def test_article_id_is_deterministic(url: str) -> None:
    assert article_id(url) == article_id(url)
    assert len(article_id(url)) == 32
