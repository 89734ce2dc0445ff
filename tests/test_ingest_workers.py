"""Extraction workers: a killed worker is replaced and the task in hand retried once; a task
that kills two workers is given up; workers exit when the process that owns them dies."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from chipwire.settings import Settings
from ingest import state
from ingest.crawl import Crawler
from ingest.extract import Extracted, extract_page
from ingest.fetch import make_client
from ingest.sources import Source
from ingest.workers import WorkerKilled, WorkerPool
from tests.loopback import LoopbackServer, header_drip
from tests.test_ingest_crawl import BODY, OTHER, feed, page, raw_articles
from tests.worker_probe import loaded

ROOT = Path(__file__).resolve().parent.parent


def die_once(flag: str) -> str:
    """Killed like the OOM killer would, the first time only."""
    if not os.path.exists(flag):
        Path(flag).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return "extracted"


def always_die() -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return "never"


def hang() -> str:
    time.sleep(3600)  # a worker stuck for good, as a pathological page can make it
    return "never"


def double(x: int) -> int:
    return 2 * x


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    made = WorkerPool(1, imports=())
    yield made
    made.shutdown()


def test_a_killed_worker_is_replaced_and_the_task_retried_once(
    pool: WorkerPool, tmp_path: Path
) -> None:
    assert pool.run(die_once, str(tmp_path / "flag"), timeout_s=60) == "extracted"
    assert pool.replaced == 1
    assert pool.run(double, 21, timeout_s=60) == 42


def test_a_task_that_kills_two_workers_is_given_up_and_the_pool_lives_on(
    pool: WorkerPool,
) -> None:
    with pytest.raises(WorkerKilled) as raised:
        pool.run(always_die, timeout_s=60, what="https://x.example/huge")
    assert raised.value.reason == "worker-killed" and "huge" in raised.value.detail
    assert pool.replaced == 1
    assert pool.run(double, 4, timeout_s=60) == 8


def slow_double(x: int, started: str) -> int:
    Path(started).touch()
    time.sleep(3)  # a long extraction, in flight while another task kills the pool
    return 2 * x


def run_slow_task(pool: WorkerPool, started: Path) -> tuple[threading.Thread, list[object]]:
    """`slow_double` running in a worker, from a thread of its own: returns once the worker
    has begun it (it touches `started`), with the list its result will be put in."""
    results: list[object] = []
    thread = threading.Thread(
        target=lambda: results.append(pool.run(slow_double, 21, str(started), timeout_s=60))
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(
            0.02
        )  # the worker is another process: its sign is a file, polled with a deadline
    return thread, results


def test_a_task_in_flight_when_another_kills_the_pool_is_not_blamed(tmp_path: Path) -> None:
    pool = WorkerPool(2, imports=())
    started = tmp_path / "started"
    try:
        bystander, results = run_slow_task(pool, started)
        with pytest.raises(WorkerKilled):
            pool.run(always_die, timeout_s=60)
        bystander.join(timeout=60)
        assert results == [42]
    finally:
        pool.shutdown()


def test_a_hung_worker_is_killed_and_replaced(pool: WorkerPool) -> None:
    with pytest.raises(WorkerKilled):
        pool.run(hang, timeout_s=1)
    assert pool.run(double, 5, timeout_s=60) == 10


SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from ingest.workers import WorkerPool
from tests.test_ingest_workers import double
pool = WorkerPool(2, imports=())
pool.run(double, 1, timeout_s=60)
print(" ".join(map(str, pool.pids())), flush=True)
time.sleep(3600)  # waits to be killed by the test
"""


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # a zombie has exited; only its exit status remains


def test_workers_exit_when_their_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            pids = [int(p) for p in parent.stdout.readline().split()]
            assert pids and not any(_gone(p) for p in pids)
        finally:
            parent.kill()  # SIGKILL: no cleanup runs in the parent
            parent.wait(timeout=10)
    deadline = time.monotonic() + 20
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for processes to exit, with a deadline
    assert all(_gone(p) for p in pids), pids


def extract_or_die(
    body: bytes, content_type: str | None, url: str, with_metadata: bool = True
) -> Extracted | None:
    """extract_page, except that a page marked KILL kills its worker (as an OOM kill
    would), and a page marked KILL-ONCE does so only the first time."""
    if b"KILL-ONCE" in body:
        flag = Path(body.split(b"FLAG=")[1].split(b"<")[0].decode())
        if not flag.exists():
            flag.touch()
            os.kill(os.getpid(), signal.SIGKILL)
    elif b"KILL" in body:
        os.kill(os.getpid(), signal.SIGKILL)
    return extract_page(body, content_type, url, with_metadata)


@pytest.mark.parametrize("in_workers", [False, True], ids=["fetch-here", "fetch-in-worker"])
def test_the_crawler_survives_killed_workers(
    server: LoopbackServer, settings: Settings, tmp_path: Path, in_workers: bool
) -> None:
    """One dead worker made every later article fail until restart. Now the page in hand
    is retried once in a fresh worker, and a page that kills two is discarded."""
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    once = page("Folding phone unveiled", OTHER).replace(
        "</footer>", f"KILL-ONCE FLAG={tmp_path / 'flag'}</footer>"
    )
    server.add("/a3.html", once, Content_Type="text/html")
    server.add("/bomb.html", "<html><body>KILL</body></html>", Content_Type="text/html")
    server.add(
        "/f.xml", feed(server, [("Shipment held at Lanport", "/a1.html"), ("bomb", "/bomb.html")])
    )
    server.add("/g.xml", feed(server, [("Folding phone unveiled", "/a3.html")]))
    settings = settings.model_copy(update={"fetch_in_workers": in_workers})
    workers = WorkerPool(1, imports=())
    c = Crawler(settings, state.connect(settings.state_db), make_client(settings), workers)
    c.extract_fn = extract_or_die
    try:
        first = c.poll_feed(Source(id="f", name="F", feed=server.url("/f.xml")))
        assert first.outcomes == {"seen": 0, "ok": 1, "worker-killed": 1}
        second = c.poll_feed(Source(id="g", name="G", feed=server.url("/g.xml")))
        assert second.outcomes == {"seen": 0, "ok": 1}  # killed once, retried, accepted
        # in a worker, the retry fetches the page afresh
        assert server.hits["/a3.html?utm_source=rss"] == (2 if in_workers else 1)
        titles = sorted(a.title for a in raw_articles(c.conn))
        assert titles == ["Folding phone unveiled", "Shipment held at Lanport"]
    finally:
        workers.shutdown()
        c.client.close()
        c.conn.close()


class MeasuredPool(WorkerPool):
    """A real worker pool that also weighs what each task sends over the pipe."""

    sent: list[int]

    def run(self, fn: Any, *args: Any, timeout_s: float, what: str = "") -> Any:
        self.sent.append(len(pickle.dumps((fn, args))))
        return super().run(fn, *args, timeout_s=timeout_s, what=what)


def test_a_page_is_fetched_in_the_worker_and_its_bytes_never_cross_the_pipe(
    server: LoopbackServer, settings: Settings
) -> None:
    big = page("Shipment held at Lanport", BODY + "<!-- padding -->" * 20_000)
    assert len(big) > 300_000
    server.add("/big.html", big, Content_Type="text/html")
    server.add("/f.xml", feed(server, [("Shipment held at Lanport", "/big.html")]))
    in_workers = settings.model_copy(update={"fetch_in_workers": True})
    workers = MeasuredPool(1, imports=())
    workers.sent = []
    c = Crawler(in_workers, state.connect(settings.state_db), make_client(settings), workers)
    try:
        report = c.poll_feed(Source(id="f", name="F", feed=server.url("/f.xml")))
        assert report.outcomes == {"seen": 0, "ok": 1}
        assert [a.title for a in raw_articles(c.conn)] == ["Shipment held at Lanport"]
        assert workers.sent and max(workers.sent) < 2_000  # the job, not the page
        fetched = REGISTRY.get_sample_value(
            "chipwire_fetches_total", {"kind": "page", "status": "ok"}
        )
        assert fetched is not None and fetched >= 1  # counted here, not only in the worker
    finally:
        workers.shutdown()
        c.client.close()
        c.conn.close()


def test_a_worker_refuses_a_private_address_the_crawler_is_not_allowed(
    server: LoopbackServer, settings: Settings
) -> None:
    """The feed is read through a client allowed onto loopback; the page's fetch, in the
    worker, applies the settings' address policy on its own."""
    server.add("/a1.html", page("Shipment held at Lanport", BODY), Content_Type="text/html")
    server.add("/f.xml", feed(server, [("Shipment held at Lanport", "/a1.html")]))
    strict = settings.model_copy(
        update={"allow_private_addresses": False, "fetch_in_workers": True}
    )
    workers = WorkerPool(1, imports=())
    c = Crawler(strict, state.connect(strict.state_db), make_client(settings), workers)
    try:
        report = c.poll_feed(Source(id="f", name="F", feed=server.url("/f.xml")))
        assert report.outcomes == {"seen": 0, "blocked-address": 1}
        assert not any(path.startswith("/a1.html") for path in server.hits)
    finally:
        workers.shutdown()
        c.client.close()
        c.conn.close()


def test_stopping_the_crawler_abandons_a_page_a_worker_is_fetching(
    server: LoopbackServer, settings: Settings
) -> None:
    dripping = threading.Event()
    server.add_handler("/drip.html", header_drip(600, dripping))
    server.add("/f.xml", feed(server, [("Shipment held at Lanport", "/drip.html")]))
    slow = settings.model_copy(update={"fetch_timeout_s": 60, "fetch_in_workers": True})
    workers = WorkerPool(1, imports=())
    c = Crawler(slow, state.connect(slow.state_db), make_client(slow), workers)
    reports: list[object] = []
    polling = threading.Thread(
        target=lambda: reports.append(
            c.poll_feed(Source(id="f", name="F", feed=server.url("/f.xml")))
        )
    )
    try:
        polling.start()
        assert dripping.wait(30)
        started = time.monotonic()
        c.stop()
        polling.join(timeout=10)
        assert not polling.is_alive() and time.monotonic() - started < 5
    finally:
        workers.shutdown()
        c.client.close()
        c.conn.close()


def test_a_task_waiting_for_a_busy_worker_is_not_timed_out(tmp_path: Path) -> None:
    """The timeout is the task's working time: a page queued behind a slow one used to
    time out, kill the pool (and the slow page with it) and run again."""
    pool = WorkerPool(1, imports=())
    started = tmp_path / "started"
    try:
        slow, results = run_slow_task(pool, started)
        assert pool.run(double, 4, timeout_s=1) == 8  # waits ~3 s for the worker, works ~0 s
        slow.join(timeout=60)
        assert results == [42]
        assert pool.replaced == 0
    finally:
        pool.shutdown()


def test_workers_start_before_the_first_page_and_load_no_fetching_code() -> None:
    """Warmed, the workers import trafilatura while the crawler reads its feeds; a worker
    that only extracts (fetch_in_workers off) never loads httpx or the settings."""
    pool = WorkerPool(2)
    try:
        pool.warm()
        deadline = time.monotonic() + 30
        while len(pool.pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # waiting for the processes to start, with a deadline
        assert len(pool.pids()) == 2
        modules = ("trafilatura", "httpx", "chipwire.settings", "ingest.fetch")
        assert pool.run(loaded, *modules, timeout_s=60) == ["trafilatura"]
    finally:
        pool.shutdown()
