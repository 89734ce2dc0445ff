"""Who acts in a sentence: named agencies, and countries used as governments.

"China approved", "Beijing's regulators", "approved by Washington" name an actor;
"exports to China", "U.S.-China ties", "Chinese firms" do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from enrich.context import CLAUSE_PUNCT, Tokens
from enrich.lexicon import Lexicon
from enrich.match import Mention


@dataclass(frozen=True, slots=True)
class Actor:
    jurisdiction: str
    agency: str | None
    start: int
    strength: float
    source: str  # agency | country | authority | passive-agent | buyers | carried | ...


def sentence_actors(
    mentions: list[Mention],
    agencies: dict[int, str],
    tokens: Tokens,
    lexicon: Lexicon,
    cue_starts: list[int],
) -> list[Actor]:
    """Candidate actors in a sentence, in text order. `agencies`: mention start -> id."""
    actors: list[Actor] = []
    previous_country: tuple[int, float] | None = None  # (last token, strength)
    company_starts = {m.start for m in mentions if m.kind == "company"}
    country_spans = [(m.start, m.end) for m in mentions if m.kind == "country"]
    for mention in mentions:
        if mention.start in agencies and mention.kind in ("agency", "context_agency", "anaphor"):
            agency = agencies[mention.start]
            actors.append(
                Actor(lexicon.agency_jurisdiction[agency], agency, mention.start, 1.0, "agency")
            )
        elif mention.kind == "country":
            strength = _country_strength(mention, tokens, lexicon, cue_starts)
            if mention.end in company_starts:
                strength = 0.0  # 中国中兴公司, 美国美光: the country names the company's home
            if country_spans.count((mention.start, mention.end)) > 1:
                strength = 0.0  # 中美: a pair of countries, as "U.S.-China" is
            first = tokens.index_at(mention.start)
            joined = tokens.words(first - 1, first) in (["and"], ["or"])
            if previous_country and joined and previous_country[0] == first - 2:
                strength = min(strength, previous_country[1])  # "Germany and Japan"
            previous_country = (tokens.index_at(mention.end - 1), strength)
            if strength > 0:
                actors.append(Actor(mention.key, None, mention.start, strength, "country"))
        elif mention.kind == "person" and mention.key in lexicon.person_jurisdiction:
            jurisdiction = lexicon.person_jurisdiction[mention.key]
            actors.append(Actor(jurisdiction, None, mention.start, 0.85, "country"))
    return actors


def _country_strength(
    mention: Mention, tokens: Tokens, lexicon: Lexicon, cue_starts: list[int]
) -> float:
    first = tokens.index_at(mention.start)
    last = tokens.index_at(mention.end - 1)
    before = tokens.items[first - 1].text if first > 0 else ""
    if before in lexicon.determiners and first > 1:
        before = tokens.items[first - 2].text
    after = tokens.words(last + 1, last + 4)
    if mention.extra == "target":
        return 0.0  # 对美, 对华: "toward the U.S."
    before_text = tokens.folded[: mention.start - tokens.offset]
    if before_text.endswith(lexicon.cjk_target_prepositions):
        return 0.0  # 原产于美国, 向中国出口: the origin or destination, not the actor
    if before_text.endswith(lexicon.cjk_object_markers):
        return 0.0  # 将美国实体列入: what the move is aimed at
    if _in_compound(tokens, mention):
        return 0.0
    if before.endswith("'s") or before.endswith("'"):
        return 0.0  # after a possessive a country is a modifier: "chipmakers' China waivers"
    rest = tokens.folded[mention.end - tokens.offset :]
    if rest.startswith(lexicon.cjk_attributive):
        return 0.0  # 美国企业, 中国芯片
    if lexicon.subject_marks and rest.startswith(lexicon.subject_marks):
        return 1.0  # 日本は, 일본이: the subject, as sure an agent as "by Japan"
    if rest.startswith("的"):  # "美国的压力" is a modifier, "美国的出口管制" its own move
        next_is_cue = any(0 < c - mention.end <= 3 for c in cue_starts)
        return 0.85 if next_is_cue else 0.35
    agent = before in lexicon.agent_prepositions or before in lexicon.source_prepositions
    partner = before in lexicon.target_prepositions and not agent
    if any(word in lexicon.authority_nouns for word in _until_boundary(after)):
        return 0.0 if partner else 0.95  # "talks with Chinese officials": not the actor
    if mention.extra == "demonym":
        if before in lexicon.authority_nouns:
            return 0.95  # "le gouvernement chinois", "las autoridades japonesas"
        next_is_cue = any(tokens.index_at(c) == last + 1 for c in cue_starts)
        return 0.85 if next_is_cue else 0.0  # "the Chinese block"
    if agent:
        near_cue = any(0 <= first - tokens.index_at(c) <= 5 for c in cue_starts)
        return 1.0 if before in lexicon.agent_prepositions or near_cue else 0.0
    if before == "in" and first > 1 and tokens.items[first - 2].text in lexicon.authority_nouns:
        return 0.95  # "officials in Beijing"
    if before in lexicon.target_prepositions or before in lexicon.aimed_prepositions:
        return 0.0  # "curbs on China", "rules targeting China"
    if tokens.items[last].text.endswith("'s") or (after[:1] == ["'"]):
        next_is_cue = any(0 < tokens.index_at(c) - last <= 2 for c in cue_starts)
        own_act = bool(set(after[:2]) & lexicon.move_nouns)  # "Beijing's move to ..."
        return 0.85 if next_is_cue or own_act else 0.35
    if after[:1] and after[0] in lexicon.attributive_nouns:
        return 0.0
    return 0.85


def aimed_at(mention: Mention, tokens: Tokens, lexicon: Lexicon) -> bool:
    """A country named as what a move is aimed at or comes from, or as a modifier of
    goods: "curbs on China", "chips imported from the US", 原产于美国, "U.S. chips"."""
    if mention.extra == "target":
        return True
    if tokens.folded[: mention.start - tokens.offset].endswith(lexicon.cjk_target_prepositions):
        return True
    first = tokens.index_at(mention.start)
    before = [w for w in tokens.words(first - 2, first) if w not in lexicon.determiners][-1:]
    after = tokens.words(tokens.index_at(mention.end - 1) + 1, tokens.index_at(mention.end - 1) + 2)
    return bool(set(before) & lexicon.aimed_prepositions) or bool(
        after and after[0] in lexicon.attributive_nouns
    )


def _in_compound(tokens: Tokens, mention: Mention) -> bool:
    """U.S.-China, Sino-US: two countries joined by a dash are a pair, not an actor."""
    after = tokens.char_at(mention.end) + tokens.char_at(mention.end + 1)
    before = tokens.char_at(mention.start - 1)
    return (after[:1] in ("-", "/") and after[1:].isalpha()) or before in ("-", "/")


def _until_boundary(words: list[str]) -> list[str]:
    kept: list[str] = []
    for word in words:
        if word in CLAUSE_PUNCT or word == ".":
            break
        kept.append(word)
    return kept


def buyer_country(mentions: list[Mention], tokens: Tokens, lexicon: Lexicon) -> str | None:
    """The country of the buyers a guidance or import move is about ("Chinese firms",
    "into China", "to China")."""
    for mention in mentions:
        if mention.kind != "country":
            continue
        first = tokens.index_at(mention.start)
        last = tokens.index_at(mention.end - 1)
        before = tokens.items[first - 1].text if first > 0 else ""
        after = tokens.words(last + 1, last + 3)
        if before in ("to", "into", "enter", "entering") or any(
            w in lexicon.company_nouns for w in after
        ):
            return mention.key
    return None
