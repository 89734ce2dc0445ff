"""How the headline and lead are worded: one fitted feature set for the stance decider.

The reading finds moves, actors and hedges sentence by sentence; what it misses is the
register of a story — a lawmakers' letter, an industry plea, an explainer, a report that a
rule is being weighed all use the words of a restriction without one being the news. A
bag of words over the headline and lead (English words and word pairs, Chinese character
pairs), weighted TF-IDF and read by a multinomial logistic regression fitted on the real
fit split (enrich/fit.py), gives the decider four probabilities (`wording_<stance>`). In
5-fold cross-validation grouped by search query (one event's reports never on both
sides), adding them took the decider from 0.68 to 0.72-0.73 on the fit split.

The weights live in enrich/model/wording.json (words and numbers, no article text); a
missing file gives even odds (no evidence either way).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

WORDING_FILE = Path(__file__).resolve().parent / "model" / "wording.json"
LEAD_CHARS = 1200  # the headline and about the first two paragraphs
_WORD = re.compile(r"[a-z][a-z'-]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def lead_of(title: str, text: str) -> str:
    return f"{title}\n{text}"[:LEAD_CHARS]


def tokens(lead: str) -> list[str]:
    """Lower-case words, adjacent word pairs, adjacent Chinese character pairs."""
    folded = lead.lower()
    words = _WORD.findall(folded)
    han = _HAN.findall(folded)
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
    return words + pairs + [a + b for a, b in itertools.pairwise(han)]


@dataclass(frozen=True)
class WordingModel:
    classes: tuple[str, ...]
    idf: Mapping[str, float]
    coef: Mapping[str, tuple[float, ...]]  # token -> one weight per class
    intercept: tuple[float, ...]

    def known_tokens(self, lead: str) -> list[str]:
        """The tokens of `lead` in the vocabulary, in the order `tokens` gives them; a
        word pair is only spelled out when the vocabulary holds it."""
        folded = lead.lower()
        idf = self.idf
        words = _WORD.findall(folded)
        known = [w for w in words if w in idf]
        seconds = self._pair_seconds
        known += [
            f"{a} {b}" for a, b in itertools.pairwise(words) if a in seconds and b in seconds[a]
        ]
        han = _HAN.findall(folded)
        if han:
            known += [p for p in (a + b for a, b in itertools.pairwise(han)) if p in idf]
        return known

    @cached_property
    def _pair_seconds(self) -> dict[str, frozenset[str]]:
        """The second words of the vocabulary's pairs by their first word."""
        seconds: dict[str, set[str]] = {}
        for token in self.idf:
            if " " in token:
                first, second = token.split(" ", 1)
                seconds.setdefault(first, set()).add(second)
        return {first: frozenset(words) for first, words in seconds.items()}

    @cached_property
    def _entries(self) -> dict[str, tuple[float, tuple[float, ...] | None]]:
        """Each token's idf and class weights (None without): one look-up, not three."""
        return {t: (w, self.coef.get(t)) for t, w in self.idf.items()}

    def probabilities(self, lead: str) -> dict[str, float]:
        counts = Counter(self.known_tokens(lead))
        entries = self._entries
        weights: list[float] = []
        rows: list[tuple[tuple[float, ...], float]] = []
        for token, n in counts.items():
            idf, row = entries[token]
            # sublinear tf, idf, unit length: as the fitting vectorizer weighs them (a
            # token seen once weighs its idf: 1 + log 1 is exactly 1)
            weight = idf if n == 1 else (1 + math.log(n)) * idf
            weights.append(weight)
            if row is not None:
                rows.append((row, weight))
        norm = math.sqrt(sum([w * w for w in weights])) or 1.0
        scores = []
        # class by class, each adding the tokens in the same order as a token-major loop
        # (a plain loop: Python's float operations here are cheaper than map and reduce)
        for i, score in enumerate(self.intercept):
            for row, weight in rows:
                score += row[i] * weight / norm
            scores.append(score)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "intercept": list(self.intercept),
            "vocabulary": {
                t: [round(self.idf[t], 5), *(round(c, 5) for c in self.coef.get(t, ()))]
                for t in sorted(self.idf)
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WordingModel:
        classes = tuple(data["classes"])
        idf: dict[str, float] = {}
        coef: dict[str, tuple[float, ...]] = {}
        for token, values in data["vocabulary"].items():
            idf[token] = float(values[0])
            if len(values) > 1:
                coef[token] = tuple(float(v) for v in values[1:])
        return cls(classes, idf, coef, tuple(float(v) for v in data["intercept"]))


@cache
def load_wording(path: Path = WORDING_FILE) -> WordingModel | None:
    try:
        return WordingModel.from_json(json.loads(path.read_text(encoding="utf-8"))["model"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def wording_features(title: str, text: str) -> dict[str, float]:
    model = load_wording()
    if model is None:
        return {f"wording_{c}": 0.25 for c in ("restrict", "ease", "mixed", "none")}
    probabilities = model.probabilities(lead_of(title, text))
    return {f"wording_{c}": p for c, p in probabilities.items()}
