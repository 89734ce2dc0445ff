"""The article's main stance and acting government, from its weighted signals.

Each signal weighs confidence x prominence (headline 3, lead 2, then less further
down). The heavier direction wins; "mixed" is rare, as the guidelines say: two opposite
moves of near-equal weight (within a quarter) that both stand in the headline or lead.
No signal strong enough means "none".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from chipwire.contract import Stance

MIN_CONFIDENCE = 0.45
MIN_TOTAL = 0.5
MIXED_RATIO = 1.25  # mixed: within this ratio, and both moves in headline or lead


@dataclass
class StanceDecision:
    stance: Stance
    jurisdiction: str | None
    totals: dict[str, float] = field(default_factory=dict)
    by_jurisdiction: dict[str, dict[str, float]] = field(default_factory=dict)
    reason: str = ""


def decide_stance(weighted: list[tuple[str, str, float, bool]]) -> StanceDecision:
    """`weighted`: (direction, jurisdiction, weight, in headline or lead) per signal."""
    totals: defaultdict[str, float] = defaultdict(float)
    per: dict[str, defaultdict[str, float]] = {d: defaultdict(float) for d in ("restrict", "ease")}
    prominent: set[str] = set()
    for direction, jurisdiction, weight, up_front in weighted:
        totals[direction] += weight
        per[direction][jurisdiction] += weight
        if up_front:
            prominent.add(direction)
    decision = StanceDecision(
        "none",
        None,
        {k: round(v, 3) for k, v in totals.items()},
        {d: {j: round(w, 3) for j, w in c.items()} for d, c in per.items() if c},
    )
    restrict, ease = totals["restrict"], totals["ease"]
    if max(restrict, ease) < MIN_TOTAL:
        decision.reason = f"no move weighs {MIN_TOTAL} (restrict {restrict:.2f}, ease {ease:.2f})"
        return decision
    balanced = max(restrict, ease) < MIXED_RATIO * min(restrict, ease)
    if not (balanced and prominent == {"restrict", "ease"}):
        winner: Stance = "restrict" if restrict > ease else "ease"
        decision.stance = winner
        decision.jurisdiction = _top(per[winner])
        decision.reason = (
            f"{winner} outweighs the other direction (restrict {restrict:.2f} vs ease {ease:.2f})"
        )
        return decision
    decision.stance = "mixed"
    both = defaultdict(float, per["restrict"])
    for jurisdiction, weight in per["ease"].items():
        both[jurisdiction] += weight
    decision.jurisdiction = _top(both)
    decision.reason = f"opposite moves of similar weight (restrict {restrict:.2f}, ease {ease:.2f})"
    return decision


def _top(weights: dict[str, float]) -> str:
    return max(weights.items(), key=lambda item: item[1])[0]
