"""Source adapters: list a source's new documents since a cursor.

One small interface for every `kind` in the sources file (docs/SOURCES.md):

    Adapter = (source, previous state) -> steps: yields each Fetch it needs, is sent
              its FetchResult, returns the Listing

The adapter says what to fetch and the crawler fetches it (ingest/crawl.py: SSRF checks,
size cap, deadline), so a listing's follow-up pages wait for their host's politeness slot
on the crawl's event loop, never in a worker; `list_new` runs an adapter with a plain
`get` (the `sources check` command, tests). A `Listing` holds feed items (URL,
title, date, and for official documents agency, document type, language, effective date)
and the new cursor, which the crawler stores only when every item was taken.

- `feed`: RSS, Atom or JSON Feed (ingest/feeds.py), conditional GET; no cursor needed.
- `federal_register`: the Federal Register documents API (JSON), newest first, filtered by
  agency slugs and document types, paged by `next_page_url`; the cursor is the newest
  publication date seen, sent back as `conditions[publication_date][gte]`.
- `html_list`: an agency's announcement listing page read by CSS selectors, paged by a
  next-page selector; the cursor is the newest listing date seen; items older than it are
  skipped, and paging stops at the first page that holds one (listings are newest first).

An item's agency is the source's (`agency:` in the sources file) or, for the Federal
Register, the document's own agency; it is never guessed from the text.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.html
from lxml import etree

from chipwire.errors import Discard
from ingest.cadence import Hint, feed_hints, header_hints
from ingest.canonical import is_http_url
from ingest.extract import decode_html
from ingest.feeds import MAX_ITEMS, MAX_LINK, FeedItem, parse_feed
from ingest.fetch import FetchResult
from ingest.sources import FederalRegisterParams, HtmlListParams, Source
from ingest.state import FeedState

log = logging.getLogger(__name__)

_MAX_TITLE = 1_000
_MAX_SUMMARY = 10_000


class Get(Protocol):
    """A fetch. `paging=True` for a listing's follow-up pages (polite wait)."""

    def __call__(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        paging: bool = False,
    ) -> FetchResult: ...


@dataclass(frozen=True)
class Listing:
    items: list[FeedItem]
    cursor: str | None = None  # stored for the next poll (None: keep the previous one)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    ttl_s: float | None = None
    warning: str | None = None
    rejected: int = 0  # items without a usable link
    # adaptive polling (ingest/cadence.py): the response's caching headers, and what the
    # feed body says (None when no body was read: the last ones still hold)
    http_hints: tuple[Hint, ...] = ()
    feed_hints: tuple[Hint, ...] | None = None
    title: str | None = None  # the feed's own title, when it has one


@dataclass(frozen=True)
class Fetch:
    """What an adapter asks to be fetched next."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    paging: bool = False  # a follow-up page of the same listing: waits for its host's slot


Steps = Generator[Fetch, FetchResult, Listing]
Adapter = Callable[[Source, FeedState], Steps]


def listing_steps(source: Source, previous: FeedState) -> Steps:
    """The source's documents new since `previous` (its cursor and validators), as steps."""
    return ADAPTERS[source.kind](source, previous)


def advance(steps: Steps, result: FetchResult | None) -> Fetch | Listing:
    """Send the last fetch's result (None to begin): the next fetch, or the listing."""
    try:
        return steps.send(result)  # type: ignore[arg-type]  # None only starts the steps
    except StopIteration as done:
        listing: Listing = done.value
        return listing


def list_new(source: Source, get: Get, previous: FeedState) -> Listing:
    """The source's documents new since `previous`, fetched with `get` in this thread."""
    steps = listing_steps(source, previous)
    step = advance(steps, None)
    while isinstance(step, Fetch):
        fetched = get(
            step.url, etag=step.etag, last_modified=step.last_modified, paging=step.paging
        )
        step = advance(steps, fetched)
    return step


# feed


def list_feed(source: Source, previous: FeedState) -> Steps:
    result = yield Fetch(source.feed, etag=previous.etag, last_modified=previous.last_modified)
    http_hints = header_hints(result.headers, time.time())
    if result.not_modified:
        return Listing(
            [],
            not_modified=True,
            etag=_etag(result),
            last_modified=_lm(result),
            http_hints=http_hints,
        )
    # relative links resolve against where the feed is now, after redirects
    parsed = parse_feed(result.body, result.url, result.headers.get("content-type"))
    return Listing(
        parsed.items,
        etag=_etag(result),
        last_modified=_lm(result),
        ttl_s=parsed.ttl_s,
        warning=parsed.warning,
        rejected=parsed.rejected,
        http_hints=http_hints,
        feed_hints=feed_hints(parsed.ttl_s, parsed.update_period_s),
        title=parsed.title,
    )


def _etag(result: FetchResult) -> str | None:
    return result.headers.get("etag")


def _lm(result: FetchResult) -> str | None:
    return result.headers.get("last-modified")


# federal_register

FR_FIELDS = (
    "title",
    "type",
    "abstract",
    "document_number",
    "html_url",
    "publication_date",
    "effective_on",
    "agencies",
)
FR_TYPES = {
    "rule": "rule",
    "proposed rule": "proposed_rule",
    "notice": "notice",
    "presidential document": "presidential_document",
}
# Federal Register agency slugs -> taxonomy ids (enrich/taxonomy/agencies.yaml)
FR_AGENCIES = {
    "industry-and-security-bureau": "US:BIS",
    "commerce-department": "US:DOC",
    "trade-representative-office-of-united-states": "US:USTR",
    "foreign-assets-control-office": "US:TREASURY",
    "treasury-department": "US:TREASURY",
    "justice-department": "US:DOJ",
    "defense-department": "US:DOD",
    "federal-communications-commission": "US:FCC",
    "executive-office-of-the-president": "US:WH",
}


def federal_register_url(base: str, params: FederalRegisterParams, since: str | None) -> str:
    """The first page's URL: newest first, filtered by agency and type, since a date."""
    query: list[tuple[str, str]] = [("conditions[agencies][]", a) for a in params.agencies]
    query += [("conditions[type][]", t) for t in params.types]
    if params.term:
        query.append(("conditions[term]", params.term))
    if since:
        query.append(("conditions[publication_date][gte]", since))
    query += [("fields[]", f) for f in FR_FIELDS]
    query += [("order", "newest"), ("per_page", str(params.per_page))]
    return base + ("&" if "?" in base else "?") + urlencode(query)


def list_federal_register(source: Source, previous: FeedState) -> Steps:
    params = source.federal_register or FederalRegisterParams()
    since = _iso_day(previous.cursor)
    first = federal_register_url(source.feed, params, since.isoformat() if since else None)
    url: str | None = first
    items: list[FeedItem] = []
    rejected = 0
    newest = since
    for page in range(params.max_pages):
        assert url is not None
        result = yield Fetch(url, paging=page > 0)
        document = _json(result.body, result.url)
        results = document.get("results")
        for entry in results if isinstance(results, list) else []:
            item = _fr_item(entry, source, result.url) if isinstance(entry, dict) else None
            if item is None:
                rejected += 1
                continue
            day = item.published_at.date() if item.published_at else None
            if since and day and day < since:
                continue  # the API filters by date already; a server that does not is held to it
            items.append(item)
            if day and (newest is None or day > newest):
                newest = day
        url = _next_page(document.get("next_page_url"), result.url)
        if url is None or len(items) >= MAX_ITEMS:
            break
    else:
        log.info("federal register %s: stopped after %d pages", source.id, params.max_pages)
    return Listing(items, cursor=newest.isoformat() if newest else None, rejected=rejected)


def _json(body: bytes, url: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Discard("listing-unparseable", f"{url}: not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise Discard("listing-unparseable", f"{url}: not a Federal Register response")
    if "errors" in document and "results" not in document:
        raise Discard("listing-unparseable", f"{url}: API error: {str(document['errors'])[:300]}")
    return document


def _next_page(value: object, current: str) -> str | None:
    """The next page's URL, only on the host that served this one (never a detour)."""
    if not isinstance(value, str) or not value:
        return None
    url = _link(value, current)
    if url is None or urlsplit(url).netloc != urlsplit(current).netloc:
        log.warning("next page %r ignored: not on %s", value, urlsplit(current).netloc)
        return None
    return url


def _fr_item(entry: dict[str, Any], source: Source, base: str) -> FeedItem | None:
    url = _link(str(entry.get("html_url") or ""), base)
    if url is None:
        return None
    published = _iso_day(entry.get("publication_date"))
    kind = str(entry.get("type") or "").strip().lower()
    return FeedItem(
        url=url,
        title=str(entry.get("title") or "")[:_MAX_TITLE],
        summary=str(entry.get("abstract") or "")[:_MAX_SUMMARY],
        published_at=_midnight(published),
        guid=str(entry.get("document_number") or url)[:_MAX_TITLE],
        agency=source.agency or _fr_agency(entry.get("agencies"), source),
        document_type=FR_TYPES.get(kind, kind.replace(" ", "_") or None),
        language=source.language or "en",
        effective_on=_iso_day(entry.get("effective_on")),
    )


def _fr_agency(agencies: object, source: Source) -> str | None:
    """The document's agency as a taxonomy id: one the source asked for first."""
    slugs = (
        [str(a.get("slug") or "") for a in agencies if isinstance(a, dict)]
        if isinstance(agencies, list)
        else []
    )
    wanted = source.federal_register.agencies if source.federal_register else []
    for slug in sorted(slugs, key=lambda s: s not in wanted):
        if slug in FR_AGENCIES:
            return FR_AGENCIES[slug]
    return None


# html_list


def list_html(source: Source, previous: FeedState) -> Steps:
    params = source.html_list
    assert params is not None  # the sources file's validator requires it for this kind
    since = _iso_day(previous.cursor)
    url: str | None = source.feed
    visited: set[str] = set()
    items: list[FeedItem] = []
    rejected = 0
    newest = since
    for page in range(params.max_pages):
        assert url is not None
        visited.add(url)
        result = yield Fetch(url, paging=page > 0)
        root = _html_root(result)
        reached_cursor = False
        for element in root.cssselect(params.item):
            item = _html_item(element, params, source, result.url)
            if item is None:
                rejected += 1
                continue
            day = item.published_at.date() if item.published_at else None
            if since and day and day < since:
                reached_cursor = True
                continue
            items.append(item)
            if day and (newest is None or day > newest):
                newest = day
        if reached_cursor:
            break  # listings are newest first: the next page is older than the cursor
        url = _next_listing_page(root, params, result.url, visited)
        if url is None or len(items) >= MAX_ITEMS:
            break
    return Listing(_unique(items), cursor=newest.isoformat() if newest else None, rejected=rejected)


def _html_root(result: FetchResult) -> lxml.html.HtmlElement:
    text = decode_html(result.body, result.headers.get("content-type"))
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise Discard("listing-unparseable", f"{result.url}: {exc}") from exc
    return root


def _html_item(
    element: lxml.html.HtmlElement, params: HtmlListParams, source: Source, base: str
) -> FeedItem | None:
    link = element if element.tag == "a" and element.get("href") else _first(element, params.link)
    if link is None:
        return None
    url = _link(link.get("href") or "", base)
    if url is None:
        return None
    title_el = _first(element, params.title) if params.title else link
    title = _text(title_el if title_el is not None else link) or (link.get("title") or "")
    date_el = _first(element, params.date) if params.date else element
    published = parse_listing_date(_text(date_el) if date_el is not None else "")
    return FeedItem(
        url=url,
        title=title[:_MAX_TITLE],
        summary="",
        published_at=_midnight(published),
        guid=url,
        agency=source.agency,
        document_type="announcement",
        language=source.language,
    )


def _next_listing_page(
    root: lxml.html.HtmlElement, params: HtmlListParams, base: str, visited: set[str]
) -> str | None:
    if not params.next:
        return None
    found = _first(root, params.next)
    href = found.get("href") if found is not None else None
    url = _next_page(href, base) if href else None
    return None if url is None or url in visited else url


def _first(element: lxml.html.HtmlElement, selector: str | None) -> lxml.html.HtmlElement | None:
    if not selector:
        return None
    found = element.cssselect(selector)
    return found[0] if found else None


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _unique(items: list[FeedItem]) -> list[FeedItem]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.url not in seen:
            seen.add(item.url)
            out.append(item)
    return out


# dates

_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d)(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})", re.IGNORECASE)


def parse_listing_date(text: str) -> date | None:
    """The first date in a listing's text: 2025年11月9日, 2025-11-09, 2025/11/9, 2025.11.09,
    9 November 2025, November 9, 2025 (and three-letter months). None when there is none."""
    for pattern in (_CJK_DATE, _NUMERIC_DATE):
        match = pattern.search(text)
        if match:
            found = _date(*(int(g) for g in match.groups()))
            if found:
                return found
    match = _DAY_MONTH_YEAR.search(text)
    if match:
        return _date(int(match[3]), _MONTHS[match[2].lower()], int(match[1]))
    match = _MONTH_DAY_YEAR.search(text)
    if match:
        return _date(int(match[3]), _MONTHS[match[1].lower()], int(match[2]))
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso_day(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _midnight(day: date | None) -> datetime | None:
    """A listing gives the day only: midnight UTC of it (the page's own date refines it)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _link(link: str, base: str) -> str | None:
    link = link.strip()
    if not link:
        return None
    try:
        url = urljoin(base, link)
    except ValueError:
        return None
    if len(url) > MAX_LINK or not is_http_url(url):
        return None
    return url.split("#")[0]


ADAPTERS: dict[str, Adapter] = {
    "feed": list_feed,
    "federal_register": list_federal_register,
    "html_list": list_html,
}
