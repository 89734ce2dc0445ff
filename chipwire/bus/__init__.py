"""The bus: publish keyed messages with headers; consume them in consumer groups.

Stage code only sees `Bus` and `Consumer`; `open_bus(settings)` picks the embedded
SQLite log or Kafka. Delivery is at-least-once: a consumer commits after its work
succeeded, and every sink is idempotent by message key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from chipwire.settings import Settings

RAW_TOPIC = "chipwire.articles.raw.v1"
ENRICHED_TOPIC = "chipwire.articles.enriched.v1"
ALERTS_TOPIC = "chipwire.alerts.v1"
DLQ_TOPIC = "chipwire.dlq.v1"
TOPICS = (RAW_TOPIC, ENRICHED_TOPIC, ALERTS_TOPIC, DLQ_TOPIC)


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

    def close(self) -> None: ...


Outcome = Literal["delivered", "retry", "rejected"]
"""What became of one record: on the bus; not now (try later); never (the bus refuses it)."""


@runtime_checkable
class ReportsOutcomes(Protocol):
    """A bus that can tell a record it will never accept from one it cannot accept now."""

    def deliver(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[Outcome]: ...


def deliver(
    bus: Bus, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
) -> list[Outcome]:
    """Publish a batch and say, per record, whether it is delivered, retriable or rejected."""
    if isinstance(bus, ReportsOutcomes):
        return bus.deliver(topic, records)
    return ["delivered" if ok else "retry" for ok in bus.publish_many(topic, records)]


def open_bus(settings: Settings) -> Bus:
    if settings.bus == "kafka":
        from chipwire.bus.kafka import KafkaBus

        return KafkaBus(settings)
    from chipwire.bus.embedded import EmbeddedBus

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedBus(settings.log_db)
