"""Is a text about chips at all? Without a chip, a chip technology or a chipmaker there is
no subject for a semiconductor-policy move, however many "bans" and "approvals" it holds.
The word lists are data: enrich/taxonomy/domain.yaml."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from enrich.match import Mention
from enrich.yaml12 import load_file

_DATA = Path(__file__).resolve().parent / "taxonomy" / "domain.yaml"
_STRONG = ("chip", "family", "classification")


@dataclass(frozen=True)
class DomainRules:
    min_evidence: float
    max_evidence: float
    words_per_evidence: float
    not_chip_companies: frozenset[str]
    not_chip_classifications: frozenset[str]
    ambiguous_words: frozenset[str]
    phrases: dict[str, re.Pattern[str]]


@cache
def rules() -> DomainRules:
    data = load_file(_DATA)
    return DomainRules(
        min_evidence=float(data["min_evidence"]),
        max_evidence=float(data["max_evidence"]),
        words_per_evidence=float(data["words_per_evidence"]),
        not_chip_companies=frozenset(data["not_chip_companies"]),
        not_chip_classifications=frozenset(data["not_chip_classifications"]),
        ambiguous_words=frozenset(w.lower() for w in data["ambiguous_words"]),
        phrases={
            p.lower(): re.compile(r"\b" + re.escape(p.lower()) + r"\b") for p in data["phrases"]
        },
    )


def about_chips(
    mentions: Sequence[Mention],
    folded_text: str,
    lead: Sequence[Mention] = (),
    controlled: Sequence[Mention] = (),
) -> tuple[bool, float]:
    """Whether the text is about chips, and how strongly (see domain.yaml for the
    counting). `lead` are the mentions of the headline and lead (also in `mentions`): the
    headline and lead state what a story is about, so what they name counts twice
    ("controls on semiconductor, quantum and additive items" opening a law-firm note).
    `controlled` are the mentions of sentences that hold a policy cue: a chip or chip
    technology named as the object of a move ("sanctions on suppliers of microelectronics",
    "permits for items including semiconductors") is what the move is about, so it counts
    twice too (companies and bare "chips" do not: _object_evidence).
    The mentions are counted first: when they reach max_evidence, the most any length
    asks, the text is about chips and neither its phrases nor its words are counted (the
    two scans of the whole text, a twentieth of tagging); the evidence returned is then
    the mentions' alone. Otherwise it is counted in full."""
    found = rules()
    named = _named_evidence(mentions) + _named_evidence(lead) + _object_evidence(controlled)
    if named >= found.max_evidence:
        return True, named
    total = _phrase_evidence(folded_text) + named
    return total >= needed(folded_text), total


def _phrase_evidence(folded_text: str) -> float:
    found = rules()
    # a substring test first: one alternation regex over every text cost a fifth of tagging
    return float(
        sum(
            len(pattern.findall(folded_text))
            for phrase, pattern in found.phrases.items()
            if phrase in folded_text
        )
    )


def _named_evidence(mentions: Sequence[Mention]) -> float:
    found = rules()
    total = 0.0
    for mention in mentions:
        if mention.kind == "classification" and mention.key in found.not_chip_classifications:
            continue
        if mention.kind in _STRONG:
            total += 2
        elif mention.kind == "subject":
            total += 0.5 if mention.surface.lower() in found.ambiguous_words else 1
        elif mention.kind == "company":
            total += 0.5 if mention.key in found.not_chip_companies else 1
    return total


def _object_evidence(controlled: Sequence[Mention]) -> float:
    """What a policy sentence names as its object counts again, when it is a chip or a
    chip technology said outright: not a company (a carmaker's recall, an app's ban), a
    bare "chips" (potato chips) or an ambiguous word."""
    found = rules()
    objects = [m for m in controlled if m.kind in ("chip", "family") or _plain_subject(m, found)]
    return _named_evidence(objects)


def _plain_subject(mention: Mention, found: DomainRules) -> bool:
    return (
        mention.kind == "subject"
        and mention.extra != "weak"
        and mention.surface.lower() not in found.ambiguous_words
    )


def needed(folded_text: str) -> float:
    """Longer texts must say more: one passing "chip" in a long story is not its subject."""
    found = rules()
    words = len(folded_text.split())
    return min(found.max_evidence, max(found.min_evidence, words / found.words_per_evidence))
