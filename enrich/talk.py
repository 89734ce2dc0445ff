"""Whether the headline and lead report a government's own move, or only talk about one.

Many stories use the words of a move without one being their news: a curb only weighed
or drafted, lawmakers asking for one, a government condemning another's, an essay
looking back at measures since 2022. Four word classes (cues.yaml `talk`, each language
file adds its own words) mark such sentences:
- `considered`: the move is weighed, studied, drafted (weighs, mulls, 拟, 검토, erwägt);
- `legislators`: lawmakers and their bills and letters (senators, 议员, 議員, Abgeordnete);
- `commentary`: a reaction or a demand (condemns, urges, welcomes, 谴责, 촉구, fordert);
- `retrospective`: a look back (since 2022, months after, a think-tank report).

They are features, never vetoes, and only the two the decider weighs are computed: how
many classes the headline and lead hold (`talk_lead`) and the share of the up-front move
weight told in sentences holding any class (`talk_share`). Per-class flags and shares and
the move weight free of talk were read once and dropped: grouped cross-validation found
they added nothing beyond these two.
"""

from __future__ import annotations

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
    """`talk_lead`: how many talk classes the headline and lead hold; `talk_share`: the
    share of the up-front move weight told in sentences holding any class."""
    total = talked = 0.0
    for move, talk in zip(moves, talk_of_move, strict=True):
        if move.weighted.up_front and not move.weak and move.action not in SUPPORT_ACTIONS:
            total += move.weighted.weight
            if talk:
                talked += move.weighted.weight
    return {
        "talk_lead": float(len(up_front_talk)),
        "talk_share": talked / total if total else 0.0,
    }
