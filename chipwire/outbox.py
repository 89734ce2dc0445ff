"""The outbox: what the crawler accepted, kept in its state database until the bus has it.

The crawler writes its seen-state and the outgoing message in one SQLite transaction
(`add` takes the caller's connection); the relay publishes waiting rows in order and
marks each one by its own delivery result. A bus outage never blocks polling and never
loses an article: rows wait, the relay backs off, and drains when the bus is back.

Row states (`status`, mirrored in `sent` for simple queries):
- pending (sent = 0): waiting for the bus; `attempts` and `last_error` say how it went;
- sent (sent = 1): the bus acknowledged it; pruned after `keep_sent_s`;
- failed_permanent (sent = -1): the bus refused it for good (too large, invalid); never
  retried, counted, kept for an operator (`failed_rows`, `requeue_failed`).
The backlog (pending rows) is bounded: `add` raises Retry when it is full, so the
crawler stops accepting (and re-fetches later) instead of filling the disk.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from chipwire.bus import Bus, Outcome, deliver
from chipwire.errors import Retry
from chipwire.metrics import MESSAGES, OUTBOX_BACKLOG

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = 0, 1, -1
DEFAULT_MAX_BACKLOG = 100_000

_TABLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    headers TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent, seq);
"""

# The pending rows' count, kept by triggers on every change of a row's `sent`: the backlog
# check of each accepted article reads one row, where counting walked up to `max_backlog`
# index entries (100,000 while the bus is down). Made in one transaction with its first
# count, so that no row written meanwhile is missed.
_BACKLOG_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS outbox_backlog (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    pending INTEGER NOT NULL
);
INSERT OR IGNORE INTO outbox_backlog (id, pending)
    SELECT 0, COUNT(*) FROM outbox WHERE sent = 0;
CREATE TRIGGER IF NOT EXISTS outbox_backlog_added AFTER INSERT ON outbox WHEN NEW.sent = 0
BEGIN UPDATE outbox_backlog SET pending = pending + 1; END;
CREATE TRIGGER IF NOT EXISTS outbox_backlog_removed AFTER DELETE ON outbox WHEN OLD.sent = 0
BEGIN UPDATE outbox_backlog SET pending = pending - 1; END;
CREATE TRIGGER IF NOT EXISTS outbox_backlog_changed AFTER UPDATE OF sent ON outbox
WHEN (OLD.sent = 0) != (NEW.sent = 0)
BEGIN UPDATE outbox_backlog SET pending = pending + (NEW.sent = 0) - (OLD.sent = 0); END;
COMMIT;
"""
SCHEMA = _TABLE_SCHEMA + _BACKLOG_SCHEMA

# Columns added since the first version of the table (older state files are upgraded).
_ADDED_COLUMNS = {
    "status": "TEXT NOT NULL DEFAULT 'pending'",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "last_error": "TEXT",
    "sent_at": "REAL",
}


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the table, or add the columns and the backlog count an older state file
    lacks (cheap when current)."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
    if not present:
        conn.executescript(SCHEMA)
        return
    if not present.issuperset(_ADDED_COLUMNS):
        with conn:
            for name, decl in _ADDED_COLUMNS.items():
                if name not in present:
                    conn.execute(f"ALTER TABLE outbox ADD COLUMN {name} {decl}")
            if "status" not in present:
                conn.execute("UPDATE outbox SET status = 'sent' WHERE sent = 1")
    counted = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox_backlog'"
    ).fetchone()
    if counted is None:
        conn.executescript(_BACKLOG_SCHEMA)


def add(
    conn: sqlite3.Connection,
    topic: str,
    key: str,
    value: bytes,
    headers: Mapping[str, str],
    *,
    max_backlog: int = DEFAULT_MAX_BACKLOG,
) -> None:
    """Queue a message inside the caller's open transaction (Retry when the backlog is full).

    It writes before it reads: the write takes the database's write lock, waiting for
    another writer within the connection's busy timeout. Reading first would pin a WAL
    snapshot, and a relay committing in between would make the write fail at once
    ("database is locked", SQLITE_BUSY_SNAPSHOT, no busy wait)."""
    row = conn.execute(
        "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)",
        (topic, key, value, orjson.dumps(dict(headers)).decode()),
    ).lastrowid
    if _pending(conn) > max_backlog:  # the row just written is counted
        conn.execute("DELETE FROM outbox WHERE seq = ?", (row,))
        raise Retry("outbox-full", f"{max_backlog} messages already wait for the bus")


def _pending(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT pending FROM outbox_backlog").fetchone()
    return int(count)


def backlog(conn: sqlite3.Connection) -> int:
    count = _pending(conn)
    OUTBOX_BACKLOG.set(count)
    return count


def failed_count(conn: sqlite3.Connection) -> int:
    (count,) = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent = -1").fetchone()
    return int(count)


def failed_rows(conn: sqlite3.Connection, limit: int = 100) -> list[tuple[int, str, str, str]]:
    """(seq, topic, key, last_error) of rows the bus refused for good."""
    rows = conn.execute(
        "SELECT seq, topic, key, COALESCE(last_error, '') FROM outbox WHERE sent = -1 "
        "ORDER BY seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [(int(s), t, k, e) for s, t, k, e in rows]


def requeue_failed(conn: sqlite3.Connection) -> int:
    """Give refused rows another chance (after the cause was fixed, e.g. a larger limit)."""
    with conn:
        cursor = conn.execute(
            "UPDATE outbox SET sent = 0, status = 'pending', attempts = 0 WHERE sent = -1"
        )
    return cursor.rowcount


def prune(conn: sqlite3.Connection, keep_sent_s: float) -> int:
    """Forget rows the bus acknowledged more than `keep_sent_s` ago."""
    with conn:
        cursor = conn.execute(
            "DELETE FROM outbox WHERE sent = 1 AND sent_at < ?", (time.time() - keep_sent_s,)
        )
    return cursor.rowcount


@dataclass
class RelayPass:
    read: int = 0  # pending rows the pass took (fewer than its batch: none were left)
    delivered: int = 0
    retry: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def relay_once(conn: sqlite3.Connection, bus: Bus, batch_size: int = 500) -> int:
    """Publish up to `batch_size` pending rows; returns how many the bus accepted."""
    return relay_pass(conn, bus, batch_size).delivered


def relay_pass(conn: sqlite3.Connection, bus: Bus, batch_size: int = 500) -> RelayPass:
    """One pass over the oldest pending rows, each marked by its own outcome."""
    ensure_schema(conn)
    result = _relay_pass(conn, bus, batch_size)
    backlog(conn)
    return result


def _relay_pass(conn: sqlite3.Connection, bus: Bus, batch_size: int) -> RelayPass:
    rows = conn.execute(
        "SELECT seq, topic, key, value, headers FROM outbox WHERE sent = 0 ORDER BY seq LIMIT ?",
        (batch_size,),
    ).fetchall()
    by_topic: dict[str, list[tuple[int, str, bytes, dict[str, str]]]] = {}
    for seq, topic, key, value, headers in rows:
        by_topic.setdefault(topic, []).append((seq, key, bytes(value), orjson.loads(headers)))
    result = RelayPass(read=len(rows))
    for topic, items in by_topic.items():
        outcomes = deliver(bus, topic, [(k, v, h) for _, k, v, h in items])
        _mark(conn, topic, [seq for seq, *_ in items], outcomes, result)
    return result


def _mark(
    conn: sqlite3.Connection,
    topic: str,
    seqs: list[int],
    outcomes: list[Outcome],
    result: RelayPass,
) -> None:
    now = time.time()
    sent = [(now, s) for s, o in zip(seqs, outcomes, strict=True) if o == "delivered"]
    rejected = [(s,) for s, o in zip(seqs, outcomes, strict=True) if o == "rejected"]
    retry = [(s,) for s, o in zip(seqs, outcomes, strict=True) if o == "retry"]
    error = f"refused by the bus on {topic}"
    with conn:
        conn.executemany(
            "UPDATE outbox SET sent = 1, status = 'sent', sent_at = ?, attempts = attempts + 1 "
            "WHERE seq = ?",
            sent,
        )
        conn.executemany(
            "UPDATE outbox SET sent = -1, status = 'failed_permanent', attempts = attempts + 1, "
            "last_error = ? WHERE seq = ?",
            [(error, s) for (s,) in rejected],
        )
        conn.executemany(
            "UPDATE outbox SET attempts = attempts + 1, last_error = 'bus unavailable' "
            "WHERE seq = ?",
            retry,
        )
    if rejected:
        log.error(
            "outbox: %d message(s) to %s refused for good (failed_permanent)", len(rejected), topic
        )
    result.delivered += len(sent)
    result.rejected += len(rejected)
    result.retry += len(retry)
    for status, count in (
        ("sent", len(sent)),
        ("failed_permanent", len(rejected)),
        ("retry", len(retry)),
    ):
        if count:
            MESSAGES.labels("outbox", status).inc(count)


def relay_all(conn: sqlite3.Connection, bus: Bus, batch_size: int = 500) -> int:
    """Publish everything pending; raises Retry (after what it could send) if the bus refuses."""
    ensure_schema(conn)
    return _relay_pending(conn, bus, batch_size)


def _relay_pending(conn: sqlite3.Connection, bus: Bus, batch_size: int) -> int:
    """Passes until one finds fewer rows than a batch: rows added meanwhile come with
    their own wake-up. The schema is the caller's to check, once."""
    total = 0
    while True:
        outcome = _relay_pass(conn, bus, batch_size)
        total += outcome.delivered
        if outcome.retry:
            raise Retry("bus-unavailable", f"{backlog(conn)} messages wait in the outbox")
        if outcome.read < batch_size:
            backlog(conn)
            return total


def relay_forever(
    conn: sqlite3.Connection,
    bus: Bus,
    stop: threading.Event,
    wake: threading.Event,
    *,
    idle_s: float = 1.0,
    linger_s: float = 0.1,
    min_backoff_s: float = 0.5,
    max_backoff_s: float = 30.0,
    keep_sent_s: float = 86_400.0,
    batch_size: int = 500,
) -> None:
    """Relay until `stop`: `linger_s` after `wake` is set, else every `idle_s`; back off
    while the bus refuses, and drain as soon as it takes messages again.

    The crawler wakes the relay for every article it accepts; lingering a little lets a
    pass carry the articles accepted meanwhile, instead of paying a read, a log
    transaction and an outbox update for each one."""
    backoff = min_backoff_s
    last_prune = 0.0
    checked = False
    while not stop.is_set():
        try:
            if not checked:
                ensure_schema(conn)
                checked = True
            _relay_pending(conn, bus, batch_size)
            backoff = min_backoff_s
            if time.monotonic() - last_prune > 600:
                prune(conn, keep_sent_s)
                last_prune = time.monotonic()
            if wake.wait(idle_s):
                stop.wait(linger_s)
            wake.clear()
        except Exception as exc:  # the relay must outlive any bus failure
            log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff_s)
