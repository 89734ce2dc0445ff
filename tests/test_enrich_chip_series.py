"""Chip-model grammar on new events: generations and series beside their models, brand
words in ids, surnames that are also generation names, and model codes written with
Chinese numerals. Every name and sentence here is invented (models not in chips.yaml)."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def chip_tags(text: str) -> list[str]:
    return [c.id for c in tag_text(text).tags.chips]


@pytest.mark.parametrize(
    ("text", "chips"),
    [
        # a generation beside one of its models: the model only
        ("The rule covers AMD's Instinct MI600 line and its upcoming MI680X.", ["MI680X"]),
        # a bare model number beside its suffixed variants names their series
        (
            "AMD described the Instinct MI470 accelerator: the MI470X is air-cooled, "
            "the MI475X liquid-cooled.",
            ["MI470X", "MI475X"],
        ),
        # other generations stay: the MI500 is no series of the MI300X
        ("AMD compared the MI500 with the older MI300X.", ["MI500", "MI300X"]),
        # a series named alone is the chip
        ("AMD will ship the Instinct MI700 accelerator next year.", ["MI700"]),
    ],
)
def test_a_generation_or_series_is_tagged_only_without_its_models(
    text: str, chips: list[str]
) -> None:
    assert chip_tags(text) == chips


@pytest.mark.parametrize(
    ("text", "chips"),
    [
        ("AMD priced the Radeon RX 9080 XT below its rival.", ["RX 9080 XT"]),
        ("The RX 8700 GRE graphics card reached Chinese shops.", ["RX 8700 GRE"]),
        (
            "Qualcomm showed the Snapdragon X3 Elite Extreme for laptops.",
            ["Snapdragon X3 Elite Extreme"],
        ),
        ("Apple's new iPad gets the C2 modem and the M7 chip.", ["C2", "M7"]),
    ],
)
def test_models_are_named_as_labelled(text: str, chips: list[str]) -> None:
    assert chip_tags(text) == chips


@pytest.mark.parametrize(
    "text",
    [
        "The RX 7000 form was filed with the pharmacy on Monday.",  # a prescription form
        "Carter Blackwell's export practice team advised the client on the sanctions.",
        "Grace Hopper's export licence essay was reprinted.",
        "Apple moved its C3 parking lot next to the campus.",  # no modem word
    ],
)
def test_words_that_look_like_chip_names_but_are_not(text: str) -> None:
    assert chip_tags(text) == []


def test_a_generation_name_still_counts_beside_a_chip_word() -> None:
    assert chip_tags("Exports of Blackwell chips stay banned; Hopper GPUs need a licence.") == [
        "Blackwell",
        "Hopper",
    ]


@pytest.mark.parametrize(
    ("text", "chips"),
    [
        ("美方只准出口輝達ＧＢ四○○繪圖處理器給盟友。", ["GB400"]),
        ("新規自二○二六年起適用於輝達Ｂ三○Ａ晶片。", ["B30A"]),
    ],
)
def test_model_codes_written_with_chinese_numerals(text: str, chips: list[str]) -> None:
    assert chip_tags(text) == chips


def test_a_year_in_chinese_numerals_is_no_chip() -> None:
    assert chip_tags("管制自二○二七年一月起生效，涵蓋三○○項產品。") == []
