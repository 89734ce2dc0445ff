"""The Kafka bus (kafka-python): idempotent keyed produce, group consume with explicit commits.

Delivery is checked per record: `flush()` does not raise for failed records, so every
future is inspected. A record the broker refuses for good (too large, invalid, not
authorized) is reported "rejected"; anything else that failed is "retry" and stays in the
caller's outbox. A refused record leaves kafka-python's idempotent producer failing every
later send, so the producer is rebuilt after any non-retriable failure. Producers are
per process (a producer inherited across fork() never sends).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerr
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from chipwire.bus import TOPICS, Message, Outcome, kafka_topics
from chipwire.bus.kafka_config import (
    consumer_config,
    fetch_config,
    producer_config,
    to_message,
    wire_headers,
)
from chipwire.errors import Retry
from chipwire.settings import Settings

log = logging.getLogger(__name__)

# The wait of an empty fetch while a consumer reads to the end (a drain): the end-offsets
# request that says whether anything is left is answered after the fetch parked ahead of it
# on the same connection, so a drain ends up to this long after its last batch. The cost is
# an empty fetch per wait, only while a drain finds nothing (~1 ms of client Python each).
READ_TO_END_FETCH_WAIT_MS = 50

# The broker will never accept these records, however often they are sent.
REJECTED_ERRORS: tuple[type[BaseException], ...] = (
    kerr.MessageSizeTooLargeError,
    kerr.RecordListTooLargeError,
    kerr.InvalidRecordError,
    kerr.InvalidTopicError,
    kerr.AuthorizationError,
    kerr.UnsupportedForMessageFormatError,
    TypeError,
    ValueError,
)


class KafkaBus:
    def __init__(self, settings: Settings, **producer_overrides: Any) -> None:
        self.settings = settings
        self._producer_overrides = producer_overrides
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._producer_pid = 0
        self.rebuilds = 0

    # -- producing --------------------------------------------------------------------

    def producer(self) -> KafkaProducer:
        """This process's producer, created on first use (never one inherited via fork)."""
        with self._lock:
            if self._producer is None or self._producer_pid != os.getpid():
                self._producer = KafkaProducer(
                    **{**producer_config(self.settings), **self._producer_overrides}
                )
                self._producer_pid = os.getpid()
            return self._producer

    def rebuild_producer(self, failed: KafkaProducer) -> None:
        with self._lock:
            if id(self._producer) != id(failed):
                return
            self._producer = None
            self.rebuilds += 1
        log.warning("kafka: rebuilding the producer after a non-retriable failure")
        failed.close(timeout=5)

    def publish(
        self, topic: str, key: str, value: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        (outcome,) = self.deliver(topic, [(key, value, dict(headers or {}))])
        if outcome != "delivered":
            raise Retry("kafka-publish", f"{topic} key={key}: {outcome}")

    def publish_many(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[bool]:
        return [outcome == "delivered" for outcome in self.deliver(topic, records)]

    def deliver(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[Outcome]:
        """Send a batch and wait for every record's own result."""
        publication = self.begin(topic)
        for key, value, headers in records:
            publication.add(key, value, headers)
        return publication.wait()

    def begin(self, topic: str) -> KafkaPublication:
        return KafkaPublication(self, topic)

    def flush(self, timeout_s: float | None = None) -> None:
        if self._producer is not None and self._producer_pid == os.getpid():
            self._producer.flush(timeout=timeout_s)

    # -- topics -----------------------------------------------------------------------

    def ensure_topics(self, names: Sequence[str] = TOPICS) -> None:
        """Create missing topics with partitions, replication and retention from settings."""
        kafka_topics.ensure_topics(self.settings, names)

    def topic_stats(self) -> list[kafka_topics.TopicStats]:
        return kafka_topics.topic_stats(self.settings)

    def read(self, topic: str, limit: int = 100) -> list[Message]:
        """Up to `limit` messages of `topic` from the start, outside any consumer group."""
        return kafka_topics.read_topic(self.settings, topic, limit)

    # -- consuming --------------------------------------------------------------------

    def consumer(
        self, group: str, topics: Sequence[str], *, from_beginning: bool = True
    ) -> KafkaGroupConsumer:
        prefix = self.settings.kafka_topic_prefix
        return KafkaGroupConsumer(
            consumer_config(self.settings, group, from_beginning),
            [prefix + topic for topic in topics],
            from_beginning,
            prefix,
        )

    def reader(self, topics: Sequence[str], *, from_beginning: bool = True) -> KafkaReader:
        prefix = self.settings.kafka_topic_prefix
        return KafkaReader(
            fetch_config(self.settings), [prefix + t for t in topics], from_beginning, prefix
        )

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None and self._producer_pid == os.getpid():
            producer.close(timeout=30)


class KafkaPublication:
    """One batch: each record is handed to the producer as it is added (kafka-python fills
    its batches and sends them in the background), and `wait()` flushes once and reads
    every record's own future."""

    def __init__(self, bus: KafkaBus, topic: str) -> None:
        self._bus = bus
        self._topic = topic
        self._producer = bus.producer()
        self._records: list[tuple[str, bytes, Mapping[str, str]]] = []
        self._results: list[Any] = []  # a future, or the exception that refused the send
        self._blocked: kerr.KafkaTimeoutError | None = None

    def add(self, key: str, value: bytes, headers: Mapping[str, str]) -> None:
        self._records.append((key, value, headers))
        if self._blocked is not None:  # no metadata or no buffer: every send would block
            self._results.append(self._blocked)
            return
        try:
            self._results.append(
                self._producer.send(
                    self._bus.settings.kafka_topic_prefix + self._topic,
                    value=value,
                    key=key.encode("utf-8"),
                    headers=wire_headers(headers),
                )
            )
        except kerr.KafkaTimeoutError as exc:
            log.warning("kafka: send to %s blocked: %s", self._topic, exc)
            self._blocked = exc
            self._results.append(exc)
        except (kerr.KafkaError, TypeError, ValueError) as exc:
            self._results.append(exc)

    def wait(self) -> list[Outcome]:
        if not self._results:
            return []
        settings = self._bus.settings
        limit_s = (settings.kafka_delivery_timeout_ms + settings.kafka_request_timeout_ms) / 1000
        try:
            self._producer.flush(timeout=limit_s)
        except kerr.KafkaError as exc:
            # A request in flight when the broker vanished can stay unanswered past the
            # delivery timeout (kafka-python 3.0.12): those records count as not delivered.
            log.warning("kafka: flush of %s ended after %.0f s: %r", self._topic, limit_s, exc)
        outcomes, refused = self._settle()
        if len(refused) > 1:
            # A refused batch, and the poisoned producer, fail innocent records with the
            # culprit's error: send each suspect alone to tell which ones the broker refuses.
            for index in refused:
                alone = KafkaPublication(self._bus, self._topic)
                alone.add(*self._records[index])
                (outcomes[index],) = alone.wait()
        return outcomes

    def _settle(self) -> tuple[list[Outcome], list[int]]:
        """Outcomes per record, and which records the broker itself refused."""
        outcomes: list[Outcome] = []
        refused: list[int] = []
        failures: Counter[tuple[str, str]] = Counter()
        poisoned = False
        for index, result in enumerate(self._results):
            local = isinstance(result, BaseException)  # refused before sending: no harm done
            error = result if local else result.exception
            if not local and not result.is_done:
                error = kerr.KafkaTimeoutError("not acknowledged before the wait ended")
                poisoned = True  # its producer may hold the request forever: start afresh
            if error is None:
                outcomes.append("delivered")
                continue
            outcomes.append("rejected" if isinstance(error, REJECTED_ERRORS) else "retry")
            if not local and outcomes[-1] == "rejected":
                refused.append(index)
            if not local and not isinstance(error, kerr.RetriableError):
                poisoned = True
            failures[(outcomes[-1], repr(error))] += 1
        for (outcome, error_text), count in failures.items():
            level = logging.ERROR if outcome == "rejected" else logging.WARNING
            log.log(
                level,
                "kafka: %d record(s) to %s not delivered (%s): %s",
                count,
                self._topic,
                outcome,
                error_text,
            )
        if poisoned:  # kafka-python's idempotent producer fails every later send after this
            self._bus.rebuild_producer(self._producer)
        return outcomes, refused


class KafkaGroupConsumer(ConsumerRebalanceListener):  # type: ignore[misc]
    """The bus Consumer over a KafkaConsumer in a group; offsets move only on commit()."""

    def __init__(
        self, config: dict[str, Any], topics: list[str], from_beginning: bool, prefix: str = ""
    ) -> None:
        self._consumer = KafkaConsumer(**config)
        self._group = str(config["group_id"])
        self._prefix = prefix
        self._lock = threading.Lock()
        self._polled: dict[TopicPartition, int] = {}  # next offset after what poll() returned
        self._rewind_to: dict[TopicPartition, int] = {}  # first uncommitted offset polled
        self._done: dict[TopicPartition, int] = {}  # work done, commit refused by a rebalance
        # "latest" means the end of each partition now, not when the group join completes.
        self._start_at = {} if from_beginning else self._end_offsets(topics)
        self._unchecked: set[TopicPartition] = set()
        self._joined = threading.Event()
        self._join_timeout_s = config["session_timeout_ms"] / 1000 + 10
        self.commit_failures = 0
        self._consumer.subscribe(topics, listener=self)

    def _end_offsets(self, topics: list[str]) -> dict[TopicPartition, int]:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        return dict(self._consumer.end_offsets(partitions)) if partitions else {}

    def poll(self, max_records: int = 100, timeout_s: float = 1.0) -> list[Message]:
        """Next records; the first call also waits (bounded) for the group join, so an empty
        answer means "nothing new", never "not a member yet"."""
        started = time.monotonic()
        while True:
            joined = self._joined.is_set()
            limit = timeout_s if joined else max(timeout_s, self._join_timeout_s)
            remaining = max(0.0, limit - (time.monotonic() - started))
            step = remaining if joined else min(remaining, 0.5)
            fetched = self._consumer.poll(timeout_ms=int(step * 1000), max_records=max_records)
            if fetched or time.monotonic() - started >= limit:
                break
        moved = self._apply_start_positions()
        batch: list[Message] = []
        with self._lock:
            for tp, records in fetched.items():
                if not records or tp in moved:
                    continue
                self._rewind_to.setdefault(tp, records[0].offset)
                self._polled[tp] = records[-1].offset + 1
                batch.extend(to_message(r, self._prefix) for r in records)
        return batch

    def commit(self) -> None:
        with self._lock:
            assigned = self._consumer.assignment()
            offsets = {tp: o for tp, o in self._done.items() if tp in assigned}
            offsets.update(self._polled)
            self._polled.clear()
            self._rewind_to.clear()
            self._done.clear()
        if not offsets:
            return
        try:
            self._consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
        except (kerr.CommitFailedError, kerr.RebalanceInProgressError) as exc:
            # The group moved on: whoever owns these partitions now re-reads from the last
            # committed offset, and the idempotent sinks absorb the repeat.
            self.commit_failures += 1
            log.warning("kafka: commit refused by a rebalance (%s); work will be re-read", exc)
            with self._lock:
                self._done.update(offsets)

    def rewind(self) -> None:
        with self._lock:
            targets, self._rewind_to = self._rewind_to, {}
            self._polled.clear()
        assigned = self._consumer.assignment()
        for tp, offset in targets.items():
            if tp in assigned:
                self._consumer.seek(tp, offset)

    def unread(self) -> int:
        return _unread(self._consumer, list(self._consumer.assignment()))

    def reading_to_end(self) -> AbstractContextManager[None]:
        return _fetching_what_is_there(self._consumer)

    def close(self) -> None:
        self._consumer.close(autocommit=False)

    # -- rebalance listener (runs inside poll) ----------------------------------------

    def on_partitions_revoked(self, revoked: Any) -> None:
        with self._lock:
            done = {tp: self._done.pop(tp) for tp in revoked if tp in self._done}
            for tp in revoked:  # not committed = not done: the next owner re-reads it
                self._polled.pop(tp, None)
                self._rewind_to.pop(tp, None)
        if done:
            self._consumer.commit_async(
                {tp: OffsetAndMetadata(o, "", -1) for tp, o in done.items()}
            )

    def on_partitions_lost(self, lost: Any) -> None:
        with self._lock:
            for tp in lost:
                self._done.pop(tp, None)
                self._polled.pop(tp, None)
                self._rewind_to.pop(tp, None)

    def on_partitions_assigned(self, assigned: Any) -> None:
        # Blocking calls are not allowed here (IO thread); poll() finishes the job.
        log.info(  # which replica reads what: one line per rebalance
            "kafka: group %s assigned %s",
            self._group,
            ", ".join(
                f"{tp.topic.removeprefix(self._prefix)}[{tp.partition}]" for tp in sorted(assigned)
            )
            or "nothing",
        )
        with self._lock:
            self._unchecked.update(tp for tp in assigned if tp in self._start_at)
        self._joined.set()

    def _apply_start_positions(self) -> set[TopicPartition]:
        """For a "latest" consumer: partitions the group never committed start where the
        topic ended when consumer() was called. Returns the partitions moved."""
        with self._lock:
            unchecked, self._unchecked = self._unchecked, set()
        moved = set()
        for tp in unchecked:
            if self._consumer.committed(tp) is None:
                self._consumer.seek(tp, self._start_at[tp])
                moved.add(tp)
        return moved


class KafkaReader:
    """The bus Consumer without a group: every partition assigned, so the first records
    come at once instead of after a group join (seconds). Positions live in memory."""

    def __init__(
        self, config: dict[str, Any], topics: list[str], from_beginning: bool, prefix: str = ""
    ) -> None:
        self._consumer = KafkaConsumer(**config)
        self._prefix = prefix
        self._rewind_to: dict[TopicPartition, int] = {}
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._partitions = partitions
        if not partitions:  # no such topic: nothing to read
            return
        self._consumer.assign(partitions)
        if from_beginning:
            self._consumer.seek_to_beginning(*partitions)
        else:
            self._consumer.seek_to_end(*partitions)
        for tp in partitions:  # resolved now: the first poll fetches at once ("latest" = now)
            self._consumer.position(tp)

    def poll(self, max_records: int = 100, timeout_s: float = 1.0) -> list[Message]:
        if not self._partitions:
            time.sleep(timeout_s)  # as long as an empty topic would take to answer
            return []
        fetched = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        batch: list[Message] = []
        for tp, records in fetched.items():
            if records:
                self._rewind_to.setdefault(tp, records[0].offset)
                batch.extend(to_message(r, self._prefix) for r in records)
        return batch

    def commit(self) -> None:
        self._rewind_to.clear()

    def rewind(self) -> None:
        targets, self._rewind_to = self._rewind_to, {}
        for tp, offset in targets.items():
            self._consumer.seek(tp, offset)

    def unread(self) -> int:
        return _unread(self._consumer, self._partitions)

    def reading_to_end(self) -> AbstractContextManager[None]:
        return _fetching_what_is_there(self._consumer)

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def _unread(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> int:
    """Offsets between the consumer's positions and the ends of `partitions`. The ends are
    asked of the broker (one ListOffsets request), at the consumer's isolation level: under
    read_committed the last stable offset, which a position reaches once every committed
    record was returned (kafka-python steps over transaction markers and aborted batches).
    The request shares the connection of the consumer's fetch and is answered after it: a
    fetch parked for `kafka_fetch_min_bytes` delays the answer up to its wait, unless the
    consumer is reading to the end (`_fetching_what_is_there`)."""
    if not partitions:
        return 0
    ends = consumer.end_offsets(partitions)
    return sum(max(0, ends[tp] - consumer.position(tp)) for tp in partitions)


@contextmanager
def _fetching_what_is_there(consumer: KafkaConsumer) -> Iterator[None]:
    """Fetches answered at their first record, and an empty one after a short wait, for as
    long as this lasts. kafka-python reads both from its fetcher's config each time it
    builds a fetch request (3.0.12; tests/kafka/test_kafka_requests.py times a drain on it).
    A fetch already parked keeps the wait it was sent with."""
    config = consumer._fetcher.config
    saved = {key: config[key] for key in ("fetch_min_bytes", "fetch_max_wait_ms")}
    config["fetch_min_bytes"] = 1
    config["fetch_max_wait_ms"] = min(saved["fetch_max_wait_ms"], READ_TO_END_FETCH_WAIT_MS)
    try:
        yield
    finally:
        config.update(saved)
