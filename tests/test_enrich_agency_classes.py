"""Government bodies no list names, by their function or their name's shape, and the kind
of body each is (the stance reading weighs courts, legislatures and research bodies).
Sentences and bodies are invented."""

from __future__ import annotations

import pytest

from enrich.decider import body_of
from enrich.tag import tag_text


def agencies(text: str) -> list[str]:
    return [a.id for a in tag_text(text).tags.agencies]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a function name any country has, qualified by a country the rule does not list
        ("Norway's foreign ministry said the chip tool exports need a permit.", ["NO:MFA"]),
        ("Chile's finance ministry will fund the new chip fab.", ["CL:MOF"]),
        ("Swedish customs seized a shipment of GPUs bound for Russia.", ["SE:CA"]),
        ("U.S. customs seized a shipment of GPUs bound for Russia.", []),  # CBP, in DHS
        ("Poland's top court upheld the ban on the chip takeover.", ["PL:SC"]),
        ("Mexico's defence ministry bought the accelerators.", ["MX:MOD"]),
        ("Spain's competition authority fined the chip distributor.", ["ES:CA"]),
        # the listed bodies still win for the countries a rule lists
        ("China's foreign ministry said the curbs on chips hurt trade.", ["CN:MFA"]),
        ("Japan's finance ministry said the chip fund will grow.", ["JP:MOF"]),
        # no country, no body: whose court or defence ministry is not said
        ("The top court upheld the ban on the chip takeover.", []),
        ("A former defence minister criticised the chip deal.", []),
        # the Union has no ministries or customs of a nation
        ("The EU's foreign ministry spokesman declined to comment on chips.", []),
    ],
)
def test_bodies_by_function_for_any_country(text: str, expected: list[str]) -> None:
    assert agencies(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ruritania's National Innovation Council backed the chip plan.", []),  # no such country
        ("Portugal's National Innovation Council backed the chip plan.", ["PT:NIC"]),
        ("The National Innovation Council of Portugal backed the chip plan.", ["PT:NIC"]),
        ("Chile's National Investment Council backed the chip plan.", ["CL:NIC"]),
        ("Taiwan's Legislative Yuan amended the chip secrets law.", ["TW:LY"]),
        ("Canada's House of Commons debated the chip export rules.", ["CA:HC"]),
        # a listed body of another country inside the name is not that body
        ("The Argentine National Congress debated the chip fab.", ["AR:NC"]),
        ("The US Congress debated the chip fab.", ["US:CONGRESS"]),
        # an abbreviated country name opening a name qualifies it, a full one is part of it
        ("The deal needed clearance from the UK Cabinet Office.", ["GB:CO"]),
        ("The China Chip Export Commission cleared the sale.", ["CN:CCEC"]),
        # a name with its own head is not the generic body inside it
        ("China's Ministry of Commerce and General Administration of Customs acted.", None),
        # an event named like a body is none
        ("Norway Mobile World Congress opened with new phone chips.", []),
    ],
)
def test_bodies_by_the_shape_of_their_names(text: str, expected: list[str] | None) -> None:
    found = agencies(text)
    if expected is None:
        assert found[0] == "CN:MOFCOM"
    else:
        assert found == expected


@pytest.mark.parametrize(
    ("agency", "kind"),
    [
        ("PT:NA", "legislature"),  # built by the grammar
        ("PL:SC", "court"),  # built by a rule's body
        ("NO:MFA", "ministry"),
        ("SE:SMPA", "enforcement"),
        ("XX:CA", ""),  # a customs administration or a competition authority
        ("XX:QQQ", ""),  # initials nobody listed
        ("DE:BFV", "enforcement"),  # a body a language file adds
        ("IT:GOV", "executive"),
        ("FR:CA", "regulator"),  # a listed body keeps its own kind
        ("US:CRS", "research"),
    ],
)
def test_every_built_body_has_the_kind_of_its_initials(agency: str, kind: str) -> None:
    assert body_of(agency) == kind


@pytest.mark.parametrize(
    "text",
    [
        "Eine Sprecherin des Bundeswirtschaftsministeriums sagte, die Chipförderung stehe aus.",
        "Das Bundeswirtschafts- und Klimaministerium prüft den Verkauf der Chipfabrik.",
    ],
)
def test_the_german_economy_ministry_in_the_genitive_and_by_its_2021_name(text: str) -> None:
    assert agencies(text) == ["DE:MOEA"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a minister's title names the listed ministry, a person's name after it or not
        (
            "South Korean Minister of Trade, Industry and Energy Park said chips are exempt.",
            ["KR:MOTIE"],
        ),
        ("China's Minister of Commerce said the chip curbs would stay.", ["CN:MOFCOM"]),
        # a title no listed body answers, and a head of government, name none
        ("Norway's Minister of Digitalisation said chips matter.", []),
        ("Japan's Prime Minister said chips matter.", []),
    ],
)
def test_a_ministers_title_names_the_ministry(text: str, expected: list[str]) -> None:
    assert agencies(text) == expected
