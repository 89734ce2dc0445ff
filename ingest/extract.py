"""Page bytes → clean text and metadata (trafilatura), in worker processes.

We decode the bytes ourselves (header charset, then <meta charset>, then UTF-8) and hand
trafilatura a str: its own sniffing of bytes is slower and can be fooled by a
compressed body without Content-Encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import trafilatura
from trafilatura.settings import Document

from ingest import dedupe

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
MIN_TEXT_CHARS = 200
# Dates from the page's markup and URL only: a guess from the running text ("at CES 2026"
# becomes 2026-01-01) would reorder the policy timeline. The feed's date is the fallback.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str
    summary: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    fingerprint: bytes = b""  # MinHash of the text, computed here to spare the crawler's core


def decode_html(body: bytes, content_type: str | None) -> str:
    for candidate in (_charset_from_header(content_type), _charset_from_meta(body), "utf-8"):
        if candidate:
            try:
                return body.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("utf-8", errors="replace")


def extract_page(body: bytes, content_type: str | None, url: str) -> Extracted | None:
    """The article in a page, or None when the page holds no article text."""
    html = decode_html(body, content_type)
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        fast=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if not isinstance(document, Document) or len(document.text or "") < MIN_TEXT_CHARS:
        return None
    lang = _HTML_LANG.search(html[:5000])
    return Extracted(
        title=(document.title or "").strip(),
        text=document.text or "",
        summary=(document.description or "").strip(),
        authors=_authors(document.author),
        published_at=_date(document.date),
        language=(document.language or (lang.group(1) if lang else None) or None),
        fingerprint=dedupe.to_bytes(dedupe.minhash(document.text or "")),
    )


def _charset_from_header(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _authors(author: str | None) -> list[str]:
    if not author:
        return []
    return [a.strip() for a in re.split(r";|\band\b|,", author) if a.strip()][:10]


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None
