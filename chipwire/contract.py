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
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

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


class RawArticle(_Model):
    """An extracted article as the crawler publishes it (topic articles.raw)."""

    schema_version: Literal[1] = 1
    id: str = Field(description="Stable id: hash of canonical_url")
    story_id: str = Field(description="Cluster of near-duplicates and rewrites of one event")
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
