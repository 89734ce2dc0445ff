"""Per-host politeness that waits without holding a thread.

A page waits for its host's slot as a coroutine on the crawl's event loop, so a feed whose
5,000 pages are spaced a second apart on one host occupies no worker while it waits, and
other hosts' pages go ahead. Feed polls and pages share a host's gate (at most `per_host`
requests of either kind in flight), but only pages are paced, and a page waits for its
start time before it queues at the gate: a feed poll waits behind the pages whose start
time has come (one per `interval_s`), never behind the host's whole queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter


class HostSlots:
    """At most `per_host` requests in flight to one host, and one started every
    `interval_s` (aiolimiter's leaky bucket, one request deep). Used on one event loop."""

    def __init__(self, interval_s: float, per_host: int = 1) -> None:
        self.interval_s = interval_s
        self.per_host = per_host
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._pace: dict[str, AsyncLimiter] = {}

    @asynccontextmanager
    async def slot(self, host: str, *, paced: bool = True) -> AsyncIterator[None]:
        """Hold one of the host's requests in flight; a page (`paced`) first waits for
        the host's next start time."""
        if paced:
            await self.paced(host)
        async with self._gates.setdefault(host, asyncio.Semaphore(self.per_host)):
            yield

    async def paced(self, host: str) -> None:
        """Wait for the host's next start time only (a listing's follow-up pages)."""
        if self.interval_s > 0:
            await self._pace.setdefault(host, AsyncLimiter(1, self.interval_s)).acquire()
