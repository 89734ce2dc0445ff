"""The `chipwire` command: the composition root that wires stages to a bus and backends.

Each command group lives in chipwire/commands/<group>.py and exposes `register(app)`.
Every exception that escapes a command becomes one line and an exit code
(chipwire/commands/failures.py): 2 for usage and configuration, 1 at run time.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from chipwire.commands.failures import describe

log = logging.getLogger("chipwire")


class OneLineErrors(TyperGroup):
    """Runs a subcommand; whatever it raises is shown as one escaped line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # typer's own usage errors and exits already speak in one line
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:
            failure = describe(exc)
            log.debug("command failed", exc_info=exc)
            Console(stderr=True).print(
                f"[red]error:[/red] {escape(failure.message)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(failure.code) from None


app = typer.Typer(
    cls=OneLineErrors,
    help="Semiconductor-policy news: feeds → tags → topic stream → search and alerts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = [
    "chipwire.commands.pipeline",  # run, demo, crawl, enrich, alert, tail, serve
    "chipwire.commands.indexing",  # index (the stage) and index setup|stats|reindex
    "chipwire.commands.tagging",  # tag, eval, reenrich
    "chipwire.commands.search",  # search
    "chipwire.commands.stream",  # topics, dlq
    "chipwire.commands.alerts",  # alerts list|show|state|timeline|preview|backtest
    "chipwire.commands.sources",  # sources status
]

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name).register(app)
    except ModuleNotFoundError as exc:  # a group still being built must not break the others
        if exc.name != _name:
            raise

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# apscheduler: 2 INFO lines per tick otherwise. kafka-python: a dozen lines per failed
# connection attempt; chipwire logs the outcome of each Kafka operation itself, and
# log_level = "DEBUG" shows the client's own lines again.
QUIET_LOGGERS = {"apscheduler": logging.WARNING, "kafka": logging.CRITICAL}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message (and the traceback)."""

    converter = time.gmtime  # type: ignore[assignment]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_formatter(log_format: str = "text") -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record arrives: a thread that outlives one
    command (an SMTP or HTTP server in tests, a redirected stream) never writes to a
    stream that was closed since."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(level: str, log_format: str = "text") -> None:
    """Configure the root logger once; uvicorn's loggers use the same handler."""
    handler = StderrHandler()
    handler.setFormatter(log_formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(root.level if root.level <= logging.DEBUG else quiet)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers = []
        uv.propagate = True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn keeps its loggers but sends them through the root handler (one format)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            "uvicorn": {"level": "INFO", "propagate": True},
            "uvicorn.error": {"level": "INFO", "propagate": True},
            "uvicorn.access": {"level": "WARNING", "propagate": True},
        },
    }


def main() -> None:
    app()
