"""End-to-end delivery on a real Kafka-protocol broker (tansu): nothing lost across a broker
outage under the outbox relay, consumer crashes, slow batches, poison messages, fork and
shutdown (reliability matrix A6-A9, A11, A12). Each test prints its row's figure."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from chipwire import outbox
from chipwire.bus import DLQ_TOPIC, Message
from chipwire.bus.kafka import KafkaBus
from chipwire.errors import Quarantine
from chipwire.stage import StageRunner
from ingest import state
from tests.kafka.kafka_fixtures import (
    kafka_settings,
    poll_quiet,
    poll_until,
    proxied_tansu,
    read_keys,
    unique,
)
from tests.kafka.tansu_broker import Tansu
from tests.kafka.tcp_proxy import TcpProxy

__all__ = ["proxied_tansu"]
# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def keyed(prefix: str, n: int) -> list[tuple[str, bytes, dict[str, str]]]:
    return [(f"{prefix}-{i:05d}", b'{"id": "%d"}' % i, {"ce_id": f"{prefix}{i}"}) for i in range(n)]


class KeySink:
    """An idempotent sink: remembers each key once, counts every delivery."""

    name = "test-sink"

    def __init__(self, poison: set[str] | None = None) -> None:
        self.poison = poison or set()
        self.deliveries: Counter[str] = Counter()
        self.stored: set[str] = set()
        self._batch: list[str] = []

    def handle(self, message: Message) -> None:
        if message.key in self.poison:
            raise Quarantine("invalid-message", f"{message.key} breaks the contract")
        self.deliveries[message.key] += 1
        self._batch.append(message.key)

    def flush(self) -> None:
        self.stored.update(self._batch)
        self._batch.clear()


def test_broker_outage_under_the_outbox_relay_loses_nothing(
    proxied_tansu: tuple[Tansu, TcpProxy], tmp_path: Path
) -> None:
    broker, proxy = proxied_tansu
    settings = kafka_settings(
        broker.bootstrap,
        kafka_delivery_timeout_ms=3_000,
        kafka_request_timeout_ms=2_000,
        kafka_max_block_ms=1_000,
    )
    bus = KafkaBus(settings)
    topic = unique("outage")
    bus.ensure_topics([topic])
    db = tmp_path / "state.sqlite"
    # the crawler's and the relay's connections as `chipwire run` opens them (WAL, busy
    # timeout): two writers on one file under load, as in production
    crawler_conn = state.connect(db)
    relay_conn = state.connect(db)
    stop, wake = threading.Event(), threading.Event()
    relay = threading.Thread(
        target=outbox.relay_forever,
        args=(relay_conn, bus, stop, wake),
        kwargs={"idle_s": 0.1, "min_backoff_s": 0.2, "max_backoff_s": 1.0},
    )
    relay.start()
    records = keyed("a", 600)

    def crawl() -> None:  # the crawler keeps accepting articles throughout the outage
        for i, record in enumerate(records):
            with crawler_conn:
                outbox.add(crawler_conn, topic, *record)
            wake.set()
            if i % 50 == 0:
                stop.wait(0.25)

    crawler = threading.Thread(target=crawl)
    crawler.start()
    stop.wait(1.0)
    proxy.cut()
    backlog_in_outage = outbox.backlog(crawler_conn)
    stop.wait(4.0)  # the outage
    backlog_in_outage = max(backlog_in_outage, outbox.backlog(crawler_conn))
    proxy.restore()
    restored = time.monotonic()
    crawler.join(timeout=30)
    while outbox.backlog(crawler_conn) and time.monotonic() - restored < 60:
        stop.wait(0.1)
    drain_s = time.monotonic() - restored
    stop.set()
    wake.set()
    relay.join(timeout=30)
    bus.close()

    keys = read_keys(settings, topic, len(records))
    counts = Counter(keys)
    lost = sum(1 for key, _, _ in records if key not in counts)
    dup_topic = sum(c - 1 for c in counts.values())
    print(
        f"outage under relay: accepted {len(records)}, backlog during outage "
        f"{backlog_in_outage}, drained {drain_s:.1f} s after the broker came back, "
        f"lost {lost}, dup_topic {dup_topic}"
    )
    assert outbox.backlog(crawler_conn) == 0 and outbox.failed_count(crawler_conn) == 0
    assert backlog_in_outage > 0
    assert lost == 0
    crawler_conn.close()
    relay_conn.close()


def test_a7_a_consumer_killed_before_commit_redelivers_from_the_committed_offset(
    tansu: Tansu,
) -> None:
    bus = KafkaBus(kafka_settings(tansu.bootstrap, kafka_partitions=1))
    topic = unique("a7")
    bus.ensure_topics([topic])
    records = keyed("a7", 300)
    assert all(bus.publish_many(topic, records))
    group = unique("indexer")

    first = bus.consumer(group, [topic])
    done = poll_until(first, 100)
    first.commit()  # the stage's flush succeeded for this batch
    in_flight = poll_until(first, 100)
    first.close()  # killed mid-batch: the second batch is never committed

    second = bus.consumer(group, [topic])
    after = poll_until(second, 200) + poll_quiet(second, 1.0)
    second.close()
    bus.close()

    seen = {m.key for m in done} | {m.key for m in after}
    lost = sum(1 for key, _, _ in records if key not in seen)
    redelivered = len({m.key for m in after} & {m.key for m in in_flight})
    print(f"A7: lost {lost}, redelivered {redelivered} (batch 100)")
    assert lost == 0
    assert redelivered == len(in_flight) <= 100  # exactly the uncommitted batch, again
    assert not {m.key for m in after} & {m.key for m in done}  # committed work is not re-read


def test_a9_poison_goes_to_the_dlq_with_its_reason_and_the_stream_goes_on(
    tansu: Tansu,
) -> None:
    bus = KafkaBus(kafka_settings(tansu.bootstrap))
    topic = unique("enriched")
    bus.ensure_topics([topic, DLQ_TOPIC])
    records = keyed("p", 60)
    poison = {"p-00007", "p-00031", "p-00058"}
    assert all(bus.publish_many(topic, records))

    sink = KeySink(poison)
    runner = StageRunner(bus.consumer(unique("stage"), [topic]), sink, bus)
    started = time.monotonic()
    while len(sink.stored) < len(records) - len(poison) and time.monotonic() - started < 30:
        runner.step(0.5)
    runner.consumer.close()

    dlq = bus.consumer(unique("dlq-check"), [DLQ_TOPIC])
    dead = [m for m in poll_until(dlq, 3, timeout_s=20) + poll_quiet(dlq, 1.0) if m.key in poison]
    dlq.close()
    bus.close()
    print(f"A9: dead-lettered {len(dead)}/{len(poison)}, stored {len(sink.stored)}")
    assert {m.key for m in dead} == poison
    assert all(m.headers["dlq_reason"] == "invalid-message" for m in dead)
    assert all(m.headers["dlq_topic"] == topic and m.headers["ce_id"] for m in dead)
    assert sink.stored == {key for key, _, _ in records} - poison


def test_a8_a_batch_slower_than_max_poll_interval_is_redelivered_not_lost(
    tansu: Tansu,
) -> None:
    settings = kafka_settings(tansu.bootstrap, kafka_partitions=1, kafka_max_poll_interval_ms=3_000)
    bus = KafkaBus(settings)
    topic = unique("a8")
    bus.ensure_topics([topic])
    records = keyed("a8", 40)
    assert all(bus.publish_many(topic, records))
    consumer = bus.consumer(unique("slow"), [topic])

    slow_batch = poll_until(consumer, 20)[:20]
    threading.Event().wait(6.0)  # the slow batch: twice the poll interval
    consumer.commit()  # refused: the group moved on without us
    after = poll_until(consumer, 40, timeout_s=40)
    consumer.commit()
    failures = consumer.commit_failures
    consumer.close()
    bus.close()

    seen = {m.key for m in slow_batch} | {m.key for m in after}
    lost = sum(1 for key, _, _ in records if key not in seen)
    print(f"A8: commit refusals caught {failures}, lost {lost}, re-read {len(after)}")
    assert failures == 1
    assert lost == 0


def _publish_from_child(bus: KafkaBus, topic: str, queue: multiprocessing.Queue[int]) -> None:
    queue.put(sum(bus.publish_many(topic, keyed("child", 100))))


def test_a11_a_forked_child_publishes_with_its_own_producer(tansu: Tansu) -> None:
    settings = kafka_settings(tansu.bootstrap)
    bus = KafkaBus(settings)
    topic = unique("a11")
    bus.ensure_topics([topic])
    assert bus.publish_many(topic, keyed("parent", 5)) == [True] * 5  # producer now exists

    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = context.Queue()
    child = context.Process(target=_publish_from_child, args=(bus, topic, queue))
    child.start()
    child.join(timeout=60)
    delivered = queue.get(timeout=5)
    bus.close()

    keys = read_keys(settings, topic, 105)
    print(f"A11: child delivered {delivered}/100, topic holds {len(set(keys))}")
    assert child.exitcode == 0 and delivered == 100
    assert len(set(keys)) == 105


def test_a12_sigterm_style_stop_commits_what_is_done_and_loses_nothing(tansu: Tansu) -> None:
    bus = KafkaBus(kafka_settings(tansu.bootstrap))
    topic = unique("a12")
    bus.ensure_topics([topic])
    group = unique("stage")
    records = keyed("a12", 400)
    stop = threading.Event()
    sink = KeySink()
    runner = StageRunner(bus.consumer(group, [topic]), sink, bus, max_records=50)
    worker = threading.Thread(target=runner.run, args=(stop, 0.2))
    worker.start()
    for start in range(0, 200, 50):
        assert all(bus.publish_many(topic, records[start : start + 50]))
    while len(sink.stored) < 100 and not stop.wait(0.05):
        pass
    stop.set()
    stopping = time.monotonic()
    worker.join(timeout=30)
    shutdown_s = time.monotonic() - stopping
    runner.consumer.close()
    assert all(bus.publish_many(topic, records[200:]))

    restarted = StageRunner(bus.consumer(group, [topic]), sink, bus)
    deadline = time.monotonic() + 30
    while len(sink.stored) < len(records) and time.monotonic() < deadline:
        restarted.step(0.5)
    restarted.consumer.close()
    bus.close()

    lost = len(records) - len(sink.stored)
    redelivered = sum(sink.deliveries.values()) - len(sink.stored)
    print(f"A12: stopped in {shutdown_s:.2f} s, lost {lost}, redelivered {redelivered}")
    assert not worker.is_alive() and shutdown_s < 30
    assert lost == 0
    assert redelivered == 0  # every finished batch was committed before the stop
