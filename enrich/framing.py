"""How the article frames its own news, read from markers anywhere in the text.

Three article-level facts change what its sentence-level moves mean:
- `unconfirmed`: the article says outright that nothing official has happened ("no
  official announcement", "no decision has been made"), or its headline or lead denies
  a move ("rejected reports"): its reported, unofficial moves are talk, not moves;
- `self_restraint`: the headline or lead says a company acted on its own ("on its own
  initiative", "voluntarily"): moves whose government is only inferred are the
  company's, not a government's;
- `retrospective`: the headline or lead looks back ("three years on") or labels the
  piece as analysis ("Analysis:"): only a move in the headline itself is the news;
- `two_way`: the headline or lead announces opposite moves ("on two fronts", "in
  opposite directions", "loosens ... tightens"): the article may be mixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich.match import Mention

LEAD_WEIGHT = 2.0  # headline and the first two sentences
HEADLINE_WEIGHT = 3.0


@dataclass(frozen=True)
class Frame:
    unconfirmed: str = ""
    self_restraint: str = ""
    two_way: str = ""
    retrospective: str = ""

    def notes(self) -> list[str]:
        found = [
            ("no official move", self.unconfirmed),
            ("company acting on its own", self.self_restraint),
            ("opposite moves announced", self.two_way),
            ("looks back or analyses", self.retrospective),
        ]
        return [f"{what} ('{surface}')" for what, surface in found if surface]


def article_frame(by_sentence: list[list[Mention]], weights: list[float]) -> Frame:
    found: dict[str, str] = {}
    for mentions, weight in zip(by_sentence, weights, strict=True):
        for mention in mentions:
            key = "unconfirmed" if mention.kind == "denial" else mention.key
            if mention.kind not in ("frame", "denial") or key in found:
                continue
            if key == "retrospective" and weight < HEADLINE_WEIGHT:
                continue
            if (mention.kind == "frame" and key == "unconfirmed") or weight >= LEAD_WEIGHT:
                found[key] = mention.surface
    return Frame(
        unconfirmed=found.get("unconfirmed", ""),
        self_restraint=found.get("self_restraint", ""),
        two_way=found.get("two_way", ""),
        retrospective=found.get("retrospective", ""),
    )
