"""Crawler replicas share the sources through a Kafka consumer group (no new server).

The group subscribes to a small topic that never carries a message
(`chipwire.crawl.shards.v1`, `crawl_group_partitions` partitions). Kafka's group
protocol hands each live member a disjoint set of its partitions; a source belongs to
the partition `shard_of(source id, partitions)`, so each replica owns a stable subset of
the sources. A replica that dies stops heartbeating, the coordinator drops it after
`kafka_session_timeout_ms`, and the rebalance gives its partitions (its sources) to the
others. During a rebalance every member first gives up what it held (the eager
protocol), so no source has two owners at once.

Why a consumer group rather than heartbeats in a shared store: the crawlers already
need Kafka at scale, the group protocol is Kafka's own tested membership with failure
detection, and the crawlers share no database (each keeps its state in its own SQLite).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from chipwire.bus import CRAWL_SHARDS_TOPIC
from chipwire.bus.kafka_config import consumer_config
from chipwire.bus.kafka_topics import ensure_topics
from chipwire.settings import Settings

log = logging.getLogger(__name__)

GROUP = "chipwire-crawl"
POLL_S = 0.5  # how often membership is checked (heartbeats run on their own thread)


class CrawlGroup(ConsumerRebalanceListener):  # type: ignore[misc]
    """This replica's partitions of the shards topic, kept current by a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.partitions = settings.crawl_group_partitions
        ensure_topics(settings, [CRAWL_SHARDS_TOPIC], partitions=self.partitions)
        self._topic = settings.kafka_topic_prefix + CRAWL_SHARDS_TOPIC
        self._consumer = KafkaConsumer(**consumer_config(settings, GROUP, from_beginning=False))
        self._lock = threading.Lock()
        self._owned: frozenset[int] = frozenset()
        self._stop = threading.Event()
        self._consumer.subscribe([self._topic], listener=self)
        self._thread = threading.Thread(target=self._keep_member, name="crawl-group", daemon=True)
        self._thread.start()

    def owned(self) -> frozenset[int]:
        """The partitions this replica holds now (none before it joined or while the
        group rebalances)."""
        with self._lock:
            return self._owned

    def _keep_member(self) -> None:
        while not self._stop.is_set():
            try:
                self._consumer.poll(timeout_ms=int(POLL_S * 1000))  # joins, rebalances
            except Exception as exc:  # the broker away: keep trying, own nothing meanwhile
                self._set(frozenset(), f"membership check failed: {exc}")
                self._stop.wait(POLL_S)
        self._consumer.close(autocommit=False)

    def _set(self, owned: frozenset[int], why: str) -> None:
        with self._lock:
            changed, self._owned = owned != self._owned, owned
        if changed:
            log.info(
                "crawl group: this replica owns %d of %d source partitions %s (%s)",
                len(owned),
                self.partitions,
                sorted(owned),
                why,
            )

    # -- rebalance listener (runs inside poll, on the membership thread) -------------

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._set(frozenset(), "rebalance")

    def on_partitions_lost(self, lost: Any) -> None:
        self._set(frozenset(), "membership lost")

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._set(frozenset(tp.partition for tp in assigned), "assigned")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
