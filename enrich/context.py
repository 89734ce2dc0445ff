"""What a sentence is read against: its tokens and clauses, and the article's context.

The article context (main country, focus subject) is computed once before sentences are
read, so a bare "customs" or a sentence with no chip can fall back on it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from enrich.folding import fold
from enrich.lexicon import Lexicon
from enrich.match import Mention
from enrich.text import Sentence

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:[-'][^\W{_CJK}]+)*|[^\w\s]")
CLAUSE_WORDS = frozenset(
    {
        "but",
        "while",
        "whereas",
        "although",
        "though",
        "which",
        "because",
        "despite",
        "however",
        "after",
        "before",
        "as",
        "when",
        "amid",
    }
)
LIST_COMMAS = frozenset({",", "，"})
LIST_JOINERS = frozenset({"and", "or"})
CLAUSE_PUNCT = frozenset(
    {",", ";", ":", "—", "(", ")", "–", "，", "；", "：", "（", "）", "。", "?", "？", "!", "！"}
)
# Japanese writes "、" where Chinese writes "，": after a topic and between clauses
# ("米国が規制を強化し、中国は反発した"), and also between the items of a list. Chinese
# keeps "、" for lists alone, so it ends a clause only in a sentence with kana in it.
JAPANESE_COMMA = "、"
_KANA = re.compile("[\u3040-\u30ff]")
# Japanese and Korean put the verb last: its agent stands before it
_VERB_FINAL = re.compile("[\u3040-\u30ff\uac00-\ud7af]")
JAPANESE_CLAUSE_PUNCT = CLAUSE_PUNCT | {JAPANESE_COMMA}
JAPANESE_LIST_COMMAS = LIST_COMMAS | {JAPANESE_COMMA}
HEADLINE_SUBJECT_PUNCT = frozenset({",", "，", JAPANESE_COMMA, ":", "："})
HEADLINE_SUBJECT_WORDS = 3  # "U.S. Commerce Department", "美 상무부": a name, not a clause


class Token(NamedTuple):
    start: int
    end: int
    text: str  # folded


_new_token = tuple.__new__


class Tokens:
    """A sentence's tokens, with lookups by character offset."""

    def __init__(self, sentence: Sentence, folded_document: str | None = None) -> None:
        if folded_document is None:
            folded = fold(sentence.text)
        else:
            folded = folded_document[sentence.start : sentence.end]
        self.folded = folded
        self.offset = sentence.start
        self._text = sentence.text
        self._headline = sentence.headline
        start = sentence.start
        # tuple.__new__ builds each Token in C: the NamedTuple's own __new__ is a Python
        # function, called once per token of every sentence read
        self.items = [
            _new_token(Token, (start + match.start(), start + match.end(), match.group()))
            for match in _TOKEN.finditer(folded)
        ]
        self._starts = [t.start for t in self.items]
        self._boundaries: list[int] | None = None
        self._titled: bool | None = None
        self._verb_final: bool | None = None
        cjk = 0 if folded.isascii() else len(_CJK_CHAR.findall(folded))
        # CJK tokens are single characters: word windows are three times as wide there.
        self.scale = 3 if cjk * 2 > len(self.items) else 1

    @property
    def headline(self) -> bool:
        """A headline, or a Title Case line wherever it stands."""
        if self._headline:
            return True
        if self._titled is None:  # asked once per cue: counted once per sentence
            words = self._text.split()
            capitalised = sum(1 for w in words if w[:1].isupper())
            self._titled = capitalised * 2 > len(words) >= 3
        return self._titled

    @property
    def verb_final(self) -> bool:
        """A Japanese or Korean sentence (kana or hangul in it): the verb comes last, so
        a cue's agent stands before it and a government named after it is another
        clause's subject ("철회한 데 대해 우리 정부가 …고 밝혔다")."""
        if self._verb_final is None:
            self._verb_final = (
                not self.folded.isascii() and _VERB_FINAL.search(self.folded) is not None
            )
        return self._verb_final

    def index_at(self, offset: int) -> int:
        """Index of the token containing (or starting just before) `offset`."""
        index = bisect_right(self._starts, offset) - 1
        return index if index > 0 else 0  # max(0, index) without a call: asked per word

    def char_at(self, offset: int) -> str:
        index = offset - self.offset
        return self.folded[index] if 0 <= index < len(self.folded) else ""

    def words(self, first: int, last: int) -> list[str]:
        return [t.text for t in self.items[first if first > 0 else 0 : last if last > 0 else 0]]

    def _in_a_list(self, comma: int, commas: frozenset[str] = LIST_COMMAS) -> bool:
        """A comma between items of a list ("gallium, germanium and antimony") joins,
        it does not end a clause: up to three words, then another comma or and/or, then a
        word."""
        if self.items[comma].text not in commas:
            return False
        if self.items[comma].text == JAPANESE_COMMA and self._closes_a_list(comma):
            return True
        for step in range(1, 5):
            if comma + step + 1 >= len(self.items):
                return False
            token = self.items[comma + step].text
            if step > 1 and (token in LIST_JOINERS or token in commas):
                after = self.items[comma + step + 1].text
                return after.isalnum() and after not in CLAUSE_WORDS
            if not token.replace("-", "").isalnum() or token in CLAUSE_WORDS:
                return False
        return False

    def _closes_a_list(self, comma: int) -> bool:
        """ "ガリウム、ゲルマニウム、アンチモンを": a Japanese list's last item takes a particle,
        not a comma or and/or, so the comma before it is known by the item before it: up to
        four words, then another "、"."""
        for step in range(1, 5):
            if comma - step - 1 < 0 or not self.items[comma - step].text.isalnum():
                return False
            if self.items[comma - step - 1].text == JAPANESE_COMMA:
                return True
        return False

    def headline_subject(self) -> int:
        """ "美 상무부, 삼성 VEU 지위 철회", "米商務省、…", "Commerce: Nvidia …": a headline
        may name its subject, then a comma or a colon, then the move. Where that comma
        stands (the subject is the tokens before it), or -1."""
        if not self.headline:
            return -1
        for i, token in enumerate(self.items[: HEADLINE_SUBJECT_WORDS * 2 * self.scale + 1]):
            if token.text in HEADLINE_SUBJECT_PUNCT:
                words = sum(1 for t in self.items[:i] if t.text.isalnum())
                return i if 0 < words <= HEADLINE_SUBJECT_WORDS * self.scale else -1
            if token.text in CLAUSE_PUNCT or token.text in CLAUSE_WORDS:
                return -1
        return -1

    def clause_of(self, index: int) -> tuple[int, int]:
        """Token range [start, end) of the clause holding token `index`."""
        if self._boundaries is None:
            punct, commas = CLAUSE_PUNCT, LIST_COMMAS
            if JAPANESE_COMMA in self.folded and _KANA.search(self.folded) is not None:
                punct, commas = JAPANESE_CLAUSE_PUNCT, JAPANESE_LIST_COMMAS
            self._boundaries = [
                i
                for i, t in enumerate(self.items)
                if (t.text in punct and not self._in_a_list(i, commas)) or t.text in CLAUSE_WORDS
            ]
        position = bisect_right(self._boundaries, index)
        start = self._boundaries[position - 1] + 1 if position > 0 else 0
        if position > 0 and self._boundaries[position - 1] == index:
            start = index  # a boundary word opens its own clause
        end = self._boundaries[position] if position < len(self._boundaries) else len(self.items)
        return min(start, index), max(end, index + 1)


@dataclass
class ArticleContext:
    main_country: str | None = None
    focus_subject: str | None = None
    country_weight: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    named_agencies: set[str] = field(default_factory=set)
    focus_topic: str | None = None  # the most named technology subject


def article_context(
    text: str,
    by_sentence: list[list[Mention]],
    weights: list[float],
    lexicon: Lexicon,
) -> ArticleContext:
    """Main acting country (countries named as actors, weighted by prominence), agencies
    named outright, and the focus subject (most prominent chip, else company)."""
    context = ArticleContext()
    dateline = dateline_country(text, lexicon)
    if dateline:  # "BEIJING (Reuters) -": the wire files from the capital it reports on
        context.country_weight[dateline] += DATELINE_WEIGHT
    chips: defaultdict[str, float] = defaultdict(float)
    companies: defaultdict[str, float] = defaultdict(float)
    topics: defaultdict[str, float] = defaultdict(float)
    for mentions, weight in zip(by_sentence, weights, strict=True):
        for mention in mentions:
            if mention.kind == "country":
                context.country_weight[mention.key] += weight * _actor_likeness(
                    text, mention, lexicon
                )
            elif mention.kind == "agency":
                context.named_agencies.add(mention.key)
                context.country_weight[lexicon.agency_jurisdiction[mention.key]] += 1.5 * weight
            elif mention.kind == "context_agency":
                qualifier = _qualifier(text, mention, mentions)
                rule = lexicon.context_rules[int(mention.key)]
                if qualifier in rule.by_country:
                    context.named_agencies.add(rule.by_country[qualifier])
                    # "China's commerce ministry" names a body as surely as MOFCOM does
                    context.country_weight[qualifier] += 1.5 * weight
            elif mention.kind == "person" and mention.key in lexicon.person_jurisdiction:
                # a named minister or leader speaks for their government
                context.country_weight[lexicon.person_jurisdiction[mention.key]] += 1.5 * weight
            elif mention.kind == "chip":
                chips[mention.key] += weight
            elif mention.kind == "company":
                companies[mention.key] += weight
            elif mention.kind == "subject":
                topics[mention.key] += weight * (
                    0.5 if mention.key in lexicon.generic_subjects else 1
                )
    if context.country_weight:
        context.main_country = _top(context.country_weight)
    focus = chips or companies
    if focus:
        context.focus_subject = _top(focus)
    if topics:
        context.focus_topic = _top(topics)
    return context


# A wire dateline opens the body: a place in capitals, a date, the agency, a dash.
_DATELINE = re.compile(
    r"^\s*([A-Z][A-Z .'-]{2,30}?)(?:,[^\n()]{0,30})?\s*(?:\([^()\n]{1,40}\))?\s*[-—–]{1,2}\s",
    re.MULTILINE,
)
AFTER_REACH = 6  # characters after a country: the longest attributive mark read there
DATELINE_WEIGHT = 2.0  # as much as a country named as actor in the lead
DATELINE_REACH = 400  # characters from the start: the title, then the body's first line


def dateline_country(text: str, lexicon: Lexicon) -> str | None:
    """The country whose capital a wire dateline names ("WASHINGTON, Dec 2 (Reuters) -")."""
    found = _DATELINE.search(text[:DATELINE_REACH])
    return lexicon.dateline_capitals.get(found.group(1).strip()) if found else None


def _top(weights: dict[str, float]) -> str:
    return max(weights.items(), key=lambda item: item[1])[0]


def resolve_agency(
    text: str,
    mention: Mention,
    mentions: list[Mention],
    lexicon: Lexicon,
    context: ArticleContext,
) -> str | None:
    """The agency id a generic name ("customs", "commerce ministry") stands for here:
    the country right before it decides; else the rule's default; else an agency of the
    rule the article names outright; else (if allowed) the article's main country; else
    the rule's fallback."""
    rule = lexicon.context_rules[int(mention.key)]
    qualifier = _qualifier(text, mention, mentions)
    if qualifier is not None:
        listed = rule.by_country.get(qualifier)
        if listed is None and rule.body and qualifier not in NO_NATIONAL_BODIES | rule.body_not:
            return f"{qualifier}:{rule.body}"
        return listed
    if rule.default:
        return rule.default
    named = [a for a in rule.by_country.values() if a in context.named_agencies]
    if named:
        return named[0]
    if rule.use_context and context.country_weight:
        # the most prominent country that has such a body, if nearly as prominent as the
        # main one: "the economic affairs ministry" in a story led by Beijing's reaction to
        # a Dutch order is the Dutch one
        floor = RUNNER_UP_SHARE * max(context.country_weight.values())
        known = {
            c: w for c, w in context.country_weight.items() if c in rule.by_country and w >= floor
        }
        if known:
            return rule.by_country[_top(known)]
    return rule.fallback


# the Union is no nation: "EU customs" or "the EU's foreign ministry" build no body of it
NO_NATIONAL_BODIES = frozenset({"EU"})
RUNNER_UP_SHARE = 0.5  # of the main country's weight, for a generic name it has no body for
MAX_CJK_QUALIFIER_GAP = 2  # characters between the country and the body: 中国的, 美方
_GAP_BREAK = re.compile(r"[.,;:!?()\[\]\"“”]")
# The last word (then "the") before the end: tried only where a word starts, the
# earliest place it can match (a start inside a word matches from the word's start too)
_LAST_WORD = re.compile(r"(?<!\w)(\w+)\W*(?:the\s+)?$", re.IGNORECASE)


# A country right after a generic name qualifies it too: "Ministry of Commerce of China",
# "Ministerio de Comercio chino", "Handelsministerium in Peking" (a demonym with no link)
_AFTER_LINK = re.compile(r"\s(?:(?:of|de|del|du|des|in|en)\s(?:the\s|la\s|l')?)?", re.IGNORECASE)


def _qualifier(text: str, mention: Mention, mentions: list[Mention]) -> str | None:
    """The country named right before a generic agency name ("China's customs",
    "Beijing's top economic planner"), else right after it."""
    return _qualifier_before(text, mention, mentions) or _qualifier_after(text, mention, mentions)


def _qualifier_after(text: str, mention: Mention, mentions: list[Mention]) -> str | None:
    other = next((m for m in mentions if m.kind == "country" and m.start >= mention.end), None)
    if other is None:
        return None
    link = _AFTER_LINK.fullmatch(text, mention.end, other.start)
    if link is None or (link.end() - link.start() <= 1 and other.extra != "demonym"):
        return None
    return other.key


def _qualifier_before(text: str, mention: Mention, mentions: list[Mention]) -> str | None:
    for other in reversed(mentions):
        if other.kind != "country" or other.end > mention.start:
            continue
        gap = text[other.end : mention.start]
        if _GAP_BREAK.search(gap):
            return None
        possessive = gap.startswith(("'s", "’s")) or other.extra == "demonym"
        if _CJK_CHAR.search(gap):  # no spaces to count words by: 中国的商务部, not a clause on
            return other.key if len(gap.strip()) <= MAX_CJK_QUALIFIER_GAP else None
        if len(gap.split()) <= (8 if possessive else 3):
            return other.key
        return None
    return None


def _actor_likeness(text: str, mention: Mention, lexicon: Lexicon) -> float:
    """How likely a country mention names a government acting (cheap, by the word before)."""
    before = _LAST_WORD.search(text[max(0, mention.start - 24) : mention.start])
    if before and before.group(1).lower() in lexicon.target_prepositions:
        return 0.3
    # 原產於美國, 对美: an origin or a destination, in either script
    if mention.extra == "target" or fold(text[max(0, mention.start - 2) : mention.start]).endswith(
        lexicon.cjk_target_prepositions
    ):
        return 0.3
    # ロシアに対する, 중국에: Japanese and Korean put their prepositions after the noun, so a
    # particle or a noun after it makes it a destination or a modifier
    after = text[mention.end : mention.end + AFTER_REACH]
    if (
        not after.isascii()
        and _VERB_FINAL.search(after) is not None
        and fold(after).startswith(lexicon.cjk_attributive)
    ):
        return 0.3
    return 0.6 if mention.extra == "demonym" else 1.0
