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

A task's timeout counts the time it works, never the time it waited behind other pages
(a busy pool must not kill pages that never ran): each worker writes the task's number to
a pipe as it starts it, and the clock starts then. The pool still queues the next page
for a worker while it extracts the current one, so no worker waits on the parent.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from chipwire.errors import Discard

log = logging.getLogger(__name__)

T = TypeVar("T")
PARENT_CHECK_S = 1.0


class WorkerKilled(Discard):
    """The task killed (or hung) a worker process twice: it will not be tried again."""


_STOP: list[multiprocessing.synchronize.Event] = []  # in a worker: its pool's stop event
_STARTS: list[int] = []  # in a worker: the pipe it announces each task's start on
_TASK = struct.Struct("=q")  # a task number: 8 bytes, written whole (< PIPE_BUF, atomic)


def stop_event() -> multiprocessing.synchronize.Event | None:
    """In a worker process, the event its pool sets at shutdown (None elsewhere)."""
    return _STOP[0] if _STOP else None


def _start_worker(
    parent_pid: int,
    stop: multiprocessing.synchronize.Event,
    imports: Sequence[str],
    starts: multiprocessing.connection.Connection,
) -> None:
    """Worker initializer: keep the pool's stop event and start pipe, import what the tasks
    need, and exit as soon as the pool's owner is gone (kill -9 included)."""
    _STOP[:] = [stop]
    _STARTS[:] = [os.dup(starts.fileno())]
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


def _announced(task: int, fn: Callable[..., T], *args: Any) -> T:
    """In a worker: say that `task` starts now, then run it. A raw write of 8 bytes needs no
    lock, so a worker killed at any point never blocks the others."""
    os.write(_STARTS[0], _TASK.pack(task))
    return fn(*args)


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
        self._tasks = itertools.count()
        # the tasks being waited for -> when a worker started each (None: not yet)
        self._started: dict[int, float | None] = {}
        self._changed = threading.Condition()
        reading, self._starts = self._context.Pipe(duplex=False)
        threading.Thread(
            target=self._read_starts, args=(reading,), name="worker-starts", daemon=True
        ).start()
        self._pool = self._new_pool()
        self.replaced = 0

    def warm(self) -> None:
        """Start every worker now rather than at the first pages: each imports trafilatura
        as it starts (most of a CPU-second), meanwhile the crawler reads its feeds."""
        for _ in range(self.workers):
            self._pool.submit(int)

    def _read_starts(self, reading: multiprocessing.connection.Connection) -> None:
        pending = b""
        while chunk := os.read(reading.fileno(), 4096):
            pending += chunk
            whole = len(pending) - len(pending) % _TASK.size
            now = time.monotonic()
            with self._changed:
                for (task,) in _TASK.iter_unpack(pending[:whole]):
                    if task in self._started:  # else its result came first: nobody waits
                        self._started[task] = now
                self._changed.notify_all()
            pending = pending[whole:]

    def _new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers or self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(os.getpid(), self._stop, self.imports, self._starts),
        )

    def run(self, fn: Callable[..., T], *args: Any, timeout_s: float, what: str = "") -> T:
        """fn(*args) in a worker. When the worker dies or hangs, the pool is replaced and
        the task tried once more in a process of its own: every task in flight in a broken
        pool fails with it, so only a second failure alone says which task is to blame.
        `timeout_s` starts when a worker starts the task."""
        pool = self._pool
        try:
            return self._result(pool, timeout_s, fn, *args)
        except BrokenProcessPool:
            problem = "a worker process died"
        except FutureTimeout:
            problem = f"no result in {timeout_s:.0f}s"
            self._kill(pool)
        self._replace(pool)
        log.error("extraction worker lost (%s), trying once more alone: %s", problem, what)
        alone = self._new_pool(workers=1)
        try:
            return self._result(alone, timeout_s, fn, *args)
        except BrokenProcessPool:
            problem = "a worker process died"
        except FutureTimeout:
            problem = f"no result in {timeout_s:.0f}s"
            self._kill(alone)
        finally:
            alone.shutdown(wait=False, cancel_futures=True)
        log.error("extraction gave up: %s twice: %s", problem, what)
        raise WorkerKilled("worker-killed", f"{what}: {problem} twice")

    def _result(
        self, pool: ProcessPoolExecutor, timeout_s: float, fn: Callable[..., T], *args: Any
    ) -> T:
        """fn(*args) in `pool`, given `timeout_s` from when a worker starts it (FutureTimeout
        after that)."""
        task = next(self._tasks)
        with self._changed:
            self._started[task] = None
        try:
            future: Future[T] = pool.submit(_announced, task, fn, *args)
            future.add_done_callback(self._notify)
            with self._changed:
                self._changed.wait_for(lambda: self._started[task] is not None or future.done())
                started = self._started[task] or time.monotonic()
            return future.result(timeout=max(0.0, started + timeout_s - time.monotonic()))
        finally:
            with self._changed:
                self._started.pop(task, None)

    def _notify(self, _: object) -> None:
        with self._changed:
            self._changed.notify_all()

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
        """Tell the workers to abandon what they fetch (shutdown)."""
        self._stop.set()

    def shutdown(self, cancel_futures: bool = True) -> None:
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=cancel_futures)
