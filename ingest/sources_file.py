"""Editing the user's sources file: `chipwire sources add|remove|enable|disable|import`.

The file edited is `settings.sources_file`. While that is still the list shipped with
chipwire, the first edit copies it to `<data_dir>/sources.yaml`, which the settings use
from then on. Edits go through ruamel.yaml's round-trip mode, so comments, order and
flow style stay as written; `remove` takes the comment lines directly above the entry
with it. Every change is validated (the Source model and unique ids) before the file is
replaced atomically.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from chipwire.settings import SHIPPED_SOURCES, Settings
from ingest.canonical import canonical_url
from ingest.sources import Source, SourcesError, validate_entries

USER_FILE = "sources.yaml"


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, key order, flow style and quotes are kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@dataclass
class SourcesFile:
    path: Path
    document: Any  # the round-trip tree: a CommentedMap with a `sources` CommentedSeq
    created: bool = False  # copied from the shipped list by this edit

    @classmethod
    def open(cls, settings: Settings) -> SourcesFile:
        """The user's sources file, created from the shipped list when they have none (an
        empty one when sources_file names a file that does not exist yet)."""
        path, created = settings.sources_file, False
        if path.resolve() == SHIPPED_SOURCES.resolve():
            path, created = settings.data_dir / USER_FILE, True
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SHIPPED_SOURCES, path)
        try:
            text = "sources: []\n" if not path.exists() else path.read_text(encoding="utf-8")
            document = _yaml().load(text)
        except OSError as exc:
            raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
        except YAMLError as exc:
            raise SourcesError(f"sources file {path} is not valid YAML: {exc}") from exc
        if document is None:
            document = CommentedMap(sources=CommentedSeq())
        edited = cls(path, document, created)
        edited.sources()  # a file already broken is reported before any change
        return edited

    @property
    def entries(self) -> CommentedSeq:
        entries = self.document.get("sources") if isinstance(self.document, dict) else None
        if not isinstance(entries, CommentedSeq):
            raise SourcesError(f"sources file {self.path} must hold a top-level 'sources:' list")
        return entries

    def sources(self) -> list[Source]:
        return validate_entries(self.document, self.path)

    def add(self, *sources: Source) -> None:
        """Append sources; SourcesError for a taken id or a feed already in the file."""
        current = self.sources()
        ids = {s.id for s in current}
        feeds = {feed_key(s.feed): s.id for s in current}
        for source in sources:
            if source.id in ids:
                raise SourcesError(f"source id {source.id!r} is already in {self.path}")
            key = feed_key(source.feed)
            if key in feeds:
                raise SourcesError(f"{source.feed} is already in {self.path} as {feeds[key]!r}")
            ids.add(source.id)
            feeds[key] = source.id
        for source in sources:
            fields = source.model_dump(mode="json", exclude_defaults=True)
            self.entries.append(CommentedMap(fields))
        self.sources()

    def remove(self, source_id: str) -> None:
        """Delete the entry and the comment lines directly above it (up to the blank line
        before them); every other comment stays where it was, the next entry's included.
        Done on the text, where "directly above" is plain to see."""
        position = self._position(source_id)
        lines = self._text().splitlines(keepends=True)
        fresh = _yaml().load("".join(lines))["sources"]
        start = _comments_above(lines, fresh.lc.item(position)[0])
        if position + 1 < len(fresh):
            end = _notes_above(lines, fresh.lc.item(position + 1)[0])
        else:
            end = _notes_above(lines, len(lines))
        before = lines[start - 1].strip() if start else ""
        if end < len(lines) and not lines[end].strip() and (not before or before.endswith(":")):
            end += 1  # one blank line between entries, none right after `sources:`
        self.document = _yaml().load("".join(lines[:start] + lines[end:]))

    def set_enabled(self, source_id: str, enabled: bool) -> bool:
        """Enable or disable a source; False when it already was."""
        entry = self.entries[self._position(source_id)]
        if bool(entry.get("enabled", True)) == enabled:
            return False
        if "enabled" in entry:
            entry["enabled"] = enabled
            return True
        keys = list(entry)
        position = keys.index("feed") + 1 if "feed" in keys else len(keys)
        entry.insert(position, "enabled", enabled)
        if position == len(keys) and keys[-1] in entry.ca.items:
            # the comment after a mapping hangs on its last key: keep it after the mapping
            entry.ca.items["enabled"] = entry.ca.items.pop(keys[-1])
        return True

    def _position(self, source_id: str) -> int:
        for position, source in enumerate(self.sources()):
            if source.id == source_id:
                return position
        raise SourcesError(f"no source with id {source_id!r} in {self.path}")

    def save(self) -> None:
        """Validate, then replace the file atomically (a crash leaves the old or the new)."""
        self.sources()
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text(self._text(), encoding="utf-8")
        os.replace(temporary, self.path)

    def _text(self) -> str:
        text = io.StringIO()
        _yaml().dump(self.document, text)
        return text.getvalue()


def _comments_above(lines: list[str], line: int) -> int:
    """The first of the comment lines directly above `line`."""
    while line > 0 and lines[line - 1].lstrip().startswith("#"):
        line -= 1
    return line


def _notes_above(lines: list[str], line: int) -> int:
    """The first of the blank and comment lines directly above `line`."""
    while line > 0 and (not lines[line - 1].strip() or lines[line - 1].lstrip().startswith("#")):
        line -= 1
    return line


def feed_key(url: str) -> str:
    try:
        return canonical_url(url)
    except Exception:  # courlan on a URL it cannot read: compare as written
        return url.strip()


def new_id(name: str, url: str, taken: set[str]) -> str:
    """A readable id not in `taken`: from the name, else the feed's host."""
    base = _slug(name) or _slug(urlsplit(url).hostname or "") or "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
