"""Extraction workers: a killed worker is replaced and the task in hand retried once; a task
that kills two workers is given up; workers exit when the process that owns them dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.workers import WorkerKilled, WorkerPool

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
    made = WorkerPool(1, preload=())
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
    assert pool.replaced == 2
    assert pool.run(double, 4, timeout_s=60) == 8


def test_a_hung_worker_is_killed_and_replaced(pool: WorkerPool) -> None:
    with pytest.raises(WorkerKilled):
        pool.run(hang, timeout_s=1)
    assert pool.run(double, 5, timeout_s=60) == 10


SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from ingest.workers import WorkerPool
from tests.test_ingest_workers import double
pool = WorkerPool(2, preload=())
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
