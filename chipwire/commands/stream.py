"""`chipwire topics list|create|describe` and `chipwire dlq list|replay`, on either bus.

Replay republishes dead-lettered messages to the topic they came from (header
`dlq_topic`) with their original key, value and headers; sinks are idempotent by key,
so replaying twice is harmless.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chipwire.bus import DLQ_TOPIC, Bus, Message, open_bus
from chipwire.bus.embedded import EmbeddedBus
from chipwire.commands.failures import UserError, clean, did_you_mean
from chipwire.settings import Settings

out = Console()
topics_app = typer.Typer(
    help="List, create and describe the stream's topics.", no_args_is_help=True
)
dlq_app = typer.Typer(help="Inspect and replay dead-lettered messages.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
    app.add_typer(dlq_app, name="dlq")


@dataclass(frozen=True)
class TopicRow:
    name: str
    partitions: int
    messages: int
    config: dict[str, str]


@contextmanager
def opened(settings: Settings | None = None) -> Iterator[Bus]:
    bus = open_bus(settings or Settings())
    try:
        yield bus
    finally:
        bus.close()


def topic_rows(bus: Bus) -> list[TopicRow]:
    if isinstance(bus, EmbeddedBus):
        return [TopicRow(name, 1, count, {}) for name, count in sorted(bus.topic_counts().items())]
    from chipwire.bus.kafka import KafkaBus

    assert isinstance(bus, KafkaBus)
    return [TopicRow(s.name, s.partitions, s.messages, s.config) for s in bus.topic_stats()]


def read(bus: Bus, topic: str, limit: int) -> list[Message]:
    if isinstance(bus, EmbeddedBus):
        return bus.read(topic, 0, limit)
    from chipwire.bus.kafka import KafkaBus

    assert isinstance(bus, KafkaBus)
    return bus.read(topic, limit)


def dead_letters(
    bus: Bus, reason: str | None = None, key: str | None = None, limit: int = 10_000
) -> list[Message]:
    return [
        m
        for m in read(bus, DLQ_TOPIC, limit)
        if (reason is None or m.headers.get("dlq_reason") == reason)
        and (key is None or m.key == key)
    ]


def replay(
    bus: Bus, reason: str | None = None, key: str | None = None, limit: int = 10_000
) -> Counter[str]:
    """Republish matching dead letters to their original topics; counts per topic (and
    under "(not delivered)" what the bus did not take: safe to run the replay again)."""
    by_topic: dict[str, list[tuple[str, bytes, dict[str, str]]]] = {}
    for message in dead_letters(bus, reason, key, limit):
        origin = message.headers.get("dlq_topic")
        if not origin:
            continue
        headers = {k: v for k, v in message.headers.items() if not k.startswith("dlq_")}
        by_topic.setdefault(origin, []).append((message.key, message.value, headers))
    replayed: Counter[str] = Counter()
    for topic, records in by_topic.items():
        delivered = bus.publish_many(topic, records)
        replayed[topic] += sum(delivered)
        replayed["(not delivered)"] += len(records) - sum(delivered)
    return +replayed


@topics_app.command("list")
def list_topics(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Topics with partitions and message counts."""
    with opened() as bus:
        rows = topic_rows(bus)
    if as_json:
        topics = [
            {"topic": r.name, "partitions": r.partitions, "messages": r.messages} for r in rows
        ]
        typer.echo(json.dumps({"topics": topics}, indent=2))
        return
    table = Table("topic", "partitions", "messages")
    for row in rows:
        table.add_row(Text(row.name), str(row.partitions), str(row.messages))
    out.print(table)


@topics_app.command("create")
def create_topics() -> None:
    """Create the chipwire topics if missing (partitions, replication, retention from settings)."""
    with opened() as bus:
        bus.ensure_topics()
        names = [row.name for row in topic_rows(bus)]
    out.print(Text("topics ready: " + ", ".join(names)))


@topics_app.command("describe")
def describe_topic(topic: Annotated[str, typer.Argument(help="Topic name")]) -> None:
    """Partitions, message count and configuration of one topic."""
    with opened() as bus:
        rows = {row.name: row for row in topic_rows(bus)}
    row = rows.get(topic)
    if row is None:
        raise UserError(
            f"no topic {topic!r}{did_you_mean(topic, sorted(rows))}; "
            f"known: {', '.join(sorted(rows))}"
        )
    out.print(
        json.dumps(
            {
                "topic": row.name,
                "partitions": row.partitions,
                "messages": row.messages,
                "config": row.config,
            },
            indent=2,
        )
    )


@dlq_app.command("list")
def list_dead_letters(
    reason: Annotated[str | None, typer.Option(help="Only this dlq_reason")] = None,
    limit: Annotated[int, typer.Option(help="Read at most this many DLQ messages")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Dead-lettered messages: where they came from and why."""
    with opened() as bus:
        messages = dead_letters(bus, reason, limit=limit)
    if as_json:
        found = [{"key": m.key, "headers": dict(m.headers)} for m in messages]
        typer.echo(json.dumps({"dead_letters": found}, indent=2, ensure_ascii=False))
        return
    table = Table("key", "reason", "stage", "from", "detail")
    for m in messages:
        h = m.headers
        where = (
            f"{h.get('dlq_topic', '?')}@{h.get('dlq_partition', '?')}:{h.get('dlq_offset', '?')}"
        )
        cells = (
            m.key,
            h.get("dlq_reason", ""),
            h.get("dlq_stage", ""),
            where,
            h.get("dlq_detail", "")[:80],
        )
        table.add_row(*(Text(clean(cell)) for cell in cells))  # data, never markup
    out.print(table)
    reasons = Counter(m.headers.get("dlq_reason", "") for m in messages)
    summary = ", ".join(f"{r}: {n}" for r, n in reasons.most_common()) or "DLQ is empty"
    out.print(Text(clean(summary)))


@dlq_app.command("replay")
def replay_dead_letters(
    reason: Annotated[str | None, typer.Option(help="Only this dlq_reason")] = None,
    key: Annotated[str | None, typer.Option(help="Only this message key")] = None,
    limit: Annotated[int, typer.Option(help="Read at most this many DLQ messages")] = 10_000,
) -> None:
    """Republish dead letters to their original topic (after the cause was fixed)."""
    with opened() as bus:
        replayed = replay(bus, reason, key, limit)
    failed = replayed.pop("(not delivered)", 0)
    detail = ", ".join(f"{topic}: {n}" for topic, n in sorted(replayed.items()))
    out.print(f"replayed {sum(replayed.values())}" + (f" ({detail})" if detail else ""))
    if failed:
        out.print(f"{failed} not delivered (bus unavailable); run the replay again")
        raise typer.Exit(1)
