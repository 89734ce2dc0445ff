"""What a sentence is read against: its tokens and clauses, and the article's context.

The article context (main country, focus subject) is computed once before sentences are
read, so a bare "customs" or a sentence with no chip can fall back on it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

from enrich.lexicon import Lexicon
from enrich.match import Mention, fold
from enrich.text import Sentence

_TOKEN = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]")
CLAUSE_WORDS = frozenset(
    {
        "but",
        "while",
        "whereas",
        "although",
        "though",
        "which",
        "because",
        "despite",
        "however",
        "after",
        "before",
        "as",
        "when",
        "amid",
    }
)
CLAUSE_PUNCT = frozenset({",", ";", ":", "—", "(", ")", "–"})


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str  # folded


class Tokens:
    """A sentence's tokens, with lookups by character offset."""

    def __init__(self, sentence: Sentence) -> None:
        folded = fold(sentence.text)
        self.folded = folded
        self.offset = sentence.start
        self.items = [
            Token(sentence.start + m.start(), sentence.start + m.end(), m.group())
            for m in _TOKEN.finditer(folded)
        ]
        self._starts = [t.start for t in self.items]

    def index_at(self, offset: int) -> int:
        """Index of the token containing (or starting just before) `offset`."""
        return max(0, bisect_right(self._starts, offset) - 1)

    def char_at(self, offset: int) -> str:
        index = offset - self.offset
        return self.folded[index] if 0 <= index < len(self.folded) else ""

    def words(self, first: int, last: int) -> list[str]:
        return [t.text for t in self.items[max(0, first) : max(0, last)]]

    def clause_of(self, index: int) -> tuple[int, int]:
        """Token range [start, end) of the clause holding token `index`."""
        start = index
        while start > 0 and not self._is_boundary(start - 1):
            start -= 1
        end = index + 1
        while end < len(self.items) and not self._is_boundary(end):
            end += 1
        return start, end

    def _is_boundary(self, index: int) -> bool:
        text = self.items[index].text
        return text in CLAUSE_PUNCT or text in CLAUSE_WORDS


@dataclass
class ArticleContext:
    main_country: str | None = None
    focus_subject: str | None = None
    country_weight: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def article_context(
    sentences: list[Sentence], by_sentence: list[list[Mention]], weights: list[float]
) -> ArticleContext:
    context = ArticleContext()
    chips: defaultdict[str, float] = defaultdict(float)
    companies: defaultdict[str, float] = defaultdict(float)
    for mentions, weight in zip(by_sentence, weights, strict=True):
        for mention in mentions:
            if mention.kind == "country":
                context.country_weight[mention.key] += weight
            elif mention.kind == "agency" and ":" in mention.key:
                context.country_weight[mention.key.split(":")[0]] += weight
            elif mention.kind == "chip":
                chips[mention.key] += weight
            elif mention.kind == "company":
                companies[mention.key] += weight
    if context.country_weight:
        context.main_country = _top(context.country_weight)
    focus = chips or companies
    if focus:
        context.focus_subject = _top(focus)
    return context


def _top(weights: dict[str, float]) -> str:
    return max(weights.items(), key=lambda item: item[1])[0]


def resolve_agency(
    mention: Mention,
    mentions: list[Mention],
    tokens: Tokens,
    lexicon: Lexicon,
    context: ArticleContext,
) -> str | None:
    """The agency id a generic name ("customs", "commerce ministry") stands for here."""
    rule = lexicon.context_rules[int(mention.key)]
    qualifier = _qualifier(mention, mentions, tokens)
    if qualifier is not None:
        return rule.by_country.get(qualifier)
    if rule.default:
        return rule.default
    if not rule.use_context:
        return None
    in_sentence = [m.key for m in mentions if m.kind == "country" and m.key in rule.by_country]
    if in_sentence:
        return rule.by_country[in_sentence[0]]
    if context.main_country:
        return rule.by_country.get(context.main_country)
    return None


def _qualifier(mention: Mention, mentions: list[Mention], tokens: Tokens) -> str | None:
    """The country named right before a generic agency name ("China's customs")."""
    here = tokens.index_at(mention.start)
    for other in reversed(mentions):
        if other.kind != "country" or other.end > mention.start:
            continue
        gap = tokens.words(tokens.index_at(other.end - 1) + 1, here)
        if len(gap) <= 4 and not any(w in CLAUSE_PUNCT or w == "." for w in gap):
            return other.key
        return None
    return None
