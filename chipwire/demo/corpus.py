"""The sample corpus: invented articles and outlets, loaded from package data.

Every article is our own writing, modelled on public events of January 2026 and marked
as sample data on its page. `expected` records what a careful reader takes from each
one, so tests can judge the tagger and the alerter on realistic prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, Literal

import yaml

Direction = Literal["restrict", "ease"]
FeedFormat = Literal["rss", "atom"]


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    tagline: str
    feed_format: FeedFormat
    link_query: str
    canonical: bool
    evergreen: tuple[str, ...]


@dataclass(frozen=True)
class DemoArticle:
    outlet: str
    slug: str
    section: str
    title: str
    authors: tuple[str, ...]
    date: datetime
    lead: str
    body: tuple[str, ...]
    relevant: bool
    direction: Direction | None
    jurisdiction: str | None
    action: str | None
    subject: str | None
    near_copy_of: str | None = None

    @property
    def key(self) -> str:
        """`<outlet>/<slug>`, the form `near_copy_of` uses."""
        return f"{self.outlet}/{self.slug}"

    @property
    def path(self) -> str:
        return f"/articles/{self.outlet}/{self.slug}.html"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return (self.lead, *self.body)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files(__package__).joinpath("corpus", name).read_text("utf-8"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def load_outlets() -> tuple[Outlet, ...]:
    return tuple(
        Outlet(
            id=o["id"],
            name=o["name"],
            tagline=o["tagline"],
            feed_format=o["feed_format"],
            link_query=o["link_query"],
            canonical=bool(o["canonical"]),
            evergreen=tuple(o["evergreen"]),
        )
        for o in _read("outlets.yaml")["outlets"]
    )


def load_articles() -> tuple[DemoArticle, ...]:
    """All sample articles, oldest first (the order a reader meets them)."""
    articles = []
    for a in _read("articles.yaml")["articles"]:
        expected = a["expected"]
        articles.append(
            DemoArticle(
                outlet=a["outlet"],
                slug=a["slug"],
                section=a["section"],
                title=a["title"],
                authors=tuple(a["authors"]),
                date=datetime.fromisoformat(a["date"]),
                lead=_flat(a["lead"]),
                body=tuple(_flat(p) for p in a["body"]),
                relevant=bool(expected["relevant"]),
                direction=expected["direction"],
                jurisdiction=expected["jurisdiction"],
                action=expected["action"],
                subject=expected["subject"],
                near_copy_of=a.get("near_copy_of"),
            )
        )
    return tuple(sorted(articles, key=lambda art: art.date))


DEMO_OUTLETS: tuple[Outlet, ...] = load_outlets()
DEMO_ARTICLES: tuple[DemoArticle, ...] = load_articles()
