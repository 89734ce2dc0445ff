"""One contract for every search backend: what an analyst and the indexer can rely on.

Runs against the embedded tantivy index always, and against Elasticsearch when
CHIPWIRE_ES_URL points at a live cluster (e.g. `docker compose up elasticsearch`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.backend import SearchBackend, SearchRequest, SearchResponse
from index.query import QueryError
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import (
    ALL,
    APPROVAL,
    CUSTOMS,
    DUTCH,
    EARNINGS,
    LITHO,
    MIXED,
    make_article,
)

ES_URL = os.environ.get("CHIPWIRE_ES_URL", "")


@pytest.fixture(params=["tantivy", pytest.param("elasticsearch", marks=pytest.mark.es)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    if request.param == "tantivy":
        embedded = TantivyBackend(tmp_path / "index")
        yield embedded
        embedded.close()
        return
    if not ES_URL:
        pytest.skip("Elasticsearch contract tests need CHIPWIRE_ES_URL (a live cluster)")
    from index.elastic import ElasticBackend

    remote = ElasticBackend.connect(ES_URL, alias=f"chipwire-test-{uuid.uuid4().hex[:10]}")
    yield remote
    remote.drop_all()
    remote.close()


@pytest.fixture
def loaded(backend: SearchBackend) -> SearchBackend:
    backend.upsert(list(ALL))
    assert backend.commit() == []
    return backend


def ids(response: SearchResponse) -> set[str]:
    return {hit.id for hit in response.hits}


def search(backend: SearchBackend, query: str = "", **filters: object) -> set[str]:
    return ids(backend.search(SearchRequest.model_validate({"query": query, **filters})))


def facet(response: SearchResponse, name: str) -> dict[str, int]:
    return {bucket["key"]: bucket["count"] for bucket in response.facets[name]}


# idempotence


def test_reindexing_the_same_id_keeps_one_document(backend: SearchBackend) -> None:
    backend.upsert([CUSTOMS])
    backend.commit()
    backend.upsert([CUSTOMS])
    backend.commit()
    assert backend.count() == 1


def test_a_new_version_replaces_the_old_one(backend: SearchBackend) -> None:
    backend.upsert([CUSTOMS])
    backend.commit()
    revised = CUSTOMS.model_copy(
        update={
            "title": "Port halt on accelerators lifted",
            "stance": "ease",
            "enrichment_version": "test-2",
        }
    )
    backend.upsert([revised])
    backend.commit()
    assert backend.count() == 1
    assert backend.get(CUSTOMS.id) == revised
    assert search(backend, "title:lifted") == {CUSTOMS.id}
    assert search(backend, "title:southern") == set()
    assert search(backend, stance=["restrict"]) == set()


def test_two_versions_in_one_batch_keep_the_last(backend: SearchBackend) -> None:
    revised = CUSTOMS.model_copy(update={"title": "Second take", "enrichment_version": "t2"})
    backend.upsert([CUSTOMS, revised])
    backend.commit()
    assert backend.count() == 1
    stored = backend.get(CUSTOMS.id)
    assert stored is not None and stored.title == "Second take"


def test_get_returns_the_whole_article_or_none(loaded: SearchBackend) -> None:
    assert loaded.get(LITHO.id) == LITHO
    assert loaded.get(EARNINGS.id) == EARNINGS
    assert loaded.get("no-such-id") is None


# query syntax


def test_boolean_operators(loaded: SearchBackend) -> None:
    assert search(loaded, "H200 AND customs") == {CUSTOMS.id}
    assert search(loaded, "H200 customs") == {CUSTOMS.id}  # juxtaposition means AND
    assert search(loaded, "lithography OR ultraviolet") == {LITHO.id, DUTCH.id}
    assert search(loaded, "H200 AND NOT customs") == {APPROVAL.id}
    assert search(loaded, "H200 -customs") == {APPROVAL.id}
    assert search(loaded, "(H200 OR H20) AND NOT cloud") == {CUSTOMS.id, MIXED.id}
    everything_but_h200 = {a.id for a in ALL} - {CUSTOMS.id, APPROVAL.id}
    assert search(loaded, "NOT H200", limit=50) == everything_but_h200


def test_phrases_and_proximity(loaded: SearchBackend) -> None:
    assert search(loaded, '"immersion scanners"') == {LITHO.id}
    assert search(loaded, '"scanners immersion"') == set()
    assert search(loaded, '"granted licences"~2') == {DUTCH.id}


def test_stemming_matches_word_forms(loaded: SearchBackend) -> None:
    assert search(loaded, "approve") >= {APPROVAL.id}
    assert search(loaded, "licence") == {LITHO.id, DUTCH.id, MIXED.id}


def test_field_queries(loaded: SearchBackend) -> None:
    assert search(loaded, "chip:H200") == {CUSTOMS.id, APPROVAL.id}
    assert search(loaded, "chip:h200") == {CUSTOMS.id, APPROVAL.id}  # ids ignore case
    assert search(loaded, "agency:CN:GAC") == {CUSTOMS.id}
    assert search(loaded, 'agency:"US:BIS"') == {LITHO.id, MIXED.id}
    assert search(loaded, "company:ASML") == {LITHO.id, DUTCH.id}
    assert search(loaded, "country:NL AND stance:ease") == {DUTCH.id}
    assert search(loaded, "stance:restrict") == {CUSTOMS.id, LITHO.id}
    assert search(loaded, "jurisdiction:us") == {LITHO.id, MIXED.id}
    assert search(loaded, "title:licences") == {DUTCH.id}
    assert search(loaded, "title:(H200 OR H20)") == {CUSTOMS.id, APPROVAL.id, MIXED.id}
    assert search(loaded, "source:markets") == {EARNINGS.id}


def test_wildcards_and_fuzzy(loaded: SearchBackend) -> None:
    assert search(loaded, "lithograph*") == {LITHO.id}
    assert search(loaded, "licence*") == {LITHO.id, DUTCH.id, MIXED.id}  # stems match too
    assert search(loaded, "chip:H2*") == {CUSTOMS.id, APPROVAL.id, MIXED.id}
    assert search(loaded, "shenzh?n") == {CUSTOMS.id}
    assert search(loaded, "custms~2") >= {CUSTOMS.id, LITHO.id}


def test_bad_query_raises_a_query_error(loaded: SearchBackend) -> None:
    with pytest.raises(QueryError, match="quote"):
        loaded.search(SearchRequest(query='"H200 AND customs'))
    with pytest.raises(QueryError, match="unknown field"):
        loaded.search(SearchRequest(query="colour:blue"))


def test_empty_query_matches_everything(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(limit=50))
    assert response.total == len(ALL)
    assert ids(response) == {a.id for a in ALL}


# filters


def test_tag_filters_and_across_fields_or_within(loaded: SearchBackend) -> None:
    assert search(loaded, chips=["H200"], countries=["US"]) == {CUSTOMS.id}
    assert search(loaded, companies=["alibaba", "asml"]) == {APPROVAL.id, LITHO.id, DUTCH.id}
    assert search(loaded, agencies=["US:BIS"], chips=["H20"]) == {MIXED.id}
    assert search(loaded, "customs", companies=["asml"]) == {LITHO.id}


def test_stance_jurisdiction_and_relevance_filters(loaded: SearchBackend) -> None:
    assert search(loaded, stance=["ease"]) == {APPROVAL.id, DUTCH.id}
    assert search(loaded, stance=["ease", "mixed"]) == {APPROVAL.id, DUTCH.id, MIXED.id}
    assert search(loaded, jurisdiction=["CN"]) == {CUSTOMS.id, APPROVAL.id}
    assert EARNINGS.id not in search(loaded, min_relevance=0.5, limit=50)
    assert len(search(loaded, min_relevance=0.5, limit=50)) == len(ALL) - 1


def test_date_range_uses_published_then_fetched(loaded: SearchBackend) -> None:
    window = {
        "since": datetime(2026, 1, 20, tzinfo=UTC),
        "until": datetime(2026, 1, 28, tzinfo=UTC),
    }
    assert search(loaded, **window) == {LITHO.id, MIXED.id}
    # EARNINGS has no published date: its fetch date (5 Feb) counts
    assert search(loaded, since=datetime(2026, 2, 3, tzinfo=UTC)) == {EARNINGS.id}


# results


def test_snippets_highlight_the_matched_terms(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(query="customs AND notice"))
    [hit] = response.hits
    assert "<b>customs</b>" in hit.snippet.html.lower()
    assert "<b>notice</b>" in hit.snippet.html.lower()
    assert "<b>" not in hit.snippet.text and "customs" in hit.snippet.text
    assert hit.title == CUSTOMS.title and hit.source == "Harbour News"
    assert hit.stance == "restrict" and hit.acting_jurisdiction == "CN"
    assert [c.id for c in hit.tags.chips] == ["H200"]


def test_snippets_escape_markup_from_the_article(backend: SearchBackend) -> None:
    hostile = make_article(
        "markup",
        "Tariff note",
        "A tariff <script>alert(1)</script> note about tariff rules.",
        published=datetime(2026, 1, 2, tzinfo=UTC),
    )
    backend.upsert([hostile])
    backend.commit()
    [hit] = backend.search(SearchRequest(query="tariff")).hits
    assert "<script>" not in hit.snippet.html
    assert "<b>" in hit.snippet.html


def test_facet_counts(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(limit=0))
    assert response.total == len(ALL) and response.hits == []
    assert facet(response, "chips") == {"H200": 2, "H20": 1}
    assert facet(response, "companies")["nvidia"] == 4
    assert facet(response, "agencies")["US:BIS"] == 2
    assert facet(response, "countries") == {"CN": 3, "US": 3, "NL": 2}
    assert facet(response, "stance") == {"restrict": 2, "ease": 2, "mixed": 1, "none": 1}
    assert facet(response, "jurisdiction") == {"CN": 2, "US": 2, "NL": 1}
    assert facet(response, "source") == {
        "Harbour News": 2,
        "Capital News": 2,
        "Markets News": 1,
        "Wire News": 1,
    }
    assert facet(response, "day") == {
        "2026-01-14": 1,
        "2026-01-20": 1,
        "2026-01-24": 1,
        "2026-01-28": 1,
        "2026-02-02": 1,
        "2026-02-05": 1,
    }


def test_weekly_counts_by_stance_start_on_monday(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(limit=0))
    assert facet(response, "week_stance") == {
        "2026-01-12/restrict": 1,
        "2026-01-19/restrict": 1,
        "2026-01-19/mixed": 1,
        "2026-01-26/ease": 1,
        "2026-02-02/ease": 1,
        "2026-02-02/none": 1,
    }


def test_facets_follow_the_query_and_filters(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(query="chip:H200"))
    assert facet(response, "companies") == {"nvidia": 2, "alibaba": 1}
    assert facet(response, "stance") == {"restrict": 1, "ease": 1}
    filtered = loaded.search(SearchRequest(stance=["restrict"]))
    assert facet(filtered, "jurisdiction") == {"CN": 1, "US": 1}


def test_sort_newest_and_pagination(loaded: SearchBackend) -> None:
    newest = [EARNINGS, DUTCH, APPROVAL, MIXED, LITHO, CUSTOMS]
    response = loaded.search(SearchRequest(sort="newest", limit=10))
    assert [h.id for h in response.hits] == [a.id for a in newest]
    page = loaded.search(SearchRequest(sort="newest", limit=2, offset=2))
    assert page.total == len(ALL)
    assert [h.id for h in page.hits] == [APPROVAL.id, MIXED.id]


def test_relevance_ranks_title_matches_first(loaded: SearchBackend) -> None:
    response = loaded.search(SearchRequest(query="customs"))
    assert response.hits[0].id == CUSTOMS.id
    assert response.hits[0].score >= response.hits[-1].score > 0


def test_empty_index_answers_with_nothing(backend: SearchBackend) -> None:
    response = backend.search(SearchRequest(query="H200"))
    assert response.total == 0 and response.hits == []
    assert backend.count() == 0
