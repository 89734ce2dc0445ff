"""The one-pass matcher: the right ids, exact offsets, word boundaries and case rules."""

from __future__ import annotations

import string
from functools import cache

import ahocorasick
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrich.folding import _MAY_FOLD_WIDE, fold, fold_and_width
from enrich.match import _HAS_WIDE, NO_FORM, matcher
from enrich.tag import tag_text


def ids(text: str, kind: str) -> list[str]:
    return [m.key for m in matcher().find(text) if m.kind == kind]


def test_h20_h20e_and_h200_are_never_confused() -> None:
    text = "Shipments of the H20 resumed, the H20E is a refresh, and the H200 is faster."
    assert ids(text, "chip") == ["H20", "H20E", "H200"]


def test_bare_model_numbers_and_variants_map_to_their_model() -> None:
    text = "Huawei's 910C and the MI308X compete; the RTX Pro 6000D and B30A are China parts."
    assert ids(text, "chip") == ["Ascend 910C", "MI308", "RTX Pro 6000D", "B30A"]


def test_a_model_number_inside_a_longer_token_is_not_a_match() -> None:
    assert ids("Part XH200 and H2000 boards and the A1000 kit.", "chip") == []


def test_family_is_tagged_only_when_no_model_of_it_is_named() -> None:
    family_only = tag_text("Nvidia said its Blackwell systems sold out.")
    with_model = tag_text("Nvidia said its Blackwell B30A would follow the B200.")
    assert [c.id for c in family_only.tags.chips] == ["Blackwell"]
    assert [c.id for c in with_model.tags.chips] == ["B30A", "B200"]


def test_case_rules_keep_common_words_out() -> None:
    text = "Tell us about the arm of the chair. Arm and Apple joined; apple pie is not a firm."
    assert ids(text, "company") == ["Arm", "Apple"]
    assert ids("The US and us.", "country") == ["US"]


def test_longest_match_wins_over_its_parts() -> None:
    assert ids("Tokyo Electron shares rose.", "company") == ["Tokyo Electron"]
    assert ids("Tokyo Electron shares rose.", "country") == []


def test_chinese_aliases() -> None:
    text = "海关总署表示，英伟达H20芯片须经审查；商务部与工信部、网信办约谈华为。"
    mentions = matcher().find(text)
    found = {(m.kind, m.key) for m in mentions}
    assert {
        ("agency", "CN:GAC"),
        ("agency", "CN:MIIT"),
        ("agency", "CN:CAC"),
        ("company", "Nvidia"),
        ("company", "Huawei"),
        ("chip", "H20"),
    } <= found


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("商务部与工信部约谈华为。", "CN:MOFCOM"),  # a bare 商务部 is Beijing's by default
        ("美商务部宣布将华为列入实体清单。", "US:DOC"),  # 美: the U.S.
        ("美国商务部周二发布新规。商务部表示，华为须申请许可。", "US:DOC"),  # named outright
        ("中方商务部回应称将采取措施。", "CN:MOFCOM"),
        ("国务院关税税则委员会宣布对美国芯片加征关税。", "CN:CTC"),
    ],
)
def test_a_chinese_commerce_ministry_resolves_to_the_one_the_article_means(
    text: str, agency: str
) -> None:
    found = {a.id for a in tag_text(text).tags.agencies}
    assert agency in found and not found & {"CN:MOFCOM", "US:DOC", "CN:MOF", "CN:STATE_COUNCIL"} - {
        agency
    }


def test_agency_names_name_their_country() -> None:
    result = tag_text("The Dutch government ordered a review of the deal.")
    assert [c.id for c in result.tags.countries] == ["NL"]
    assert [a.id for a in result.tags.agencies] == ["NL:GOV"]


def test_commerce_resolves_by_the_country_that_qualifies_it() -> None:
    us = tag_text("The U.S. Commerce Department added 12 firms to its list.")
    cn = tag_text("China's Ministry of Commerce announced licences for gallium exports.")
    bare = tag_text("Commerce officials in Washington published the rule on Friday.")
    assert [a.id for a in us.tags.agencies] == ["US:DOC"]
    assert [a.id for a in cn.tags.agencies] == ["CN:MOFCOM"]
    assert [a.id for a in bare.tags.agencies] == ["US:DOC"]


def test_customs_without_a_country_takes_the_country_in_context() -> None:
    text = (
        "Beijing has tightened checks on chip imports. Customs officers at Shenzhen held "
        "several shipments of Nvidia parts on Monday."
    )
    assert [a.id for a in tag_text(text).tags.agencies] == ["CN:GAC"]
    us_text = "U.S. customs seized a container of graphics cards bound for Hong Kong."
    assert tag_text(us_text).tags.agencies == []


_ALPHABET = string.ascii_letters + string.digits + " .,'’-–\n" + "中国海关芯片"


@given(st.text(alphabet=_ALPHABET, max_size=300))
def test_every_mention_points_at_its_own_text(text: str) -> None:
    for mention in matcher().find(text):
        assert text[mention.start : mention.end] == mention.surface
        assert 0 <= mention.start < mention.end <= len(text)


@given(
    st.text(alphabet=string.ascii_lowercase + " ", max_size=60),
    st.sampled_from(["H200", "Ascend 910C", "RTX Pro 6000D", "MI308", "HBM3E"]),
    st.text(alphabet=string.ascii_lowercase + " ", max_size=60),
)
def test_a_chip_between_spaces_is_found_at_its_offset(before: str, chip: str, after: str) -> None:
    text = f"{before} {chip} {after}"
    found = [m for m in matcher().find(text) if m.kind == "chip"]
    assert [(m.key, m.start) for m in found] == [(chip, len(before) + 1)]


def test_fold_keeps_length() -> None:
    text = "İstanbul’s “quotes” – dash"
    assert len(fold(text)) == len(text)


_WORDS = st.sampled_from(
    [
        "China",
        "U.S.",
        "banned",
        "approved",
        "not",
        "H200",
        "customs",
        "the",
        "lifted",
        "Commerce",
        "Ministry",
        "of",
        "exports",
        "to",
        "Related",
        "articles",
        "Mr.",
        "?",
        "，",
        "商务部",
        "禁止",
        "Nvidia",
        "said",
        "would",
        "\n",
        ".",
        "'s",
        "Beijing's",
    ]
)


@given(st.lists(_WORDS, max_size=80), st.text(max_size=40))
def test_any_text_tags_without_error_and_evidence_points_into_it(
    words: list[str], title: str
) -> None:
    text = " ".join(words)
    result = tag_text(text, title=title)
    assert 0.0 <= result.relevance <= 1.0
    assert result.stance in ("restrict", "ease", "mixed", "none")
    for signal in result.signals:
        if signal.evidence_end:
            assert text[signal.evidence_start : signal.evidence_end] == signal.evidence
    for sentence in result.explanation.sentences:
        document = f"{title}\n\n{text}" if title.strip() else text
        assert document[sentence.start : sentence.end] == sentence.text


@cache
def _one_automaton() -> ahocorasick.Automaton:
    """Every form of the lexicon in one automaton, added in plain order: what the matcher
    scanned before its forms were split by script and added in lookup order."""
    single = ahocorasick.Automaton()
    for key, entry in sorted(
        item for automaton in (matcher()._narrow, matcher()._wide) for item in automaton.items()
    ):
        if entry != NO_FORM:
            single.add_word(key, entry)
    single.make_automaton()
    return single


def _one_automaton_hits(folded: str) -> list[tuple[int, object]]:
    return sorted(_one_automaton().iter(folded), key=repr)


_FORMS = sorted(
    key
    for automaton in (matcher()._narrow, matcher()._wide)
    for key, entry in automaton.items()
    if entry != NO_FORM
)
_MIXED_TEXT = st.lists(
    st.one_of(
        st.sampled_from(_FORMS),
        st.text(alphabet=string.ascii_letters + " .,'-" + "中国芯片禁令한국輸出", max_size=6),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=60)
@given(_MIXED_TEXT)
def test_forms_split_by_script_find_what_one_automaton_finds(text: str) -> None:
    """Latin and CJK/Hangul forms live in two automata (the second scanned only when the
    text holds such a character), the Latin ones added in lookup order with stops for
    frequent characters that start no form: the hits are exactly those of one automaton
    built plainly, in the same order."""
    folded = fold(text)
    assert sorted(matcher().hits(folded), key=repr) == _one_automaton_hits(folded)


@cache
def _plain_narrow() -> ahocorasick.Automaton:
    plain = ahocorasick.Automaton()
    for key, entry in sorted(matcher()._narrow.items()):
        if entry != NO_FORM:
            plain.add_word(key, entry)
    plain.make_automaton()
    return plain


@settings(max_examples=60)
@given(_MIXED_TEXT)
def test_forms_added_in_lookup_order_give_the_plain_hits_in_the_plain_order(text: str) -> None:
    folded = fold(text)
    assert list(matcher()._narrow.iter(folded)) == list(_plain_narrow().iter(folded))


def test_a_stop_for_a_character_that_starts_no_form_is_never_a_mention() -> None:
    text = "Nvidia , \0 H20 .\0\n\0"
    assert [m.key for m in matcher().find(text)] == ["Nvidia", "H20"]


def test_only_the_characters_looked_for_fold_into_wide_ones() -> None:
    """fold_and_width's one scan looks for wide characters and for the narrow ones whose
    lower case is wide: every other narrow character lower-cases to narrow ones."""
    narrow = (chr(c) for c in range(0x2E80) if not 0xD800 <= c < 0xE000)
    folding_wide = [c for c in narrow if _HAS_WIDE.search(c.lower())]
    assert folding_wide
    assert all(_MAY_FOLD_WIDE.match(c) for c in folding_wide)


_WIDTH_TEXT = st.text(
    alphabet=string.ascii_letters + " .,'’-" + "中國芯片禁令한국輸出ＨＨ２０ᎠᏔΣİé", max_size=60
)


@settings(max_examples=200)
@given(st.lists(st.one_of(st.sampled_from(_FORMS), _WIDTH_TEXT), max_size=12).map("".join))
def test_a_text_said_to_be_narrow_is_matched_as_if_looked_at(text: str) -> None:
    folded, wide = fold_and_width(text)
    assert folded == fold(text)
    if not wide:
        assert not _HAS_WIDE.search(text) and not _HAS_WIDE.search(folded)
    assert matcher().find(text, folded, wide) == matcher().find(text)


@pytest.mark.parametrize(
    ("japanese", "chinese"),
    [("反対", "反对"), ("経済", "经济"), ("関税", "关税"), ("県", "縣"), ("対中", "對中")],
)
def test_japanese_shinjitai_fold_as_their_chinese_characters_do(
    japanese: str, chinese: str
) -> None:
    assert fold(japanese) == fold(chinese)


def test_a_shinjitai_that_is_an_everyday_chinese_character_keeps_its_chinese_reading() -> None:
    # 予 (for 豫 in Japanese) is "to give" in Chinese; 研 is its own character in both
    assert fold("给予研究") == "给予研究"
