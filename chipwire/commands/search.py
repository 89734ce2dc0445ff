"""`chipwire search QUERY`: search the index from the terminal (a table, or JSON);
`chipwire story ARTICLE_ID`: the article's event story, outlet by outlet."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chipwire.commands.failures import one_line
from chipwire.errors import Retry
from chipwire.settings import Settings
from chipwire.web.view import delay
from index import open_backend
from index.backend import SearchRequest, SearchResponse
from index.event_story import event_story
from index.query import QueryError

err = Console(stderr=True)
RELATIVE = re.compile(r"^(\d+)([dwh])$")
STANCE_STYLE = {"restrict": "red", "ease": "green", "mixed": "yellow", "none": "dim"}


def register(app: typer.Typer) -> None:
    app.command()(search)
    app.command()(story)


def search(
    query: Annotated[
        str, typer.Argument(help="Lucene syntax: 'H200 AND customs', 'stance:restrict'; '' = all")
    ] = "",
    chip: Annotated[list[str] | None, typer.Option(help="Chip id (repeat for any of)")] = None,
    company: Annotated[list[str] | None, typer.Option(help="Company id")] = None,
    agency: Annotated[list[str] | None, typer.Option(help="Agency id, e.g. CN:GAC")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Country code")] = None,
    stance: Annotated[list[str] | None, typer.Option(help="restrict|ease|mixed|none")] = None,
    jurisdiction: Annotated[list[str] | None, typer.Option(help="Acting jurisdiction")] = None,
    since: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD, ISO time, or 30d / 2w / 12h")
    ] = None,
    until: Annotated[str | None, typer.Option(help="YYYY-MM-DD or ISO time (exclusive)")] = None,
    limit: Annotated[int, typer.Option(min=0, max=200)] = 20,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    newest: Annotated[bool, typer.Option("--newest", help="Sort by date, not relevance")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the SearchResponse as JSON")
    ] = False,
) -> None:
    """Search indexed articles: full text with Lucene syntax, plus tag, stance and date filters."""
    try:
        req = SearchRequest(
            query=query,
            chips=chip or [],
            companies=company or [],
            agencies=agency or [],
            countries=country or [],
            stance=stance or [],  # validated by the model
            jurisdiction=jurisdiction or [],
            since=_when(since),
            until=_when(until),
            limit=limit,
            offset=offset,
            sort="newest" if newest else "relevance",
        )
    except (ValidationError, ValueError) as exc:
        _fail(_first_error(exc), code=2)
    backend = open_backend(Settings())
    try:
        response = backend.search(req)
    except QueryError as exc:
        _fail(f"bad query: {exc}", code=2)
    except Retry as exc:
        _fail(f"the search backend is unavailable: {exc}", code=1)
    finally:
        backend.close()
    if as_json:
        typer.echo(response.model_dump_json(indent=2))
    else:
        show(response, Console())


def story(
    article_id: Annotated[str, typer.Argument(help="Article id (from search, or --json)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the EventStory as JSON")] = False,
) -> None:
    """The article's event story: its first reporter and every outlet's report, in any
    language, with the delay behind the first and from publication to chipwire's fetch."""
    backend = open_backend(Settings())
    try:
        article = backend.get(article_id)
        if article is None:
            _fail(f"no indexed article with id {article_id!r}", code=1)
        found = event_story(backend, article)
    except Retry as exc:
        _fail(f"the search backend is unavailable: {exc}", code=1)
    finally:
        backend.close()
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    out = Console()
    table = Table(expand=True)
    for column in ("outlet", "published", "language", "after the first", "published → seen"):
        table.add_column(column, no_wrap=True)
    table.add_column("report", ratio=1)
    for r in found.outlets:
        when = r.published_at.strftime("%Y-%m-%d %H:%M") if r.published_at else "—"
        table.add_row(
            r.outlet + (f" ({r.reports})" if r.reports > 1 else ""),
            when,
            r.language or "—",
            delay(r.after_first_s),
            delay(r.seen_after_s),
            Text(r.title, style="bold" if r.article_id == article_id else ""),
        )
    out.print(table)
    out.print(
        f"event {found.event_id or '(none: enriched before event stories)'}: "
        f"{found.articles} reports from {len(found.outlets)} outlets, "
        f"first by {escape(found.first.outlet)}",
        highlight=False,
    )


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    relative = RELATIVE.match(value.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        span = {"d": timedelta(days=amount), "w": timedelta(weeks=amount)}.get(
            unit, timedelta(hours=amount)
        )
        return datetime.now(UTC) - span
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"cannot read the date {value!r}; use YYYY-MM-DD or 30d") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"bad option {where}: {first['msg']}"
    return str(exc)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def show(response: SearchResponse, out: Console) -> None:
    table = Table(show_lines=True, expand=True)
    table.add_column("date", no_wrap=True)
    table.add_column("stance", no_wrap=True)
    table.add_column("article", ratio=2)
    table.add_column("evidence", ratio=3)
    for hit in response.hits:
        when = hit.published_at.date().isoformat() if hit.published_at else "—"
        style = STANCE_STYLE.get(hit.stance, "")
        where = f" {hit.acting_jurisdiction}" if hit.acting_jurisdiction else ""
        article = Text(hit.title, style="bold")
        article.append(f"\n{hit.source} · {hit.url}", style="dim")
        table.add_row(
            when, Text(hit.stance + where, style=style), article, marked(hit.snippet.html)
        )
    out.print(table)
    out.print(
        f"{response.total} results, {len(response.hits)} shown, "
        f"for [bold]{escape(response.query)}[/bold]",
        highlight=False,
    )
    for name, buckets in response.facets.items():
        if buckets and name != "day":
            counts = escape(", ".join(f"{b.key} ({b.count})" for b in buckets[:8]))
            out.print(f"  [dim]{name}:[/dim] {counts}", highlight=False)


def marked(fragment: str) -> Text:
    """A snippet's <b>…</b> marks as bold text in the terminal."""
    text = Text()
    for i, part in enumerate(re.split(r"</?b>", fragment)):
        text.append(html.unescape(part), style="bold yellow" if i % 2 else "")
    return text
