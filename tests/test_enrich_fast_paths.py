"""The tagger's and the event rule's fast forms give what their plain forms give.

Each pattern or loop rewritten for speed is checked against the plain way of writing it
on generated text drawn from the characters that decide it, and on sentences of our own.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from enrich import domain, event_stories, text
from enrich.context import _TOKEN, Token, Tokens
from enrich.folding import fold
from enrich.match import Mention, matcher
from enrich.wording import WordingModel, load_wording, tokens

# the plain forms, as first written
PLAIN_BOUNDARY = re.compile(
    r"[.!?][\"”’')\]]*\s+(?=[\"“‘'(\[¿¡«]?[A-Z0-9À-ÖØ-Þ\uac00-\ud7af])|[。！？；]"
    r"|(?<=[\uac00-\ud7af])\.(?=[\"“‘'(\[]?[A-Z0-9\uac00-\ud7af])"
)
PLAIN_NUMBER = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*"
    r"(%|％|per ?cent|万|亿|thousand|million|billion|mn|bn|m|b)?(?![A-Za-z])",
    re.IGNORECASE,
)

SENTENCES = [
    "Officials in Seoul said on Friday they would tighten checks. “We will act,” one said.",
    "The U.S. rule takes effect Jan. 5! Will it last? (Nobody knows.) ¿Qué pasa?",
    "商务部宣布新规。美国将放宽限制！是否有效？有待观察；다음 달 시행.",
    "Imports rose 25% to $5.5bn, or 400,000 units; 1,2345 is no amount and 2026 a year.",
    "Exports fell 12 per cent after 40万 wafers and 3 亿 dollars, v2.0 and x7 aside.",
]

boundary_text = st.text(alphabet=".!?。！？；\"”’')] \t“‘(¿¡«[Aa0가中x", max_size=24)
number_text = st.text(alphabet="0123456789١２.,% aAmMbB万亿_²½x-中\n", max_size=24)
word_text = st.text(alphabet="abcXY_19²½ -'中文é\n", max_size=24)


def spans(
    pattern: re.Pattern[str], value: str
) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(value)]


@settings(max_examples=400)
@given(boundary_text)
def test_sentence_boundaries_match_the_two_branch_pattern(value: str) -> None:
    assert [m.span() for m in text._BOUNDARY.finditer(value)] == [
        m.span() for m in PLAIN_BOUNDARY.finditer(value)
    ]


def test_sentence_boundaries_on_our_sentences() -> None:
    for sentence in SENTENCES:
        assert [m.span() for m in text._BOUNDARY.finditer(sentence)] == [
            m.span() for m in PLAIN_BOUNDARY.finditer(sentence)
        ]


@settings(max_examples=400)
@given(number_text)
def test_numbers_match_the_lookbehind_first_pattern(value: str) -> None:
    assert spans(event_stories._NUMBER, value) == spans(PLAIN_NUMBER, value)


def plain_words_in(value: str) -> frozenset[str]:
    cjk = event_stories._CJK
    lowered = cjk.sub(" ", value.lower())
    words = {w for w in event_stories._WORD.findall(lowered) if w not in event_stories._STOP}
    for run in cjk.findall(value):
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(words)


@settings(max_examples=400)
@given(word_text)
def test_words_match_the_plain_reading(value: str) -> None:
    assert event_stories.words_in(value) == plain_words_in(value)


def test_numbers_and_words_on_our_sentences() -> None:
    for sentence in SENTENCES:
        assert spans(event_stories._NUMBER, sentence) == spans(PLAIN_NUMBER, sentence)
        assert event_stories.words_in(sentence) == plain_words_in(sentence)


def test_known_wording_tokens_are_the_tokens_in_the_vocabulary() -> None:
    model = load_wording()
    assert model is not None
    vocabulary = list(model.idf)
    # a lead made of the vocabulary's own words and pairs, and of words it lacks
    lead = " ".join(itertools.chain(vocabulary[:300], ["zzqx", "the", "zzqx"], SENTENCES))
    for sample in (lead, *SENTENCES):
        assert model.known_tokens(sample) == [t for t in tokens(sample) if t in model.idf]


def plain_probabilities(model: WordingModel, lead: str) -> dict[str, float]:
    """The wording model's reading written plainly, token by token in Python."""
    counts = Counter(t for t in tokens(lead) if t in model.idf)
    weights = {
        t: model.idf[t] if n == 1 else (1 + math.log(n)) * model.idf[t] for t, n in counts.items()
    }
    norm = math.sqrt(sum([w * w for w in weights.values()])) or 1.0
    scores = []
    for i, score in enumerate(model.intercept):
        for token, weight in weights.items():
            if token in model.coef:
                score += model.coef[token][i] * weight / norm
        scores.append(score)
    exps = [math.exp(s - max(scores)) for s in scores]
    return {c: e / sum(exps) for c, e in zip(model.classes, exps, strict=True)}


_VOCABULARY = sorted(load_wording().idf) if load_wording() is not None else ["chip"]


@settings(max_examples=200)
@given(
    st.lists(
        st.one_of(st.sampled_from(_VOCABULARY), st.sampled_from(SENTENCES), st.text(max_size=8)),
        max_size=120,
    ).map(" ".join)
)
def test_wording_probabilities_are_the_plain_readings_to_the_last_bit(lead: str) -> None:
    model = load_wording()
    assert model is not None
    assert model.probabilities(lead) == plain_probabilities(model, lead)


DOMAIN_WORDS = [
    "the",
    "ban",
    "H20",
    "chip",
    "chipmakers",
    "wafer fab",
    "foundry",
    "Nvidia",
    "Google",
    "memory",
    "said",
    "entity list",
    "licences",
    "实体清单",
    "\n",
]


def plain_about_chips(value: str) -> bool:
    """Every phrase and mention counted, then held against the length's bar."""
    folded = fold(value)
    rules = domain.rules()
    total = float(sum(len(p.findall(folded)) for p in rules.phrases.values()))
    for mention in matcher().find(value, folded):
        if mention.kind in ("chip", "family", "classification"):
            total += 2
        elif mention.kind == "subject":
            total += 0.5 if mention.surface.lower() in rules.ambiguous_words else 1
        elif mention.kind == "company":
            total += 0.5 if mention.key in rules.not_chip_companies else 1
    return total >= domain.needed(folded)


def fast_about_chips(value: str) -> bool:
    folded = fold(value)
    return domain.about_chips(matcher().find(value, folded), folded)[0]


@settings(max_examples=150)
@given(st.lists(st.sampled_from(DOMAIN_WORDS), max_size=900))
def test_about_chips_matches_counting_everything(words: list[str]) -> None:
    value = " ".join(words)
    assert fast_about_chips(value) == plain_about_chips(value)


def test_about_chips_on_our_texts() -> None:
    filler = "The council met on Tuesday and said little else. " * 60
    texts = [
        "Nvidia may ship the H20 again.",  # the mentions suffice: nothing scanned
        filler + "Chipmakers in the region welcomed it.",  # a long text: phrase and subject
        "The foundry was busy.",  # a short text: its phrase is enough
        filler + "Its memory was long.",  # an ambiguous word, half a point
        "Its memory was long.",
    ]
    assert [fast_about_chips(t) for t in texts] == [plain_about_chips(t) for t in texts]
    assert [fast_about_chips(t) for t in texts] == [True, True, True, False, False]


token_text = st.text(alphabet="ab Z9-'.,，中文\u00a0é(", max_size=40)


@settings(max_examples=300)
@given(token_text, st.integers(min_value=0, max_value=50))
def test_tokens_built_in_c_match_the_named_tuple(value: str, start: int) -> None:
    sentence = text.Sentence(0, start, start + len(value), value, False, 0)
    plain = [
        Token(start + m.start(), start + m.end(), m.group()) for m in _TOKEN.finditer(fold(value))
    ]
    built = Tokens(sentence).items
    assert built == plain
    assert all(type(t) is Token for t in built)


def test_mentions_built_in_c_are_mentions() -> None:
    value = "Nvidia said the U.S. Commerce Department approved H20 licences for China."
    found = matcher().find(value)
    assert {(m.kind, m.key) for m in found} >= {("company", "Nvidia"), ("chip", "H20")}
    assert all(type(m) is Mention and m == Mention(*m) for m in found)
    assert all(value[m.start : m.end] == m.surface for m in found)
