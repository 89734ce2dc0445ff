"""Page bytes → str, the way browsers do it, with a note when the page's own claim was wrong.

BOM, header charset, <meta charset>, UTF-8, then detection by charset-normalizer; a
declared charset that fails is cross-checked. Light to import: the crawler decodes listing
pages with it, and only extraction workers load trafilatura.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


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


def _charset_from_header(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None
