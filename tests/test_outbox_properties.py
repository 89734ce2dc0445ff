"""Property test of the outbox relay (reliability matrix J4): whatever the order of
accepted articles, bus outages, refusals and relay passes, nothing is lost, nothing is
sent twice, and each row's status tells the truth."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chipwire import outbox
from chipwire.errors import Retry
from tests.test_outbox import TOPIC, SwitchableBus


class OutboxRelay(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        self.conn = sqlite3.connect(self.dir / "state.sqlite")
        self.conn.execute("PRAGMA synchronous=OFF")  # speed only: no power loss in this test
        self.conn.executescript(outbox.SCHEMA)
        self.bus = SwitchableBus(self.dir / "log.sqlite")
        self.accepted: list[str] = []

    @rule(count=st.integers(1, 5))
    def crawler_accepts(self, count: int) -> None:
        for _ in range(count):
            key = f"k{len(self.accepted)}"
            with self.conn:
                outbox.add(self.conn, TOPIC, key, b"{}", {"ce_id": key})
            self.accepted.append(key)

    @rule()
    def operator_requeues_the_refused(self) -> None:
        outbox.requeue_failed(self.conn)

    @rule(down=st.booleans())
    def broker(self, down: bool) -> None:
        self.bus.down = down

    @precondition(lambda self: bool(self.accepted))
    @rule(pick=st.integers(0, 10_000))
    def a_record_turns_out_too_large(self, pick: int) -> None:
        self.bus.too_large.add(self.accepted[pick % len(self.accepted)])

    @rule(batch=st.integers(1, 7))
    def relay(self, batch: int) -> None:
        try:
            outbox.relay_all(self.conn, self.bus, batch_size=batch)
        except Retry:
            assert self.bus.down

    @invariant()
    def nothing_lost_nothing_twice(self) -> None:
        rows = dict(self.conn.execute("SELECT key, status FROM outbox").fetchall())
        published = [m.key for m in self.bus.read(TOPIC, 0, 100_000)]
        assert len(published) == len(set(published))  # each sent once
        assert set(rows) == set(self.accepted)  # every accepted article has its row
        for key, status in rows.items():
            assert (status == "sent") == (key in published)
            if status == "failed_permanent":
                assert key in self.bus.too_large

    @invariant()
    def the_backlog_count_is_the_pending_rows(self) -> None:
        (pending,) = self.conn.execute("SELECT COUNT(*) FROM outbox WHERE sent = 0").fetchone()
        assert outbox.backlog(self.conn) == pending

    def teardown(self) -> None:
        self.bus.down = False
        outbox.relay_all(self.conn, self.bus)
        assert outbox.backlog(self.conn) == 0
        assert set([m.key for m in self.bus.read(TOPIC, 0, 100_000)]) | self.bus.too_large >= set(
            self.accepted
        )
        self.conn.close()
        self.bus.close()
        shutil.rmtree(self.dir, ignore_errors=True)


TestOutboxRelay = OutboxRelay.TestCase
TestOutboxRelay.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
