"""How surely an article reports a semiconductor trade or industrial-policy move (0..1).

A logistic score over a few features: the best policy signal (headline and lead count
more), policy cues read in any way (a denied or debated move is still policy news),
policy and agency vocabulary, and words of earnings, launch, stock and funding stories
that pull it down. The weights are round numbers near a logistic fit on the dev set.
Texts about no chip, chip company or technology stay low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RelevanceFeatures:
    best_signal: float
    lead_signal: float
    lead_cues: int
    cues: int
    policy_words: int
    offtopic_words: int
    agencies: int
    on_topic: bool


def relevance_score(f: RelevanceFeatures) -> tuple[float, str]:
    z = (
        -2.5
        + 1.0 * f.best_signal
        + 0.6 * f.lead_signal
        + 0.5 * min(f.lead_cues, 3)
        + 0.45 * min(f.cues, 8)
        + 0.45 * min(f.policy_words, 10)
        + 0.8 * min(f.agencies, 3)
        - 0.7 * min(f.offtopic_words, 10)
    )
    if not f.on_topic:
        z -= 2.5
    score = 1.0 / (1.0 + math.exp(-z))
    why = (
        f"z={z:.2f}: signal {f.best_signal:.2f}, lead signal {f.lead_signal:.2f}, "
        f"{f.cues} cues ({f.lead_cues} in headline/lead), "
        f"{f.policy_words} policy / {f.offtopic_words} off-topic words, "
        f"{f.agencies} agencies, on-topic={f.on_topic}"
    )
    return round(score, 3), why
