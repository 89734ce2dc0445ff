"""The alerter's SQLite file: observations, saved-query matches, alerts and deliveries.

Observations are kept, not only the latest state, because articles arrive out of order;
`alerts` holds every shift found once (its id is stable, see corroborate.py); `deliveries`
holds one row per (alert, recipient): pending until the SMTP server accepted it, so a
failed send is retried and a restart mails nothing twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alerts.observe import Observation
from chipwire.contract import AlertEvent
from chipwire.sqlite import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_observations (
    subject TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    article_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    publisher TEXT NOT NULL,
    official INTEGER NOT NULL,
    direction TEXT NOT NULL,
    certainty TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    confidence REAL NOT NULL,
    evidence TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    outlet TEXT NOT NULL,
    PRIMARY KEY (subject, jurisdiction, article_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subject_sources (
    subject TEXT NOT NULL,
    source_id TEXT NOT NULL,
    PRIMARY KEY (subject, source_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS query_matches (
    query TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (query, article_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS saved_searches (
    name TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_shifts (
    alert_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    previous TEXT NOT NULL,
    current TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (alert_id, recipient)
) WITHOUT ROWID;
"""

# delivery statuses: pending (to send or retry), sent (SMTP accepted), written (.eml file),
# suppressed (realert window), digest (waiting for the daily digest), adopted (a shift
# already in the history when the first release's tables were adopted: never mailed)
DONE = ("sent", "written")


@dataclass(frozen=True)
class Delivery:
    alert_id: str
    recipient: str
    mode: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: str
    updated_at: str


def connect(path: Path) -> sqlite3.Connection:
    conn = open_database(path)
    conn.executescript(_SCHEMA)
    return conn


def record_articles(
    conn: sqlite3.Connection,
    coverage: Iterable[tuple[str, str]],
    matches: Iterable[tuple[str, str]],
    observations: Iterable[Observation],
) -> set[tuple[str, str]]:
    """A batch of articles in one transaction: (subject, source) coverage, (query,
    article) matches and observations, each idempotent; returns the pairs touched."""
    rows = [astuple(o) for o in observations]
    with conn:
        conn.executemany("INSERT OR IGNORE INTO subject_sources VALUES (?, ?)", list(coverage))
        conn.executemany("INSERT OR IGNORE INTO query_matches VALUES (?, ?)", list(matches))
        conn.executemany(
            "INSERT OR REPLACE INTO alert_observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
        )
    return {(r[0], r[1]) for r in rows}


def sources_covering(conn: sqlite3.Connection, subject: str) -> list[str]:
    rows = conn.execute(
        "SELECT source_id FROM subject_sources WHERE subject = ? ORDER BY source_id", (subject,)
    ).fetchall()
    return [str(source_id) for (source_id,) in rows]


def timeline(conn: sqlite3.Connection, subject: str, jurisdiction: str) -> list[Observation]:
    rows = conn.execute(
        "SELECT * FROM alert_observations WHERE subject = ? AND jurisdiction = ? "
        "ORDER BY observed_at, article_id",
        (subject, jurisdiction),
    ).fetchall()
    return [_observation(row) for row in rows]


def _observation(row: tuple[object, ...]) -> Observation:
    values = list(row)
    values[5] = bool(values[5])
    return Observation(*values)  # type: ignore[arg-type]


def pairs(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT DISTINCT subject, jurisdiction FROM alert_observations "
        "ORDER BY subject, jurisdiction"
    ).fetchall()
    return [(str(s), str(j)) for s, j in rows]


def matched(conn: sqlite3.Connection, query: str, article_ids: Iterable[str]) -> bool:
    ids = list(article_ids)
    marks = ",".join("?" * len(ids))
    row = conn.execute(
        f"SELECT 1 FROM query_matches WHERE query = ? AND article_id IN ({marks}) LIMIT 1",
        (query, *ids),
    ).fetchone()
    return row is not None


def equivalent_alert(conn: sqlite3.Connection, event: AlertEvent, window: timedelta) -> str | None:
    """The id of this shift if it is known, or of the same transition of the same pair
    opened within `window` (an earlier report that arrives late can change which story
    opens the run, and with it the shift's id)."""
    rows = conn.execute(
        "SELECT alert_id, opened_at FROM alert_shifts WHERE subject = ? AND jurisdiction = ? "
        "AND previous = ? AND current = ?",
        (event.subject, event.jurisdiction, event.previous, event.current),
    ).fetchall()
    assert event.opened_at is not None
    for alert_id, opened_at in rows:
        if (
            alert_id == event.id
            or abs(datetime.fromisoformat(opened_at) - event.opened_at) <= window
        ):
            return str(alert_id)
    return None


def add_alert(conn: sqlite3.Connection, event: AlertEvent) -> None:
    assert event.opened_at is not None and event.confirmed_at is not None
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO alert_shifts VALUES (?,?,?,?,?,?,?,?,?)",
            (
                event.id,
                event.subject,
                event.jurisdiction,
                event.previous,
                event.current,
                event.opened_at.isoformat(),
                event.confirmed_at.isoformat(),
                event.model_dump_json(),
                event.created_at.isoformat(),
            ),
        )


def alert(conn: sqlite3.Connection, alert_id: str) -> AlertEvent | None:
    row = conn.execute(
        "SELECT event FROM alert_shifts WHERE alert_id = ? OR alert_id LIKE ? "
        "ORDER BY alert_id LIMIT 1",
        (alert_id, f"{alert_id}%"),
    ).fetchone()
    return AlertEvent.model_validate_json(row[0]) if row else None


def alerts(conn: sqlite3.Connection) -> list[AlertEvent]:
    rows = conn.execute("SELECT event FROM alert_shifts ORDER BY confirmed_at, alert_id")
    return [AlertEvent.model_validate_json(r[0]) for r in rows.fetchall()]


def delivery(conn: sqlite3.Connection, alert_id: str, recipient: str) -> Delivery | None:
    row = conn.execute(
        "SELECT * FROM deliveries WHERE alert_id = ? AND recipient = ?", (alert_id, recipient)
    ).fetchone()
    return Delivery(*row) if row else None


def deliveries(
    conn: sqlite3.Connection, alert_id: str | None = None, status: str | None = None
) -> list[Delivery]:
    sql = "SELECT * FROM deliveries WHERE (? IS NULL OR alert_id = ?) AND (? IS NULL OR status = ?)"
    rows = conn.execute(
        sql + " ORDER BY next_attempt_at, (SELECT confirmed_at FROM alert_shifts a"
        " WHERE a.alert_id = deliveries.alert_id), alert_id, recipient",
        (alert_id, alert_id, status, status),
    )
    return [Delivery(*row) for row in rows.fetchall()]


def mailed_near(
    conn: sqlite3.Connection, recipient: str, event: AlertEvent, window: timedelta
) -> bool:
    """Does this recipient have another alert on this pair, not suppressed, whose shift
    was confirmed within `window` of this one (a pair that flaps mails once)?"""
    assert event.confirmed_at is not None
    rows = conn.execute(
        "SELECT a.confirmed_at FROM deliveries d JOIN alert_shifts a USING (alert_id) "
        "WHERE d.recipient = ? AND a.subject = ? AND a.jurisdiction = ? AND a.alert_id != ? "
        "AND d.status NOT IN ('suppressed', 'adopted')",
        (recipient, event.subject, event.jurisdiction, event.id),
    ).fetchall()
    return any(abs(datetime.fromisoformat(r[0]) - event.confirmed_at) < window for r in rows)


def put_delivery(conn: sqlite3.Connection, d: Delivery) -> None:
    with conn:
        conn.execute("INSERT OR REPLACE INTO deliveries VALUES (?,?,?,?,?,?,?,?)", astuple(d))
