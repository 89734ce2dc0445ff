"""An alerts file written by the first release is adopted on upgrade: its history keeps the
pairs' states, nothing that happened before the upgrade is mailed (again), and the next
real shift is mailed once. Real SQLite file, real SMTP server (aiosmtpd)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from alerts import store
from alerts.alerter import Alerter
from chipwire.bus.embedded import EmbeddedBus
from chipwire.settings import Settings
from tests.alertkit import DAY0, article, publish_all, run_alerter
from tests.smtp import Inbox

# the first release's schema (alerts/policy.py before corroboration), as it was shipped
FIRST_RELEASE_SCHEMA = """
CREATE TABLE observations (
    subject TEXT NOT NULL, jurisdiction TEXT NOT NULL, article_id TEXT NOT NULL,
    story_id TEXT NOT NULL, direction TEXT NOT NULL, observed_at TEXT NOT NULL,
    confidence REAL NOT NULL, evidence TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL,
    PRIMARY KEY (subject, jurisdiction, article_id)
) WITHOUT ROWID;
CREATE TABLE alerts_sent (
    alert_id TEXT PRIMARY KEY, subject TEXT NOT NULL, jurisdiction TEXT NOT NULL,
    previous TEXT NOT NULL, current TEXT NOT NULL, first_at TEXT NOT NULL,
    status TEXT NOT NULL, at TEXT NOT NULL
) WITHOUT ROWID;
"""


def _day(n: float) -> str:
    return (DAY0 + timedelta(days=n)).isoformat()


def first_release_file(path: Path) -> None:
    """H200/CN went restrict -> ease (mailed by the first release); H20/US went
    restrict -> ease too, but the first release never mailed it."""
    rows = [
        ("H200", "CN", "o1", "restrict", 1, "https://www.a.example.com/1"),
        ("H200", "CN", "o2", "restrict", 2, "https://b.example.org/2"),
        ("H200", "CN", "o3", "ease", 15, "https://c.example.net/3"),
        ("H200", "CN", "o4", "ease", 16, "https://d.example.info/4"),
        ("H20", "US", "o5", "restrict", 3, "https://a.example.com/5"),
        ("H20", "US", "o6", "restrict", 4, "https://b.example.org/6"),
        ("H20", "US", "o7", "ease", 20, "https://c.example.net/7"),
        ("H20", "US", "o8", "ease", 21, "https://d.example.info/8"),
    ]
    conn = sqlite3.connect(path)
    conn.executescript(FIRST_RELEASE_SCHEMA)
    with conn:
        conn.executemany(
            "INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (s, j, aid, f"story-{aid}", d, _day(day), 0.9, f"{j} moves to {d} {s}.", aid, url)
                for s, j, aid, d, day, url in rows
            ],
        )
        conn.execute(
            "INSERT INTO alerts_sent VALUES (?,?,?,?,?,?,?,?)",
            ("old-h200", "H200", "CN", "restrict", "ease", _day(15), "sent", _day(16)),
        )
    conn.close()


def test_an_upgrade_keeps_the_states_and_mails_nothing_from_before_it(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        alert_recipients=["desk@example.org"],
    )
    first_release_file(settings.alerts_db)

    alerter = Alerter(store.connect(settings.alerts_db), settings)
    states = {(p.subject, p.jurisdiction): p.confirmed for p in alerter.states()}
    assert states == {("H200", "CN"): "ease", ("H20", "US"): "ease"}
    known = {(a.subject, a.jurisdiction, a.previous, a.current) for a in store.alerts(alerter.conn)}
    assert known == {("H200", "CN", "restrict", "ease"), ("H20", "US", "restrict", "ease")}

    # more reports of both pairs' current direction arrive after the upgrade: no email
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(
        bus,
        [
            article(21, "ease", 30, "e.example.com"),
            article(22, "ease", 31, "f.example.com", subject="H20", jurisdiction="US"),
        ],
    )
    assert run_alerter(bus, settings).alerts == []
    assert inbox.messages == []

    # a genuine reversal after the upgrade is mailed, once
    publish_all(
        bus,
        [
            article(23, "restrict", 40, "a.example.com"),
            article(24, "restrict", 41, "b.example.org"),
        ],
    )
    sink = run_alerter(bus, settings)
    assert [(a.subject, a.previous, a.current) for a in sink.alerts] == [
        ("H200", "ease", "restrict")
    ]
    assert len(inbox.messages) == 1

    # opening the file again adopts nothing twice
    again = Alerter(store.connect(settings.alerts_db), settings)
    assert len(store.timeline(again.conn, "H200", "CN")) == 7  # 4 adopted + 3 new
    assert len(store.alerts(again.conn)) == 3
