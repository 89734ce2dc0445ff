"""Enforcement read as a government's restricting move, on sentences written for these
tests: a charge, plea, fine or raid names the firm it is aimed at before it, and that firm
is not the one acting; a news agency's name in a dateline asks no government for anything."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text
from tests.cuekit import live_cues


@pytest.mark.parametrize(
    "text",
    [
        "Wafer maker Lumora Semiconductor pleaded guilty in a federal court in Boston on "
        "Tuesday to shipping etching tools to a listed Chinese fab, U.S. prosecutors said.",
        "Lumora Semiconductor agreed to pay a civil penalty of $3 million to the Commerce "
        "Department for exporting chip tools without a licence, the department said.",
        "Korean prosecutors on Monday indicted a former Lumora Semiconductor engineer for "
        "taking DRAM process data to a chipmaker in China.",
        "韩国检方周一起诉了一名前芯片企业工程师，指控其向中国泄露芯片工艺技术。",
    ],
)
def test_a_charge_plea_or_penalty_restricts(text: str) -> None:
    assert "restrict" in {d for _, d in live_cues(text)}, live_cues(text)


def test_the_firm_penalised_is_not_the_one_acting() -> None:
    result = tag_text(
        "Lumora Semiconductor pleaded guilty to exporting chipmaking tools to a listed "
        "Chinese fab and will pay a $40 million fine, the Justice Department said on Friday.",
        "U.S. fines chip-tool maker for shipments to Chinese fab",
    )
    assert result.stance == "restrict"
    assert result.acting_jurisdiction == "US"


def test_a_news_agency_name_in_a_dateline_lobbies_no_one() -> None:
    text = (
        "Tokyo, May 4 (Jiji Press) - Taiwan prosecutors on Monday indicted the local unit "
        "of a Japanese chip-tool maker over leaked 2-nanometre process data."
    )
    assert ("indicted", "restrict") in live_cues(text)


def test_a_lobbying_verb_still_governs_a_move_it_asks_for() -> None:
    text = "U.S. officials pressed the Netherlands to curb exports of chipmaking tools to China."
    assert ("curb", "restrict") not in live_cues(text)


def test_officials_telling_firms_not_to_place_orders_restricts() -> None:
    text = (
        "Chinese officials told tech companies not to place purchase orders for Nvidia's "
        "H200 chips this week, people familiar with the matter said."
    )
    assert ("not to place purchase orders", "restrict") in live_cues(text)


@pytest.mark.parametrize("verb", ["bagged", "clinched", "landed", "secures", "earned"])
def test_a_firm_receiving_an_approval_did_not_grant_it(verb: str) -> None:
    text = (
        f"Taiwan-based TSMC {verb} the Taiwanese government's approval for a further "
        "$2 billion injection into its Arizona chip plant on Monday."
    )
    assert ("approval", "ease") in live_cues(text)
