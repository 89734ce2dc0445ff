"""The article's main stance and acting government, from its weighted signals.

Each signal weighs confidence x prominence (headline 3, lead 2, then less further
down). The headline and lead decide: when they hold a move, their heavier direction
wins, whatever the body recalls; only an article whose headline and lead hold no move
is decided by its whole body, and then only if the body holds a move whose government
is named in its own sentence (an inferred actor is too weak to make the news alone).
"Mixed" is rare, as the guidelines say: opposite moves both in the headline or lead and
within a quarter of each other, or opposite moves announced as such (a two-way marker in
the lead, or both directions in the headline itself) within a factor of three. No
signal strong enough means "none".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from chipwire.contract import Stance

MIN_CONFIDENCE = 0.45
MIN_TOTAL = 0.5
MIXED_RATIO = 1.25  # mixed: within this ratio, and both moves in headline or lead
ANNOUNCED_MIXED_RATIO = 3.0  # mixed when announced as two-way: within this ratio
DIRECTIONS = ("restrict", "ease")


class Weighted(NamedTuple):
    direction: str
    jurisdiction: str
    weight: float
    up_front: bool  # in the headline or lead, in a main clause
    in_headline: bool = False
    explicit: bool = True  # the acting government is named in the sentence


@dataclass
class StanceDecision:
    stance: Stance
    jurisdiction: str | None
    totals: dict[str, float] = field(default_factory=dict)
    by_jurisdiction: dict[str, dict[str, float]] = field(default_factory=dict)
    reason: str = ""


def decide_stance(weighted: list[Weighted], *, two_way: bool = False) -> StanceDecision:
    totals = _per_direction(weighted)
    lead = _per_direction([w for w in weighted if w.up_front])
    decision = StanceDecision(
        "none",
        None,
        {d: round(sum(c.values()), 3) for d, c in totals.items() if c},
        {d: {j: round(w, 3) for j, w in c.items()} for d, c in totals.items() if c},
    )
    restrict, ease = (sum(totals[d].values()) for d in DIRECTIONS)
    if max(restrict, ease) < MIN_TOTAL:
        decision.reason = f"no move weighs {MIN_TOTAL} (restrict {restrict:.2f}, ease {ease:.2f})"
        return decision
    headline = {w.direction for w in weighted if w.in_headline}
    if _mixed(restrict, ease, lead, two_way or headline == set(DIRECTIONS)):
        decision.stance = "mixed"
        both: defaultdict[str, float] = defaultdict(float)
        moves = lead if any(lead.values()) else totals  # announced, but only in the body
        for direction in DIRECTIONS:
            for jurisdiction, weight in moves[direction].items():
                both[jurisdiction] += weight
        decision.jurisdiction = _top(both)
        decision.reason = (
            f"opposite moves up front (restrict {restrict:.2f}, ease {ease:.2f}"
            f"{', announced as two-way' if two_way else ''})"
        )
        return decision
    lead_restrict, lead_ease = (sum(lead[d].values()) for d in DIRECTIONS)
    if max(lead_restrict, lead_ease) >= MIN_TOTAL:
        winner: Stance = "restrict" if lead_restrict > lead_ease else "ease"
        named = _per_direction([w for w in weighted if w.up_front and w.explicit])[winner]
        decision.jurisdiction = _top(named or lead[winner])  # a named government first
        decision.reason = (
            f"{winner} outweighs the other direction in the headline and lead "
            f"(restrict {lead_restrict:.2f} vs ease {lead_ease:.2f} up front; "
            f"{restrict:.2f} vs {ease:.2f} in all)"
        )
    elif max(_explicit(weighted, d) for d in DIRECTIONS) < MIN_TOTAL:
        decision.reason = (
            "no move in the headline or lead, and none in the body whose government is "
            f"named in its sentence (restrict {restrict:.2f}, ease {ease:.2f})"
        )
        return decision
    else:
        winner = "restrict" if restrict > ease else "ease"
        decision.jurisdiction = _top(totals[winner])
        decision.reason = (
            f"{winner} outweighs the other direction (restrict {restrict:.2f} vs ease {ease:.2f})"
        )
    decision.stance = winner
    return decision


def _mixed(
    restrict: float, ease: float, lead: Mapping[str, Mapping[str, float]], announced: bool
) -> bool:
    """Announced as opposite and of comparable weight in the article, or of near-equal
    weight in the headline and lead (equal prominence)."""
    if announced:
        return min(restrict, ease) >= MIN_TOTAL and max(
            restrict, ease
        ) < ANNOUNCED_MIXED_RATIO * min(restrict, ease)
    up_front = [sum(lead[d].values()) for d in DIRECTIONS]
    return min(up_front) > 0 and max(up_front) < MIXED_RATIO * min(up_front)


def _explicit(weighted: list[Weighted], direction: str) -> float:
    return sum(w.weight for w in weighted if w.explicit and w.direction == direction)


def _per_direction(weighted: list[Weighted]) -> dict[str, defaultdict[str, float]]:
    per: dict[str, defaultdict[str, float]] = {d: defaultdict(float) for d in DIRECTIONS}
    for signal in weighted:
        per[signal.direction][signal.jurisdiction] += signal.weight
    return per


def _top(weights: dict[str, float]) -> str:
    return max(weights.items(), key=lambda item: item[1])[0]
