"""Reading Japanese and Korean news, whose verb comes last, on sentences written for these
tests: who acts, how sure the move is, where a sentence ends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich import lexicon
from enrich.folding import fold
from enrich.tag import tag_text
from enrich.text import split_sentences


@pytest.mark.parametrize(
    "text",
    [
        # a headline's subject, a comma, then the company whose status is taken back
        "美 상무부, 삼성 VEU 지위 철회",
        # the company's status is the object, the agency after it the one acting
        "삼성전자 중국법인의 VEU 지위를 미국 상무부가 철회했다.",
        # the government after the cue speaks in a clause of its own
        "미국 상무부가 지난주 금요일(현지시간) 삼성전자의 메모리 공장에 부여했던 검증된 "
        "최종사용자(VEU) 지위를 철회한 데 대해 우리 정부가 협의하겠다고 밝혔다.",
        # the country of a company's unit is where it is, not who acts
        "미국 상무부는 어제 반도체 장비 수출과 관련해 삼성전자 중국법인과 SK하이닉스 "
        "중국법인의 VEU 지위를 철회한다고 발표했다.",
    ],
)
def test_withdrawing_a_korean_company_s_status_is_washington_s_move(text: str) -> None:
    assert tag_text(text).read_stance == ("restrict", "US")


def test_a_government_after_the_cue_in_japanese_is_another_clause_s_subject() -> None:
    text = (
        "米商務省が先週、サムスン電子とSKハイニックスの中国にある半導体工場に与えていた"
        "認定を取り消したことについて、韓国政府は協議すると述べた。"
    )
    assert tag_text(text).read_stance == ("restrict", "US")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ja", "日本政府は半導体製造装置の輸出を規制する方針だ。"),
        ("ja", "経済産業省は先端半導体の輸出を規制する予定だ。"),
        ("ko", "한국 정부는 반도체 장비 수출을 제한할 방침이다."),
        ("ko", "산업통상자원부는 반도체 소재 수출을 제한할 예정이다."),
    ],
)
def test_a_plan_written_after_the_verb_is_a_proposal(language: str, text: str) -> None:
    certainties = {s.certainty for s in tag_text(text).signals}
    assert certainties == {"proposed"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ja", "日本政府は半導体製造装置の輸出を規制した。その方針は変わらない。"),
        ("ko", "한국 정부는 반도체 장비 수출을 제한했다. 이 방침은 바뀌지 않는다."),
    ],
)
def test_a_plan_word_in_the_next_sentence_hedges_nothing(language: str, text: str) -> None:
    assert "proposed" not in {s.certainty for s in tag_text(text).signals}, language


def test_every_cjk_mark_of_a_language_file_is_read_in_folded_text() -> None:
    """Kanji fold to simplified Chinese (工場 -> 工场): a mark is compared with folded
    text, so one written as a Japanese word must still match it."""
    lex = lexicon.load_lexicon()
    for word in ("工場", "製品", "産業", "拠点"):
        assert ("中国" + fold(word)).removeprefix("中国").startswith(lex.cjk_attributive)
    assert fold("側は").startswith(lex.subject_marks)


_HANGUL = st.text(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=2, max_size=6)
# (a lone syllable before a full stop would read as an initial, as "J." does)


@given(st.lists(st.lists(_HANGUL, min_size=1, max_size=4), min_size=1, max_size=5))
def test_a_korean_full_stop_ends_a_sentence_with_or_without_a_space(
    sentences: list[list[str]],
) -> None:
    written = [" ".join(words) + "." for words in sentences]
    text = "".join(written)  # the space after each full stop dropped, as pages do
    found = [s.text for s in split_sentences(text)]
    assert found == written


@pytest.mark.parametrize(
    ("language", "text", "actor"),
    [
        ("ja", "政府は来週、ロシアに対する半導体の輸出禁止を閣議決定した。", "JP"),
        ("ko", "정부는 러시아에 대한 반도체 수출 금지를 발표했다.", "KR"),
    ],
)
def test_a_bare_government_word_is_the_text_s_own_government(
    language: str, text: str, actor: str
) -> None:
    assert tag_text(text).read_stance == ("restrict", actor), language
