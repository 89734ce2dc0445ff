"""What an approval is about: money or a programme for industry is a subsidy (industrial
policy, none in the stance), sales, licences and exports stay an opening of trade.
Sentences written for these tests."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def _actions(text: str, title: str = "") -> set[str]:
    return {s.action for s in tag_text(text, title).signals if s.direction == "ease"}


@pytest.mark.parametrize(
    "text",
    [
        "Brussels approves 2 billion euros in state aid for a wafer plant in Saxony.",
        "The Union Cabinet on Wednesday approved the Programme for Semiconductor Fabs.",
        "Lawmakers in Hanoi allowed new high-tech funds for chip design this week.",
        "India's cabinet cleared a grant of 900 million dollars for the memory maker's fab.",
        "工信部周二批准了对芯片封装企业的专项资金。",
        "国务院批准设立半导体产业基金。",
    ],
)
def test_an_approval_of_money_for_industry_is_a_subsidy(text: str) -> None:
    assert _actions(text) == {"subsidy"}


@pytest.mark.parametrize(
    "text",
    [
        "Washington approved licences for chip sales to the fund's portfolio firms.",
        "The Commerce Department allowed exports of the accelerators to the project in Abu Dhabi.",
        "Beijing cleared the merger of the two chipmakers on Friday, regulators said.",
        "商务部周二批准向该芯片企业出口光刻胶。",
    ],
)
def test_an_approval_of_trade_stays_an_opening(text: str) -> None:
    actions = _actions(text)
    assert actions and "subsidy" not in actions


def test_a_story_whose_only_approval_is_a_programme_for_industry_has_no_stance() -> None:
    text = (
        "The European Commission said on Tuesday it had cleared a 3 billion euro programme "
        "for a chip packaging plant in Italy. The plant will make memory modules."
    )
    result = tag_text(text, "Brussels clears Italian programme for chip packaging plant")
    assert result.stance == "none"


@pytest.mark.parametrize(
    "text",
    [
        "Bruxelles autorise un régime d'aides de 7 milliards d'euros pour une usine de puces.",
        "La Comisión Europea aprueba una ayuda de 300 millones de euros para una fábrica de chips.",
    ],
)
def test_an_approval_of_aid_is_a_subsidy_in_other_languages_too(text: str) -> None:
    assert _actions(text) == {"subsidy"}
