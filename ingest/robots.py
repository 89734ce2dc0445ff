"""robots.txt per host (protego), cached for an hour."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from protego import Protego

from chipwire.errors import Discard

_TTL_S = 3600.0
_MAX_BYTES = 512_000

RobotsFetcher = Callable[[str], bytes | None]  # None: no robots.txt (4xx) → everything allowed


class RobotsCache:
    def __init__(self, fetch_robots: RobotsFetcher, user_agent: str) -> None:
        self._fetch = fetch_robots
        self._agent = user_agent
        self._rules: dict[str, tuple[float, Protego | None]] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            cached = self._rules.get(origin)
        if cached is None or time.monotonic() - cached[0] > _TTL_S:
            rules = self._load(origin)
            cached = (time.monotonic(), rules)
            with self._lock:
                self._rules[origin] = cached
        rules = cached[1]
        return rules is None or bool(rules.can_fetch(url, self._agent))

    def _load(self, origin: str) -> Protego | None:
        try:
            body = self._fetch(f"{origin}/robots.txt")
        except Discard:
            return None
        if body is None:
            return None
        return Protego.parse(body[:_MAX_BYTES].decode("utf-8", errors="replace"))
