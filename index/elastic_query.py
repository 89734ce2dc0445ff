"""Elasticsearch request and response shapes, as plain dicts (no client calls here).

The query tree is rendered as `bool` clauses with one leaf query per term (multi_match,
term, wildcard, fuzzy, query_string for text wildcards), so AND/OR/NOT mean exactly what
they mean on the embedded backend — query_string's own `a OR NOT b` would mean "a and not b".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from chipwire.contract import EnrichedArticle
from index import query as q
from index.backend import (
    FACET_SIZE,
    SNIPPET_CHARS,
    WEEK_FACET,
    FacetBucket,
    SearchHit,
    SearchRequest,
    SearchResponse,
    Snippet,
    effective_date,
    week_key,
)
from index.cjk import is_chinese

TEMPLATE_VERSION = 1
# a Chinese article's texts are indexed again as *_zh with the built-in `cjk` analyzer;
# terms and phrases search them too (wildcards and fuzzy terms mean nothing on bigrams)
ENGLISH_FIELDS = ["title^3", "summary^2", "text"]
DEFAULT_FIELDS = [*ENGLISH_FIELDS, "title_zh^3", "summary_zh^2", "text_zh"]
# query field -> Elasticsearch field used for matching (keyword fields: lowercase-normalised)
MATCH_FIELDS = {
    "chips": "tags.chips.id.lc",
    "companies": "tags.companies.id.lc",
    "agencies": "tags.agencies.id.lc",
    "countries": "tags.countries.id.lc",
    "topics": "tags.topics.lc",
    "stance": "stance",
    "jurisdiction": "acting_jurisdiction.lc",
    "source": "source_match",
    "language": "language",
    "story_id": "story_id",
    "event_id": "event_id",
    "id": "id",
}
FACET_FIELDS = {
    "chips": "tags.chips.id",
    "companies": "tags.companies.id",
    "agencies": "tags.agencies.id",
    "countries": "tags.countries.id",
    "stance": "stance",
    "jurisdiction": "acting_jurisdiction",
    "source": "source.name",
}
ZH_FIELDS = {"title": "title_zh", "summary": "summary_zh", "text": "text_zh"}
# in _source for sorting/filtering/matching, not part of the contract
DERIVED_FIELDS = ("date", *ZH_FIELDS.values())


@cache
def index_template() -> dict[str, Any]:
    """The committed template (deploy/elasticsearch/ holds the same file for operators)."""
    text = resources.files("index").joinpath("es_template.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def template_for(alias: str) -> dict[str, Any]:
    """The template body with index patterns for one alias (tests use their own alias)."""
    body: dict[str, Any] = json.loads(json.dumps(index_template()))
    body["index_patterns"] = [f"{alias}-v*"]
    return body


def versioned_index(alias: str, version: int = TEMPLATE_VERSION) -> str:
    return f"{alias}-v{version}"


def write_alias(alias: str) -> str:
    return f"{alias}-write"


def to_source(article: EnrichedArticle) -> dict[str, Any]:
    source = article.model_dump(mode="json")
    source["date"] = _iso(effective_date(article))
    if is_chinese(article):  # the detected language chooses the field (index/cjk.py)
        for name, twin in ZH_FIELDS.items():
            source[twin] = source[name]
    return source


def from_source(source: dict[str, Any]) -> EnrichedArticle:
    contract = {k: v for k, v in source.items() if k not in DERIVED_FIELDS}
    return EnrichedArticle.model_validate(contract)


def bulk_action(article: EnrichedArticle, index: str) -> dict[str, Any]:
    """Index by explicit _id; the fetch time is an external version, so a late replay of an
    older fetch gets 409 instead of overwriting, while a re-enrichment (same fetch) replaces."""
    return {
        "_op_type": "index",
        "_index": index,
        "_id": article.id,
        "version": int(article.fetched_at.timestamp() * 1000),
        "version_type": "external_gte",
        "_source": to_source(article),
    }


def render(node: q.Node) -> dict[str, Any]:
    if isinstance(node, q.MatchAll):
        return {"match_all": {}}
    if isinstance(node, q.And):
        must = [render(c) for c in node.children if not isinstance(c, q.Not)]
        must_not = [render(c.child) for c in node.children if isinstance(c, q.Not)]
        clauses: dict[str, Any] = {"must": must} if must else {}
        return {"bool": {**clauses, **({"must_not": must_not} if must_not else {})}}
    if isinstance(node, q.Or):
        return {"bool": {"should": [render(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, q.Not):
        return {"bool": {"must_not": [render(node.child)]}}
    if isinstance(node, q.Boost):
        return {"bool": {"must": [render(node.child)], "boost": node.factor}}
    if node.field in MATCH_FIELDS:
        return _keyword_leaf(node, MATCH_FIELDS[node.field])
    chinese = not isinstance(node, q.Wildcard | q.Fuzzy)
    if node.field is None:
        return _text_leaf(node, DEFAULT_FIELDS if chinese else ENGLISH_FIELDS)
    twin = ZH_FIELDS.get(node.field) if chinese else None
    return _text_leaf(node, [node.field, twin] if twin else [node.field])


def _keyword_leaf(node: q.Leaf, field: str) -> dict[str, Any]:
    if isinstance(node, q.Wildcard):
        return {"wildcard": {field: {"value": node.pattern}}}
    if isinstance(node, q.Fuzzy):
        return {"fuzzy": {field: {"value": node.text, "fuzziness": node.distance}}}
    return {"term": {field: {"value": node.text}}}


def _text_leaf(node: q.Leaf, fields: list[str]) -> dict[str, Any]:
    if isinstance(node, q.Wildcard):
        return {
            "query_string": {
                "query": q.to_lucene(q.Wildcard(None, node.pattern)),
                "fields": fields,
                "analyze_wildcard": True,
                "allow_leading_wildcard": False,
            }
        }
    match: dict[str, Any] = {"query": node.text, "fields": fields, "operator": "and"}
    if isinstance(node, q.Phrase):
        match.update(type="phrase", slop=node.slop)
    if isinstance(node, q.Fuzzy):
        match.update(fuzziness=node.distance)
    return {"multi_match": match}


def filters(req: SearchRequest) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"terms": {MATCH_FIELDS[field]: [v.lower() for v in values]}}
        for field, values in req.tag_filters().items()
    ]
    if req.stance:
        found.append({"terms": {"stance": list(req.stance)}})
    if req.jurisdiction:
        found.append({"terms": {"acting_jurisdiction.lc": [j.lower() for j in req.jurisdiction]}})
    if req.since or req.until:
        bounds = {"gte": _iso(req.since)} if req.since else {}
        bounds |= {"lt": _iso(req.until)} if req.until else {}
        found.append({"range": {"date": bounds}})
    if req.min_relevance > 0:
        found.append({"range": {"relevance": {"gte": req.min_relevance}}})
    return found


def search_body(req: SearchRequest, node: q.Node) -> dict[str, Any]:
    """Keyword arguments for `Elasticsearch.search` (the same keys as the JSON body)."""
    body: dict[str, Any] = {
        "query": {"bool": {"must": [render(node)], "filter": filters(req)}},
        "from_": req.offset,
        "size": req.limit,
        "track_total_hits": True,
        "highlight": {
            "pre_tags": ["<b>"],
            "post_tags": ["</b>"],
            "encoder": "html",
            "require_field_match": False,
            "fields": {
                "text": {
                    "fragment_size": SNIPPET_CHARS,
                    "number_of_fragments": 1,
                    "no_match_size": SNIPPET_CHARS,
                }
            },
        },
        "source_excludes": ["text"],
    }
    if req.sort == "newest":
        body["sort"] = [{"date": {"order": "desc"}}, {"id": {"order": "asc"}}]
    if req.facets:
        body["aggs"] = facet_aggs()
    return body


def facet_aggs() -> dict[str, Any]:
    aggs: dict[str, Any] = {
        name: {"terms": {"field": field, "size": FACET_SIZE}}
        for name, field in FACET_FIELDS.items()
    }
    aggs["day"] = {
        "date_histogram": {
            "field": "date",
            "calendar_interval": "day",
            "min_doc_count": 1,
            "format": "yyyy-MM-dd",
        }
    }
    aggs[WEEK_FACET] = {
        "date_histogram": {
            "field": "date",
            "calendar_interval": "week",  # ISO weeks: they start on Monday
            "min_doc_count": 1,
            "format": "yyyy-MM-dd",
        },
        "aggs": {"stance": {"terms": {"field": "stance"}}},
    }
    return aggs


def parse_response(raw: dict[str, Any], node: q.Node) -> SearchResponse:
    hits = [_hit(item) for item in raw["hits"]["hits"]]
    aggregations = raw.get("aggregations", {})
    facets = {
        name: [
            FacetBucket(key=str(b.get("key_as_string", b["key"])), count=int(b["doc_count"]))
            for b in agg.get("buckets", [])
        ]
        for name, agg in aggregations.items()
        if name != WEEK_FACET
    }
    if WEEK_FACET in aggregations:
        facets[WEEK_FACET] = [
            FacetBucket(key=week_key(str(w["key_as_string"]), str(s["key"])), count=s["doc_count"])
            for w in aggregations[WEEK_FACET].get("buckets", [])
            for s in w.get("stance", {}).get("buckets", [])
        ]
    total = raw["hits"]["total"]
    return SearchResponse(
        total=int(total["value"] if isinstance(total, dict) else total),
        hits=hits,
        facets=facets,
        query=q.to_lucene(node),
    )


def _hit(item: dict[str, Any]) -> SearchHit:
    source = item["_source"]
    article = from_source({**source, "text": source.get("text", "")})
    fragments = item.get("highlight", {}).get("text", [])
    snippet = Snippet.from_html(fragments[0]) if fragments else None
    return SearchHit.of(
        article,
        float(item.get("_score") or 0.0),
        snippet or Snippet.plain(article.summary or article.title),
    )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")
