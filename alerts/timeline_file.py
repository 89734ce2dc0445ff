"""Timeline files: a sequence of dated news items and the policy shifts a reader takes
from them, for the backtest (docs/ALERTS.md describes the format; other tools write it).

    {"name", "description",
     "items": [{"id", "url", "query"?, "published_at", "outlet", "official",
                "paraphrase"?, "moves"?: [{subject, jurisdiction, direction}],
                "title"?, "text"?}],
     "expected_shifts": [{"subject", "jurisdiction", "from", "to", "not_before", "not_after"}],
     "must_not_shift": [{"subject", "jurisdiction"}]}

An item's text is its inline `text` (synthetic timelines) or the cached file
`<cache_dir>/<id>.txt` (real timelines: third-party text is never committed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CACHE_DIR = Path("~/.cache/chipwire-realset/timeline")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Move(_Model):
    subject: str
    jurisdiction: str
    direction: Literal["restrict", "ease"]


class Item(_Model):
    id: str
    url: str
    query: str | None = None
    published_at: datetime
    outlet: str
    official: bool = False
    paraphrase: str | None = None
    moves: list[Move] = Field(default_factory=list)
    title: str | None = None
    text: str | None = None

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class ExpectedShift(_Model):
    subject: str
    jurisdiction: str
    previous: Literal["restrict", "ease"] = Field(alias="from")
    current: Literal["restrict", "ease"] = Field(alias="to")
    not_before: datetime
    not_after: datetime

    @field_validator("not_before", "not_after", mode="before")
    @classmethod
    def _day_or_time(cls, value: object) -> object:
        return value + "T00:00:00+00:00" if isinstance(value, str) and len(value) == 10 else value

    @field_validator("not_before", "not_after")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def window(self) -> tuple[datetime, datetime]:
        """not_after given as a date covers that whole day."""
        end = self.not_after
        if end.timetz().replace(tzinfo=None) == time(0):
            end += timedelta(days=1) - timedelta(microseconds=1)
        return self.not_before, end


class Pair(_Model):
    subject: str
    jurisdiction: str


class Timeline(_Model):
    name: str
    description: str = ""
    items: list[Item]
    expected_shifts: list[ExpectedShift] = Field(default_factory=list)
    must_not_shift: list[Pair] = Field(default_factory=list)


def load_timeline(path: Path) -> Timeline:
    return Timeline.model_validate(json.loads(path.read_text(encoding="utf-8")))


def item_text(item: Item, cache_dir: Path) -> str | None:
    """The inline text, else the cached excerpt, else None (reported, then skipped)."""
    if item.text:
        return item.text
    cached = cache_dir.expanduser() / f"{item.id}.txt"
    try:
        return cached.read_text(encoding="utf-8")
    except OSError:
        return None
