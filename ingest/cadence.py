"""Adaptive polling: how long to wait before polling a feed again. Pure functions.

After a successful poll the interval is chosen, in this order:

1. **Publishing rate.** Half the median gap between the feed's newest item dates (at least
   `MIN_DATED` distinct dates, remembered across polls), so a new item waits about a
   quarter of the feed's usual gap. With too few dates: the base interval (the source's
   `poll_interval_s`, else the settings' `poll_interval_s`).
2. **Bounds.** Never below the floor (the source's `poll_interval_s` when it sets one:
   the operator's politeness promise; else `poll_min_interval_s`), never above
   `poll_max_interval_s`.
3. **Tightened.** For `poll_tighten_hours` after a policy shift on a subject the feed has
   covered (the alerter sets the flag: `state.tighten`), the floor.
4. **The server.** Never sooner than the feed's `<ttl>`, its `sy:updatePeriod` /
   `sy:updateFrequency`, or the response's `Cache-Control: max-age` / `Expires` ask,
   unless that is beyond `poll_max_interval_s` (then the max: a server cannot make a
   feed go unread for days).

Failures back off from the base interval in the crawler (doubling; Retry-After honoured).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime

from chipwire.settings import Settings
from ingest.sources import Source
from ingest.state import Cadence, FeedState

MIN_DATED = 3  # distinct item dates before the publishing rate is trusted
KEEP_TIMES = 30  # newest item dates remembered per feed
KEEP_DELAYS = 50  # publish-to-fetch delays remembered per feed
FUTURE_SLACK_S = 24 * 3600.0  # an item dated further ahead than this is not a date
# outcomes of an item that was not new to chipwire (or was not taken this time)
NOT_NEW = frozenset({"seen", "bad-link", "stopped", "unfinished"})


@dataclass(frozen=True)
class Hint:
    """A server's or feed's request about how often to poll."""

    seconds: float
    what: str  # e.g. "ttl 30m", "Cache-Control max-age 10m"


@dataclass(frozen=True)
class Choice:
    seconds: float
    reason: str


@dataclass(frozen=True)
class Bounds:
    base_s: float  # when the publishing rate is unknown
    floor_s: float
    max_s: float


def bounds_of(source: Source, settings: Settings) -> Bounds:
    """A source's own poll_interval_s is its floor; the settings' poll_interval_s (the base)
    always lies within the bounds."""
    base = source.poll_interval_s or settings.poll_interval_s
    floor = source.poll_interval_s or min(settings.poll_min_interval_s, base)
    return Bounds(base_s=base, floor_s=floor, max_s=max(settings.poll_max_interval_s, base))


def choose(
    times: Iterable[float],
    bounds: Bounds,
    hints: Iterable[Hint] = (),
    tightened: str | None = None,
) -> Choice:
    """The interval before the next poll, and why (see the module's docstring)."""
    gap = median_gap(times)
    if tightened:
        seconds, reason = bounds.floor_s, f"tightened: {tightened}"
    elif gap is None:
        seconds, reason = bounds.base_s, "default (too few dated items to see a rate)"
    else:
        seconds, reason = gap / 2, f"half the median gap between items ({span(gap)})"
        if seconds < bounds.floor_s:
            seconds, reason = bounds.floor_s, f"{reason}, raised to the floor"
        elif seconds > bounds.max_s:
            seconds, reason = bounds.max_s, f"{reason}, cut to the max"
    strictest = max(hints, key=lambda h: h.seconds, default=None)
    if strictest is not None and strictest.seconds > seconds:
        if strictest.seconds > bounds.max_s:
            return Choice(bounds.max_s, f"server asks {strictest.what}, cut to the max")
        return Choice(strictest.seconds, f"server asks {strictest.what}")
    return Choice(seconds, reason)


def median_gap(times: Iterable[float]) -> float | None:
    """The median gap between distinct times, or None with fewer than MIN_DATED of them."""
    ordered = sorted(set(times))
    if len(ordered) < MIN_DATED:
        return None
    return statistics.median(b - a for a, b in itertools.pairwise(ordered))


def feed_hints(ttl_s: float | None, update_period_s: float | None) -> tuple[Hint, ...]:
    """What the feed itself says: RSS `<ttl>` and sy:updatePeriod / sy:updateFrequency."""
    found = []
    if ttl_s:
        found.append(Hint(ttl_s, f"ttl {span(ttl_s)}"))
    if update_period_s:
        found.append(Hint(update_period_s, f"sy:updatePeriod {span(update_period_s)}"))
    return tuple(found)


def header_hints(headers: Mapping[str, str], now: float) -> tuple[Hint, ...]:
    """What the response's caching headers say: Cache-Control max-age, else Expires
    (relative to the response's Date when it has one). no-store/no-cache ask nothing."""
    control = [p.strip().lower() for p in headers.get("cache-control", "").split(",")]
    if "no-store" in control or "no-cache" in control:
        return ()
    for part in control:
        name, _, value = part.partition("=")
        if name == "max-age" and value.strip().strip('"').isdigit():
            seconds = float(value.strip().strip('"'))
            return (Hint(seconds, f"Cache-Control max-age {span(seconds)}"),) if seconds else ()
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return ()
    sent = _http_date(headers.get("date"))
    seconds = expires - (sent if sent is not None else now)
    return (Hint(seconds, f"Expires in {span(seconds)}"),) if seconds > 0 else ()


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def remember(
    previous: Cadence, dates: Sequence[datetime | None], new_items: int, now: float
) -> Cadence:
    """The cadence record after a successful poll that listed items with these dates:
    their times merged into the newest KEEP_TIMES, and the publish-to-fetch delay of each
    item dated after every one seen before (none on the feed's first poll: those items
    were published before chipwire knew the feed)."""
    times = {d.timestamp() for d in dates if d is not None}
    times = {t for t in times if t <= now + FUTURE_SLACK_S}
    newest_known = max(previous.item_times, default=None)
    delays = previous.delays
    if newest_known is not None:
        fresh = sorted(t for t in times if t > newest_known)
        delays = (*delays, *(max(0.0, now - t) for t in fresh))[-KEEP_DELAYS:]
    merged = sorted(set(previous.item_times) | times)[-KEEP_TIMES:]
    return replace(
        previous,
        item_times=tuple(merged),
        delays=delays,
        items_seen=previous.items_seen + max(0, new_items),
        last_success_at=now,
    )


def after_success(
    previous: FeedState,
    dates: Sequence[datetime | None],
    new_items: int,
    fresh_feed_hints: tuple[Hint, ...] | None,
    http_hints: tuple[Hint, ...],
    bounds: Bounds,
    now: float,
) -> tuple[Cadence, Choice]:
    """The feed's cadence record and next interval after a successful poll.
    `fresh_feed_hints` is None when the body was not read (304): the last ones hold."""
    kept = previous.cadence
    if fresh_feed_hints is not None:
        kept = replace(kept, feed_hints=tuple((h.seconds, h.what) for h in fresh_feed_hints))
    kept = replace(kept, http_hints=tuple((h.seconds, h.what) for h in http_hints))
    seen = remember(kept, dates, new_items, now)
    tightened = previous.tighten_reason if (previous.tighten_until or 0) > now else None
    hints = [Hint(s, w) for s, w in (*seen.feed_hints, *seen.http_hints)]
    choice = choose(seen.item_times, bounds, hints, tightened)
    return replace(seen, interval_s=choice.seconds, reason=choice.reason), choice


def is_due(feed: FeedState, bounds: Bounds, now: float) -> bool:
    """Due at its next check; or, while tightened, once its floor has passed since the
    last poll (so a shift takes effect within a tick, not after a long interval)."""
    if feed.next_check_at <= now:
        return True
    if (feed.tighten_until or 0) <= now or feed.last_polled_at is None or feed.error_count:
        return False
    hints = (*feed.cadence.feed_hints, *feed.cadence.http_hints)
    server = max((s for s, _ in hints), default=0.0)
    return feed.last_polled_at + max(bounds.floor_s, min(server, bounds.max_s)) <= now


def median_delay(cadence: Cadence) -> float | None:
    return statistics.median(cadence.delays) if cadence.delays else None


def span(seconds: float) -> str:
    """A duration for people: 45s, 12m, 3.5h, 2.0d."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
