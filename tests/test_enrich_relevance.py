"""Relevance: what makes a text chip-policy news (enrich/relevance.py, domain.yaml).

The sentences are invented for these tests.
"""

from __future__ import annotations

from enrich import domain
from enrich.folding import fold
from enrich.match import matcher
from enrich.tag import tag_text

# A long regulatory note that names chips only in its opening sentence: the rest is the
# jargon of any export rule, as law-firm notes on a new control are written.
_JARGON = (
    "The interim final rule amends the regulations and takes effect on publication. "
    "Comments are due within sixty days of the notice. The agency also revised several "
    "definitions, clarified the scope of deemed exports and updated its guidance on "
    "recordkeeping. Parties should review their compliance programmes, screen their "
    "counterparties and update their internal procedures before the effective date. "
) * 5


def test_a_long_rule_note_that_names_chips_in_its_lead_is_about_chips() -> None:
    text = (
        "The Bureau of Industry and Security issued a rule adding export controls on "
        "semiconductor and quantum items. " + _JARGON
    )
    assert len(text.split()) > 250  # long enough to need more than one passing chip word
    assert tag_text(text).relevance >= 0.5


def test_a_chip_word_only_deep_in_a_long_rule_note_does_not_make_it_about_chips() -> None:
    text = (
        "The Bureau of Industry and Security issued a rule on ownership of listed parties. "
        + _JARGON
        + "One example in the notice concerns a semiconductor distributor."
    )
    assert tag_text(text).relevance < 0.5


def test_what_the_lead_names_counts_twice_for_the_domain() -> None:
    text = "Regulators restricted exports of semiconductor tools. " + _JARGON
    folded = fold(text)
    mentions = matcher().find(text, folded)
    lead = [m for m in mentions if m.end <= len("Regulators restricted exports of semiconductor")]
    assert [m.kind for m in lead if m.kind == "subject"]  # the lead names a chip technology
    alone, alone_evidence = domain.about_chips(mentions, folded)
    led, led_evidence = domain.about_chips(mentions, folded, lead=lead)
    assert not alone
    assert led
    assert led_evidence == alone_evidence + 1


def test_competition_and_merger_reviews_of_chipmakers_are_policy_news() -> None:
    text = (
        "Regulators in Seoul fined the modem-chip maker Qualtrix a record amount for abuse "
        "of dominance, after a merger review of its licensing deals. Qualtrix said it would "
        "appeal the fines."
    )
    plain = "Qualtrix, a modem-chip maker in Seoul, said it would appeal."
    assert tag_text(text).relevance > tag_text(plain).relevance
    zh = "市场监管总局对芯片企业作出反垄断罚款决定，并对其并购案进行经营者集中审查。"
    assert tag_text(zh).relevance >= 0.5


def test_a_us_rule_changing_how_the_lists_work_is_chip_policy_without_a_chip() -> None:
    # DECISIONS.md relevance 4: the Affiliates (50 % ownership) rule names no chip
    text = (
        "The Commerce Department issued an affiliates rule that extends Entity List "
        "restrictions to companies at least half owned by listed parties. " + _JARGON
    )
    result = tag_text(text)
    assert result.relevance >= 0.5
    assert {s.subject for s in result.signals} <= {"semiconductors"}


def test_smuggling_microelectronics_and_graphite_curbs_name_chip_subjects() -> None:
    smuggling = tag_text(
        "Prosecutors in Boston charged a trader with smuggling controlled microelectronics "
        "to a sanctioned buyer through shell firms, in breach of export controls."
    )
    assert smuggling.relevance >= 0.5
    subjects = [m.key for m in matcher().find("microelectronics", fold("microelectronics"))]
    assert subjects == ["semiconductors"]
    graphite = tag_text("北京宣布对高纯石墨物项实施出口管制，出口须获许可。")
    assert {s.subject for s in graphite.signals} == {"rare-earths"}


def test_the_traditional_chinese_word_for_chips_is_about_chips() -> None:
    text = "臺灣檢方搜索多家公司，調查非法挖角晶片工程師並竊取晶片技術。"
    folded = fold(text)
    about, _ = domain.about_chips(matcher().find(text, folded), folded)
    assert about


def test_a_chip_distributor_on_a_blacklist_is_chip_policy() -> None:
    result = tag_text(
        "The Commerce Department added two Asian units of Arrow Electronics to the Entity "
        "List, saying they passed US parts to a drone programme."
    )
    assert "Arrow" in {c.name for c in result.tags.companies}
    assert result.relevance >= 0.5
    lake = tag_text("The laptop runs an Arrow Lake processor.")
    assert "Arrow" not in {c.name for c in lake.tags.companies}


def test_an_export_control_regime_named_after_a_country_is_not_that_country() -> None:
    result = tag_text(
        "Members of the Australia Group met in Paris to align chip-tool export controls."
    )
    assert "AU" not in {c.id for c in result.tags.countries}


def test_a_chip_named_as_the_object_of_a_move_counts_in_a_long_story() -> None:
    # one chip word deep in a long note: in a sentence with a policy cue it is what the
    # move is about; in a sentence without one it stays a passing mention
    sanctioned = (
        "The Council adopted its new package of measures against the war. "
        + _JARGON
        + "The package bans exports of microelectronics to forty listed trading firms."
    )
    passing = (
        "The Council adopted its new package of measures against the war. "
        + _JARGON
        + "One of the listed trading firms once sold microelectronics as well."
    )
    off_domain = "not about chips"
    assert off_domain not in tag_text(sanctioned).explanation.relevance_reason
    assert off_domain in tag_text(passing).explanation.relevance_reason


def test_a_rule_that_is_not_about_chips_is_no_chip_evidence() -> None:
    # the foreign direct product rule also serves sanctions packages that name no chip
    text = (
        "Washington widened the foreign direct product rule and blacklisted ninety "
        "trading firms over the war."
    )
    assert "not about chips" in tag_text(text).explanation.relevance_reason
    chips = text.replace("trading firms", "chip distributors")
    assert "not about chips" not in tag_text(chips).explanation.relevance_reason
