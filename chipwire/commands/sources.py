"""`chipwire sources list|status`: the configured sources, every feed's health and the
pages waiting for a retry.

`list` reads the sources file only; `status` reads the crawler's state file
(settings.data_dir/state.sqlite) too. Neither polls anything, so both are safe to run
beside `chipwire run`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from chipwire.settings import Settings
from ingest import state
from ingest.sources import Source, SourcesError, load_all_sources, load_sources

out = Console()
err = Console(stderr=True)
sources_app = typer.Typer(help="Feed sources and their health.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")


@dataclass(frozen=True)
class FeedStatus:
    source_id: str
    feed: str
    last_polled_at: float | None
    errors_in_a_row: int
    next_check_at: float
    last_error: str | None
    pending_pages: int
    next_page_retry_at: float | None
    pages_given_up: int


def feed_statuses(settings: Settings) -> list[FeedStatus]:
    try:
        feeds = {s.id: s.feed for s in load_sources(settings.sources_file)}
    except SourcesError:
        feeds = {}
    conn = state.connect(settings.state_db)
    try:
        states = {f.source_id: f for f in state.all_feed_states(conn)}
        pending = state.pending_pages(conn)
        given_up = state.given_up_counts(conn)
    finally:
        conn.close()
    rows = []
    for source_id in sorted(set(feeds) | set(states)):
        feed = states.get(source_id, state.FeedState(source_id))
        mine = [p for p in pending if p.source_id == source_id]
        rows.append(
            FeedStatus(
                source_id=source_id,
                feed=feeds.get(source_id, "(not in the sources file)"),
                last_polled_at=feed.last_polled_at,
                errors_in_a_row=feed.error_count,
                next_check_at=feed.next_check_at,
                last_error=feed.last_error,
                pending_pages=len(mine),
                next_page_retry_at=min((p.next_try_at or 0.0 for p in mine), default=None),
                pages_given_up=given_up.get(source_id, 0),
            )
        )
    return rows


def _when(at: float | None, now: float) -> str:
    if at is None:
        return "never"
    seconds = at - now
    span = abs(seconds)
    text = (
        f"{span:.0f}s"
        if span < 120
        else f"{span / 60:.0f}m"
        if span < 7200
        else f"{span / 3600:.1f}h"
    )
    return f"in {text}" if seconds > 0 else f"{text} ago"


@sources_app.command("list")
def list_sources(
    official: Annotated[
        bool, typer.Option("--official", help="Only government publishers (official: true)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source")] = False,
) -> None:
    """Every source in the sources file, disabled ones too; official ones are marked."""
    settings = Settings()
    try:
        sources = load_all_sources(settings.sources_file)
    except SourcesError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    if official:
        sources = [s for s in sources if s.official]
    if as_json:
        for source in sources:
            typer.echo(
                json.dumps(source.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
            )
        return
    table = Table("source", "kind", "official", "agency", "lang", "every", "enabled", "address")
    for source in sources:
        table.add_row(
            source.id,
            source.kind,
            "official" if source.official else "",
            source.agency or "",
            source.language or "",
            _interval(source, settings),
            "yes" if source.enabled else "no",
            source.feed,
        )
    out.print(table)
    shown = len(sources)
    out.print(
        f"{shown} source(s), {sum(s.official for s in sources)} official, "
        f"{sum(not s.enabled for s in sources)} disabled ({settings.sources_file})",
        highlight=False,
    )


def _interval(source: Source, settings: Settings) -> str:
    seconds = source.poll_interval_s or settings.poll_interval_s
    return f"{seconds / 60:.0f}m" if seconds >= 60 else f"{seconds:.0f}s"


@sources_app.command("status")
def status(
    pages: Annotated[bool, typer.Option("--pages", help="List each page awaiting a retry")] = False,
) -> None:
    """Feed health (last poll, errors in a row, next poll) and pending page retries."""
    settings = Settings()
    now = time.time()
    table = Table(
        "source", "last poll", "errors", "next poll", "page retries", "given up", "last error"
    )
    for row in feed_statuses(settings):
        retries = (
            f"{row.pending_pages} (next {_when(row.next_page_retry_at, now)})"
            if row.pending_pages
            else "0"
        )
        table.add_row(
            row.source_id,
            _when(row.last_polled_at, now),
            str(row.errors_in_a_row),
            _when(row.next_check_at, now) if row.last_polled_at else "due",
            retries,
            str(row.pages_given_up),
            (row.last_error or "")[:80],
        )
    out.print(table)
    if pages:
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
                _when(page.next_try_at, now),
                _when(page.first_seen_at, now),
                (page.last_error or "")[:80],
            )
        out.print(detail)
