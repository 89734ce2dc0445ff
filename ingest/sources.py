"""The sources file: which feeds to poll (YAML, reviewed like code)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.canonical import is_http_url


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    feed: str
    enabled: bool = True
    poll_interval_s: float | None = Field(None, gt=0, description="Overrides the global interval")
    official: bool = Field(
        False, description="A government publisher: one of its reports confirms a policy move"
    )

    @field_validator("feed")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not is_http_url(value):
            raise ValueError(f"feed must be an http(s) URL, got {value!r}")
        return value


class SourcesError(Exception):
    """The sources file cannot be used; the message says where and why."""


def load_sources(path: Path) -> list[Source]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourcesError(f"sources file {path} is not valid YAML: {exc}") from exc
    entries = (data or {}).get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SourcesError(f"sources file {path} must hold a top-level 'sources:' list")
    sources: list[Source] = []
    for position, entry in enumerate(entries, start=1):
        try:
            sources.append(Source.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "entry"
            raise SourcesError(f"{path}: source #{position}: {where}: {first['msg']}") from exc
    ids = [s.id for s in sources]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SourcesError(f"{path}: duplicate source ids: {', '.join(duplicates)}")
    return [s for s in sources if s.enabled]
