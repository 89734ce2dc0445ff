"""The crawler: poll a feed, fetch its new pages, extract, dedupe, accept into the outbox.

A source is listed by its adapter (ingest/listings.py: a feed, the Federal Register API,
an agency's listing page); everything after the listing is the same for every kind.

`Crawler._poll_feed` is the whole story of one feed, top to bottom. Each feed poll is its
own task on the crawl's event loop (ingest/taskloop.py): it waits for its host's politeness
slot (ingest/hosts.py), for a listing's follow-up page's slot, and for a worker without
holding a thread, so no feed can hold up another. Every feed item's fate is counted
exactly once in chipwire_articles_total{status}.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Executor, Future
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from protego import Protego

from chipwire.bus import RAW_TOPIC
from chipwire.contract import RawArticle, SourceRef, article_id
from chipwire.errors import Discard, Retry, Throttled
from chipwire.events import encode
from chipwire.metrics import ARTICLES, FEED_POLLS, FETCHES
from chipwire.settings import Settings
from ingest import cadence, dedupe, robots, state
from ingest.canonical import canonical_url
from ingest.extracted import Extracted, split_authors
from ingest.feeds import FeedItem
from ingest.fetch import ClientConfig, FetchResult, GuardedClient, host_of
from ingest.hosts import HostSlots
from ingest.listings import Fetch, Listing, advance, listing_steps
from ingest.loopfetch import LoopFetcher
from ingest.pages import ExtractFn, PageDone, PageJob, extract_fetched, fetch_and_extract
from ingest.sources import Source
from ingest.taskloop import TaskLoop
from ingest.workers import WorkerPool

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 24 * 3600.0
EXTRACT_TIMEOUT_S = 60.0  # on top of the fetch's own deadline
WORKER_CONNECTIONS = 2  # a worker fetches one page at a time
MAX_PAGE_RETRY_DELAY_S = 6 * 3600.0
# feed states are written in batches (one commit for many 304s): at this many, at each
# tick, at the end of a cycle and at shutdown. A crash loses at most one tick's feed
# states: those feeds are polled again and their items found seen, nothing accepted is lost
SAVE_FEED_STATES_EVERY = 200
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class FeedReport:
    source_id: str
    status: str
    items: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


# pages in hand (fetching, fetched, extracting) per extraction slot: enough to keep the
# workers fed while slow hosts drip, few enough that a backlog costs megabytes, not gigabytes
PAGES_IN_HAND_PER_SLOT = 4


class Crawler:
    def __init__(
        self,
        settings: Settings,
        conn: sqlite3.Connection,
        client: GuardedClient,
        extractor: WorkerPool | Executor | None,
        on_accept: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.conn = conn
        self.client = client
        self.extractor = extractor
        # what extracts in the workers: a module-level function (pickled by reference);
        # None is ingest.extract.extract_page, which only the workers import
        self.extract_fn: ExtractFn | None = None
        self._worker_client = ClientConfig.of(settings, connections=WORKER_CONNECTIONS)
        self.on_accept = on_accept
        self.robots = robots.RobotsCache(self._load_robots, settings.user_agent)
        self.near_dups = dedupe.NearDuplicates(settings.near_duplicate_threshold)
        for aid, story_id, signature in state.fingerprints(conn):
            self.near_dups.add(aid, story_id, dedupe.from_bytes(signature))
        # one SQLite connection shared by the feed and page threads: one writer at a time
        self._db = threading.RLock()
        # set at shutdown: fetches in flight are abandoned, items not started stay unseen
        self.stopping = threading.Event()
        self.hosts = HostSlots(settings.host_min_interval_s, settings.host_concurrency)
        self.http = LoopFetcher(client)  # feeds, pages and robots.txt on the loop (aiohttp)
        self.tasks = TaskLoop(settings.fetch_concurrency)  # the global concurrency cap
        # pages fetched (or being fetched) and not yet settled: without a bound, the loop
        # fetches every new item's page while the extraction workers lag, holding them all
        self._pages_in_hand = asyncio.Semaphore(PAGES_IN_HAND_PER_SLOT * settings.fetch_concurrency)
        self.tasks.on_close(self.http.close)
        # feeds being polled: a feed still at work from an earlier tick is not started again,
        # so a long one keeps its progress
        self._polling: set[str] = set()
        self._polling_lock = threading.Lock()
        self._retries: Future[dict[str, int]] | None = None
        self._taking: set[str] = set()  # article ids being taken (touched on the loop only)
        # how long each feed's last poll took: the slowest start first, so that a cycle
        # ends with its slowest feed's deadline rather than after it (longest job first)
        self._took: dict[str, float] = {}
        self._unsaved: dict[str, state.FeedState] = {}  # polls' outcomes not yet written

    def start_due(
        self, sources: Iterable[Source], now: float | None = None
    ) -> dict[str, Future[FeedReport]]:
        """The scheduler's tick: start a poll of every due feed that is not still being
        polled, and the page retries that are due, then return at once. Each started poll's
        future is returned by source id."""
        now = time.time() if now is None else now
        sources = list(sources)
        known = self._feed_states(sources)
        due = [s for s in sources if self._due(known[s.id], s, now)]
        with self._polling_lock:
            starting = [s for s in self._slowest_first(due) if s.id not in self._polling]
            self._polling.update(s.id for s in starting)
        polls = self.tasks.spawn_all([self._timed_poll(s, known[s.id]) for s in starting])
        started: dict[str, Future[FeedReport]] = {}
        for source, future in zip(starting, polls, strict=True):
            future.add_done_callback(functools.partial(self._polled, source.id))
            started[source.id] = future
        if self._retries is None or self._retries.done():
            self._retries = self.tasks.spawn(self._retry_due_pages(sources, now))
            self._retries.add_done_callback(_log_retries_failure)
        return started

    def _polled(self, source_id: str, done: Future[FeedReport]) -> None:
        with self._polling_lock:
            self._polling.discard(source_id)
        if not done.cancelled() and done.exception() is not None:
            log.error("feed poll failed: source=%s: %r", source_id, done.exception())

    def polling(self) -> set[str]:
        """The feeds whose poll is under way."""
        with self._polling_lock:
            return set(self._polling)

    def poll_due(self, sources: Iterable[Source], now: float | None = None) -> list[FeedReport]:
        """`start_due`, then wait for those polls and the page retries (`run_once`, tests)."""
        started = self.start_due(sources, now)
        reports = [_report(future, source_id) for source_id, future in started.items()]
        if self._retries is not None:
            with contextlib.suppress(CancelledError, Exception):  # logged when it failed
                self._retries.result()
        self.save_feed_states()
        return reports

    def poll_feeds(self, sources: list[Source]) -> list[FeedReport]:
        """Poll these feeds now, all at once, and wait for every one."""
        known = self._feed_states(sources)
        order = self._slowest_first(sources)
        polls = self.tasks.spawn_all([self._timed_poll(s, known[s.id]) for s in order])
        futures = {s.id: future for s, future in zip(order, polls, strict=True)}
        reports = [_report(futures[s.id], s.id) for s in sources]
        self.save_feed_states()
        return reports

    def _feed_states(self, sources: list[Source]) -> dict[str, state.FeedState]:
        """These feeds' states, read in one query: what the polls started now begin from (a
        feed is never polled twice at once, and only its own poll changes its state)."""
        with self._db:
            self._write_feed_states()
            known = {f.source_id: f for f in state.all_feed_states(self.conn)}
        return {s.id: known.get(s.id) or state.FeedState(s.id) for s in sources}

    def _slowest_first(self, sources: list[Source]) -> list[Source]:
        return sorted(sources, key=lambda s: -self._took.get(s.id, 0.0))

    def poll_feed(self, source: Source) -> FeedReport:
        return self.poll_feeds([source])[0]

    def stop(self) -> None:
        """Shutdown: abandon every poll and fetch in flight within a fraction of a second.
        What was accepted is in the outbox; items not taken stay unseen and the feed's
        state (ETag, next check) is left as it was, so the next run takes them."""
        self.stopping.set()
        if isinstance(self.extractor, WorkerPool):
            self.extractor.stop()
        self.tasks.close()
        self.save_feed_states()

    close = stop

    async def _timed_poll(self, source: Source, previous: state.FeedState) -> FeedReport:
        started = time.monotonic()
        try:
            report = await self._poll_feed(source, previous)
        finally:
            self._took[source.id] = time.monotonic() - started
        if len(self._unsaved) >= SAVE_FEED_STATES_EVERY:
            await self.tasks.blocking(self.save_feed_states)
        return report

    async def _poll_feed(
        self, source: Source, previous: state.FeedState | None = None
    ) -> FeedReport:
        """One feed, top to bottom: list it, take its new items, save its state."""
        if previous is None:
            previous = await self.tasks.blocking(self._previous, source)
        listed = await self._list(source, previous)
        if isinstance(listed, FeedReport):
            return listed  # not modified, failed or stopped: nothing more to do
        listing = listed
        try:
            outcomes = await self._take_items(source, listing.items)
        except Exception:  # never lose the poll's state because one step went wrong
            log.exception("feed items failed: source=%s", source.id)
            outcomes = {"unfinished": len(listing.items)}
        if listing.rejected:
            outcomes["bad-link"] = outcomes.get("bad-link", 0) + listing.rejected
        report = FeedReport(source.id, "ok", len(listing.items), outcomes)
        return await self.tasks.blocking(self._feed_done, previous, listing, source, report)

    def _previous(self, source: Source) -> state.FeedState:
        with self._db:
            if source.id in self._unsaved:  # polled again before its last outcome was written
                self._write_feed_states()
            return state.feed_state(self.conn, source.id)

    async def _list(self, source: Source, previous: state.FeedState) -> FeedReport | Listing:
        """Run the source's adapter: each of its fetches on the loop, each body parsed in a
        worker. A poll that ends here (not modified, failed) is saved at once; one with
        items goes on to take them."""
        interval = source.poll_interval_s or self.settings.poll_interval_s
        try:
            steps = listing_steps(source, previous)
            step = advance(steps, None)
            while isinstance(step, Fetch):
                fetched = await self._listing_get(step)
                if fetched.body:  # parsing can take a while: not on the loop
                    step = await self.tasks.blocking(advance, steps, fetched)
                else:
                    step = advance(steps, fetched)
            listing = step
            if listing.not_modified:  # the common case: saved on the loop, no thread hop
                report = FeedReport(source.id, "not-modified")
                return self._feed_done(previous, listing, source, report)
        except (Discard, Retry) as exc:
            if self.stopping.is_set():
                return FeedReport(source.id, "stopped")
            return await self.tasks.blocking(self._feed_failed, source, previous, interval, exc)
        except Exception as exc:  # a bug or a surprise must still leave state and backoff
            log.exception("feed poll crashed: source=%s feed_url=%s", source.id, source.feed)
            failure = Retry("error", f"{type(exc).__name__}: {exc}")
            return await self.tasks.blocking(self._feed_failed, source, previous, interval, failure)
        if listing.warning:
            log.warning(
                "feed %s is not well-formed, using what parsed: %s", source.feed, listing.warning
            )
        if listing.rejected:
            log.warning(
                "feed %s: %d item(s) without a usable link skipped", source.feed, listing.rejected
            )
            ARTICLES.labels("bad-link").inc(listing.rejected)
        return listing

    async def _listing_get(self, request: Fetch) -> FetchResult:
        """A source adapter's fetch, on the loop: a listing's follow-up page waits for its
        host's next start, then every fetch waits for its host's slot (one request in
        flight per host by default, feeds and pages alike). Waiting holds no thread, and
        the deadline starts once the slot is taken."""
        async with self.hosts.slot(host_of(request.url), paced=request.paging):
            if self.stopping.is_set():  # a stop cancels the fetches in flight, and starts none
                raise Retry("stopped", request.url)
            return await self.http.fetch(
                request.url,
                max_bytes=self.settings.max_feed_bytes,
                deadline_s=self.settings.fetch_timeout_s,
                max_redirects=self.settings.max_redirects,
                etag=request.etag,
                last_modified=request.last_modified,
                kind="feed",  # a feed, an API page or a listing page: the source's own list
            )

    async def _take_items(self, source: Source, items: list[FeedItem]) -> dict[str, int]:
        fresh, outcomes = await self.tasks.blocking(self._fresh, items)
        work = [self._take_item(source, aid, item, canonical) for aid, item, canonical in fresh]
        for status in await asyncio.gather(*work):
            outcomes[status] = outcomes.get(status, 0) + 1
            ARTICLES.labels(status).inc()
        return outcomes

    def _fresh(
        self, items: list[FeedItem]
    ) -> tuple[list[tuple[str, FeedItem, str]], dict[str, int]]:
        """The items worth fetching now (id, item, canonical URL), and the others counted."""
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
        return [(aid, *by_id[aid]) for aid in by_id if aid in fresh], outcomes

    async def _take_item(self, source: Source, aid: str, item: FeedItem, canonical: str) -> str:
        """One feed item: wait for its host's slot (holding no thread), fetch the page on the
        loop, free the slot, extract it in an extraction worker, then near-dup and accept
        it. Returns its outcome."""
        if self.stopping.is_set():
            return "stopped"
        if aid in self._taking:
            return "seen"  # another feed, or the page retries, is taking it right now
        self._taking.add(aid)
        try:
            job = PageJob(
                url=item.url,
                with_metadata=not _gives_metadata(item),
                max_bytes=self.settings.max_page_bytes,
                deadline_s=self.settings.fetch_timeout_s,
                max_redirects=self.settings.max_redirects,
                client=self._worker_client,
            )
            async with self._pages_in_hand:
                async with self.hosts.slot(host_of(item.url)):
                    if self.stopping.is_set():
                        return "stopped"
                    fetched = await self._fetch_page(job)
                # the bytes are in: the host's slot is free while the page is extracted
                done = fetched
                if isinstance(fetched, FetchResult):
                    done = await self.tasks.blocking(self._extract, job, fetched)
                return await self.tasks.blocking(self._settle, source, aid, item, canonical, done)
        finally:
            self._taking.discard(aid)

    async def _fetch_page(self, job: PageJob) -> FetchResult | PageDone | Exception:
        """robots.txt, then the page: on the loop (a slow site holds no thread), or fetched
        and extracted in a worker with `fetch_in_workers` (its bytes never cross the pipe).
        A failure is returned, to be settled with the rest."""
        try:
            if self.settings.respect_robots and not await self.robots.allowed(job.url):
                raise Discard("robots-disallowed", job.url)
            if self.extractor is not None and self.settings.fetch_in_workers:
                return await self.tasks.blocking(self._fetch_in_worker, job)
            return await self.http.fetch(
                job.url,
                max_bytes=job.max_bytes,
                deadline_s=job.deadline_s,
                max_redirects=job.max_redirects,
                kind="page",
                inflate=False,  # inflated where it is extracted: a fifth of the bytes to pipe
            )
        except Exception as exc:
            return exc

    def _fetch_in_worker(self, job: PageJob) -> PageDone:
        timeout_s = self.settings.fetch_timeout_s + EXTRACT_TIMEOUT_S
        done = self._in_worker(timeout_s, job.url, fetch_and_extract, job, self.extract_fn)
        FETCHES.labels("page", done.fetch_status).inc()  # the worker's registry is its own
        return done

    def _extract(self, job: PageJob, page: FetchResult) -> PageDone | Exception:
        """The fetched page's article, in a worker (here without one)."""
        args = (page.body, page.headers.get("content-type"), page.url, job.with_metadata)
        inflate = (page.encoding, job.max_bytes)  # the body as it came off the wire
        if self.extractor is None:
            return extract_fetched(*args, self.extract_fn, *inflate)
        try:
            return self._in_worker(
                EXTRACT_TIMEOUT_S, job.url, extract_fetched, *args, self.extract_fn, *inflate
            )
        except Exception as exc:
            return exc

    def _in_worker(
        self, timeout_s: float, url: str, fn: Callable[..., PageDone], *args: object
    ) -> PageDone:
        if isinstance(self.extractor, WorkerPool):
            # a page that kills (or hangs) a worker twice raises WorkerKilled: discarded
            return self.extractor.run(fn, *args, timeout_s=timeout_s, what=url)
        assert self.extractor is not None
        return self.extractor.submit(fn, *args).result(timeout=timeout_s)

    def _settle(
        self,
        source: Source,
        aid: str,
        item: FeedItem,
        canonical: str,
        done: PageDone | Exception,
    ) -> str:
        """Near-dup → accept an extracted page, or record why not."""
        try:
            if isinstance(done, Exception):
                raise done
            if done.failure is not None:
                if done.failure.trace:
                    log.error("extraction failed: url=%s\n%s", done.url, done.failure.trace)
                raise done.failure.exception()
            if done.extracted is None:
                raise Discard("no-text", item.url)
            if done.extracted.decode_warning:
                log.warning("page decode: %s url=%s", done.extracted.decode_warning, done.url)
            self._accept(source, aid, item, canonical, done.extracted)
            return "ok"
        except Discard as exc:
            log.info("article discarded: %s url=%s", exc.reason, item.url)
            self._mark(aid, item.url, "discarded")
            return exc.reason
        except Retry as exc:
            if self.stopping.is_set():
                return "stopped"  # abandoned at shutdown: the page is simply taken next run
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
        return self.tasks.call(self._retry_due_pages(list(sources), now))

    async def _retry_due_pages(
        self, sources: list[Source], now: float | None = None
    ) -> dict[str, int]:
        """Fetch again the pages whose retry is due, whether or not their feed still lists
        them (a 15-minute outage must not lose the articles published during it)."""
        by_id = {s.id: s for s in sources}
        due = await self.tasks.blocking(self._due_pages, time.time() if now is None else now)
        outcomes: dict[str, int] = {}
        work = []
        for page in due:
            source = by_id.get(page.source_id or "")
            item = _item_from_json(page.item)
            if source is None or item is None:
                await self.tasks.blocking(self._mark, page.article_id, page.url, "gave-up")
                log.warning("article given up: its source is gone: url=%s", page.url)
                continue
            work.append(self._take_item(source, page.article_id, item, canonical_url(item.url)))
        if not work:
            return outcomes
        for status in await asyncio.gather(*work):
            outcomes[status] = outcomes.get(status, 0) + 1
            ARTICLES.labels(status).inc()
        log.info("page retries: %s", outcomes)
        return outcomes

    def _due_pages(self, now: float) -> list[state.PendingPage]:
        with self._db:
            return state.due_pages(self.conn, now)

    def _accept(
        self,
        source: Source,
        aid: str,
        item: FeedItem,
        canonical: str,
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
        self, previous: state.FeedState, listing: Listing, source: Source, report: FeedReport
    ) -> FeedReport:
        left_for_later = bool(report.outcomes.get("stopped") or report.outcomes.get("unfinished"))
        if left_for_later:
            # the next poll must get the full feed, not a 304, and an adapter must list
            # the items again (its cursor stays where it was)
            listing = replace(listing, etag=None, last_modified=None, cursor=None)
        new_items = sum(n for k, n in report.outcomes.items() if k not in cadence.NOT_NEW)
        dates = [item.published_at for item in listing.items]
        bounds = cadence.bounds_of(source, self.settings)
        tempo, wait = cadence.after_success(
            previous, dates, new_items, listing.feed_hints, listing.http_hints,
            bounds, time.time(),
        )  # fmt: skip
        # work left undone comes back at the shortest interval, whatever the feed's tempo
        wait_s = min(wait.seconds, bounds.floor_s) if left_for_later else wait.seconds
        self._save_feed_state(
            replace(
                previous,
                etag=listing.etag or previous.etag,
                last_modified=listing.last_modified or previous.last_modified,
                cursor=listing.cursor or previous.cursor,
                error_count=0,
                last_error=None,
                cadence=tempo,
            ),
            wait_s,
        )
        FEED_POLLS.labels(report.status).inc()
        # a 304 is the common case: one line per feed per cycle would be most of the log
        log.log(
            logging.DEBUG if listing.not_modified else logging.INFO,
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

    def _due(self, feed: state.FeedState, source: Source, now: float) -> bool:
        return cadence.is_due(feed, cadence.bounds_of(source, self.settings), now)

    def _save_feed_state(self, updated: state.FeedState, wait_s: float) -> None:
        """Store a poll's outcome with its time and the time of the next check."""
        now = time.time()
        polled = replace(
            updated, next_check_at=now + min(wait_s, MAX_BACKOFF_S), last_polled_at=now
        )
        with self._db:  # written in batches: `_timed_poll`, each tick, shutdown
            self._unsaved[polled.source_id] = polled

    def save_feed_states(self) -> None:
        """Write the polls' outcomes not written yet."""
        with self._db:
            self._write_feed_states()

    def _write_feed_states(self) -> None:  # holding self._db
        if self._unsaved:
            state.save_feed_states(self.conn, list(self._unsaved.values()))
            self._unsaved.clear()

    def _mark(self, aid: str, url: str, status: str) -> None:
        with self._db:
            state.mark(self.conn, aid, url, status)

    async def _load_robots(self, url: str) -> Protego | None:
        """A host's robots.txt, fetched on the loop and parsed in a thread; None when it has
        none (a permanent failure: everything is allowed)."""
        try:
            result = await self.http.fetch(
                url,
                max_bytes=robots.MAX_BYTES,
                deadline_s=self.settings.fetch_timeout_s,
                max_redirects=3,
                kind="robots",
            )
        except Discard:
            return None
        return await self.tasks.blocking(robots.parse, result.body)


def _log_retries_failure(done: Future[dict[str, int]]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("page retries failed: %r", done.exception())


def _report(future: Future[FeedReport], source_id: str) -> FeedReport:
    try:
        return future.result()
    except CancelledError:  # the crawler stopped while this feed was being polled
        return FeedReport(source_id, "stopped")


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
