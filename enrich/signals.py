"""Policy signals from one sentence: each live cue (enrich.cues) becomes a move.

For each cue, in its clause:
- hedges set the certainty (official / reported / proposed) or mark speculation;
- the actor is the nearest government before the cue (or after "by"), else the
  sentence's buyers or the previous sentence's actor; a company acting alone
  ("Nvidia halted orders") is a company decision, not a policy signal;
- the subject is the chip named in the sentence, else a targeted company or
  technology, else the article's focus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from enrich.actors import Actor, aimed_at, buyer_country, sentence_actors
from enrich.context import ArticleContext, Tokens
from enrich.cues import CueReading, read_cues
from enrich.folding import fold
from enrich.lexicon import Lexicon
from enrich.match import Mention
from enrich.subjects import choose_action, choose_subjects

# "adds Chinese firms to the entity list": the firms are what is listed, not who lists
LISTING_VERBS = frozenset({"add", "adds", "added", "adding", "put", "puts", "placed", "places"})
RELATIVE_REACH = 5  # words between a relative pronoun and the cue it governs
LIST_MODIFIERS = 4  # words before a listed measure ("military end-user restrictions")
HEAD_REACH = 8  # words from ", that" back to the measure it describes ("rules issued in May, that")
# "issued a rule that restricts ...": the relative clause is the new measure's content
NEW_MEASURE = frozenset(
    {
        "new",
        "issued",
        "issues",
        "published",
        "publishes",
        "announced",
        "announces",
        "unveiled",
        "unveils",
        "adopted",
        "adopts",
        "introduced",
        "introduces",
        "passed",
        "finalised",
        "finalized",
        "proposed",
    }
)
CERTAINTY_FACTOR = {"official": 1.0, "reported": 0.93, "proposed": 0.75}
SOURCE_FACTOR = {
    "agency": 1.0,
    "country": 1.0,
    "carried": 0.85,
    "buyers": 0.85,
    "vendor": 0.8,
    "article": 0.7,
    "authority": 0.85,
}


@dataclass
class Candidate:
    subject: str
    jurisdiction: str
    agency: str | None
    action: str
    direction: str
    certainty: str
    confidence: float
    cue: CueReading
    stance_factor: float = 1.0  # background and concessions weigh less in the stance
    source: str = "agency"  # how the actor was found (SOURCE_FACTOR's keys)
    attribution: Attribution = field(default_factory=lambda: Attribution())


@dataclass(frozen=True)
class Attribution:
    """How the sentence ties the move to its government, beyond who was picked."""

    targeted: bool = False  # the government is named in the sentence, but not as actor
    by_agent: bool = False  # named after "by": "was barred by Washington"
    quoted_by: str | None = None  # another government says it: "Beijing said the U.S. ..."
    recent: bool = False  # a recency marker in the sentence ("this week", "on Monday")


@dataclass
class SentenceReading:
    cues: list[CueReading] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    actor: Actor | None = None


def read_sentence(
    mentions: list[Mention],
    agencies: dict[int, str],
    tokens: Tokens,
    lexicon: Lexicon,
    context: ArticleContext,
    carried: Actor | None,
) -> SentenceReading:
    reading = SentenceReading()
    cues = read_cues(mentions, tokens, lexicon)
    reading.cues = cues
    actors = sentence_actors(mentions, agencies, tokens, lexicon, [c.start for c in cues])
    strong = [a for a in actors if a.strength >= 0.8]
    reading.actor = strong[0] if strong else None
    for cue in cues:
        if cue.outcome != "signal":
            continue
        reading.candidates.extend(
            _candidates(cue, mentions, actors, tokens, lexicon, context, carried)
        )
    return reading


def _candidates(
    cue: CueReading,
    mentions: list[Mention],
    actors: list[Actor],
    tokens: Tokens,
    lexicon: Lexicon,
    context: ArticleContext,
    carried: Actor | None,
) -> list[Candidate]:
    here = tokens.index_at(cue.start)
    clause = tokens.clause_of(here)
    listing = set(tokens.words(clause[0], here)) & LISTING_VERBS
    aimed = cue.action_hint == "entity_list" and bool(listing)  # "adds firms to the list"
    aimed = aimed or fold(cue.surface) in lexicon.aimed_cues  # "UMC pleaded guilty", "fined"
    # firms do not indict, arrest, raid or seize: the one named is the target, in any language
    aimed = aimed or cue.action_hint == "smuggling_enforcement"
    if (
        not cue.licence_object
        and not aimed
        and not cue.carve_out  # "firms building here will be exempt": they are spared
        and _company_acts(cue, mentions, actors, tokens, clause, lexicon)
    ):
        cue.outcome = "company-decision"
        cue.notes.append("a company, not a government, is the one acting")
        return []
    subjects = choose_subjects(cue, mentions, tokens, lexicon, context)
    if not subjects:
        cue.outcome = "no-subject"
        return []
    action = choose_action(cue, mentions, lexicon)
    actor = _choose_actor(
        cue, actors, tokens, mentions, lexicon, action, subjects[0], carried, context
    )
    if actor is None:
        cue.outcome = "no-actor"
        return []
    action = action or _default_action(cue.direction, actor.jurisdiction, subjects[0], lexicon)
    certainty, factor, stance_factor = _certainty(cue, mentions, tokens, actor, lexicon)
    attribution = _attribution(cue, actor, actors, mentions, tokens, lexicon)
    confidence = round(min(1.0, 0.86 * factor * SOURCE_FACTOR.get(actor.source, 0.7)), 3)
    cue.notes.append(f"actor {actor.jurisdiction} ({actor.source}), certainty {certainty}")
    return [
        Candidate(
            subject,
            actor.jurisdiction,
            actor.agency,
            action,
            cue.direction,
            certainty,
            confidence,
            cue,
            stance_factor,
            actor.source,
            attribution,
        )
        for subject in subjects
    ]


def _reported_clause(cue: CueReading, actors: list[Actor], mentions: list[Mention]) -> list[Actor]:
    """ "The White House said China agreed to suspend ...": after a speech verb, a
    government named before the cue is the one moving; the speaker only reports it."""
    said = max(
        (m.start for m in mentions if m.kind == "speech" and m.start < cue.start), default=-1
    )
    reported = [a for a in actors if said < a.start < cue.start and (a.strength >= 0.8 or a.agency)]
    if said < 0 or not reported:
        return actors
    return [a for a in actors if a.start > said]


def _attribution(
    cue: CueReading,
    actor: Actor,
    actors: list[Actor],
    mentions: list[Mention],
    tokens: Tokens,
    lexicon: Lexicon,
) -> Attribution:
    named = actor.source in ("agency", "country")
    targeted = not named and any(
        m.kind == "country" and m.key == actor.jurisdiction for m in mentions
    )
    at = tokens.index_at(actor.start)
    before = [w for w in tokens.words(at - 2, at) if w not in lexicon.determiners]
    by_agent = named and bool(set(before[-1:]) & lexicon.agent_prepositions)
    by_agent = by_agent and actor.start > cue.start
    said = max(
        (m.start for m in mentions if m.kind == "speech" and m.start < cue.start), default=-1
    )
    # the speaker is the government named last before the speech verb: in "after the U.S.
    # announced ..., China's ministry announced ..." the U.S. speaks for its own clause only
    speakers = [a.jurisdiction for a in actors if a.strength >= 0.8 and a.start < said]
    speaker = speakers[-1] if speakers and speakers[-1] != actor.jurisdiction else None
    recent = any(m.kind == "background" and m.key == "recent" for m in mentions)
    return Attribution(targeted, by_agent, speaker, recent)


def _company_acts(
    cue: CueReading,
    mentions: list[Mention],
    actors: list[Actor],
    tokens: Tokens,
    clause: tuple[int, int],
    lexicon: Lexicon,
) -> bool:
    """True when the clause's first agent before the cue (or before the directive verb
    of "X told firms not to buy") is a company: then it is a company decision."""
    here = tokens.index_at(cue.start)
    words = tokens.words(clause[0], here)
    directive = max((i for i, w in enumerate(words) if w in lexicon.directive_verbs), default=None)
    anchor = clause[0] + directive if directive is not None else here
    before = [w for w in tokens.words(anchor - 3, anchor) if not w.endswith("ly")][-1:]
    anchor_word = tokens.words(anchor, anchor + 1)
    participle = bool(anchor_word) and anchor_word[0].endswith(("ed", "en", "wn", "ld", "nt"))
    passive = bool(before) and before[0] in lexicon.passive_auxiliaries and participle
    if passive or _cjk_passive(cue, tokens, lexicon) or _received_after(cue, tokens, lexicon):
        return False
    if any(w in lexicon.receiving_verbs for w in words):
        return False
    # "삼성 VEU 지위 철회", "Samsung's licence revoked": the company holds the privilege
    # taken back, it is what the move is aimed at
    holder = cue.withdraws_privilege
    agents: list[tuple[int, bool]] = []
    for mention in mentions:
        index = tokens.index_at(mention.start)
        is_company = mention.kind == "company" or (
            mention.kind == "person" and mention.key in lexicon.person_company
        )
        is_company = is_company and not holder and not _cjk_object(mention, tokens, lexicon)
        if is_company and clause[0] <= index < anchor:
            agents.append((index, True))
    if not holder:
        agents += [
            (i, True)
            for i in range(clause[0], anchor)
            if tokens.items[i].text in lexicon.company_nouns
        ]
    agents += [
        (tokens.index_at(a.start), False)
        for a in actors
        if a.strength >= 0.8 and clause[0] <= tokens.index_at(a.start) < anchor
    ]
    if agents and min(agents)[1] and _headline_government(actors, tokens, clause):
        return False
    return bool(agents) and min(agents)[1]


def _headline_government(actors: list[Actor], tokens: Tokens, clause: tuple[int, int]) -> bool:
    """ "美 상무부, 삼성 VEU 지위 철회": a government named as the headline's subject, before
    the comma that opens the cue's clause, is the one acting on the company after it."""
    comma = tokens.headline_subject()
    return (
        comma >= 0
        and clause[0] == comma + 1
        and any(
            (a.strength >= 0.8 or a.agency) and tokens.index_at(a.start) < comma for a in actors
        )
    )


def _cjk_object(mention: Mention, tokens: Tokens, lexicon: Lexicon) -> bool:
    """ "解除对中兴的禁令": a company after an object marker is what the move is aimed at."""
    at = mention.start - tokens.offset
    return tokens.folded[max(0, at - 2) : at].endswith(lexicon.cjk_object_markers)


def _received_after(cue: CueReading, tokens: Tokens, lexicon: Lexicon) -> bool:
    """ "삼성이 승인을 받았다", "承認を受けた": a receiving ending in the cue or right after it
    in a verb-final sentence; the firm before it received the move, someone else made it."""
    if not tokens.verb_final:
        return False
    reach = tokens.folded[cue.start - tokens.offset : cue.end - tokens.offset + 6]
    return any(ending in reach for ending in lexicon.receiving_after)


def _cjk_passive(cue: CueReading, tokens: Tokens, lexicon: Lexicon) -> bool:
    """ "英伟达芯片不被允许进口": a passive marker just before the cue."""
    at = cue.start - tokens.offset
    return any(m in tokens.folded[max(0, at - 3) : at] for m in lexicon.cjk_passive)


def _choose_actor(
    cue: CueReading,
    actors: list[Actor],
    tokens: Tokens,
    mentions: list[Mention],
    lexicon: Lexicon,
    action: str | None,
    subject: str,
    carried: Actor | None,
    context: ArticleContext,
) -> Actor | None:
    here = tokens.index_at(cue.start)
    best: tuple[float, Actor] | None = None
    for actor in _reported_clause(cue, actors, mentions):
        # in words: a CJK token is one character
        distance = (tokens.index_at(actor.start) - here) / tokens.scale
        if distance < 0:
            score = actor.strength * max(0.6, 1.0 - 0.015 * -distance)
        elif (actor.strength >= 1.0 or actor.agency) and not tokens.verb_final:
            score = actor.strength * 0.8 * max(0.5, 1.0 - 0.02 * distance)
        else:
            score = actor.strength * 0.4
        eligible = actor.strength >= 0.8 or actor.agency is not None
        if eligible and (best is None or score > best[0]):
            best = (score, actor)
    if best is not None:
        return best[1]
    if action in (None, "purchase_guidance", "import_restriction", "import_approval"):
        buyers = buyer_country(mentions, tokens, lexicon)
        if buyers:
            return Actor(buyers, None, cue.start, 0.8, "buyers")
    if carried is not None:
        return Actor(carried.jurisdiction, carried.agency, cue.start, 0.8, "carried")
    government = _article_government(mentions, actors, tokens, lexicon, context)
    if government and _unnamed_authority(tokens, here, lexicon):
        # "The government approved ...", "officials said ...": the article's government
        return Actor(government, None, cue.start, 0.8, "authority")
    vendor = lexicon.company_home.get(subject) or lexicon.company_home.get(
        lexicon.chip_names.get(subject, "").split(" ")[0], ""
    )
    if action in ("export_control", "export_approval") and vendor:
        return Actor(vendor, None, cue.start, 0.7, "vendor")
    if government:
        return Actor(government, None, cue.start, 0.6, "article")
    return None


def _unnamed_authority(tokens: Tokens, here: int, lexicon: Lexicon) -> bool:
    """An authority named by its kind alone before the cue ("the government", "officials",
    "regulators"), not as a partner or a target ("talks with officials")."""
    for i in range(here - 1, -1, -1):
        if tokens.items[i].text in lexicon.authority_nouns:
            before = tokens.words(i - 2, i)
            return not (set(before) & lexicon.target_prepositions)
    return False


def _article_government(
    mentions: list[Mention],
    actors: list[Actor],
    tokens: Tokens,
    lexicon: Lexicon,
    context: ArticleContext,
) -> str | None:
    """The article's leading government for a move whose sentence names none as actor,
    passing over one the sentence names only as what the move is aimed at or comes from
    ("the probe targets chips imported from the US" is not the US moving)."""
    aimed = {m.key for m in mentions if m.kind == "country" and aimed_at(m, tokens, lexicon)}
    not_acting = aimed - {a.jurisdiction for a in actors}
    ranked = sorted(context.country_weight.items(), key=lambda item: -item[1])
    return next((country for country, _ in ranked if country not in not_acting), None)


def _default_action(direction: str, jurisdiction: str, subject: str, lexicon: Lexicon) -> str:
    maker = lexicon.chip_names.get(subject, subject).split(" ")[0]
    home = lexicon.company_home.get(subject) or lexicon.company_home.get(maker)
    exporting = home == jurisdiction
    if direction == "restrict":
        return "export_control" if exporting else "import_restriction"
    return "export_approval" if exporting else "import_approval"


def _certainty(
    cue: CueReading, mentions: list[Mention], tokens: Tokens, actor: Actor, lexicon: Lexicon
) -> tuple[str, float, float]:
    """The certainty of a move, the factor it puts on confidence, and the extra factor
    on its weight in the article's stance (background and concessions)."""
    here = tokens.index_at(cue.start)
    clause = tokens.clause_of(here)
    hedges = [m for m in mentions if m.kind == "hedge"]
    factor = stance_factor = 1.0
    # a carve-out is as certain as the restriction it qualifies: its "if" or "unless" is
    # who is spared, not doubt
    until = cue.spares if cue.carve_out and cue.spares >= 0 else cue.start
    speculative = [
        h
        for h in hedges
        if h.key in ("speculative", "speculative_wide")
        and h.start < until
        and (tokens.index_at(h.start) >= clause[0] or h.key == "speculative_wide")
    ]
    conditional = [m for m in mentions if m.kind == "conditional" and m.start < until]
    spoken = any(m.kind == "speech" for m in mentions)
    proposal = any(h.key == "proposed" for h in hedges)
    near = bool(conditional) and tokens.index_at(conditional[-1].start) >= clause[0]
    if near and not spoken and not proposal:
        speculative.append(conditional[-1])  # "the rule would restrict ..." in a draft
    here_word = tokens.words(here, here + 1)
    if here == clause[0] and here_word and here_word[0].endswith("ing"):
        # a gerund subject ("tightening control could be a way to ...") takes the modal after it
        speculative += [
            h
            for h in hedges
            if h.key == "speculative" and h.start > cue.end and tokens.index_at(h.start) < clause[1]
        ]
    last = tokens.index_at(cue.end - 1)
    # a cue noun as subject takes the modal right after it ("more curbs could follow")
    speculative += [
        h
        for h in hedges
        if h.key == "speculative" and h.start >= cue.end and tokens.index_at(h.start) == last + 1
    ]
    # ja/ko: the plan or the study comes after the verb ("規制を強化する方針", "제한할 방침")
    after_verb = [
        h
        for h in hedges
        if h.start >= cue.end
        and tokens.index_at(h.start) < clause[1]
        and tokens.folded[h.start - tokens.offset : h.end - tokens.offset]
        in lexicon.hedges_after_verb
    ]
    speculative += [h for h in after_verb if h.key == "speculative"]
    if tokens.folded.rstrip().endswith("?"):
        speculative.append(Mention(cue.start, cue.end, "hedge", "speculative", "?"))
    if speculative:
        factor *= 0.45
        cue.notes.append(f"speculative ('{speculative[-1].surface}')")
    levels = {h.key for h in hedges}
    if "proposed" in {h.key for h in hedges if h.start < cue.end or h in after_verb}:
        certainty = "proposed"
    elif "official" in levels and actor.agency:
        certainty = "official"
    elif "reported" in levels:
        certainty = "reported"
    elif "official" in levels:
        certainty = "official"
    else:
        certainty = "reported"
    recent = any(m.kind == "background" and m.key == "recent" for m in mentions)
    # "said it had imposed": reported speech shifts the tense back, the move is still news
    reported_speech = any(m.kind == "speech" and m.start < cue.start for m in mentions)
    if _recalls_the_past(mentions) or (
        not recent and not reported_speech and _before_the_news(tokens, here, clause, lexicon)
    ):
        factor *= 0.55
        stance_factor *= 0.6
        cue.notes.append("background (recalls the past)")
    relative = _relative_clause(tokens, _first_of_list(tokens, here, mentions), lexicon)
    if relative:
        factor *= 0.8
        stance_factor *= 0.4
        cue.notes.append(f"describes a measure already there ('{relative}')")
    concessive = [m for m in mentions if m.kind == "concessive" and m.start < cue.start]
    # "a 100% tariff, although exemptions will be made": the carve-out is half the news
    subordinate = bool(concessive) and tokens.index_at(concessive[-1].end - 1) >= clause[0] - 1
    if subordinate and not (cue.carve_out and concessive[-1].start > cue.spares >= 0):
        factor *= 0.8
        stance_factor *= 0.4
        cue.notes.append(f"subordinate clause ('{concessive[-1].surface}')")
    after = _cjk_after_clause(tokens, clause, lexicon)
    if after:
        factor *= 0.8
        stance_factor *= 0.4
        cue.notes.append(f"subordinate clause ('{after}')")
    return certainty, factor * CERTAINTY_FACTOR[certainty], stance_factor


def _cjk_after_clause(tokens: Tokens, clause: tuple[int, int], lexicon: Lexicon) -> str:
    """The "after" closing a Chinese clause before its comma ("美国宣布……后，"), or ""."""
    forms, exceptions = lexicon.cjk_after_clause
    if clause[1] >= len(tokens.items) or clause[1] - clause[0] < 4:
        return ""  # the last clause of a sentence, or too short to hold a move
    text = "".join(tokens.words(clause[1] - 3, clause[1]))
    if text.endswith(exceptions):
        return ""
    return next((form for form in sorted(forms, key=len, reverse=True) if text.endswith(form)), "")


def _before_the_news(tokens: Tokens, here: int, clause: tuple[int, int], lexicon: Lexicon) -> bool:
    """ "had only just approved", "had been barred": the past before the news (unless the
    sentence dates it to now: "had only just approved ... this week")."""
    before = tokens.words(max(clause[0], here - 4), here)
    return any(word in lexicon.pluperfect for word in before) and "to" not in before


def _first_of_list(tokens: Tokens, here: int, mentions: list[Mention]) -> int:
    """Where a list of measures that ends in the cue at token `here` starts ("entity list
    and military end-user restrictions", "bans, tariffs or quotas"): one object of one
    verb, whose relative pronoun stands before the list's first measure."""
    cue_at = {
        tokens.index_at(m.end - 1): tokens.index_at(m.start) for m in mentions if m.kind == "cue"
    }
    start = here
    while True:
        before = tokens.words(start - LIST_MODIFIERS - 1, start)
        joins = [j for j, w in enumerate(before) if w in ("and", "or", ",")]
        if not joins:
            return start
        joiner = start - len(before) + joins[-1]
        if joiner - 1 not in cue_at or any(w in ("that", "which") for w in before[joins[-1] :]):
            return start
        start = cue_at[joiner - 1]


def _relative_clause(tokens: Tokens, here: int, lexicon: Lexicon) -> str:
    """ "a rule that extended the curbs", "firms that had required licences", "the
    provisions issued in May, that extended the curbs": the words from a relative pronoun
    on a measure noun (or one followed by "had") to the cue."""
    words = tokens.words(here - RELATIVE_REACH, here)
    for i in range(len(words) - 1, 0, -1):
        if words[i] in (",", ";", ".") or words[i] in ("and", "but"):
            return ""
        if words[i] not in ("that", "which"):
            continue
        after = words[i + 1 : i + 2]
        if after == ["had"]:
            return " ".join(words[i - 1 :])
        pronoun = here - len(words) + i
        head = pronoun - 1
        if words[i - 1] == ",":  # past the words that follow the measure's name
            before = tokens.words(pronoun - 1 - HEAD_REACH, pronoun - 1)
            found = [j for j, word in enumerate(before) if word in lexicon.relative_heads]
            if not found or any(w in (";", ".") for w in before[found[-1] :]):
                return ""
            head = pronoun - 1 - len(before) + found[-1]
        introduced = set(tokens.words(min(here - RELATIVE_REACH, head) - 4, head))
        if (
            tokens.words(head, head + 1)[0] in lexicon.relative_heads
            and not introduced & NEW_MEASURE
        ):
            return " ".join(tokens.words(head, here))
        return ""
    return ""


def _recalls_the_past(mentions: list[Mention]) -> bool:
    """A past marker and no recency marker outside it ("earlier this month" is past)."""
    past = [m for m in mentions if m.kind == "background" and m.key == "past"]
    recent = [
        m
        for m in mentions
        if m.kind == "background"
        and m.key == "recent"
        and not any(p.start <= m.start and m.end <= p.end for p in past)
    ]
    return bool(past) and not recent
