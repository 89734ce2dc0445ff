"""The embedded bus: a durable append-only log in SQLite with offsets per consumer group.

One file holds every topic. Any number of processes may read and write it (WAL mode);
within one process a condition variable wakes waiting consumers at once, across
processes they re-check the file every `_CROSS_PROCESS_POLL_S`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path

import orjson

from chipwire.bus import TOPICS, Message
from chipwire.sqlite import open_database

_CROSS_PROCESS_POLL_S = 0.2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL,
    offset INTEGER NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    headers TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic)
) WITHOUT ROWID;
"""


class EmbeddedBus:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = open_database(self.path, autocommit=True)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._published = threading.Condition()

    def publish(
        self, topic: str, key: str, value: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.publish_many(topic, [(key, value, dict(headers or {}))])

    def publish_many(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[bool]:
        now_ms = int(time.time() * 1000)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                (next_offset,) = self._conn.execute(
                    "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ?", (topic,)
                ).fetchone()
                self._conn.executemany(
                    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            topic,
                            next_offset + i,
                            key,
                            value,
                            orjson.dumps(dict(headers)).decode(),
                            now_ms,
                        )
                        for i, (key, value, headers) in enumerate(records)
                    ],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        with self._published:
            self._published.notify_all()
        return [True] * len(records)

    def flush(self, timeout_s: float | None = None) -> None:
        """Nothing to flush: publish() returns after the commit."""

    def ensure_topics(self) -> None:
        """Topics exist as soon as a message is written."""

    def consumer(
        self, group: str, topics: Sequence[str], *, from_beginning: bool = True
    ) -> EmbeddedConsumer:
        return EmbeddedConsumer(self, group, list(topics), from_beginning=from_beginning)

    def reader(self, topics: Sequence[str], *, from_beginning: bool = True) -> EmbeddedConsumer:
        """A consumer outside any group: its positions live in memory only."""
        return EmbeddedConsumer(self, None, list(topics), from_beginning=from_beginning)

    def end_offsets(self, topic: str) -> int:
        with closing(open_database(self.path, autocommit=True)) as conn:
            (end,) = conn.execute(
                "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ?", (topic,)
            ).fetchone()
        return int(end)

    def topic_counts(self) -> dict[str, int]:
        """Messages per topic (the chipwire topics always listed, even when empty)."""
        with closing(open_database(self.path, autocommit=True)) as conn:
            rows = conn.execute("SELECT topic, COUNT(*) FROM messages GROUP BY topic").fetchall()
        return {**dict.fromkeys(TOPICS, 0), **{topic: int(count) for topic, count in rows}}

    def read(self, topic: str, start: int = 0, limit: int = 100) -> list[Message]:
        """Up to `limit` messages of `topic` from offset `start`, outside any consumer group."""
        with closing(open_database(self.path, autocommit=True)) as conn:
            rows = conn.execute(
                "SELECT offset, key, value, headers, ts_ms FROM messages "
                "WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, start, limit),
            ).fetchall()
        return [
            Message(topic, key, bytes(value), orjson.loads(headers), 0, offset, ts_ms)
            for offset, key, value, headers, ts_ms in rows
        ]

    def wait_for_publish(self, timeout_s: float) -> None:
        with self._published:
            self._published.wait(timeout=min(timeout_s, _CROSS_PROCESS_POLL_S))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class EmbeddedConsumer:
    def __init__(
        self, bus: EmbeddedBus, group: str | None, topics: list[str], *, from_beginning: bool
    ) -> None:
        self._bus = bus
        self._group = group
        self._topics = topics
        self._conn = open_database(bus.path, autocommit=True)
        self._position: dict[str, int] = {}
        self._committed: dict[str, int] = {}
        for topic in topics:
            row = None
            if group is not None:
                row = self._conn.execute(
                    "SELECT next_offset FROM group_offsets WHERE grp = ? AND topic = ?",
                    (group, topic),
                ).fetchone()
            if row is not None:
                start = int(row[0])
            else:
                start = 0 if from_beginning else bus.end_offsets(topic)
            self._position[topic] = self._committed[topic] = start

    def poll(self, max_records: int = 100, timeout_s: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while True:
            batch = self._read(max_records)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            self._bus.wait_for_publish(remaining)

    def _read(self, max_records: int) -> list[Message]:
        batch: list[Message] = []
        for topic in self._topics:
            if len(batch) >= max_records:
                break
            rows = self._conn.execute(
                "SELECT offset, key, value, headers, ts_ms FROM messages "
                "WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, self._position[topic], max_records - len(batch)),
            ).fetchall()
            for offset, key, value, headers, ts_ms in rows:
                batch.append(
                    Message(topic, key, bytes(value), orjson.loads(headers), 0, offset, ts_ms)
                )
                self._position[topic] = offset + 1
        return batch

    def commit(self) -> None:
        changed = {t: o for t, o in self._position.items() if self._committed.get(t) != o}
        if not changed:
            return
        if self._group is None:  # a reader: nothing to keep
            self._committed.update(changed)
            return
        self._conn.executemany(
            "INSERT INTO group_offsets VALUES (?, ?, ?) "
            "ON CONFLICT (grp, topic) DO UPDATE SET next_offset = excluded.next_offset",
            [(self._group, topic, offset) for topic, offset in changed.items()],
        )
        self._committed.update(changed)

    def rewind(self) -> None:
        self._position = dict(self._committed)

    def unread(self) -> int:
        return sum(self._bus.end_offsets(t) - self._position[t] for t in self._topics)

    def reading_to_end(self) -> AbstractContextManager[None]:
        return nullcontext()  # a poll reads what the log holds already

    def lag(self) -> int:
        return sum(self._bus.end_offsets(t) - self._committed[t] for t in self._topics)

    def close(self) -> None:
        self._conn.close()
