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


@pytest.mark.parametrize(
    ("language", "text", "actor"),
    [
        # the firm before the approval received it: the authority named in the sentence acts
        ("ko", "메모리 업체 한빛반도체가 중국 당국으로부터 반도체 공장 인수 승인을 받았다.", "CN"),
        ("ko", "한빛반도체가 미국 정부의 반도체 장비 반입 허가를 획득했다고 밝혔다.", "US"),
        (
            "ja",
            "半導体メーカーの東光電子は、中国当局から工場買収の承認が得られたと発表した。",
            "CN",
        ),
        ("ja", "東光電子は米国政府から半導体装置の輸出許可を取得した。", "US"),
    ],
)
def test_a_firm_receiving_an_approval_eases_for_the_authority(
    language: str, text: str, actor: str
) -> None:
    signals = tag_text(text).signals
    assert {(s.direction, s.jurisdiction) for s in signals} == {("ease", actor)}, language


def test_a_licence_needed_first_in_japanese_is_a_requirement() -> None:
    text = "日本政府は半導体製造装置の輸出に経済産業省の許可を得る必要があるとした。"
    assert {s.direction for s in tag_text(text).signals} == {"restrict"}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ko", "수원지검은 반도체 공정 기술을 해외로 빼돌린 삼성전자 전 직원을 구속 기소했다."),
        (
            "ko",
            "서울경찰청은 반도체 설계 자료 유출 혐의로 삼성전자 전 연구원의 구속영장을 신청했다.",
        ),
        ("ja", "警察は半導体の製造技術を中国企業に漏らしたとしてキオクシアの元社員を逮捕した。"),
    ],
)
def test_an_arrest_or_indictment_over_a_leak_restricts_and_no_firm_makes_it(
    language: str, text: str
) -> None:
    signals = tag_text(text).signals
    assert signals and {s.direction for s in signals} == {"restrict"}, language


@pytest.mark.parametrize(
    "text",
    [
        "반도체 업계 소식을 전합니다. <저작권자 ⓒ 한빛일보, 무단전재 및 재배포 금지>",
        "반도체 업계 소식을 전합니다. 무단 전재 및 재배포, AI학습 이용금지",
        "半導体業界の話題をお伝えします。無断転載を禁じます。",
    ],
)
def test_the_press_copyright_line_forbids_nothing(text: str) -> None:
    assert not tag_text(text).signals


def test_a_technology_made_a_korean_national_core_technology_restricts() -> None:
    text = "산업통상자원부는 첨단 반도체 패키지 기술을 국가핵심기술로 신규 지정한다고 밝혔다."
    assert tag_text(text).read_stance == ("restrict", "KR")
