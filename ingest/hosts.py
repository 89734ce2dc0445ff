"""Per-host politeness that waits without holding a thread.

A page waits for its host's slot as a coroutine on the crawl's event loop, so a feed whose
5,000 pages are spaced a second apart on one host occupies no worker while it waits, and
other hosts' pages go ahead.
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
    async def slot(self, host: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(host, asyncio.Semaphore(self.per_host))
        async with gate:
            await self.paced(host)
            yield

    async def paced(self, host: str) -> None:
        """Wait for the host's next start time only (a listing's follow-up pages)."""
        if self.interval_s > 0:
            await self._pace.setdefault(host, AsyncLimiter(1, self.interval_s)).acquire()
