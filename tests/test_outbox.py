"""The outbox keeps every accepted message until the bus has it, and never retries hot.

The bus here is the real embedded log behind a switch that makes it refuse records,
as a broker does when it is down (retry) or when a record is too large (rejected).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from chipwire import outbox
from chipwire.bus import Outcome
from chipwire.bus.embedded import EmbeddedBus
from chipwire.errors import Retry
from chipwire.metrics import OUTBOX_BACKLOG
from ingest import state

TOPIC = "chipwire.articles.raw.v1"


class SwitchableBus(EmbeddedBus):
    """The embedded log, except while `down` (everything waits) or for `too_large` keys."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.down = False
        self.too_large: set[str] = set()
        self.attempts: list[str] = []

    def deliver(
        self, topic: str, records: Sequence[tuple[str, bytes, Mapping[str, str]]]
    ) -> list[Outcome]:
        self.attempts.extend(key for key, _, _ in records)
        if self.down:
            return ["retry"] * len(records)
        accepted = [r for r in records if r[0] not in self.too_large]
        self.publish_many(topic, accepted)
        return ["rejected" if r[0] in self.too_large else "delivered" for r in records]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(tmp_path / "state.sqlite", check_same_thread=False)
    db.executescript(outbox.SCHEMA)
    yield db
    db.close()


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SwitchableBus]:
    made = SwitchableBus(tmp_path / "log.sqlite")
    yield made
    made.close()


def accept(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    for key in keys:
        with conn:
            outbox.add(conn, TOPIC, key, f'{{"id": "{key}"}}'.encode(), {"ce_id": key})


def on_bus(bus: EmbeddedBus) -> list[str]:
    consumer = bus.consumer("check", [TOPIC])
    keys = [m.key for m in consumer.poll(10_000, 0.2)]
    consumer.close()
    return keys


def test_a_refused_record_is_marked_failed_permanent_and_never_retried(
    conn: sqlite3.Connection, bus: SwitchableBus
) -> None:
    accept(conn, ["a", "huge", "b"])
    bus.too_large = {"huge"}

    assert outbox.relay_all(conn, bus) == 2
    assert outbox.relay_all(conn, bus) == 0

    assert on_bus(bus) == ["a", "b"]
    assert bus.attempts.count("huge") == 1
    assert outbox.backlog(conn) == 0
    assert outbox.failed_count(conn) == 1
    ((_, topic, key, error),) = outbox.failed_rows(conn)
    assert (topic, key) == (TOPIC, "huge") and "refused" in error
    status = conn.execute("SELECT status FROM outbox WHERE key = 'huge'").fetchone()
    assert status == ("failed_permanent",)


def test_requeued_rows_go_out_once_the_cause_is_fixed(
    conn: sqlite3.Connection, bus: SwitchableBus
) -> None:
    accept(conn, ["huge"])
    bus.too_large = {"huge"}
    outbox.relay_all(conn, bus)
    bus.too_large = set()
    assert outbox.requeue_failed(conn) == 1
    assert outbox.relay_all(conn, bus) == 1
    assert on_bus(bus) == ["huge"]


def test_while_the_bus_is_down_rows_wait_and_then_drain_in_order(
    conn: sqlite3.Connection, bus: SwitchableBus
) -> None:
    accept(conn, [f"k{i}" for i in range(10)])
    bus.down = True
    with pytest.raises(Retry):
        outbox.relay_all(conn, bus)
    assert outbox.backlog(conn) == 10
    assert OUTBOX_BACKLOG._value.get() == 10
    attempts = conn.execute("SELECT MIN(attempts), MAX(attempts) FROM outbox").fetchone()
    assert attempts == (1, 1)  # one try per pass, then the relay backs off

    bus.down = False
    assert outbox.relay_all(conn, bus) == 10
    assert on_bus(bus) == [f"k{i}" for i in range(10)]
    assert outbox.backlog(conn) == 0
    assert OUTBOX_BACKLOG._value.get() == 0


def test_the_backlog_is_bounded_and_a_full_outbox_rolls_back_the_callers_transaction(
    conn: sqlite3.Connection,
) -> None:
    for i in range(3):
        with conn:
            outbox.add(conn, TOPIC, f"k{i}", b"{}", {}, max_backlog=3)
    with pytest.raises(Retry, match="outbox-full"), conn:
        conn.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT)")
        conn.execute("INSERT INTO seen VALUES ('k3')")
        outbox.add(conn, TOPIC, "k3", b"{}", {}, max_backlog=3)
    assert conn.execute("SELECT COUNT(*) FROM seen").fetchone() == (0,)
    assert outbox.backlog(conn) == 3


def test_a_relay_committing_mid_transaction_never_makes_an_accepted_article_fail(
    tmp_path: Path,
) -> None:
    """Two writers on the crawler's state file, as in `chipwire run` (the crawler accepts,
    the relay marks rows sent). The relay commits while the crawler's transaction is
    between its statements: the crawler's message must still be queued, not refused with
    "database is locked"."""
    path = tmp_path / "state.sqlite"
    crawler, relay = state.connect(path), state.connect(path)
    relay.execute("PRAGMA busy_timeout=0")  # the relay gives way at once (it retries later)
    crawler.isolation_level = None  # the caller's own transaction, opened explicitly
    relay_commits: list[bool] = []

    def relay_commits_now(statement: str) -> None:
        if statement.startswith("SELECT") or statement.startswith("INSERT"):
            try:
                with relay:
                    relay.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = 1")
                relay_commits.append(True)
            except sqlite3.OperationalError:  # the crawler holds the write lock: fine
                relay_commits.append(False)

    with relay:
        outbox.add(relay, TOPIC, "earlier", b"{}", {})
    crawler.execute("BEGIN")
    crawler.set_trace_callback(relay_commits_now)
    try:
        outbox.add(crawler, TOPIC, "accepted", b"{}", {})
        crawler.set_trace_callback(None)
        crawler.execute("COMMIT")
    finally:
        crawler.set_trace_callback(None)
        crawler.close()
    keys = [k for (k,) in relay.execute("SELECT key FROM outbox ORDER BY seq")]
    relay.close()
    assert keys == ["earlier", "accepted"]
    assert relay_commits  # the relay did try to write in the middle


def test_relay_forever_backs_off_while_down_and_drains_when_the_bus_returns(
    conn: sqlite3.Connection, bus: SwitchableBus
) -> None:
    bus.down = True
    accept(conn, [f"k{i}" for i in range(5)])
    stop, wake = threading.Event(), threading.Event()
    relay = threading.Thread(
        target=outbox.relay_forever,
        args=(conn, bus, stop, wake),
        kwargs={"idle_s": 0.05, "min_backoff_s": 0.05, "max_backoff_s": 0.2},
    )
    relay.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            time.sleep(0.05)
        tries_while_down = len(bus.attempts) // 5
        bus.down = False
        deadline = time.monotonic() + 10
        while outbox.backlog(conn) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        wake.set()
        relay.join(timeout=5)
    assert outbox.backlog(conn) == 0
    assert sorted(on_bus(bus)) == [f"k{i}" for i in range(5)]
    # exponential backoff: at most ~log2(1.0 / 0.05) + a few passes in one second
    print(f"relay passes during a 1 s outage: {tries_while_down}")
    assert tries_while_down <= 10


def test_an_outbox_from_the_first_version_is_upgraded(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.sqlite")
    db.executescript(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, "
        "key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL, "
        "sent INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO outbox (topic, key, value, headers, sent) VALUES "
        "('chipwire.articles.raw.v1', 'old-sent', x'7b7d', '{}', 1), "
        "('chipwire.articles.raw.v1', 'old-pending', x'7b7d', '{}', 0);"
    )
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    assert outbox.relay_all(db, bus) == 1
    assert on_bus(bus) == ["old-pending"]
    statuses = dict(db.execute("SELECT key, status FROM outbox").fetchall())
    assert statuses == {"old-sent": "sent", "old-pending": "sent"}
    bus.close()
    db.close()


def test_prune_forgets_only_acknowledged_rows(conn: sqlite3.Connection, bus: SwitchableBus) -> None:
    accept(conn, ["sent-1", "sent-2"])
    outbox.relay_all(conn, bus)
    accept(conn, ["waiting"])
    assert outbox.prune(conn, keep_sent_s=0) == 2
    assert conn.execute("SELECT key FROM outbox").fetchall() == [("waiting",)]


def _steps_to_accept_one(conn: sqlite3.Connection, key: str) -> int:
    """SQLite virtual-machine steps one accepted message costs (a count, not a timing)."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(count, 1)
    try:
        with conn:
            outbox.add(conn, TOPIC, key, b"{}", {})
    finally:
        conn.set_progress_handler(None, 1)
    return steps[0]


def test_accepting_while_the_bus_is_down_costs_the_same_whatever_the_backlog(
    conn: sqlite3.Connection,
) -> None:
    with conn:
        conn.executemany(
            "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, x'7b7d', '{}')",
            [(TOPIC, f"w{i}") for i in range(200)],
        )
    small = _steps_to_accept_one(conn, "at-200")
    with conn:
        conn.executemany(
            "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, x'7b7d', '{}')",
            [(TOPIC, f"w{i}") for i in range(200, 5000)],
        )
    large = _steps_to_accept_one(conn, "at-5000")
    assert large <= small + 5  # a backlog check that walks the pending rows takes thousands
    assert outbox.backlog(conn) == 5002


def test_an_outbox_without_its_backlog_count_is_counted_once_then_kept(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.sqlite")
    db.executescript(outbox._TABLE_SCHEMA)  # a state file from before the count
    with db:
        db.executemany(
            "INSERT INTO outbox (topic, key, value, headers, sent) VALUES (?, ?, x'7b7d', '{}', ?)",
            [(TOPIC, "sent", 1), (TOPIC, "failed", -1), (TOPIC, "p1", 0), (TOPIC, "p2", 0)],
        )
    outbox.ensure_schema(db)
    assert outbox.backlog(db) == 2
    accept(db, ["p3"])
    assert outbox.requeue_failed(db) == 1
    assert outbox.backlog(db) == 4
    bus = SwitchableBus(tmp_path / "log.sqlite")
    bus.too_large.add("failed")
    outbox.relay_all(db, bus)
    assert outbox.backlog(db) == 0
    bus.close()
    db.close()


def test_relaying_fewer_rows_than_a_batch_reads_the_outbox_once(
    conn: sqlite3.Connection, bus: SwitchableBus
) -> None:
    accept(conn, ["a", "b", "c"])
    reads: list[str] = []
    conn.set_trace_callback(
        lambda statement: (
            reads.append(statement) if "WHERE sent = 0 ORDER BY" in statement else None
        )
    )
    assert outbox.relay_all(conn, bus, batch_size=3) == 3  # a full batch: one more look
    assert len(reads) == 2
    reads.clear()
    accept(conn, ["d", "e"])
    assert outbox.relay_all(conn, bus, batch_size=3) == 2  # a short one: nothing was left
    assert len(reads) == 1
    assert on_bus(bus) == ["a", "b", "c", "d", "e"]
