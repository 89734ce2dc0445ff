"""Chip names of new events: models listed by their number alone, series named before the
model, suffix letters on phone chips, processor code names, vendors written in other
scripts, and given names that are also product names. Every model and sentence here is
invented."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def chip_tags(text: str) -> list[str]:
    return [c.id for c in tag_text(text).tags.chips]


@pytest.mark.parametrize(
    ("text", "chips"),
    [
        # siblings named by their number after a full model name, in several languages
        (
            "AMD lanzó los Ryzen 9 9960X y 9980X para estaciones de trabajo.",
            ["Ryzen 9 9960X", "Ryzen 9 9980X"],
        ),
        ("AMD launches the Ryzen 7 9750X and 9770X chips.", ["Ryzen 7 9750X", "Ryzen 7 9770X"]),
        ("联发科推出天玑9600、9650两款芯片。", ["Dimensity 9600", "Dimensity 9650"]),
        # another generation's number, or a year, is no sibling
        ("Nvidia's RTX 6090 and 2031 sales rose.", ["RTX 6090"]),
        # a series word before the model, as Spanish and French write it
        (
            "Qualcomm presentó el Snapdragon 8 Elite Gen 7, de la nueva serie Snapdragon 8.",
            ["Snapdragon 8 Elite Gen 7"],
        ),
        ("Qualcomm dévoile la série Snapdragon 7 pour les mobiles.", ["Snapdragon 7"]),
        # phone chips keep the suffix letter as written
        ("MediaTek unveiled the Dimensity 9700s for phones.", ["Dimensity 9700s"]),
        # processor code names, in a text about Intel, with no model named
        (
            "Intel will show its Cobalt Lake processors, after Panther Lake chips sold well.",
            ["Panther Lake"],
        ),
        ("Intel's Granite Rapids server processors ship to clouds.", ["Granite Rapids"]),
        ("インテルは次世代CPU(開発コード名:Nova Lake)を発表した。", ["Nova Lake"]),
        ("The Lunar Lake festival opened by the water.", []),  # no Intel, no processor
        # Nvidia's CPU named Vera, and Vera the given name
        ("Nvidia paired the Vera CPU with its new GPUs.", ["Vera"]),
        ("Vera Lynn sang for the Nvidia staff.", []),
        # a person the product is named after is no product
        ("Nvidia's chip family is named as in the computer scientist Grace, not a CPU.", []),
    ],
)
def test_new_events_chip_names(text: str, chips: list[str]) -> None:
    assert chip_tags(text) == chips


def test_vendors_named_in_other_scripts_gate_their_family_words() -> None:
    assert chip_tags("화웨이의 Kirin 칩 생산이 중단됐다.") == ["Kirin"]
    assert chip_tags("Kirin 칩 생산이 중단됐다.") == []
