"""Country forms of the Chinese, Japanese and French press: compounds with 美 (美商, 美中),
Japanese one-character abbreviations before a foreign name (米クアルコム), and the third
countries of sanctions lists. Sentences are invented."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def countries(text: str) -> list[str]:
    return [c.id for c in tag_text(text).tags.countries]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("美商晶片厂与监管机构达成和解。", ["US"]),
        ("美中晶片战再度升温。", ["CN", "US"]),
        ("輝達獲准向阿拉伯聯合大公國出口晶片。", ["AE"]),
        ("新规涵盖沙乌地阿拉伯和北韩。", ["SA", "KP"]),
        ("米ナノシリコン社は買収を完了した。", ["US"]),
        ("英Zetachip社の買収が承認された。", ["GB"]),
        (
            "La liste vise des sociétés en Arménie, en Ouzbékistan et aux Émirats arabes unis.",
            ["AM", "UZ", "AE"],
        ),
    ],
)
def test_country_forms(text: str, expected: list[str]) -> None:
    assert countries(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "買収額は約50億米ドルだった。",  # a currency
        "今年の新米コメは高値で取引された。",  # rice, inside a word
        "英語のマニュアルが配布された。",  # 英 inside a word of Chinese characters
    ],
)
def test_an_abbreviation_that_names_no_country(text: str) -> None:
    assert countries(text) == []
