"""Feed bytes → items, with the guards feedparser does not have on its own.

- No regex ever rewrites the bytes. Before feedparser sees a feed, expat (C, linear time)
  reads its prolog with parameter entities off and no network: a DOCTYPE that declares
  entities is cut out at the exact byte span expat reports (an internal-subset entity can
  expand to hundreds of MB, and feedparser re-inserts "safe" text entities); a prolog too
  broken for expat that still declares entities is refused. Undeclared references then
  stay text, so no expansion can happen.
- feedparser gets bytes only (a str may be read as a local path), and the final URL of the
  fetch as its base, so relative links resolve against where the feed really is.
- feedparser costs about 4 µs per byte (seconds for a few MB, more for its forgiving parser
  on broken XML), so a feed over 256 KiB is first read by libxml2 (lxml: C, linear,
  recovering from errors, entities unresolved, no network, depth and text limits on),
  trimmed to its first 1,000 items and re-serialised as well-formed XML for feedparser.
- A lone surrogate character reference (`&#xD800;`) makes feedparser raise: only then are
  exactly those references (D800–DFFF, nothing else) replaced, a valid pair is joined.
- JSON Feed (https://jsonfeed.org) is read without feedparser.
- Items keep only absolute http(s) links up to 2,048 characters; an item whose link is
  malformed is counted in `rejected`, never raised.
"""

from __future__ import annotations

import calendar
import json
import logging
import xml.parsers.expat
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from lxml import etree

from chipwire.errors import Discard
from ingest.canonical import is_http_url

log = logging.getLogger(__name__)

_MAX_TITLE = 1_000
_MAX_SUMMARY = 10_000
MAX_LINK = 2_048
MAX_ITEMS = 1_000
LARGE_FEED_BYTES = 256 * 1024


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    summary: str
    published_at: datetime | None
    guid: str
    author: str = ""  # the byline, when the feed gives one (RSS author/dc:creator, Atom author)
    # set by official-source adapters (ingest/listings.py); a plain feed item leaves them empty
    agency: str | None = None
    document_type: str | None = None
    language: str | None = None
    effective_on: date | None = None


@dataclass(frozen=True)
class ParsedFeed:
    items: list[FeedItem]
    ttl_s: float | None
    warning: str | None  # feedparser's bozo exception, when the feed was only partly well-formed
    rejected: int = 0  # items dropped for a missing, malformed or non-http(s) link
    title: str | None = None
    update_period_s: float | None = None  # sy:updatePeriod / sy:updateFrequency


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed body fetched from `feed_url` (the final URL, after redirects);
    raise Discard when nothing usable is in it. A valid feed with no items is not an error."""
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, feed_url)
    safe = _without_entity_declarations(body, feed_url)
    if len(safe) > LARGE_FEED_BYTES:
        safe = _repaired_and_trimmed(safe, feed_url)
    # the final URL is the base of relative links (xml:base included); a missing type is
    # read as XML with its own declared encoding, not as a reason to call the feed broken
    headers = {"content-location": feed_url, "content-type": content_type or "application/xml"}
    try:
        parsed = _feedparser(safe, headers)
    except UnicodeEncodeError:  # a lone surrogate reference: neutralise exactly those, once
        try:
            parsed = _feedparser(_fix_surrogate_refs(safe), headers)
        except Exception as exc:
            raise Discard("feed-unparseable", f"{feed_url}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # feedparser raises more than it documents
        raise Discard("feed-unparseable", f"{feed_url}: {type(exc).__name__}: {exc}") from exc
    bozo = parsed.get("bozo_exception")
    warning = f"{type(bozo).__name__}: {bozo}" if parsed.get("bozo") else None
    entries = parsed.get("entries", [])
    if not entries and not parsed.get("version"):
        raise Discard("feed-unparseable", f"{feed_url}: {warning or 'not a feed'}")
    items: list[FeedItem] = []
    rejected = 0
    for entry in entries[:MAX_ITEMS]:
        item = _item(entry, feed_url)
        if item is None:
            rejected += 1
        else:
            items.append(item)
    channel = parsed.get("feed", {})
    return ParsedFeed(
        items,
        _ttl(channel),
        warning,
        rejected,
        title=str(channel.get("title") or "")[:_MAX_TITLE] or None,
        update_period_s=_update_period(channel),
    )


def _feedparser(body: bytes, headers: dict[str, str]) -> feedparser.FeedParserDict:
    return feedparser.parse(
        body, response_headers=headers, sanitize_html=True, resolve_relative_uris=False
    )


# the prolog gate


class _RootReached(Exception):
    pass


def _without_entity_declarations(body: bytes, feed_url: str) -> bytes:
    """The body, minus its DOCTYPE when that declares entities (located by expat, not by
    pattern: a DOCTYPE inside a comment or CDATA is left alone)."""
    utf16 = body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:2] in (b"<\x00", b"\x00<")
    # iso-8859-1 maps every byte to one character: byte offsets stay exact for any
    # ASCII-compatible encoding, whatever the XML declaration says
    parser = xml.parsers.expat.ParserCreate(None if utf16 else "iso-8859-1")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    span: list[int] = []
    declares: list[str] = []

    def doctype_start(*_: object) -> None:
        span.append(parser.CurrentByteIndex)

    def doctype_end() -> None:
        span.append(parser.CurrentByteIndex)

    def entity(name: str, *_: object) -> None:
        declares.append(name)

    def root(*_: object) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype_start
    parser.EndDoctypeDeclHandler = doctype_end
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = root
    reached_root = False
    try:
        parser.Parse(body, True)
    except _RootReached:
        reached_root = True
    except xml.parsers.expat.ExpatError:
        pass
    if not declares:
        if not reached_root and not utf16 and b"<!ENTITY" in body:
            raise Discard("feed-unsafe", f"{feed_url}: entity declarations in a broken prolog")
        return body
    if utf16 or len(span) != 2:
        raise Discard("feed-unsafe", f"{feed_url}: declares XML entities")
    start = body.rfind(b"<!DOCTYPE", 0, span[0] + 1)
    end = body.find(b">", span[1]) + 1
    if start < 0 or end <= 0:
        raise Discard("feed-unsafe", f"{feed_url}: declares XML entities")
    log.warning(
        "feed %s declares XML entities (%s): its DOCTYPE is ignored",
        feed_url,
        ", ".join(declares[:5]),
    )
    return body[:start] + body[end:]


_ITEM_TAGS = ("item", "entry")


def _repaired_and_trimmed(body: bytes, feed_url: str) -> bytes:
    """A large feed as well-formed XML with at most MAX_ITEMS items, via libxml2."""
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise Discard("feed-unparseable", f"{feed_url}: {exc}") from exc
    if root is None:
        raise Discard("feed-unparseable", f"{feed_url}: no XML element")
    items = [el for el in root.iter() if etree.QName(el).localname in _ITEM_TAGS]
    if len(items) > MAX_ITEMS:
        log.warning("feed %s has %d items, reading the first %d", feed_url, len(items), MAX_ITEMS)
        for element in items[MAX_ITEMS:]:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def _fix_surrogate_refs(body: bytes) -> bytes:
    """Replace numeric character references to UTF-16 surrogates (D800–DFFF) with U+FFFD,
    or a high+low pair with the one character it encodes. Scans `&#` occurrences only."""
    out = bytearray()
    i = 0
    while (amp := body.find(b"&#", i)) >= 0:
        semi = body.find(b";", amp + 2, amp + 12)
        value = _charref_value(body[amp + 2 : semi]) if semi > 0 else None
        if value is None or not 0xD800 <= value <= 0xDFFF:
            out += body[i : amp + 2]
            i = amp + 2
            continue
        out += body[i:amp]
        i = semi + 1
        if value < 0xDC00:
            # a high surrogate followed at once by a low one is one real character
            nxt = body.find(b";", i + 2, i + 12) if body.startswith(b"&#", i) else -1
            low = _charref_value(body[i + 2 : nxt]) if nxt > 0 else None
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                joined = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                out += b"&#x%X;" % joined
                i = nxt + 1
                continue
        out += b"&#xFFFD;"
    out += body[i:]
    return bytes(out)


def _charref_value(digits: bytes) -> int | None:
    try:
        if digits[:1] in (b"x", b"X"):
            return int(digits[1:], 16)
        return int(digits, 10) if digits.isdigit() else None
    except ValueError:
        return None


# JSON Feed


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("application/feed+json", "application/json"):
        return True
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(body: bytes, feed_url: str) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Discard("feed-unparseable", f"{feed_url}: not JSON: {exc}") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise Discard("feed-unparseable", f"{feed_url}: not a JSON Feed")
    entries = document.get("items")
    items: list[FeedItem] = []
    rejected = 0
    for entry in (entries if isinstance(entries, list) else [])[:MAX_ITEMS]:
        item = _json_item(entry, feed_url) if isinstance(entry, dict) else None
        if item is None:
            rejected += 1
        else:
            items.append(item)
    title = document.get("title")
    return ParsedFeed(items, None, None, rejected, title=str(title)[:_MAX_TITLE] if title else None)


def _json_item(entry: dict[str, Any], feed_url: str) -> FeedItem | None:
    url = _link(str(entry.get("url") or entry.get("external_url") or ""), feed_url)
    if url is None:
        return None
    summary = entry.get("summary") or entry.get("content_text") or ""
    published = _iso_date(entry.get("date_published") or entry.get("date_modified"))
    return FeedItem(
        url=url,
        title=str(entry.get("title") or "")[:_MAX_TITLE],
        summary=str(summary)[:_MAX_SUMMARY],
        published_at=published,
        guid=str(entry.get("id") or url)[:_MAX_TITLE],
        author=_json_authors(entry.get("authors") or entry.get("author")),
    )


def _json_authors(value: object) -> str:
    """JSON Feed 1.1 `authors` (a list of objects) or 1.0 `author` (one object)."""
    found = value if isinstance(value, list) else [value]
    names = [str(a.get("name") or "").strip() for a in found if isinstance(a, dict)]
    return "; ".join(n for n in names if n)[:_MAX_TITLE]


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# items


def _link(link: str, base: str) -> str | None:
    link = link.strip()
    if not link:
        return None
    try:
        url = urljoin(base, link)
    except ValueError:  # e.g. http://[::1 (an unclosed IPv6 literal)
        return None
    if len(url) > MAX_LINK or not is_http_url(url):
        return None
    return url


def _item(entry: feedparser.FeedParserDict, feed_url: str) -> FeedItem | None:
    url = _link(str(entry.get("link") or ""), feed_url)
    if url is None:
        return None
    return FeedItem(
        url=url,
        title=str(entry.get("title") or "")[:_MAX_TITLE],
        summary=str(entry.get("summary") or "")[:_MAX_SUMMARY],
        published_at=_date(entry),
        guid=str(entry.get("id") or url)[:_MAX_TITLE],
        author=str(entry.get("author") or "")[:_MAX_TITLE],
    )


def _date(entry: feedparser.FeedParserDict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _ttl(feed: feedparser.FeedParserDict) -> float | None:
    ttl = str(feed.get("ttl") or "").strip()
    return float(ttl) * 60 if ttl.isdigit() else None


_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 7 * 86400.0}
_PERIODS |= {"monthly": 30 * 86400.0, "yearly": 365 * 86400.0}


def _update_period(feed: feedparser.FeedParserDict) -> float | None:
    """RSS syndication module: the period (default daily) divided by the frequency."""
    period = str(feed.get("sy_updateperiod") or "").strip().lower()
    frequency = str(feed.get("sy_updatefrequency") or "1").strip()
    if period not in _PERIODS or not frequency.isdigit() or int(frequency) == 0:
        return None
    return _PERIODS[period] / int(frequency)
