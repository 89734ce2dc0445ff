"""Government bodies by the shape of their names, tied to a country.

"Japan's Ministry of Finance", "the Malaysian Ministry of Investment, Trade and
Industry", "Korea Fair Trade Commission": a head noun (taxonomy/agencies.yaml
`patterns.heads`) with capitalised words before it or "of ..." after it, and a country
named in the name or right before it. The id is the listed one when agencies.yaml knows
the body (by alias, or by its generic official name under `names` for that country),
else "<country>:<initials of the English name>" (enrich/realset/README.md), skipping
the words in `patterns.skip`.

A name nobody ties to a country is left alone: "the Commission" is not a body of any
government here.

A plural head with a list ("the departments of Commerce, Defense, Energy and State")
names one body per listed word, each read as "<head> of <word>": the listed agency of
that name for the country right before the list, else the one listed agency of that name
in any country; a word no listed agency has is no body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

_WORD = r"(?:[A-Z][A-Za-z\-]*|[A-Z]{2,})"
_LINK = r"(?:,\s|\s(?:and|&)\s|,\sand\s|\s)"
_TOKEN = re.compile(r"[A-Za-z][A-Za-z\-]*|&")
_GAP_BEFORE = re.compile(r"^(?:['’]s)?\s+(?:the\s+)?$")
_OF_COUNTRY = re.compile(r"\s(?:of|in)\s(?:the\s)?$")
_ITEM = r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])"


def _plural_heads(singular: dict[str, str]) -> str:
    """`(?<![A-Za-z])(?i:departments|ministries)`, written to open on the set of the heads'
    first letters: the regex engine then skips to the next such letter in C, where a
    pattern that opens on a look-behind or a case-blind word is tried at every character
    (four times slower over a text). Each head's first letter is checked again behind it,
    the rest of the head case-blind as before."""
    firsts = "".join(dict.fromkeys(c for h in singular for c in (h[0].lower(), h[0].upper())))
    heads = "|".join(
        rf"(?<=[{re.escape(h[0].lower() + h[0].upper())}])(?i:{re.escape(h[1:])})" for h in singular
    )
    return rf"[{re.escape(firsts)}](?<![A-Za-z].)(?:{heads})"


class Named(NamedTuple):
    start: int
    end: int
    key: str  # the agency id
    surface: str
    country: str
    replaces: tuple[int, int] | None  # span of a generic-name mention it stands for
    head: int = -1  # where its head noun starts ("Ministry", "Office")


class Span(Protocol):
    """What the grammar reads of a mention found before it (enrich.match.Mention)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def extra(self) -> str: ...


@dataclass(frozen=True)
class AgencyGrammar:
    heads: re.Pattern[str]
    left: re.Pattern[str]
    right: re.Pattern[str]
    skip: frozenset[str]
    stop: frozenset[str]
    by_name: dict[tuple[str, str], str]  # (country, name key) -> listed id
    ministry_like: frozenset[str]  # heads written "X Ministry" for "Ministry of X"
    not_government: frozenset[str]  # words that make a name something else ("News")
    # "departments of A, B and C": the plural head, its singular, and the listed items
    plural: re.Pattern[str] | None = None
    singular: tuple[tuple[str, str], ...] = ()  # (plural head lower-cased, singular head)
    by_unique_name: tuple[tuple[str, str], ...] = ()  # name key -> the one listed id
    # a title that names its body: "Minister of Trade, Industry and Energy" is the Ministry
    # of Trade, Industry and Energy (only with "of ..." after it: a Prime Minister is none)
    titles: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AgencyGrammar:
        spec = data["patterns"]
        titles = {str(t): str(h) for t, h in spec.get("titles", {}).items()}
        heads = [str(h) for h in spec["heads"]] + list(titles)
        skip = frozenset(str(w).lower() for w in spec["skip"])
        by_name: dict[tuple[str, str], str] = {}
        for agency in data["agencies"]:
            country = str(agency["jurisdiction"])
            for name in [*agency.get("aliases", []), *agency.get("names", [])]:
                by_name.setdefault((country, _key(str(name), skip)), str(agency["id"]))
        ids_by_name: dict[str, set[str]] = {}
        for (_, name), agency_id in by_name.items():
            ids_by_name.setdefault(name, set()).add(agency_id)
        singular = {str(p).lower(): str(s) for p, s in spec.get("plural_heads", {}).items()}
        plural = None
        if singular:
            plural = re.compile(
                rf"{_plural_heads(singular)}\s(?:of|for)\s(?:the\s)?"
                rf"(?P<items>{_ITEM}(?:(?:,\s|,?\s(?:and|&)\s)(?:the\s)?{_ITEM}){{1,6}})"
            )
        return cls(
            heads=re.compile("|".join(heads)),
            left=re.compile(rf"(?<![A-Za-z])(?:{_WORD}{_LINK}){{1,5}}$"),
            right=re.compile(
                rf"\s(?P<prep>of|for|on)\s(?:the\s)?(?P<topic>{_WORD}(?:{_LINK}{_WORD}){{0,6}})"
            ),
            skip=skip,
            stop=frozenset(str(w) for w in spec["stop"]),
            by_name=by_name,
            ministry_like=frozenset(str(h) for h in spec["ministry_like"]),
            not_government=frozenset(str(w) for w in spec["not_government"]),
            plural=plural,
            singular=tuple(singular.items()),
            titles=tuple(titles.items()),
            by_unique_name=tuple(
                sorted(
                    (name, next(iter(ids))) for name, ids in ids_by_name.items() if len(ids) == 1
                )
            ),
        )

    def find(self, text: str, spans: Sequence[Span]) -> list[Named]:
        """Bodies named in `text`; `spans` are the listed mentions already found there
        (countries qualify a name; a listed agency, company or person inside it wins)."""
        found: list[Named] = []
        for head in self.heads.finditer(text):
            if _in_word(text, *head.span()):
                continue
            named = self._read(text, head, spans)
            if named is not None and (not found or named.start >= found[-1].end):
                found.append(named)
        if self.plural is not None:
            listed = [
                n for m in self.plural.finditer(text) for n in self._read_list(text, m, spans)
            ]
            if listed:
                found = sorted(
                    [*found, *(n for n in listed if not _overlaps(n, found))],
                    key=lambda n: n.start,
                )
        return found

    def _read_list(self, text: str, match: re.Match[str], spans: Sequence[Span]) -> list[Named]:
        """One body per word of "departments of Commerce, Defense and State"."""
        written = match.group(0).split()[0]
        # the pattern reads the head case-blind, and Unicode case-blindness is wider than
        # lower-casing ("Departmentſ", "MİNİSTRİES"): find the head the same way
        head = next(
            (s for p, s in self.singular if re.fullmatch(re.escape(p), written, re.IGNORECASE)),
            None,
        )
        if head is None:
            return []
        country, _ = self._country(text, match.start(), match.end(), spans)
        unique = dict(self.by_unique_name)
        named = []
        for item in re.finditer(_ITEM, text[: match.end("items")]):
            if item.start() < match.start("items"):
                continue
            key = _key(f"{head} of {item.group()}", self.skip)
            agency = self.by_name.get((country, key)) if country else None
            agency = agency or unique.get(key)
            if agency is not None:
                start, end = item.span()
                named.append(Named(start, end, agency, item.group(), agency.split(":")[0], None))
        return named

    def _read(self, text: str, head: re.Match[str], spans: Sequence[Span]) -> Named | None:
        start, end = head.span()
        words: list[tuple[int, str]] = []  # capitalised words before the head, with offsets
        before = self.left.search(text, max(0, start - 90), start)
        if before is not None:
            words = [(m.start(), m.group()) for m in _TOKEN.finditer(text, before.start(), start)]
        while words and (words[0][1] in self.stop or words[0][1].lower() in self.skip):
            words.pop(0)
        right = self.right.match(text, end)
        topic: list[tuple[int, str]] = []
        if right is not None:
            topic = [(m.start(), m.group()) for m in _TOKEN.finditer(text, *right.span("topic"))]
            topic = _trim(topic, text, self.stop)
            # "the National Assembly of Vietnam": a country alone after "of" qualifies
            # the name and is no part of it ("Ministry of Commerce of China" likewise)
            if topic and all(_in_country(at, spans) for at, _ in topic):
                topic = []
        if not words and not topic:
            return None
        body_head = dict(self.titles).get(head.group(0))
        if body_head is not None:
            return self._read_title(text, start, words, right, topic, spans, body_head)
        if any(w in self.not_government for _, w in [*words, *topic]):
            return None
        name_start = words[0][0] if words else start
        name_end = topic[-1][0] + len(topic[-1][1]) if topic else end
        inside = [s for s in spans if s.start < name_end and name_start < s.end]
        if any(s.kind in ("company", "person", "ignore") for s in inside):
            return None
        country, name_start = self._country(text, name_start, name_end, spans)
        if country is None:
            return None
        # a listed body inside the name wins, unless it is another country's: "the
        # Brazilian National Congress" is no U.S. Congress
        if any(s.kind == "agency" and _home(s.key) in (country, "") for s in inside):
            return None
        kept = [w for at, w in words if at >= name_start]
        if not kept and not topic:
            return None
        head_word = head.group(0)
        canonical = self._canonical(kept, head_word, right, [w for _, w in topic])
        # the country's own name before "Ministry of ..." qualifies it and is no part of
        # its initials ("Singapore Ministry of Foreign Affairs" is SG:MFA); in a name
        # of capitalised words it is ("China Securities Regulatory Commission": CN:CSRC)
        own = next(
            (
                s.end
                for s in spans
                if s.kind == "country" and s.extra == "name" and s.start == name_start
            ),
            None,
        )
        if right is None and head_word not in self.ministry_like:
            own = None
        bare = (
            self._canonical(
                [w for at, w in words if own is not None and at >= own],
                head_word,
                right,
                [w for _, w in topic],
            )
            if own is not None
            else canonical
        )
        key = (
            self.by_name.get((country, _key(canonical, self.skip)))
            or self.by_name.get((country, _key(bare, self.skip)))
            or self._initials(country, bare)
        )
        generic = [
            (s.start, s.end)
            for s in spans
            if s.kind == "context_agency" and s.start < name_end and name_start < s.end
        ]
        return Named(
            name_start,
            name_end,
            key,
            text[name_start:name_end],
            country,
            generic[0] if generic else None,
            start,
        )

    def _read_title(
        self,
        text: str,
        start: int,
        words: list[tuple[int, str]],
        right: re.Match[str] | None,
        topic: list[tuple[int, str]],
        spans: Sequence[Span],
        body_head: str,
    ) -> Named | None:
        """ "South Korean Minister of Trade, Industry and Energy Ahn": the listed body of
        the longest name the title's words give (a person's name may follow them); a
        title no listed body answers names none."""
        name_start = words[0][0] if words else start
        for count in range(len(topic), 0, -1):
            end = topic[count - 1][0] + len(topic[count - 1][1])
            country, at = self._country(text, name_start, end, spans)
            if country is None:
                continue
            kept = [w for offset, w in words if offset >= at]
            name = self._canonical(kept, body_head, right, [w for _, w in topic[:count]])
            agency = self.by_name.get((country, _key(name, self.skip)))
            if agency is not None:
                return Named(at, end, agency, text[at:end], country, None, start)
        return None

    def _country(
        self, text: str, start: int, end: int, spans: Sequence[Span]
    ) -> tuple[str | None, int]:
        """The country a name belongs to, and where the name starts. In order: named
        right before it ("Japan's", "the Malaysian": "China's Taiwan Affairs Office" is
        China's), right after it ("... of China"), or first in it ("Japan Fair Trade
        Commission"; a demonym opening it is not part of the name)."""
        for span in reversed(spans):
            if span.kind != "country" or span.end > start:
                continue
            gap = text[span.end : start]
            if _GAP_BEFORE.match(gap) or (span.extra == "demonym" and gap == " "):
                return span.key, start
            break
        for span in spans:
            if span.kind == "country" and span.start >= end:
                if span.start - end < 12 and _OF_COUNTRY.match(text[end : span.start]):
                    return span.key, start
                break
        for span in spans:
            if span.kind == "country" and span.start == start and span.end < end:
                # a demonym or an abbreviation ("UK Cabinet Office") qualifies the name
                abbreviated = text[span.start : span.end].replace(".", "").isupper()
                own = span.extra != "demonym" and not abbreviated
                return span.key, (start if own else _next_word(text, span.end))
        return None, start

    def _canonical(
        self, words: list[str], head: str, right: re.Match[str] | None, topic: list[str]
    ) -> str:
        if topic and right is not None:
            lead = " ".join([*words, head])
            return f"{lead} {right.group('prep')} {' '.join(topic)}"
        if head in self.ministry_like and words:
            return f"{head} of {' '.join(words)}"
        return " ".join([*words, head])

    def _initials(self, country: str, name: str) -> str:
        words = name.replace(",", " ").split()
        letters = [w[0].upper() for w in words if w.lower() not in self.skip]
        return f"{country}:{''.join(letters)}"


def _trim(words: list[tuple[int, str]], text: str, stop: frozenset[str]) -> list[tuple[int, str]]:
    """The words of a name after "of": not a possessive's owner ("... and Japan's"),
    not a day or month that follows it."""
    if words:
        at, last = words[-1]
        if text[at + len(last) : at + len(last) + 2] in ("'s", "’s"):
            words = words[:-1]
    while words and (words[-1][1] in stop or words[-1][1] in ("and", "&")):
        words = words[:-1]
    return words


def _in_country(at: int, spans: Sequence[Span]) -> bool:
    return any(s.kind == "country" and s.start <= at < s.end for s in spans)


def _home(agency_id: str) -> str:
    """The country of a listed body's id ("US:CONGRESS" -> "US"; "" for the Union's)."""
    country = agency_id.partition(":")[0]
    return "" if country == "EU" else country


def _overlaps(named: Named, found: list[Named]) -> bool:
    return any(f.start < named.end and named.start < f.end for f in found)


def _key(name: str, skip: frozenset[str]) -> str:
    """A name's words without case, punctuation and linking words: "Ministry of Trade,
    Industry, and Energy" and "Ministry of Trade, Industry and Energy" are one body."""
    words = name.replace(",", " ").replace("’", "'").split()
    return " ".join(w.lower() for w in words if w.lower() not in skip)


def _in_word(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())


def _next_word(text: str, end: int) -> int:
    found = _TOKEN.search(text, end)
    return found.start() if found else end
