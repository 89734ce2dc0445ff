"""The bus: publish keyed messages with headers; consume them in consumer groups.

Stage code only sees `Bus` and `Consumer`; `open_bus(settings)` picks the embedded
SQLite log or Kafka. Delivery is at-least-once: a consumer commits after its work
succeeded, and every sink is idempotent by message key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, cast, runtime_checkable

if TYPE_CHECKING:
    from chipwire.settings import Settings

RAW_TOPIC = "chipwire.articles.raw.v1"
ENRICHED_TOPIC = "chipwire.articles.enriched.v1"
# tagged, before its event story is known: from enrich replicas to the one event stage
TAGGED_TOPIC = "chipwire.articles.tagged.v1"
ALERTS_TOPIC = "chipwire.alerts.v1"
DLQ_TOPIC = "chipwire.dlq.v1"
# no messages: its partitions, shared by a consumer group, map to crawler replicas' sources
CRAWL_SHARDS_TOPIC = "chipwire.crawl.shards.v1"
TOPICS = (RAW_TOPIC, TAGGED_TOPIC, ENRICHED_TOPIC, ALERTS_TOPIC, DLQ_TOPIC)


@dataclass(frozen=True)
class Message:
    topic: str
    key: str
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0
    timestamp_ms: int = 0


class Consumer(Protocol):
    def poll(self, max_records: int = 100, timeout_s: float = 1.0) -> list[Message]:
        """Next messages after the group's position; empty list when none came in time."""
        ...

    def commit(self) -> None:
        """Commit everything returned by poll() so far."""
        ...

    def rewind(self) -> None:
        """Go back to the last committed position (after a failed batch)."""
        ...

    def unread(self) -> int:
        """Offsets in the log past what poll() has returned, as the log knows them now: 0
        when an empty poll means nothing is waiting (on Kafka an empty poll may also mean a
        fetch parked until `kafka_fetch_min_bytes` or its wait)."""
        ...

    def reading_to_end(self) -> AbstractContextManager[None]:
        """While it lasts, the producers upstream are done: fetch what the log holds now
        instead of waiting for a fuller batch (StageRunner.drain)."""
        ...

    def close(self) -> None: ...


class Bus(Protocol):
    def publish(
        self, topic: str, key: str, value: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        """Durably accept a message (raises chipwire.errors.Retry when it cannot)."""
        ...

    def publish_many(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[bool]:
        """Publish a batch; element i tells whether record i was durably accepted."""
        ...

    def flush(self, timeout_s: float | None = None) -> None: ...

    def ensure_topics(self) -> None:
        """Create the chipwire topics if missing (no-op on the embedded log)."""
        ...

    def consumer(
        self, group: str, topics: Sequence[str], *, from_beginning: bool = True
    ) -> Consumer: ...

    def reader(self, topics: Sequence[str], *, from_beginning: bool = True) -> Consumer:
        """Read `topics` outside any consumer group (no join to wait for; commit() keeps
        nothing): for one-off passes such as a replay, a re-index or `tail`."""
        ...

    def close(self) -> None: ...


Outcome = Literal["delivered", "retry", "rejected"]
"""What became of one record: on the bus; not now (try later); never (the bus refuses it)."""


@runtime_checkable
class ReportsOutcomes(Protocol):
    """A bus that can tell a record it will never accept from one it cannot accept now."""

    def deliver(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[Outcome]: ...


class Publication(Protocol):
    """A batch being published: records go out as they are added, `wait()` settles them."""

    def add(self, key: str, value: bytes, headers: Mapping[str, str]) -> None: ...

    def wait(self) -> list[Outcome]:
        """Wait once for the whole batch; element i is the outcome of the i-th add()."""
        ...


@runtime_checkable
class PublishesAhead(Protocol):
    """A bus that sends each record when it is added, before the batch is settled."""

    def begin(self, topic: str) -> Publication: ...


@dataclass
class _Collected:
    """A publication on a bus that only publishes whole batches: collect, then deliver."""

    bus: Bus
    topic: str
    records: list[tuple[str, bytes, Mapping[str, str]]] = field(default_factory=list)

    def add(self, key: str, value: bytes, headers: Mapping[str, str]) -> None:
        self.records.append((key, value, headers))

    def wait(self) -> list[Outcome]:
        records, self.records = self.records, []
        return deliver(self.bus, self.topic, records) if records else []


@functools.cache
def _has(kind: type, protocol: type) -> bool:
    """A bus class's capability, looked up once: an isinstance check against a
    runtime-checkable protocol walks the protocol's members on every call (tens of µs
    per relay pass and per stage batch)."""
    return issubclass(kind, protocol)


def begin(bus: Bus, topic: str) -> Publication:
    """Start publishing a batch to `topic`; the stage adds records, then waits once."""
    if _has(type(bus), PublishesAhead):
        return cast(PublishesAhead, bus).begin(topic)
    return _Collected(bus, topic)


def deliver(
    bus: Bus, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
) -> list[Outcome]:
    """Publish a batch and say, per record, whether it is delivered, retriable or rejected."""
    if _has(type(bus), ReportsOutcomes):
        return cast(ReportsOutcomes, bus).deliver(topic, records)
    return ["delivered" if ok else "retry" for ok in bus.publish_many(topic, records)]


def open_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        from chipwire.bus.kafka import KafkaBus

        return KafkaBus(settings)
    from chipwire.bus.embedded import EmbeddedBus

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedBus(settings.log_db)
