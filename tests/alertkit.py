"""Builders for alerter tests: enriched articles with one policy signal each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts import store
from alerts.alerter import Alerter
from alerts.corroborate import Change, Profile, replay
from alerts.observe import observations_of
from alerts.stage import AlertSink
from chipwire.bus import ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle, Signal, SourceRef
from chipwire.events import encode
from chipwire.settings import Settings
from chipwire.stage import StageRunner

DAY0 = datetime(2026, 1, 10, tzinfo=UTC)


def article(
    n: int,
    direction: str,
    day: float,
    publisher: str = "wire.example.com",
    *,
    story: str | None = None,
    subject: str = "H200",
    jurisdiction: str = "CN",
    confidence: float = 0.9,
    relevance: float = 0.9,
    certainty: str = "reported",
    official: bool = False,
    text: str = "",
) -> EnrichedArticle:
    evidence = f"Sentence {n}: the authorities moved to {direction} {subject}."
    url = f"https://{publisher}/news/{n}"
    return EnrichedArticle(
        id=f"a{n}",
        story_id=story or f"s{n}",
        url=url,
        canonical_url=url,
        source=SourceRef(
            id=publisher.replace(".", "-"), name=publisher, feed=url, official=official
        ),
        title=f"Story {n}",
        text=text or evidence,
        fetched_at=DAY0 + timedelta(days=90),
        published_at=DAY0 + timedelta(days=day),
        signals=[
            Signal(
                subject=subject,
                jurisdiction=jurisdiction,
                action="import_restriction",
                direction=direction,  # type: ignore[arg-type]
                certainty=certainty,  # type: ignore[arg-type]
                evidence=evidence,
                evidence_start=0,
                evidence_end=len(evidence),
                confidence=confidence,
            )
        ],
        stance=direction,  # type: ignore[arg-type]
        acting_jurisdiction=jurisdiction,
        relevance=relevance,
    )


def changes(articles: list[EnrichedArticle], **overrides: Any) -> list[Change]:
    """Every confirmed state of H200/CN (or the one pair used) after these articles."""
    settings = Settings(data_dir=Path("/nonexistent"), **overrides)
    found = [o for a in articles for o in observations_of(a, settings)]
    profile = Profile(
        window=timedelta(days=settings.alert_window_days),
        min_publishers=settings.alert_min_publishers,
        min_confidence=settings.alert_min_confidence,
    )
    return list(replay(found, profile).changes)


def transitions(articles: list[EnrichedArticle], **overrides: Any) -> list[tuple[str | None, str]]:
    return [(c.previous, c.current) for c in changes(articles, **overrides)]


def publish_all(bus: EmbeddedBus, articles: list[EnrichedArticle]) -> None:
    for a in articles:
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)


def memory_alerter(settings: Settings) -> Alerter:
    return Alerter(store.connect(Path(":memory:")), settings)


class Clock:
    """An explicit clock for the alerter (the tests never wait on wall time)."""

    def __init__(self, now: datetime = DAY0 + timedelta(days=50, hours=9)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_alerter(
    bus: EmbeddedBus, settings: Settings, clock: Clock | None = None, group: str = "chipwire-alert"
) -> AlertSink:
    """Drain the enriched topic through the alerter stage; its connection stays open so the
    test can ask for mail status."""
    conn = store.connect(settings.alerts_db)
    sink = AlertSink(bus, conn, settings, clock or Clock())
    StageRunner(bus.consumer(group, [ENRICHED_TOPIC]), sink, bus).drain(timeout_s=20)
    return sink
