"""One event story as the reader sees it: who reported it first, and every outlet's
report with its delays, read from the search backend (the articles carry `event_id`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chipwire.contract import EnrichedArticle
from index.backend import MAX_LIMIT, SearchBackend, SearchHit, SearchRequest, Snippet


class OutletReport(BaseModel):
    outlet: str = Field(description="Source name")
    article_id: str
    story_id: str = Field(description="Copy cluster of the report")
    title: str
    url: str
    language: str | None
    published_at: datetime | None
    first_seen_at: datetime | None = Field(description="When chipwire first fetched it")
    after_first_s: float | None = Field(
        description="Seconds between the first report's publication and this one's"
    )
    seen_after_s: float | None = Field(
        description="Publish-to-first-seen delay: seconds from publication to chipwire's fetch"
    )
    reports: int = Field(description="Articles of this outlet in the event (copies included)")


class EventStory(BaseModel):
    event_id: str | None = Field(description="None: enriched before event stories existed")
    first: OutletReport = Field(description="The first reporter")
    outlets: list[OutletReport] = Field(
        description="Each outlet's earliest report, in publication order (first reporter first)"
    )
    articles: int = Field(description="Reports in the event, copies included")
    languages: list[str]


def event_story(backend: SearchBackend, article: EnrichedArticle) -> EventStory:
    query = f'event:"{article.event_id}"' if article.event_id else f'story:"{article.story_id}"'
    hits = backend.search(
        SearchRequest(query=query, limit=MAX_LIMIT, sort="newest", facets=False)
    ).hits
    if not any(h.id == article.id for h in hits):  # not indexed yet: it is still a report
        hits.append(_hit_of(article))
    hits.sort(key=lambda h: (_when(h), h.id))
    earliest: dict[str, SearchHit] = {}
    counts: dict[str, int] = {}
    for hit in hits:
        earliest.setdefault(hit.source, hit)
        counts[hit.source] = counts.get(hit.source, 0) + 1
    first_time = _when(hits[0])
    outlets = [_report(h, counts[h.source], first_time) for h in earliest.values()]
    return EventStory(
        event_id=article.event_id,
        first=outlets[0],
        outlets=outlets,
        articles=len(hits),
        languages=sorted({h.language for h in hits if h.language}),
    )


def _report(hit: SearchHit, reports: int, first_time: datetime) -> OutletReport:
    seen_after = (
        (hit.fetched_at - hit.published_at).total_seconds()
        if hit.fetched_at and hit.published_at
        else None
    )
    return OutletReport(
        outlet=hit.source,
        article_id=hit.id,
        story_id=hit.story_id,
        title=hit.title,
        url=hit.url,
        language=hit.language,
        published_at=hit.published_at,
        first_seen_at=hit.fetched_at,
        after_first_s=(_when(hit) - first_time).total_seconds(),
        seen_after_s=seen_after,
        reports=reports,
    )


def _when(hit: SearchHit) -> datetime:
    when = hit.published_at or hit.fetched_at
    assert when is not None
    return when


def _hit_of(article: EnrichedArticle) -> SearchHit:
    return SearchHit.of(article, 0.0, Snippet.plain(""))
