"""Every message the pipeline produces validates against the committed JSON Schema of its
topic (schemas/*.json, what downstream consumers code against), with key = id and the
CloudEvents binary-mode headers docs/STREAM.md promises."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC, RAW_TOPIC, Message
from chipwire.bus.embedded import EmbeddedBus
from chipwire.demo import DEMO_ARTICLES, serve_demo
from chipwire.runner import run_once
from chipwire.schemas import SCHEMA_DIR, TOPIC_MODELS
from tests.conftest import demo_settings
from tests.smtp import Inbox

CE_HEADERS = {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"}
CE_TYPES = {
    RAW_TOPIC: "io.chipwire.article.raw.v1",
    ENRICHED_TOPIC: "io.chipwire.article.enriched.v1",
    ALERTS_TOPIC: "io.chipwire.alert.v1",
}


@cache
def validator(topic: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{topic}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def contract_violations(messages: Iterable[Message]) -> list[str]:
    """What breaks the published contract, message by message (empty when all is well)."""
    problems = []
    for m in messages:
        where = f"{m.topic}@{m.partition}:{m.offset} key={m.key}"
        body: dict[str, Any] = json.loads(m.value)
        problems += [f"{where}: {e.message}" for e in validator(m.topic).iter_errors(body)]
        if body.get("id") != m.key:
            problems.append(f"{where}: key is not the id {body.get('id')!r}")
        if missing := CE_HEADERS - set(m.headers):
            problems.append(f"{where}: missing headers {sorted(missing)}")
        if m.headers.get("ce_type") != CE_TYPES[m.topic]:
            problems.append(f"{where}: ce_type {m.headers.get('ce_type')!r}")
        if m.headers.get("content-type") != "application/json":
            problems.append(f"{where}: content-type {m.headers.get('content-type')!r}")
    return problems


def test_every_topic_with_a_model_has_a_committed_schema() -> None:
    assert set(TOPIC_MODELS) == {RAW_TOPIC, ENRICHED_TOPIC, ALERTS_TOPIC}
    for topic in TOPIC_MODELS:
        assert validator(topic).schema["$id"] == topic


def test_a_message_that_breaks_the_schema_is_caught() -> None:
    bad = Message(
        ENRICHED_TOPIC,
        "x",
        json.dumps({"id": "x", "schema_version": 2}).encode(),
        {h: "v" for h in CE_HEADERS},
    )
    problems = contract_violations([bad])
    assert any("schema_version" in p or "required" in p for p in problems)


def test_every_message_of_the_demo_run_honours_the_contract(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    _, port = smtp
    with serve_demo() as server:
        settings = demo_settings(tmp_path, server.base_url, port)
        report = run_once(settings)
    bus = EmbeddedBus(settings.log_db)
    messages = {topic: bus.read(topic, 0, 10_000) for topic in TOPIC_MODELS}
    bus.close()

    assert report.accepted == len(DEMO_ARTICLES)
    assert len(messages[RAW_TOPIC]) == len(DEMO_ARTICLES)
    # every article enriched, some again when a later report renamed their event story
    assert {m.key for m in messages[ENRICHED_TOPIC]} == {m.key for m in messages[RAW_TOPIC]}
    assert len(messages[ALERTS_TOPIC]) >= 1
    everything = [m for topic in TOPIC_MODELS for m in messages[topic]]
    assert contract_violations(everything) == []
