"""Whether the headline and lead report a government's own move, or only talk about one.

Many stories use the words of a move without one being their news: a curb only weighed
or drafted, lawmakers asking for one, a government condemning another's, an essay
looking back at measures since 2022. Four word classes (cues.yaml `talk`, each language
file adds its own words) mark such sentences:
- `considered`: the move is weighed, studied, drafted (weighs, mulls, 拟, 검토, erwägt);
- `legislators`: lawmakers and their bills and letters (senators, 议员, 議員, Abgeordnete);
- `commentary`: a reaction or a demand (condemns, urges, welcomes, 谴责, 촉구, fordert);
- `retrospective`: a look back (since 2022, months after, a think-tank report).

They are features, never vetoes. The decider weighs two of them (enrich/decider.py
DECIDING_FEATURES): how many classes the headline and lead hold (`talk_lead`) and the share
of the up-front move weight told in sentences holding any class (`talk_share`). The
per-class flags and shares and the move weight free of talk are read too, for the
explanation and for fitting experiments; grouped cross-validation found they added nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from enrich.decider import SUPPORT_ACTIONS, Move
from enrich.match import Mention

TALK_CLASSES = ("considered", "legislators", "commentary", "retrospective")


def sentence_talk(mentions: Iterable[Mention]) -> frozenset[str]:
    """The talk classes one sentence's mentions hold."""
    return frozenset(m.key for m in mentions if m.kind == "talk")


def talk_features(
    moves: Sequence[Move],
    talk_of_move: Sequence[frozenset[str]],
    up_front_talk: frozenset[str],
) -> dict[str, float]:
    """`talk_<class>_lead`: the headline or lead holds the class; `talk_<class>_share`:
    the share of the up-front move weight in sentences holding it; `talk_share`: in
    sentences holding any class; `<direction>_free_up_front`: the up-front move weight
    (log1p) in sentences holding none."""
    features = {f"talk_{name}_lead": float(name in up_front_talk) for name in TALK_CLASSES}
    features["talk_lead"] = float(len(up_front_talk))
    up_front = [
        (move, talk)
        for move, talk in zip(moves, talk_of_move, strict=True)
        if move.weighted.up_front and not move.weak and move.action not in SUPPORT_ACTIONS
    ]
    total = sum(move.weighted.weight for move, _ in up_front)
    for name in TALK_CLASSES:
        held = sum(move.weighted.weight for move, talk in up_front if name in talk)
        features[f"talk_{name}_share"] = held / total if total else 0.0
    talked = sum(move.weighted.weight for move, talk in up_front if talk)
    features["talk_share"] = talked / total if total else 0.0
    for direction in ("restrict", "ease"):
        free = sum(
            m.weighted.weight for m, t in up_front if not t and m.weighted.direction == direction
        )
        features[f"{direction}_free_up_front"] = math.log1p(free)
    return features
