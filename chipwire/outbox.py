"""The outbox: what the crawler accepted, kept in its state database until the bus has it.

The crawler writes its seen-state and the outgoing message in one SQLite transaction
(`add` takes the caller's connection); the relay publishes pending rows in order and
marks them sent. A bus outage never blocks polling and never loses an article.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping

from chipwire.bus import Bus
from chipwire.errors import Retry
from chipwire.metrics import OUTBOX_BACKLOG

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    headers TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent, seq);
"""


def add(
    conn: sqlite3.Connection, topic: str, key: str, value: bytes, headers: Mapping[str, str]
) -> None:
    """Queue a message inside the caller's open transaction."""
    conn.execute(
        "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)",
        (topic, key, value, json.dumps(dict(headers))),
    )


def backlog(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent = 0").fetchone()
    return int(count)


def relay_once(conn: sqlite3.Connection, bus: Bus, batch_size: int = 500) -> int:
    """Publish up to `batch_size` pending rows; returns how many the bus accepted."""
    rows = conn.execute(
        "SELECT seq, topic, key, value, headers FROM outbox WHERE sent = 0 ORDER BY seq LIMIT ?",
        (batch_size,),
    ).fetchall()
    by_topic: dict[str, list[tuple[int, str, bytes, dict[str, str]]]] = {}
    for seq, topic, key, value, headers in rows:
        by_topic.setdefault(topic, []).append((seq, key, bytes(value), json.loads(headers)))
    accepted = 0
    for topic, items in by_topic.items():
        delivered = bus.publish_many(topic, [(k, v, h) for _, k, v, h in items])
        done = [(seq,) for (seq, *_), ok in zip(items, delivered, strict=True) if ok]
        with conn:
            conn.executemany("UPDATE outbox SET sent = 1 WHERE seq = ?", done)
        accepted += len(done)
    OUTBOX_BACKLOG.set(backlog(conn))
    return accepted


def relay_all(conn: sqlite3.Connection, bus: Bus) -> int:
    """Publish everything pending (stops early, raising Retry, if the bus refuses)."""
    total = 0
    while True:
        pending = backlog(conn)
        if pending == 0:
            return total
        accepted = relay_once(conn, bus)
        if accepted == 0:
            raise Retry("bus-unavailable", f"{pending} messages wait in the outbox")
        total += accepted


def relay_forever(
    conn: sqlite3.Connection, bus: Bus, stop: threading.Event, wake: threading.Event
) -> None:
    backoff = 0.5
    while not stop.is_set():
        try:
            relay_all(conn, bus)
            backoff = 0.5
            wake.wait(1.0)
            wake.clear()
        except Exception as exc:  # the relay must outlive any bus failure
            log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 30.0)
