"""Page bytes → clean text and metadata (trafilatura), in worker processes.

We decode the bytes ourselves (ingest/decode.py) and hand
trafilatura a str: its own sniffing of bytes is slower and can be fooled by a
compressed body without Content-Encoding.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import trafilatura
from trafilatura.settings import Document

from ingest import dedupe
from ingest.decode import decode_html, decode_page
from ingest.extracted import Extracted, split_authors

__all__ = ["Extracted", "decode_html", "decode_page", "extract_page", "split_authors"]

_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
MIN_TEXT_CHARS = 200
# a Han character carries about what three Latin letters do: a 150-character official
# notice in Chinese is a whole document, not a teaser
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HAN_WEIGHT = 3
# Dates from the page's markup and URL only: a guess from the running text ("at CES 2026"
# becomes 2026-01-01) would reorder the policy timeline. The feed's date is the fallback.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


def extract_page(
    body: bytes, content_type: str | None, url: str, with_metadata: bool = True
) -> Extracted | None:
    """The article in a page, or None when the page holds no article text.

    `with_metadata=False` asks trafilatura for the text alone, for a page whose feed item
    already gave its title and date: reading the page's metadata costs about a third of
    the extraction, and title, date, byline and description are then left empty."""
    html, encoding, decode_warning = decode_page(body, content_type)
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=with_metadata,
        include_comments=False,
        fast=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if not isinstance(document, Document) or _text_weight(document.text or "") < MIN_TEXT_CHARS:
        return None
    lang = _HTML_LANG.search(html[:5000])
    return Extracted(
        title=(document.title or "").strip(),
        text=document.text or "",
        summary=(document.description or "").strip(),
        authors=split_authors(document.author),
        published_at=_date(document.date),
        language=(document.language or (lang.group(1) if lang else None) or None),
        fingerprint=dedupe.to_bytes(dedupe.minhash(document.text or "")),
        encoding=encoding,
        decode_warning=decode_warning,
    )


def _text_weight(text: str) -> int:
    """Length in Latin-letter equivalents (each Han character counts HAN_WEIGHT times)."""
    if len(text) >= MIN_TEXT_CHARS:
        return len(text)
    return len(text) + (HAN_WEIGHT - 1) * len(_HAN.findall(text))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None
