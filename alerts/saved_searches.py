"""Saved searches: named queries kept in the alerter's SQLite file (table in store.py).

Every saved search is matched at ingest against each article (alerts/saved_query.py, the
same matcher as a subscription's `query`), so the page can say how many articles matched
it and a subscription can name it (`saved_search = "china-customs"`) instead of repeating
the query.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SavedSearch:
    name: str
    query: str
    created_at: str
    matched: int  # articles matched at ingest since it was saved


def put(conn: sqlite3.Connection, name: str, query: str) -> SavedSearch:
    """Create or replace (the query is validated by the caller)."""
    now = datetime.now(UTC).isoformat()
    with conn:
        conn.execute("INSERT OR REPLACE INTO saved_searches VALUES (?, ?, ?)", (name, query, now))
    found = get(conn, name)
    assert found is not None
    return found


def get(conn: sqlite3.Connection, name: str) -> SavedSearch | None:
    return next((s for s in listing(conn) if s.name == name), None)


def listing(conn: sqlite3.Connection) -> list[SavedSearch]:
    rows = conn.execute(
        "SELECT s.name, s.query, s.created_at, "
        "(SELECT COUNT(*) FROM query_matches m WHERE m.query = s.query) "
        "FROM saved_searches s ORDER BY s.name"
    ).fetchall()
    return [SavedSearch(str(n), str(q), str(c), int(m)) for n, q, c, m in rows]


def queries(conn: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT query FROM saved_searches").fetchall()}


def delete(conn: sqlite3.Connection, name: str) -> bool:
    with conn:
        return conn.execute("DELETE FROM saved_searches WHERE name = ?", (name,)).rowcount > 0
