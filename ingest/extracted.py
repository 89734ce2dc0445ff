"""What extraction gives back for a page: light to import (no trafilatura), for the
crawler that receives it from an extraction worker."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str
    summary: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    fingerprint: bytes = b""  # MinHash of the text, computed here to spare the crawler's core
    encoding: str = "utf-8"
    decode_warning: str | None = None  # logged by the crawler, with the URL


def split_authors(author: str | None) -> list[str]:
    if not author:
        return []
    return [a.strip() for a in re.split(r";|\band\b|,", author) if a.strip()][:10]
