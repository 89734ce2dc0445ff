"""Backtest: a timeline replayed through the real tagger and the real alerter, in
publication order, with the alerter's clock set to each item's publication time.

Each item becomes a raw article (its story found by the crawler's own near-duplicate
index), is tagged by `enrich.tag.tag_article` and fed to `Alerter` on an in-memory
database. The shifts it confirms are scored against the timeline's expected shifts:
precision, recall, false alerts per pair, pairs that must not shift, and latency from
the first report of the new direction to the report that confirmed it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from alerts import store
from alerts.alerter import Alerter
from alerts.timeline_file import ExpectedShift, Item, Timeline, item_text
from chipwire.contract import AlertEvent, RawArticle, SourceRef, article_id
from chipwire.settings import Settings
from enrich.tag import tag_article
from ingest import dedupe


@dataclass
class Scored:
    alert: AlertEvent
    expected: ExpectedShift | None


@dataclass
class BacktestReport:
    name: str
    items: int
    replayed: int
    missing: list[str] = field(default_factory=list)  # item ids without text
    alerts: list[Scored] = field(default_factory=list)
    expected: int = 0

    @property
    def matched(self) -> int:
        return sum(1 for s in self.alerts if s.expected is not None)

    @property
    def precision(self) -> float:
        return self.matched / len(self.alerts) if self.alerts else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.expected if self.expected else 1.0

    def false_alerts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.alerts:
            if s.expected is None:
                key = f"{s.alert.subject}/{s.alert.jurisdiction}"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "items": self.items,
            "replayed": self.replayed,
            "missing_text": self.missing,
            "expected_shifts": self.expected,
            "alerts": [_alert_json(s) for s in self.alerts],
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "false_alerts_per_pair": self.false_alerts(),
            "must_not_shift_violations": self.violations,
        }

    violations: list[str] = field(default_factory=list)


def _alert_json(s: Scored) -> dict[str, Any]:
    a = s.alert
    assert a.opened_at is not None and a.confirmed_at is not None
    return {
        "subject": a.subject,
        "jurisdiction": a.jurisdiction,
        "previous": a.previous,
        "current": a.current,
        "opened_at": a.opened_at.isoformat(),
        "confirmed_at": a.confirmed_at.isoformat(),
        "latency_hours": round((a.confirmed_at - a.opened_at).total_seconds() / 3600, 1),
        "reports": len(a.article_ids),
        "outlets": sorted(set(a.outlets)),
        "expected": s.expected is not None,
    }


def run_backtest(timeline: Timeline, settings: Settings, cache_dir: Path) -> BacktestReport:
    report = BacktestReport(timeline.name, len(timeline.items), 0)
    report.expected = len(timeline.expected_shifts)
    conn = store.connect(Path(":memory:"))
    try:
        alerts = _replay(timeline, settings, cache_dir, conn, report)
    finally:
        conn.close()
    report.alerts = _score(alerts, timeline.expected_shifts)
    banned = {(p.subject, p.jurisdiction) for p in timeline.must_not_shift}
    report.violations = sorted(
        {f"{a.subject}/{a.jurisdiction}" for a in alerts if (a.subject, a.jurisdiction) in banned}
    )
    return report


def _replay(
    timeline: Timeline,
    settings: Settings,
    cache_dir: Path,
    conn: sqlite3.Connection,
    report: BacktestReport,
) -> list[AlertEvent]:
    alerter = Alerter(conn, settings)
    stories = dedupe.NearDuplicates(settings.near_duplicate_threshold)
    found: list[AlertEvent] = []
    for item in sorted(timeline.items, key=lambda i: (i.published_at, i.id)):
        text = item_text(item, cache_dir)
        if text is None:
            report.missing.append(item.id)
            continue
        raw = _raw_article(item, text, stories)
        touched = alerter.ingest(tag_article(raw))
        found += alerter.evaluate(touched, item.published_at)
        report.replayed += 1
    return found


def _raw_article(item: Item, text: str, stories: dedupe.NearDuplicates) -> RawArticle:
    aid = article_id(item.url)
    signature = dedupe.minhash(text)
    story = stories.story_of(signature) or aid
    stories.add(aid, story, signature)
    outlet_id = re.sub(r"[^a-z0-9]+", "-", item.outlet.lower()).strip("-") or "outlet"
    return RawArticle(
        id=aid,
        story_id=story,
        url=item.url,
        canonical_url=item.url,
        source=SourceRef(id=outlet_id, name=item.outlet, feed=item.url, official=item.official),
        title=item.title or "",
        text=text,
        published_at=item.published_at,
        fetched_at=item.published_at,
    )


def _score(alerts: list[AlertEvent], expected: list[ExpectedShift]) -> list[Scored]:
    """Each expected shift matches at most one alert: same pair and transition, confirmed
    inside [not_before, not_after]."""
    left = list(expected)
    scored = []
    for alert in sorted(alerts, key=lambda a: (a.confirmed_at or datetime.min, a.id)):
        hit = next((e for e in left if _matches(alert, e)), None)
        if hit is not None:
            left.remove(hit)
        scored.append(Scored(alert, hit))
    return scored


def _matches(alert: AlertEvent, e: ExpectedShift) -> bool:
    start, end = e.window()
    return (
        (alert.subject, alert.jurisdiction, alert.previous, alert.current)
        == (e.subject, e.jurisdiction, e.previous, e.current)
        and alert.confirmed_at is not None
        and start <= alert.confirmed_at <= end
    )
