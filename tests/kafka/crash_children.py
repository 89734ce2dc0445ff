"""Processes the crash test kills with SIGKILL: the outbox relay and a consuming stage.

python -m tests.kafka.crash_children relay|consume   (settings from CHIPWIRE_* env)
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

from chipwire import outbox
from chipwire.bus import Message
from chipwire.bus.kafka import KafkaBus
from chipwire.settings import Settings
from chipwire.stage import StageRunner

SINK_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (key TEXT NOT NULL);
"""


class IndexLikeSink:
    """Stores each key once (like an index with explicit ids) and logs every delivery."""

    name = "crash-index"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=30)
        self.conn.executescript(SINK_SCHEMA)
        self.batch: list[str] = []

    def handle(self, message: Message) -> None:
        with self.conn:  # every delivery is logged at once, durable or not
            self.conn.execute("INSERT INTO deliveries VALUES (?)", (message.key,))
        self.batch.append(message.key)

    def flush(self) -> None:
        time.sleep(0.15)  # a bulk request's worth of work: kills can land mid-batch
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO docs VALUES (?)", [(k,) for k in self.batch]
            )
        self.batch.clear()


def relay() -> None:
    bus = KafkaBus(Settings())
    conn = sqlite3.connect(os.environ["CRASH_OUTBOX_DB"], timeout=30)
    stop, wake = threading.Event(), threading.Event()
    outbox.relay_forever(
        conn, bus, stop, wake, idle_s=0.1, min_backoff_s=0.1, max_backoff_s=0.5, batch_size=100
    )


def consume() -> None:
    bus = KafkaBus(Settings())
    consumer = bus.consumer(os.environ["CRASH_GROUP"], [os.environ["CRASH_TOPIC"]])
    runner = StageRunner(consumer, IndexLikeSink(os.environ["CRASH_SINK_DB"]), bus, max_records=100)
    runner.run(threading.Event(), poll_timeout_s=0.2)


if __name__ == "__main__":
    {"relay": relay, "consume": consume}[sys.argv[1]]()
