"""Render the sample corpus as the web would show it: article pages and feeds.

Each outlet has its own Jinja2 page template with realistic chrome (navigation,
breadcrumbs, share buttons, a "Related articles" block, newsletter box, footer), so
extraction is exercised on pages, not on clean text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import jinja2

from chipwire.demo.corpus import DEMO_ARTICLES, DEMO_OUTLETS, DemoArticle, Outlet

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("chipwire.demo", "corpus/templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)
_OUTLETS = {o.id: o for o in DEMO_OUTLETS}
_BY_KEY = {a.key: a for a in DEMO_ARTICLES}
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
RELATED_COUNT = 3


@dataclass(frozen=True)
class _Link:
    title: str
    url: str


def outlet(outlet_id: str) -> Outlet:
    return _OUTLETS[outlet_id]


def feed_link(article: DemoArticle, base_url: str) -> str:
    """The item link as the outlet's feed gives it (some add tracking parameters)."""
    query = outlet(article.outlet).link_query
    return article.url(base_url) + (f"?{query}" if query else "")


def render_page(article: DemoArticle, base_url: str) -> str:
    source = outlet(article.outlet)
    original = _BY_KEY.get(article.near_copy_of or "")
    if original is not None:
        canonical: str | None = original.url(base_url)
    else:
        canonical = article.url(base_url) if source.canonical else None
    return _ENV.get_template(f"{source.id}.html.j2").render(
        a=_PageView(article),
        outlet=source,
        base_url=base_url,
        page_url=article.url(base_url),
        canonical_url=canonical,
        related=_related(article, base_url),
        original=_Original(outlet(original.outlet).name) if original else None,
    )


def render_feed(source: Outlet, articles: Sequence[DemoArticle], base_url: str) -> bytes:
    """The outlet's feed (RSS 2.0 or Atom), newest item first."""
    items = sorted((a for a in articles if a.outlet == source.id), key=lambda a: a.date)
    items.reverse()
    if source.feed_format == "atom":
        return _atom(source, items, base_url)
    return _rss(source, items, base_url)


def _related(article: DemoArticle, base_url: str) -> list[_Link]:
    """Earlier stories, same outlet first, then the outlet's evergreen teasers."""
    pair = {article.key, article.near_copy_of}
    pair |= {a.key for a in DEMO_ARTICLES if a.near_copy_of == article.key}
    earlier = [a for a in DEMO_ARTICLES if a.date < article.date and a.key not in pair]
    earlier.sort(key=lambda a: (a.outlet == article.outlet, a.date), reverse=True)
    links = [_Link(a.title, a.url(base_url)) for a in earlier[:RELATED_COUNT]]
    for title in outlet(article.outlet).evergreen:
        links.append(_Link(title, f"{base_url}/archive/{_slugify(title)}"))
    return links


def _rss(source: Outlet, items: Sequence[DemoArticle], base_url: str) -> bytes:
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("dc", DC_NS)
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", f"{source.name} (sample)")
    _text(channel, "link", f"{base_url}/")
    _text(channel, "description", f"{source.tagline}. Sample data for the chipwire demo.")
    _text(channel, "language", "en")
    if items:
        _text(channel, "lastBuildDate", format_datetime(items[0].date.astimezone(UTC)))
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        href=f"{base_url}/feeds/{source.id}.xml",
        rel="self",
        type="application/rss+xml",
    )
    for a in items:
        item = ET.SubElement(channel, "item")
        _text(item, "title", a.title)
        _text(item, "link", feed_link(a, base_url))
        ET.SubElement(item, "guid", isPermaLink="false").text = f"{source.id}:{a.slug}"
        _text(item, "pubDate", format_datetime(a.date.astimezone(UTC)))
        _text(item, f"{{{DC_NS}}}creator", ", ".join(a.authors))
        _text(item, "category", a.section)
        _text(item, "description", a.lead)
    return _xml(rss)


def _atom(source: Outlet, items: Sequence[DemoArticle], base_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        node.text = text
        return node

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "title", f"{source.name} (sample)")
    sub(feed, "subtitle", f"{source.tagline}. Sample data for the chipwire demo.")
    sub(feed, "id", f"{base_url}/feeds/{source.id}.xml")
    sub(feed, "link", href=f"{base_url}/feeds/{source.id}.xml", rel="self")
    sub(feed, "link", href=f"{base_url}/", rel="alternate")
    newest = items[0].date if items else datetime(2026, 1, 1, tzinfo=UTC)
    sub(feed, "updated", newest.isoformat())
    for a in items:
        entry = sub(feed, "entry")
        sub(entry, "title", a.title)
        sub(entry, "link", href=feed_link(a, base_url), rel="alternate")
        sub(entry, "id", f"tag:{source.id}.example,2026:{a.slug}")
        sub(entry, "published", a.date.isoformat())
        sub(entry, "updated", a.date.isoformat())
        for name in a.authors:
            sub(sub(entry, "author"), "name", name)
        sub(entry, "summary", a.lead)
    return _xml(feed)


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _xml(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _PageView:
    """What a template sees of an article, with display-ready dates."""

    def __init__(self, article: DemoArticle) -> None:
        self.title = article.title
        self.authors = article.authors
        self.section = article.section
        self.lead = article.lead
        self.body = article.body
        self.date_iso = article.date.isoformat()
        self.date_human = article.date.astimezone(UTC).strftime("%-d %B %Y, %H:%M UTC")


@dataclass(frozen=True)
class _Original:
    outlet_name: str
