"""The stage runner decides every outcome in one place: commit after success, re-read after
a transient failure, dead-letter a message that can never succeed, and keep going."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

from chipwire.bus import DLQ_TOPIC, Consumer, Message
from chipwire.bus.embedded import EmbeddedBus
from chipwire.errors import Quarantine, Retry
from chipwire.stage import StageRunner


class Recorder:
    name = "test"

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.flushed: list[list[str]] = []
        self.fail_flush = 0
        self._batch: list[str] = []

    def handle(self, message: Message) -> None:
        body = message.value.decode()
        if body == "poison":
            raise Quarantine("invalid-message", "not an article")
        if body == "crash":
            raise ValueError("boom")
        self.seen.append(body)
        self._batch.append(body)

    def flush(self) -> None:
        if self.fail_flush:
            self.fail_flush -= 1
            self._batch = []
            raise Retry("backend-down", "index unavailable")
        self.flushed.append(self._batch)
        self._batch = []


def bus_with(tmp_path: Path, *bodies: str) -> EmbeddedBus:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for i, body in enumerate(bodies):
        bus.publish("t", f"k{i}", body.encode(), {"ce_id": str(i)})
    return bus


def test_poison_and_crashing_messages_are_dead_lettered_and_the_stream_goes_on(
    tmp_path: Path,
) -> None:
    bus = bus_with(tmp_path, "a", "poison", "b", "crash", "c")
    sink = Recorder()
    runner = StageRunner(bus.consumer("g", ["t"]), sink, bus, retry_backoff_s=0.01)
    runner.drain(timeout_s=20)
    assert [b for batch in sink.flushed for b in batch][-3:] == ["a", "b", "c"]
    dlq = bus.consumer("dlq-reader", [DLQ_TOPIC]).poll(10, 0.5)
    assert [(m.key, m.headers["dlq_reason"]) for m in dlq] == [
        ("k1", "invalid-message"),
        ("k3", "crashed"),
    ]
    assert dlq[1].headers["dlq_offset"] == "3" and dlq[1].headers["ce_id"] == "3"
    assert runner.handled["dead-lettered"] == 2


def test_failed_flush_commits_nothing_and_the_batch_is_read_again(tmp_path: Path) -> None:
    bus = bus_with(tmp_path, "a", "b")
    sink = Recorder()
    sink.fail_flush = 1
    StageRunner(bus.consumer("g", ["t"]), sink, bus, retry_backoff_s=0.01).drain(timeout_s=20)
    assert sink.flushed == [["a", "b"]]
    assert sink.seen == ["a", "b", "a", "b"]


def test_a_restarted_consumer_resumes_after_the_last_commit(tmp_path: Path) -> None:
    bus = bus_with(tmp_path, "a", "b")
    StageRunner(bus.consumer("g", ["t"]), Recorder(), bus).drain(timeout_s=10)
    bus.publish("t", "k9", b"z", {})
    sink = Recorder()
    StageRunner(bus.consumer("g", ["t"]), sink, bus).drain(timeout_s=10)
    assert sink.seen == ["z"]


class PoisonFlush(Recorder):
    """A sink whose flush raises a plain exception when the batch holds a 'bad' body, the
    way tantivy raises ValueError for a value it cannot hold."""

    def flush(self) -> None:
        if "bad" in self._batch:
            self._batch = []
            raise ValueError("datetime out of range")
        super().flush()


def test_a_poison_message_found_by_bisecting_a_failed_flush_is_dead_lettered(
    tmp_path: Path,
) -> None:
    bus = bus_with(tmp_path, "a", "b", "bad", "c", "d")
    sink = PoisonFlush()
    runner = StageRunner(bus.consumer("g", ["t"]), sink, bus, retry_backoff_s=0.01)
    runner.drain(timeout_s=20)
    assert {b for batch in sink.flushed for b in batch} == {"a", "b", "c", "d"}
    dlq = bus.consumer("dlq-reader", [DLQ_TOPIC]).poll(10, 0.5)
    assert [(m.key, m.headers["dlq_reason"]) for m in dlq] == [("k2", "crashed")]
    assert "flush: ValueError" in dlq[0].headers["dlq_detail"]
    bus.publish("t", "k9", b"e", {})  # and the stream goes on
    runner.drain(timeout_s=20)
    assert sink.flushed[-1] == ["e"]


class FlakyConsumer:
    """A consumer whose poll raises something unexpected a few times."""

    def __init__(self, inner: Consumer, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("driver bug")
        return self.inner.poll(max_records, timeout_s)

    def commit(self) -> None:
        self.inner.commit()

    def rewind(self) -> None:
        self.inner.rewind()

    def unread(self) -> int:
        return self.inner.unread()

    def reading_to_end(self) -> AbstractContextManager[None]:
        return self.inner.reading_to_end()

    def close(self) -> None:
        self.inner.close()


class CountingConsumer(FlakyConsumer):
    """A consumer that counts its polls and those that came back empty."""

    def __init__(self, inner: Consumer) -> None:
        super().__init__(inner, failures=0)
        self.polls = self.empty_polls = 0

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        batch = super().poll(max_records, timeout_s)
        self.polls += 1
        self.empty_polls += not batch
        return batch


def test_a_drain_ends_at_its_last_batch_without_an_empty_poll(tmp_path: Path) -> None:
    """Once the log has nothing unread the drain is over: an empty poll to say so would
    add its whole timeout to every stage's drain (run_once drains the stages in turn)."""
    bus = bus_with(tmp_path, "a", "b", "c")
    consumer = CountingConsumer(bus.consumer("g", ["t"]))
    runner = StageRunner(consumer, Recorder(), bus)
    assert runner.drain(idle_s=5.0, timeout_s=20) == 3
    assert (consumer.polls, consumer.empty_polls) == (1, 0)
    assert runner.drain(idle_s=0.1, timeout_s=20) == 0  # caught up: one empty poll, then done
    assert (consumer.polls, consumer.empty_polls) == (2, 1)


def test_the_stage_thread_survives_any_exception(tmp_path: Path) -> None:
    bus = bus_with(tmp_path, "a", "b")
    sink = Recorder()
    consumer = FlakyConsumer(bus.consumer("g", ["t"]), failures=3)
    runner = StageRunner(consumer, sink, bus, retry_backoff_s=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while runner.committed < 2 and time.monotonic() < deadline:
            stop.wait(0.02)  # polling an outcome with a deadline, not ordering threads
        assert thread.is_alive()
        assert runner.committed == 2 and sink.flushed == [["a", "b"]]
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_drain_takes_what_is_there_without_lingering_for_more(tmp_path: Path) -> None:
    """At the end of `run_once` every stage upstream has drained: an indexer lingering a
    second per batch for articles that cannot come made each run that much longer."""
    bus = bus_with(tmp_path, "a", "b", "c")
    sink = Recorder()
    runner = StageRunner(bus.consumer("g", ["t"]), sink, bus, linger_s=30.0)
    started = time.monotonic()
    assert runner.drain(idle_s=0.05, timeout_s=60) == 3
    assert time.monotonic() - started < 10  # not the 30 s linger
    assert sink.flushed == [["a", "b", "c"]]


def test_a_batch_that_raised_retry_is_handled_again_before_anything_is_polled(
    tmp_path: Path,
) -> None:
    """Not re-read through the consumer: on Kafka a rewind re-reads only the batch's
    partitions, after records of other partitions fetched already, and a sink may publish
    for the failed batch in between (tests/kafka, the cut-mid-batch test)."""
    bus = bus_with(tmp_path, "a", "b")
    consumer = CountingConsumer(bus.consumer("g", ["t"]))
    sink = Recorder()
    sink.fail_flush = 1
    runner = StageRunner(consumer, sink, bus, retry_backoff_s=0.01)
    assert runner.drain(timeout_s=20) == 2
    assert sink.seen == ["a", "b", "a", "b"]
    assert sink.flushed == [["a", "b"]]
    assert consumer.polls == 1  # the failed batch was held, not polled again
