"""How chipwire talks to Kafka: client settings from Settings, and record <-> Message.

Shared by the bus (kafka.py) and the topic admin (kafka_topics.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chipwire.bus import Message
from chipwire.settings import Settings


def client_config(settings: Settings) -> dict[str, Any]:
    """Options every client (producer, consumer, admin) shares."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "client_id": settings.kafka_client_id,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "bootstrap_timeout_ms": settings.kafka_bootstrap_timeout_ms,
    }
    if settings.kafka_api_version:
        config["api_version"] = tuple(int(p) for p in settings.kafka_api_version.split("."))
    return config


def _metrics(settings: Settings) -> dict[str, Any]:
    # kafka-python records a dozen sensors per request and per batch (about 0.3 ms of a
    # produce request's ~2 ms of client Python here); nothing in chipwire reads them.
    # Producers and consumers only: the admin client takes no such option.
    return {"metrics_enabled": settings.kafka_client_metrics}


def producer_config(settings: Settings) -> dict[str, Any]:
    compression = None if settings.kafka_compression == "none" else settings.kafka_compression
    return {
        **client_config(settings),
        "enable_idempotence": True,  # explicit: a conflicting option raises instead of disabling it
        "acks": "all",
        "max_in_flight_requests_per_connection": 5,
        "delivery_timeout_ms": max(
            settings.kafka_delivery_timeout_ms,
            settings.kafka_request_timeout_ms + settings.kafka_linger_ms,
        ),
        "retry_backoff_ms": 200,
        # Every publish ends on a wait (flush), which sends at once: the linger delays
        # nothing, it keeps records added while the next article is tagged for the
        # batch's one request instead of a request each (~1.5 ms of client CPU apiece).
        "linger_ms": settings.kafka_linger_ms,
        "batch_size": settings.kafka_batch_bytes,
        "compression_type": compression,
        "max_request_size": settings.kafka_max_request_bytes,
        "max_block_ms": settings.kafka_max_block_ms,
        "allow_auto_create_topics": False,
        **_metrics(settings),
    }


def fetch_config(settings: Settings) -> dict[str, Any]:
    """How a consumer fetches: large batches, a bounded wait."""
    return {
        **client_config(settings),
        "enable_auto_commit": False,  # commit only after the stage's work is durable
        "isolation_level": "read_committed",
        "max_poll_records": settings.stage_batch_records,  # a stage's batch in one poll
        # Each fetch costs the client ~1 ms of Python: answered at the first record, the
        # three stages made ~0.6 fetches per article; at 64 KiB half that, and the commits
        # with them. Records below the minimum wait out the fetch wait (<= 0.5 s a hop;
        # StageRunner.drain checks the end offsets instead of trusting an empty poll, and
        # fetches without a minimum while it drains).
        "fetch_min_bytes": settings.kafka_fetch_min_bytes,
        # At 100 ms three idle stages spent 5 % of a core asking; at 500 a steady stream's
        # publish -> consumed p50 went 30 -> 130 ms per hop on tansu (bench_kafka).
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "max_partition_fetch_bytes": settings.kafka_max_partition_fetch_bytes,
        "allow_auto_create_topics": False,
        **_metrics(settings),
    }


def consumer_config(settings: Settings, group: str, from_beginning: bool) -> dict[str, Any]:
    return {
        **fetch_config(settings),
        "group_id": settings.kafka_topic_prefix + group,
        "auto_offset_reset": "earliest" if from_beginning else "latest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_poll_interval_ms": settings.kafka_max_poll_interval_ms,
    }


def wire_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode("utf-8", "replace")) for k, v in headers.items()]


def to_message(record: Any, prefix: str = "") -> Message:
    """The bus message of a Kafka record; topic names lose `kafka_topic_prefix`."""
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers or []}
    key = (record.key or b"").decode("utf-8", "replace")
    return Message(
        record.topic.removeprefix(prefix),
        key,
        record.value or b"",
        headers,
        record.partition,
        record.offset,
        record.timestamp,
    )
