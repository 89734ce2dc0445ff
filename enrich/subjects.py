"""What a move is about (subject) and what kind of move it is (action)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enrich.context import ArticleContext, Tokens
from enrich.lexicon import Lexicon
from enrich.match import Mention

if TYPE_CHECKING:
    from enrich.cues import CueReading

# Actions aimed at a company rather than at a product.
COMPANY_TARGETED = frozenset(
    {
        "antitrust_probe",
        "entity_list",
        "security_review",
        "investment_restriction",
        "smuggling_enforcement",
    }
)


def choose_subjects(
    cue: CueReading,
    mentions: list[Mention],
    tokens: Tokens,
    lexicon: Lexicon,
    context: ArticleContext,
) -> list[str]:
    """Subjects of a cue: chips in its clause, else in its sentence; a targeted company;
    a named technology (specific, then generic); the article's focus; a company named;
    the article's main technology."""
    clause = tokens.clause_of(tokens.index_at(cue.start))

    def in_clause(mention: Mention) -> bool:
        return clause[0] <= tokens.index_at(mention.start) < clause[1]

    chips = _unique(m.key for m in mentions if m.kind == "chip")
    clause_chips = _unique(m.key for m in mentions if m.kind == "chip" and in_clause(m))
    if clause_chips or chips:
        return clause_chips or chips
    families = _unique(m.key for m in mentions if m.kind == "family" and m.extra != "word")
    if families:
        return families
    companies = _unique(m.key for m in mentions if m.kind == "company")
    action = cue.action_hint or _specific_action(mentions, lexicon)
    if companies and action in COMPANY_TARGETED:
        return companies[:4]
    named = [m for m in mentions if m.kind == "subject"]
    specific = _unique(m.key for m in named if m.key not in lexicon.generic_subjects)
    if specific:
        return specific[:1]
    generic = _unique(m.key for m in named if m.extra != "weak")
    if generic:
        return generic[:1]
    if context.focus_subject:
        return [context.focus_subject]
    if named:
        return [named[0].key]  # "chips" with no chip in focus: semiconductors
    if companies:
        return companies[:1]
    return [context.focus_topic or "semiconductors"]


def choose_action(cue: CueReading, mentions: list[Mention], lexicon: Lexicon) -> str | None:
    """The cue's own action, else a specific keyword in the sentence, else the keyword
    nearest the cue; None leaves the choice to the actor/subject default."""
    if cue.action_hint:
        return _for_direction(cue.action_hint, cue.direction, lexicon)
    keywords = [m for m in mentions if m.kind == "action_kw"]
    specific = [m for m in keywords if lexicon.actions[int(m.key)].get("specific")]
    pool = specific or keywords
    if not pool:
        return None
    nearest = min(pool, key=lambda m: abs(m.start - cue.start))
    return str(lexicon.actions[int(nearest.key)][cue.direction])


def _for_direction(action: str, direction: str, lexicon: Lexicon) -> str:
    """A cue hint names one action; its opposite-direction twin comes from actions.yaml."""
    for entry in lexicon.actions:
        if action in (entry["restrict"], entry["ease"]):
            return str(entry[direction])
    return action


def _specific_action(mentions: list[Mention], lexicon: Lexicon) -> str | None:
    for mention in mentions:
        if mention.kind == "action_kw":
            entry = lexicon.actions[int(mention.key)]
            if entry.get("specific"):
                return str(entry["restrict"])
    return None


def _unique(items: object) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        seen.setdefault(str(item), None)
    return list(seen)
