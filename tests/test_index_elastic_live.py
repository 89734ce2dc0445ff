"""Elasticsearch-only behaviour that needs a real cluster (CHIPWIRE_ES_URL): layout and
reindexing through an alias swap while writes continue. Skipped without a cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chipwire.contract import EnrichedArticle
from index.backend import SearchRequest
from index.elastic import ElasticBackend
from tests.test_search_samples import make_article

ES_URL = os.environ.get("CHIPWIRE_ES_URL", "")
pytestmark = [
    pytest.mark.es,
    pytest.mark.skipif(not ES_URL, reason="needs CHIPWIRE_ES_URL (a live Elasticsearch)"),
]


@pytest.fixture
def backend() -> Iterator[ElasticBackend]:
    live = ElasticBackend.connect(ES_URL, alias=f"chipwire-live-{uuid.uuid4().hex[:10]}")
    yield live
    live.drop_all()
    live.close()


def notes(start: int, count: int) -> list[EnrichedArticle]:
    when = datetime(2026, 1, 5, tzinfo=UTC)
    return [
        make_article(f"note-{i}", f"Tariff note {i}", "tariff schedule change", published=when)
        for i in range(start, start + count)
    ]


def test_setup_creates_a_versioned_index_behind_both_aliases(backend: ElasticBackend) -> None:
    aliases = backend.client.indices.get_alias(name=f"{backend.alias}*").body
    assert list(aliases) == [f"{backend.alias}-v1"]
    entry = aliases[f"{backend.alias}-v1"]["aliases"]
    assert entry[backend.write_alias]["is_write_index"] is True
    assert backend.alias in entry
    backend.setup()  # idempotent: a second indexer starting changes nothing
    assert list(backend.client.indices.get_alias(name=f"{backend.alias}*").body) == list(aliases)


def test_reindex_moves_everything_and_writes_keep_working(backend: ElasticBackend) -> None:
    backend.upsert(notes(0, 50))
    assert backend.commit() == []
    new = backend.reindex_to(2)
    backend.upsert(notes(50, 10))
    assert backend.commit() == []
    assert new == f"{backend.alias}-v2"
    assert backend.count() == 60
    assert backend.search(SearchRequest(query="tariff", limit=0)).total == 60
    aliases = backend.client.indices.get_alias(name=backend.alias).body
    assert list(aliases) == [new]
