"""`chipwire sources …`: the sources file, read and edited.

`list` and `export` read the sources file; `add`, `remove`, `enable`, `disable` and
`import` edit it (ingest/sources_file.py: comments kept, validated, replaced atomically;
a running `chipwire run` takes the change at its next tick). `status` and `check`
(feed health, and one feed fetched as the crawler would) live in feed_health.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chipwire.commands import feed_health
from chipwire.settings import Settings
from ingest.opml import read_opml, write_opml
from ingest.sources import Source, SourcesError, load_all_sources
from ingest.sources_file import SourcesFile, new_id

out = Console()
err = Console(stderr=True)
sources_app = typer.Typer(help="Feed sources and their health.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    feed_health.attach(sources_app)
    app.add_typer(sources_app, name="sources")


def fail(message: str, code: int = 2) -> typer.Exit:
    """One line on stderr; the exit to raise (2: a usage or configuration mistake)."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@sources_app.command("list")
def list_sources(
    official: Annotated[
        bool, typer.Option("--official", help="Only government publishers (official: true)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per source")] = False,
) -> None:
    """Every source in the sources file, disabled ones too; official ones are marked."""
    settings = Settings()
    sources = _all_sources()
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


@sources_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The feed, API endpoint or listing page (http/https)")],
    source_id: Annotated[str, typer.Option("--id", help="Stable id; default: from the name")] = "",
    name: Annotated[str, typer.Option(help="Display name; default: the host")] = "",
    kind: Annotated[
        Literal["feed", "federal_register"], typer.Option(help="How its documents are listed")
    ] = "feed",
    official: Annotated[bool, typer.Option("--official", help="A government publisher")] = False,
    agency: Annotated[str, typer.Option(help="Taxonomy id of its agency, e.g. CN:MOFCOM")] = "",
    language: Annotated[str, typer.Option(help="ISO 639-1 code of its documents")] = "",
    interval: Annotated[
        float | None, typer.Option(help="Shortest seconds between polls (its floor)")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off")] = False,
) -> None:
    """Add a source to your sources file (html_list sources need selectors: edit the file)."""
    edited = _open()
    taken = {s.id for s in edited.sources()}
    fields: dict[str, object] = {
        "id": source_id or new_id(name, url, taken),
        "name": name or (url.split("//", 1)[-1].split("/", 1)[0] or url),
        "feed": url,
        "kind": kind,
        "official": official,
        "agency": agency or None,
        "language": language or None,
        "poll_interval_s": interval,
        "enabled": not disabled,
    }
    try:
        source = Source.model_validate(fields)
        edited.add(source)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "source"
        raise fail(f"{where}: {first['msg']}") from exc
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    _save(edited, f"added {source.id} ({source.feed})")


@sources_app.command("remove")
def remove(source_id: Annotated[str, typer.Argument(help="The source's id")]) -> None:
    """Remove a source from your sources file (its state stays until you delete it)."""
    edited = _open()
    try:
        edited.remove(source_id)
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    _save(edited, f"removed {source_id}")


@sources_app.command("enable")
def enable(source_id: Annotated[str, typer.Argument(help="The source's id")]) -> None:
    """Poll a source again."""
    _switch(source_id, True)


@sources_app.command("disable")
def disable(source_id: Annotated[str, typer.Argument(help="The source's id")]) -> None:
    """Keep a source in the file without polling it."""
    _switch(source_id, False)


def _switch(source_id: str, enabled: bool) -> None:
    edited = _open()
    word = "enabled" if enabled else "disabled"
    try:
        changed = edited.set_enabled(source_id, enabled)
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    if not changed:
        out.print(f"{source_id} was already {word}", highlight=False)
        return
    _save(edited, f"{word} {source_id}")


@sources_app.command("import")
def import_opml(
    path: Annotated[Path, typer.Argument(help="An OPML file (1.0 or 2.0)", dir_okay=False)],
) -> None:
    """Add the feeds of an OPML file; feeds already present (same canonical URL) are skipped."""
    edited = _open()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        imported = read_opml(data, edited.sources(), where=str(path))
        edited.add(*imported.added)
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    for line in imported.invalid:
        err.print(f"[yellow]skipped:[/yellow] {escape(line)}", highlight=False, soft_wrap=True)
    summary = (
        f"imported {len(imported.added)} source(s) from {path}; "
        f"{len(imported.duplicates)} already present, {len(imported.invalid)} invalid"
    )
    if imported.added:
        _save(edited, summary)
    else:
        out.print(summary, highlight=False)


@sources_app.command("export")
def export(
    opml: Annotated[bool, typer.Option("--opml", help="OPML 2.0 instead of YAML")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout")
    ] = None,
) -> None:
    """Every source (disabled ones too), as a sources file or as OPML."""
    sources = _all_sources()
    if opml:
        data = write_opml(sources)
    else:
        entries = [s.model_dump(mode="json", exclude_defaults=True) for s in sources]
        data = yaml.safe_dump(
            {"sources": entries}, allow_unicode=True, sort_keys=False, width=4096
        ).encode()
    if output is None:
        typer.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        err.print(f"wrote {len(sources)} source(s) to {output}", highlight=False)


def _all_sources() -> list[Source]:
    """Every source in the configured sources file, disabled ones too."""
    try:
        return load_all_sources(Settings().sources_file)
    except SourcesError as exc:
        raise fail(str(exc)) from exc


def _open() -> SourcesFile:
    try:
        return SourcesFile.open(Settings())
    except SourcesError as exc:
        raise fail(str(exc)) from exc


def _save(edited: SourcesFile, done: str) -> None:
    try:
        edited.save()
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise fail(f"cannot write {edited.path}: {exc.strerror or exc}") from exc
    out.print(f"{done} in {edited.path}", highlight=False, soft_wrap=True)
    if edited.created:
        out.print(
            f"{edited.path} was made from the shipped list; chipwire uses it from now on "
            "(unless sources_file names another): restart a running chipwire",
            highlight=False,
            soft_wrap=True,
        )
