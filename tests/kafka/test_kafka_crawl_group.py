"""Crawler replicas share the sources through a Kafka consumer group (tansu): two real
`chipwire crawl` processes each poll their own part and never the other's; when one is
killed (SIGKILL, no goodbye), its sources are polled by the survivor within a bound."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.kafka.kafka_fixtures import TEST_GROUP_TIMEOUTS, unique
from tests.kafka.tansu_broker import Tansu
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
REPO = Path(__file__).resolve().parents[2]
SOURCES = 24
PARTITIONS = 12
MOVED_WITHIN_S = 45.0  # session timeout 6 s, a group join, a crawl tick, a poll
OWNS = re.compile(r"owns \d+ of \d+ source partitions \[([\d, ]*)\]")
EMPTY_FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<link>http://example.test/</link><description>d</description></channel></rss>"
)


class Polls:
    """Every feed request the loopback server answered: (when, feed path, replica)."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, str]] = []
        self.changed = threading.Condition()

    def handler(self, request: BaseHTTPRequestHandler) -> None:
        with self.changed:
            self.seen.append((time.monotonic(), request.path, request.headers["User-Agent"]))
            self.changed.notify_all()
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(EMPTY_FEED)))
        request.end_headers()
        request.wfile.write(EMPTY_FEED)

    def since(self, start: float) -> list[tuple[str, str]]:
        with self.changed:
            return [(path, agent) for when, path, agent in self.seen if when >= start]

    def wait(self, done: object, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while not done():  # type: ignore[operator]
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
        return True


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[tuple[Polls, Path]]:
    server, polls = LoopbackServer(), Polls()
    lines = ["sources:"]
    for n in range(SOURCES):
        url = server.add_handler(f"/feed-{n}.xml", polls.handler)
        lines += [f"  - id: feed-{n}", f"    name: Feed {n}", f"    feed: {url}"]
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    yield polls, sources_file
    server.close()


def owned_partitions(log: Path) -> set[int] | None:
    """The partitions a replica last said it owns (None before it said anything)."""
    found = OWNS.findall(log.read_text(encoding="utf-8", errors="replace"))
    return {int(p) for p in found[-1].split(",") if p.strip()} if found else None


def test_a_killed_crawler_replicas_sources_move_to_the_survivor(
    tansu: Tansu, tmp_path: Path, feeds: tuple[Polls, Path]
) -> None:
    polls, sources_file = feeds
    env = {
        **os.environ,
        "CHIPWIRE_BUS": "kafka",
        "CHIPWIRE_KAFKA_BOOTSTRAP": tansu.bootstrap,
        "CHIPWIRE_KAFKA_TOPIC_PREFIX": unique("crawl") + ".",
        **{f"CHIPWIRE_{k.upper()}": str(v) for k, v in TEST_GROUP_TIMEOUTS.items()},
        "CHIPWIRE_CRAWL_SHARDING": "group",
        "CHIPWIRE_CRAWL_GROUP_PARTITIONS": str(PARTITIONS),
        "CHIPWIRE_SOURCES_FILE": str(sources_file),
        "CHIPWIRE_ALLOW_PRIVATE_ADDRESSES": "true",
        "CHIPWIRE_POLL_INTERVAL_S": "1",
        "CHIPWIRE_POLL_MIN_INTERVAL_S": "1",
        "CHIPWIRE_POLL_MAX_INTERVAL_S": "2",
        "CHIPWIRE_EXTRACT_WORKERS": "0",
    }
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, log in logs.items():
            with log.open("wb") as stderr:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "chipwire", "crawl"],
                    cwd=REPO,
                    env={
                        **env,
                        "CHIPWIRE_DATA_DIR": str(tmp_path / name),
                        "CHIPWIRE_USER_AGENT": f"replica-{name}",
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )

        def settled() -> bool:  # both members, all partitions, none twice
            a, b = owned_partitions(logs["a"]), owned_partitions(logs["b"])
            return bool(a and b) and not a & b and len(a | b) == PARTITIONS  # type: ignore[operator]

        assert polls.wait(settled, 60), {n: log.read_text()[-2000:] for n, log in logs.items()}
        steady = time.monotonic()
        paths = {f"/feed-{n}.xml" for n in range(SOURCES)}

        def each_polled_twice() -> bool:
            counts: dict[str, int] = {}
            for path, _ in polls.since(steady):
                counts[path] = counts.get(path, 0) + 1
            return all(counts.get(p, 0) >= 2 for p in paths)

        assert polls.wait(each_polled_twice, 30)
        owners: dict[str, set[str]] = {}
        for path, agent in polls.since(steady):
            owners.setdefault(path, set()).add(agent)
        assert all(len(agents) == 1 for agents in owners.values()), owners  # one owner each
        b_sources = {p for p, agents in owners.items() if agents == {"replica-b"}}
        assert b_sources and b_sources != paths  # each replica owns a part

        procs["b"].send_signal(signal.SIGKILL)
        procs["b"].wait(timeout=10)
        killed = time.monotonic()

        def moved() -> bool:
            return b_sources <= {p for p, agent in polls.since(killed) if agent == "replica-a"}

        assert polls.wait(moved, MOVED_WITHIN_S), logs["a"].read_text()[-2000:]
        moved_s = time.monotonic() - killed
        print(f"the killed replica's sources were polled by the other {moved_s:.1f} s later")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
