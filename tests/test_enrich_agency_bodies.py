"""Government bodies of new events: the EU's courts and institutions in the Union's
languages, a country's own name opening a body's name, customs as a procedure, and bare
Chinese ministry names decided by the story's country. Sentences are invented."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def agencies(text: str) -> list[str]:
    return [a.id for a in tag_text(text).tags.agencies]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The EU General Court cut the fine on the chip designer by a fifth.", ["EU:GC"]),
        ("The firm may appeal to the Court of Justice of the EU on points of law.", ["EU:CJEU"]),
        ("Le Tribunal de l’UE a confirmé l’amende infligée au fabricant de puces.", ["EU:GC"]),
        ("La Cour de justice de l'Union européenne a rejeté le pourvoi du fondeur.", ["EU:CJEU"]),
        ("Der EuGH bestätigte die Strafe gegen den Chiphersteller.", ["EU:CJEU"]),
        (
            "Il Tribunale dell'Unione europea ha annullato la multa al produttore di chip.",
            ["EU:GC"],
        ),
        ("El Tribunal de Justicia de la UE anuló la multa al fabricante de chips.", ["EU:CJEU"]),
        ("Het Europees Hof van Justitie schrapte de boete voor de chipmaker.", ["EU:CJEU"]),
        ("欧州司法裁判所は半導体メーカーへの制裁金を取り消した。", ["EU:CJEU"]),
        ("Le Conseil de l’UE a adopté de nouvelles restrictions sur les puces.", ["EU:COUNCIL"]),
        (
            "Il testo passa al Consiglio dell'UE e al Parlamento europeo per l'esame.",
            ["EU:COUNCIL", "EU:PARLIAMENT"],
        ),
        (
            "Der Rat der EU und das Europäische Parlament einigten sich auf das Gesetz.",
            ["EU:COUNCIL", "EU:PARLIAMENT"],
        ),
        ("La Commission européenne a infligé une amende au fabricant de puces.", ["EU:EC"]),
    ],
)
def test_eu_courts_and_institutions_in_the_unions_languages(text: str, expected: list[str]) -> None:
    assert agencies(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Singapore Ministry of Foreign Affairs said chip exports need permits.", ["SG:MFA"]),
        ("The Ruritania Bureau of Export Control listed the chipmaker.", []),
        ("The Thailand Office of Trade Screening cleared the chip deal.", ["TH:OTS"]),
        ("The China Chip Export Commission cleared the sale.", ["CN:CCEC"]),
    ],
)
def test_a_country_name_opening_a_body_is_no_initial(text: str, expected: list[str]) -> None:
    assert agencies(text) == expected


def test_customs_as_a_procedure_is_no_body() -> None:
    text = "Under the origin rule, the country for import customs clearance is the fab's."
    assert agencies(text) == []
    assert agencies("Chinese customs told agents that the chip may not enter.") == ["CN:GAC"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("台湾经济部表示，企业出口晶片须申请许可，否则海关不予放行。", ["TW:MOEA", "TW:CA"]),
        ("北京宣布新规，海关将加强对进口芯片的检查。", ["CN:GAC"]),
        ("台灣科技部宣布晶片技術出口須經審查。", ["TW:MOST"]),
        ("中国科技部发布新的技术出口限制目录。", ["CN:MOST"]),
    ],
)
def test_bare_chinese_body_names_belong_to_the_storys_country(
    text: str, expected: list[str]
) -> None:
    assert agencies(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The Investigation Bureau searched the offices of two chip-design start-ups.",
            ["TW:MJIB"],
        ),
        ("法務部調查局搜索多家晶片設計公司。", ["TW:MJIB"]),
        ("The Taiwan High Prosecutors Office detained a former foundry engineer.", ["TW:HPO"]),
        ("The Taipei District Prosecutors Office indicted the recruiter.", ["TW:TDPO"]),
        (
            "The Amsterdam Enterprise Chamber kept its measures against the chipmaker's owner.",
            ["NL:EC"],
        ),
    ],
)
def test_enforcement_bodies_and_courts_of_new_events(text: str, expected: list[str]) -> None:
    assert agencies(text) == expected
