"""Tag one article: entities, policy signals, stance, acting government and relevance.

`tag_text` is the whole story of one text, top to bottom; it is pure (no I/O) and the
taxonomy and automaton are built once per process.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from chipwire.contract import EnrichedArticle, EntityRef, RawArticle, Signal, Stance, Tags
from enrich.actors import Actor
from enrich.attribution import acting_government
from enrich.context import ArticleContext, Tokens, article_context, resolve_agency
from enrich.decider import Move, decide, stance_features
from enrich.domain import about_chips as domain_about_chips
from enrich.explain import Explanation, SentenceTrace
from enrich.folding import fold_and_width
from enrich.framing import Frame, article_frame
from enrich.grammar import chip_grammar
from enrich.lexicon import Lexicon, load_lexicon
from enrich.match import Mention, countries_named_in, matcher
from enrich.relevance import RelevanceFeatures, relevance_score
from enrich.signals import Candidate, read_sentence
from enrich.stance import MIN_CONFIDENCE, Weighted, decide_stance
from enrich.talk import sentence_talk, talk_features
from enrich.text import Sentence, cut_related_block, headline_end, split_sentences
from enrich.wording import wording_features

MIN_SIGNAL_CONFIDENCE = 0.3
FRAMED_OUT_CAP = 0.4  # below the stance's MIN_CONFIDENCE: kept as a signal, not the news
INFERRED_SOURCES = frozenset({"article", "vendor", "buyers", "carried", "authority"})
OPPOSED_CAP = 0.55
OFF_DOMAIN_RELEVANCE = 0.05
_HEADLINE_WEIGHT = 3.0
_CAPTION_WEIGHT = 0.6  # the lowest body weight


@dataclass
class TagResult:
    tags: Tags
    signals: list[Signal]
    stance: Stance
    acting_jurisdiction: str | None
    relevance: float
    explanation: Explanation = field(repr=False)
    features: dict[str, float] = field(default_factory=dict, repr=False)
    # what the hand-set reading alone concludes: one of the decider's features
    read_stance: tuple[Stance, str | None] = ("none", None)
    # the moves read, as the decider and the attribution saw them (for fitting)
    moves: list[Move] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The `chipwire tag --json` object."""
        return {
            "chips": [e.model_dump() for e in self.tags.chips],
            "companies": [e.model_dump() for e in self.tags.companies],
            "agencies": [e.model_dump() for e in self.tags.agencies],
            "countries": [e.model_dump() for e in self.tags.countries],
            "signals": [s.model_dump() for s in self.signals],
            "stance": self.stance,
            "acting_jurisdiction": self.acting_jurisdiction,
            "relevance": self.relevance,
        }


def tag_article(raw: RawArticle) -> EnrichedArticle:
    result = tag_text(raw.text, raw.title)
    return EnrichedArticle(
        **raw.model_dump(),
        tags=result.tags,
        signals=result.signals,
        stance=result.stance,
        acting_jurisdiction=result.acting_jurisdiction,
        relevance=result.relevance,
        enrichment_version=load_lexicon().version,
    )


def tag_text(text: str, title: str = "") -> TagResult:
    lexicon = load_lexicon()
    document = f"{title}\n\n{text}" if title.strip() else text
    body_offset = len(title) + 2 if title.strip() else 0
    cut = cut_related_block(document, lexicon.related_headers)
    analysed = document[:cut]
    folded, wide = fold_and_width(analysed)
    captions = lexicon.captions
    headline = headline_end(analysed, body_offset > 0, captions)
    sentences = _distinct(split_sentences(analysed, headline, captions), folded)
    by_sentence = _assign(sentences, matcher().find(analysed, folded, wide))
    weights = _prominence(sentences)
    context = article_context(analysed, by_sentence, weights, lexicon)

    explanation = Explanation(cut_at=cut if cut < len(document) else None)
    agencies: dict[str, None] = {}
    candidates: list[tuple[Candidate, Sentence, float]] = []
    readings: list[tuple[str, bool, str]] = []
    talk_of: dict[int, frozenset[str]] = {}  # sentence index -> the talk classes it holds
    up_front_talk: set[str] = set()
    carried: Actor | None = None
    carried_from: Sentence | None = None
    last_agency: str | None = None
    for sentence, mentions, weight in zip(sentences, by_sentence, weights, strict=True):
        trace = SentenceTrace(
            sentence.index,
            sentence.start,
            sentence.end,
            sentence.text,
            weight,
            sentence.headline,
            mentions,
        )
        explanation.sentences.append(trace)
        if not mentions:  # most sentences: nothing to resolve, carry or read
            continue
        talk = talk_of[sentence.index] = sentence_talk(mentions)
        if weight >= 2.0:
            up_front_talk.update(talk)
        resolved = _resolve_agencies(analysed, mentions, lexicon, context, last_agency)
        trace.agencies = dict(resolved)
        agencies.update((a, None) for a in resolved.values())
        if resolved:
            last_agency = list(resolved.values())[-1]
        if not _needs_reading(mentions):
            if resolved:  # "The ministry said ..." sets the actor of what follows
                start, agency = next(iter(resolved.items()))
                carried = Actor(lexicon.agency_jurisdiction[agency], agency, start, 1.0, "agency")
                carried_from = sentence
            continue
        tokens = Tokens(sentence, folded)
        recent = carried if carried and _follows(carried_from, sentence) else None
        reading = read_sentence(mentions, resolved, tokens, lexicon, context, recent)
        trace.cues = reading.cues
        readings.extend((cue.outcome, weight >= 2.0, cue.direction) for cue in reading.cues)
        if reading.actor:
            carried, carried_from = reading.actor, sentence
        candidates.extend((candidate, sentence, weight) for candidate in reading.candidates)

    all_mentions = [m for mentions in by_sentence for m in mentions]
    lead_mentions = [
        m for mentions, w in zip(by_sentence, weights, strict=True) if w >= 2.0 for m in mentions
    ]
    controlled = [m for mentions in by_sentence if _holds_cue(mentions) for m in mentions]
    about_chips, chip_evidence = domain_about_chips(
        all_mentions, folded, lead=lead_mentions, controlled=controlled
    )
    if not about_chips:  # no chip, chip technology or chipmaker: no subject for a move
        candidates = []
    frame = article_frame(by_sentence, weights)
    _apply_frame(frame, candidates)
    moves = _moves(candidates)
    rules = decide_stance([m.weighted for m in moves if not m.weak], two_way=bool(frame.two_way))
    rules.reason = "; ".join([*frame.notes(), rules.reason])
    relevance, why = relevance_score(_features(candidates, by_sentence, weights, agencies))
    if not about_chips:
        relevance = min(relevance, OFF_DOMAIN_RELEVANCE)
        why += f"; not about chips (domain evidence {chip_evidence})"
    if relevance < 0.3 and rules.stance != "none":
        rules.reason += f"; relevance {relevance:.2f} too low for a policy move: none"
        rules.stance, rules.jurisdiction = "none", None
    features = stance_features(moves, frame, rules, relevance, about_chips, readings)
    features.update(wording_features(title, text))
    talk_of_move = [
        talk_of.get(sentence.index, frozenset())
        for candidate, sentence, _ in candidates
        if candidate.confidence >= MIN_SIGNAL_CONFIDENCE
    ]
    features.update(talk_features(moves, talk_of_move, frozenset(up_front_talk)))
    stance, jurisdiction, fitted = decide(features, moves, rules)
    jurisdiction = acting_government(stance, moves, rules.jurisdiction, jurisdiction)
    explanation.stance_reason = f"{fitted}; rules: {rules.reason}"
    explanation.totals = rules.by_jurisdiction
    explanation.relevance_reason = why
    signals = _consistent(_signals(candidates, text, title, body_offset), stance, jurisdiction)
    return TagResult(
        tags=_tags(analysed, all_mentions, list(agencies), signals, lexicon),
        signals=signals,
        stance=stance,
        acting_jurisdiction=jurisdiction,
        relevance=relevance,
        explanation=explanation,
        features=features,
        read_stance=(rules.stance, rules.jurisdiction),
        moves=moves,
    )


def _holds_cue(mentions: list[Mention]) -> bool:
    return any(m.kind in ("cue", "requirement") for m in mentions)


def _apply_frame(frame: Frame, candidates: list[tuple[Candidate, Sentence, float]]) -> None:
    """An article that says nothing official happened keeps its unofficial moves as talk;
    one whose lead says a company acted on its own keeps moves with an inferred
    government out of the news; one that looks back keeps all but its headline's."""
    for candidate, sentence, _ in candidates:
        talk = frame.unconfirmed and candidate.certainty != "official"
        inferred = frame.self_restraint and candidate.source in INFERRED_SOURCES
        recalled = frame.retrospective and not sentence.headline
        if talk or inferred or recalled:
            candidate.confidence = min(candidate.confidence, FRAMED_OUT_CAP)


def _moves(candidates: list[tuple[Candidate, Sentence, float]]) -> list[Move]:
    return [
        Move(
            Weighted(
                candidate.direction,
                candidate.jurisdiction,
                candidate.confidence * weight * candidate.stance_factor,
                weight >= 2.0 and candidate.stance_factor == 1.0,
                sentence.headline and candidate.stance_factor == 1.0,
                candidate.source not in INFERRED_SOURCES,
            ),
            candidate.certainty,
            candidate.stance_factor < 1.0,
            candidate.action,
            candidate.agency,
            candidate.confidence < MIN_CONFIDENCE,
            candidate.source,
            candidate.attribution.targeted,
            candidate.attribution.by_agent,
            candidate.attribution.quoted_by,
            candidate.attribution.recent,
            candidate.cue.carve_out,
        )
        for candidate, sentence, weight in candidates
        if candidate.confidence >= MIN_SIGNAL_CONFIDENCE
    ]


def _consistent(signals: list[Signal], stance: str, jurisdiction: str | None) -> list[Signal]:
    """A signal of the acting government against the article's own stance is a nuance or a
    recollection, not the news: it stays, capped below the alerting confidence."""
    if stance not in ("restrict", "ease"):
        return signals
    return [
        s.model_copy(update={"confidence": min(s.confidence, OPPOSED_CAP)})
        if s.jurisdiction == jurisdiction and s.direction != stance
        else s
        for s in signals
    ]


def _follows(earlier: Sentence | None, sentence: Sentence) -> bool:
    """An actor carries over to the next two sentences of its paragraph (or from the
    headline to the lead)."""
    if earlier is None:
        return False
    if earlier.headline:
        return not sentence.headline and sentence.index - earlier.index <= 3
    return earlier.paragraph == sentence.paragraph and sentence.index - earlier.index <= 2


def _distinct(sentences: list[Sentence], folded: str) -> list[Sentence]:
    """Drop repeats of a sentence already seen (a headline printed twice)."""
    seen: set[str] = set()
    kept: list[Sentence] = []
    for sentence in sentences:
        key = folded[sentence.start : sentence.end]
        if key not in seen:
            seen.add(key)
            kept.append(sentence)
    return kept


def _assign(sentences: list[Sentence], mentions: list[Mention]) -> list[list[Mention]]:
    starts = [s.start for s in sentences]
    grouped: list[list[Mention]] = [[] for _ in sentences]
    for mention in mentions:
        index = bisect_right(starts, mention.start) - 1
        if index >= 0 and mention.end <= sentences[index].end:
            grouped[index].append(mention)
    return grouped


def _prominence(sentences: list[Sentence]) -> list[float]:
    body = max(1, sum(1 for s in sentences if not s.headline and not s.caption))
    weights: list[float] = []
    rank = 0
    for sentence in sentences:
        if sentence.caption:
            weights.append(_CAPTION_WEIGHT)
            continue
        if sentence.headline:
            weights.append(_HEADLINE_WEIGHT)
            continue
        fraction = rank / body
        weights.append(2.0 if rank < 2 else 1.4 if rank < 5 else max(0.6, 1.0 - 0.4 * fraction))
        rank += 1
    return weights


def _needs_reading(mentions: list[Mention]) -> bool:
    """Only sentences that can hold a move are tokenised: a cue, or a requirement/receipt
    verb with its object, or a reversal verb with something to undo, or a withdrawing
    verb with a privilege to take back."""
    kinds = {m.kind for m in mentions}
    return (
        "cue" in kinds
        or (bool(kinds & {"requirement", "receipt"}) and "required" in kinds)
        or ("reversal" in kinds and "reversible" in kinds)
        or ("withdrawing" in kinds and "privilege" in kinds)
    )


def _resolve_agencies(
    text: str,
    mentions: list[Mention],
    lexicon: Lexicon,
    context: ArticleContext,
    last_agency: str | None,
) -> dict[int, str]:
    resolved: dict[int, str] = {}
    for mention in mentions:
        if mention.kind == "agency":
            resolved[mention.start] = mention.key
        elif mention.kind == "anaphor" and last_agency and not _inside_a_name(mention, mentions):
            resolved[mention.start] = last_agency
        elif mention.kind == "context_agency":
            agency = resolve_agency(text, mention, mentions, lexicon, context)
            if agency:
                resolved[mention.start] = agency
    return resolved


def _inside_a_name(anaphor: Mention, mentions: list[Mention]) -> bool:
    """ "the Ministry" that opens "the Ministry of Commerce" is a name, not a reference."""
    return any(
        m.kind in ("agency", "context_agency") and m.start < anaphor.end and anaphor.start < m.end
        for m in mentions
    )


def _features(
    candidates: list[tuple[Candidate, Sentence, float]],
    by_sentence: list[list[Mention]],
    weights: list[float],
    agencies: dict[str, None],
) -> RelevanceFeatures:
    best = max((c.confidence for c, _, _ in candidates), default=0.0)
    lead = max((c.confidence for c, _, w in candidates if w >= 2.0), default=0.0)
    kinds = [m for mentions in by_sentence for m in mentions]
    cue_kinds = ("cue", "requirement", "receipt")
    lead_cues = sum(
        1
        for mentions, weight in zip(by_sentence, weights, strict=True)
        if weight >= 2.0
        for m in mentions
        if m.kind in cue_kinds
    )
    return RelevanceFeatures(
        best_signal=best,
        lead_signal=lead,
        lead_cues=lead_cues,
        cues=sum(1 for m in kinds if m.kind in cue_kinds),
        policy_words=sum(1 for m in kinds if m.kind == "topic" and m.key == "policy"),
        offtopic_words=sum(1 for m in kinds if m.kind == "topic" and m.key == "offtopic"),
        agencies=len(agencies),
        on_topic=any(m.kind in ("chip", "family", "subject") for m in kinds)
        or any(m.kind == "company" for m in kinds),
    )


def _signals(
    candidates: list[tuple[Candidate, Sentence, float]], text: str, title: str, body_offset: int
) -> list[Signal]:
    best: dict[tuple[str, str, str, str], tuple[Candidate, Sentence]] = {}
    for candidate, sentence, _ in candidates:
        if candidate.confidence < MIN_SIGNAL_CONFIDENCE:
            continue
        key = (candidate.subject, candidate.jurisdiction, candidate.direction, candidate.action)
        if key not in best or candidate.confidence > best[key][0].confidence:
            best[key] = (candidate, sentence)
    signals = []
    for candidate, sentence in best.values():
        start, end = _evidence_span(sentence, text, body_offset)
        signals.append(
            Signal(
                subject=candidate.subject,
                jurisdiction=candidate.jurisdiction,
                agency=candidate.agency,
                action=candidate.action,
                direction=candidate.direction,
                certainty=candidate.certainty,
                evidence=sentence.text,
                evidence_start=start,
                evidence_end=end,
                confidence=candidate.confidence,
            )
        )
    return sorted(signals, key=lambda s: -s.confidence)


def _evidence_span(sentence: Sentence, text: str, body_offset: int) -> tuple[int, int]:
    """Offsets of the evidence in the article text (a title sentence is looked up in
    the text; when the text does not repeat it, the span is empty at 0)."""
    if sentence.start >= body_offset:
        return sentence.start - body_offset, sentence.end - body_offset
    found = text.find(sentence.text)
    return (found, found + len(sentence.text)) if found >= 0 else (0, 0)


def _tags(
    text: str,
    mentions: list[Mention],
    agencies: list[str],
    signals: list[Signal],
    lexicon: Lexicon,
) -> Tags:
    chips = _ordered(m.key for m in _unapposed(text, mentions))
    series = {m.key for m in mentions if m.kind == "chip" and m.extra == "series"} - {
        m.key for m in mentions if m.kind == "chip" and m.extra != "series"
    }
    chips = [c for c in chips if c not in series or not _named_in_series(c, chips)]
    generations = chip_grammar().series_named(chips)
    chips = [c for c in chips if c not in generations]
    families = {lexicon.chip_family.get(c) for c in chips}
    chips += [
        f for f in _ordered(m.key for m in mentions if m.kind == "family") if f not in families
    ]
    companies = _ordered(m.key for m in mentions if m.kind == "company")
    countries = _ordered(
        [m.key for m in mentions if m.kind == "country" and not _capital_as_place(text, m, lexicon)]
        + [c for m in mentions if m.kind == "agency" for c in countries_named_in(m.surface)]
    )
    topics = _ordered(s.action for s in signals)
    topics += _ordered(m.key for m in mentions if m.kind == "classification")
    return Tags(
        chips=[EntityRef(id=c, name=lexicon.chip_names.get(c, c)) for c in chips],
        companies=[EntityRef(id=c, name=c) for c in companies],
        agencies=[EntityRef(id=a, name=lexicon.agency_names.get(a, a)) for a in agencies],
        countries=[EntityRef(id=c, name=lexicon.country_names.get(c, c)) for c in countries],
        topics=topics,
    )


def _capital_as_place(text: str, mention: Mention, lexicon: Lexicon) -> bool:
    """A capital named as the city where something happens names no country (README:
    capitals count when used for the government): "talks in Madrid", "a London press
    conference", a line that opens "Bangkok:" or "Hanoi (VNA) -"."""
    if mention.extra != "capital":
        return False
    before_words, after_words = lexicon.capital_place
    line_start = text.rfind("\n", 0, mention.start) + 1
    if not text[line_start : mention.start].strip() and text.startswith(
        (":", " (", " ("), mention.end
    ):
        return True
    before = text[max(0, mention.start - 12) : mention.start]
    word = _LAST_WORD.search(before)
    if word is not None and word.group(1).lower() in before_words:
        return True
    if before[-1:] in before_words:  # 在北京 (in Beijing)
        return True
    after = text[mention.end : mention.end + 24].lstrip(" ")
    return after.startswith(after_words)


_LAST_WORD = re.compile(r"(\w+)\s+(?:the\s+)?$")


def _unapposed(text: str, mentions: list[Mention]) -> list[Mention]:
    """The chip mentions, less a product name right after a model that it describes
    ("the GB300 Grace Blackwell processors", "GH200 Grace Hopper Superchip")."""
    chips = [m for m in mentions if m.kind == "chip"]
    return [
        m
        for before, m in zip([None, *chips], chips, strict=False)
        if before is None
        or before.key == m.key
        or not (before.end < m.start and not text[before.end : m.start].strip(" \u00a0"))
    ]


def _named_in_series(series: str, chips: list[str]) -> bool:
    """A model of the series is named too: "MI350X" of "the MI350 series"."""
    return any(c != series and c.startswith(series) for c in chips)


def _ordered(items: Any) -> list[str]:
    return list(dict.fromkeys(str(i) for i in items))
