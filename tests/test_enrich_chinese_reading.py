"""Chinese reading: words of easing, conditions, concessions and denials, on sentences
written for these tests. Each test fails when its word class is missing from cues.yaml."""

from __future__ import annotations

import pytest

from enrich.eval import SIGNAL_CONFIDENCE
from enrich.tag import tag_text


def moves(text: str) -> set[tuple[str, str, str]]:
    """(direction, government, action) of each signal an alert would carry."""
    return {
        (s.direction, s.jurisdiction, s.action)
        for s in tag_text(text).signals
        if s.confidence >= SIGNAL_CONFIDENCE
    }


@pytest.mark.parametrize(
    ("text", "move"),
    [
        # loosening a restriction named after it is an easing, not the restriction
        ("美国政府宣布放松对华为的出口限制。", ("ease", "US", "export_approval")),
        ("日本政府宣布解禁对韩国的半导体材料出口。", ("ease", "JP", "export_approval")),
        # lowering a duty, with words between the verb and the duty
        ("中国国务院关税税则委员会宣布下调部分芯片进口关税。", ("ease", "CN", "tariff")),
        ("欧盟决定减免部分半导体设备的关税。", ("ease", "EU", "tariff")),
        # deferring a duty eases it
        ("美国政府宣布延后对中国芯片加征关税。", ("ease", "US", "tariff")),
        # the entity list as Taiwan and Hong Kong outlets name it (名单, not 清单)
        ("美国商务部将46家华为子公司列入实体名单。", ("restrict", "US", "entity_list")),
    ],
)
def test_chinese_easing_and_listing_words_read_their_direction(
    text: str, move: tuple[str, str, str]
) -> None:
    assert moves(text) == {move}


@pytest.mark.parametrize(
    "text",
    [
        "如果美国禁止出口H20芯片，英伟达将损失数十亿美元收入。",  # if
        "即使美国批准出口，中国企业也未必购买H200芯片。",  # even if
        "专家认为，美国将进一步收紧对华芯片出口管制。",  # an expert's view
    ],
)
def test_a_chinese_condition_or_commentary_is_no_move_to_alert_on(text: str) -> None:
    assert moves(text) == set()
    assert tag_text(text).stance == "none"


def test_a_chinese_denial_reports_no_move() -> None:
    result = tag_text("商务部否认将对美国芯片加征关税。")
    assert result.signals == []
    assert result.stance == "none"


def test_the_measure_conceded_in_a_chinese_clause_is_not_the_news() -> None:
    result = tag_text("尽管美国批准了H20出口，中国海关禁止进口该芯片。")
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "CN")
    weights = {s.direction: s.confidence for s in result.signals}
    assert weights["ease"] < weights["restrict"]


def test_a_chinese_approval_still_pending_is_talk_not_news() -> None:
    result = tag_text(
        "据知情人士透露，美国政府批准英伟达向中国出售H200芯片的许可，但最终事宜仍悬而未决。"
    )
    assert result.features["frame_unconfirmed"] == 1.0
    assert result.stance == "none"
    assert all(s.confidence < SIGNAL_CONFIDENCE for s in result.signals)


def test_one_hand_other_hand_is_chinese_prose_not_a_two_way_story() -> None:
    commentary = tag_text(
        "一方面，中方坚决反对美国的出口管制；另一方面，中方希望荷方重回正确轨道。"
    )
    assert commentary.features["frame_two_way"] == 0.0
    two_way = tag_text("美国对华芯片政策一松一紧：放宽H20出口，同时收紧设备管制。")
    assert two_way.features["frame_two_way"] == 1.0


def test_a_chinese_tariff_with_an_exception_is_read_both_ways() -> None:
    text = "特朗普表示将对进口芯片征收100%关税，但对在美国建厂的企业给予例外。"
    assert moves(text) == {("restrict", "US", "tariff"), ("ease", "US", "tariff")}


@pytest.mark.parametrize(
    ("text", "agencies"),
    [
        # the bureau named inside its department: both, as in English
        ("美国商务部工业与安全局发布新规。", {"US:DOC", "US:BIS"}),
        ("美國商務部工業和安全局（BIS）發布新規。", {"US:DOC", "US:BIS"}),
        # a bare house of Congress in a Washington story; Japan's Diet is none of ours
        ("美国总统签署行政令后，众议院周三通过法案，限制对华芯片出口。", {"US:CONGRESS"}),
        ("日本国会通过了经济安全法案。", set()),
    ],
)
def test_chinese_agency_names(text: str, agencies: set[str]) -> None:
    assert {a.id for a in tag_text(text).tags.agencies} == agencies
