"""`chipwire sources status|check`: every feed's health, and one feed seen as the crawler
would see it.

`status` reads the sources file and the crawler's state file (data_dir/state.sqlite);
it polls nothing, so it is safe beside `chipwire run`. `check URL` fetches one feed once
through the crawler's guarded fetch and parse (list_new: SSRF checks, size cap, deadline,
safe XML) and stores nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chipwire.errors import PipelineError
from chipwire.settings import Settings
from ingest import cadence, state
from ingest.canonical import is_http_url
from ingest.fetch import FetchResult, fetch, make_client
from ingest.listings import Listing, list_new
from ingest.sources import Source, SourcesError, load_all_sources

out = Console()
err = Console(stderr=True)


def attach(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("check")(check)


@dataclass(frozen=True)
class FeedStatus:
    source_id: str
    feed: str
    enabled: bool
    last_polled_at: float | None
    last_success_at: float | None
    errors_in_a_row: int
    next_check_at: float | None  # None: due at the next tick (never polled)
    last_error: str | None
    items_seen: int
    median_delay_s: float | None  # publish-to-fetch, over recent new items
    interval_s: float | None
    interval_reason: str | None
    tightened_until: float | None
    pending_pages: int
    next_page_retry_at: float | None
    pages_given_up: int


def feed_statuses(settings: Settings) -> list[FeedStatus]:
    try:
        sources = {s.id: s for s in load_all_sources(settings.sources_file)}
    except SourcesError:
        sources = {}
    conn = state.connect(settings.state_db)
    try:
        states = {f.source_id: f for f in state.all_feed_states(conn)}
        pending = state.pending_pages(conn)
        given_up = state.given_up_counts(conn)
    finally:
        conn.close()
    waiting: dict[str, list[state.PendingPage]] = {}
    for page in pending:
        waiting.setdefault(page.source_id or "", []).append(page)
    return [
        _status(
            source_id,
            sources.get(source_id),
            states.get(source_id, state.FeedState(source_id)),
            waiting.get(source_id, []),
            given_up.get(source_id, 0),
        )
        for source_id in sorted(set(sources) | set(states))
    ]


def _status(
    source_id: str,
    source: Source | None,
    feed: state.FeedState,
    pending: list[state.PendingPage],
    given_up: int,
) -> FeedStatus:
    now = time.time()
    return FeedStatus(
        source_id=source_id,
        feed=source.feed if source else "(not in the sources file)",
        enabled=source.enabled if source else False,
        last_polled_at=feed.last_polled_at,
        last_success_at=feed.cadence.last_success_at,
        errors_in_a_row=feed.error_count,
        next_check_at=feed.next_check_at if feed.last_polled_at else None,
        last_error=feed.last_error,
        items_seen=feed.cadence.items_seen,
        median_delay_s=cadence.median_delay(feed.cadence),
        interval_s=feed.cadence.interval_s,
        interval_reason=feed.cadence.reason,
        tightened_until=feed.tighten_until if (feed.tighten_until or 0) > now else None,
        pending_pages=len(pending),
        next_page_retry_at=min((p.next_try_at or 0.0 for p in pending), default=None),
        pages_given_up=given_up,
    )


def when(at: float | None, now: float) -> str:
    if at is None:
        return "never"
    seconds = at - now
    return f"in {cadence.span(seconds)}" if seconds > 0 else f"{cadence.span(-seconds)} ago"


def status(
    pages: Annotated[bool, typer.Option("--pages", help="List each page awaiting a retry")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source")] = False,
) -> None:
    """Feed health: last success, errors in a row, next poll and the interval chosen (and
    why), items seen, median publish-to-fetch delay, pending page retries."""
    settings = Settings()
    rows = feed_statuses(settings)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(_jsonable(asdict(row)), ensure_ascii=False))
        return
    now = time.time()
    table = Table(
        "source", "last success", "errors", "next poll", "every", "why", "items",
        "delay p50", "page retries", "given up", "last error",
    )  # fmt: skip
    for row in rows:
        retries = str(row.pending_pages)
        if row.pending_pages:
            retries += f" (next {when(row.next_page_retry_at, now)})"
        table.add_row(
            row.source_id + ("" if row.enabled else " (off)"),
            when(row.last_success_at, now),
            str(row.errors_in_a_row),
            when(row.next_check_at, now) if row.next_check_at is not None else "due",
            cadence.span(row.interval_s) if row.interval_s else "",
            row.interval_reason or "",
            str(row.items_seen),
            cadence.span(row.median_delay_s) if row.median_delay_s is not None else "",
            retries,
            str(row.pages_given_up),
            (row.last_error or "")[:80],
        )
    out.print(table)
    if pages:
        _pending_table(settings, now)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """Times as ISO 8601 UTC; durations stay seconds."""
    for key, value in row.items():
        if key.endswith("_at") or key == "tightened_until":
            row[key] = _iso(value)
    return row


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat() if at is not None else None


def _pending_table(settings: Settings, now: float) -> None:
    conn = state.connect(settings.state_db)
    try:
        waiting = state.pending_pages(conn)
    finally:
        conn.close()
    detail = Table("source", "url", "attempts", "next try", "first seen", "last error")
    for page in waiting:
        detail.add_row(
            page.source_id or "",
            page.url,
            str(page.attempts),
            when(page.next_try_at, now),
            when(page.first_seen_at, now),
            (page.last_error or "")[:80],
        )
    out.print(detail)


def check(
    url: Annotated[str, typer.Argument(help="A feed address (http/https)")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Fetch one feed now, as the crawler would, and show what chipwire sees: title, items,
    newest item, caching headers, ttl, the interval it would choose. Stores nothing."""
    settings = Settings()
    if not is_http_url(url):
        _fail(f"not an http(s) URL: {url!r}", 2)
    source = Source(id="check", name=url, feed=url)
    responses: list[FetchResult] = []
    client = make_client(settings)

    def get(
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        paging: bool = False,
    ) -> FetchResult:
        response = fetch(
            client,
            url,
            max_bytes=settings.max_feed_bytes,
            deadline_s=settings.fetch_timeout_s,
            max_redirects=settings.max_redirects,
            kind="check",
        )
        responses.append(response)
        return response

    try:
        listing = list_new(source, get, state.FeedState(source.id))
    except PipelineError as exc:
        _fail(f"{exc.reason}: {exc}", 1)
    except Exception as exc:  # what the crawler would log as a crashed poll
        _fail(f"{type(exc).__name__}: {exc}", 1)
    finally:
        client.close()
    report = _seen(listing, responses[-1], cadence.bounds_of(source, settings))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        for key, value in report.items():
            if value not in (None, "", []):
                out.print(f"{key:>14}  {escape(str(value))}", highlight=False, soft_wrap=True)


def _seen(listing: Listing, response: FetchResult, bounds: cadence.Bounds) -> dict[str, Any]:
    now = time.time()
    dates = [i.published_at for i in listing.items]
    newest = max((d for d in dates if d is not None), default=None)
    _, choice = cadence.after_success(
        state.FeedState("check"), dates, len(dates), listing.feed_hints, listing.http_hints,
        bounds, now,
    )  # fmt: skip
    headers = response.headers
    return {
        "url": response.url,
        "status": response.status,
        "content_type": headers.get("content-type"),
        "bytes": len(response.body),
        "title": listing.title,
        "items": len(listing.items),
        "items_refused": listing.rejected,
        "newest_item": newest.isoformat() if newest else None,
        "newest_age": cadence.span(now - newest.timestamp()) if newest else None,
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "cache_control": headers.get("cache-control"),
        "expires": headers.get("expires"),
        "feed_hints": [h.what for h in listing.feed_hints or ()],
        "interval_s": choice.seconds,
        "interval": f"{cadence.span(choice.seconds)}: {choice.reason}",
        "warning": listing.warning,
    }


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
