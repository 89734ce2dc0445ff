"""Prometheus metrics: one counter per unit of work with a `status` label, counted once."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FEED_POLLS = Counter("chipwire_feed_polls_total", "Feed polls by outcome", ["status"])
ARTICLES = Counter(
    "chipwire_articles_total",
    "Feed items by outcome (ok, seen, near-dup, no-text, error…)",
    ["status"],
)
FETCHES = Counter("chipwire_fetches_total", "HTTP fetches by outcome", ["kind", "status"])
MESSAGES = Counter(
    "chipwire_messages_total", "Bus messages handled per stage by outcome", ["stage", "status"]
)
ALERTS = Counter("chipwire_alerts_total", "Alert emails by outcome", ["status"])
OUTBOX_BACKLOG = Gauge("chipwire_outbox_backlog", "Messages accepted but not yet on the bus")
STAGE_SECONDS = Histogram("chipwire_stage_seconds", "Time per batch per stage", ["stage"])
CONFIG_ERRORS = Counter("chipwire_config_errors_total", "Rejected configuration reloads", ["what"])
