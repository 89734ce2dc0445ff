"""Feed bytes → items, with the guards feedparser does not have on its own.

feedparser is given bytes only (a str may be read as a local path), after the DTD is
stripped (an internal-subset entity can expand to hundreds of MB) and lone-surrogate
character references are removed (they make parse() raise). Items keep only http(s) links.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from chipwire.errors import Discard
from ingest.canonical import is_http_url

_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_SURROGATE_REF = re.compile(rb"&#(?:x0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*5[5-7][0-9]{3});")
_MAX_TITLE = 1_000
_MAX_SUMMARY = 10_000


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str
    summary: str
    published_at: datetime | None
    guid: str


@dataclass(frozen=True)
class ParsedFeed:
    items: list[FeedItem]
    ttl_s: float | None
    warning: str | None  # feedparser's bozo exception, when the feed was only partly well-formed


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed body; raise Discard when nothing usable is in it."""
    safe = _SURROGATE_REF.sub(b"", _DOCTYPE.sub(b"", body, count=1))
    headers = {"content-type": content_type} if content_type else None
    try:
        parsed = feedparser.parse(
            safe, response_headers=headers, sanitize_html=True, resolve_relative_uris=False
        )
    except Exception as exc:  # feedparser raises more than it documents
        raise Discard("feed-unparseable", f"{feed_url}: {type(exc).__name__}: {exc}") from exc
    bozo = parsed.get("bozo_exception")
    warning = f"{type(bozo).__name__}: {bozo}" if parsed.get("bozo") else None
    if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("version")):
        raise Discard("feed-unparseable", f"{feed_url}: {warning or 'not a feed'}")
    items = [
        item for entry in parsed.get("entries", []) if (item := _item(entry, feed_url)) is not None
    ]
    return ParsedFeed(items=items, ttl_s=_ttl(parsed.get("feed", {})), warning=warning)


def _item(entry: feedparser.FeedParserDict, feed_url: str) -> FeedItem | None:
    link = str(entry.get("link") or "").strip()
    if not link:
        return None
    url = urljoin(feed_url, link)
    if not is_http_url(url):
        return None
    return FeedItem(
        url=url,
        title=str(entry.get("title") or "")[:_MAX_TITLE],
        summary=str(entry.get("summary") or "")[:_MAX_SUMMARY],
        published_at=_date(entry),
        guid=str(entry.get("id") or url)[:_MAX_TITLE],
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
