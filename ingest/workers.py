"""Extraction worker processes that a crash cannot take down for good.

A `ProcessPoolExecutor` whose worker dies (an OOM kill is realistic: a 5 MB page costs
~400 MB to extract) is broken for ever: every later submit raises BrokenProcessPool.
`WorkerPool` replaces a broken pool and runs the task in hand once more, in a process of
its own (so a task that merely shared the broken pool is never blamed); a task that kills
or hangs that process too raises `WorkerKilled`, for the caller to dead-letter. Every
worker watches the process that created the pool and exits when it is gone, so a kill -9
of chipwire leaves no orphans, and sees the pool's stop event (`stop_event()`), so that a
fetch in flight is abandoned at shutdown.

Each worker imports the heavy modules (`imports`: trafilatura) itself as it starts, rather
than the forkserver preloading them: a preloading forkserver is one more process holding
them resident (~65 MiB), for a saving of under a second of CPU per worker started.

A task is handed to the pool only when a worker is free, so its timeout counts the time
it works, never the time it waited behind other pages: a busy pool does not kill pages
that never ran.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.synchronize
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from chipwire.errors import Discard, Retry

log = logging.getLogger(__name__)

T = TypeVar("T")
PARENT_CHECK_S = 1.0


class WorkerKilled(Discard):
    """The task killed (or hung) a worker process twice: it will not be tried again."""


_STOP: list[multiprocessing.synchronize.Event] = []  # in a worker: its pool's stop event


def stop_event() -> multiprocessing.synchronize.Event | None:
    """In a worker process, the event its pool sets at shutdown (None elsewhere)."""
    return _STOP[0] if _STOP else None


def _start_worker(
    parent_pid: int, stop: multiprocessing.synchronize.Event, imports: Sequence[str]
) -> None:
    """Worker initializer: keep the pool's stop event, import what the tasks need, and exit
    as soon as the pool's owner is gone (kill -9 included)."""
    _STOP[:] = [stop]
    for module in imports:
        importlib.import_module(module)

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_S)  # polling a condition no event reports
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the pid was reused by another user's process
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class WorkerPool:
    def __init__(
        self, workers: int, imports: Sequence[str] = ("ingest.pages", "ingest.extract")
    ) -> None:
        self.workers = workers
        self.imports = tuple(imports)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([])
        self._stop = self._context.Event()
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self.replaced = 0
        self._free = workers  # workers without a task: a task waits here, not in the pool
        self._freed = threading.Condition()

    def _new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers or self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(os.getpid(), self._stop, self.imports),
        )

    def run(self, fn: Callable[..., T], *args: Any, timeout_s: float, what: str = "") -> T:
        """fn(*args) in a worker. When the worker dies or hangs, the pool is replaced and
        the task tried once more in a process of its own: every task in flight in a broken
        pool fails with it, so only a second failure alone says which task is to blame.
        `timeout_s` starts when a worker is free for the task."""
        self._take_worker(what)
        try:
            return self._run(fn, *args, timeout_s=timeout_s, what=what)
        finally:
            self._give_back_worker()

    def _take_worker(self, what: str) -> None:
        with self._freed:
            self._freed.wait_for(lambda: self._free > 0 or self._stop.is_set())
            if self._stop.is_set():
                raise Retry("stopped", f"extraction stopped before it started: {what}")
            self._free -= 1

    def _give_back_worker(self) -> None:
        with self._freed:
            self._free += 1
            self._freed.notify()

    def _run(self, fn: Callable[..., T], *args: Any, timeout_s: float, what: str) -> T:
        pool = self._pool
        try:
            return pool.submit(fn, *args).result(timeout=timeout_s)
        except BrokenProcessPool:
            problem = "a worker process died"
        except FutureTimeout:
            problem = f"no result in {timeout_s:.0f}s"
            self._kill(pool)
        self._replace(pool)
        log.error("extraction worker lost (%s), trying once more alone: %s", problem, what)
        alone = self._new_pool(workers=1)
        try:
            return alone.submit(fn, *args).result(timeout=timeout_s)
        except BrokenProcessPool:
            problem = "a worker process died"
        except FutureTimeout:
            problem = f"no result in {timeout_s:.0f}s"
            self._kill(alone)
        finally:
            alone.shutdown(wait=False, cancel_futures=True)
        log.error("extraction gave up: %s twice: %s", problem, what)
        raise WorkerKilled("worker-killed", f"{what}: {problem} twice")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another thread already replaced it
            self._pool = self._new_pool()
            self.replaced += 1
        broken.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _kill(pool: ProcessPoolExecutor) -> None:
        # a hung worker never returns: end the pool's processes so it breaks and is replaced
        for process in list((pool._processes or {}).values()):
            process.kill()

    def pids(self) -> list[int]:
        return [p.pid for p in (self._pool._processes or {}).values() if p.pid is not None]

    def stop(self) -> None:
        """Tell the workers to abandon what they fetch, and the tasks waiting for a worker
        not to start (shutdown)."""
        self._stop.set()
        with self._freed:
            self._freed.notify_all()

    def shutdown(self, cancel_futures: bool = True) -> None:
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=cancel_futures)
