"""One Aho-Corasick pass over a text finds every taxonomy pattern, with offsets.

Rules: matching is case-insensitive unless a pattern is marked exact; a match must sit
on word boundaries (except for CJK forms, which have none); among overlapping MAIN
matches the leftmost, then longest, wins ("Tokyo Electron" is a company, not Tokyo).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import NamedTuple

import ahocorasick

from enrich.lexicon import MAIN_KINDS, Lexicon, Pattern, load_lexicon

_FOLD_PAIRS = (("’", "'"), ("‘", "'"), ("\u00a0", " "), ("‐", "-"), ("‑", "-"), ("–", "-"))


class Mention(NamedTuple):
    start: int
    end: int
    kind: str
    key: str
    surface: str  # the text as written
    extra: str = ""


_CJK_TEXT = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")


def fold(text: str) -> str:
    """Same-length normalisation: typographic quotes/dashes to ASCII, traditional Chinese
    characters to simplified (so one alias serves Taiwan, Hong Kong and mainland
    outlets), then lower case."""
    for typographic, plain in _FOLD_PAIRS:
        if typographic in text:
            text = text.replace(typographic, plain)
    if _CJK_TEXT.search(text):
        text = text.translate(_simplified())
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@cache
def _simplified() -> dict[int, str]:
    """OpenCC's character table, one character for one (offsets stay the same)."""
    table: dict[int, str] = {}
    source = resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    for line in source.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        first = simplified.split(" ")[0]
        if len(traditional) == 1 and len(first) == 1 and traditional != first:
            table[ord(traditional)] = first
    return table


def _is_word_char(char: str) -> bool:
    return char.isalnum() and (char < "\u2e80" or not _is_cjk(char))


def _elided(folded: str, end: int) -> bool:
    """An apostrophe joining two parts of one word: "xi'an", not a possessive "'s"."""
    if folded[end : end + 1] != "'" or not folded[end + 1 : end + 2].isalpha():
        return False
    possessive = folded[end + 1] == "s" and not _is_word_char(folded[end + 2 : end + 3] or " ")
    return not possessive and folded[end + 1] != "t"


def _is_cjk(char: str) -> bool:
    return (
        "\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" or "\uf900" <= char <= "\ufaff"
    )


class Matcher:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        grouped: dict[str, list[Pattern]] = {}
        for pattern in lexicon.patterns:
            same = grouped.setdefault(fold(pattern.surface), [])
            if not pattern.case_sensitive:
                pattern = Pattern(
                    fold(pattern.surface), pattern.kind, pattern.key, False, pattern.extra
                )
            if pattern not in same:
                same.append(pattern)
        self._automaton = ahocorasick.Automaton()
        for key, patterns in grouped.items():
            edges = (_is_word_char(key[0]), _is_word_char(key[-1]))
            self._automaton.add_word(key, (len(key), edges, tuple(patterns)))
        self._automaton.make_automaton()

    def find(self, text: str, folded: str | None = None) -> list[Mention]:
        """All mentions in `text`, sorted by start (MAIN ones never overlap).
        `folded` is fold(text) when the caller has it already."""
        folded = fold(text) if folded is None else folded
        size = len(text)
        main: list[Mention] = []
        aux: list[Mention] = []
        for end_index, (length, (word_start, word_end), patterns) in self._automaton.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            if word_start and start > 0 and _is_word_char(folded[start - 1]):
                continue
            if word_end and end < size and _is_word_char(folded[end]):
                continue
            if word_end and _elided(folded, end):
                continue  # "Xi" in "Xi'an" (but "China's" is China)
            surface = text[start:end]
            for pattern in patterns:
                if pattern.case_sensitive and surface != pattern.surface:
                    continue
                mention = Mention(start, end, pattern.kind, pattern.key, surface, pattern.extra)
                (main if pattern.kind in MAIN_KINDS else aux).append(mention)
        return sorted(_leftmost_longest(main) + aux, key=lambda m: (m.start, -m.end))


def _leftmost_longest(mentions: list[Mention]) -> list[Mention]:
    mentions.sort(key=lambda m: (m.start, -m.end))
    chosen: list[Mention] = []
    last_end = -1
    for mention in mentions:
        if mention.start >= last_end:
            chosen.append(mention)
            last_end = mention.end
        elif chosen and mention.start == chosen[-1].start and mention.end == chosen[-1].end:
            chosen.append(mention)  # same span, another reading (e.g. cue and subject)
    return [m for m in chosen if m.kind != "ignore"]


@cache
def matcher() -> Matcher:
    return Matcher(load_lexicon())


@cache
def _country_matcher() -> Matcher:
    lexicon = load_lexicon()
    only = Lexicon(patterns=[p for p in lexicon.patterns if p.kind == "country"])
    return Matcher(only)


@cache
def countries_named_in(alias: str) -> tuple[str, ...]:
    """Countries an agency's own name names ("Dutch government" names NL)."""
    return tuple(dict.fromkeys(m.key for m in _country_matcher().find(alias)))
