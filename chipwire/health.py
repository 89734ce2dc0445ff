"""Is each stage of this process alive and making progress? (`/healthz` answers 503 if not.)

A stage is unhealthy when its thread is dead, when its loop has not turned for
`stall_s` (stuck inside a handle or flush), or when it has failed without a single
successful batch for `stall_s` (its lag grows while nothing is committed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

Health = Callable[[], tuple[bool, dict[str, object]]]


class Progress(Protocol):
    last_loop_at: float
    last_commit_at: float
    failing_since: float | None
    committed: int


def stage_health(
    threads: Mapping[str, threading.Thread],
    runners: Mapping[str, Progress],
    stall_s: float,
) -> Health:
    def check() -> tuple[bool, dict[str, object]]:
        now = time.monotonic()
        stages: dict[str, object] = {}
        healthy = True
        for name, thread in threads.items():
            runner = runners.get(name)
            status = "ok"
            if not thread.is_alive():
                status = "dead"
            elif runner is not None and now - runner.last_loop_at > stall_s:
                status = "stuck"
            elif runner is not None and now - (runner.failing_since or now) > stall_s:
                status = "failing"
            healthy = healthy and status == "ok"
            entry: dict[str, object] = {"status": status}
            if runner is not None:
                entry["committed"] = runner.committed
                entry["since_last_commit_s"] = round(now - runner.last_commit_at, 1)
            stages[name] = entry
        return healthy, stages

    return check
