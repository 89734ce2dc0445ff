"""Event stories: which reports, across outlets and languages, tell of the same event.

Two levels of grouping travel on every enriched article:

- `story_id`, the **copy** cluster (set by the crawler, ingest/dedupe.py): syndicated
  copies and light rewrites of one text. Corroboration counts one report per copy cluster.
- `event_id`, the **event story**: independent reports of one move by different outlets,
  in any language. Shown together; each publisher still counts on its own.

The rule reads the parts of an article that do not depend on its language — the tagger
maps 英伟达 and Nvidia, 海关总署 and China's customs to the same ids — so an English and a
Chinese report of one announcement meet on them:

- copies of one text are one event;
- otherwise both reports lie within `window` of each other, and
  - when both read a policy move: they share a move (subject, acting government,
    direction) and at least one more thing: an action, an agency, a number (25 %,
    400,000 = 40万, $5.5bn) or similar words;
  - when either reads none: same language, a shared chip or company, and clearly
    similar words.

The rule is symmetric, so the events are the connected components of "same event" over
all reports: they do not depend on the order reports arrive in (enrich/event_store.py).
An event is named after its earliest report (publication time, then article id).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from chipwire.contract import EnrichedArticle, Signal

WINDOW = timedelta(days=3)
MIN_SIGNAL_CONFIDENCE = 0.5
TEXT_SUPPORT = 0.12  # words shared enough to back a shared move
TEXT_SAME = 0.3  # words shared enough to join two reports without a move
TEXT_CHARS = 3000  # title and the start of the text: where a report says what happened

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# The number's first digit comes first, then what may not stand before it: a pattern
# that opens on a character class lets the regex engine skip to the next digit in C
# (the same matches as "(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)…")
_NUMBER = re.compile(
    r"(\d(?<![A-Za-z0-9.]\d)(?:\d{0,2}(?:,\d{3})+|\d*))(?:\.(\d+))?\s*"
    r"(%|％|per ?cent|万|亿|thousand|million|billion|mn|bn|m|b)?(?![A-Za-z])",
    re.IGNORECASE,
)
_SCALE = {
    "万": 1e4,
    "亿": 1e8,
    "thousand": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
}
_PERCENT = {"%", "％", "percent", "per cent"}
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "that",
        "with",
        "from",
        "this",
        "said",
        "says",
        "have",
        "has",
        "had",
        "will",
        "would",
        "been",
        "were",
        "was",
        "are",
        "its",
        "their",
        "they",
        "them",
        "than",
        "then",
        "into",
        "over",
        "also",
        "which",
        "who",
        "what",
        "when",
        "where",
        "while",
        "after",
        "before",
        "about",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "could",
        "should",
        "may",
        "might",
        "not",
        "but",
        "can",
        "our",
        "your",
        "his",
        "her",
        "new",
        "one",
        "two",
        "year",
        "years",
        "week",
        "weeks",
        "month",
        "months",
        "people",
    ]
)


@dataclass(frozen=True)
class Report:
    """What the event rule reads from one enriched article."""

    article_id: str
    copy_id: str
    published: datetime  # published_at, else fetched_at
    language: str
    moves: frozenset[str]  # "subject|jurisdiction|direction"
    actions: frozenset[str]
    agencies: frozenset[str]
    entities: frozenset[str]  # chips and companies
    numbers: frozenset[str]
    words: frozenset[str]  # content words (Chinese: character bigrams)

    def filed_keys(self) -> frozenset[str]:
        """Where the store files this report. Every report that `same_event` may join to
        it looks under one of these (`lookup_keys`): copies under the copy id; reports of
        a move under it; and, for the words-only rule (one language, a shared chip or
        company), under each entity and language, apart for reports with and without a
        move, so that two reports of a move never meet there."""
        entity = "moved" if self.moves else "entity"
        return frozenset(
            {
                f"copy:{self.copy_id}",
                *(f"move:{m}" for m in self.moves),
                *(f"{entity}:{self.language}:{e}" for e in self.entities),
            }
        )

    def lookup_keys(self) -> frozenset[str]:
        keys = {f"copy:{self.copy_id}", *(f"entity:{self.language}:{e}" for e in self.entities)}
        if self.moves:
            keys.update(f"move:{m}" for m in self.moves)
        else:
            keys.update(f"moved:{self.language}:{e}" for e in self.entities)
        return frozenset(keys)

    def to_json(self) -> str:
        return json.dumps(
            {
                "article_id": self.article_id,
                "copy_id": self.copy_id,
                "published": self.published.isoformat(),
                "language": self.language,
                **{name: sorted(getattr(self, name)) for name in _SETS},
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        data = json.loads(text)
        return cls(
            article_id=data["article_id"],
            copy_id=data["copy_id"],
            published=datetime.fromisoformat(data["published"]),
            language=data["language"],
            **{name: frozenset(data[name]) for name in _SETS},
        )


_SETS = ("moves", "actions", "agencies", "entities", "numbers", "words")


def report_of(article: EnrichedArticle) -> Report:
    signals = headline(article)
    agencies = {s.agency for s in signals if s.agency}
    if article.source.agency:
        agencies.add(article.source.agency)
    head = f"{article.title}\n{article.text[:TEXT_CHARS]}"
    return Report(
        article_id=article.id,
        copy_id=article.story_id,
        published=article.published_at or article.fetched_at,
        language=language_of(article),
        moves=frozenset(f"{s.subject}|{s.jurisdiction}|{s.direction}" for s in signals),
        actions=frozenset(s.action for s in signals),
        agencies=frozenset(agencies),
        entities=frozenset(ref.id for ref in (*article.tags.chips, *article.tags.companies)),
        numbers=numbers_in(head),
        words=words_in(head),
    )


def headline(article: EnrichedArticle) -> list[Signal]:
    """The signals of the move the article reports: its acting government's, in the
    direction of its stance. A report of China's customs block often recalls Washington's
    approval of the week before; that background must not tie it to the approval's event.
    An article without an acting government reports no move of its own (analysis, a
    round-up): only its words can join it to an event."""
    confident = [s for s in article.signals if s.confidence >= MIN_SIGNAL_CONFIDENCE]
    acting = [s for s in confident if s.jurisdiction == article.acting_jurisdiction]
    if article.stance in ("restrict", "ease"):
        acting = [s for s in acting if s.direction == article.stance]
    return acting


def same_event(a: Report, b: Report, window: timedelta = WINDOW) -> bool:
    if a.copy_id == b.copy_id:
        return True
    if abs(a.published - b.published) > window:
        return False
    if a.moves and b.moves:
        if not a.moves & b.moves:
            return False
        return bool(
            a.actions & b.actions
            or a.agencies & b.agencies
            or a.numbers & b.numbers
            or similarity(a, b) >= TEXT_SUPPORT
        )
    return bool(a.entities & b.entities) and similarity(a, b) >= TEXT_SAME


def similarity(a: Report, b: Report) -> float:
    """Jaccard of the reports' words; 0 across languages (their words never meet)."""
    if a.language != b.language or not a.words or not b.words:
        return 0.0
    shared = len(a.words & b.words)
    return shared / (len(a.words) + len(b.words) - shared)


def language_of(article: EnrichedArticle) -> str:
    if article.language:
        return article.language.split("-")[0].lower()
    cjk = sum(len(run) for run in _CJK.findall(article.text[:TEXT_CHARS]))
    return "zh" if cjk * 4 > min(len(article.text), TEXT_CHARS) else "und"


def words_in(text: str) -> frozenset[str]:
    runs = _CJK.findall(text)
    lowered = text.lower()
    if runs:  # most texts hold no CJK run to blank out
        lowered = _CJK.sub(" ", lowered)
    words = set(_WORD.findall(lowered))
    words -= _STOP
    for run in runs:
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(words)


def numbers_in(text: str) -> frozenset[str]:
    """Amounts and shares, written one way whatever the language: "400,000", "40万" and
    "0.4 million" are all 400000; "25%" and "25 per cent" are 25%. Years, and bare
    numbers below 100 (days of a month, counts), say too little about an event."""
    found = set()
    for match in _NUMBER.finditer(text):
        whole, fraction, unit = match.group(1), match.group(2), (match.group(3) or "").lower()
        value = float(whole.replace(",", "") + (f".{fraction}" if fraction else ""))
        if unit in _PERCENT:
            found.add(f"{value:g}%")
            continue
        if not unit and (value < 100 or (not fraction and 1900 <= value <= 2100)):
            continue
        value *= _SCALE.get(unit, 1.0)
        found.add(f"{value:g}")
    return frozenset(found)
