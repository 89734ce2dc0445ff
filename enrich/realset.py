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

Split = Literal["fit", "test"]


def split_of(item_id: str) -> Split:
    digest = hashlib.sha1(item_id.encode(), usedforsecurity=False).hexdigest()
    return "fit" if int(digest, 16) % 10 < FIT_SHARE else "test"


def labelled_items(labels_dir: Path = LABELS_DIR) -> Iterator[dict[str, Any]]:
    """Every labelled item, without text; a half-written line is skipped."""
    for path in sorted(labels_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and "id" in item and "labels" in item:
                yield item


def load_realset(
    cache_dir: Path = DEFAULT_CACHE,
    *,
    split: Split | Literal["all"] = "test",
    labels_dir: Path = LABELS_DIR,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Items of one split joined with their cached excerpt, and the ids whose excerpt is
    missing from the cache (reported, never guessed)."""
    items: list[dict[str, Any]] = []
    missing: list[str] = []
    for item in labelled_items(labels_dir):
        if split != "all" and split_of(item["id"]) != split:
            continue
        cached = cache_dir / f"{item['id']}.txt"
        if not cached.is_file():
            missing.append(item["id"])
            continue
        items.append({**item, "text": cached.read_text(encoding="utf-8")})
    return items, missing
