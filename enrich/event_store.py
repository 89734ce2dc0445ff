"""The event stories seen so far (SQLite): each report's event, found as it arrives.

A new report is compared with the reports filed under its keys (its copy cluster, its
moves, its chips and companies) within the window, by the rule in
enrich/event_stories.py. Every event it matches is merged into one, named after the
earliest report of the merged event. Since the rule is symmetric and events only merge,
after any set of reports the events are the connected components of the rule, whatever
order the reports came in.

Feeds are polled concurrently, so reports rarely arrive in publication order: a report
published earlier than an event's first, or one that bridges two events, renames articles
already published. The store keeps each article as last enriched and marks every article
whose event id differs from the one last published for it (`stale`); the enrich stage
publishes those again and marks them published once the bus has them, so every article's
latest message carries its event's current id. A kept article is dropped
`KEEP_ARTICLES` after it was filed (a later rename still renames it in the store). Filing
time, not publication time: partitions are read at their own pace, so a report from months
later can be filed before the earliest report of an older event, whose rename must still
go out (a replay of last year's topic likewise keeps what it files for as long).

Redelivery is harmless: a report already filed with the same reading keeps its event.
A re-enrichment that reads an article differently files it again; links made before stay.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chipwire.sqlite import open_database
from enrich.event_stories import WINDOW, Report, same_event

KEEP_ARTICLES = timedelta(days=30)
CACHED_REPORTS = 100_000  # parsed reports kept in memory (about 2 KB each)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_reports (
    article_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    published TEXT NOT NULL,
    report TEXT NOT NULL,
    article TEXT,               -- the enriched article as last enriched, to publish again
    stale INTEGER NOT NULL,     -- 1: its event id differs from the one last published
    filed REAL                  -- when `article` was kept (Unix time), to drop it later
);
CREATE INDEX IF NOT EXISTS event_reports_event ON event_reports (event_id, published, article_id);
CREATE INDEX IF NOT EXISTS event_reports_published ON event_reports (published);
CREATE INDEX IF NOT EXISTS event_reports_stale ON event_reports (article_id) WHERE stale = 1;
CREATE TABLE IF NOT EXISTS event_keys (
    key TEXT NOT NULL,
    published TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (key, published, article_id)
);
"""


@dataclass(frozen=True)
class Stale:
    """An article to publish (again) with its event's current id."""

    article_id: str
    event_id: str
    article: str  # the enriched article's JSON, as last published (its event id is old)


def connect(path: Path) -> sqlite3.Connection:
    conn = open_database(path, autocommit=True)
    conn.executescript(_SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(event_reports)")}
    if "filed" not in columns:  # a store from before: its kept articles count from now
        conn.execute("ALTER TABLE event_reports ADD COLUMN filed REAL")
        conn.execute("UPDATE event_reports SET filed = ?", (time.time(),))
    return conn


class EventStore:
    def __init__(
        self,
        conn: sqlite3.Connection,
        window: timedelta = WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.conn = conn
        self.window = window
        self.clock = clock
        self._reports: dict[str, Report] = {}

    def assign(self, report: Report, article: Callable[[str], str] | None = None) -> str:
        """File the report (and `article(event_id)`, the article's JSON with its event id,
        to publish it again after a rename) and return its event id: the earliest report
        of its event."""
        row = self.conn.execute(
            "SELECT event_id, report FROM event_reports WHERE article_id = ?",
            (report.article_id,),
        ).fetchone()
        text = report.to_json()
        if row is not None and row[1] == text:
            if article is not None:
                self.conn.execute(
                    "UPDATE event_reports SET article = ?, filed = ? WHERE article_id = ?",
                    (article(str(row[0])), self.clock(), report.article_id),
                )
            return str(row[0])
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            if row is not None:
                self._forget(report.article_id)
            linked = {
                self._event_of(other)
                for other in self._candidates(report)
                if same_event(report, self._report(other), self.window)
            }
            event_id = min([_anchor(report), *(self._anchor_of(e) for e in linked)])[1]
            self.conn.executemany(
                "UPDATE event_reports SET event_id = ?, stale = 1 WHERE event_id = ?",
                [(event_id, e) for e in linked if e != event_id],
            )
            stamp = _stamp(report.published)
            kept = article(event_id) if article is not None else None
            self.conn.execute(
                "INSERT INTO event_reports VALUES (?, ?, ?, ?, ?, 1, ?)",
                (report.article_id, event_id, stamp, text, kept, self.clock()),
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO event_keys VALUES (?, ?, ?)",
                [(key, stamp, report.article_id) for key in report.filed_keys()],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return event_id

    def stale(self, skip: dict[str, str] | None = None) -> list[Stale]:
        """Kept articles whose event id differs from the one last published for them,
        except those in `skip` (article id → the event id already on its way)."""
        skip = skip or {}
        rows = self.conn.execute(
            "SELECT article_id, event_id FROM event_reports WHERE stale = 1 AND article IS NOT NULL"
        ).fetchall()
        found = []
        for article_id, event_id in rows:
            if skip.get(article_id) == event_id:
                continue
            (article,) = self.conn.execute(
                "SELECT article FROM event_reports WHERE article_id = ?", (article_id,)
            ).fetchone()
            found.append(Stale(str(article_id), str(event_id), str(article)))
        return found

    def published(self, done: dict[str, str]) -> None:
        """The bus has these (article id → event id): unmark them, unless renamed again
        in the meantime."""
        self.conn.executemany(
            "UPDATE event_reports SET stale = 0 WHERE article_id = ? AND event_id = ?",
            list(done.items()),
        )

    def forget_articles(self) -> None:
        """Drop the kept articles filed more than KEEP_ARTICLES ago, except those still
        to be published again (their rename would be lost)."""
        self.conn.execute(
            "UPDATE event_reports SET article = NULL "
            "WHERE filed < ? AND article IS NOT NULL AND stale = 0",
            (self.clock() - KEEP_ARTICLES.total_seconds(),),
        )

    def event_of(self, article_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT event_id FROM event_reports WHERE article_id = ?", (article_id,)
        ).fetchone()
        return str(row[0]) if row else None

    def events(self) -> dict[str, str]:
        """Every filed article's event id."""
        rows = self.conn.execute("SELECT article_id, event_id FROM event_reports")
        return {str(a): str(e) for a, e in rows}

    def _candidates(self, report: Report) -> Iterable[str]:
        low = _stamp(report.published - self.window)
        high = _stamp(report.published + self.window)
        keys = sorted(report.lookup_keys())
        marks = ", ".join("?" * len(keys))
        # copies are one event at any distance in time; everything else within the window
        rows = self.conn.execute(
            f"SELECT DISTINCT article_id FROM event_keys "
            f"WHERE key IN ({marks}) AND (key LIKE 'copy:%' OR published BETWEEN ? AND ?)",
            (*keys, low, high),
        )
        return [str(a) for (a,) in rows if a != report.article_id]

    def _report(self, article_id: str) -> Report:
        """A filed report, parsed once (reports change only when filed again)."""
        cached = self._reports.get(article_id)
        if cached is None:
            (text,) = self.conn.execute(
                "SELECT report FROM event_reports WHERE article_id = ?", (article_id,)
            ).fetchone()
            if len(self._reports) >= CACHED_REPORTS:
                self._reports.clear()
            cached = self._reports[article_id] = Report.from_json(text)
        return cached

    def _event_of(self, article_id: str) -> str:
        event = self.event_of(article_id)
        assert event is not None
        return event

    def _anchor_of(self, event_id: str) -> tuple[str, str]:
        row = self.conn.execute(
            "SELECT published, article_id FROM event_reports WHERE event_id = ? "
            "ORDER BY published, article_id LIMIT 1",
            (event_id,),
        ).fetchone()
        return (str(row[0]), str(row[1]))

    def _forget(self, article_id: str) -> None:
        self._reports.pop(article_id, None)
        self.conn.execute("DELETE FROM event_keys WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM event_reports WHERE article_id = ?", (article_id,))


def _anchor(report: Report) -> tuple[str, str]:
    return (_stamp(report.published), report.article_id)


def _stamp(when: datetime) -> str:
    """A UTC time that sorts as text."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
