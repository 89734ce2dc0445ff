"""Producer fault rows (reliability matrix A1, A2, A4, A5, A10) on librdkafka's mock cluster.

Each test asserts its row's invariant and prints the row's figure. Outages take every
broker down (taking a leader down alone makes kafka-python loop forever).
"""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaConfigurationError

from chipwire import outbox
from chipwire.bus.kafka import KafkaBus
from chipwire.bus.kafka_config import producer_config
from chipwire.errors import Retry
from tests.kafka.kafka_fixtures import mock_cluster, mock_settings, read_keys
from tests.kafka.mock_cluster import PRODUCE, MockCluster

__all__ = ["mock_cluster"]
# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

TOPIC = "faults.articles.v1"
NOT_ENOUGH_REPLICAS, NOT_LEADER, REQUEST_TIMED_OUT, INVALID_RECORD = 19, 6, 7, 87


def article(i: int) -> tuple[str, bytes, dict[str, str]]:
    return f"article-{i:05d}", b'{"text": "' + b"x" * 400 + b'"}', {"ce_id": f"e{i}"}


def figures(row: str, sent: int, keys: list[str]) -> tuple[int, int]:
    counts = Counter(keys)
    lost = sum(1 for i in range(sent) if article(i)[0] not in counts)
    dup_topic = sum(c - 1 for c in counts.values())
    print(f"{row}: sent {sent}, on topic {len(keys)}, lost {lost}, dup_topic {dup_topic}")
    return lost, dup_topic


def test_a10_idempotence_is_explicit_and_a_conflicting_option_fails_loudly(
    mock_cluster: MockCluster,
) -> None:
    settings = mock_settings(mock_cluster)
    bus = KafkaBus(settings)
    producer = bus.producer()
    assert producer.config["enable_idempotence"] is True
    assert producer.config["acks"] == -1
    bus.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # kafka-python leaks its half-built client
        with pytest.raises(KafkaConfigurationError):
            KafkaProducer(**{**producer_config(settings), "acks": 1})
        gc.collect()


def test_a4_retriable_produce_errors_are_retried_transparently(
    mock_cluster: MockCluster,
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=1)
    settings = mock_settings(mock_cluster, kafka_linger_ms=0)
    bus = KafkaBus(settings)
    records = [article(i) for i in range(200)]
    mock_cluster.fail_next(PRODUCE, [NOT_ENOUGH_REPLICAS, NOT_LEADER, REQUEST_TIMED_OUT] * 3)
    outcomes = bus.deliver(TOPIC, records)
    bus.close()

    assert outcomes == ["delivered"] * 200
    lost, _ = figures("A4", 200, read_keys(settings, TOPIC, 200))
    assert lost == 0


def test_a5_a_refused_record_surfaces_at_once_and_the_producer_keeps_working(
    mock_cluster: MockCluster,
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=1)
    settings = mock_settings(mock_cluster, kafka_linger_ms=0)
    bus = KafkaBus(settings)
    bus.deliver(TOPIC, [article(0)])

    mock_cluster.fail_next(PRODUCE, [INVALID_RECORD])
    started = time.monotonic()
    refused = bus.deliver(TOPIC, [article(1)])
    surfaced_s = time.monotonic() - started
    # kafka-python's idempotent producer would now fail every send; ours was rebuilt
    after = bus.deliver(TOPIC, [article(i) for i in range(2, 12)])
    too_large = bus.deliver(TOPIC, [("huge", b"x" * 2_000_000, {}), article(12)])
    bus.close()

    print(f"A5: refusal surfaced in {surfaced_s * 1000:.0f} ms, producer rebuilds {bus.rebuilds}")
    assert refused == ["rejected"] and surfaced_s < 1.0
    assert after == ["delivered"] * 10
    assert too_large == ["rejected", "delivered"]
    assert bus.rebuilds == 1
    keys = read_keys(settings, TOPIC, 12)
    assert "article-00001" not in keys and "huge" not in keys
    assert sorted(set(keys)) == sorted(article(i)[0] for i in [0, *range(2, 13)])


def test_a5_innocent_records_of_a_refused_batch_are_delivered_not_marked_failed(
    mock_cluster: MockCluster,
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=1)
    settings = mock_settings(mock_cluster, kafka_linger_ms=50)
    bus = KafkaBus(settings)
    bus.deliver(TOPIC, [article(0)])
    mock_cluster.fail_next(PRODUCE, [INVALID_RECORD])  # the whole batch comes back refused
    outcomes = bus.deliver(TOPIC, [article(i) for i in range(1, 21)])
    bus.close()
    assert outcomes == ["delivered"] * 20
    lost, _ = figures("A5 batch", 21, read_keys(settings, TOPIC, 21))
    assert lost == 0


def test_a5_the_outbox_marks_a_refused_record_failed_permanent_without_retrying(
    mock_cluster: MockCluster, tmp_path: Path
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=1)
    bus = KafkaBus(mock_settings(mock_cluster))
    conn = sqlite3.connect(tmp_path / "state.sqlite")
    conn.executescript(outbox.SCHEMA)
    with conn:
        outbox.add(conn, TOPIC, "ok-1", b"{}", {})
        outbox.add(conn, TOPIC, "huge", b"x" * 2_000_000, {})
        outbox.add(conn, TOPIC, "ok-2", b"{}", {})
    assert outbox.relay_all(conn, bus) == 2
    assert outbox.relay_all(conn, bus) == 0
    bus.close()
    rows = dict(conn.execute("SELECT key, status || '/' || attempts FROM outbox").fetchall())
    conn.close()
    assert rows == {"ok-1": "sent/1", "huge": "failed_permanent/1", "ok-2": "sent/1"}


def test_a1_a_short_outage_stalls_sends_then_all_complete(mock_cluster: MockCluster) -> None:
    mock_cluster.create_topic(TOPIC, partitions=2)
    settings = mock_settings(mock_cluster, kafka_delivery_timeout_ms=60_000)
    bus = KafkaBus(settings)
    bus.deliver(TOPIC, [article(0)])  # connected, metadata known
    records = [article(i) for i in range(1, 2000)]
    outcomes: list[str] = []

    def publish_in_chunks() -> None:
        for start in range(0, len(records), 100):
            outcomes.extend(bus.deliver(TOPIC, records[start : start + 100]))

    sender = threading.Thread(target=publish_in_chunks)
    sender.start()
    mock_cluster.all_down()
    threading.Event().wait(3.0)  # the outage itself
    mock_cluster.all_up()
    sender.join(timeout=90)
    bus.close()

    assert outcomes == ["delivered"] * len(records)
    lost, _ = figures("A1 (3 s outage)", 2000, read_keys(settings, TOPIC, 2000))
    assert lost == 0


def test_a2_an_outage_longer_than_the_delivery_timeout_loses_nothing_through_the_outbox(
    mock_cluster: MockCluster, tmp_path: Path
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=2)
    settings = mock_settings(
        mock_cluster,
        kafka_delivery_timeout_ms=2_000,
        kafka_request_timeout_ms=1_000,
        kafka_max_block_ms=1_000,
    )
    bus = KafkaBus(settings)
    bus.deliver(TOPIC, [article(0)])
    conn = sqlite3.connect(tmp_path / "state.sqlite")
    conn.executescript(outbox.SCHEMA)
    with conn:
        for i in range(1, 1000):
            outbox.add(conn, TOPIC, *article(i))

    mock_cluster.all_down()
    started = time.monotonic()
    with pytest.raises(Retry):
        outbox.relay_all(conn, bus)
    failed_during_outage = outbox.backlog(conn)
    mock_cluster.all_up()
    assert outbox.relay_all(conn, bus) == failed_during_outage
    drain_s = time.monotonic() - started
    bus.close()
    conn.close()

    print(f"A2: expired during the outage {failed_during_outage}/999, drained in {drain_s:.1f} s")
    assert failed_during_outage > 0
    lost, _ = figures("A2", 1000, read_keys(settings, TOPIC, 1000))
    assert lost == 0


def test_a3_a_lost_acknowledgement_is_retried_and_nothing_is_lost(
    mock_cluster: MockCluster,
) -> None:
    mock_cluster.create_topic(TOPIC, partitions=1)
    settings = mock_settings(
        mock_cluster, kafka_request_timeout_ms=1_500, kafka_delivery_timeout_ms=30_000
    )
    bus = KafkaBus(settings)
    bus.deliver(TOPIC, [article(0)])
    mock_cluster.delay_next(PRODUCE, [2_500, 2_500])  # applied, but answered too late
    outcomes = bus.deliver(TOPIC, [article(i) for i in range(1, 300)])
    bus.close()

    assert outcomes == ["delivered"] * 299
    keys = read_keys(settings, TOPIC, 300)
    lost, _ = figures("A3 (2 acks lost)", 300, keys)
    assert lost == 0
    # duplicates on the topic are possible (the mock does not deduplicate kafka-python's
    # retries); consumers upsert by key, so the index holds each article once
    assert len(set(keys)) == 300
