"""One Aho-Corasick pass over a text finds every taxonomy pattern, with offsets.

Rules: matching is case-insensitive unless a pattern is marked exact; a match must sit
on word boundaries (except for CJK forms, which have none); among overlapping MAIN
matches the leftmost, then longest, wins ("Tokyo Electron" is a company, not Tokyo).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

import ahocorasick

from enrich.agency_grammar import AgencyGrammar
from enrich.folding import fold, narrowed
from enrich.grammar import ChipGrammar, Found, Spans, chip_grammar
from enrich.lexicon import MAIN_KINDS, Lexicon, Pattern, load_lexicon
from enrich.yaml12 import TAXONOMY_DIR, load_file

# Scripts written without spaces (CJK, kana, Hangul) and everything past them: their
# forms live in an automaton of their own, scanned only when a text holds such a character
_WIDE = "\u2e80"
_HAS_WIDE = re.compile("[\u2e80-\U0010ffff]")
_START, _END = itemgetter(0), itemgetter(1)  # a Mention's start and end


class Mention(NamedTuple):
    start: int
    end: int
    kind: str
    key: str
    surface: str  # the text as written
    extra: str = ""


# Every hit read builds a Mention: tuple.__new__ does it in C, the NamedTuple's own
# __new__ is a Python function
_new_mention = tuple.__new__


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


# A pattern as the scan reads it: (the surface a case-sensitive pattern must have, else
# None; kind; key; extra; a MAIN kind)
Reading = tuple[str | None, str, str, str, bool]
# (length - 1, starts on a word character, ends on one, readings, chip families anchored):
# flat, so the loop over every hit unpacks it in one step
Entry = tuple[int, bool, bool, tuple[Reading, ...], tuple[int, ...]]


# The characters of news text, the most frequent first (the bench texts and the real-set
# excerpts, folded), and a form for the frequent ones that start no form: see below
_LOOKUP_ORDER = " etainosrhcdlumpgfywb,.\nvk02-'1xj)(53q4z\"9876:;/"
NO_FORM: Entry = (1, False, False, (), ())  # "<character>\0": never a mention


def _add_in_lookup_order(automaton: ahocorasick.Automaton, entries: dict[str, Entry]) -> None:
    """Adds the forms so that the scan's commonest look-ups are its cheapest. pyahocorasick
    looks a character up among a state's edges one by one, in the order they were added,
    and most look-ups end at the start state (after a miss): its edges (over a hundred)
    go in with the most frequent characters first, and each frequent character that
    starts no form (a space, a comma) gets an edge of its own, to a two-character form
    ending in NUL that no text holds, instead of a look at every edge. The same hits in
    the same order (a test checks); about a fifth fewer steps per character scanned."""
    by_first: dict[str, list[str]] = {}
    for key in entries:
        by_first.setdefault(key[0], []).append(key)
    for char in dict.fromkeys([*_LOOKUP_ORDER, *sorted(by_first)]):
        if char not in by_first:
            automaton.add_word(f"{char}\0", NO_FORM)
        for key in by_first.get(char, ()):
            automaton.add_word(key, entries[key])


class Matcher:
    def __init__(
        self,
        lexicon: Lexicon,
        grammar: ChipGrammar | None = None,
        bodies: AgencyGrammar | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.grammar = grammar
        self.bodies = bodies
        marks = "".join(re.escape(c) for c in lexicon.prefix_abbreviations)
        self._prefixes = (
            re.compile(rf"(?<![\u3400-\u9fff])[{marks}](?=[\u30a1-\u30faA-Za-z])")
            if marks
            else None
        )
        grouped: dict[str, list[Pattern]] = {}
        for pattern in lexicon.patterns:
            if pattern.kind == "country_in_name":
                continue  # only read inside an agency's name (countries_named_in)
            same = grouped.setdefault(fold(pattern.surface), [])
            if not pattern.case_sensitive:
                pattern = Pattern(
                    fold(pattern.surface), pattern.kind, pattern.key, False, pattern.extra
                )
            if pattern not in same:
                same.append(pattern)
        anchors = grammar.anchors() if grammar is not None else {}
        # Two automata, not one: pyahocorasick looks a character up among a state's edges
        # one by one, and the start state of one automaton for every script has hundreds
        # (a scan of a text with no CJK in it took 2.5 times as long)
        self._narrow = ahocorasick.Automaton()
        self._wide = ahocorasick.Automaton()
        narrow: dict[str, Entry] = {}
        for key in sorted(grouped.keys() | anchors.keys()):
            readings = tuple(
                (
                    p.surface if p.case_sensitive else None,
                    p.kind,
                    p.key,
                    p.extra,
                    p.kind in MAIN_KINDS,
                )
                for p in grouped.get(key, ())
            )
            entry = (
                len(key) - 1,
                _is_word_char(key[0]),
                _is_word_char(key[-1]),
                readings,
                anchors.get(key, ()),
            )
            if max(key) >= _WIDE:
                self._wide.add_word(key, entry)
            else:
                narrow[key] = entry
        _add_in_lookup_order(self._narrow, narrow)
        for automaton in (self._narrow, self._wide):
            automaton.make_automaton()

    def _prefixed_countries(self, text: str) -> list[Mention]:
        """ "米クアルコム", "英Arm": a country's one-character abbreviation right before a
        name in katakana or Latin letters, not inside a word of Chinese characters."""
        assert self._prefixes is not None
        found = []
        for match in self._prefixes.finditer(text):
            if text.startswith(self.lexicon.prefix_not, match.end()):
                continue
            code = self.lexicon.prefix_abbreviations[match.group()]
            found.append(
                _new_mention(
                    Mention, (match.start(), match.end(), "country", code, match.group(), "name")
                )
            )
        return found

    def hits(self, folded: str, wide: bool = True) -> Iterator[tuple[int, Entry]]:
        """(end index, entry) of every form found in the folded text, overlaps included
        (`wide` False: the caller knows it holds no wide character)."""
        if wide and len(self._wide) and _HAS_WIDE.search(folded) is not None:
            return chain(self._narrow.iter(folded), self._wide.iter(folded))
        return self._narrow.iter(folded)  # type: ignore[no-any-return]

    def find(self, text: str, folded: str | None = None, wide: bool = True) -> list[Mention]:
        """All mentions in `text`, sorted by start (MAIN ones never overlap).
        `folded` is fold(text) when the caller has it already; `wide` False when
        fold_and_width said it holds no wide character (two scans of the text saved)."""
        folded = fold(text) if folded is None else folded
        if wide and not text.isascii():
            text = narrowed(text)  # same length: offsets hold for the text as given
        # padded[i] is the character before folded[i], a space at either end
        padded = f" {folded} "
        main: list[Mention] = []
        aux: list[Mention] = []
        anchored: dict[int, set[int]] = {}  # where a chip model may start -> its families
        hits = self.hits(folded, wide)
        for end_index, (reach, word_start, word_end, readings, families) in hits:
            start, end = end_index - reach, end_index + 1
            before = padded[start]
            # _is_word_char inlined: this loop sees every hit of every form
            if word_start and before.isalnum() and (before < _WIDE or not _is_cjk(before)):
                continue
            if families and before != "-":
                anchored.setdefault(start, set()).update(families)
            after = padded[end + 1]
            if word_end and after.isalnum() and (after < _WIDE or not _is_cjk(after)):
                continue
            if word_end and after == "'" and _elided(folded, end):
                continue  # "Xi" in "Xi'an" (but "China's" is China)
            surface = text[start:end]
            for exact, kind, key, extra, is_main in readings:
                if exact is not None and surface != exact:
                    continue
                mention = _new_mention(Mention, (start, end, kind, key, surface, extra))
                (main if is_main else aux).append(mention)
        if anchored:
            main += self._models(text, folded, main, anchored)
        if wide and self._prefixes is not None and _HAS_WIDE.search(text) is not None:
            main += self._prefixed_countries(text)
        chosen = _leftmost_longest(main)
        if self.lexicon.outlet_marks:
            marks = self.lexicon.outlet_marks
            chosen = [m for m in chosen if m.kind != "country" or not text.startswith(marks, m.end)]
        if self.bodies is not None:
            chosen = self._named_bodies(text, chosen)
        return _in_reading_order(chosen + aux)

    def _named_bodies(self, text: str, chosen: list[Mention]) -> list[Mention]:
        """Government bodies named by the shape of their name ("Japan's Ministry of
        Finance"); a generic name a contextual rule resolves for that country
        ("China's Ministry of Commerce") stays with the rule."""
        assert self.bodies is not None
        # no look for a head noun first: find's own scan for them finds none as fast, and
        # a text that holds one would be scanned for it twice
        added: list[Mention] = []
        for body in self.bodies.find(text, chosen):
            # the rule keeps a generic name it resolves for that country when the name
            # holds the body's head ("China's Ministry of Commerce"); a name with another
            # head is another body ("the UK Cabinet Office" is no cabinet)
            if body.replaces is not None and body.replaces[0] <= body.head < body.replaces[1]:
                generic = next(
                    m
                    for m in chosen
                    if (m.start, m.end) == body.replaces and m.kind == "context_agency"
                )
                if body.country in self.lexicon.context_rules[int(generic.key)].by_country:
                    continue
            added.append(Mention(body.start, body.end, "agency", body.key, body.surface))
        if not added:
            return chosen
        kept = [m for m in chosen if not any(a.start < m.end and m.start < a.end for a in added)]
        return _in_reading_order(kept + added)

    def _models(
        self, text: str, folded: str, listed: list[Mention], anchored: dict[int, set[int]]
    ) -> list[Mention]:
        """Chip models the grammar finds where the list has none (a listed alias keeps
        its listed id: "MI308X" stays MI308)."""
        assert self.grammar is not None
        spans = Spans(text, folded)
        chips = [m for m in listed if m.kind in ("chip", "family")]
        for mention in chips:
            if mention.kind == "chip" and self.grammar.vetoed(spans, mention.start, mention.end):
                listed.remove(mention)  # "the B200 bus": a listed model number, vetoed
        found: list[Mention] = []
        for low, high in ((m.start, m.end) for m in chips if m in listed):
            for start in [a for a in anchored if low < a < high]:
                del anchored[start]  # no grammar look inside a model the list found
        # where a listed name starts, only a longer model name could win over it
        longest: dict[int, int] = {}
        for mention in chips:
            longest[mention.start] = max(mention.end, longest.get(mention.start, -1))
        for model in self.grammar.find_at(spans, anchored, longest):
            overlapping = [m for m in chips if m.start < model.end and model.start < m.end]
            if any(not _covers(model, m) for m in overlapping):
                continue  # the listed id wins unless the grammar reads a longer name
            surface = text[model.start : model.end]
            # a family word is a tag, not a subject; a series is a chip unless its models are named
            extra = {"family": "word", "series": "series"}.get(model.kind, "")
            kind = "chip" if model.kind == "series" else model.kind
            found.append(Mention(model.start, model.end, kind, model.chip.model, surface, extra))
        for chip in [*(m for m in chips if m in listed), *found]:
            if chip.kind != "chip":
                continue
            for at, sibling in self.grammar.siblings(text, chip.key, chip.end):
                found.append(Mention(at, at + 1, "chip", sibling, text[at], chip.extra))
        return found


def _covers(model: Found, listed: Mention) -> bool:
    """ "Blackwell Ultra" over the listed "Blackwell", "Grace Hopper" over "Hopper"."""
    return (
        model.start <= listed.start
        and listed.end <= model.end
        and model.end - model.start > listed.end - listed.start
    )


def _in_reading_order(mentions: list[Mention]) -> list[Mention]:
    """Sorts `mentions` in place by start, the longer first at one start, and returns it:
    two stable sorts on C keys give the order of `key=lambda m: (m.start, -m.end)`
    (equal ones keep theirs) at half the cost."""
    mentions.sort(key=_END, reverse=True)
    mentions.sort(key=_START)
    return mentions


def _leftmost_longest(mentions: list[Mention]) -> list[Mention]:
    _in_reading_order(mentions)
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
    data = load_file(TAXONOMY_DIR / "agencies.yaml")
    return Matcher(load_lexicon(), chip_grammar(), AgencyGrammar.from_data(data))


@cache
def _country_matcher() -> Matcher:
    lexicon = load_lexicon()
    only = Lexicon(
        patterns=[
            Pattern(p.surface, "country", p.key, p.case_sensitive, p.extra)
            for p in lexicon.patterns
            if p.kind in ("country", "country_in_name")
        ]
    )
    return Matcher(only)


@cache
def countries_named_in(alias: str) -> tuple[str, ...]:
    """Countries an agency's own name names ("Dutch government" names NL)."""
    return tuple(dict.fromkeys(m.key for m in _country_matcher().find(alias)))
