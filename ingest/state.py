"""The crawler's durable state in SQLite: feed state, seen URLs, story fingerprints, outbox.

A new article's seen-mark, fingerprint and outgoing message are written in one
transaction, so a crash either loses nothing or repeats nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chipwire import outbox
from chipwire.sqlite import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    source_id TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    next_check_at REAL NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_polled_at REAL
);
CREATE TABLE IF NOT EXISTS seen (
    article_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fingerprints (
    article_id TEXT PRIMARY KEY,
    story_id TEXT NOT NULL,
    minhash BLOB NOT NULL
);
"""

# Columns added after the first release: added in place to an existing state file.
_SEEN_COLUMNS = {
    "next_try_at": "REAL",  # when a page that failed transiently is due again
    "last_error": "TEXT",
    "source_id": "TEXT",  # with `item`, enough to retry a page after it left its feed
    "item": "TEXT",  # the feed item as JSON
}

# Columns of the feeds table added after the first release.
_FEED_COLUMNS = {
    "cursor": "TEXT",  # an adapter's position: the newest publication date it has listed
    "cadence": "TEXT",  # Cadence as JSON: what adaptive polling has observed (ingest/cadence.py)
    # written only by `tighten` (the alerter's hook), never by a poll's save
    "tighten_until": "REAL",
    "tighten_reason": "TEXT",
}
_FEED_FIELDS = (
    "source_id, etag, last_modified, next_check_at, error_count, last_error, last_polled_at, "
    "cursor, cadence"
)
_READ_FIELDS = _FEED_FIELDS + ", tighten_until, tighten_reason"

# Final statuses: the URL is never fetched again. Anything else may be retried.
DONE = ("published", "discarded", "gave-up")


@dataclass(frozen=True)
class Cadence:
    """What adaptive polling keeps about a feed between polls (ingest/cadence.py)."""

    item_times: tuple[float, ...] = ()  # newest publication times listed (epoch seconds)
    delays: tuple[float, ...] = ()  # recent publish-to-fetch delays of new items (seconds)
    items_seen: int = 0  # new items taken since the feed was first polled
    last_success_at: float | None = None
    interval_s: float | None = None  # the interval chosen at the last successful poll
    reason: str | None = None  # why that interval
    feed_hints: tuple[tuple[float, str], ...] = ()  # ttl, sy:updatePeriod of the last body
    http_hints: tuple[tuple[float, str], ...] = ()  # max-age, Expires of the last response

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Cadence:
        try:
            data = json.loads(text or "{}")
            return cls(
                item_times=tuple(float(t) for t in data.get("item_times", ())),
                delays=tuple(float(d) for d in data.get("delays", ())),
                items_seen=int(data.get("items_seen", 0)),
                last_success_at=_number(data.get("last_success_at")),
                interval_s=_number(data.get("interval_s")),
                reason=data.get("reason"),
                feed_hints=_hints(data.get("feed_hints", ())),
                http_hints=_hints(data.get("http_hints", ())),
            )
        except (ValueError, TypeError, AttributeError):  # an unreadable record starts afresh
            return cls()


def _hints(pairs: list[list[object]]) -> tuple[tuple[float, str], ...]:
    return tuple((float(str(s)), str(w)) for s, w in pairs)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class FeedState:
    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    next_check_at: float = 0.0
    error_count: int = 0
    last_error: str | None = None
    last_polled_at: float | None = None
    cursor: str | None = None
    cadence: Cadence = field(default_factory=Cadence)
    tighten_until: float | None = None  # polled at its shortest interval until then
    tighten_reason: str | None = None


def _feed_state(row: Any) -> FeedState:
    source_id, etag, last_modified, next_check, errors, error, polled, cursor, *rest = row
    cadence, until, why = rest
    return FeedState(
        source_id,
        etag,
        last_modified,
        next_check,
        errors,
        error,
        polled,
        cursor,
        cadence=Cadence.from_json(cadence if isinstance(cadence, str) else None),
        tighten_until=until if isinstance(until, float | int) else None,
        tighten_reason=why if isinstance(why, str) else None,
    )


def connect(path: Path) -> sqlite3.Connection:
    conn = open_database(path)
    conn.executescript(_SCHEMA + outbox.SCHEMA)
    with conn:
        for table, columns in (("seen", _SEEN_COLUMNS), ("feeds", _FEED_COLUMNS)):
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if column not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    return conn


def feed_state(conn: sqlite3.Connection, source_id: str) -> FeedState:
    row = conn.execute(
        f"SELECT {_READ_FIELDS} FROM feeds WHERE source_id = ?",
        (source_id,),
    ).fetchone()
    return _feed_state(row) if row else FeedState(source_id)


def save_feed_state(conn: sqlite3.Connection, state: FeedState) -> None:
    save_feed_states(conn, [state])


def save_feed_states(conn: sqlite3.Connection, states: list[FeedState]) -> None:
    """Store polls' outcomes, in one transaction. The tightening columns are left as they
    are: the alerter may have set them while the polls were running."""
    names = [n.strip() for n in _FEED_FIELDS.split(",")]
    updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
    with conn:
        conn.executemany(
            f"INSERT INTO feeds ({_FEED_FIELDS}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT (source_id) DO UPDATE SET {updates}",
            [
                (
                    state.source_id,
                    state.etag,
                    state.last_modified,
                    state.next_check_at,
                    state.error_count,
                    state.last_error,
                    state.last_polled_at,
                    state.cursor,
                    state.cadence.to_json(),
                )
                for state in states
            ],
        )


def all_feed_states(conn: sqlite3.Connection) -> list[FeedState]:
    rows = conn.execute(f"SELECT {_READ_FIELDS} FROM feeds ORDER BY source_id").fetchall()
    return [_feed_state(row) for row in rows]


def tighten(conn: sqlite3.Connection, source_ids: list[str], until: float, reason: str) -> None:
    """Poll these sources at their shortest interval until `until` (after a policy shift
    on a subject they cover); the interval chosen at their next poll is the short one."""
    with conn:
        conn.executemany(
            "INSERT INTO feeds (source_id, tighten_until, tighten_reason) VALUES (?, ?, ?) "
            "ON CONFLICT (source_id) DO UPDATE SET tighten_until = MAX(COALESCE("
            "tighten_until, 0), excluded.tighten_until), tighten_reason = excluded.tighten_reason",
            [(source_id, until, reason) for source_id in source_ids],
        )


def unseen(conn: sqlite3.Connection, article_ids: list[str], now: float) -> set[str]:
    """The ids worth fetching now: never seen, or failed transiently and due again."""
    if not article_ids:
        return set()
    placeholders = ",".join("?" * len(article_ids))
    rows = conn.execute(
        f"SELECT article_id, status, next_try_at FROM seen WHERE article_id IN ({placeholders})",
        article_ids,
    ).fetchall()
    settled = {aid for aid, status, next_try in rows if status in DONE or (next_try or 0.0) > now}
    return set(article_ids) - settled


@dataclass(frozen=True)
class PendingPage:
    article_id: str
    url: str
    source_id: str | None
    item: str | None  # FeedItem as JSON
    attempts: int
    first_seen_at: float
    next_try_at: float | None
    last_error: str | None


def attempts_so_far(conn: sqlite3.Connection, article_id: str) -> tuple[int, float | None]:
    """(failed attempts recorded, first time seen) for one page; (0, None) if never seen."""
    row = conn.execute(
        "SELECT attempts, first_seen_at FROM seen WHERE article_id = ?", (article_id,)
    ).fetchone()
    return (int(row[0]), float(row[1])) if row else (0, None)


def mark_retry(
    conn: sqlite3.Connection,
    article_id: str,
    url: str,
    *,
    next_try_at: float | None,
    error: str,
    source_id: str,
    item: str,
) -> None:
    """A transient failure: due again at `next_try_at`, or given up when that is None."""
    with conn:
        _upsert_seen(conn, article_id, url, "retry" if next_try_at is not None else "gave-up")
        conn.execute(
            "UPDATE seen SET next_try_at = ?, last_error = ?, source_id = ?, item = ? "
            "WHERE article_id = ?",
            (next_try_at, error[:500], source_id, item, article_id),
        )


def due_pages(conn: sqlite3.Connection, now: float, limit: int = 500) -> list[PendingPage]:
    """Pages waiting for a retry whose time has come (oldest due first)."""
    return _pending(conn, "AND next_try_at <= ? ORDER BY next_try_at LIMIT ?", (now, limit))


def pending_pages(conn: sqlite3.Connection) -> list[PendingPage]:
    return _pending(conn, "ORDER BY source_id, next_try_at", ())


def _pending(conn: sqlite3.Connection, tail: str, args: tuple[object, ...]) -> list[PendingPage]:
    rows = conn.execute(
        "SELECT article_id, url, source_id, item, attempts, first_seen_at, next_try_at, "
        f"last_error FROM seen WHERE status = 'retry' AND item IS NOT NULL {tail}",
        args,
    ).fetchall()
    return [PendingPage(*row) for row in rows]


def given_up_counts(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT COALESCE(source_id, ''), COUNT(*) FROM seen WHERE status = 'gave-up' "
        "GROUP BY source_id"
    ).fetchall()
    return {source: count for source, count in rows}


def mark(conn: sqlite3.Connection, article_id: str, url: str, status: str) -> None:
    """Record an outcome that publishes nothing (discarded, or a transient failure)."""
    with conn:
        _upsert_seen(conn, article_id, url, status)


def _upsert_seen(conn: sqlite3.Connection, article_id: str, url: str, status: str) -> None:
    conn.execute(
        "INSERT INTO seen (article_id, url, status, attempts, first_seen_at) "
        "VALUES (?, ?, ?, 1, ?) ON CONFLICT (article_id) DO UPDATE SET "
        "status = excluded.status, attempts = seen.attempts + 1",
        (article_id, url, status, time.time()),
    )


def accept(
    conn: sqlite3.Connection,
    article_id: str,
    url: str,
    story_id: str,
    minhash: bytes,
    message: tuple[str, str, bytes, dict[str, str]],
) -> None:
    """Seen-mark, fingerprint and outgoing message, all or nothing."""
    topic, key, value, headers = message
    with conn:
        _upsert_seen(conn, article_id, url, "published")
        conn.execute(
            "INSERT OR IGNORE INTO fingerprints VALUES (?, ?, ?)", (article_id, story_id, minhash)
        )
        outbox.add(conn, topic, key, value, headers)


def fingerprints(conn: sqlite3.Connection) -> list[tuple[str, str, bytes]]:
    return [(a, s, bytes(m)) for a, s, m in conn.execute("SELECT * FROM fingerprints")]
