"""`chipwire tag`, `chipwire eval`, `chipwire reenrich`: the tagger from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, track

from chipwire.bus import RAW_TOPIC, open_bus
from chipwire.commands.failures import RUNTIME, UserError
from chipwire.contract import RawArticle
from chipwire.errors import Quarantine
from chipwire.settings import Settings

console = Console()
warnings = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("tag")(tag)
    app.command("eval")(evaluate)
    app.command("reenrich")(reenrich)


def tag(
    file: Annotated[str, typer.Argument(help="Text file to tag, or - for stdin")],
    title: Annotated[str, typer.Option(help="Headline (weighs most)")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    explain: Annotated[bool, typer.Option(help="Show matches, cues and decisions")] = False,
) -> None:
    """Tag one text: chips, companies, agencies, countries, policy signals, stance."""
    from enrich.tag import tag_text

    text = read_text(file)
    result = tag_text(text, title)
    if as_json:
        payload = result.to_json()
        if explain:
            payload = {**payload, "explain": result.explanation.to_json()}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from enrich.render import print_explanation, print_summary

    print_summary(console, result)
    if explain:
        print_explanation(console, result)


def read_text(file: str) -> str:
    """A text file (or stdin) as str: UTF-8 when it is, else the detected encoding;
    binary and empty input are refused with one line."""
    name = "standard input" if file == "-" else file
    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    text = decode_text(data, name)
    if not text.strip():
        raise UserError(f"{name} is empty: nothing to tag")
    return text


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise UserError(f"{name} looks binary (NUL bytes), not text: nothing to tag")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UserError(f"{name} is not text in any encoding chipwire recognises")
    return str(best)


def evaluate(
    which: Annotated[str, typer.Option("--set", help="dev | holdout | seeds | all")] = "all",
    real: Annotated[
        Path | None,
        typer.Option(help="Score the real-text set from this excerpt cache directory"),
    ] = None,
    split: Annotated[
        str,
        typer.Option(help="Real set split: test (and fresh) | fit | fresh | all"),
    ] = "test",
    labels: Annotated[
        Path | None, typer.Option(help="Real set labels directory (default: the shipped set)")
    ] = None,
    fit: Annotated[
        bool, typer.Option("--fit", help="Refit the stance decider and write its weights")
    ] = False,
    cv: Annotated[
        bool,
        typer.Option(
            "--cv/--no-cv",
            help="With --fit: first report grouped cross-validation on the fit split (minutes)",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    errors: Annotated[bool, typer.Option(help="List per-text errors (dev set only)")] = False,
) -> None:
    """Score the tagger on the labelled sets and the seed articles; --real scores the
    real-text set (enrich/realset) from its excerpt cache; --fit refits the decider."""
    from enrich.eval import EVALSETS, SEEDS, load_labelled, score_labelled, score_seeds

    if fit:
        _refit(real, cv)
        return
    if which not in ("dev", "holdout", "seeds", "all"):
        raise typer.BadParameter("--set must be dev, holdout, seeds or all")
    if split not in ("test", "fit", "all", "fresh"):
        raise typer.BadParameter("--split must be test, fit, fresh or all")
    results: dict[str, Any] = {}
    show_progress = not as_json and sys.stdout.isatty()
    if real is not None:
        results.update(_score_real(real, split, errors, labels, show_progress))
        if split == "test":  # the held-out events beside the test split
            fresh = _score_real(real, "fresh", errors, labels, show_progress, required=False)
            results.update(fresh)
    else:
        for name in ("dev", "holdout"):
            path = EVALSETS / ("devset.jsonl" if name == "dev" else "holdout.jsonl")
            if which in (name, "all") and path.exists():
                items = _progress(load_labelled(path), f"scoring the {name} set", show_progress)
                report = score_labelled(items, keep_errors=errors and name == "dev")
                results[name] = report.to_json()
                if report.errors:
                    results[name]["errors"] = report.errors
        if which in ("seeds", "all") and (SEEDS / "labels.json").exists():
            results["seeds"] = score_seeds(SEEDS)
    if not results:
        console.print("[yellow]nothing to score: no labelled files found[/]")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
        return
    from enrich.render import print_eval

    print_eval(console, results)


def _progress(
    items: list[dict[str, Any]], description: str, show: bool
) -> Iterable[dict[str, Any]]:
    """A rich progress bar over `items` on a terminal (gone once done); the items as they
    are otherwise (--json, or output to a pipe or file)."""
    if not show:
        return items
    return track(items, description=description, console=console, transient=True)


def _score_real(
    cache: Path,
    split: str,
    errors: bool,
    labels: Path | None,
    show_progress: bool = False,
    required: bool = True,
) -> dict[str, Any]:
    from enrich.eval import score_labelled
    from enrich.realset import LABELS_DIR, load_realset

    items, missing = load_realset(
        cache.expanduser(),
        split=split,  # type: ignore[arg-type]
        labels_dir=labels or LABELS_DIR,
    )
    if not items and not missing and not required:
        return {}
    if missing:
        warnings.print(
            f"[yellow]{len(missing)} labelled items have no cached excerpt in {cache} "
            "(enrich/realset/README.md says how to rebuild it); scored without them[/]"
        )
    if not items:
        warnings.print(f"[red]no cached excerpts for the {split} split in {cache}[/]")
        raise typer.Exit(1)
    results: dict[str, Any] = {}
    groups = {
        f"real-{split}": items,
        f"real-{split}-zh": [i for i in items if i.get("lang") == "zh"],
        f"real-{split}-other-languages": [i for i in items if i.get("lang") not in ("en", "zh")],
    }
    for name, group in groups.items():
        if group:
            shown = _progress(group, f"scoring {name}", show_progress)
            report = score_labelled(shown, keep_errors=errors, real=True)
            results[name] = report.to_json()
            if report.errors:
                results[name]["errors"] = report.errors
    return results


def _refit(cache: Path | None, cross_validate: bool) -> None:
    from enrich.fit import refit

    summary = refit(cache.expanduser() if cache else None, cross_validate=cross_validate)
    console.print(summary)


def reenrich(
    batch: Annotated[
        int, typer.Option(help="Messages read per poll, and published per wait")
    ] = 500,
    idle_s: Annotated[float, typer.Option(help="Stop after the raw topic is idle this long")] = 2.0,
) -> None:
    """Replay the raw topic from the beginning through the current taxonomy."""
    from datetime import timedelta

    from chipwire.errors import Retry
    from chipwire.events import decode
    from enrich import event_store
    from enrich.event_stage import EventSink
    from enrich.lexicon import load_lexicon
    from enrich.stage import EnrichSink

    settings = Settings()
    bus = open_bus(settings)
    events_conn = event_store.connect(settings.events_db)
    events = event_store.EventStore(events_conn, timedelta(hours=settings.event_window_h))
    sink = EnrichSink(bus, EventSink(bus, events))  # tagged and filed in this process
    reader = bus.reader([RAW_TOPIC])  # no consumer group: nothing to join, nothing to keep
    latest: dict[str, RawArticle] = {}
    read = skipped = failed = unpublished = 0
    try:
        # an empty poll with records unread is a fetch parked below kafka_fetch_min_bytes
        while (batch_messages := reader.poll(batch, idle_s)) or reader.unread():
            for message in batch_messages:
                read += 1
                try:
                    raw = decode(message, RawArticle)
                except Quarantine as exc:
                    skipped += 1
                    console.print(f"[yellow]skipped an invalid raw message: {escape(str(exc))}[/]")
                    continue
                latest.pop(raw.id, None)
                latest[raw.id] = raw  # a later version of an article replaces the earlier
        articles = list(latest.values())
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("re-enriching", total=len(articles))
            for start in range(0, len(articles), batch):
                chunk = articles[start : start + batch]
                for raw in chunk:  # each one goes out while the next is tagged
                    try:
                        sink.enrich(raw)
                    except Exception as exc:  # one article must not end the replay
                        failed += 1
                        why = escape(f"{type(exc).__name__}: {exc}")
                        console.print(f"[yellow]could not re-enrich {raw.id}: {why}[/]")
                try:
                    sink.flush()  # one wait for the chunk
                except (Retry, Quarantine) as exc:
                    unpublished += len(chunk)
                    console.print(f"[yellow]{len(chunk)} articles not published: {exc}[/]")
                progress.advance(task, len(chunk))
    finally:
        reader.close()
        bus.close()
        events_conn.close()
    if unpublished:
        raise UserError(
            f"{unpublished} of {len(latest)} re-enriched articles may not be published (the "
            "bus refused them or was unreachable); run reenrich again",
            RUNTIME,
        )
    console.print(
        f"re-enriched {len(latest) - failed} articles ({read} raw messages, {skipped} invalid, "
        f"{failed} the tagger failed on) with enrichment_version {load_lexicon().version}"
    )
