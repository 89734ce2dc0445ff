"""Word classes of the stance reading, on sentences written for these tests: lessening,
putting off, zero rates and privileges ease; undoing verbs reach past an aside; German
nouns are cues wherever they stand."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text
from tests.cuekit import live_cues


@pytest.mark.parametrize(
    "text",
    [
        "Japan's finance ministry said on Friday it will cut tariffs on imported wafers to 5%.",
        "Brazil lowered the 20% tariff on memory modules this week, officials said.",
        "In India, wafer tariffs were cut by the cabinet on Tuesday.",
    ],
)
def test_a_lessened_restriction_eases(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"ease"}


def test_a_lessening_verb_reaches_only_the_restriction_right_after_it() -> None:
    text = (
        "China cut funding for the port and, in a separate statement, said its "
        "export controls on gallium stay."
    )
    assert ("export controls", "restrict") in live_cues(text)


@pytest.mark.parametrize(
    "text",
    [
        "India's commerce ministry said the new duty on legacy wafers is set at 0% for now.",
        "Malaysia said finished modules would stay duty-free under the new scheme.",
        "The Dutch government announced a 90-day reprieve for exporters of lithography parts.",
        "Tokyo said on Friday it will put Seoul back on its white list of trusted buyers.",
    ],
)
def test_zero_rates_deferrals_and_privileges_ease(text: str) -> None:
    assert "ease" in {d for _, d in live_cues(text)}


@pytest.mark.parametrize(
    "text",
    [
        "The EU General Court on Wednesday annulled the antitrust fine on the modem maker.",
        "A South Korean appeals court quashed the penalty on the memory maker on Friday.",
        "A U.S. court struck down the import ban on the wafer supplier's tools on Monday.",
        "欧盟法院周三推翻了欧盟委员会对该芯片设计企业的罚款。",
    ],
)
def test_a_court_undoing_a_fine_or_ban_eases(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"ease"}


def test_a_fine_set_by_a_regulator_restricts_in_chinese_too() -> None:
    assert {d for _, d in live_cues("欧盟委员会周三对该芯片设计企业处以罚款。")} == {"restrict"}


def test_removing_a_partner_from_the_white_list_restricts() -> None:
    cues = live_cues("The cabinet removed Korea from the white list of trusted buyers on Monday.")
    assert ("white list", "restrict") in cues


def test_a_suspension_of_a_measure_eases_and_an_aside_does_not_hide_its_object() -> None:
    plain = "Canada announced the suspension of the tariffs on chips on Monday."
    assert {d for _, d in live_cues(plain)} == {"ease"}
    aside = "Japan said it is suspending, for a period of six months, the chip licensing rule."
    assert {d for _, d in live_cues(aside)} == {"ease"}


def test_delisting_from_a_blacklist_eases() -> None:
    cues = live_cues("Commerce said it delisted two Dutch firms from the entity list on Monday.")
    assert {d for _, d in cues} == {"ease"}


def test_a_capitalised_word_of_a_name_in_the_body_undoes_nothing() -> None:
    text = (
        "Chip exports fell. Washington said the Military End-User restrictions now apply "
        "to three more chip firms."
    )
    assert ("restrictions", "restrict") in live_cues(text)


def test_a_german_noun_cue_counts_inside_a_body_sentence() -> None:
    text = "Berlin äußerte sich am Montag. Das Ministerium verhängt ein Verbot für die Ausfuhr."
    assert ("Verbot", "restrict") in live_cues(text)


def test_a_cue_during_a_period_is_a_state() -> None:
    result = tag_text("Officials said. During the freeze, exporters may apply for permits.")
    outcomes = {(c.surface, c.outcome) for s in result.explanation.sentences for c in s.cues}
    assert ("freeze", "state") in outcomes


def test_a_deferral_after_a_restriction_puts_it_off_as_a_move_of_its_own() -> None:
    text = "Canada will impose new tariffs on Chinese chips but postponed them until 2027."
    assert live_cues(text) == [("impose", "restrict"), ("postponed", "ease")]


def test_a_tariff_level_of_zero_eases() -> None:
    text = "India set a new tariff on imported wafers with an initial level of 0%, officials said."
    assert ("of 0%", "ease") in live_cues(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Commerce Department on Tuesday widened the military end-user rule to cover tools.",
        "Commerce said end-user certificates are now needed under the rule on chip orders.",
        "Seoul said at the end of the talks that its ban on wafer tool sales stays in force.",
    ],
)
def test_a_reversal_verb_inside_a_noun_or_a_time_phrase_undoes_nothing(text: str) -> None:
    assert "ease" not in {d for _, d in live_cues(text)}


def test_a_withdrawing_verb_inside_a_privilege_name_still_withdraws_it() -> None:
    text = "The Commerce Department on Tuesday revoked the validated end-user status of two fabs."
    assert {d for _, d in live_cues(text)} == {"restrict"}


@pytest.mark.parametrize(
    "text",
    [
        "The Commerce Department has stopped issuing licences for chip sales to Qingshan.",
        "Commerce told chipmakers it will no longer approve licences for sales to Qingshan.",
        "商务部已停止发放对青山公司出口芯片的许可证。",
    ],
)
def test_ceasing_to_grant_a_permission_restricts(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"restrict"}


@pytest.mark.parametrize(
    "text",
    [
        "商务部表示，对原产于青山国的部分存储芯片豁免关税。",
        "青山国商务部宣布暂免部分芯片设备的出口管制许可要求。",
    ],
)
def test_a_chinese_exemption_undoes_the_restriction_it_names(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"ease"}


def test_a_chinese_exemption_inside_a_new_tariff_stays_its_carve_out() -> None:
    text = "美国对芯片征收100%关税，但在美国建厂的企业可获豁免。"
    assert ("关税", "restrict") in live_cues(text)


def test_a_move_on_chip_materials_is_about_chips_in_a_longer_story() -> None:
    background = " ".join(
        f"Officials from both sides met for round {n} of talks on trade in general."
        for n in range(1, 21)
    )  # about 280 words: a passing subject word alone is not enough
    result = tag_text(
        "Japan's trade ministry on Monday lifted the licence requirement on photoresist "
        f"shipments to South Korea, officials said. {background}",
        "Tokyo lifts a licence rule on sales to Seoul",
    )
    assert result.features["about_chips"] == 1
    assert result.stance == "ease"


@pytest.mark.parametrize(
    "text",
    [
        "Commerce said its rule extends licence requirements to affiliates of chip firms.",
        "Commerce renewed the licence requirement for chip tool exports to Qingshan on Monday.",
    ],
)
def test_extending_a_licence_requirement_restricts(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"restrict"}


def test_extending_a_licence_itself_eases() -> None:
    assert live_cues("Commerce extended the licence for Qingshan's chip plant for a year.") == [
        ("extended", "ease")
    ]


def test_approved_designers_describe_who_not_a_move() -> None:
    text = "Commerce said the rule sets lists of approved designers and licensed packagers."
    assert live_cues(text) == []


def test_a_bare_maximum_on_a_duty_is_a_ceiling() -> None:
    text = "The EU said on Sunday the deal sets a 15% maximum US tariff on chips from Europe."
    assert live_cues(text) == [("tariff", "ease")]


@pytest.mark.parametrize(
    "text",
    [
        "The US will impose a maximum 25% tariff on chips from May, Commerce said.",
        "The US will impose tariffs capped at 25% on chips from May, Commerce said.",
    ],
)
def test_a_ceiling_on_a_duty_being_levied_is_its_level(text: str) -> None:
    assert {d for _, d in live_cues(text)} == {"restrict"}


def test_a_change_away_from_a_restriction_eases() -> None:
    text = (
        "Commerce said its rule changes the licence policy for memory chips, including "
        "Qingshan's, from a presumption of denial to case-by-case review."
    )
    assert live_cues(text) == [("presumption of denial", "ease")]
