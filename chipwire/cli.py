"""The `chipwire` command: the composition root that wires stages to a bus and backends.

Each command group lives in chipwire/commands/<group>.py and exposes `register(app)`.
"""

from __future__ import annotations

import importlib
import logging

import typer

app = typer.Typer(
    help="Semiconductor-policy news: feeds → tags → topic stream → search and alerts.",
    no_args_is_help=True,
    add_completion=False,
)

COMMAND_MODULES = [
    "chipwire.commands.pipeline",  # run, demo, crawl, enrich, index, alert, tail
    "chipwire.commands.tagging",  # tag, eval, reenrich
    "chipwire.commands.search",  # search
    "chipwire.commands.stream",  # topics, dlq
    "chipwire.commands.sources",  # sources status
]

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name).register(app)
    except ModuleNotFoundError as exc:  # a group still being built must not break the others
        if exc.name != _name:
            raise


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    app()
