"""How the article frames its news, and the headline-and-lead decision, on stories of our own.

Where a test asserts `read_stance`, it pins what the hand-set reading concludes (one
feature of the fitted decider, enrich/decider.py); the fitted stance itself is measured on
real news (`chipwire eval --real`), not on texts we wrote."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text


def alerting(title: str, text: str) -> set[tuple[str, str, str]]:
    result = tag_text(text, title)
    return {(s.subject, s.jurisdiction, s.direction) for s in result.signals if s.confidence >= 0.6}


def test_an_article_saying_nothing_is_decided_reports_no_move() -> None:
    title = "Seoul to curb memory tool sales to China, sources say"
    text = (
        "South Korea will restrict shipments of memory-making equipment to Chinese fabs, "
        "three people briefed on the talks said. No final decision has been made, a ministry "
        "official said on Tuesday, adding that consultations with Samsung and SK Hynix continue."
    )
    result = tag_text(text, title)
    assert result.stance == "none"
    assert alerting(title, text) == set()


def test_an_official_move_survives_a_disclaimer_about_something_else() -> None:
    result = tag_text(
        "The Commerce Department announced on Monday that it had added Biren to the entity "
        "list. A decision on further chip rules is still under discussion, officials said.",
        "U.S. blacklists Biren",
    )
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == "US"


def test_a_company_acting_on_its_own_makes_no_government_move() -> None:
    title = "Samsung voluntarily pauses HBM3E shipments to some Chinese buyers"
    text = (
        "Samsung has stopped shipping HBM3E memory to several Chinese server makers, two "
        "customers said. The company took the step on its own initiative to avoid any breach "
        "of U.S. rules. Buyers who want to resume orders will need approval from Samsung's "
        "compliance team, the customers said."
    )
    assert tag_text(text, title).stance == "none"


def test_opposite_moves_announced_as_such_are_mixed() -> None:
    result = tag_text(
        "Japan's trade ministry on Friday imposed export licences on 14 chipmaking tools bound "
        "for China and tightened checks on their spare parts. It also lifted the licence "
        "requirement on photoresists bound for South Korea. Tokyo Electron said it was "
        "studying the rules.",
        "Japan's chip-trade week moves in opposite directions",
    )
    assert result.read_stance[0] == "mixed"
    assert result.read_stance[1] == "JP"


def test_both_directions_in_the_headline_are_mixed() -> None:
    result = tag_text(
        "Japan's trade ministry made both changes in one notice on Friday. Tokyo Electron "
        "said it was studying the rules.",
        "Tokyo eases photoresist rules for Seoul, tightens tool exports to China",
    )
    # the reading; the fitted decision on this two-sentence story is a coin flip between
    # mixed and none (0.385 / 0.392 after the 3 December night refit)
    assert result.read_stance == ("mixed", "JP")


def test_an_opposite_move_in_the_body_alone_does_not_make_it_mixed() -> None:
    result = tag_text(
        "The Commerce Department on Tuesday granted Nvidia licences to sell H20 processors to "
        "Chinese customers. Analysts noted the mixed signals from Washington over the past "
        "years. Months later, Beijing discouraged local firms from buying the chip.",
        "U.S. clears Nvidia to ship H20 processors to China",
    )
    assert result.read_stance[0] == "ease"


def test_the_headline_and_lead_decide_over_a_long_restrictive_background() -> None:
    result = tag_text(
        "The Commerce Department on Tuesday granted Nvidia licences to sell its H20 processors "
        "to Chinese customers, a company spokesperson said. The chip was designed to fit under "
        "rules that restrict the most advanced processors. Washington tightened those rules in "
        "October 2022 and again in 2023. The department also blocked shipments of tools to "
        "SMIC and added dozens of Chinese firms to the entity list. In April it imposed a "
        "licence requirement on the H20 itself. Chinese regulators, for their part, have "
        "discouraged local firms from buying the chip. Nvidia has written off billions in "
        "inventory.",
        "U.S. clears Nvidia to ship H20 processors to China again",
    )
    assert result.read_stance[0] == "ease"
    assert result.read_stance[1] == "US"


def test_a_body_move_with_an_inferred_government_does_not_make_the_news() -> None:
    result = tag_text(
        "Thousands of engineers visited the Semicon Japan exhibition this week to see new "
        "etching and deposition systems. Tokyo Electron and Canon showed their latest "
        "lithography tools. Several exhibitors said that customers in China would soon need "
        "to obtain a permit before buying spare parts. Organisers expect a record crowd next "
        "year.",
        "Chip toolmakers gather in Tokyo for their annual show",
    )
    assert result.stance == "none"


def test_a_body_move_by_a_named_government_still_decides() -> None:
    result = tag_text(
        "Thousands of engineers visited the Semicon Japan exhibition this week. On the "
        "sidelines, exhibitors traded news about their order books and the yen. Late on "
        "Thursday, the trade ministry said it had imposed export licences on 12 more "
        "deposition tools bound for China.",
        "Chip toolmakers gather in Tokyo for their annual show",
    )
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == "JP"


def test_a_headline_denial_leaves_no_move() -> None:
    title = "White House rejects reports it will let Nvidia sell Blackwell chips to China"
    text = (
        "The White House on Monday rejected reports that Nvidia could sell its most advanced "
        "processors to China. The denial came after a week of speculation that licences "
        "would be granted soon, a spokesperson said. Nvidia shares slipped 1%."
    )
    assert tag_text(text, title).stance == "none"
    assert alerting(title, text) == set()


def test_an_approval_with_conditions_is_an_approval() -> None:
    result = tag_text(
        "China's market regulator on Friday approved the Synopsys purchase of Ansys, "
        "attaching restrictive conditions on continued supply to Chinese customers.",
        "Beijing clears Synopsys deal with conditions",
    )
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "CN"


def test_a_look_back_headline_makes_the_old_moves_background() -> None:
    result = tag_text(
        "When the Commerce Department imposed sweeping export controls on advanced "
        "processors, officials said the aim was to slow China's military AI. Since then "
        "Chinese cloud groups have turned to the Ascend 910C and to rented capacity abroad.",
        "Two years on, did Washington's chip curbs work?",
    )
    assert result.stance == "none"


def test_a_new_move_in_a_look_back_headline_is_still_news() -> None:
    result = tag_text(
        "The Commerce Department on Monday added Moore Threads to the entity list, it said "
        "in a statement.",
        "Three years on, U.S. blacklists another Chinese GPU maker",
    )
    assert result.read_stance[0] == "restrict"


def test_an_opposite_move_further_down_makes_an_announced_two_way_story_mixed() -> None:
    result = tag_text(
        "Washington and Beijing moved in opposite directions this week. The Commerce "
        "Department on Monday granted licences for H200 shipments to Chinese buyers. "
        "Analysts were surprised. On Wednesday Chinese customs officers were told to block "
        "the chips at the border.",
        "The H200 between two capitals",
    )
    assert result.stance == "mixed"


def test_no_decision_announced_means_no_move() -> None:
    result = tag_text(
        "Equipment makers filed comments with the Commerce Department warning that tariffs "
        "on imported tools would raise costs. The department will impose duties of 25% on "
        "imported chipmaking tools, two people said. No decision on duties has been "
        "announced, officials said.",
        "Toolmakers warn Washington against chip tariffs",
    )
    assert result.stance == "none"


def test_a_cue_describing_a_standing_measure_is_not_a_second_move() -> None:
    result = tag_text(
        "South Korea's trade ministry on Friday eased licensing for etching tools bound for "
        "Vietnam, it said in a statement. The ministry has long defended the regulations "
        "that restrict exports of lithography tools to China.",
        "A busy week for Seoul's trade ministry",
    )
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "KR"


def test_pulling_a_waiver_restricts_and_a_possessive_country_is_no_actor() -> None:
    result = tag_text(
        "The Commerce Department said on Friday that the waivers letting Samsung ship tools "
        "to its plant in Xi'an would end in 120 days.",
        "Washington pulls Korean memory makers' China waivers",
    )
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == "US"


def test_a_verb_joined_by_and_does_not_undo_the_next_verb() -> None:
    result = tag_text(
        "The trade ministry in Tokyo loosened and tightened chip rules on Monday, it said in "
        "a statement."
    )
    directions = {s.direction for s in result.signals}
    assert directions == {"ease", "restrict"}


def test_a_smuggling_bust_restricts() -> None:
    result = tag_text(
        "Singapore police said on Thursday they had arrested three men over Nvidia servers "
        "shipped to Malaysia.",
        "Singapore police announce chip smuggling bust",
    )
    assert result.stance == "restrict"
    assert result.acting_jurisdiction == "SG"


def test_equal_prominence_up_front_is_mixed_whatever_the_body_repeats() -> None:
    result = tag_text(
        "The Commerce Department on Monday began issuing licences for H20 shipments to China. "
        "On Tuesday it revoked the waivers that let SK Hynix ship tools to its Wuxi plant. "
        "Nvidia said it had received licences. AMD said it had received licences too. "
        "Analysts said the licences would lift Nvidia's China revenue.",
        "Washington hands out H20 licences, pulls SK Hynix waivers",
    )
    assert result.read_stance[0] == "mixed"
    assert result.read_stance[1] == "US"


def test_moves_made_at_once_are_announced_as_two_way() -> None:
    result = tag_text(
        "Japan's trade ministry on Friday imposed export licences on 14 chipmaking tools bound "
        "for China and tightened checks on their spare parts. At the same sitting it lifted "
        "the licence requirement on photoresists bound for South Korea, loosening and "
        "tightening at once.",
        "Tokyo's chip notice",
    )
    assert result.read_stance[0] == "mixed"


def test_a_move_dated_to_an_earlier_month_is_background() -> None:
    result = tag_text(
        "Thousands of engineers visited the Semicon Japan exhibition this week. Exhibitors "
        "traded news about their order books and the yen. In April the trade ministry "
        "imposed export licences on 12 more deposition tools bound for China, and before "
        "that it had routinely approved such shipments.",
        "Chip toolmakers gather in Tokyo for their annual show",
    )
    assert result.stance == "none"


def test_backers_hoping_to_pass_a_bill_make_no_move() -> None:
    result = tag_text(
        "Senators backing the measure hope to ban exports of HBM3E to China by attaching it "
        "to a defence bill, aides said.",
        "Senators eye HBM export limits",
    )
    assert result.stance == "none"


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Commerce chief tells senators more chip curbs are coming",
            "At a Senate hearing on Tuesday, the commerce secretary said the department would "
            "tighten controls on chipmaking tools sold to China. He gave no date.",
        ),
        (
            "U.S. set to unveil HBM curbs next week",
            "The Commerce Department is set to announce new restrictions on HBM exports to "
            "China next week, people familiar with the plan said.",
        ),
        (
            "Washington seeks tighter limits on chip tool servicing",
            "The Commerce Department seeks tighter limits on servicing chipmaking tools "
            "installed in China, officials said on Tuesday.",
        ),
        (
            "Lawmakers call for ban on Chinese chip tools",
            "A bipartisan group of lawmakers called for a ban on imports of chipmaking tools "
            "from China on Wednesday.",
        ),
    ],
)
def test_hearings_previews_and_calls_are_no_move(title: str, text: str) -> None:
    assert tag_text(text, title).stance == "none"
    assert alerting(title, text) == set()


def test_a_rule_allowing_denials_restricts() -> None:
    result = tag_text(
        "The Commerce Department on Monday issued a rule that allows it to deny licences for "
        "any H20 processor bound for China.",
        "U.S. tightens H20 rule",
    )
    assert result.stance == "restrict"
    assert {s.direction for s in result.signals if s.confidence >= 0.6} == {"restrict"}


def test_decades_of_support_are_background() -> None:
    result = tag_text(
        "For two decades Beijing has steered state funding and cheap loans to SMIC, a record "
        "that analysts say explains its rise. The company reported higher sales on Thursday.",
        "SMIC sales climb as Chinese demand holds up",
    )
    assert result.stance == "none"


def test_becoming_subject_to_controls_is_a_move_and_funded_people_are_a_state() -> None:
    result = tag_text(
        "Seoul's trade ministry said on Monday that etching recipes for memory below 10 "
        "nanometres will be subject to tighter controls. Engineers who worked on them with "
        "government funding will need approval before taking jobs abroad.",
        "Korea adds memory process know-how to protected list",
    )
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == "KR"


@pytest.mark.parametrize(
    ("title", "text", "jurisdiction"),
    [
        (
            "U.S. to allow only downgraded chips to China",
            "The Commerce Department said on Monday that Nvidia will be allowed to sell only "
            "processors below a new performance threshold to Chinese buyers.",
            "US",
        ),
        (
            "China tightens rare-earth export approvals",
            "China's commerce ministry on Thursday said exporters of rare-earth magnets must "
            "now apply for approval for every shipment, and approvals will take up to 45 days.",
            "CN",
        ),
        (
            "U.S. ends licence exemption for Chinese fabs",
            "The Commerce Department on Friday ended the exemption that allowed TSMC's Nanjing "
            "plant to receive U.S. tools without a licence.",
            "US",
        ),
    ],
)
def test_limits_curbed_approvals_and_ended_exemptions_restrict(
    title: str, text: str, jurisdiction: str
) -> None:
    result = tag_text(text, title)
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == jurisdiction


def test_firms_added_to_the_entity_list_are_its_object_not_its_agent() -> None:
    result = tag_text(
        "The Commerce Department on Wednesday lifted licence requirements for chip-design "
        "software exports to China. On the same day it added 23 Chinese companies to the "
        "entity list.",
        "U.S. lifts EDA curbs, adds Chinese firms to entity list",
    )
    assert result.stance == "mixed"
    assert result.acting_jurisdiction == "US"


def test_a_restriction_kept_in_force_is_no_new_move() -> None:
    result = tag_text(
        "China's commerce ministry said on Sunday it would suspend its ban on gallium and "
        "germanium exports to the United States until November 2026. It kept the licence "
        "requirement for every shipment.",
        "Beijing's gallium decision",
    )
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "CN"


def test_losing_a_permission_restricts_and_a_city_is_no_person() -> None:
    result = tag_text(
        "The Commerce Department told Samsung on Friday that its plant in Xi'an would lose "
        "validated end-user status at the end of the year."
    )
    assert result.read_stance == ("restrict", "US")


def test_officials_one_talks_with_are_not_the_actor() -> None:
    result = tag_text(
        "The Dutch economy ministry said on Wednesday it had lifted the order on Nexperia "
        "after talks with Chinese officials. Chinese officials in Beijing welcomed the step, "
        "China's commerce ministry said.",
        "Minister lifts order on chip plant after talks with Chinese officials",
    )
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "NL"


def test_opposite_moves_announced_only_in_the_body_are_mixed_without_crashing() -> None:
    from enrich.stance import Weighted, decide_stance

    body_only = [
        Weighted("restrict", "US", 0.9, up_front=False),
        Weighted("ease", "US", 0.8, up_front=False),
    ]
    decision = decide_stance(body_only, two_way=True)  # raised ValueError: empty max()
    assert (decision.stance, decision.jurisdiction) == ("mixed", "US")
