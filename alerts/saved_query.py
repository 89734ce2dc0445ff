"""A subscription's saved search, matched at ingest against one article.

The query is the analyst's Lucene string, parsed and validated by the search package's
parser (index/query.py), so a saved search means what it means in `chipwire search`.
It is evaluated here on one article's words: text fields (title, summary, text; the
default is all three) match lower-cased words, a phrase matches consecutive words (slop
is ignored), `*`/`?` wildcards and `~N` fuzzy terms match single words; keyword fields
(chips, companies, countries, agencies, topics, stance, jurisdiction, source, language,
id, story_id, event_id) match the article's tags and ids exactly. Boosts do not matter for a match.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import lru_cache

from chipwire.contract import EnrichedArticle
from index.query import And, Boost, Fuzzy, MatchAll, Node, Not, Or, Phrase, Term, Wildcard
from index.query import parse_query as _parse

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=64)
def parse(query: str) -> Node:
    """Parse once per query (raises index.query.QueryError with a readable message)."""
    return _parse(query)


def matches(query: str, article: EnrichedArticle) -> bool:
    return _eval(parse(query), _Doc(article))


class _Doc:
    def __init__(self, article: EnrichedArticle) -> None:
        self.words = {
            "title": _words(article.title),
            "summary": _words(article.summary),
            "text": _words(article.text),
        }
        tags = article.tags
        self.keywords: dict[str, set[str]] = {
            "chips": {e.id.lower() for e in tags.chips},
            "companies": {e.id.lower() for e in tags.companies},
            "agencies": {e.id.lower() for e in tags.agencies},
            "countries": {e.id.lower() for e in tags.countries},
            "topics": {t.lower() for t in tags.topics},
            "stance": {article.stance},
            "jurisdiction": {(article.acting_jurisdiction or "").lower()},
            "source": {article.source.id.lower(), article.source.name.lower()},
            "language": {(article.language or "").lower()},
            "id": {article.id.lower()},
            "story_id": {article.story_id.lower()},
            "event_id": {(article.event_id or "").lower()},
        }

    def fields(self, field: str | None) -> list[list[str]]:
        if field is None:
            return list(self.words.values())
        return [self.words[field]] if field in self.words else []


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _eval(node: Node, doc: _Doc) -> bool:
    if isinstance(node, MatchAll):
        return True
    if isinstance(node, And):
        return all(_eval(child, doc) for child in node.children)
    if isinstance(node, Or):
        return any(_eval(child, doc) for child in node.children)
    if isinstance(node, Not):
        return not _eval(node.child, doc)
    if isinstance(node, Boost):
        return _eval(node.child, doc)
    if node.field in doc.keywords:
        return _keyword(node, doc.keywords[node.field])
    return any(_leaf(node, words) for words in doc.fields(node.field))


def _keyword(node: Term | Phrase | Wildcard | Fuzzy, values: set[str]) -> bool:
    if isinstance(node, Wildcard):
        return any(fnmatchcase(v, node.pattern) for v in values)
    return node.text.lower() in values


def _leaf(node: Term | Phrase | Wildcard | Fuzzy, words: list[str]) -> bool:
    if isinstance(node, Wildcard):
        pattern = node.pattern.lower()
        return any(fnmatchcase(w, pattern) for w in words)
    wanted = _words(node.text)
    if not wanted:
        return False
    if isinstance(node, Fuzzy):
        return any(_within(w, wanted[0], node.distance) for w in words)
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def _within(a: str, b: str, distance: int) -> bool:
    """Levenshtein distance of a and b is at most `distance` (small words, small distances)."""
    if abs(len(a) - len(b)) > distance:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= distance
