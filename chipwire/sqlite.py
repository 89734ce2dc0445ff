"""One way to open chipwire's SQLite files: WAL, and writers wait for each other.

Every store (crawler state and outbox, embedded log, event stories, alerts) is opened
here, so none of them can forget the busy timeout and fail with "database is locked"
when another thread or process holds the write lock for a moment.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 30


def open_database(path: Path, *, autocommit: bool = False) -> sqlite3.Connection:
    """A connection usable from any thread; `autocommit` leaves transactions to the caller."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_S,
        check_same_thread=False,
        isolation_level=None if autocommit else "DEFERRED",
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    return conn
