"""Crawlers for tests on loopback servers: made with the test's settings, closed after each
test (its HTTP client and state database), and the raw articles it accepted."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import Executor

import pytest

from chipwire.contract import RawArticle
from chipwire.settings import Settings
from ingest import state
from ingest.crawl import Crawler
from ingest.fetch import make_client

_OPEN: list[Crawler] = []


def crawler(settings: Settings, extractor: Executor | None = None) -> Crawler:
    made = Crawler(settings, state.connect(settings.state_db), make_client(settings), extractor)
    _OPEN.append(made)
    return made


@pytest.fixture(autouse=True)
def close_crawlers() -> Iterator[None]:
    """Imported by a test module, it closes every crawler that module's tests made."""
    yield
    while _OPEN:
        made = _OPEN.pop()
        made.close()
        made.client.close()
        made.conn.close()


def raw_articles(conn: sqlite3.Connection) -> list[RawArticle]:
    """The accepted articles waiting in the outbox, in order."""
    rows = conn.execute("SELECT value FROM outbox ORDER BY seq").fetchall()
    return [RawArticle.model_validate_json(bytes(v)) for (v,) in rows]
