"""Elasticsearch-only behaviour that needs a real cluster (CHIPWIRE_ES_URL): layout and
reindexing through an alias swap while writes continue. Skipped without a cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chipwire.contract import EnrichedArticle
from index.backend import SearchRequest
from index.elastic import ElasticBackend
from index.percolator import PercolatorMatcher
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL, make_article

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
    assert list(aliases) == [f"{backend.alias}-v1-000001"]
    entry = aliases[f"{backend.alias}-v1-000001"]["aliases"]
    assert entry[backend.write_alias]["is_write_index"] is True
    assert backend.alias in entry
    backend.ensure_layout()  # idempotent: a second indexer starting changes nothing
    assert list(backend.client.indices.get_alias(name=f"{backend.alias}*").body) == list(aliases)


def test_reindex_moves_everything_and_writes_keep_working(backend: ElasticBackend) -> None:
    backend.upsert(notes(0, 50))
    assert backend.commit() == []
    new = backend.reindex_to(2)
    backend.upsert(notes(50, 10))
    assert backend.commit() == []
    assert new == f"{backend.alias}-v2-000001"
    assert backend.count() == 60
    assert backend.search(SearchRequest(query="tariff", limit=0)).total == 60
    aliases = backend.client.indices.get_alias(name=backend.alias).body
    assert list(aliases) == [new]


def test_after_a_rollover_updates_stay_in_their_index_and_reads_see_every_index() -> None:
    alias = f"chipwire-live-{uuid.uuid4().hex[:10]}"
    backend = ElasticBackend.connect(ES_URL, alias=alias, rollover_max_age="1ms")
    try:
        backend.upsert(notes(0, 5))
        assert backend.commit() == []
        done = backend.setup()  # past 1 ms: rolls over
        assert any(line.startswith("rolled over") for line in done), done
        assert backend.client.indices.get_alias(name=alias).body.keys() == {
            f"{alias}-v1-000001",
            f"{alias}-v1-000002",
        }
        later = [a.model_copy(update={"title": "Tariff note, updated"}) for a in notes(0, 5)]
        backend.upsert([*later, *notes(5, 3)])
        assert backend.commit() == []
        assert backend.count() == 8  # the updates replaced their documents in -000001
        per_index = backend.stats().details["documents_per_index"]
        assert per_index == {f"{alias}-v1-000001": 5, f"{alias}-v1-000002": 3}
        found = backend.get(later[0].id)
        assert found is not None and found.title == "Tariff note, updated"
    finally:
        backend.drop_all()
        backend.close()


def test_stats_names_the_layout_and_counts_documents(backend: ElasticBackend) -> None:
    backend.upsert(notes(0, 4))
    assert backend.commit() == []
    stats = backend.stats()
    assert stats.backend == "elasticsearch" and stats.documents == 4
    assert stats.names[:2] == [backend.alias, backend.write_alias]
    assert stats.details["write_index"] == f"{backend.alias}-v1-000001"
    assert stats.size_bytes > 0 and stats.last_commit is not None


SAVED = [
    "H200 AND customs",
    "chip:H200 AND stance:ease",
    '"export controls"',
    "licen* AND NOT huawei",
    "agency:CN:GAC OR agency:CN:MOFCOM",
]


def test_a_percolated_saved_search_matches_what_the_search_finds(
    backend: ElasticBackend, tmp_path: Path
) -> None:
    embedded = TantivyBackend(tmp_path / "index")  # the contract suite holds the two equal
    embedded.upsert(list(ALL))
    embedded.commit()
    backend.setup()
    for query in SAVED:
        backend.save_search(query)
    batch = list(ALL)
    matched = backend.percolate(batch)
    for query in SAVED:
        found = embedded.search(SearchRequest(query=query, limit=200, facets=False))
        assert matched.get(query, set()) == {hit.id for hit in found.hits}, query
    embedded.close()
    backend.forget_search(SAVED[0])
    backend.client.indices.refresh(index=f"{backend.alias}-saved-searches")
    assert SAVED[0] not in backend.percolate(batch)


def test_the_alerter_s_percolator_stores_queries_once_and_names_the_matches(
    backend: ElasticBackend, tmp_path: Path
) -> None:
    matcher = PercolatorMatcher(backend)
    embedded = TantivyBackend(tmp_path / "index")
    embedded.upsert(list(ALL))
    embedded.commit()
    queries = set(SAVED)
    for article in ALL:
        expected = {
            query
            for query in SAVED
            if article.id in {h.id for h in embedded.search(SearchRequest(query=query)).hits}
        }
        assert matcher.matching(queries, article) == expected, article.title
    assert matcher.matching(set(), ALL[0]) == set()
    embedded.close()
