"""`chipwire run|demo|crawl|enrich|events|alert|tail|serve`: the commands that move articles
(`chipwire index`, the index stage, lives with the index's commands in indexing.py)."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import socket
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
from rich.text import Text

from chipwire.bus import (
    ALERTS_TOPIC,
    DLQ_TOPIC,
    ENRICHED_TOPIC,
    RAW_TOPIC,
    TAGGED_TOPIC,
    TOPICS,
    open_bus,
)
from chipwire.commands.failures import (
    UserError,
    clean,
    did_you_mean,
)
from chipwire.settings import Settings

console = Console(stderr=True)
log = logging.getLogger("chipwire.run")
GRACE_S = 3.0  # after SIGTERM/SIGINT: finish the batch in hand, then stop now
TOPIC_ALIASES = {
    "raw": RAW_TOPIC,
    "tagged": TAGGED_TOPIC,
    "enriched": ENRICHED_TOPIC,
    "alerts": ALERTS_TOPIC,
    "dlq": DLQ_TOPIC,
}


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(demo)
    for stage in ("crawl", "enrich", "events", "alert"):  # `index` is a group: commands/indexing.py
        app.command(name=stage, help=f"Run only the {stage} stage (for one service per stage).")(
            _stage_command(stage)
        )
    app.command()(tail)
    app.command()(serve)


def _settings() -> Settings:
    """Settings from file and environment (a bad one is one line, exit 2), logging set up."""
    from chipwire.cli import setup_logging

    settings = Settings()
    setup_logging(settings.log_level, settings.log_format)
    return settings


def run() -> None:
    """Run every stage in one process: poll feeds on schedule, tag, index, alert.

    Ctrl-C (SIGINT) or SIGTERM stops cleanly: the batch in hand is finished and committed.
    """
    run_stages(("crawl", "enrich", "events", "index", "alert"))


def _stage_command(stage: str) -> Any:
    def command() -> None:
        run_stages((stage,))

    command.__doc__ = f"Run only the {stage} stage."
    return command


class Shutdown:
    """What the signal handlers do: set events, nothing else (no I/O, no locks).

    The first SIGINT/SIGTERM sets `stop`: every stage finishes and commits the batch in
    hand. A second one, or `GRACE_S` passing, sets `now`: the process exits as soon as the
    stages have committed, without waiting for a crawl in progress (what it accepted is in
    the outbox already; what it had not accepted is fetched again at the next start)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.now = threading.Event()
        self.signals: list[int] = []

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signum)
        if self.stop.is_set():
            self.now.set()
        self.stop.set()

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)


def run_stages(stages: tuple[str, ...]) -> None:
    from chipwire.runner import run_forever

    settings = _settings()
    if "index" in stages:
        check_http_port(settings)
    shutdown = Shutdown()
    shutdown.install()
    failed: list[BaseException] = []
    committed = threading.Event()

    def pipeline() -> None:
        try:
            run_forever(settings, shutdown.stop, stages, committed)
        except BaseException as exc:
            failed.append(exc)
            shutdown.stop.set()

    worker = threading.Thread(target=pipeline, name="pipeline")
    worker.start()
    shutdown.stop.wait()
    if shutdown.signals:
        name = signal.Signals(shutdown.signals[0]).name
        log.info("%s: stopping cleanly (a second signal stops now)", name)
    deadline = time.monotonic() + GRACE_S
    while worker.is_alive() and not shutdown.now.is_set() and time.monotonic() < deadline:
        worker.join(timeout=0.1)
    if failed:
        raise failed[0]
    if worker.is_alive():
        committed.wait(timeout=max(0.5, deadline + 0.5 - time.monotonic()))
        log.warning(
            "stopping now: stage batches are committed; a crawl in progress is abandoned "
            "(its accepted articles wait in the outbox)"
        )
        logging.shutdown()
        os._exit(0)


def check_http_port(settings: Settings) -> None:
    """Fail at start, in one line, when the API cannot be served as configured."""
    if not settings.http_port:
        log.info("http_port = 0: no search API, /healthz or /metrics in this process")
        return
    if not settings.api_token and not _is_loopback(settings.http_host):
        raise UserError(
            f"http_host = {settings.http_host!r} exposes the API beyond this machine: set "
            "api_token (clients then send 'Authorization: Bearer <token>'), or bind 127.0.0.1"
        )
    family = socket.AF_INET6 if ":" in settings.http_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((settings.http_host, settings.http_port))
        except OSError as exc:
            why = "is taken" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
            raise UserError(
                f"http port {settings.http_host}:{settings.http_port} {why}: stop the other "
                "process, choose another http_port, or set http_port = 0 to run without the API"
            ) from exc


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve() -> None:
    """Serve the web page (/) and the API (/api/…, /docs, /healthz, /metrics) alone."""
    import uvicorn

    from chipwire import heap
    from chipwire.web import create_web_app

    settings = _settings()
    if not settings.http_port:
        raise UserError("http_port = 0: nothing to serve; set http_port")
    check_http_port(settings)
    from chipwire.runner import watch_index_size

    watch_index_size(settings)
    app = create_web_app(settings)
    heap.settle()
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        log_config=None,  # uvicorn logs through chipwire's handler, in its format
    )


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's state here (default: a temp dir, removed after)"),
    ] = None,
) -> None:
    """The whole pipeline offline: a loopback server with sample articles, polled once and
    drained; prints what was ingested, a search, the policy state table and the alerts."""
    from chipwire.demo.run import run_demo

    with tempfile.TemporaryDirectory(prefix="chipwire-demo-") as tmp:
        result = run_demo(data_dir or Path(tmp), quiet=as_json)
    if data_dir is not None and not as_json:
        console.print(
            Text(
                f"the demo's state is kept in {data_dir}: try "
                f"CHIPWIRE_DATA_DIR={data_dir} chipwire search H200"
            )
        )
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
    name = TOPIC_ALIASES.get(topic, topic)
    if name not in TOPICS:
        known = [*TOPIC_ALIASES, *TOPICS]
        raise UserError(
            f"no topic {topic!r}{did_you_mean(topic, known)}; use raw, enriched, alerts, dlq "
            "or a full topic name"
        )
    settings = _settings()
    bus = open_bus(settings)
    consumer = (
        bus.consumer(group, [name], from_beginning=from_beginning)
        if group
        else bus.reader([name], from_beginning=from_beginning)
    )
    out = Console()
    try:
        while True:
            batch = consumer.poll(100, 1.0)
            for message in batch:
                _print_message(out, message.value, as_json)
            if group:
                consumer.commit()
            if not batch and not follow and consumer.unread() == 0:  # not a parked fetch
                return
    except KeyboardInterrupt:
        return
    finally:
        consumer.close()
        bus.close()


def _print_message(out: Console, value: bytes, as_json: bool) -> None:
    """One message, one line. Feed text is data, never markup or terminal control."""
    if not value:
        out.print(Text("(tombstone: the key was deleted)", style="dim"))
        return
    try:
        body = json.loads(value)
    except ValueError:
        out.print(Text(f"(not JSON: {len(value)} bytes)", style="dim"))
        return
    if as_json:  # ASCII-escaped JSON cannot carry a terminal escape
        sys.stdout.write(json.dumps(body, ensure_ascii=True) + "\n")
        sys.stdout.flush()
        return
    if not isinstance(body, dict):
        out.print(Text(clean(str(body))))
        return
    line = Text()
    if "subject" in body and "current" in body:
        line.append("SHIFT", style="bold red")
        line.append(
            clean(
                f" {body.get('jurisdiction')} on {body.get('subject')}: "
                f"{body.get('previous')} → {body.get('current')}  {body.get('title', '')}"
            )
        )
        out.print(line)
        return
    tags = body.get("tags") or {}
    chips = ",".join(str(c.get("id", "")) for c in tags.get("chips", []) if isinstance(c, dict))
    source = body.get("source") or {}
    parts = [
        (str(body.get("published_at") or "")[:10], "dim"),
        (str(body.get("title", "")), "bold"),
        (str(body.get("stance", "")), "cyan"),
        (f"{body.get('acting_jurisdiction') or ''} {chips} ", ""),
        (str(source.get("name", "") if isinstance(source, dict) else ""), "dim"),
    ]
    for text, style in parts:
        line.append(" ".join(clean(text).split()) + " ", style=style)
    out.print(line, soft_wrap=True)


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    console.print(table)
