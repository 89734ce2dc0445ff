"""Policy signals from one sentence: cue -> direction, negation, hedging, actor, subject.

Each cue (ban, not permitted, approved, lifted ...) is read in its clause:
- a reversal verb before a restrict cue makes one ease move ("lifted the ban");
- a negator shortly before cancels it ("did not approve"), a refusal flips an ease cue;
- hedges set the certainty (official / reported / proposed) or mark speculation;
- the actor is the nearest government before the cue (or after "by"), else the
  sentence's buyers or the previous sentence's actor; a company acting alone
  ("Nvidia halted orders") is a company decision, not a policy signal;
- the subject is the chip named in the sentence, else a targeted company or
  technology, else the article's focus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from enrich.actors import Actor, buyer_country, sentence_actors
from enrich.context import ArticleContext, Tokens
from enrich.lexicon import Lexicon
from enrich.match import Mention
from enrich.subjects import choose_action, choose_subjects

ADJECTIVAL = frozenset(
    {
        "approved",
        "licensed",
        "authorised",
        "authorized",
        "sanctioned",
        "blacklisted",
        "listed",
        "banned",
        "restricted",
    }
)
SPECIFIC_ACTIONS = frozenset(
    {
        "entity_list",
        "antitrust_probe",
        "anti_dumping_probe",
        "smuggling_enforcement",
        "security_review",
        "tariff",
    }
)
PROBES = frozenset({"probe", "probes", "investigation", "investigations", "inquiry", "review"})
REFUSAL = ("refused to", "declined to", "rejected")
CERTAINTY_FACTOR = {"official": 1.0, "reported": 0.93, "proposed": 0.75}
SOURCE_FACTOR = {
    "agency": 1.0,
    "country": 1.0,
    "carried": 0.85,
    "buyers": 0.85,
    "vendor": 0.8,
    "article": 0.7,
}


@dataclass
class CueReading:
    """One cue and what became of it (the --explain view)."""

    surface: str
    start: int
    end: int
    direction: str
    action_hint: str
    outcome: str = "signal"  # signal | negated | company-decision | no-actor | ...
    notes: list[str] = field(default_factory=list)


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
    cues = _cue_readings(mentions, tokens, lexicon)
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


def _cue_readings(mentions: list[Mention], tokens: Tokens, lexicon: Lexicon) -> list[CueReading]:
    cues = [
        CueReading(m.surface, m.start, m.end, m.key, m.extra)
        for m in mentions
        if m.kind == "cue" and not _proper_noun(m, tokens)
    ]
    cues += _requirements(mentions, cues, tokens, lexicon)
    cues.sort(key=lambda c: c.start)
    for verb in (m for m in mentions if m.kind == "reversal"):
        _apply_reversal(verb, mentions, cues, tokens, lexicon)
    _merge_neighbours(cues, tokens)
    denial = next((m.surface for m in mentions if m.kind == "denial"), None)
    governing = [m for m in mentions if m.kind in ("reaction", "lobbying")]
    for cue in cues:
        if cue.outcome != "signal":
            continue
        governor = _governing_verb(cue, governing, mentions, tokens)
        if governor is not None:
            cue.outcome = governor.kind
            cue.notes.append(f"'{governor.surface}': the speaker reacts to or asks for a move")
        elif denial:
            cue.outcome = "negated"
            cue.notes.append(f"the sentence denies it ('{denial}')")
        else:
            _apply_negation(cue, tokens, lexicon)
    return cues


def _proper_noun(mention: Mention, tokens: Tokens) -> bool:
    """A capitalised cue inside a body sentence is a name ("Grant Shapps", "Clear Linux")."""
    return (
        not tokens.headline
        and mention.start != tokens.offset
        and mention.surface[:1].isupper()
        and not mention.surface.isupper()
    )


def _merge_neighbours(cues: list[CueReading], tokens: Tokens) -> None:
    """Two cues of one direction side by side are one move ("a ban imposed in April")."""
    kept: CueReading | None = None
    for cue in cues:
        if cue.outcome != "signal":
            continue
        gap = tokens.index_at(cue.start) - tokens.index_at(kept.end - 1) if kept else 0
        probe_object = (
            kept is not None
            and (kept.action_hint.endswith("probe") or kept.surface.lower() in PROBES)
            and 0 < gap <= 3
            and any(
                w in ("into", "of", "on")
                for w in tokens.words(tokens.index_at(kept.end - 1) + 1, tokens.index_at(cue.start))
            )
        )
        if kept is not None and (
            probe_object or (kept.direction == cue.direction and 0 < gap <= 2)
        ):
            cue.outcome = "merged"
            kept.notes.append(f"with '{cue.surface}'")
            if not kept.action_hint or cue.action_hint in SPECIFIC_ACTIONS:
                kept.action_hint = cue.action_hint or kept.action_hint
            continue
        kept = cue


def _governing_verb(
    cue: CueReading, governing: list[Mention], mentions: list[Mention], tokens: Tokens
) -> Mention | None:
    """A reaction verb shortly before the cue ("opposed the restrictions"), or a lobbying
    verb aimed at another government ("urging the Netherlands to curb")."""
    here = tokens.index_at(cue.start)
    for verb in governing:
        there = tokens.index_at(verb.start)
        if not 0 < here - there <= 8 * tokens.scale:
            continue
        if verb.kind == "reaction":
            return verb
        between = [m for m in mentions if verb.end <= m.start < cue.start]
        if any(m.kind in ("country", "agency") for m in between) or any(
            w in ("allies", "partners", "governments") for w in tokens.words(there, here)
        ):
            return verb
    return None


def _requirements(
    mentions: list[Mention], cues: list[CueReading], tokens: Tokens, lexicon: Lexicon
) -> list[CueReading]:
    """ "require licences", "need approval before": a requirement verb with a licence-like
    object restricts (and the object, e.g. "approval", is no ease cue there);
    "received export licences", "issued permits": a receipt verb with one eases."""
    found: list[CueReading] = []
    objects = [m for m in mentions if m.kind == "required"]
    taken = {c.start for c in cues}
    pairs = {"requirement": "required", "receipt": "required", "sale": "sale"}
    for verb in (m for m in mentions if m.kind in ("requirement", "receipt")):
        if verb.start in taken:
            continue  # already a cue of its own ("granted")
        here = tokens.index_at(verb.start)
        clause_end = tokens.clause_of(here)[1]
        for obj in objects:
            if obj.key != pairs[verb.key]:
                continue
            there = tokens.index_at(obj.start)
            if 0 < there - here <= lexicon.requirement_window * tokens.scale and there < clause_end:
                direction = "restrict" if verb.kind == "requirement" else "ease"
                cue = CueReading(verb.surface, verb.start, verb.end, direction, "")
                cue.notes.append(f"{verb.kind} of '{obj.surface}'")
                for other in cues:
                    if verb.start <= other.start <= obj.end and other.direction != direction:
                        other.outcome = "merged"
                found.append(cue)
                break
    return found


def _apply_reversal(
    verb: Mention,
    mentions: list[Mention],
    cues: list[CueReading],
    tokens: Tokens,
    lexicon: Lexicon,
) -> None:
    """A verb undoing a move flips it: "lifted the ban", "suspend the order" and "the ban
    was lifted" ease; "revoked the waivers", "ending the exemption" restrict."""
    here = tokens.index_at(verb.start)
    clause = tokens.clause_of(here)
    window = lexicon.reversal_window * tokens.scale
    own = [c for c in cues if c.start == verb.start and c.outcome == "signal"]
    if any(c.end > verb.end for c in own):
        return  # the verb is part of a longer cue ("cancel orders")
    flippable = ("restrict", "ease") if verb.key == "undo" else ("restrict",)
    for cue in cues:
        if cue.start == verb.start or cue.direction not in flippable or cue.outcome != "signal":
            continue
        there = tokens.index_at(cue.start)
        if not clause[0] <= there < clause[1]:
            continue
        ahead = 0 < there - here <= window
        behind = (
            0 < here - there <= 3 and tokens.words(here - 1, here)[0] in lexicon.passive_auxiliaries
        )
        if ahead or behind:
            _flip_phrase(cue, cues, tokens, verb.surface)
            for other in own:
                other.outcome = "merged"
            return
    for obj in (m for m in mentions if m.kind == "reversible"):
        there = tokens.index_at(obj.start)
        if 0 < there - here <= window and there < clause[1]:
            undone = own[0] if own else CueReading(verb.surface, verb.start, verb.end, "ease", "")
            undone.direction = "ease"
            undone.notes.append(f"'{verb.surface}' undoes '{obj.surface}'")
            if not own:
                cues.append(undone)
                cues.sort(key=lambda c: c.start)
            return


def _flip_phrase(first: CueReading, cues: list[CueReading], tokens: Tokens, verb: str) -> None:
    """Flip a cue and the cues right after it in its phrase ("a ban imposed in April")."""
    direction = first.direction
    last = tokens.index_at(first.end - 1)
    for cue in cues:
        if cue.start < first.start or cue.direction != direction or cue.outcome != "signal":
            continue
        if cue is not first and tokens.index_at(cue.start) - last > 2:
            break
        cue.direction = "ease" if direction == "restrict" else "restrict"
        cue.notes.append(f"undone by '{verb}'")
        last = tokens.index_at(cue.end - 1)


def _apply_negation(cue: CueReading, tokens: Tokens, lexicon: Lexicon) -> None:
    here = tokens.index_at(cue.start)
    clause_start = tokens.clause_of(here)[0]
    previous = tokens.words(here - 1, here)
    following = tokens.words(here + 1, here + 3)
    adjectival = cue.surface.lower() in ADJECTIVAL and following[1:2] != ["to"]
    if adjectival and following and following[0] in lexicon.company_nouns:
        cue.outcome = "state"
        cue.notes.append(f"'{cue.surface} {following[0]}' describes who, not a move")
        return
    if " subject to " in " ".join(["", *tokens.words(here - 5, here), ""]):
        previous = ["subject to"]
    if previous and (previous[0] in lexicon.state_prepositions or previous[0] == "subject to"):
        cue.outcome = "state"
        cue.notes.append(f"'{previous[0]} {cue.surface}' describes a state, not a move")
        return
    span = lexicon.negation_window * tokens.scale
    window = tokens.words(max(clause_start, here - span), here)
    if not window or tokens.words(here, here + 1) == ["only"]:
        return
    phrase = " " + " ".join(window) + " "
    for refusal in REFUSAL:
        if f" {refusal} " in phrase and cue.direction == "ease":
            cue.direction = "restrict"
            cue.notes.append(f"'{refusal}' + ease cue: a refusal restricts")
            return
    for negator in lexicon.negators:
        if f" {negator} " in phrase or (
            negator == "n't" and any(w.endswith("n't") for w in window)
        ):
            if f" {negator} only " in phrase + " ":
                continue
            cue.outcome = "negated"
            cue.notes.append(f"negated by '{negator}'")
            return


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
    obligation = any(note.startswith(("requirement", "receipt")) for note in cue.notes)
    if not obligation and _company_acts(cue, mentions, actors, tokens, clause, lexicon):
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
    certainty, factor, stance_factor = _certainty(cue, mentions, tokens, actor)
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
        )
        for subject in subjects
    ]


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
    if passive or any(w in lexicon.receiving_verbs for w in words):
        return False
    agents: list[tuple[int, bool]] = []
    for mention in mentions:
        index = tokens.index_at(mention.start)
        is_company = mention.kind == "company" or (
            mention.kind == "person" and mention.key in lexicon.person_company
        )
        if is_company and clause[0] <= index < anchor:
            agents.append((index, True))
    agents += [
        (i, True) for i in range(clause[0], anchor) if tokens.items[i].text in lexicon.company_nouns
    ]
    agents += [
        (tokens.index_at(a.start), False)
        for a in actors
        if a.strength >= 0.8 and clause[0] <= tokens.index_at(a.start) < anchor
    ]
    return bool(agents) and min(agents)[1]


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
    for actor in actors:
        distance = tokens.index_at(actor.start) - here
        if distance < 0:
            score = actor.strength * max(0.6, 1.0 - 0.015 * -distance)
        elif actor.strength >= 1.0 or actor.agency:
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
    vendor = lexicon.company_home.get(subject) or lexicon.company_home.get(
        lexicon.chip_names.get(subject, "").split(" ")[0], ""
    )
    if action in ("export_control", "export_approval") and vendor:
        return Actor(vendor, None, cue.start, 0.7, "vendor")
    if context.main_country:
        return Actor(context.main_country, None, cue.start, 0.6, "article")
    return None


def _default_action(direction: str, jurisdiction: str, subject: str, lexicon: Lexicon) -> str:
    maker = lexicon.chip_names.get(subject, subject).split(" ")[0]
    home = lexicon.company_home.get(subject) or lexicon.company_home.get(maker)
    exporting = home == jurisdiction
    if direction == "restrict":
        return "export_control" if exporting else "import_restriction"
    return "export_approval" if exporting else "import_approval"


def _certainty(
    cue: CueReading, mentions: list[Mention], tokens: Tokens, actor: Actor
) -> tuple[str, float, float]:
    """The certainty of a move, the factor it puts on confidence, and the extra factor
    on its weight in the article's stance (background and concessions)."""
    here = tokens.index_at(cue.start)
    clause = tokens.clause_of(here)
    hedges = [m for m in mentions if m.kind == "hedge"]
    factor = stance_factor = 1.0
    speculative = [
        h
        for h in hedges
        if h.key in ("speculative", "speculative_wide")
        and h.start < cue.start
        and (tokens.index_at(h.start) >= clause[0] or h.key == "speculative_wide")
    ]
    conditional = [m for m in mentions if m.kind == "conditional" and m.start < cue.start]
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
    if tokens.folded.rstrip().endswith("?"):
        speculative.append(Mention(cue.start, cue.end, "hedge", "speculative", "?"))
    if speculative:
        factor *= 0.45
        cue.notes.append(f"speculative ('{speculative[-1].surface}')")
    levels = {h.key for h in hedges}
    if "proposed" in {h.key for h in hedges if h.start < cue.end}:
        certainty = "proposed"
    elif "official" in levels and actor.agency:
        certainty = "official"
    elif "reported" in levels:
        certainty = "reported"
    elif "official" in levels:
        certainty = "official"
    else:
        certainty = "reported"
    if _recalls_the_past(mentions):
        factor *= 0.55
        stance_factor *= 0.6
        cue.notes.append("background (recalls the past)")
    concessive = [m for m in mentions if m.kind == "concessive" and m.start < cue.start]
    if concessive and tokens.index_at(concessive[-1].end - 1) >= clause[0] - 1:
        factor *= 0.8
        stance_factor *= 0.4
        cue.notes.append(f"subordinate clause ('{concessive[-1].surface}')")
    return certainty, factor * CERTAINTY_FACTOR[certainty], stance_factor


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
