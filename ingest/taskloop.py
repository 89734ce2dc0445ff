"""The crawl's event loop: isolated tasks that wait without holding threads.

Feed polls and page fetches are asyncio tasks on one loop in its own thread. Their
blocking steps (an HTTP fetch, an extraction, a SQLite write) run in one bounded thread
pool, which is the crawl's global concurrency cap; waiting (for a host's politeness slot,
for a free worker) is a suspended coroutine, not a blocked thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class TaskLoop:
    def __init__(self, workers: int, name: str = "crawl") -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix=name)
        self.loop = asyncio.new_event_loop()
        self._closing: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._thread = threading.Thread(target=self._run, name=f"{name}-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def spawn(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `work` on the loop from any thread; its future says when it is done."""
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def spawn_all(self, works: list[Coroutine[Any, Any, T]]) -> list[concurrent.futures.Future[T]]:
        """`spawn` for many at once, in this order: one wake-up of the loop for all of them
        (a cycle starts a thousand polls; waking the loop for each cost more than a 304)."""
        futures: list[concurrent.futures.Future[T]] = [concurrent.futures.Future() for _ in works]

        def start() -> None:
            for work, future in zip(works, futures, strict=True):
                self.loop.create_task(work).add_done_callback(functools.partial(_settle, future))

        self.loop.call_soon_threadsafe(start)
        return futures

    def call(self, work: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run `work` on the loop and wait for its result (from a thread other than the loop's)."""
        return self.spawn(work).result(timeout_s)

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the bounded pool, from a task on the loop."""
        return await self.loop.run_in_executor(self.pool, functools.partial(fn, *args))

    def on_close(self, closing: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `closing` on the loop when it closes, after its tasks are cancelled (what
        lives on the loop, such as an HTTP session)."""
        self._closing.append(closing)

    def close(self, timeout_s: float = 2.0) -> None:
        """Cancel every task, run what `on_close` registered and stop the loop. A blocking
        step already running in the pool is not waited for (each one commits all or
        nothing; its result is dropped)."""
        if self.loop.is_closed():
            return
        # a loop that does not answer in time is stopped anyway
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            self.call(_cancel_all(timeout_s), timeout_s + 1.0)
        for closing in self._closing:
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError, OSError):
                self.call(closing(), timeout_s)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if not self._thread.is_alive():
            self.loop.close()


def _settle(future: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


async def _cancel_all(timeout_s: float) -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout_s)
