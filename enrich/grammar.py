"""Chip models by their vendors' naming patterns (taxonomy/chip_grammar.yaml).

The list in chips.yaml only knows the models that existed when it was written; the
grammar knows how each product family names its models ("a letter prefix, 2-3 digits
and a suffix letter", "Ascend" and a number), so a new model ("B40", "MI450X",
"Ascend 960") is found and normalised to (vendor, family, model id) all the same.

One regular-expression pass per text finds the candidates; each must pass its family's
gate (its own family word, or the vendor or chip words in the same sentence) and no
veto word may sit right next to it ("A380 aircraft", "M2 motorway").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from enrich.lexicon import TAXONOMY_DIR

GATES = ("token", "sentence", "vendor")
_GROUP = re.compile(r"\(\?P<(\w+)>")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_SENTENCE_REACH = 240


@dataclass(frozen=True, slots=True)
class ChipModel:
    vendor: str
    family: str
    model: str  # the normalised id, as labelled (enrich/realset/README.md)


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    chip: ChipModel
    kind: str = "chip"  # or "family": a family word naming no model ("Ascend chips")


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
    gate: str
    gate_words: re.Pattern[str] | None
    vendor_words: re.Pattern[str] | None
    kind: str = "chip"

    def model(self, match: re.Match[str], prefix: str = "") -> ChipModel:
        values: dict[str, str] = {}
        for group in self.groups:
            value = match.group(prefix + group) or ""
            value = value.strip()
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
        return ChipModel(self.vendor, family, self.template.format(**values))


def words_regex(words: list[str]) -> re.Pattern[str] | None:
    """Any of `words` on (ASCII) word boundaries; a word with a capital is matched as
    written, an all-lower-case word in any case; CJK words need no boundary."""
    if not words:
        return None
    parts = []
    for word in sorted({str(w) for w in words}, key=len, reverse=True):
        escaped = re.escape(word)
        body = escaped if word != word.lower() else f"(?i:{escaped})"
        before = r"(?<![A-Za-z0-9])" if word[0] in _ALNUM else ""
        after = r"(?![A-Za-z0-9])" if word[-1] in _ALNUM else ""
        parts.append(before + body + after)
    return re.compile("|".join(parts))


class ChipGrammar:
    def __init__(self, data: dict[str, Any]) -> None:
        vendor_words = {v["id"]: [str(w) for w in v["words"]] for v in data["vendors"]}
        chip_words = [str(w) for w in data["chip_words"]]
        self.families: list[Family] = []
        for spec in data["families"]:
            vendor = spec["vendor"]
            gate = spec.get("gate", "sentence")
            assert gate in GATES, f"{spec['id']}: unknown gate {gate}"
            context = [str(w) for w in spec.get("context", [])]
            gate_words = [*vendor_words[vendor], *context]
            if gate == "sentence":
                gate_words += chip_words
            pattern = str(spec["pattern"])
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
                    gate=gate,
                    gate_words=None if gate == "token" else words_regex(gate_words),
                    vendor_words=words_regex([*vendor_words[vendor], *context]),
                    kind=str(spec.get("kind", "chip")),
                )
            )
        alternatives = [
            f"(?P<f{index}>" + _GROUP.sub(f"(?P<f{index}_" + r"\1>", family.regex.pattern) + ")"
            for index, family in enumerate(self.families)
        ]
        self._scanner = re.compile("|".join(alternatives))
        self._veto = words_regex([str(w) for w in data["veto"]])
        self._veto_window = int(data["veto_window"])

    def find(self, text: str) -> Iterator[Found]:
        """Every gated chip model in `text`, left to right."""
        named: dict[str, bool] = {}  # vendor -> named anywhere in the text
        for match in self._scanner.finditer(text):
            start, end = match.span()
            if start > 0 and (text[start - 1] in _ALNUM or text[start - 1] == "-"):
                continue
            end = _plural_end(text, end)
            if end < 0:
                continue
            index = int(str(match.lastgroup)[1:])
            found = self._gated(text, match, index, start, end, named)
            if found is not None:
                yield found

    def _gated(
        self,
        text: str,
        match: re.Match[str],
        index: int,
        start: int,
        end: int,
        named: dict[str, bool],
    ) -> Found | None:
        if self._vetoed(text, start, end):
            return None
        sentence: str | None = None
        for position, family in enumerate(self.families):
            if position == index:
                chip = family.model(match, f"f{index}_")
            else:
                if position < index:
                    continue  # the scanner tried it first and it did not match here
                other = family.regex.match(text, start)
                if other is None or other.end() != match.end():
                    continue
                chip = family.model(other)
            if family.gate_words is not None:
                if sentence is None:
                    sentence = _sentence(text, start, end)
                if family.gate_words.search(sentence) is None and not (
                    family.gate == "sentence" and self._vendor_named(text, family, named)
                ):
                    continue
            return Found(start, end, chip, family.kind)
        return None

    @staticmethod
    def _vendor_named(text: str, family: Family, named: dict[str, bool]) -> bool:
        """A model of a `sentence`-gated family also counts when its vendor (or family
        word) is named elsewhere in the text ("AMD ... the MI355X model is ...")."""
        if family.name not in named:
            found = family.vendor_words is not None and family.vendor_words.search(text)
            named[family.name] = bool(found)
        return named[family.name]

    def _vetoed(self, text: str, start: int, end: int) -> bool:
        if self._veto is None:
            return False
        window = text[max(0, start - self._veto_window) : end + self._veto_window]
        return self._veto.search(window) is not None

    def normalise(self, surface: str) -> ChipModel | None:
        """The model a surface form names ("GeForce RTX 5090 D" -> RTX 5090D), without
        any gate; None when no family's pattern spells it."""
        surface = surface.strip()
        for family in self.families:
            match = family.regex.fullmatch(surface)
            if match is not None:
                return family.model(match)
        return None


def _plural_end(text: str, end: int) -> int:
    """The end of a model token, past a plural "s" ("H20s"); -1 if the token runs on."""
    if text[end : end + 1] == "s" and text[end + 1 : end + 2] not in _ALNUM:
        return end + 1
    if text[end : end + 2] == "'s":
        return end
    nxt = text[end : end + 1]
    if nxt and (nxt in _ALNUM or (nxt == "-" and text[end + 1 : end + 2] in _ALNUM)):
        return -1
    return end


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around a span, roughly: cut at line breaks and sentence ends."""
    low = max(0, start - _SENTENCE_REACH)
    high = min(len(text), end + _SENTENCE_REACH)
    before = text[low:start]
    cut = max(before.rfind("\n"), before.rfind(". "), before.rfind("。"))
    after = text[end:high]
    ends = [i for i in (after.find("\n"), after.find(". "), after.find("。")) if i >= 0]
    return text[low + cut + 1 if cut >= 0 else low : end + min(ends) if ends else high]


@cache
def chip_grammar() -> ChipGrammar:
    path = TAXONOMY_DIR / "chip_grammar.yaml"
    return ChipGrammar(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def describe(model_id: str) -> ChipModel | None:
    """Vendor and family of a normalised id (None when the grammar cannot spell it)."""
    return chip_grammar().normalise(model_id)
