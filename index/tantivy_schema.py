"""The embedded index's schema, analyzer and article <-> document conversion.

Text fields use our own registered analyzer (simple tokenizer, lowercase, English stemmer)
so the query side (index/tantivy_query.py) can analyze terms exactly as indexing did.
Taxonomy ids are indexed twice: exact (fast field, for facets) and lowercased (for matching).
A Chinese article (its detected language, index/cjk.py) is also indexed as character bigrams
in `title_zh`, `summary_zh` and `text_zh` (whitespace tokenizer over `zh_tokens`), searched
beside the English fields by default.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import tantivy

from chipwire.contract import EnrichedArticle
from index.backend import effective_date
from index.cjk import MAX_TOKEN_CHARS, is_chinese, zh_tokens

ANALYZER = "chipwire_en"
ZH_ANALYZER = "chipwire_zh"
SCHEMA_VERSION = 3  # bump on any change below; the index is rebuilt from the enriched topic

TEXT_FIELDS = ("title", "summary", "text")
ZH_FIELDS = {name: f"{name}_zh" for name in TEXT_FIELDS}  # text field -> its Chinese twin
FACETED = ("chips", "companies", "agencies", "countries", "stance", "jurisdiction", "source")
# query field -> indexed field used for matching
MATCH_FIELDS = {
    "chips": "chips_lc",
    "companies": "companies_lc",
    "agencies": "agencies_lc",
    "countries": "countries_lc",
    "topics": "topics_lc",
    "stance": "stance",
    "jurisdiction": "jurisdiction_lc",
    "source": "source_lc",
    "language": "language_lc",
    "story_id": "story_id",
    "event_id": "event_id",
    "id": "id",
}


def make_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def make_zh_analyzer() -> tantivy.TextAnalyzer:
    """Reads the space-joined output of `zh_tokens` (bigrams and lower-cased words)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS * 4 + 1))
        .build()
    )


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("id", "story_id", "event_id"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name=ANALYZER, index_option="position")
    for name in ZH_FIELDS.values():
        builder.add_text_field(name, tokenizer_name=ZH_ANALYZER, index_option="position")
    for name in FACETED:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in sorted(set(MATCH_FIELDS.values()) - {"id", "story_id", "event_id", "stance"}):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_date_field("date", stored=False, indexed=True, fast=True)
    builder.add_float_field("relevance", indexed=True, fast=True)
    builder.add_bytes_field("article", stored=True)
    builder.add_integer_field("schema_version", stored=True)
    return builder.build()


def to_document(article: EnrichedArticle) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", article.id)
    doc.add_text("story_id", article.story_id)
    if article.event_id:
        doc.add_text("event_id", article.event_id)
    doc.add_text("title", article.title)
    doc.add_text("summary", article.summary)
    doc.add_text("text", article.text)
    if is_chinese(article):
        for name, twin in ZH_FIELDS.items():
            doc.add_text(twin, " ".join(zh_tokens(getattr(article, name))))
    for field in ("chips", "companies", "agencies", "countries"):
        for ref in getattr(article.tags, field):
            doc.add_text(field, ref.id)
            doc.add_text(f"{field}_lc", ref.id.lower())
    for topic in article.tags.topics:
        doc.add_text("topics_lc", topic.lower())
    doc.add_text("stance", article.stance)
    if article.acting_jurisdiction:
        doc.add_text("jurisdiction", article.acting_jurisdiction)
        doc.add_text("jurisdiction_lc", article.acting_jurisdiction.lower())
    doc.add_text("source", article.source.name)
    doc.add_text("source_lc", article.source.id.lower())
    doc.add_text("source_lc", article.source.name.lower())
    if article.language:
        doc.add_text("language_lc", article.language.lower())
    doc.add_date("date", effective_date(article).astimezone(UTC))
    doc.add_float("relevance", article.relevance)
    # the rest of the article, without the three big texts already stored above
    rest = article.model_copy(update={"title": "", "summary": "", "text": ""})
    doc.add_bytes("article", rest.model_dump_json().encode("utf-8"))
    doc.add_integer("schema_version", SCHEMA_VERSION)
    return doc


def from_stored(stored: dict[str, Any]) -> EnrichedArticle:
    rest = EnrichedArticle.model_validate_json(stored["article"][0])
    return rest.model_copy(update={name: _first(stored, name) for name in TEXT_FIELDS})


def _first(stored: dict[str, Any], name: str) -> str:
    values = stored.get(name) or [""]
    return str(values[0])
