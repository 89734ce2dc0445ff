"""Government moves real news reports and the reading used to miss or read backwards, on
sentences written for these tests: a privilege withdrawn restricts, a state takeover of
a company restricts and handing it back eases, a ceiling on a duty eases, a licence
gained in return for a payment eases, chip materials and critical minerals are on topic."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text
from tests.cuekit import live_cues


def directions(text: str) -> set[str]:
    return {d for _, d in live_cues(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Washington revoked the validated end-user status of two memory fabs in Wuxi on Friday.",
        "The export licences of three Dutch tool makers were suspended by the ministry today.",
        "美国商务部周五宣布撤销两家存储芯片工厂的“验证最终用户”（VEU）豁免资格。",
        "미국 상무부는 29일 두 메모리 공장의 VEU 지위를 철회한다고 발표했다.",
        "経済産業省は7日、半導体メーカー2社の包括許可を取り消したと発表した。",
        "Die niederländische Regierung hat dem Chipwerk die Lizenz entzogen, teilte sie mit.",
    ],
)
def test_a_withdrawn_privilege_restricts(text: str) -> None:
    assert directions(text) == {"restrict"}


def test_a_withdrawing_verb_still_undoes_a_restriction_before_the_privilege() -> None:
    cues = live_cues("Canada's trade ministry ended the ban on licences for wafer exports today.")
    assert ("ban on", "ease") in cues and all(d == "ease" for _, d in cues)


def test_a_licence_inside_a_requirement_is_no_privilege() -> None:
    assert directions("Ottawa removed licence requirements for wafer exports on Monday.") == {
        "ease"
    }


@pytest.mark.parametrize(
    "text",
    [
        "The Dutch government took control of the wafer maker on Sunday, citing security.",
        "Le gouvernement néerlandais a pris le contrôle du fabricant de puces dimanche.",
        "Die niederländische Regierung übernimmt die Kontrolle beim Chiphersteller, hieß es.",
        "El gobierno neerlandés tomó el control del fabricante de semiconductores el domingo.",
        "荷兰政府周日宣布对这家芯片厂实施行政接管。",
    ],
)
def test_a_state_takeover_restricts(text: str) -> None:
    assert "restrict" in directions(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Dutch government handed control back to the wafer maker's owner on Monday.",
        "El gobierno neerlandés devolvió el control del fabricante de semiconductores a su matriz.",
        "荷兰政府周一宣布暂停根据《供应法》（Supply Act）对该芯片厂发出的接管命令。",
    ],
)
def test_handing_control_back_eases(text: str) -> None:
    assert directions(text) == {"ease"}


@pytest.mark.parametrize(
    "text",
    [
        "Under the pact, Ottawa will cap tariffs on Korean wafers at no more than 10%.",
        "Canadian duties on Korean wafers will be capped at 10% under the new framework.",
        "Canada's framework sets a 10% tariff ceiling for most Korean goods, wafers included.",
    ],
)
def test_a_ceiling_on_a_duty_eases(text: str) -> None:
    assert directions(text) == {"ease"}


def test_a_cap_without_a_tariff_stays_a_quota() -> None:
    assert directions("Ottawa will cap exports of wafer tools to Ruritania from May.") == {
        "restrict"
    }


def test_a_licence_gained_in_return_for_a_payment_eases() -> None:
    text = "In return, the two chip designers will gain export licences from Washington."
    assert directions(text) == {"ease"}


@pytest.mark.parametrize(
    "text",
    [
        "China imposed export controls on tungsten and indium items on Tuesday.",
        "China opened an anti-dumping probe into imported dichlorosilane on Wednesday.",
        "中国商务部7日、日本産ジクロロシランに対する反ダンピング調査を開始した。",
    ],
)
def test_chip_materials_and_minerals_are_on_topic(text: str) -> None:
    result = tag_text(text, "")
    assert result.stance == "restrict"


@pytest.mark.parametrize(
    "text",
    [
        "China gewährt Ausnahmen beim Exportverbot für Chips, teilte das Ministerium mit.",
        "La Chine accorde des dérogations à son interdiction d'exporter des puces.",
        "China concede exenciones a su prohibición de exportar semiconductores.",
    ],
)
def test_an_exemption_undoes_the_ban_it_is_granted_from(text: str) -> None:
    assert directions(text) == {"ease"}
