"""Which government's move the article reports: a fitted choice among the governments read
as acting.

The reading gives every move its government, its weight, where it stands (headline, lead,
a main clause), whether the government is named or inferred, how the actor was found (an
agency or a country named in the sentence, carried from the sentence before, a vendor's
home, the buyers' country ...) and whether it is background
(recalled, a concession, a standing measure). For each government with a move, the
attribution features below describe its part in the article's news: its share of the
moves in the stance's direction, whether it acts in the headline or in the main-news
sentence (the first confident move in the stance's direction), whether its actors are
named, whether its moves are only background or only in the other direction, and what the
hand-set readings pick. One binary logistic regression, fitted on the real fit split
(enrich/fit.py, `chipwire eval --fit`), scores each government; the best one acts. Its
weights live in enrich/model/jurisdiction.json; without them the decider's pick stands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from enrich.decider import SUPPORT_ACTIONS, Move, body_of, is_legislature
from enrich.stance import DIRECTIONS

ATTRIBUTION_FILE = Path(__file__).resolve().parent / "model" / "jurisdiction.json"
# actors found by a name in the sentence, not inferred from a vendor's home or the article
NAMED_SOURCES = frozenset({"agency", "country"})
ATTRIBUTION_FEATURES = (
    "rules_pick",
    "decider_pick",
    "share_news",
    "share_up_front",
    "share_named",
    "share_all",
    "share_opposite",
    "headline",
    "main_news",
    "first_move",
    "first_read",
    "background_share",
    "named_actor_share",
    "carried_share",
    "targeted_share",
    "by_agent",
    "quoted_share",
    "speaker_of_other",
    "recent_share",
    "official",
    "legislature_only",
    "research_only",
)


def candidate_features(
    stance: str, moves: Sequence[Move], rules_pick: str | None, decider_pick: str | None
) -> dict[str, dict[str, float]]:
    """Attribution features of every government with a move, for a `stance` that is not
    none; every value is a share, a fraction or a flag."""
    wanted = DIRECTIONS if stance == "mixed" else (stance,)
    trade = [m for m in moves if m.action not in SUPPORT_ACTIONS]
    mine = [m for m in trade if m.weighted.direction in wanted]
    news = [m for m in mine if not m.weak and not m.background]
    other = [m for m in trade if m.weighted.direction not in wanted and not m.weak]
    # the actor of the main-news sentence and the first mover: named ones first (an
    # inferred government is the reader's guess, not the sentence's actor)
    main = _first([m for m in news if m.weighted.explicit] or news)
    first = _first([m for m in trade if m.weighted.explicit] or trade)
    first_read = _first(trade)
    out: dict[str, dict[str, float]] = {}
    for government in dict.fromkeys(m.weighted.jurisdiction for m in trade):
        own = [m for m in mine if m.weighted.jurisdiction == government]
        every = [m for m in trade if m.weighted.jurisdiction == government]
        out[government] = {
            "rules_pick": float(government == rules_pick),
            "decider_pick": float(government == decider_pick),
            "share_news": _share(news, government),
            "share_up_front": _share([m for m in news if m.weighted.up_front], government),
            "share_named": _share([m for m in news if m.weighted.explicit], government),
            "share_all": _share(mine, government),
            "share_opposite": _share(other, government),
            "headline": float(any(m.weighted.in_headline for m in own)),
            "main_news": float(government == main),
            "first_move": float(government == first),
            "first_read": float(government == first_read),
            "background_share": _fraction([m for m in own if m.background], own),
            "named_actor_share": _fraction([m for m in every if m.source in NAMED_SOURCES], every),
            # "The ministry said ... It added that ...": the speaker's move carried on
            "carried_share": _fraction([m for m in own if m.source == "carried"], own),
            "targeted_share": _fraction([m for m in own if m.targeted], own),
            "by_agent": float(any(m.by_agent for m in own)),
            # "Beijing said the U.S. would ...": reported by another government
            "quoted_share": _fraction([m for m in own if m.quoted_by], own),
            "speaker_of_other": float(any(m.quoted_by == government for m in mine)),
            "recent_share": _fraction([m for m in own if m.recent], own),
            "official": float(any(m.certainty == "official" for m in own)),
            "legislature_only": float(bool(own) and all(is_legislature(m.agency) for m in own)),
            # a research service's or an audit office's report: its government did not act
            "research_only": float(bool(own) and all(body_of(m.agency) == "research" for m in own)),
        }
    return out


def _first(moves: Sequence[Move]) -> str | None:
    return moves[0].weighted.jurisdiction if moves else None


def _share(moves: Sequence[Move], government: str) -> float:
    total = sum(m.weighted.weight for m in moves)
    own = sum(m.weighted.weight for m in moves if m.weighted.jurisdiction == government)
    return own / total if total else 0.0


def _fraction(part: Sequence[Move], whole: Sequence[Move]) -> float:
    total = sum(m.weighted.weight for m in whole)
    return sum(m.weighted.weight for m in part) / total if total else 0.0


@dataclass(frozen=True)
class AttributionModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def score(self, features: Mapping[str, float]) -> float:
        return self.intercept + sum(
            w * (features.get(name, 0.0) - m) / s
            for name, m, s, w in zip(self.features, self.mean, self.scale, self.coef, strict=True)
        )

    def choose(self, candidates: Mapping[str, Mapping[str, float]]) -> str | None:
        """The best-scoring government (ties: the first read)."""
        best: tuple[float, str] | None = None
        for government, features in candidates.items():
            score = self.score(features)
            if best is None or score > best[0] + 1e-12:
                best = (score, government)
        return best[1] if best else None

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttributionModel:
        return cls(
            features=tuple(data["features"]),
            mean=tuple(float(v) for v in data["mean"]),
            scale=tuple(float(v) for v in data["scale"]),
            coef=tuple(float(v) for v in data["coef"]),
            intercept=float(data["intercept"]),
        )


@cache
def load_attribution(path: Path = ATTRIBUTION_FILE) -> AttributionModel | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model = AttributionModel.from_json(data["model"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return model if model.features == ATTRIBUTION_FEATURES else None


def acting_government(
    stance: str, moves: Sequence[Move], rules_pick: str | None, decider_pick: str | None
) -> str | None:
    """The government whose move the article reports; the decider's pick when no fitted
    weights can be read or no government has a move."""
    model = load_attribution()
    if stance == "none" or model is None:
        return decider_pick
    candidates = candidate_features(stance, moves, rules_pick, decider_pick)
    return model.choose(candidates) or decider_pick
