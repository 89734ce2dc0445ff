"""`chipwire run|demo|crawl|enrich|index|alert|tail`: the commands that move articles."""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chipwire.bus import ALERTS_TOPIC, DLQ_TOPIC, ENRICHED_TOPIC, RAW_TOPIC, open_bus
from chipwire.settings import Settings
from ingest.sources import SourcesError

console = Console(stderr=True)
TOPIC_ALIASES = {
    "raw": RAW_TOPIC,
    "enriched": ENRICHED_TOPIC,
    "alerts": ALERTS_TOPIC,
    "dlq": DLQ_TOPIC,
}


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(demo)
    for stage in ("crawl", "enrich", "index", "alert"):
        app.command(name=stage, help=f"Run only the {stage} stage (for one service per stage).")(
            _stage_command(stage)
        )
    app.command()(tail)
    app.command()(serve)
    app.command()(reindex)


def _settings() -> Settings:
    from chipwire.cli import setup_logging

    try:
        settings = Settings()
    except Exception as exc:
        console.print(f"[red]bad configuration:[/red] {exc}")
        raise typer.Exit(2) from exc
    setup_logging(settings.log_level)
    return settings


def run() -> None:
    """Run every stage in one process: poll feeds on schedule, tag, index, alert.

    Ctrl-C (SIGINT) or SIGTERM stops cleanly: the batch in hand is finished and committed.
    """
    _run_stages(("crawl", "enrich", "index", "alert"))


def _stage_command(stage: str) -> Any:
    def command() -> None:
        _run_stages((stage,))

    command.__doc__ = f"Run only the {stage} stage."
    return command


def _run_stages(stages: tuple[str, ...]) -> None:
    from chipwire.runner import run_forever

    settings = _settings()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        console.print(f"signal {signal.Signals(signum).name}: stopping cleanly…")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        run_forever(settings, stop, stages)
    except SourcesError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def serve() -> None:
    """Serve only the search API (/api/search, /api/articles/ID, /healthz, /metrics)."""
    import uvicorn

    from alerts.web import create_router as alerts_router
    from index import open_backend
    from index.api import create_app

    settings = _settings()
    app = create_app(lambda: open_backend(settings))
    app.include_router(alerts_router(settings))  # /api/alerts…, /alerts/timeline/…
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_level="info")


def reindex(
    keep_old: Annotated[bool, typer.Option(help="Keep the old embedded index folder aside")] = True,
) -> None:
    """Rebuild the search index from the enriched topic (stop `chipwire run` first).

    The embedded index folder is moved aside (or removed), then every enriched article is
    read from the beginning with a one-off consumer group and indexed by id."""
    import shutil

    from chipwire.stage import StageRunner
    from index import open_backend
    from index.stage import IndexSink

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
    consumer = bus.consumer(f"chipwire-reindex-{time.time_ns()}", [ENRICHED_TOPIC])
    try:
        runner = StageRunner(consumer, IndexSink(backend, bus), bus)
        handled = runner.drain(idle_s=2.0, timeout_s=24 * 3600)
        console.print(f"reindexed {handled} messages; the index holds {backend.count()} articles")
    finally:
        consumer.close()
        backend.close()
        bus.close()


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the demo's state here (default: a temp dir)")
    ] = None,
) -> None:
    """The whole pipeline offline: a loopback server with sample articles, polled once and
    drained; prints what was ingested, a search, the policy state table and the alerts."""
    from chipwire.demo.run import run_demo

    with tempfile.TemporaryDirectory(prefix="chipwire-demo-") as tmp:
        result = run_demo(data_dir or Path(tmp), quiet=as_json)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")


def tail(
    topic: Annotated[
        str, typer.Option(help="raw | enriched | alerts | dlq, or a topic name")
    ] = "enriched",
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the first message")
    ] = False,
    group: Annotated[str | None, typer.Option(help="Consumer group (commits as it reads)")] = None,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Keep waiting for new messages")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each message body as JSON")
    ] = False,
) -> None:
    """Print a topic's messages (the enriched stream by default), on Kafka or the embedded log."""
    settings = _settings()
    bus = open_bus(settings)
    name = TOPIC_ALIASES.get(topic, topic)
    consumer = bus.consumer(
        group or f"chipwire-tail-{time.time_ns()}", [name], from_beginning=from_beginning
    )
    out = Console()
    try:
        while True:
            batch = consumer.poll(100, 1.0)
            for message in batch:
                _print_message(out, message.value, as_json)
            if group:
                consumer.commit()
            if not batch and not follow:
                return
    except KeyboardInterrupt:
        return
    finally:
        consumer.close()
        bus.close()


def _print_message(out: Console, value: bytes, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(value.decode("utf-8") + "\n")
        sys.stdout.flush()
        return
    body = json.loads(value)
    if "subject" in body and "current" in body:
        out.print(
            f"[bold red]SHIFT[/] {body['jurisdiction']} on {body['subject']}: "
            f"{body['previous']} → {body['current']}  {body['title']}"
        )
        return
    stance = body.get("stance", "")
    tags = body.get("tags", {})
    chips = ",".join(c["id"] for c in tags.get("chips", []))
    out.print(
        f"[dim]{(body.get('published_at') or '')[:10]}[/] [bold]{body.get('title', '')}[/] "
        f"[cyan]{stance}[/] {body.get('acting_jurisdiction') or ''} {chips}  "
        f"[dim]{body.get('source', {}).get('name', '')}[/]"
    )


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    console.print(table)
