"""What every search backend offers, and the backend-independent request/response shapes.

Both backends (embedded tantivy, Elasticsearch) answer the same `SearchRequest` with the same
`SearchResponse`, so the API, the CLI and the contract tests never know which one runs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

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


class FacetBucket(BaseModel):
    key: str
    count: int


class SearchResponse(BaseModel):
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetBucket]] = Field(default_factory=dict)
    query: str = Field("", description="The query as the backend understood it (normalised)")


@dataclass(frozen=True)
class Rejected:
    """A document the backend refused for good (e.g. a mapping error): dead-letter it."""

    id: str
    status: int
    reason: str


class SearchBackend(Protocol):
    name: str

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
