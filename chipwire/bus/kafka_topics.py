"""Kafka topics: creation with their policies, counts, and reading a topic outside any group.

Articles are keyed by id, so raw and enriched topics are `compact,delete`: compaction
keeps the latest version of each article (a re-crawl or a re-enrichment replaces the
older one for anyone reading from the beginning) and `delete` still ends retention by
time. Alerts are events and DLQ entries are evidence: plain time retention.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka import errors as kerr
from kafka.admin import ConfigResource, NewTopic

from chipwire.bus import (
    ALERTS_TOPIC,
    DLQ_TOPIC,
    ENRICHED_TOPIC,
    RAW_TOPIC,
    TAGGED_TOPIC,
    TOPICS,
    Message,
)
from chipwire.bus.kafka_config import client_config, to_message
from chipwire.settings import Settings

_ALREADY_EXISTS = kerr.TopicAlreadyExistsError.errno


@dataclass
class TopicStats:
    name: str
    partitions: int
    messages: int
    offsets: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition: (first, end)
    config: dict[str, str] = field(default_factory=dict)


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    retention = str(settings.kafka_retention_ms)
    articles = {"cleanup.policy": "compact,delete", "retention.ms": retention}
    return {
        RAW_TOPIC: articles,
        TAGGED_TOPIC: articles,
        ENRICHED_TOPIC: articles,
        ALERTS_TOPIC: {"cleanup.policy": "delete", "retention.ms": retention},
        DLQ_TOPIC: {
            "cleanup.policy": "delete",
            "retention.ms": str(settings.kafka_dlq_retention_ms),
        },
    }


def ensure_topics(
    settings: Settings,
    names: Sequence[str] = TOPICS,
    probe_timeout_s: float | None = None,
    partitions: int | None = None,
) -> list[str]:
    """Create the missing topics (with `partitions`, default kafka_partitions); returns the
    names created now. `probe_timeout_s` bounds the wait for an unreachable broker
    (kafka-python's default is about 30 s)."""
    configs = topic_configs(settings)
    new = [
        NewTopic(
            settings.kafka_topic_prefix + name,
            partitions or settings.kafka_partitions,
            settings.kafka_replication,
            topic_configs=configs.get(name, {}),
        )
        for name in names
    ]
    config = client_config(settings)
    if probe_timeout_s is not None:
        config["bootstrap_timeout_ms"] = int(probe_timeout_s * 1000)
    admin = KafkaAdminClient(**config)
    try:
        response = admin.create_topics(new, raise_errors=False)
    finally:
        admin.close()
    created = []
    for topic in response.get("topics", []):
        code = topic.get("error_code", 0)
        if code == 0:
            created.append(str(topic["name"]).removeprefix(settings.kafka_topic_prefix))
        elif code != _ALREADY_EXISTS:
            raise kerr.for_code(code)(f"create topic {topic['name']}: {topic}")
    return created


def topic_stats(settings: Settings, names: Sequence[str] | None = None) -> list[TopicStats]:
    admin = KafkaAdminClient(**client_config(settings))
    consumer = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
    try:
        wanted = sorted(names or [t for t in admin.list_topics() if not t.startswith("__")])
        stats = []
        for name in wanted:
            partitions = [
                TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()
            ]
            first = consumer.beginning_offsets(partitions) if partitions else {}
            end = consumer.end_offsets(partitions) if partitions else {}
            offsets = {tp.partition: (first[tp], end[tp]) for tp in partitions}
            stats.append(
                TopicStats(
                    name,
                    len(partitions),
                    sum(e - b for b, e in offsets.values()),
                    offsets,
                    _config(admin, name),
                )
            )
        return stats
    finally:
        consumer.close()
        admin.close()


def _config(admin: KafkaAdminClient, topic: str) -> dict[str, str]:
    try:
        response = admin.describe_configs([ConfigResource("TOPIC", topic)])
    except kerr.KafkaError:
        return {}
    found: dict[str, str] = {}
    for entries in _walk_configs(response):
        found.update(entries)
    return found


def _walk_configs(response: object) -> list[dict[str, str]]:
    """describe_configs answers vary by client version; collect name/value pairs found."""
    found: list[dict[str, str]] = []
    if isinstance(response, dict):
        if "name" in response and "value" in response:
            found.append({str(response["name"]): str(response["value"])})
        for value in response.values():
            found.extend(_walk_configs(value))
    elif isinstance(response, list | tuple):
        for item in response:
            found.extend(_walk_configs(item))
    return found


def read_topic(
    settings: Settings, topic: str, limit: int = 100, timeout_s: float = 10.0
) -> list[Message]:
    """Up to `limit` messages from the beginning of every partition (no group, no commit)."""
    consumer = KafkaConsumer(**client_config(settings), enable_auto_commit=False)
    prefix = settings.kafka_topic_prefix
    topic = prefix + topic
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        messages: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < limit and time.monotonic() < deadline:
            if all(consumer.position(tp) >= end[tp] for tp in partitions):
                break
            fetched = consumer.poll(timeout_ms=500, max_records=limit - len(messages))
            messages.extend(to_message(r, prefix) for records in fetched.values() for r in records)
        return sorted(messages, key=lambda m: (m.timestamp_ms, m.partition, m.offset))
    finally:
        consumer.close(autocommit=False)
