"""Page bytes → clean text and metadata (trafilatura), in worker processes.

We decode the bytes ourselves (BOM, header charset, <meta charset>, UTF-8, then detection by
charset-normalizer; a declared charset that fails is cross-checked) and hand
trafilatura a str: its own sniffing of bytes is slower and can be fooled by a
compressed body without Content-Encoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import charset_normalizer
import trafilatura
from trafilatura.settings import Document

from ingest import dedupe

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
MIN_TEXT_CHARS = 200
# a Han character carries about what three Latin letters do: a 150-character official
# notice in Chinese is a whole document, not a teaser
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HAN_WEIGHT = 3
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
    encoding: str = "utf-8"
    decode_warning: str | None = None  # logged by the crawler, with the URL


def decode_html(body: bytes, content_type: str | None) -> str:
    return decode_page(body, content_type)[0]


def decode_page(body: bytes, content_type: str | None) -> tuple[str, str, str | None]:
    """(text, encoding used, warning or None). Order: byte-order mark, the header's
    charset, <meta charset>, strict UTF-8, then detection (charset-normalizer). A declared
    charset that does not decode cleanly is cross-checked against the other candidates
    rather than trusted; the warning says what happened, for the crawler to log with the URL."""
    bom = _from_bom(body)
    if bom is not None:
        return body.decode(bom[0], errors="replace"), bom[1], None
    declared = [c for c in (_charset_from_header(content_type), _charset_from_meta(body)) if c]
    for candidate in declared:
        try:
            return body.decode(candidate), candidate, None
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text, "utf-8", _declared_note(declared, "utf-8")
    detected = _detect(body)
    if detected is not None:
        note = _declared_note(declared, detected) or f"no charset declared, detected {detected}"
        return body.decode(detected, errors="replace"), detected, note
    note = f"charset {'/'.join(declared) or 'undeclared'} undecodable, read as UTF-8 with U+FFFD"
    return body.decode("utf-8", errors="replace"), "utf-8", note


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
_DETECT_BYTES = 65_536


def _from_bom(body: bytes) -> tuple[str, str] | None:
    for mark, codec, name in _BOMS:
        if body.startswith(mark):
            return codec, name
    return None


def _detect(body: bytes) -> str | None:
    best = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    if best is None:
        return None
    try:
        ascii_compatible = "<p a='1'>".encode(best.encoding) == b"<p a='1'>"
    except (LookupError, UnicodeError):
        return None
    # markup is ASCII: a guess that reads it otherwise (UTF-16 on a short body) is wrong
    return str(best.encoding) if ascii_compatible else None


def _declared_note(declared: list[str], used: str) -> str | None:
    if not declared:
        return None
    return f"declared charset {'/'.join(declared)} does not decode this page, read as {used}"


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


def _charset_from_header(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def split_authors(author: str | None) -> list[str]:
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
