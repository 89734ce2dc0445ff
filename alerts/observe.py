"""What one article says about each (subject, acting government): an observation, or nothing.

Only the article's news counts. A signal must be current (the tagger's certainty is
`official` or `reported`; a proposal counts only for subscriptions that ask for proposals,
and anything else the tagger may mark, such as recalled background, never counts), its
confidence must pass the threshold and the article must be relevant. For the article's own
acting government the article-level stance decides, when a confident signal backs it; any
other government named in the article needs a clear majority (twice the opposing
confidence) and one strong signal, so a background sentence about another government
does not move that government's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.publishers import is_government, publisher_key
from chipwire.contract import Direction, EnrichedArticle, Signal
from chipwire.settings import Settings

CURRENT = frozenset({"official", "reported"})
PROPOSED = "proposed"
SECONDARY_MIN_CONFIDENCE = 0.75


@dataclass(frozen=True)
class Observation:
    subject: str
    jurisdiction: str
    article_id: str
    story_id: str
    publisher: str  # registered domain, or source:<id> for hosts without one
    official: bool
    direction: Direction
    certainty: str
    observed_at: str  # ISO time: published_at, else fetched_at
    confidence: float
    evidence: str
    title: str
    url: str
    outlet: str


def observations_of(article: EnrichedArticle, settings: Settings) -> list[Observation]:
    if article.relevance < settings.alert_min_relevance:
        return []
    votes: dict[tuple[str, str], dict[Direction, list[Signal]]] = {}
    for signal in article.signals:
        if signal.confidence < settings.alert_min_confidence:
            continue
        if signal.certainty not in CURRENT and signal.certainty != PROPOSED:
            continue
        pair = (signal.subject, signal.jurisdiction)
        votes.setdefault(pair, {}).setdefault(signal.direction, []).append(signal)
    when = (article.published_at or article.fetched_at).isoformat()
    publisher = publisher_key(article.url, article.source.id)
    official = article.source.official or is_government(
        article.url, settings.alert_official_domains, settings.alert_official_sites
    )
    found = []
    for (subject, jurisdiction), by_direction in sorted(votes.items()):
        direction = _decide(article, jurisdiction, by_direction)
        if direction is None:
            continue
        signals = by_direction[direction]
        current = [s for s in signals if s.certainty in CURRENT]
        best = max(current or signals, key=lambda s: s.confidence)
        found.append(
            Observation(
                subject=subject,
                jurisdiction=jurisdiction,
                article_id=article.id,
                story_id=article.story_id,
                publisher=publisher,
                official=official,
                direction=direction,
                certainty=best.certainty,
                observed_at=when,
                confidence=best.confidence,
                evidence=best.evidence,
                title=article.title,
                url=article.url,
                outlet=article.source.name,
            )
        )
    return found


def _decide(
    article: EnrichedArticle, jurisdiction: str, by_direction: dict[Direction, list[Signal]]
) -> Direction | None:
    own = jurisdiction == article.acting_jurisdiction
    if own and (article.stance == "restrict" or article.stance == "ease"):
        return article.stance if article.stance in by_direction else None
    weight = {d: sum(s.confidence for s in signals) for d, signals in by_direction.items()}
    winner = max(weight, key=lambda d: weight[d])
    loser = sum(w for d, w in weight.items() if d != winner)
    strongest = max(s.confidence for s in by_direction[winner])
    if weight[winner] >= 2 * loser and strongest >= SECONDARY_MIN_CONFIDENCE:
        return winner
    return None
