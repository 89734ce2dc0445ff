"""Adopt the first release's alert tables, once, when the alerter opens its file.

The first release kept `observations` (no publisher, certainty or official flag) and
`alerts_sent`. Without adoption an upgrade would start every pair from nothing: states
forgotten, and a shift it had already mailed mailed again when the next report of that
pair arrives. Its observations are copied with what they lacked filled in the way the
first release read them (publisher from the URL, reported, not official); every shift it
had mailed becomes a known alert already delivered to today's recipients, and any other
shift the adopted history holds is known but never mailed (it is history by now). The old
tables stay as they were; `PRAGMA user_version` records that adoption ran.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from alerts import store
from alerts.publishers import registered_domain
from chipwire.contract import AlertEvent

log = logging.getLogger(__name__)

ADOPTED = 1  # PRAGMA user_version once the first release's tables were adopted
_MAILED = ("sent", "written")


def pending(conn: sqlite3.Connection) -> bool:
    """Does this file hold the first release's tables, not adopted yet?"""
    adopted = conn.execute("PRAGMA user_version").fetchone()[0] >= ADOPTED
    return not adopted and _has_table(conn, "observations")


def adopt(conn: sqlite3.Connection, recipients: Iterable[str], now: datetime) -> None:
    """Copy the observations and the mailed alerts (idempotent: safe to run again)."""
    observations = _adopt_observations(conn)
    mailed = _adopt_mailed_alerts(conn, sorted(set(recipients)), now)
    log.warning(
        "alerts: adopted %d observations and %d mailed alerts from the first release's tables",
        observations,
        mailed,
    )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def mark_adopted(conn: sqlite3.Connection) -> None:
    with conn:
        conn.execute(f"PRAGMA user_version = {ADOPTED}")


def _publisher(url: str) -> str:
    return registered_domain(url) or "unknown"


def _adopt_observations(conn: sqlite3.Connection) -> int:
    conn.create_function("chipwire_publisher", 1, _publisher, deterministic=True)
    with conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO alert_observations SELECT subject, jurisdiction, article_id, "
            "story_id, chipwire_publisher(url), 0, direction, 'reported', observed_at, "
            "confidence, evidence, title, url, chipwire_publisher(url) FROM observations"
        )
    return cursor.rowcount


def _adopt_mailed_alerts(conn: sqlite3.Connection, recipients: list[str], now: datetime) -> int:
    if not _has_table(conn, "alerts_sent"):
        return 0
    marks = ",".join("?" for _ in _MAILED)
    rows = conn.execute(
        "SELECT alert_id, subject, jurisdiction, previous, current, first_at, status, at "
        f"FROM alerts_sent WHERE status IN ({marks})",
        _MAILED,
    ).fetchall()
    stamp = now.isoformat()
    for alert_id, subject, jurisdiction, previous, current, first_at, status, at in rows:
        opened = datetime.fromisoformat(first_at)
        event = AlertEvent(
            id=alert_id,
            subject=subject,
            jurisdiction=jurisdiction,
            previous=previous,
            current=current,
            article_ids=[],
            story_id="",
            evidence=[],
            title=f"{jurisdiction} on {subject}: {previous} → {current} (first release)",
            url="",
            created_at=datetime.fromisoformat(at),
            opened_at=opened,
            confirmed_at=opened,
        )
        store.add_alert(conn, event)
        for recipient in recipients:
            if store.delivery(conn, alert_id, recipient) is None:
                store.put_delivery(
                    conn,
                    store.Delivery(alert_id, recipient, "immediate", status, 1, "", stamp, stamp),
                )
    return len(rows)
