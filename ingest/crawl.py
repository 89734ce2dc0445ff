"""The crawler: poll a feed, fetch its new pages, extract, dedupe, accept into the outbox.

A source is listed by its adapter (ingest/listings.py: a feed, the Federal Register API,
an agency's listing page); everything after the listing is the same for every kind.

`Crawler.poll_feed` is the whole story of one feed, top to bottom. Every feed item's
fate is counted exactly once in chipwire_articles_total{status}.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import httpx

from chipwire.bus import RAW_TOPIC
from chipwire.contract import RawArticle, SourceRef, article_id
from chipwire.errors import Discard, Retry
from chipwire.events import encode
from chipwire.metrics import ARTICLES, FEED_POLLS
from chipwire.settings import Settings
from ingest import dedupe, state
from ingest.canonical import canonical_url
from ingest.extract import Extracted, extract_page, split_authors
from ingest.feeds import FeedItem
from ingest.fetch import FetchResult, Throttled, fetch, host_of
from ingest.listings import Listing, list_new
from ingest.robots import RobotsCache
from ingest.sources import Source
from ingest.workers import WorkerPool

log = logging.getLogger(__name__)

FEEDS_IN_PARALLEL = 4
MAX_BACKOFF_S = 24 * 3600.0
EXTRACT_TIMEOUT_S = 60.0
MAX_PAGE_RETRY_DELAY_S = 6 * 3600.0
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedReport:
    source_id: str
    status: str
    items: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class Crawler:
    def __init__(
        self,
        settings: Settings,
        conn: sqlite3.Connection,
        client: httpx.Client,
        extractor: WorkerPool | Executor | None,
        on_accept: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.conn = conn
        self.client = client
        self.extractor = extractor
        # what runs in the workers: a module-level function (it is pickled by reference)
        self.extract_fn: Callable[[bytes, str | None, str, bool], Extracted | None] = extract_page
        self.on_accept = on_accept
        self.robots = RobotsCache(self._fetch_robots, settings.user_agent)
        self.near_dups = dedupe.NearDuplicates(settings.near_duplicate_threshold)
        for aid, story_id, signature in state.fingerprints(conn):
            self.near_dups.add(aid, story_id, dedupe.from_bytes(signature))
        # one SQLite connection shared by the feed and page threads: one writer at a time
        self._db = threading.RLock()
        # set at shutdown: items not started yet are left for the next run (still unseen)
        self.stopping = threading.Event()
        self.hosts = HostThrottle(settings.host_min_interval_s, self.stopping)

    def poll_due(self, sources: Iterable[Source], now: float | None = None) -> list[FeedReport]:
        now = time.time() if now is None else now
        sources = list(sources)
        with self._db:
            due = [s for s in sources if state.feed_state(self.conn, s.id).next_check_at <= now]
        reports = self.poll_feeds(due)
        try:
            self.retry_due_pages(sources, now)
        except Exception:  # retries are next tick's work too; the poll results stand
            log.exception("page retries failed")
        return reports

    def poll_feeds(self, sources: list[Source]) -> list[FeedReport]:
        """Poll several feeds at once, so one slow feed does not idle the extractors."""
        if len(sources) <= 1:
            return [self.poll_feed(s) for s in sources]
        with ThreadPoolExecutor(min(FEEDS_IN_PARALLEL, len(sources))) as pool:
            return list(pool.map(self.poll_feed, sources))

    def poll_feed(self, source: Source) -> FeedReport:
        with self._db:
            previous = state.feed_state(self.conn, source.id)
        interval = source.poll_interval_s or self.settings.poll_interval_s
        try:
            listing = list_new(source, self._listing_get, previous)
            if listing.not_modified:
                return self._feed_done(
                    previous, listing, interval, FeedReport(source.id, "not-modified")
                )
        except (Discard, Retry) as exc:
            return self._feed_failed(source, previous, interval, exc)
        except Exception as exc:  # a bug or a surprise must still leave state and backoff
            log.exception("feed poll crashed: source=%s feed_url=%s", source.id, source.feed)
            failure = Retry("error", f"{type(exc).__name__}: {exc}")
            return self._feed_failed(source, previous, interval, failure)
        if listing.warning:
            log.warning(
                "feed %s is not well-formed, using what parsed: %s", source.feed, listing.warning
            )
        if listing.rejected:
            log.warning(
                "feed %s: %d item(s) without a usable link skipped", source.feed, listing.rejected
            )
            ARTICLES.labels("bad-link").inc(listing.rejected)
        try:
            outcomes = self._take_items(source, listing.items)
        except Exception:  # never lose the poll's state because one step went wrong
            log.exception("feed items failed: source=%s", source.id)
            outcomes = {"unfinished": len(listing.items)}
        if listing.rejected:
            outcomes["bad-link"] = outcomes.get("bad-link", 0) + listing.rejected
        report = FeedReport(source.id, "ok", len(listing.items), outcomes)
        return self._feed_done(previous, listing, max(interval, listing.ttl_s or 0), report)

    def _listing_get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        paging: bool = False,
    ) -> FetchResult:
        """A source adapter's fetch: a listing's follow-up pages wait for the host's slot."""
        if paging:
            self.hosts.wait(host_of(url))
        return fetch(
            self.client,
            url,
            max_bytes=self.settings.max_feed_bytes,
            deadline_s=self.settings.fetch_timeout_s,
            max_redirects=self.settings.max_redirects,
            etag=etag,
            last_modified=last_modified,
            kind="feed",  # a feed, an API page or a listing page: the source's own list
        )

    def _take_items(self, source: Source, items: list[FeedItem]) -> dict[str, int]:
        by_id: dict[str, tuple[FeedItem, str]] = {}
        bad = 0
        for item in items:
            try:
                canonical = canonical_url(item.url)
            except Exception as exc:  # courlan or urllib on a URL they cannot read
                log.warning("feed item skipped: bad URL %r: %s", item.url, exc)
                bad += 1
                continue
            by_id.setdefault(article_id(canonical), (item, canonical))
        with self._db:
            fresh = state.unseen(self.conn, list(by_id), time.time())
        outcomes: dict[str, int] = {"seen": len(by_id) - len(fresh)}
        if bad:
            outcomes["bad-link"] = bad
            ARTICLES.labels("bad-link").inc(bad)
        ARTICLES.labels("seen").inc(outcomes["seen"])
        work = [(aid, *by_id[aid]) for aid in by_id if aid in fresh]
        with ThreadPoolExecutor(self.settings.fetch_concurrency) as pool:
            for status in pool.map(lambda w: self._take_item(source, *w), work):
                outcomes[status] = outcomes.get(status, 0) + 1
                ARTICLES.labels(status).inc()
        return outcomes

    def _take_item(self, source: Source, aid: str, item: FeedItem, canonical: str) -> str:
        """One feed item: fetch page → extract → near-dup → accept. Returns its outcome."""
        if self.stopping.is_set():
            return "stopped"
        try:
            if self.settings.respect_robots and not self.robots.allowed(item.url):
                raise Discard("robots-disallowed", item.url)
            self.hosts.wait(host_of(item.url))
            if self.stopping.is_set():
                return "stopped"
            page = fetch(
                self.client,
                item.url,
                max_bytes=self.settings.max_page_bytes,
                deadline_s=self.settings.fetch_timeout_s,
                max_redirects=self.settings.max_redirects,
            )
            extracted = self._extract(page, with_metadata=not _gives_metadata(item))
            if extracted is None:
                raise Discard("no-text", item.url)
            if extracted.decode_warning:
                log.warning("page decode: %s url=%s", extracted.decode_warning, page.url)
            self._accept(source, aid, item, canonical, page, extracted)
            return "ok"
        except Discard as exc:
            log.info("article discarded: %s url=%s", exc.reason, item.url)
            self._mark(aid, item.url, "discarded")
            return exc.reason
        except Retry as exc:
            hint = exc.retry_after_s if isinstance(exc, Throttled) else None
            return self._retry_later(source, aid, item, str(exc), hint) or "retry"
        except Exception as exc:
            log.exception("article failed: url=%s", item.url)
            return self._retry_later(source, aid, item, f"{type(exc).__name__}: {exc}") or "error"

    def _retry_later(
        self,
        source: Source,
        aid: str,
        item: FeedItem,
        error: str,
        retry_after_s: float | None = None,
    ) -> str | None:
        """Schedule the page again with exponential backoff (at least the server's
        Retry-After), until `page_retry_max_age_h` after it was first seen: then give up,
        and say so. Returns "gave-up" when it gave up, else None."""
        now = time.time()
        with self._db:
            attempts, first_seen = state.attempts_so_far(self.conn, aid)
        attempts += 1
        delay = min(
            self.settings.page_retry_base_s * 2 ** min(attempts - 1, 20), MAX_PAGE_RETRY_DELAY_S
        )
        delay = max(delay, retry_after_s or 0.0)
        give_up_at = (first_seen or now) + self.settings.page_retry_max_age_h * 3600
        next_try: float | None = now + delay
        if next_try is not None and next_try > give_up_at:
            next_try = None
            log.warning(
                "article given up after %d attempts over %.1f h: url=%s source=%s last_error=%s",
                attempts,
                (now - (first_seen or now)) / 3600,
                item.url,
                source.id,
                error,
            )
        else:
            log.warning(
                "article will be retried in %.0fs (attempt %d): url=%s error=%s",
                delay,
                attempts,
                item.url,
                error,
            )
        with self._db:
            state.mark_retry(
                self.conn,
                aid,
                item.url,
                next_try_at=next_try,
                error=error,
                source_id=source.id,
                item=_item_json(item),
            )
        return None if next_try is not None else "gave-up"

    def retry_due_pages(
        self, sources: Iterable[Source], now: float | None = None
    ) -> dict[str, int]:
        """Fetch again the pages whose retry is due, whether or not their feed still lists
        them (a 15-minute outage must not lose the articles published during it)."""
        by_id = {s.id: s for s in sources}
        with self._db:
            due = state.due_pages(self.conn, time.time() if now is None else now)
        outcomes: dict[str, int] = {}
        work: list[tuple[Source, str, FeedItem, str]] = []
        for page in due:
            source = by_id.get(page.source_id or "")
            item = _item_from_json(page.item)
            if source is None or item is None:
                with self._db:
                    state.mark(self.conn, page.article_id, page.url, "gave-up")
                log.warning("article given up: its source is gone: url=%s", page.url)
                continue
            work.append((source, page.article_id, item, canonical_url(item.url)))
        if not work:
            return outcomes
        with ThreadPoolExecutor(self.settings.fetch_concurrency) as pool:
            for status in pool.map(lambda w: self._take_item(*w), work):
                outcomes[status] = outcomes.get(status, 0) + 1
                ARTICLES.labels(status).inc()
        log.info("page retries: %s", outcomes)
        return outcomes

    def _extract(self, page: FetchResult, with_metadata: bool) -> Extracted | None:
        args = (page.body, page.headers.get("content-type"), page.url, with_metadata)
        if self.extractor is None:
            return self.extract_fn(*args)
        if isinstance(self.extractor, WorkerPool):
            # a page that kills (or hangs) a worker twice raises WorkerKilled: discarded
            return self.extractor.run(
                self.extract_fn, *args, timeout_s=EXTRACT_TIMEOUT_S, what=page.url
            )
        return self.extractor.submit(self.extract_fn, *args).result(timeout=EXTRACT_TIMEOUT_S)

    def _accept(
        self,
        source: Source,
        aid: str,
        item: FeedItem,
        canonical: str,
        page: FetchResult,
        extracted: Extracted,
    ) -> None:
        signature = dedupe.from_bytes(extracted.fingerprint)
        with self._db:
            story_id = self.near_dups.story_of(signature) or aid
            article = RawArticle(
                id=aid,
                story_id=story_id,
                url=item.url,
                canonical_url=canonical,
                source=SourceRef(
                    id=source.id,
                    name=source.name,
                    feed=source.feed,
                    official=source.official,
                    agency=item.agency or source.agency,
                ),
                title=extracted.title or item.title,
                text=extracted.text,
                summary=extracted.summary or _TAGS.sub("", item.summary).strip(),
                authors=extracted.authors or split_authors(item.author),
                language=extracted.language or item.language or source.language,
                published_at=_published(item.published_at, extracted.published_at),
                fetched_at=datetime.now(UTC),
                document_type=item.document_type,
                effective_on=item.effective_on,
            )
            key, value, headers = encode(article, stage="crawl")
            state.accept(
                self.conn,
                aid,
                item.url,
                story_id,
                extracted.fingerprint,
                (RAW_TOPIC, key, value, headers),
            )
            self.near_dups.add(aid, story_id, signature)
        log.info("article accepted: id=%s story=%s url=%s", aid, story_id, item.url)
        self.on_accept()

    def _feed_done(
        self, previous: state.FeedState, listing: Listing, wait_s: float, report: FeedReport
    ) -> FeedReport:
        if report.outcomes.get("stopped") or report.outcomes.get("unfinished"):
            # items were left for later: the next poll must get the full feed, not a 304,
            # and an adapter must list them again (its cursor stays where it was)
            listing = replace(listing, etag=None, last_modified=None, cursor=None)
        self._save_feed_state(
            replace(
                previous,
                etag=listing.etag or previous.etag,
                last_modified=listing.last_modified or previous.last_modified,
                cursor=listing.cursor or previous.cursor,
                error_count=0,
                last_error=None,
            ),
            wait_s,
        )
        FEED_POLLS.labels(report.status).inc()
        log.info(
            "feed polled: source=%s status=%s items=%d outcomes=%s",
            report.source_id,
            report.status,
            report.items,
            report.outcomes,
        )
        return report

    def _feed_failed(
        self, source: Source, previous: state.FeedState, interval: float, exc: Discard | Retry
    ) -> FeedReport:
        errors = previous.error_count + 1
        wait_s = interval * 2 ** min(errors - 1, 6)
        if errors >= self.settings.feed_error_limit:
            wait_s = MAX_BACKOFF_S  # a feed broken this long is checked once a day
        if isinstance(exc, Throttled) and exc.retry_after_s:
            wait_s = max(wait_s, exc.retry_after_s)
        self._save_feed_state(
            replace(previous, error_count=errors, last_error=str(exc)[:500]), wait_s
        )
        FEED_POLLS.labels(exc.reason).inc()
        log.error(
            "feed failed: source=%s feed_url=%s error=%s errors_in_a_row=%d next_try_in=%.0fs",
            source.id,
            source.feed,
            exc,
            errors,
            wait_s,
        )
        return FeedReport(source.id, exc.reason)

    def _save_feed_state(self, updated: state.FeedState, wait_s: float) -> None:
        """Store a poll's outcome with its time and the time of the next check."""
        now = time.time()
        polled = replace(
            updated, next_check_at=now + min(wait_s, MAX_BACKOFF_S), last_polled_at=now
        )
        with self._db:
            state.save_feed_state(self.conn, polled)

    def _mark(self, aid: str, url: str, status: str) -> None:
        with self._db:
            state.mark(self.conn, aid, url, status)

    def _fetch_robots(self, url: str) -> bytes | None:
        try:
            result = fetch(
                self.client,
                url,
                max_bytes=512_000,
                deadline_s=self.settings.fetch_timeout_s,
                max_redirects=3,
                kind="robots",
            )
        except Discard:
            return None
        return result.body


class HostThrottle:
    """At most one request per host every `interval_s` (politeness), shared by all threads."""

    def __init__(self, interval_s: float, stop: threading.Event | None = None) -> None:
        self.interval_s = interval_s
        self.stop = stop or threading.Event()
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        if self.interval_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + self.interval_s
        if slot > now:
            self.stop.wait(slot - now)  # rate limiting; returns at once at shutdown


def _item_json(item: FeedItem) -> str:
    return json.dumps(
        {
            "url": item.url,
            "title": item.title,
            "summary": item.summary,
            "published_at": item.published_at.isoformat() if item.published_at else None,
            "guid": item.guid,
            "author": item.author,
            "agency": item.agency,
            "document_type": item.document_type,
            "language": item.language,
            "effective_on": item.effective_on.isoformat() if item.effective_on else None,
        }
    )


def _item_from_json(text: str | None) -> FeedItem | None:
    try:
        data = json.loads(text or "")
        published = data.get("published_at")
        effective = data.get("effective_on")
        return FeedItem(
            url=str(data["url"]),
            title=str(data.get("title") or ""),
            summary=str(data.get("summary") or ""),
            published_at=datetime.fromisoformat(published) if published else None,
            guid=str(data.get("guid") or data["url"]),
            author=str(data.get("author") or ""),
            agency=_optional(data.get("agency")),
            document_type=_optional(data.get("document_type")),
            language=_optional(data.get("language")),
            effective_on=date.fromisoformat(effective) if effective else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _optional(value: object) -> str | None:
    return str(value) if value else None


def _gives_metadata(item: FeedItem) -> bool:
    """Whether the feed item names the article and dates it: then the page is read for its
    text alone (trafilatura's metadata pass is about a third of the extraction's cost)."""
    return bool(item.title.strip()) and item.published_at is not None


def _published(from_feed: datetime | None, from_page: datetime | None) -> datetime | None:
    """The page's own date wins (feeds re-date items); the feed's timestamp refines it
    when both agree on the day, since pages often give the day only."""
    if from_page is None:
        return from_feed
    if from_feed is not None and from_feed.date() == from_page.date():
        return from_feed
    return from_page
