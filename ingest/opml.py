"""OPML 1.0 / 2.0 subscription lists in and out (`chipwire sources import|export --opml`).

Reading: every `<outline>` with an `xmlUrl`, at any depth (folders nest), becomes a feed
source named by its `title`, else `text`, else its `htmlUrl`'s or feed's host. The XML is
read by defusedxml with DTDs refused, so no entity is ever expanded and nothing is fetched.

Writing: one outline per source (`type="rss"` for feeds; `type="link"` with `url` for the
Federal Register and listing pages, which other readers cannot poll). Each carries the
whole source as JSON in a `chipwire:source` attribute (its own namespace), so export then
import gives back the same sources; other readers ignore the attribute.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from ingest.sources import Source, SourcesError
from ingest.sources_file import feed_key, new_id

NS = "https://github.com/chipwire/chipwire/opml"
SOURCE_ATTR = f"{{{NS}}}source"
MAX_OPML_BYTES = 10_000_000
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Imported:
    added: list[Source] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # feed URLs already present
    invalid: list[str] = field(default_factory=list)  # one line per outline refused


def read_opml(data: bytes, existing: list[Source], where: str = "OPML") -> Imported:
    """The sources an OPML document adds to `existing`: new feeds only (compared by
    canonical URL), each with an id not taken yet."""
    outcome = Imported()
    taken = {s.id for s in existing}
    known = {feed_key(s.feed) for s in existing}
    for outline in _outlines(data, where):
        source = _source_of(outline, taken, outcome)
        if source is None:
            continue
        if feed_key(source.feed) in known:
            outcome.duplicates.append(source.feed)
            continue
        outcome.added.append(source)
        taken.add(source.id)
        known.add(feed_key(source.feed))
    return outcome


def _outlines(data: bytes, where: str) -> list[dict[str, str]]:
    if len(data) > MAX_OPML_BYTES:
        raise SourcesError(f"{where}: over {MAX_OPML_BYTES} bytes, not read")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SourcesError(f"{where}: refused, it declares a DTD or entities ({exc})") from exc
    except ET.ParseError as exc:
        raise SourcesError(f"{where}: not well-formed XML: {exc}") from exc
    if root.tag != "opml":
        raise SourcesError(f"{where}: not OPML (the root element is <{root.tag}>)")
    return [
        {key if key.startswith("{") else key.lower(): value for key, value in el.attrib.items()}
        for el in root.iter("outline")
    ]


def _source_of(outline: dict[str, str], taken: set[str], outcome: Imported) -> Source | None:
    """A source from one outline; None for folders, links and refused outlines."""
    own = outline.get(SOURCE_ATTR)
    feed = (outline.get("xmlurl") or (outline.get("url") if own else "") or "").strip()
    if not feed:
        return None  # a folder, or a plain link
    name = (outline.get("title") or outline.get("text") or "").strip()
    try:
        if own:
            fields = json.loads(own)
            if not isinstance(fields, dict):
                raise ValueError("chipwire:source is not a JSON object")
            fields["feed"] = feed
            if fields.get("id") in taken:
                fields["id"] = new_id(str(fields.get("name") or name), feed, taken)
            return Source.model_validate(fields)
        name = name or urlsplit(outline.get("htmlurl") or feed).hostname or feed
        return Source(id=new_id(name, feed, taken), name=name, feed=feed)
    except (ValueError, ValidationError) as exc:
        outcome.invalid.append(f"{feed[:200]}: {_first_error(exc)}")
        return None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'entry'}: {first['msg']}"
    return str(exc)


def write_opml(sources: list[Source], title: str = "chipwire sources") -> bytes:
    """OPML 2.0 with every source, in order; export then import gives the same sources."""
    ET.register_namespace("chipwire", NS)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for source in sources:
        name = _XML_INVALID.sub("", source.name)
        outline = ET.SubElement(body, "outline", text=name, title=name)
        if source.kind == "feed":
            outline.set("type", "rss")
            outline.set("xmlUrl", source.feed)
        else:
            outline.set("type", "link")
            outline.set("url", source.feed)
        fields = source.model_dump(mode="json", exclude_defaults=True)
        outline.set(SOURCE_ATTR, json.dumps(fields, sort_keys=True))
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
