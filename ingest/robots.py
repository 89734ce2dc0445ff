"""robots.txt per origin (protego), cached for an hour, on the crawl's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from protego import Protego

_TTL_S = 3600.0
MAX_BYTES = 512_000

# an origin's robots.txt URL -> its rules; None: it has none (4xx) → everything allowed
RobotsLoader = Callable[[str], Awaitable[Protego | None]]


def parse(body: bytes) -> Protego:
    return Protego.parse(body[:MAX_BYTES].decode("utf-8", errors="replace"))


class RobotsCache:
    """Used on one event loop: the pages of an origin whose rules are being loaded wait
    for that one load rather than each fetching robots.txt."""

    def __init__(self, load: RobotsLoader, user_agent: str) -> None:
        self._load = load
        self._agent = user_agent
        self._rules: dict[str, tuple[float, Protego | None]] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._rules.get(origin)
        if cached is None or time.monotonic() - cached[0] > _TTL_S:
            async with self._loading.setdefault(origin, asyncio.Lock()):
                cached = self._rules.get(origin)
                if cached is None or time.monotonic() - cached[0] > _TTL_S:
                    cached = (time.monotonic(), await self._load(f"{origin}/robots.txt"))
                    self._rules[origin] = cached
        rules = cached[1]
        return rules is None or bool(rules.can_fetch(url, self._agent))
