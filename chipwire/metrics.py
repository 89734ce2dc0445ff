"""Prometheus metrics: one counter per unit of work with a `status` label, counted once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

FEED_POLLS = Counter("chipwire_feed_polls_total", "Feed polls by outcome", ["status"])
ARTICLES = Counter(
    "chipwire_articles_total",
    "Feed items by outcome (ok, seen, near-dup, no-text, error…)",
    ["status"],
)
FETCHES = Counter(
    "chipwire_fetches_total",
    "HTTP fetches (feed, page, robots) by outcome: ok, not-modified or the failure reason",
    ["kind", "status"],
)
MESSAGES = Counter(
    "chipwire_messages_total", "Bus messages handled per stage by outcome", ["stage", "status"]
)
ALERTS = Counter("chipwire_alerts_total", "Alert emails by outcome", ["status"])
OUTBOX_BACKLOG = Gauge("chipwire_outbox_backlog", "Messages accepted but not yet on the bus")
STAGE_SECONDS = Histogram("chipwire_stage_seconds", "Time per batch per stage", ["stage"])
CONFIG_ERRORS = Counter("chipwire_config_errors_total", "Rejected configuration reloads", ["what"])

# Freshness: from a minute to a month (feeds are polled every few minutes; a late-found
# article or a backlog after an outage shows in the upper buckets).
FRESHNESS_BUCKETS = (
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    30 * 86_400,
)
PUBLISH_TO_INDEXED = Histogram(
    "chipwire_publish_to_indexed_seconds",
    "From an article's published_at until the index stage made it searchable, per source",
    ["source"],
    buckets=FRESHNESS_BUCKETS,
)
PUBLISH_TO_ALERT = Histogram(
    "chipwire_publish_to_alert_seconds",
    "From an article's published_at until the alert stage evaluated it (an alert it raises "
    "is published then), per source",
    ["source"],
    buckets=FRESHNESS_BUCKETS,
)


def observe_freshness(
    histogram: Histogram, source: str, published_at: datetime | None, now: datetime | None = None
) -> None:
    """Seconds from `published_at` to now (0 for a clock ahead of ours); nothing without a
    publication date."""
    if published_at is None:
        return
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - published_at).total_seconds()
    histogram.labels(source).observe(max(0.0, seconds))


class IndexSize(Collector):
    """`chipwire_search_index_documents{backend}`: documents in the search index, read at scrape
    time in every process that serves the API (`run`, `serve`)."""

    def __init__(self) -> None:
        self._source: tuple[str, Callable[[], int]] | None = None

    def watch(self, backend: str, count: Callable[[], int]) -> None:
        self._source = (backend, count)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        if self._source is not None:
            backend, count = self._source
            try:
                family.add_metric([backend], count())
            except Exception as exc:  # a scrape must not fail because the index is away
                log.debug("index size unavailable: %s", exc)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "chipwire_search_index_documents",
            "Documents in the search index now",
            labels=["backend"],
        )


INDEX_SIZE = IndexSize()
REGISTRY.register(INDEX_SIZE)
