"""The real-text labelled set: our labels in the repo (enrich/realset/*.jsonl), the excerpts
they describe in a cache outside it (README.md beside the labels says why and how).

The split is fixed by id, so an item never moves between fitting and testing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

LABELS_DIR = Path(__file__).resolve().parent / "realset"
DEFAULT_CACHE = Path("~/.cache/chipwire-realset").expanduser()
FIT_SHARE = 7  # of 10
# Label files of events no fitted model has seen, held out whole: the item split cannot
# measure the tagger on new events (one event's reports fall on both sides of it), these
# files can. Never fitted, scored as their own group; README.md beside the labels.
FRESH_FILES = frozenset({"s10a.jsonl", "s10b.jsonl", "s10c.jsonl"})

Split = Literal["fit", "test"]
Selection = Literal["fit", "test", "all", "fresh"]


def split_of(item_id: str) -> Split:
    digest = hashlib.sha1(item_id.encode(), usedforsecurity=False).hexdigest()
    return "fit" if int(digest, 16) % 10 < FIT_SHARE else "test"


def _selected(item_id: str, file_name: str, selection: Selection) -> bool:
    fresh = file_name in FRESH_FILES
    if selection == "all":
        return True
    if selection == "fresh":
        return fresh
    return not fresh and split_of(item_id) == selection


def labelled_items(labels_dir: Path = LABELS_DIR) -> Iterator[dict[str, Any]]:
    """Every labelled item, without text; a half-written line is skipped."""
    for _, item in _items_by_file(labels_dir):
        yield item


def _items_by_file(labels_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(labels_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and "id" in item and "labels" in item:
                yield path.name, item


def load_realset(
    cache_dir: Path = DEFAULT_CACHE,
    *,
    split: Selection = "test",
    labels_dir: Path = LABELS_DIR,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Items of one split (fit and test leave out the fresh files) joined with their
    cached excerpt, and the ids whose excerpt is missing from the cache (reported, never
    guessed)."""
    items: list[dict[str, Any]] = []
    missing: list[str] = []
    for file_name, item in _items_by_file(labels_dir):
        if not _selected(item["id"], file_name, split):
            continue
        cached = cache_dir / f"{item['id']}.txt"
        if not cached.is_file():
            missing.append(item["id"])
            continue
        items.append({**item, "text": cached.read_text(encoding="utf-8")})
    return items, missing
