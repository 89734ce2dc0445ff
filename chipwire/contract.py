"""The message contract (v1): what travels on every topic.

Models are pydantic; `schemas/*.json` is generated from them (`make schemas`) and a
test fails when the committed files drift. Field changes follow docs/STREAM.md:
adding an optional field is compatible, anything else is a new topic version.

Reading ignores fields this version does not know (a newer producer may add optional ones,
and an older consumer must not dead-letter its messages); writing emits only the fields
declared here, and the schemas still say `additionalProperties: false` because they
describe exactly what this version writes.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

SCHEMA_VERSION = 1

log = logging.getLogger(__name__)

# Values the search index cannot hold are fixed here, once, for every stage: a date out of
# this range is dropped (published_at) or clamped (fetched_at), an oversize field is cut.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=2)
FIELD_LIMITS = {"title": 1_000, "summary": 10_000, "text": 1_000_000}
MAX_AUTHORS = 20
MAX_AUTHOR_CHARS = 200

Direction = Literal["restrict", "ease"]
Stance = Literal["restrict", "ease", "mixed", "none"]
Certainty = Literal["official", "reported", "proposed"]


def article_id(canonical_url: str) -> str:
    """Stable id of an article: a hash of its canonical URL (so a replay is harmless)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="ignore", json_schema_extra={"additionalProperties": False}
    )


class SourceRef(_Model):
    id: str = Field(description="Source id from the sources file")
    name: str
    feed: str = Field(description="URL of the feed the item came from")
    official: bool = Field(
        default=False,
        description="The source is a government publisher (sources file `official: true`)",
    )
    agency: str | None = Field(
        default=None,
        description="Agency that issued the item, named by the source (sources file `agency:`, "
        "or the Federal Register's agency of the document), e.g. CN:MOFCOM; never guessed",
    )


class RawArticle(_Model):
    """An extracted article as the crawler publishes it (topic articles.raw)."""

    schema_version: Literal[1] = 1
    id: str = Field(description="Stable id: hash of canonical_url")
    story_id: str = Field(
        description="Copy cluster: syndicated copies and light rewrites of one text (the id "
        "of its first article); corroboration counts one report per story_id"
    )
    url: str
    canonical_url: str
    source: SourceRef
    title: str
    text: str
    summary: str = ""
    authors: list[str] = Field(default_factory=list)
    language: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime
    document_type: str | None = Field(
        default=None,
        description="An official source's document type, e.g. rule, proposed_rule, notice, "
        "announcement",
    )
    effective_on: date | None = Field(
        default=None, description="When an official document takes effect, if it says so"
    )

    @field_validator("title", "summary", "text")
    @classmethod
    def _cap_length(cls, value: str, info: ValidationInfo) -> str:
        limit = FIELD_LIMITS[str(info.field_name)]
        if len(value) > limit:
            log.warning(
                "article %s: %s cut from %d to %d characters",
                info.data.get("id"),
                info.field_name,
                len(value),
                limit,
            )
            return value[:limit]
        return value

    @field_validator("authors")
    @classmethod
    def _cap_authors(cls, value: list[str]) -> list[str]:
        return [a[:MAX_AUTHOR_CHARS] for a in value[:MAX_AUTHORS]]

    @field_validator("published_at")
    @classmethod
    def _sane_published_at(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        aware = _aware(value)
        if EARLIEST_DATE <= aware <= datetime.now(UTC) + FUTURE_SLACK:
            return aware
        log.warning("article %s: published_at %s out of range, dropped", info.data.get("id"), value)
        return None

    @field_validator("fetched_at")
    @classmethod
    def _sane_fetched_at(cls, value: datetime, info: ValidationInfo) -> datetime:
        aware, latest = _aware(value), datetime.now(UTC) + FUTURE_SLACK
        if EARLIEST_DATE <= aware <= latest:
            return aware
        clamped = min(max(aware, EARLIEST_DATE), latest)
        log.warning(
            "article %s: fetched_at %s out of range, clamped to %s",
            info.data.get("id"),
            value,
            clamped.isoformat(),
        )
        return clamped


def _aware(value: datetime) -> datetime:
    """A datetime with a zone (naive ones are read as UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class EntityRef(_Model):
    id: str = Field(description="Taxonomy id, e.g. H200, nvidia, CN:GAC, CN")
    name: str = Field(description="Display name, e.g. Nvidia H200")


class Tags(_Model):
    chips: list[EntityRef] = Field(default_factory=list)
    companies: list[EntityRef] = Field(default_factory=list)
    agencies: list[EntityRef] = Field(default_factory=list)
    countries: list[EntityRef] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list, description="Action types mentioned")


class Signal(_Model):
    """One policy move read from one sentence."""

    subject: str = Field(description="Chip, company or technology id acted upon, e.g. H200")
    jurisdiction: str = Field(description="Acting government: ISO country code or EU")
    agency: str | None = Field(default=None, description="Acting agency id, e.g. CN:GAC")
    action: str = Field(description="Action type, e.g. import_restriction, export_approval")
    direction: Direction
    certainty: Certainty = "reported"
    evidence: str = Field(description="The sentence that says so")
    evidence_start: int = Field(ge=0, description="Character offset of the evidence in text")
    evidence_end: int = Field(ge=0)
    confidence: float = Field(ge=0.0, le=1.0)


class EnrichedArticle(RawArticle):
    """A raw article plus tags and policy signals (topic articles.enriched)."""

    tags: Tags = Field(default_factory=Tags)
    signals: list[Signal] = Field(default_factory=list)
    stance: Stance = "none"
    acting_jurisdiction: str | None = None
    relevance: float = Field(default=0.0, ge=0.0, le=1.0)
    enrichment_version: str = ""
    event_id: str | None = Field(
        default=None,
        description="Event story: reports of the same event across outlets and languages "
        "(the id of its earliest report as known when enriched); copies share it too",
    )


class AlertEvent(_Model):
    """A shift in the policy state of one (subject, jurisdiction) pair (topic alerts)."""

    schema_version: Literal[1] = 1
    id: str = Field(
        description="Stable id of the shift: subject, jurisdiction, new direction, story"
    )
    subject: str
    jurisdiction: str
    previous: Direction
    current: Direction
    article_ids: list[str]
    story_id: str
    evidence: list[str]
    title: str
    url: str
    created_at: datetime
    urls: list[str] = Field(
        default_factory=list, description="Link to each corroborating article, evidence order"
    )
    outlets: list[str] = Field(default_factory=list, description="Publishers that confirmed it")
    previous_since: datetime | None = Field(
        default=None, description="When the previous state was confirmed"
    )
    opened_at: datetime | None = Field(
        default=None, description="Publication time of the first report of the new direction"
    )
    confirmed_at: datetime | None = Field(
        default=None, description="Publication time of the report that confirmed it"
    )
