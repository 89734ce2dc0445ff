"""Every SQLite store waits for a writer that holds the lock, instead of losing the write."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from alerts.store import connect as alerts_connect
from chipwire.bus.embedded import EmbeddedBus
from chipwire.sqlite import BUSY_TIMEOUT_S
from enrich.event_store import connect as events_connect
from ingest.state import connect as state_connect


def _bus_connection(path: Path) -> sqlite3.Connection:
    return EmbeddedBus(path)._conn


STORES = pytest.mark.parametrize(
    "open_store",
    [state_connect, events_connect, alerts_connect, _bus_connection],
    ids=["crawler state", "event stories", "alerts", "embedded log"],
)


@STORES
def test_every_store_waits_long_for_a_busy_writer(
    tmp_path: Path, open_store: Callable[[Path], sqlite3.Connection]
) -> None:
    store = open_store(tmp_path / "store.db")
    (waits_ms,) = store.execute("PRAGMA busy_timeout").fetchone()
    assert waits_ms >= BUSY_TIMEOUT_S * 1000 >= 30_000


@STORES
def test_a_write_waits_for_another_writer_instead_of_failing(
    tmp_path: Path, open_store: Callable[[Path], sqlite3.Connection]
) -> None:
    path = tmp_path / "store.db"
    store = open_store(path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    release.start()
    try:
        store.execute("CREATE TABLE probe (x INTEGER)")
        store.execute("INSERT INTO probe VALUES (1)")
        store.commit()
    finally:
        release.join(timeout=10)
        holder.close()
    assert store.execute("SELECT x FROM probe").fetchall() == [(1,)]
