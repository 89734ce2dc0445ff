"""The Elasticsearch requests we build, checked against the documented shapes.

These do not prove the backend works against a cluster (the contract suite does that when
CHIPWIRE_ES_URL is set); they pin the template, bulk actions, queries and aggregations.
"""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from elasticsearch.helpers import expand_action
from hypothesis import given, settings
from pydantic import BaseModel

from chipwire.contract import EnrichedArticle
from index import elastic_query as esq
from index.backend import SearchRequest
from index.query import Node, parse_query
from tests.test_search_query import trees
from tests.test_search_samples import ALL, CUSTOMS, EARNINGS

ROOT = Path(__file__).resolve().parents[1]
MAPPING = esq.index_template()["template"]["mappings"]


def test_operators_get_the_committed_template() -> None:
    deployed = ROOT / "deploy" / "elasticsearch" / "chipwire-articles.index-template.json"
    assert json.loads(deployed.read_text()) == esq.index_template()


def test_template_is_strict_versioned_and_matches_versioned_indices() -> None:
    body = esq.template_for("chipwire-articles")
    assert body["index_patterns"] == ["chipwire-articles-v*"]
    assert body["version"] == esq.TEMPLATE_VERSION
    assert MAPPING["dynamic"] == "strict"
    settings = body["template"]["settings"]
    assert settings["analysis"]["normalizer"]["chipwire_lowercase"]["filter"] == ["lowercase"]
    assert esq.versioned_index("chipwire-articles") == "chipwire-articles-v1-000001"
    assert esq.write_alias("chipwire-articles") == "chipwire-articles-write"


def test_text_is_english_analyzed_and_tags_are_keywords() -> None:
    props = MAPPING["properties"]
    for field in ("title", "summary", "text"):
        assert props[field]["type"] == "text" and props[field]["analyzer"] == "english"
    chips_id = props["tags"]["properties"]["chips"]["properties"]["id"]
    assert chips_id["type"] == "keyword" and chips_id["ignore_above"] <= 8191
    assert chips_id["fields"]["lc"]["normalizer"] == "chipwire_lowercase"
    assert props["published_at"]["type"] == props["date"]["type"] == "date"
    assert props["signals"]["type"] == "nested"


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    """Contract fields, nested models expanded: {name: sub-dict or None}."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        inner = info.annotation
        for arg in (*typing.get_args(inner), inner):
            candidates = typing.get_args(arg) or (arg,)
            nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
            if nested:
                out[name] = _model_fields(nested[0])
                break
        else:
            out[name] = None
    return out


def _unmapped(fields: dict[str, Any], props: dict[str, Any], prefix: str = "") -> list[str]:
    missing = []
    for name, sub in fields.items():
        if name not in props:
            missing.append(prefix + name)
        elif sub is not None:
            missing += _unmapped(sub, props[name]["properties"], f"{prefix}{name}.")
    return missing


def test_every_contract_field_is_mapped() -> None:
    # with dynamic: strict, an unmapped field added to the contract would reject every document
    assert _unmapped(_model_fields(EnrichedArticle), MAPPING["properties"]) == []


def _source_fits(source: Any, props: dict[str, Any], path: str = "") -> None:
    for key, value in source.items():
        assert key in props, f"{path}{key} is not in the mapping (dynamic: strict)"
        sub = props[key].get("properties")
        items = value if isinstance(value, list) else [value]
        for item in items:
            if sub is not None and item is not None:
                _source_fits(item, sub, f"{path}{key}.")
            elif props[key]["type"] == "date" and item is not None:
                datetime.fromisoformat(item)


@pytest.mark.parametrize("article", ALL, ids=lambda a: a.story_id)
def test_documents_fit_the_strict_mapping(article: EnrichedArticle) -> None:
    _source_fits(esq.to_source(article), MAPPING["properties"])


def test_source_round_trips_to_the_article() -> None:
    for article in ALL:
        assert esq.from_source(esq.to_source(article)) == article
    assert esq.to_source(EARNINGS)["date"] == "2026-02-05T08:00:00Z"  # fetch date fallback


def test_bulk_action_indexes_by_id_with_the_fetch_time_as_external_version() -> None:
    action = esq.bulk_action(CUSTOMS, "chipwire-articles-write")
    meta, source = expand_action(action)
    assert meta == {
        "index": {
            "_index": "chipwire-articles-write",
            "_id": CUSTOMS.id,
            "version": int(CUSTOMS.fetched_at.timestamp() * 1000),
            "version_type": "external_gte",
        }
    }
    assert source == esq.to_source(CUSTOMS)


def test_boolean_query_renders_as_bool_clauses() -> None:
    rendered = esq.render(parse_query("H200 AND NOT customs"))
    assert rendered == {
        "bool": {
            "must": [
                {"multi_match": {"query": "H200", "fields": esq.DEFAULT_FIELDS, "operator": "and"}}
            ],
            "must_not": [
                {
                    "multi_match": {
                        "query": "customs",
                        "fields": esq.DEFAULT_FIELDS,
                        "operator": "and",
                    }
                }
            ],
        }
    }


def test_or_with_not_keeps_its_logical_meaning() -> None:
    rendered = esq.render(parse_query("title:ban OR NOT stance:none"))
    assert rendered == {
        "bool": {
            "should": [
                {
                    "multi_match": {
                        "query": "ban",
                        "fields": ["title", "title_zh"],  # and its Chinese twin
                        "operator": "and",
                    }
                },
                {"bool": {"must_not": [{"term": {"stance": {"value": "none"}}}]}},
            ],
            "minimum_should_match": 1,
        }
    }


def test_leaf_queries() -> None:
    assert esq.render(parse_query("agency:CN:GAC")) == {
        "term": {"tags.agencies.id.lc": {"value": "cn:gac"}}
    }
    assert esq.render(parse_query('"export controls"~2')) == {
        "multi_match": {
            "query": "export controls",
            "fields": esq.DEFAULT_FIELDS,
            "operator": "and",
            "type": "phrase",
            "slop": 2,
        }
    }
    assert esq.render(parse_query("chip:H2*")) == {
        "wildcard": {"tags.chips.id.lc": {"value": "h2*"}}
    }
    assert esq.render(parse_query("title:lithograph*")) == {
        "query_string": {
            "query": "lithograph*",
            "fields": ["title"],
            "analyze_wildcard": True,
            "allow_leading_wildcard": False,
        }
    }
    assert esq.render(parse_query("licence~1"))["multi_match"]["fuzziness"] == 1
    assert esq.render(parse_query("company:asml~1")) == {
        "fuzzy": {"tags.companies.id.lc": {"value": "asml", "fuzziness": 1}}
    }
    assert esq.render(parse_query("")) == {"match_all": {}}


def test_filters() -> None:
    req = SearchRequest(
        chips=["H200"],
        agencies=["CN:GAC", "CN:MOFCOM"],
        stance=["restrict"],
        jurisdiction=["CN"],
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 2, 1),
        min_relevance=0.5,
    )
    assert esq.filters(req) == [
        {"terms": {"tags.chips.id.lc": ["h200"]}},
        {"terms": {"tags.agencies.id.lc": ["cn:gac", "cn:mofcom"]}},
        {"terms": {"stance": ["restrict"]}},
        {"terms": {"acting_jurisdiction.lc": ["cn"]}},
        {"range": {"date": {"gte": "2026-01-01T00:00:00Z", "lt": "2026-02-01T00:00:00Z"}}},
        {"range": {"relevance": {"gte": 0.5}}},
    ]


def test_search_body_has_highlight_paging_sort_and_facets() -> None:
    req = SearchRequest(query="customs", stance=["ease"], sort="newest", limit=5, offset=10)
    body = esq.search_body(req, parse_query(req.query))
    assert body["query"]["bool"]["filter"] == [{"terms": {"stance": ["ease"]}}]
    assert (body["from_"], body["size"], body["track_total_hits"]) == (10, 5, True)
    assert body["sort"][0] == {"date": {"order": "desc"}}
    assert body["highlight"]["pre_tags"] == ["<b>"] and body["highlight"]["encoder"] == "html"
    assert body["aggs"]["chips"] == {"terms": {"field": "tags.chips.id", "size": 20}}
    assert body["aggs"]["source"]["terms"]["field"] == "source.name"
    assert body["aggs"]["day"]["date_histogram"] == {
        "field": "date",
        "calendar_interval": "day",
        "min_doc_count": 1,
        "format": "yyyy-MM-dd",
    }
    assert body["aggs"]["week_stance"]["date_histogram"]["calendar_interval"] == "week"
    assert body["aggs"]["week_stance"]["aggs"] == {"stance": {"terms": {"field": "stance"}}}
    no_facets = esq.search_body(SearchRequest(facets=False), parse_query(""))
    assert "aggs" not in no_facets and "sort" not in no_facets


def test_response_maps_to_the_shared_shape() -> None:
    source = {k: v for k, v in esq.to_source(CUSTOMS).items() if k != "text"}
    raw = {
        "took": 3,
        "timed_out": False,
        "hits": {
            "total": {"value": 42, "relation": "eq"},
            "max_score": 2.5,
            "hits": [
                {
                    "_index": "chipwire-articles-v1",
                    "_id": CUSTOMS.id,
                    "_score": 2.5,
                    "_source": source,
                    "highlight": {"text": ["may not clear <b>customs</b> &amp; more"]},
                }
            ],
        },
        "aggregations": {
            "chips": {
                "doc_count_error_upper_bound": 0,
                "sum_other_doc_count": 0,
                "buckets": [{"key": "H200", "doc_count": 2}],
            },
            "day": {
                "buckets": [{"key_as_string": "2026-01-14", "key": 1768348800000, "doc_count": 1}]
            },
            "week_stance": {
                "buckets": [
                    {
                        "key_as_string": "2026-01-12",
                        "key": 1768176000000,
                        "doc_count": 3,
                        "stance": {"buckets": [{"key": "ease", "doc_count": 2}]},
                    }
                ]
            },
        },
    }
    response = esq.parse_response(raw, parse_query("customs"))
    assert response.total == 42 and response.query == "customs"
    [hit] = response.hits
    assert (hit.id, hit.score, hit.stance, hit.source) == (
        CUSTOMS.id,
        2.5,
        "restrict",
        "Harbour News",
    )
    assert hit.snippet.html == "may not clear <b>customs</b> &amp; more"
    assert hit.snippet.text == "may not clear customs & more"
    assert response.facets["chips"][0] == {"key": "H200", "count": 2}
    assert response.facets["day"][0]["key"] == "2026-01-14"
    assert response.facets["week_stance"][0] == {"key": "2026-01-12/ease", "count": 2}


LEAF_QUERIES = {"multi_match", "term", "wildcard", "fuzzy", "query_string", "match_all"}


def _query_types(clause: dict[str, Any]) -> set[str]:
    [(kind, body)] = clause.items()
    if kind != "bool":
        return {kind}
    nested = [c for key in ("must", "should", "must_not") for c in body.get(key, [])]
    return {"bool"}.union(*(_query_types(c) for c in nested))


@given(trees)
@settings(max_examples=150)
def test_every_valid_tree_renders_to_known_query_clauses(tree: Node) -> None:
    rendered = esq.render(tree)
    json.dumps(rendered)
    assert _query_types(rendered) <= LEAF_QUERIES | {"bool"}


def test_rollover_names_the_next_backing_index_and_keeps_it_readable() -> None:
    assert esq.next_index("chipwire-articles-v1-000001") == "chipwire-articles-v1-000002"
    assert esq.next_index("chipwire-articles-v2-000041") == "chipwire-articles-v2-000042"
    # the first layout's single index, without a counter
    assert esq.next_index("chipwire-articles-v1") == "chipwire-articles-v1-000002"
    body = esq.rollover_body("chipwire-articles", "30d", "25gb")
    assert body == {
        "conditions": {"max_age": "30d", "max_primary_shard_size": "25gb"},
        "aliases": {"chipwire-articles": {}},  # the new index joins the read alias at birth
    }


def test_writes_look_up_each_ids_backing_index_first() -> None:
    body = esq.locate_body(["a", "b"])
    assert body == {"query": {"ids": {"values": ["a", "b"]}}, "source": False, "size": 2}
    answer = {"hits": {"hits": [{"_id": "a", "_index": "chipwire-articles-v1-000001"}]}}
    assert esq.located(answer) == {"a": "chipwire-articles-v1-000001"}
    assert esq.get_body("a") == {"query": {"ids": {"values": ["a"]}}, "size": 1}


def test_the_saved_search_index_maps_what_its_queries_name() -> None:
    body = esq.percolator_index_body()
    props = body["mappings"]["properties"]
    assert props["query"] == {"type": "percolator"}
    assert props["lucene"]["type"] == "keyword"
    for field, mapping in MAPPING["properties"].items():
        assert props[field] == mapping, field  # the same analysis as the articles
    assert body["settings"]["analysis"] == esq.index_template()["template"]["settings"]["analysis"]
    assert esq.saved_searches_index("chipwire-articles") == "chipwire-articles-saved-searches"


def test_a_saved_search_is_stored_as_the_query_the_search_runs() -> None:
    query = "chip:H200 AND customs"
    document = esq.saved_search_document(query)
    assert document == {"query": esq.render(parse_query(query)), "lucene": query}
    assert esq.saved_search_id(query) == esq.saved_search_id(query)
    assert esq.saved_search_id(query) != esq.saved_search_id("chip:H200")


def test_percolation_sends_the_batch_and_reads_back_the_matched_slots() -> None:
    batch = [CUSTOMS, EARNINGS]
    body = esq.percolate_body(batch)
    assert body["query"]["percolate"] == {
        "field": "query",
        "documents": [esq.to_source(CUSTOMS), esq.to_source(EARNINGS)],
    }
    answer = {
        "hits": {
            "hits": [
                {"_source": {"lucene": "customs"}, "fields": {"_percolator_document_slot": [0]}},
                {"_source": {"lucene": "*:*"}, "fields": {"_percolator_document_slot": [0, 1]}},
            ]
        }
    }
    assert esq.percolated(answer, batch) == {
        "customs": {CUSTOMS.id},
        "*:*": {CUSTOMS.id, EARNINGS.id},
    }
