"""What every search backend offers, and the backend-independent request/response shapes.

Both backends (embedded tantivy, Elasticsearch) answer the same `SearchRequest` with the same
`SearchResponse`, so the API, the CLI and the contract tests never know which one runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from chipwire.contract import EnrichedArticle, Stance, Tags

MAX_LIMIT = 200
MAX_WINDOW = 10_000  # offset + limit, like Elasticsearch's max_result_window
FACET_SIZE = 20
SNIPPET_CHARS = 220

INDEXED = Counter(
    "chipwire_index_documents_total",
    "Documents written to the search backend by outcome (ok, stale, rejected, retry)",
    ["backend", "status"],
)

TagField = Literal["chips", "companies", "agencies", "countries"]
TAG_FIELDS: tuple[TagField, ...] = ("chips", "companies", "agencies", "countries")
WEEK_FACET = "week_stance"  # counts per (week starting Monday, stance): "2026-01-12/ease"
FACET_FIELDS = (*TAG_FIELDS, "stance", "jurisdiction", "source", "day", WEEK_FACET)


class SearchRequest(BaseModel):
    """One analyst search: a Lucene-syntax query plus structured filters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query: str = Field("", max_length=1000, description="Lucene syntax; empty matches all")
    chips: list[str] = Field(default_factory=list, description="Taxonomy ids, any of them")
    companies: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    stance: list[Stance] = Field(default_factory=list)
    jurisdiction: list[str] = Field(default_factory=list, description="Acting jurisdiction")
    since: datetime | None = Field(None, description="Published (or fetched) at or after")
    until: datetime | None = Field(None, description="Published (or fetched) before")
    min_relevance: float = Field(0.0, ge=0.0, le=1.0)
    limit: int = Field(20, ge=0, le=MAX_LIMIT)
    offset: int = Field(0, ge=0)
    sort: Literal["relevance", "newest"] = "relevance"
    facets: bool = Field(True, description="Compute facet counts")

    def tag_filters(self) -> dict[TagField, list[str]]:
        """The non-empty taxonomy filters (AND across fields, OR within one)."""
        chosen = {name: list(getattr(self, name)) for name in TAG_FIELDS}
        return {name: values for name, values in chosen.items() if values}


class Snippet(BaseModel):
    html: str = Field(description="HTML-escaped text with matched terms in <b>…</b>")
    text: str = Field(description="The same fragment as plain text")

    @classmethod
    def from_html(cls, fragment: str) -> Snippet:
        return cls(html=fragment, text=html.unescape(re.sub(r"</?b>", "", fragment)))

    @classmethod
    def plain(cls, text: str, max_chars: int = SNIPPET_CHARS) -> Snippet:
        cut = text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text
        return cls(html=html.escape(cut, quote=False), text=cut)


class SearchHit(BaseModel):
    id: str
    story_id: str
    event_id: str | None = Field(None, description="Event story (docs/SOURCES.md)")
    title: str
    url: str
    source: str = Field(description="Source name")
    published_at: datetime | None
    fetched_at: datetime | None = Field(None, description="When chipwire first fetched it")
    language: str | None = None
    stance: Stance
    acting_jurisdiction: str | None
    relevance: float
    score: float = Field(description="Backend relevance score (or 0 when sorted by date)")
    snippet: Snippet
    tags: Tags

    @classmethod
    def of(cls, article: EnrichedArticle, score: float, snippet: Snippet) -> SearchHit:
        return cls(
            id=article.id,
            story_id=article.story_id,
            event_id=article.event_id,
            title=article.title,
            url=article.url,
            source=article.source.name,
            published_at=article.published_at,
            fetched_at=article.fetched_at,
            language=article.language,
            stance=article.stance,
            acting_jurisdiction=article.acting_jurisdiction,
            relevance=article.relevance,
            score=score,
            snippet=snippet,
            tags=article.tags,
        )


# A plain dict, not a model: a search returns ~1,000 buckets (a two-year day histogram alone
# is ~730), and building a model per bucket cost more than the search itself.
class FacetBucket(TypedDict):
    """A facet value and how many matching articles have it."""

    key: str
    count: int


class SearchResponse(BaseModel):
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetBucket]] = Field(default_factory=dict)
    query: str = Field("", description="The query as the backend understood it (normalised)")

    def to_json(self) -> bytes:
        """The bytes `model_dump_json` gives, in half the time: pydantic writes each of the
        ~1,000 facet buckets through the TypedDict's serializer, orjson writes the dicts."""
        return orjson.dumps(
            {
                "total": self.total,
                "hits": _HITS.dump_python(self.hits, mode="json"),
                "facets": self.facets,
                "query": self.query,
            }
        )


_HITS = TypeAdapter(list[SearchHit])


@dataclass(frozen=True)
class Rejected:
    """A document the backend refused for good (e.g. a mapping error): dead-letter it."""

    id: str
    status: int
    reason: str


@dataclass(frozen=True)
class IndexStats:
    """What `chipwire index stats` shows: the same keys on both backends."""

    backend: str
    names: list[str]  # tantivy: the folder; Elasticsearch: read alias, write alias, indices
    documents: int
    size_bytes: int  # on disk (tantivy) or the store size of every copy (Elasticsearch)
    last_commit: datetime | None  # tantivy: the last commit; Elasticsearch: newest fetched_at
    details: dict[str, Any] = field(default_factory=dict)


class SearchBackend(Protocol):
    name: str

    def setup(self) -> list[str]:
        """Create the index (or bring its layout up to date); one line per thing done."""
        ...

    def stats(self) -> IndexStats: ...

    def upsert(self, articles: Sequence[EnrichedArticle]) -> None:
        """Add or replace articles by id (may buffer until commit)."""
        ...

    def commit(self) -> list[Rejected]:
        """Make buffered writes durable and searchable.

        Raises chipwire.errors.Retry when the backend cannot be reached; returns the
        documents it rejected for good (the caller dead-letters them).
        """
        ...

    def search(self, req: SearchRequest) -> SearchResponse:
        """Raises index.query.QueryError for a query the analyst must fix."""
        ...

    def count(self) -> int: ...

    def get(self, article_id: str) -> EnrichedArticle | None: ...

    def close(self) -> None: ...


def effective_date(article: EnrichedArticle) -> datetime:
    """The date an article is filtered, sorted and bucketed by."""
    return article.published_at or article.fetched_at


def week_key(monday: str, stance: str) -> str:
    return f"{monday}/{stance}"


def check_window(req: SearchRequest) -> None:
    from index.query import QueryError

    if req.offset + req.limit > MAX_WINDOW:
        raise QueryError(f"results past {MAX_WINDOW} are not available; narrow the search")
