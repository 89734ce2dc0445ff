"""The sources file: which feeds, APIs and listing pages to poll (YAML, reviewed like code).

A source's `kind` says how its documents are listed (docs/SOURCES.md):
`feed` (RSS, Atom or JSON Feed, the default), `federal_register` (the Federal Register
documents API) or `html_list` (an agency's announcement listing, read by CSS selectors).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from cssselect import GenericTranslator, SelectorError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ingest.canonical import is_http_url

FederalRegisterType = Literal["RULE", "PRORULE", "NOTICE", "PRESDOCU"]


def _default_types() -> list[FederalRegisterType]:
    return ["RULE", "PRORULE", "NOTICE"]


class FederalRegisterParams(BaseModel):
    """What to ask the Federal Register documents API for (`kind: federal_register`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: list[str] = Field(
        default_factory=lambda: ["industry-and-security-bureau"],
        min_length=1,
        description="Federal Register agency slugs, e.g. industry-and-security-bureau",
    )
    types: list[FederalRegisterType] = Field(default_factory=_default_types, min_length=1)
    term: str | None = Field(None, description="Optional full-text condition")
    per_page: int = Field(20, ge=1, le=1000)
    max_pages: int = Field(5, ge=1, le=50, description="Pages read per poll at most")


class HtmlListParams(BaseModel):
    """CSS selectors that read an announcement listing page (`kind: html_list`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str = Field(description="One element per announcement, e.g. `ul.list li`")
    link: str = Field("a", description="Within an item: the element whose href is the document")
    title: str | None = Field(None, description="Within an item; default: the link's text")
    date: str | None = Field(None, description="Within an item; default: the item's whole text")
    next: str | None = Field(None, description="In the page: the link to the next listing page")
    max_pages: int = Field(3, ge=1, le=50, description="Pages read per poll at most")

    @field_validator("item", "link", "title", "date", "next")
    @classmethod
    def _valid_selector(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                GenericTranslator().css_to_xpath(value)
            except SelectorError as exc:
                raise ValueError(f"not a CSS selector: {value!r}: {exc}") from exc
        return value


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
    kind: Literal["feed", "federal_register", "html_list"] = Field(
        "feed", description="How documents are listed: a feed, the Federal Register API, a page"
    )
    agency: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}:[A-Z0-9_]+$",
        description="Taxonomy id of the agency that publishes here, e.g. CN:MOFCOM",
    )
    language: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}$",
        description="Language of its documents when a page does not say (ISO 639-1, e.g. zh)",
    )
    federal_register: FederalRegisterParams | None = None
    html_list: HtmlListParams | None = None

    @field_validator("feed")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not is_http_url(value):
            raise ValueError(f"feed must be an http(s) URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _params_match_kind(self) -> Source:
        if self.kind == "html_list" and self.html_list is None:
            raise ValueError("kind html_list needs `html_list:` selectors (at least `item`)")
        if self.kind != "html_list" and self.html_list is not None:
            raise ValueError(f"`html_list:` selectors given for a source of kind {self.kind}")
        if self.kind != "federal_register" and self.federal_register is not None:
            raise ValueError(f"`federal_register:` params given for a source of kind {self.kind}")
        return self


class SourcesError(Exception):
    """The sources file cannot be used; the message says where and why."""


def load_sources(path: Path) -> list[Source]:
    """The enabled sources of the file."""
    return [s for s in load_all_sources(path) if s.enabled]


class SourcesWatch:
    """The enabled sources of a file, read again only when the file changed (its size,
    modification time or inode): the crawl's tick, every few seconds, costs a `stat`
    instead of a YAML parse and a validation of every entry."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._version: tuple[int, int, int] | None = None
        self._sources: list[Source] = []
        self._error: str | None = None

    def current(self) -> list[Source]:
        """The sources, or SourcesError (again at every call while the file stays bad)."""
        try:
            stat = self.path.stat()
            version: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            version = None  # unreadable: read it (and say why) every time
        if version is None or version != self._version:
            try:
                self._sources, self._error = load_sources(self.path), None
            except SourcesError as exc:
                self._error = str(exc)
            self._version = version
        if self._error is not None:
            raise SourcesError(self._error)
        return list(self._sources)


def shard_of(source_id: str, shards: int) -> int:
    """The crawler replica that owns a source: a stable hash of its id (one owner each)."""
    digest = hashlib.sha1(source_id.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % shards


def in_shard(sources: list[Source], shards: int, shard: int) -> list[Source]:
    """The sources replica `shard` of `shards` polls (all of them with one replica)."""
    return [s for s in sources if shards <= 1 or shard_of(s.id, shards) == shard]


def load_all_sources(path: Path) -> list[Source]:
    """Every source of the file, disabled ones included."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SourcesError(f"sources file {path} is not valid YAML: {exc}") from exc
    return validate_entries(data, path)


def validate_entries(data: object, path: Path) -> list[Source]:
    """The sources of a parsed sources file, or SourcesError saying where and why."""
    entries = data.get("sources") if isinstance(data, dict) else None
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
    return sources
