"""What the page shows, computed without HTTP: the search form's state and its URLs,
facet links, the weekly histogram as inline SVG, and an article's text with its evidence
sentences marked. Pure functions, so they are tested without a server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode

from chipwire.contract import EnrichedArticle, Signal
from index.backend import FacetBucket, SearchRequest
from index.query import QueryError

PAGE_SIZE = 20
LIST_FILTERS = ("chips", "companies", "agencies", "countries", "jurisdiction", "stance")
FILTER_LABELS = {
    "chips": "Chip",
    "companies": "Company",
    "agencies": "Agency",
    "countries": "Country",
    "jurisdiction": "Acting jurisdiction",
    "stance": "Stance",
}
STANCES = ("restrict", "ease", "mixed", "none")
STANCE_COLOURS = {"restrict": "#b42318", "ease": "#067647", "mixed": "#b54708", "none": "#667085"}


@dataclass
class SearchForm:
    """The page's search, as its URL says it: every search has a shareable address."""

    query: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    since: str = ""
    until: str = ""
    sort: Literal["relevance", "newest"] = "relevance"
    page: int = 1

    @classmethod
    def from_params(cls, params: list[tuple[str, str]]) -> SearchForm:
        form = cls()
        for key, raw in params:
            value = raw.strip()
            if key in LIST_FILTERS and value and value not in form.filters.get(key, []):
                form.filters.setdefault(key, []).append(value)
            elif key == "query":
                form.query = value
            elif key in ("since", "until"):
                setattr(form, key, value)
            elif key == "sort" and value == "newest":
                form.sort = "newest"
            elif key == "page" and value.isdigit():
                form.page = max(1, int(value))
        return form

    def request(self) -> SearchRequest:
        """Raises QueryError with a message for the analyst (bad date, stance, page)."""
        stances = self.filters.get("stance", [])
        unknown = [s for s in stances if s not in STANCES]
        if unknown:
            raise QueryError(f"unknown stance {unknown[0]!r}: use one of {', '.join(STANCES)}")
        tags = {k: v for k, v in self.filters.items() if k != "stance"}
        return SearchRequest(
            query=self.query,
            stance=stances,  # checked above
            since=_day(self.since, "since"),
            until=_day(self.until, "until"),
            sort=self.sort,
            limit=PAGE_SIZE,
            offset=(self.page - 1) * PAGE_SIZE,
            **tags,
        )

    def params(self, **change: object) -> list[tuple[str, str]]:
        """This search's URL parameters, with `change` applied (page resets to 1)."""
        query = change.get("query", self.query)
        pairs: list[tuple[str, str]] = [("query", str(query))] if query else []
        for key in LIST_FILTERS:
            pairs += [(key, v) for v in self.filters.get(key, [])]
        for key in ("since", "until"):
            if getattr(self, key):
                pairs.append((key, getattr(self, key)))
        if change.get("sort", self.sort) == "newest":
            pairs.append(("sort", "newest"))
        page = int(str(change.get("page", 1)))
        if page > 1:
            pairs.append(("page", str(page)))
        return pairs

    def url(self, **change: object) -> str:
        encoded = urlencode(self.params(**change))
        return f"/?{encoded}" if encoded else "/"

    def toggle_url(self, key: str, value: str) -> str:
        """The URL with this facet value added, or removed if it is already chosen."""
        chosen = self.filters.get(key, [])
        new = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
        other = SearchForm(
            self.query, {**self.filters, key: new}, self.since, self.until, self.sort
        )
        return other.url()

    def api_url(self) -> str:
        """The same search from the JSON API (dates as the API spells them)."""
        pairs = [(k, v) for k, v in self.params(page=self.page) if k not in ("page",)]
        pairs = [(k, f"{v}T00:00:00Z" if k in ("since", "until") else v) for k, v in pairs]
        pairs += [("limit", str(PAGE_SIZE)), ("offset", str((self.page - 1) * PAGE_SIZE))]
        return "/api/search?" + urlencode(pairs)

    def chosen(self, key: str, value: str) -> bool:
        return value in self.filters.get(key, [])


def _day(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None


# -- the weekly histogram ----------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Histogram:
    """Matching articles per week, stacked by stance, drawn as inline SVG by the template."""

    width: int
    height: int
    bars: list[Bar]
    first: str
    last: str
    summary: str  # the same numbers in words, for screen readers


def histogram(buckets: list[FacetBucket], width: int = 640, height: int = 120) -> Histogram | None:
    weeks: dict[str, dict[str, int]] = {}
    for b in buckets:
        monday, _, stance = b.key.partition("/")
        weeks.setdefault(monday, {})[stance] = weeks.get(monday, {}).get(stance, 0) + b.count
    if not weeks:
        return None
    ordered = _every_week(min(weeks), max(weeks))  # a quiet week shows as a gap
    tallest = max(sum(w.values()) for w in weeks.values())
    slot = width / len(ordered)
    bars = []
    for i, monday in enumerate(ordered):
        y = float(height)
        for stance in STANCES:
            count = weeks.get(monday, {}).get(stance, 0)
            if count:
                h = (height - 14) * count / tallest
                y -= h
                label = f"week of {monday}: {count} {stance}"
                bars.append(
                    Bar(i * slot, y, max(2.0, slot * 0.8), h, STANCE_COLOURS[stance], label)
                )
    summary = "; ".join(
        f"week of {m}: " + ", ".join(f"{n} {s}" for s, n in sorted(weeks[m].items()))
        for m in sorted(weeks)
    )
    return Histogram(width, height, bars, ordered[0], ordered[-1], summary)


def _every_week(first: str, last: str, most: int = 520) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    count = min((end - start).days // 7 + 1, most)
    return [(start + timedelta(weeks=i)).isoformat() for i in range(count)]


# -- an article's text with its evidence marked ------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    signal: int | None = None  # index into the article's signals when this is evidence


def evidence_spans(article: EnrichedArticle) -> dict[int, tuple[int, int]]:
    """Where each signal's evidence sentence is in the text (by its offsets, else found)."""
    spans: dict[int, tuple[int, int]] = {}
    for i, s in enumerate(article.signals):
        span = _locate(article.text, s)
        if span is not None and not any(_overlap(span, other) for other in spans.values()):
            spans[i] = span
    return spans


def marked_text(article: EnrichedArticle) -> list[Segment]:
    spans = sorted((start, end, i) for i, (start, end) in evidence_spans(article).items())
    segments: list[Segment] = []
    at = 0
    for start, end, i in spans:
        if start > at:
            segments.append(Segment(article.text[at:start]))
        segments.append(Segment(article.text[start:end], i))
        at = end
    if at < len(article.text):
        segments.append(Segment(article.text[at:]))
    return segments


def _locate(text: str, s: Signal) -> tuple[int, int] | None:
    if s.evidence_end > s.evidence_start and text[s.evidence_start : s.evidence_end] == s.evidence:
        return s.evidence_start, s.evidence_end
    found = text.find(s.evidence) if s.evidence else -1
    return (found, found + len(s.evidence)) if found >= 0 else None


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def delay(seconds: float | None) -> str:
    """A delay as a reader says it: "—", "12 min", "3.5 h", "2 days"; negative is "before"."""
    if seconds is None:
        return "—"
    size = abs(seconds)
    if size < 3600:
        text = f"{round(size / 60)} min"
    elif size < 2 * 86400:
        text = f"{size / 3600:.1f} h"
    else:
        text = f"{size / 86400:.1f} days"
    return f"{text} before" if seconds < 0 else text
