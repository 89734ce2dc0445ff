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
