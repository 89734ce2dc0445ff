"""Attribution: which government's move the article reports.

The reading ties each move to its government and says how (named after "by", reported
by another government, named only as a target, marked recent or recalled); the fitted
model weighs those per government. Like the stance decider, CI refits it from the
committed feature rows (enrich/model/training.jsonl: numbers and labels, no text).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrich.attribution import (
    ATTRIBUTION_FEATURES,
    ATTRIBUTION_FILE,
    AttributionModel,
    acting_government,
    candidate_features,
    load_attribution,
)
from enrich.decider import Move
from enrich.fit import TRAINING_FILE, attribution_rows, fit_attribution, load_rows
from enrich.stance import Weighted
from enrich.tag import TagResult, tag_text

pytest.importorskip("sklearn", reason="scikit-learn is a test extra (pip install -e '.[test]')")


def committed() -> AttributionModel:
    model = load_attribution(ATTRIBUTION_FILE)
    assert model is not None, f"{ATTRIBUTION_FILE} is missing or unreadable"
    return model


def move(government: str, direction: str, weight: float = 1.6, **flags: object) -> Move:
    up_front = bool(flags.pop("up_front", True))
    headline = bool(flags.pop("headline", False))
    background = bool(flags.pop("background", False))
    return Move(
        Weighted(direction, government, weight, up_front, headline, True),
        "reported",
        background,
        "export_control",
        **flags,  # type: ignore[arg-type]
    )


def test_features_describe_each_government_part_in_the_news() -> None:
    moves = [
        move("US", "ease", headline=True, source="agency", recent=True),
        move("CN", "restrict", 0.5, up_front=False, background=True, source="country"),
        move("CN", "ease", 0.8, up_front=False, source="article", targeted=True),
    ]
    features = candidate_features("ease", moves, "US", "US")
    us, cn = features["US"], features["CN"]
    assert set(us) == set(ATTRIBUTION_FEATURES)
    assert (us["main_news"], us["first_move"], us["headline"], us["recent_share"]) == (1, 1, 1, 1)
    assert us["share_news"] == pytest.approx(1.6 / 2.4)
    assert cn["share_opposite"] == 1.0  # the recalled restriction is CN's alone
    assert cn["targeted_share"] == 1.0 and cn["named_actor_share"] == pytest.approx(0.5 / 1.3)
    assert (cn["main_news"], cn["rules_pick"], cn["decider_pick"]) == (0, 0, 0)


def test_the_reading_marks_a_passive_agent() -> None:
    result = tag_text("Nvidia's H20 chips were barred by Washington from sale to China.")
    assert [(m.weighted.jurisdiction, m.by_agent) for m in result.moves] == [("US", True)]


@pytest.mark.parametrize(
    ("text", "government", "speaker"),
    [
        ("China's commerce ministry said the U.S. had imposed new curbs on chips.", "US", "CN"),
        (
            "The White House said China agreed to suspend its export controls on gallium "
            "used in chips.",
            "CN",
            "US",
        ),
    ],
)
def test_a_reported_move_belongs_to_the_government_in_the_reported_clause(
    text: str, government: str, speaker: str
) -> None:
    result = tag_text(text)
    assert [(m.weighted.jurisdiction, m.quoted_by) for m in result.moves] == [(government, speaker)]
    assert result.acting_jurisdiction == government


def test_a_speaker_with_no_other_government_after_it_is_the_actor() -> None:
    result = tag_text("Beijing said it would ban Micron chips in critical infrastructure.")
    assert [(m.weighted.jurisdiction, m.quoted_by) for m in result.moves] == [("CN", None)]


def test_a_government_named_only_as_the_origin_is_not_the_unnamed_actor() -> None:
    alone = tag_text("The anti-dumping probe targets analog chips imported from the US.")
    assert [m for m in alone.moves if m.weighted.jurisdiction == "US"] == []
    # the article's other government, named by its ministry up front, opened the probe
    article = tag_text(
        "China's commerce ministry opened two cases on Friday.\n\n"
        "Washington added 23 Chinese firms to its entity list last month. US officials said "
        "more would follow. US chipmakers sell billions of dollars of analog chips a year.\n\n"
        "The anti-dumping probe targets analog chips imported from the US."
    )
    assert [m.weighted.jurisdiction for m in article.moves if m.source == "article"] == ["CN"]


@pytest.mark.parametrize(
    ("opening", "middle"),
    [
        ("Wang Wentao met chip executives on Friday.", "US firms sell many chips, analysts say."),
        (
            "China's commerce ministry met chip executives on Friday.",
            "US firms sell many chips, US analysts say.",
        ),
    ],
)
def test_a_named_minister_or_qualified_ministry_makes_the_article_that_governments(
    opening: str, middle: str
) -> None:
    result = tag_text(
        f"{opening}\n\n{middle}\n\n"
        "Nvidia chips will no longer be allowed into the country from Monday."
    )
    assert [(m.weighted.jurisdiction, m.source) for m in result.moves] == [("CN", "article")]


def test_a_bare_commerce_is_washingtons_department() -> None:
    result = tag_text("Commerce said Nvidia won't be permitted to sell H20 chips to China.")
    assert [a.id for a in result.tags.agencies] == ["US:DOC"]
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "US")
    qualified = tag_text("China's Commerce said it would restrict gallium exports to the US.")
    assert qualified.acting_jurisdiction == "CN"


def test_same_day_markers_are_news_and_dated_past_is_background() -> None:
    today = tag_text("Earlier in the day, Tokyo tightened export controls on chip tools.")
    past = tag_text("In 2022, Tokyo tightened export controls on chip tools.")
    assert [(m.background, m.recent) for m in today.moves] == [(False, True)]
    assert [m.background for m in past.moves] == [True]
    assert (today.stance, today.acting_jurisdiction) == ("restrict", "JP")
    assert past.stance == "none"


def test_the_leader_who_promises_a_sale_is_the_one_acting() -> None:
    result = tag_text(
        "The US president told China's leader he would allow sales of Nvidia's H200 chips."
    )
    assert (result.stance, result.acting_jurisdiction) == ("ease", "US")


def test_the_weights_file_is_what_fit_gives_on_the_committed_rows() -> None:
    rows = load_rows(TRAINING_FILE)
    refitted = fit_attribution(rows)
    model = committed()
    assert refitted.features == model.features
    assert refitted.coef == pytest.approx(model.coef, abs=1e-6)
    for row in rows:
        candidates = row.get("candidates") or {}
        assert refitted.choose(candidates) == model.choose(candidates)


def test_fitting_is_deterministic_and_uses_only_real_choices() -> None:
    rows = load_rows(TRAINING_FILE)
    assert fit_attribution(rows) == fit_attribution(rows)
    x, y, weights = attribution_rows(rows)
    assert len(x) == len(y) == len(weights) and sum(y) >= 30  # one labelled government per choice
    assert all(len(r) == len(ATTRIBUTION_FEATURES) for r in x)


def test_a_model_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "jurisdiction.json"
    path.write_text(json.dumps({"model": committed().to_json()}), encoding="utf-8")
    assert load_attribution(path) == committed()


def test_without_readable_weights_the_deciders_pick_stands(tmp_path: Path) -> None:
    broken = tmp_path / "jurisdiction.json"
    broken.write_text("{not json", encoding="utf-8")
    assert load_attribution(broken) is None
    assert load_attribution(tmp_path / "absent.json") is None
    assert acting_government("none", [move("US", "ease")], "US", None) is None


def test_a_chinese_country_before_de_and_a_plain_noun_is_a_modifier() -> None:
    # "bowing to US pressure, the Dutch government announced controls"
    pressure = tag_text("荷兰政府屈服于美国的压力，宣布新的管制措施，限制阿斯麦光刻机对华出口。")
    own_move = tag_text("美国的出口管制限制阿斯麦光刻机对华出口。")
    assert pressure.acting_jurisdiction == "NL"
    assert own_move.acting_jurisdiction == "US"


def test_chinese_distances_are_counted_in_words_not_characters() -> None:
    # the ministry that speaks before the exemption grants it, not the government the
    # sentence blames after it
    result = tag_text(
        "中国商务部1日表示，充分考虑国内国际产业供应链的安全稳定，"
        "对符合条件的芯片出口予以豁免，并强调荷兰政府的干预导致了混乱。"
    )
    assert [(s.direction, s.jurisdiction) for s in result.signals] == [("ease", "CN")]
    assert result.read_stance == ("ease", "CN")


def test_a_named_trade_minister_stands_for_the_government() -> None:
    result = tag_text(
        "Minister Liesje Schreinemacher announced that ASML will no longer be allowed to "
        "export certain chip machines to China from September."
    )
    assert result.acting_jurisdiction == "NL"


def test_an_origin_in_traditional_script_does_not_make_the_article_that_governments() -> None:
    # a bare 商務部 is whichever government the article is about; the US is only the
    # origin of the goods (原產於, 自 ... 進口)
    result = tag_text(
        "北京專電：商務部宣布對原產於美國的進口模擬芯片進行反傾銷調查。"
        "申請調查產品自美國進口量大增。"
    )
    assert [a.id for a in result.tags.agencies] == ["CN:MOFCOM"]
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "CN")


@pytest.mark.parametrize("after", ["后", "之后", "以後"])
def test_a_chinese_clause_closed_by_after_is_what_set_off_the_news(after: str) -> None:
    result = tag_text(
        f"美国宣布将十九家中国芯片企业列入实体清单{after}，"
        "中国商务部宣布对美国模拟芯片发起反倾销调查。"
    )
    assert [(m.weighted.jurisdiction, m.background) for m in result.moves] == [
        ("US", True),
        ("CN", False),
    ]


def test_a_word_ending_in_hou_that_is_not_after_keeps_the_move_news() -> None:
    result = tag_text("美国将十九家中国芯片企业列入实体清单然后，中国商务部表示反对。")
    assert [m.background for m in result.moves if m.weighted.jurisdiction == "US"] == [False]


@pytest.mark.parametrize(
    ("text", "government"),
    [
        (
            "Beijing's move to restrict sales of Nvidia's H20 processor was prompted by "
            "remarks from the US commerce secretary.",
            "CN",
        ),
        (
            "Tokyo's decision to tighten exports of chip tools drew criticism from the US "
            "commerce secretary.",
            "JP",
        ),
    ],
)
def test_a_governments_own_move_noun_makes_it_the_actor(text: str, government: str) -> None:
    result = tag_text(text)
    assert [m.weighted.jurisdiction for m in result.moves] == [government]
    assert result.acting_jurisdiction == government


def test_the_government_named_by_its_kind_is_the_articles_government() -> None:
    opening = (
        "Tokyo tightened its screening of chip materials last month.\n\n"
        "US firms were not affected, analysts say.\n\n"
    )
    unnamed = tag_text(
        opening + "The government on Thursday approved the first export of photoresist."
    )
    partner = tag_text(
        opening + "The first export of photoresist was approved, after talks with officials."
    )
    assert [(m.weighted.jurisdiction, m.source) for m in unnamed.moves][-1] == ("JP", "authority")
    assert [(m.weighted.jurisdiction, m.source) for m in partner.moves][-1] == ("JP", "article")

    def confidence(result: TagResult) -> float:
        return max(s.confidence for s in result.signals if s.direction == "ease")

    assert confidence(unnamed) > confidence(partner)


@pytest.mark.parametrize(("side", "government"), [("日方", "JP"), ("韩方", "KR"), ("荷方", "NL")])
def test_a_chinese_side_word_names_that_government_as_actor(side: str, government: str) -> None:
    result = tag_text(f"{side}宣布限制23种芯片设备出口。")
    assert (result.stance, result.acting_jurisdiction) == ("restrict", government)


@pytest.mark.parametrize(
    ("text", "government"),
    [
        ("Pékin a interdit les exportations de gallium vers le Japon.", "CN"),
        ("Peking verbietet die Ausfuhr von Gallium nach Japan.", "CN"),
        ("La Haya restringe las exportaciones de máquinas de litografía.", "NL"),
        ("워싱턴이 중국에 대한 반도체 장비 수출 통제를 강화했다.", "US"),
        ("华府宣布限制对华出口先进芯片。", "US"),
    ],
)
def test_a_capital_in_any_language_stands_for_its_government(text: str, government: str) -> None:
    result = tag_text(text)
    assert [m.weighted.jurisdiction for m in result.moves][:1] == [government]


@pytest.mark.parametrize(
    "text",
    [
        "L'exportation des puces H20 a été interdite par la Chine.",
        "La exportación de los chips H20 fue prohibida por China.",
    ],
)
def test_a_passive_agent_in_another_language_is_the_actor(text: str) -> None:
    result = tag_text(text)
    assert [m.by_agent for m in result.moves] == [True]


def test_a_country_a_measure_is_aimed_at_is_not_its_actor() -> None:
    result = tag_text(
        "Japan tightened its rules for chip tools on Friday.\n\n"
        "The officials said the new export curbs targeting China cover 23 tools."
    )
    assert [(m.weighted.jurisdiction, m.source) for m in result.moves] == [
        ("JP", "country"),
        ("JP", "authority"),
    ]


def test_a_korean_country_before_a_noun_qualifies_it_and_does_not_act() -> None:
    result = tag_text("일본, 한국 반도체 소재 수출규제 해제")
    assert (result.stance, result.acting_jurisdiction) == ("ease", "JP")


def test_a_chinese_country_after_an_object_marker_is_what_the_move_is_aimed_at() -> None:
    result = tag_text("中国商务部宣布，将美国一家芯片公司列入不可靠实体清单。")
    assert [m.weighted.jurisdiction for m in result.moves] == ["CN"]


def test_the_government_of_the_clause_that_set_off_the_news_does_not_speak_for_it() -> None:
    result = tag_text(
        "美国上周宣布将多家中国芯片企业列入实体清单后，中国商务部昨天也宣布，"
        "将一家美国半导体企业列入不可靠实体清单。"
    )
    assert [(m.weighted.jurisdiction, m.quoted_by, m.background) for m in result.moves] == [
        ("US", None, True),
        ("CN", None, False),
    ]
    assert result.acting_jurisdiction == "CN"


def test_the_move_a_government_retaliates_against_is_background() -> None:
    result = tag_text(
        "China banned exports of gallium on Tuesday, responding to US export curbs on chips."
    )
    assert [m.background for m in result.moves] == [False, True]


def test_a_government_whose_only_actor_is_a_research_body_is_marked() -> None:
    report = Move(
        Weighted("restrict", "US", 2.0, True, False, True), "reported", False, "", "US:CRS"
    )
    curb = Move(
        Weighted("restrict", "CN", 1.0, True, False, True), "official", False, "", "CN:MOFCOM"
    )
    candidates = candidate_features("restrict", [report, curb], None, None)
    assert candidates["US"]["research_only"] == 1.0
    assert candidates["CN"]["research_only"] == 0.0
