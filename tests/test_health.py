"""/healthz tells the truth: a dead stage thread, or a stage failing with no progress for
longer than the stall window, answers 503 and names the stage."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chipwire.health import stage_health
from index.tantivy_backend import TantivyBackend
from tests.test_search_api import serve


@dataclass
class FakeProgress:
    last_loop_at: float = field(default_factory=time.monotonic)
    last_commit_at: float = field(default_factory=time.monotonic)
    failing_since: float | None = None
    committed: int = 0


@pytest.fixture
def alive() -> Iterator[threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    yield thread
    stop.set()
    thread.join(timeout=5)


def dead_thread() -> threading.Thread:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join(timeout=5)
    return thread


def test_stage_health_names_dead_stuck_and_failing_stages(alive: threading.Thread) -> None:
    old = time.monotonic() - 1000
    runners = {
        "index": FakeProgress(),
        "enrich": FakeProgress(last_loop_at=old),
        "alert": FakeProgress(failing_since=old),
    }
    threads = {"index": alive, "enrich": alive, "alert": alive, "crawl": dead_thread()}
    healthy, stages = stage_health(threads, runners, stall_s=60)()
    assert not healthy
    assert {n: s["status"] for n, s in stages.items()} == {  # type: ignore[index]
        "index": "ok",
        "enrich": "stuck",
        "alert": "failing",
        "crawl": "dead",
    }
    assert stage_health({"index": alive}, {"index": FakeProgress()}, stall_s=60)()[0]


def test_healthz_answers_503_when_a_stage_thread_is_dead(
    tmp_path: Path, alive: threading.Thread
) -> None:
    TantivyBackend(tmp_path / "index").close()
    state = {"threads": {"index": alive}}

    def health() -> tuple[bool, dict[str, object]]:
        return stage_health(state["threads"], {"index": FakeProgress()}, 60)()

    def factory() -> TantivyBackend:
        return TantivyBackend(tmp_path / "index")

    for client in serve(factory, health):
        reply = client.get("/healthz")
        assert reply.status_code == 200 and reply.json()["stages"]["index"]["status"] == "ok"
        state["threads"] = {"index": dead_thread()}
        reply = client.get("/healthz")
        assert reply.status_code == 503
        assert reply.json()["status"] == "unhealthy"
        assert reply.json()["stages"]["index"]["status"] == "dead"
