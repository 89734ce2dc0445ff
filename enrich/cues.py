"""The cues of one sentence and what becomes of each, before anyone asks who acts.

- a reversal verb undoes what follows ("lifted the ban" eases, "revoked the waivers"
  restricts); two cues side by side are one move ("a ban imposed in April");
- a requirement verb with a licence-like object restricts ("require licences"), a
  receipt verb with one eases ("received export licences");
- a negator shortly before cancels a cue, a refusal flips an ease cue; a denial in the
  sentence, or a reaction/lobbying verb governing the cue, means no new move;
- a capitalised cue inside a body sentence is a name ("Grant Shapps");
- a carve-out from a restriction ("a 100% tariff, though firms building here are
  exempt", "spared firms building plants here") is an easing move of its own;
- withdrawing a privilege a government granted restricts ("revoked the VEU status",
  "VEU 지위를 철회"); a ceiling on a duty eases ("tariffs capped at 15%").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise

from enrich.context import CLAUSE_PUNCT, Tokens
from enrich.folding import fold
from enrich.lexicon import Lexicon
from enrich.match import Mention

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
# "will be subject to", "became subject to": a new obligation, not a standing state
BECOMING = ("will be", "would be", "to be", "now", "become", "becomes", "became", "made")
# one word a state preposition may stand before: "with government funding"
STATE_MODIFIERS = frozenset(
    {"government", "state", "public", "federal", "official", "its", "their", "such", "the"}
)
ENABLER_REACH = 5
ASIDE_REACH = 10  # words from a verb to the comma closing an aside after it
GLOSS_REACH = 12  # tokens from an opening bracket to the one closing a gloss
PHRASE_REACH = 4  # words of one privilege's name ("VEU status (validated end-user) waiver")
EASING_NOUNS = frozenset(
    {
        "approval",
        "approvals",
        "licence",
        "licences",
        "license",
        "licenses",
        "permit",
        "permits",
        "exemption",
        "exemptions",
        "waiver",
        "waivers",
        "authorisations",
        "authorizations",
        "authorization",
        "subsidies",
        "funding",
        "grants",
        "exclusions",
    }
)  # words from an easing verb to the restriction it enables


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
    carve_out: bool = False  # spares some firms or goods from a restriction
    spares: int = -1  # where the restriction it carves out of starts (-1: none read)
    withdraws_privilege: bool = False  # takes back a status, licence or listing's benefit
    undone_by: str | None = None  # the reversal word that flipped it ("lifted"), if one did
    licence_object: bool = False  # a requirement or receipt verb of a licence ("need permits")


def read_cues(mentions: list[Mention], tokens: Tokens, lexicon: Lexicon) -> list[CueReading]:
    cues = [
        CueReading(m.surface, m.start, m.end, m.key, m.extra)
        for m in mentions
        if m.kind == "cue" and not _proper_noun(m, tokens, lexicon)
    ]
    cues += _requirements(mentions, cues, tokens, lexicon)
    cues.sort(key=lambda c: c.start)
    withdrawn = _withdrawals(mentions, cues, tokens, lexicon)
    for verb in (m for m in mentions if m.kind == "reversal"):
        if (
            verb.start in withdrawn
            or _proper_noun(verb, tokens, lexicon)
            or _in_a_noun(verb, mentions)
            or any(c.start < verb.start and verb.end <= c.end for c in cues)
        ):
            continue  # a word of a name: "Military End-User restrictions"
        _apply_reversal(verb, mentions, cues, tokens, lexicon)
    _away_from(cues, tokens, lexicon)
    _merge_neighbours(cues, tokens)
    _merge_enablers(cues, tokens)
    _limit_and_objects(cues, tokens)
    _support_objects(mentions, cues, tokens, lexicon)
    denial = next((m.surface for m in mentions if m.kind == "denial"), None)
    governing = [  # a capitalised one in a body sentence is a name: "(Jiji Press) Taiwan ..."
        m
        for m in mentions
        if m.kind in ("reaction", "lobbying") and not _proper_noun(m, tokens, lexicon)
    ]
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
        elif not _denied_permission(cue, tokens, lexicon):
            _apply_negation(cue, tokens, lexicon)
    _ceilings(mentions, cues, tokens, lexicon)
    _carve_outs(mentions, cues)
    return cues


def _away_from(cues: list[CueReading], tokens: Tokens, lexicon: Lexicon) -> None:
    """ "changes the review policy from a presumption of denial to case-by-case review",
    "从推定拒绝改为逐案审查": a change verb moving a policy from a restriction to something
    else leaves the restriction behind, an easing (cues.yaml `away_from`)."""
    starts, ends, verbs, reach = lexicon.away_from
    words = [t.text for t in tokens.items]
    for cue in cues:
        if cue.outcome != "signal" or cue.direction != "restrict":
            continue
        here = tokens.index_at(cue.start)
        before = words[max(0, here - 2 * tokens.scale) : here]
        if before[-1:] and before[-1] in lexicon.determiners:
            before = before[:-1]
        if not before or not any("".join(before).endswith(w) for w in starts):
            continue
        last = tokens.index_at(cue.end - 1)
        ahead = "".join(words[last + 1 : last + 1 + 3 * tokens.scale]) if tokens.scale > 1 else ""
        after = words[last + 1 : last + 1 + reach * tokens.scale]
        if not (set(after) & set(ends) or any(w in ahead for w in ends)):
            continue
        earlier = words[
            :here
        ]  # the change verb may stand far before: "changes the policy for ..., from"
        if not any(w in verbs for w in earlier) and not any(
            v in "".join(earlier) for v in verbs if not v.isascii()
        ):
            continue
        cue.direction = "ease"
        cue.notes.append("a change away from it")


def _in_a_noun(verb: Mention, mentions: list[Mention]) -> bool:
    """ "end-user certificates", "by the end of March": the verb is a word of a noun or a
    time phrase (cues.yaml `reversal.nouns`), and undoes nothing."""
    return any(
        m.kind == "reversal_noun" and m.start <= verb.start and verb.end <= m.end for m in mentions
    )


def _withdrawals(
    mentions: list[Mention], cues: list[CueReading], tokens: Tokens, lexicon: Lexicon
) -> set[int]:
    """ "revoked the validated end-user status", "VEU 지위를 철회", "licences were
    suspended": a withdrawing verb with a privilege as its object (after it; before it
    where the object comes first or the verb is passive) restricts, whatever the
    privilege word reads as alone. No cue may stand between them ("cancelled the ban on
    licences" undoes the ban). Returns where the verbs it settled start."""
    privileges = [m for m in mentions if m.kind == "privilege"]
    settled: set[int] = set()
    if not privileges:
        return settled
    live = [c for c in cues if c.outcome == "signal"]
    for verb in (m for m in mentions if m.kind == "withdrawing"):
        if _proper_noun(verb, tokens, lexicon) or _in_a_noun(verb, mentions):
            continue  # "Validated End User", "end-user status": a word of a name
        here = tokens.index_at(verb.start)
        first, last = _gloss_clause(here, tokens)
        ahead = lexicon.reversal_window * tokens.scale
        # the object comes first in Chinese, Korean, Japanese and German ("VEU 지위를
        # 철회", "Lizenz entzogen"), and before a passive ("the waivers were revoked")
        object_first = tokens.scale > 1 or any(
            m.kind == "reversal" and m.key == "following" and m.start == verb.start
            for m in mentions
        )
        passive = any(w in lexicon.passive_auxiliaries for w in tokens.words(here - 1, here))
        behind = 3 * tokens.scale if object_first or passive else 0
        found: Mention | None = None
        for noun in privileges:
            if any(c.direction == "restrict" and c.start <= noun.start < c.end for c in live):
                continue  # "licence requirements": a restriction, no privilege
            there = tokens.index_at(noun.start)
            if not first <= there < last:
                continue
            if 0 < there - here <= ahead:
                span = (verb.end, noun.start)
            elif 0 < here - tokens.index_at(noun.end - 1) <= behind:
                span = (noun.end, verb.start)
            else:
                continue
            if any(span[0] <= c.start < span[1] for c in live) or any(
                m.kind == "reversible" and span[0] <= m.start < span[1] for m in mentions
            ):
                continue  # a nearer object: "ended the ban on licences"
            found = noun
            break
        if found is None:
            continue
        own = [c for c in live if c.start <= verb.start < c.end]
        move = own[0] if own else CueReading(verb.surface, verb.start, verb.end, "restrict", "")
        move.direction = "restrict"
        move.withdraws_privilege = True
        move.notes.append(f"withdraws a privilege ('{found.surface}')")
        # the privilege's own words ease no more ("验证最终用户 (VEU) 豁免许可")
        phrase = tokens.index_at(found.start)
        words = [
            m
            for m in privileges
            if 0 <= tokens.index_at(m.start) - phrase <= PHRASE_REACH * tokens.scale
        ]
        for cue in live:
            if (
                cue is not move
                and cue.direction == "ease"
                and any(m.start <= cue.start < m.end for m in words)
            ):
                cue.outcome = "merged"
        if not own:
            cues.append(move)
            cues.sort(key=lambda c: c.start)
        settled.add(verb.start)
    return settled


def _within(start: int, here: int, clause: tuple[int, int], reach: int, tokens: Tokens) -> bool:
    """The word at character `start` is in the clause, at most `reach` words from `here`."""
    there = tokens.index_at(start)
    return clause[0] <= there < clause[1] and abs(there - here) <= reach


def _gloss_clause(here: int, tokens: Tokens) -> tuple[int, int]:
    """The clause of token `here`, read past a short gloss in brackets ("（VEU）",
    "(Goods Availability Act)"): a name's gloss ends no clause."""
    first, last = tokens.clause_of(here)
    while last < len(tokens.items) and tokens.items[last].text in ("(", "（"):
        close = next(
            (
                i
                for i in range(last + 1, min(last + GLOSS_REACH, len(tokens.items)))
                if tokens.items[i].text in (")", "）")
            ),
            None,
        )
        if close is None or close + 1 >= len(tokens.items):
            break
        last = max(last + 1, tokens.clause_of(close + 1)[1])
    return first, last


def _ceilings(
    mentions: list[Mention], cues: list[CueReading], tokens: Tokens, lexicon: Lexicon
) -> None:
    """ "tariffs capped at 15%", "cap duties at no more than 15%", "关税上限": a ceiling
    word near a tariff word lessens the tariff, an easing move (the nearest tariff cue
    flips; with none read, the ceiling is the move). A cap with no tariff near stays a
    quota."""
    tariff_words = [
        m
        for m in mentions
        if m.kind == "action_kw" and lexicon.actions[int(m.key)]["id"] == "tariff"
    ]
    if not tariff_words:
        return
    reach = lexicon.ceiling_window * tokens.scale
    for word in (m for m in mentions if m.kind == "ceiling"):
        here = tokens.index_at(word.start)
        clause = tokens.clause_of(here)
        if not any(_within(m.start, here, clause, reach, tokens) for m in tariff_words):
            continue
        live = [
            c
            for c in cues
            if c.outcome == "signal" and _within(c.start, here, clause, reach, tokens)
        ]
        if any(c.direction == "ease" and c.action_hint == "tariff" for c in live):
            continue  # eased already ("lowered tariffs to no more than 15%")
        if any(c.start < word.start and fold(c.surface) in lexicon.levying_verbs for c in live):
            continue  # "will impose a maximum 25% tariff": the new duty's level, no easing
        own = [c for c in live if c.start <= word.start < c.end and c.direction == "restrict"]
        tariffs = [
            c
            for c in live
            if c.direction == "restrict" and c.action_hint == "tariff" and c not in own
        ]
        note = f"a ceiling ('{word.surface}')"
        if tariffs:
            nearest = min(tariffs, key=lambda c: abs(tokens.index_at(c.start) - here))
            nearest.direction = "ease"
            nearest.notes.append(note)
            for cue in own:
                cue.outcome = "merged"
            continue
        if own:
            own[0].direction, own[0].action_hint = "ease", "tariff"
            own[0].notes.append(note)
            continue
        capped = CueReading(word.surface, word.start, word.end, "ease", "tariff")
        capped.notes.append(note)
        cues.append(capped)
        cues.sort(key=lambda c: c.start)


def _carve_outs(mentions: list[Mention], cues: list[CueReading]) -> None:
    """ "exemptions for firms that build here", "domestic uses are spared":
    an easing cue at a carve-out word (or the restriction it undoes: "exempt from the
    tariff") spares someone from a restriction; a carve-out word that is no cue ("spared",
    "except", "no charge") after a live restriction in the sentence eases on its own."""
    for word in (m for m in mentions if m.kind == "carve_out"):
        live = [c for c in cues if c.outcome == "signal"]
        spared = [
            c
            for c in live
            if c.direction == "ease" and (c.start == word.start or c.undone_by == word.surface)
        ]
        restrictions = [c for c in live if c.direction == "restrict" and c.end <= word.start]
        for cue in spared:
            cue.carve_out = True
            cue.spares = restrictions[-1].start if restrictions else -1
            cue.notes.append(f"a carve-out ('{word.surface}')")
        if spared or not restrictions or any(c.start <= word.start < c.end for c in cues):
            continue
        kept = restrictions[-1]
        carved = CueReading(word.surface, word.start, word.end, "ease", kept.action_hint)
        carved.carve_out, carved.spares = True, kept.start
        carved.notes.append(f"a carve-out from '{kept.surface}'")
        cues.append(carved)
        cues.sort(key=lambda c: c.start)


def _denied_permission(cue: CueReading, tokens: Tokens, lexicon: Lexicon) -> bool:
    """A permission word right after a negator ("不被允许", "未获批准", "will no longer be
    allowed"): the permission is denied, a restriction; after "not yet" (尚未批准, "has yet
    to be") it is pending, no move. A granting verb is denied only by ceasing ("stopped
    issuing licences", 停止发放). True when this reading settled the cue."""
    negators, pending, markers, permissions, cessation, granting = lexicon.denied_permission
    word = fold(cue.surface)
    if cue.direction != "ease" or (word not in permissions and word not in granting):
        return False
    if word not in permissions:  # a granting verb: only ceasing denies it
        negators, pending = cessation, ()
    before = tokens.folded[: cue.start - tokens.offset].rstrip()
    for marker in sorted(markers, key=len, reverse=True):
        if _ends_with_word(before, marker):
            before = before[: -len(marker)].rstrip()
            break
    said = next((w for w in pending if _ends_with_word(before, w)), None)
    if said is not None:
        cue.outcome = "negated"
        cue.notes.append(f"'{said}': the permission is still pending")
        return True
    by_length = sorted(negators, key=len, reverse=True)
    said = next((w for w in by_length if _ends_with_word(before, w)), None)
    if said is None:
        return False
    cue.direction = "restrict"
    cue.notes.append(f"'{said}' + permission: the permission is denied")
    return True


def _proper_noun(mention: Mention, tokens: Tokens, lexicon: Lexicon) -> bool:
    """A capitalised cue inside a body sentence is a name ("Grant Shapps", "Clear Linux"),
    unless a language file writes it capitalised: German nouns ("Verbot", "Ausnahme")."""
    return (
        not tokens.headline
        and mention.start != tokens.offset
        and mention.surface[:1].isupper()
        and not mention.surface.isupper()
        and fold(mention.surface) not in lexicon.capitalised_cues
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


def _merge_enablers(cues: list[CueReading], tokens: Tokens) -> None:
    """ "a rule that allows it to deny licences", "authorised officials to block": an
    easing verb whose infinitive is a restriction enables that restriction."""
    live = [c for c in cues if c.outcome == "signal"]
    for cue, following in pairwise(live):
        if cue.direction != "ease" or following.direction != "restrict":
            continue
        between = tokens.words(tokens.index_at(cue.end - 1) + 1, tokens.index_at(following.start))
        plain = not any(w in CLAUSE_PUNCT for w in between)
        if plain and between and between[-1] == "to" and len(between) <= ENABLER_REACH:
            cue.outcome = "merged"
            following.notes.append(f"enabled by '{cue.surface}'")


def _limit_and_objects(cues: list[CueReading], tokens: Tokens) -> None:
    """ "allowed to sell only downgraded chips", "granted only in rare cases": an easing
    cue scoped by "only" is a limit, and restricts; "tightens approvals", "curbs
    licences": an easing noun right after a restricting verb is its object."""
    live = [c for c in cues if c.outcome == "signal"]
    for cue in live:
        if cue.direction != "ease" or cue.undone_by is not None:
            continue
        here = tokens.index_at(cue.start)
        if "only" in tokens.words(here - 1, here) + tokens.words(here + 1, here + 4):
            cue.direction = "restrict"
            cue.notes.append("a limit ('only')")
    for verb, obj in pairwise(live):
        gap = tokens.index_at(obj.start) - tokens.index_at(verb.end - 1)
        opposed = verb.direction == "restrict" and obj.direction == "ease"
        if opposed and 0 < gap <= 3 and obj.surface.lower() in EASING_NOUNS:
            obj.outcome = "merged"
            verb.notes.append(f"with its object '{obj.surface}'")


def _support_objects(
    mentions: list[Mention], cues: list[CueReading], tokens: Tokens, lexicon: Lexicon
) -> None:
    """ "approves EUR 5 bn in state aid", "cleared the Programme for Semiconductors",
    批准专项资金: an easing verb whose object is money or a programme for industry is
    industrial policy (the subsidy action), not an opening of trade. A licence, a
    restriction or a destination ("allowed exports to the fab") before it ends the reach."""
    objects = [m for m in mentions if m.kind == "support_object"]
    if not objects:
        return
    after, before, through = lexicon.support_reach
    blocked = (lexicon.target_prepositions | set(lexicon.cjk_target_prepositions)) - through
    stops = [m.start for m in mentions if m.kind == "required"]
    stops += [c.start for c in cues if c.direction == "restrict"]
    for cue in cues:
        if cue.outcome != "signal" or cue.direction != "ease" or cue.action_hint:
            continue
        first, last = tokens.index_at(cue.start), tokens.index_at(cue.end - 1)
        clause = tokens.clause_of(first)
        for obj in objects:
            there, end = tokens.index_at(obj.start), tokens.index_at(obj.end - 1)
            if not clause[0] <= there < clause[1]:
                continue
            if there > last:
                near = there - last <= after * tokens.scale
                open_way = not set(tokens.words(last + 1, there)) & blocked
                open_way = open_way and not any(cue.end <= s < obj.start for s in stops)
            else:  # the money first, as object-first languages put it (補助金を承認)
                near = end < first and first - end <= before * tokens.scale
                open_way = True
            if near and open_way:
                cue.action_hint = "subsidy"
                cue.notes.append(f"its object is money for industry ('{obj.surface}')")
                break


def _governing_verb(
    cue: CueReading, governing: list[Mention], mentions: list[Mention], tokens: Tokens
) -> Mention | None:
    """A reaction verb shortly before the cue ("opposed the restrictions"), or a lobbying
    verb aimed at another government ("urging the Netherlands to curb")."""
    here = tokens.index_at(cue.start)
    for verb in governing:
        there = tokens.index_at(verb.start)
        if verb.key == "after":
            if _reacts_after(cue, verb, mentions, tokens, here, there):
                return verb
            continue
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


def _reacts_after(
    cue: CueReading, verb: Mention, mentions: list[Mention], tokens: Tokens, here: int, there: int
) -> bool:
    """A reaction verb that follows its object (Japanese, Korean: "輸出規制に断固反対",
    "수출통제에 강력히 반대했다"), in the cue's clause with no other actor named between:
    "米国が規制を強化し、中国は反対した" leaves the US move standing."""
    if not 0 < there - here <= 8 * tokens.scale or there >= tokens.clause_of(here)[1]:
        return False
    return not any(
        m.kind in ("country", "agency", "context_agency", "company")
        for m in mentions
        if cue.end <= m.start < verb.start
    )


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
            # "allows it to deny licences": the nearer verb takes the object;
            # "receive tools without a licence": no licence is received
            nearer = any(verb.end <= c.start < obj.start for c in cues)
            if nearer or {"without", "no"} & set(tokens.words(here + 1, there)):
                continue
            if verb.kind == "receipt" and any(
                c.direction == "restrict" and c.start <= obj.start < c.end for c in cues
            ):
                break  # "extends licence requirements": the requirement is what it extends
            if 0 < there - here <= lexicon.requirement_window * tokens.scale and there < clause_end:
                direction = "restrict" if verb.kind == "requirement" else "ease"
                cue = CueReading(verb.surface, verb.start, verb.end, direction, "")
                cue.licence_object = True
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
    was lifted" ease; "revoked the waivers", "ending the exemption" restrict; a
    following verb undoes the restriction just before it ("규제를 해제")."""
    here = tokens.index_at(verb.start)
    clause = _gloss_clause(here, tokens)
    reducing = verb.key == "reducing"  # "cut tariffs": only the restriction right after
    window = (lexicon.reducing_window if reducing else lexicon.reversal_window) * tokens.scale
    aside = _past_aside(here, tokens)
    if aside:  # "suspending, for one year, the rule": the object is past the aside
        clause = (clause[0], tokens.clause_of(aside)[1])
        window += aside - here - 1
    own = [c for c in cues if c.start == verb.start and c.outcome == "signal"]
    if any(c.end > verb.end for c in own):
        return  # the verb is part of a longer cue ("cancel orders")
    flippable = {"undo": ("restrict", "ease"), "losing": ("ease",)}.get(verb.key, ("restrict",))
    for cue in cues:
        if cue.start == verb.start or cue.direction not in flippable or cue.outcome != "signal":
            continue
        if cue.undone_by is not None:
            continue  # undone once already: "ended the exemption that allowed ..."
        there = tokens.index_at(cue.start)
        if not clause[0] <= there < clause[1]:
            continue
        coordinated = tokens.words(here + 1, there) in (["and"], ["or"], ["but"])
        ahead = 0 < there - here <= window and not coordinated
        behind = (
            0 < here - there <= 3 and tokens.words(here - 1, here)[0] in lexicon.passive_auxiliaries
        ) or (verb.key == "following" and 0 < here - there <= 3 * tokens.scale)
        behind = behind or (tokens.scale > 1 and 0 < here - there <= window)  # 禁令……解除
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
    if verb.key == "easing" and not own:
        _put_off(verb, cues, tokens, window)


def _put_off(verb: Mention, cues: list[CueReading], tokens: Tokens, window: int) -> None:
    """ "will levy new duties but defers them to 2027": an easing verb with nothing to undo
    after it puts off the restriction shortly before it, a move of its own (the
    restriction stays one too: the news is two-way)."""
    here = tokens.index_at(verb.start)
    before = [
        c
        for c in cues
        if c.outcome == "signal"
        and c.direction == "restrict"
        and c.end <= verb.start
        and 0 < here - tokens.index_at(c.start) <= window
    ]
    if not before:
        return
    kept = before[-1]
    deferral = CueReading(verb.surface, verb.start, verb.end, "ease", kept.action_hint)
    deferral.notes.append(f"'{verb.surface}' puts off '{kept.surface}'")
    cues.append(deferral)
    cues.sort(key=lambda c: c.start)


def _past_aside(here: int, tokens: Tokens) -> int:
    """Where a verb's object starts past a short aside set off by commas right after the
    verb ("suspending, for a period of one year, the rule"); 0 when there is none."""
    if tokens.words(here + 1, here + 2) != [","]:
        return 0
    end = tokens.clause_of(here + 2)[1]
    if end - here > ASIDE_REACH or tokens.words(end, end + 1) != [","]:
        return 0
    return end + 1


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
        cue.undone_by = verb
        cue.notes.append(f"undone by '{verb}'")
        last = tokens.index_at(cue.end - 1)


def _ends_with_word(text: str, word: str) -> bool:
    """Chinese words end anywhere; a Latin-script word ends only at a word boundary."""
    if not text.endswith(word):
        return False
    if not word[:1].isascii():
        return True
    rest = text[: -len(word)]
    return word.startswith("n'") or not rest or not (rest[-1].isalnum() or rest[-1] == "'")


@cache
def _spaced_out(words: tuple[str, ...], ascii_only: bool) -> tuple[tuple[str, str], ...]:
    """Each word of cjk_not_negating as its tokens stand in a phrase, and the blanks that
    replace them: a CJK word's characters, a spaced phrase's words ("ohne einwände", an
    approval with no objection); for an ASCII phrase, only the ASCII words."""
    kept = [w for w in words if w.isascii() or not ascii_only]
    parts = [w.split(" ") if " " in w else list(w) for w in kept]
    return tuple((f" {' '.join(p)} ", " " + "_ " * len(p)) for p in parts)


@cache
def _negators_by_first_word(negators: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    by_first: dict[str, list[int]] = {}
    for i, negator in enumerate(negators):
        by_first.setdefault(negator.split(" ")[0], []).append(i)
    return {word: tuple(found) for word, found in by_first.items()}


def _may_negate(phrase: str, negators: tuple[str, ...]) -> list[str]:
    """The negators, in the lexicon's order, that can stand in `phrase` (" a b c "): its
    first word is one of the phrase's words (and "n't", read from inside words)."""
    by_first = _negators_by_first_word(negators)
    found = {i for word in phrase.split() for i in by_first.get(word, ())}
    found.update(by_first.get("n't", ()))
    return [negators[i] for i in sorted(found)]


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
    before = " ".join(["", *tokens.words(here - 7, here), ""])
    if " subject to " in before and not any(f" {w} subject to " in before for w in BECOMING):
        previous = ["subject to"]  # ("will be subject to tighter controls" is a new move)
    two_back = tokens.words(here - 2, here)
    modified = len(two_back) == 2 and two_back[1] in STATE_MODIFIERS
    if modified and two_back[0] in lexicon.state_prepositions:  # "with government funding"
        previous = two_back[:1]
    if previous and (previous[0] in lexicon.state_prepositions or previous[0] == "subject to"):
        cue.outcome = "state"
        cue.notes.append(f"'{previous[0]} {cue.surface}' describes a state, not a move")
        return
    span = lexicon.negation_window * tokens.scale
    window = tokens.words(max(clause_start, here - span), here)
    if not window or tokens.words(here, here + 1) == ["only"]:
        return
    phrase = " " + " ".join(window) + " "
    for spaced, blanked in _spaced_out(lexicon.cjk_not_negating, phrase.isascii()):
        phrase = phrase.replace(spaced, blanked)  # 未来, 不断: a negator's character, no negation
    for refusal in REFUSAL:
        if f" {refusal} " in phrase and cue.direction == "ease":
            cue.direction = "restrict"
            cue.notes.append(f"'{refusal}' + ease cue: a refusal restricts")
            return
    for negator in _may_negate(phrase, lexicon.negators):
        if f" {negator} " in phrase or (
            negator == "n't" and any(w.endswith("n't") for w in window)
        ):
            if f" {negator} only " in phrase + " ":
                continue
            cue.outcome = "negated"
            cue.notes.append(f"negated by '{negator}'")
            return
