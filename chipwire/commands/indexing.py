"""`chipwire index [setup|stats|reindex]`: the search index's own commands.

`chipwire index` alone still runs the index stage (one service per stage, as compose and
Kubernetes start it); with a subcommand it manages the index of the configured backend.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chipwire.bus import ENRICHED_TOPIC, open_bus
from chipwire.settings import Settings
from index.backend import IndexStats

console = Console(stderr=True)
index_app = typer.Typer(
    help="Run the index stage alone; or manage the search index: setup, stats, reindex.",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    # the first spelling, kept for scripts; the docs show `chipwire index reindex`
    app.command(name="reindex", hidden=True)(reindex)


def _settings() -> Settings:
    from chipwire.commands.pipeline import _settings as configured

    return configured()


@index_app.callback()
def index(ctx: typer.Context) -> None:
    """Without a subcommand: run only the index stage (for one service per stage)."""
    if ctx.invoked_subcommand is None:
        from chipwire.commands.pipeline import run_stages

        run_stages(("index",))


@index_app.command("setup")
def setup(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Create the index, or bring it up to date: tantivy's folder and schema; on
    Elasticsearch the template, the aliases, a due rollover and the saved-search index."""
    from index import open_backend

    settings = _settings()
    backend = open_backend(settings)
    try:
        done = backend.setup()
    finally:
        backend.close()
    if as_json:
        typer.echo(json.dumps({"backend": backend.name, "done": done}))
        return
    for line in done:
        typer.echo(line)


@index_app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """The backend, index name(s), document count, size and last commit."""
    from index import open_backend

    backend = open_backend(_settings())
    try:
        found = backend.stats()
    finally:
        backend.close()
    if as_json:
        typer.echo(json.dumps(asdict(found), default=_iso))
        return
    _print_stats(found)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _print_stats(found: IndexStats) -> None:
    out = Console()
    when = found.last_commit.isoformat(timespec="seconds") if found.last_commit else "never"
    rows = [
        ("backend", found.backend),
        ("index", ", ".join(found.names)),
        ("documents", f"{found.documents:,}"),
        ("size", _size(found.size_bytes)),
        ("last commit", when),
        *((key, str(value)) for key, value in found.details.items()),
    ]
    for key, value in rows:
        out.print(f"[bold]{key:<20}[/bold] {escape(value)}", highlight=False, soft_wrap=True)


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"


@index_app.command("reindex")
def reindex(
    keep_old: Annotated[bool, typer.Option(help="Keep the old embedded index folder aside")] = True,
) -> None:
    """Rebuild the search index from the enriched topic (stop `chipwire run` first).

    The embedded index folder is moved aside (or removed), then every enriched article is
    read from the beginning (outside any consumer group) and indexed by id."""
    from index import open_backend
    from index.stage import IndexSink, index_runner

    settings = _settings()
    if settings.search == "tantivy" and settings.index_dir.exists():
        if keep_old:
            aside = settings.index_dir.with_name(f"index.old-{time.strftime('%Y%m%dT%H%M%S')}")
            settings.index_dir.rename(aside)
            console.print(f"old index moved to {aside}")
        else:
            shutil.rmtree(settings.index_dir)
    bus = open_bus(settings)
    backend = open_backend(settings)
    consumer = bus.reader([ENRICHED_TOPIC])
    try:
        runner = index_runner(consumer, IndexSink(backend, bus), bus, settings)
        with console.status("reindexing the enriched topic…"):
            handled = runner.drain(idle_s=2.0, timeout_s=24 * 3600)
        console.print(f"reindexed {handled} messages; the index holds {backend.count()} articles")
    finally:
        consumer.close()
        backend.close()
        bus.close()
