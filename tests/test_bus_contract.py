"""One contract, every bus: the embedded SQLite log and Kafka (a real tansu broker).

Stage code only knows the Bus protocol, so each promise here must hold on both.
Kafka topics have several partitions: order is compared per key, never globally.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "kafka"))
from kafka_fixtures import kafka_settings, poll_quiet, poll_until, unique

from chipwire.bus import Bus, Message
from chipwire.bus.embedded import EmbeddedBus
from chipwire.bus.kafka import KafkaBus

# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

Records = list[tuple[str, bytes, dict[str, str]]]


def records(n: int, start: int = 0) -> Records:
    return [
        (
            f"article-{i}",
            f'{{"id": "article-{i}", "title": "Exportkontrolle Nr. {i} — 半导体"}}'.encode(),
            {"ce_id": f"evt-{i}", "ce_type": "io.chipwire.article.raw.v1", "note": "ü ✓"},
        )
        for i in range(start, start + n)
    ]


def as_tuples(messages: list[Message]) -> set[tuple[str, bytes, tuple[tuple[str, str], ...]]]:
    return {(m.key, m.value, tuple(sorted(m.headers.items()))) for m in messages}


def expected(recs: Records) -> set[tuple[str, bytes, tuple[tuple[str, str], ...]]]:
    return {(k, v, tuple(sorted(h.items()))) for k, v, h in recs}


@pytest.fixture(params=["embedded", "kafka"])
def bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bus]:
    if request.param == "embedded":
        made: Bus = EmbeddedBus(tmp_path / "log.sqlite")
    else:
        broker = request.getfixturevalue("tansu")
        made = KafkaBus(kafka_settings(broker.bootstrap))
    yield made
    made.close()


@pytest.fixture
def topic(bus: Bus) -> str:
    name = unique("contract")
    if isinstance(bus, KafkaBus):
        bus.ensure_topics([name])
    return name


Publish = Callable[[Records], None]


@pytest.fixture
def publish(bus: Bus, topic: str) -> Publish:
    def _publish(recs: Records) -> None:
        assert bus.publish_many(topic, recs) == [True] * len(recs)

    return _publish


def test_round_trip_keeps_keys_values_and_headers(bus: Bus, topic: str) -> None:
    recs = records(20)
    bus.publish(topic, *recs[0])
    assert bus.publish_many(topic, recs[1:]) == [True] * 19

    consumer = bus.consumer(unique("g"), [topic])
    got = poll_until(consumer, 20)
    consumer.close()

    assert as_tuples(got) == expected(recs)
    assert all(m.topic == topic for m in got)


def test_group_resumes_from_its_committed_offsets(bus: Bus, topic: str, publish: Publish) -> None:
    group = unique("g")
    publish(records(10))
    first = bus.consumer(group, [topic])
    assert len(poll_until(first, 10)) == 10
    first.commit()
    first.close()

    publish(records(5, start=10))
    second = bus.consumer(group, [topic])
    resumed = poll_until(second, 5) + poll_quiet(second, 1.5)
    second.close()

    assert as_tuples(resumed) == expected(records(5, start=10))


def test_rewind_rereads_a_failed_batch_and_commit_moves_on(
    bus: Bus, topic: str, publish: Publish
) -> None:
    group = unique("g")
    publish(records(8))
    consumer = bus.consumer(group, [topic])
    failed = poll_until(consumer, 8)
    consumer.rewind()  # the stage's flush raised Retry: nothing of this batch counts
    again = poll_until(consumer, 8)
    consumer.commit()
    consumer.close()

    assert as_tuples(again) == as_tuples(failed) == expected(records(8))
    restarted = bus.consumer(group, [topic])
    assert poll_quiet(restarted, 1.5) == []
    restarted.close()


def test_from_beginning_reads_history_latest_reads_only_new(
    bus: Bus, topic: str, publish: Publish
) -> None:
    for record in records(3):  # one per request: tansu under-reports the end of a batch
        bus.publish(topic, *record)
    history = bus.consumer(unique("g"), [topic], from_beginning=True)
    latest = bus.consumer(unique("g"), [topic], from_beginning=False)
    publish(records(2, start=3))

    assert as_tuples(poll_until(history, 5)) == expected(records(5))
    assert as_tuples(poll_until(latest, 2) + poll_quiet(latest, 1.0)) == expected(
        records(2, start=3)
    )
    history.close()
    latest.close()


def test_two_groups_read_independently(bus: Bus, topic: str, publish: Publish) -> None:
    publish(records(6))
    indexer = bus.consumer(unique("indexer"), [topic])
    assert len(poll_until(indexer, 6)) == 6
    indexer.commit()
    indexer.close()

    alerter = bus.consumer(unique("alerter"), [topic])
    assert as_tuples(poll_until(alerter, 6)) == expected(records(6))
    alerter.close()


def test_publish_many_reports_one_result_per_record(bus: Bus, topic: str) -> None:
    assert bus.publish_many(topic, []) == []
    result = bus.publish_many(topic, records(50))
    assert result == [True] * 50
    consumer = bus.consumer(unique("g"), [topic])
    assert len({m.key for m in poll_until(consumer, 50)}) == 50
    consumer.close()


def test_same_key_keeps_its_order(bus: Bus, topic: str) -> None:
    versions = [("article-1", f"v{i}".encode(), {}) for i in range(10)]
    assert bus.publish_many(topic, versions) == [True] * 10
    consumer = bus.consumer(unique("g"), [topic])
    got = poll_until(consumer, 10)
    consumer.close()
    assert [m.value for m in got] == [f"v{i}".encode() for i in range(10)]
