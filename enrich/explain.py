"""What the tagger saw and decided, per sentence and for the article (--explain)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from enrich.match import Mention

if TYPE_CHECKING:
    from enrich.cues import CueReading

_SHOWN_KINDS = (
    "chip",
    "family",
    "company",
    "agency",
    "context_agency",
    "country",
    "cue",
    "reversal",
    "requirement",
    "required",
    "denial",
    "reaction",
    "person",
    "subject",
    "hedge",
    "background",
    "concessive",
    "classification",
)


@dataclass
class SentenceTrace:
    index: int
    start: int
    end: int
    text: str
    weight: float
    headline: bool
    mentions: list[Mention]
    agencies: dict[int, str] = field(default_factory=dict)
    cues: list[CueReading] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "weight": self.weight,
            "headline": self.headline,
            "matches": [
                {
                    "alias": m.surface,
                    "kind": m.kind,
                    "id": self.agencies.get(m.start, m.key) if "agency" in m.kind else m.key,
                    "start": m.start,
                    "end": m.end,
                }
                for m in self.mentions
                if m.kind in _SHOWN_KINDS
            ],
            "cues": [
                {
                    "cue": c.surface,
                    "start": c.start,
                    "end": c.end,
                    "direction": c.direction,
                    "outcome": c.outcome,
                    "notes": c.notes,
                }
                for c in self.cues
            ],
        }


@dataclass
class Explanation:
    cut_at: int | None = None
    sentences: list[SentenceTrace] = field(default_factory=list)
    totals: dict[str, dict[str, float]] = field(default_factory=dict)
    stance_reason: str = ""
    relevance_reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "related_block_cut_at": self.cut_at,
            "sentences": [s.to_json() for s in self.sentences if s.mentions],
            "weights": self.totals,
            "stance_reason": self.stance_reason,
            "relevance_reason": self.relevance_reason,
        }
