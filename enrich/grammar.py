"""Chip models by their vendors' naming patterns (taxonomy/chip_grammar.yaml).

The list in chips.yaml only knows the models that existed when it was written; the
grammar knows how each product family names its models ("a letter prefix, 2-3 digits
and a suffix letter", "Ascend" and a number), so a new model ("B40", "MI450X",
"Ascend 960") is found and normalised to (vendor, family, model id) all the same.

One Aho-Corasick pass over the folded text finds where a model name can start (each
family's `anchors`); only there are the families' patterns tried. A match must pass its
family's gate (its own family word, or the vendor or chip words in the same sentence)
and no veto word may sit right next to it ("A380 aircraft", "M2 motorway").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import ahocorasick

from enrich.folding import fold
from enrich.yaml12 import TAXONOMY_DIR, load_file

GATES = ("token", "sentence", "vendor", "text")
_GROUP = re.compile(r"\(\?P<(\w+)>")
_BACKREF = re.compile(r"\\([1-9])")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_SENTENCE_REACH = 240
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_BARE_CODE = re.compile(r"[A-Za-z]{1,3}-?\d{2,4}[A-Za-z]?")
# The rest of a model list that names siblings by their suffix letter alone: "the 910B,
# C and D", "910B、C和D", "910B/C". An English list needs a comma before "and", so that
# "the MI300X and A ..." (an article) is not read as a model.
_SIBLINGS = re.compile(
    r"(?:,\s?[A-Z](?![A-Za-z0-9]))+,?\s(?:and|or|&)\s[A-Z](?![A-Za-z0-9])"
    r"|(?:/[A-Z](?![A-Za-z0-9]))+"
    r"|(?:\s?[、/和与及或]\s?[A-Z](?![A-Za-z0-9]))+"
)
_SIBLING_LETTER = re.compile(r"(?<![A-Za-z])[A-Z](?![A-Za-z0-9])")
# A list after a model that names siblings by their number alone: "the Ryzen 9 7900X and
# 7950X", "Dimensity 9400、9300"; each is the model's last word with another number of the
# same length and first digit (a generation's list; "RTX 4090 and 2023" is no card).
_NUMBER_SIBLINGS = re.compile(
    r"(?:(?:,\s?|,?\s(?:and|or|&|y|e|et|und|en|o|ou|oder)\s|\s?[、/和与及或]\s?)"
    r"\d{3,5}[A-Za-z]{0,3}(?![A-Za-z0-9]))+"
)
_SIBLING_NUMBER = re.compile(r"(?<![A-Za-z0-9])(\d{3,5})([A-Za-z]{0,3})(?![A-Za-z0-9])")
_LAST_NUMBER = re.compile(r"(?<=\s)(\d{3,5})[A-Za-z]{0,3}$")


@dataclass(frozen=True, slots=True)
class ChipModel:
    vendor: str
    family: str
    model: str  # the normalised id, as labelled (enrich/realset/README.md)
    display: str = "{vendor} {model}"

    @property
    def name(self) -> str:
        return self.display.format(vendor=self.vendor, model=self.model)


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    chip: ChipModel
    # or "family": a family word naming no model ("Ascend chips"); or "series": a model
    # name that names a product series ("the MI350 series"), kept only when none of the
    # series' own models (MI350X) is named
    kind: str = "chip"


@dataclass(frozen=True)
class Family:
    name: str
    vendor: str
    regex: re.Pattern[str]
    groups: tuple[str, ...]
    template: str
    family: str
    family_by: dict[str, dict[str, str]]
    spaced: frozenset[str]
    upper: frozenset[str]
    title: frozenset[str]
    values: dict[str, dict[str, str]]  # group -> written form -> id form (含光 -> Hanguang)
    gate: str
    display: str
    gate_words: Words | None
    vendor_words: Words
    kind: str = "chip"
    # words right after a match that make it something else: "A16 process" is a node
    not_before: re.Pattern[str] | None = None

    def model(self, match: re.Match[str]) -> ChipModel:
        values: dict[str, str] = {}
        for group in self.groups:
            value = match.group(group) or ""
            value = value.strip()
            value = self.values.get(group, {}).get(value, value)
            if group in self.upper:
                value = value.upper()
            if group in self.title:
                value = value.title()
            if value and group in self.spaced:
                value = " " + value
            values[group] = value
        family = self.family.format(**values)
        for group, mapping in self.family_by.items():
            family = mapping.get(values[group], family)
        return ChipModel(self.vendor, family, self.template.format(**values), self.display)


class Spans:
    """One text (as written and folded) with the tokens of its spans, each span
    tokenised once: a text's gates ask about the same sentence, or the whole text, for
    model after model."""

    def __init__(self, text: str, folded: str) -> None:
        self.text = text
        self.folded = folded
        self._tokens: dict[tuple[int, int, bool], frozenset[str]] = {}

    def tokens(self, start: int, end: int, *, folded: bool) -> frozenset[str]:
        """The tokens in [start, end) of the folded text, or of the text as written."""
        key = (start, end, folded)
        found = self._tokens.get(key)
        if found is None:
            which = self.folded if folded else self.text
            found = self._tokens[key] = frozenset(_TOKEN.findall(which, start, end))
        return found


class Words:
    """Any of a list of words in a span of text: single words by set lookup of the
    span's tokens, phrases and CJK words by substring; ASCII word boundaries; a word
    with a capital must be written so ("Apple", not "apple")."""

    def __init__(self, words: list[str]) -> None:
        self._loose: set[str] = set()  # single lower-case tokens, any case in the text
        self._exact: set[str] = set()  # single tokens with a capital, as written
        self._phrases: list[tuple[str, str | None]] = []  # (folded, as written or None)
        for word in {str(w) for w in words}:
            cased = word if word != word.lower() else None
            if _TOKEN.fullmatch(word):
                (self._exact if cased else self._loose).add(word if cased else fold(word))
            else:
                self._phrases.append((fold(word), cased))

    def search(self, spans: Spans, start: int = 0, end: int | None = None) -> bool:
        end = len(spans.text) if end is None else end
        if self._loose and not self._loose.isdisjoint(spans.tokens(start, end, folded=True)):
            return True
        if self._exact and not self._exact.isdisjoint(spans.tokens(start, end, folded=False)):
            return True
        text, folded = spans.text, spans.folded
        return any(self._has(text, folded, start, end, p, c) for p, c in self._phrases)

    @staticmethod
    def _has(text: str, folded: str, start: int, end: int, phrase: str, cased: str | None) -> bool:
        at = folded.find(phrase, start, end)
        while at >= 0:
            last = at + len(phrase)
            bounded = not (
                (phrase[0] in _ALNUM and at > 0 and folded[at - 1] in _ALNUM)
                or (phrase[-1] in _ALNUM and last < len(folded) and folded[last] in _ALNUM)
            )
            if bounded and (cased is None or text[at:last] == cased):
                return True
            at = folded.find(phrase, at + 1, end)
        return False


class ChipGrammar:
    def __init__(self, data: dict[str, Any]) -> None:
        vendor_words = {v["id"]: [str(w) for w in v["words"]] for v in data["vendors"]}
        display = {v["id"]: str(v.get("display", "{vendor} {model}")) for v in data["vendors"]}
        chip_words = [str(w) for w in data["chip_words"]]
        self.families: list[Family] = []
        for spec in data["families"]:
            vendor = spec["vendor"]
            gate = spec.get("gate", "sentence")
            assert gate in GATES, f"{spec['id']}: unknown gate {gate}"
            context = [str(w) for w in spec.get("context", [])]
            gate_words = [*vendor_words[vendor], *context]
            if gate in ("sentence", "text"):
                gate_words += chip_words
            pattern = str(spec["pattern"])
            not_before = "|".join(re.escape(str(w)) for w in spec.get("not_before", []))
            self.families.append(
                Family(
                    name=spec["id"],
                    vendor=vendor,
                    regex=re.compile(pattern),
                    groups=tuple(_GROUP.findall(pattern)),
                    template=str(spec["model"]),
                    family=str(spec.get("family", "")),
                    family_by={k: dict(v) for k, v in spec.get("family_by", {}).items()},
                    spaced=frozenset(spec.get("spaced", [])),
                    upper=frozenset(spec.get("upper", [])),
                    title=frozenset(spec.get("title", [])),
                    values={
                        k: {str(a): str(b) for a, b in v.items()}
                        for k, v in spec.get("values", {}).items()
                    },
                    gate=gate,
                    display=display[vendor],
                    gate_words=None if gate == "token" else Words(gate_words),
                    vendor_words=Words([*vendor_words[vendor], *context]),
                    kind=str(spec.get("kind", "chip")),
                    not_before=re.compile(rf"\s?(?:{not_before})(?![A-Za-z])")
                    if not_before
                    else None,
                )
            )
        self._anchors = ahocorasick.Automaton()
        by_anchor: dict[str, list[int]] = {}
        for index, spec in enumerate(data["families"]):
            for anchor in _expand([str(a) for a in spec["anchors"]]):
                families = by_anchor.setdefault(fold(anchor), [])
                if index not in families:
                    families.append(index)
        self._anchor_table = {a: tuple(f) for a, f in by_anchor.items()}
        for anchor, indices in self._anchor_table.items():
            self._anchors.add_word(anchor, (len(anchor), indices))
        self._anchors.make_automaton()
        self._veto = Words([str(w) for w in data["veto"]])
        series = "|".join(re.escape(str(w)) for w in data.get("series_words", []))
        self._series = re.compile(rf"\s?(?:{series})(?![A-Za-z])") if series else None
        before = "|".join(re.escape(str(w)) for w in data.get("series_words_before", []))
        self._series_before = re.compile(rf"(?<![A-Za-z])(?:{before})\s$") if before else None
        self._veto_window = int(data["veto_window"])
        self._series_of = [
            (re.compile(str(rule["series"])), str(rule["members"]))
            for rule in data.get("series_of", [])
        ]

    def anchors(self) -> dict[str, tuple[int, ...]]:
        """Folded anchor -> the families (by index) whose names may start there, for a
        caller that finds them in its own pass (enrich.match)."""
        return dict(self._anchor_table)

    def find(self, text: str) -> Iterator[Found]:
        """Every gated chip model in `text`, left to right."""
        folded = fold(text)
        starts: dict[int, set[int]] = {}
        for end_index, (length, families) in self._anchors.iter(folded):
            start = end_index - length + 1
            if start > 0 and (text[start - 1] in _ALNUM or text[start - 1] == "-"):
                continue
            starts.setdefault(start, set()).update(families)
        return self.find_at(Spans(text, folded), starts)

    def find_at(
        self, spans: Spans, starts: dict[int, set[int]], listed: dict[int, int] | None = None
    ) -> Iterator[Found]:
        """The gated models that start at `starts` (position -> family indices, found
        by the caller's own pass over the folded text, on a word start). `listed` maps a
        start to the end of a name the caller knows already: a model there is looked at
        only when its name would be longer ("Blackwell Ultra" over "Blackwell")."""
        named: dict[str, bool] = {}  # family -> its vendor named anywhere in the text
        last_end = 0
        for start in sorted(starts):
            if start < last_end:
                continue
            beyond = listed.get(start, -1) if listed else -1
            found = self._at(spans, start, sorted(starts[start]), named, beyond)
            if found is not None:
                last_end = found.end
                yield found

    def _at(
        self,
        spans: Spans,
        start: int,
        families: list[int],
        named: dict[str, bool],
        beyond: int = -1,
    ) -> Found | None:
        """The first family (in file order) whose pattern matches at `start`, ends on a
        word boundary and passes its gate; None at once when no pattern ends past
        `beyond`."""
        text = spans.text
        matches: list[tuple[Family, re.Match[str], int]] = []
        for index in families:
            family = self.families[index]
            match = family.regex.match(text, start)
            if match is None:
                continue
            end = _plural_end(text, match.end())
            if end >= 0:
                matches.append((family, match, end))
        if all(end <= beyond for _, _, end in matches):
            return None
        sentence: tuple[int, int] | None = None
        for family, match, end in matches:
            if family.gate != "token" and self._vetoed(spans, start, end):
                continue
            if family.not_before is not None and family.not_before.match(text, end):
                return None  # "A16 technology" is a node, for every family that could read it
            if family.gate_words is not None:
                if sentence is None:
                    sentence = _sentence(text, start, end)
                if not self._gated(spans, family, sentence, named):
                    continue
            kind = family.kind
            if kind == "chip" and self._names_a_series(text, start, end):
                kind = "series"
            return Found(start, end, family.model(match), kind)
        return None

    def _names_a_series(self, text: str, start: int, end: int) -> bool:
        """ "the MI350 series", "la serie Snapdragon 8": a series word right after or,
        in languages that put it first, right before the model name."""
        if self._series is not None and self._series.match(text, end):
            return True
        return self._series_before is not None and bool(
            self._series_before.search(text, max(0, start - 12), start)
        )

    def _gated(
        self, spans: Spans, family: Family, sentence: tuple[int, int], named: dict[str, bool]
    ) -> bool:
        """sentence: a gate word in the sentence, or the vendor anywhere in the text;
        text: both (a bare "M3" is Apple's only in a text about Apple); vendor: a vendor
        or family word in the sentence."""
        assert family.gate_words is not None
        near = family.gate_words.search(spans, *sentence)
        if family.gate == "sentence":
            return near or self._vendor_named(spans, family, named)
        if family.gate == "text":
            return near and self._vendor_named(spans, family, named)
        return near

    def siblings(self, text: str, model_id: str, end: int) -> list[tuple[int, str]]:
        """(offset, model id) of the models a list after a model names by their suffix
        letter alone ("Ascend 910B, C and D" -> Ascend 910C, Ascend 910D); only ids the
        grammar can spell."""
        return self._number_siblings(text, model_id, end) or self._letter_siblings(
            text, model_id, end
        )

    def _letter_siblings(self, text: str, model_id: str, end: int) -> list[tuple[int, str]]:
        found = _SIBLINGS.match(text, end)
        if found is None or not model_id[-1:].isalpha() or not model_id[-2:-1].isdigit():
            return []
        siblings = []
        for letter in _SIBLING_LETTER.finditer(text, end, found.end()):
            sibling = model_id[:-1] + letter.group()
            if self.normalise(sibling) is not None:
                siblings.append((letter.start(), sibling))
        return siblings

    def _number_siblings(self, text: str, model_id: str, end: int) -> list[tuple[int, str]]:
        last = _LAST_NUMBER.search(model_id)
        found = _NUMBER_SIBLINGS.match(text, end) if last is not None else None
        if last is None or found is None:
            return []
        siblings = []
        for number in _SIBLING_NUMBER.finditer(text, end, found.end()):
            digits = number.group(1)
            if len(digits) != len(last.group(1)) or digits[0] != last.group(1)[0]:
                break
            sibling = self.normalise(model_id[: last.start()] + number.group())
            if sibling is None:
                break
            siblings.append((number.start(), sibling.model))
        return siblings

    def series_named(self, chips: list[str]) -> set[str]:
        """The ids in `chips` that name a generation or series of which another id in
        `chips` is a model (MI200 beside MI250X, MI350 beside MI350X)."""
        series: set[str] = set()
        for chip in chips:
            for pattern, members in self._series_of:
                match = pattern.fullmatch(chip)
                if match is None:
                    continue
                member = re.compile(_expand_members(members, match))
                if any(other != chip and member.fullmatch(other) for other in chips):
                    series.add(chip)
        return series

    @staticmethod
    def _vendor_named(spans: Spans, family: Family, named: dict[str, bool]) -> bool:
        """A model of a `sentence`-gated family also counts when its vendor (or family
        word) is named elsewhere in the text ("AMD ... the MI355X model is ...")."""
        if family.name not in named:
            named[family.name] = family.vendor_words.search(spans)
        return named[family.name]

    def vetoed(self, spans: Spans, start: int, end: int) -> bool:
        """A bare model code with a veto word right next to it: "B200 bus", "H20 water"
        (for the models listed in chips.yaml; "Ascend 910C" carries its family word)."""
        return _BARE_CODE.fullmatch(spans.text, start, end) is not None and self._vetoed(
            spans, start, end
        )

    def _vetoed(self, spans: Spans, start: int, end: int) -> bool:
        window = max(0, start - self._veto_window), end + self._veto_window
        return self._veto.search(spans, *window)

    def normalise(self, surface: str) -> ChipModel | None:
        """The model a surface form names ("GeForce RTX 5090 D" -> RTX 5090D), without
        any gate; None when no family's pattern spells it."""
        surface = surface.strip()
        for family in self.families:
            match = family.regex.fullmatch(surface)
            if match is not None:
                return family.model(match)
        return None


def _expand_members(members: str, series: re.Match[str]) -> str:
    """The members' pattern with the series id's groups written in ("MI\\1\\d\\d" with
    MI200's 2: "MI2\\d\\d")."""
    return _BACKREF.sub(lambda ref: re.escape(series.group(int(ref[1]))), members)


def _expand(anchors: list[str]) -> list[str]:
    """ "H#" -> H1 ... H9 and H-1 ... H-9: a prefix followed by a digit."""
    expanded = []
    for anchor in anchors:
        if anchor.endswith("#"):
            stem = anchor[:-1]
            expanded += [f"{stem}{sep}{digit}" for sep in ("", "-") for digit in "123456789"]
        else:
            expanded.append(anchor)
    return expanded


def _plural_end(text: str, end: int) -> int:
    """The end of a model token, past a plural "s" ("H20s"); -1 if the token runs on
    (a compound modifier in lower case does not run on: "H20-based")."""
    if text[end : end + 1] == "s" and text[end + 1 : end + 2] not in _ALNUM:
        return end + 1
    if text[end : end + 2] == "'s":
        return end
    if text[end - 1 : end] not in _ALNUM:
        return end  # a name ending in CJK (or a quote) runs into nothing: "昇腾AI芯片"
    nxt = text[end : end + 1]
    after = text[end + 1 : end + 2]
    # "H20-E" runs on into another code; "H20-based", "Ampere-architecture" end the token
    if nxt and (nxt in _ALNUM or (nxt == "-" and after in _ALNUM and not after.islower())):
        return -1
    return end


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence around a match, roughly: cut at line breaks and
    sentence ends."""
    low = max(0, start - _SENTENCE_REACH)
    high = min(len(text), end + _SENTENCE_REACH)
    cut = max(
        text.rfind("\n", low, start), text.rfind(". ", low, start), text.rfind("。", low, start)
    )
    ends = [i for i in (text.find(c, end, high) for c in ("\n", ". ", "。")) if i >= 0]
    return (cut + 1 if cut >= 0 else low), (min(ends) if ends else high)


@cache
def chip_grammar() -> ChipGrammar:
    path = TAXONOMY_DIR / "chip_grammar.yaml"
    return ChipGrammar(load_file(path))


@cache
def describe(model_id: str) -> ChipModel | None:
    """Vendor and family of a normalised id (None when the grammar cannot spell it)."""
    return chip_grammar().normalise(model_id)
