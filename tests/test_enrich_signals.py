"""Policy signals and the article stance, on sentences written for these tests."""

from __future__ import annotations

import pytest

from enrich.tag import TagResult, tag_text


def moves(result: TagResult, min_confidence: float = 0.5) -> set[tuple[str, str, str]]:
    return {
        (s.subject, s.jurisdiction, s.direction)
        for s in result.signals
        if s.confidence >= min_confidence
    }


def test_negated_approval_is_no_signal() -> None:
    result = tag_text("Beijing did not approve any H200 imports this week, officials said.")
    assert moves(result) == set()
    assert result.stance == "none"


def test_lifting_a_ban_eases() -> None:
    result = tag_text("Japan lifted the ban on photoresist exports to South Korea on Tuesday.")
    assert ("semiconductors", "JP", "ease") in moves(result) or result.stance == "ease"
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "JP"


def test_revoking_a_waiver_restricts() -> None:
    result = tag_text(
        "The U.S. Commerce Department revoked the waivers that let Samsung ship tools to "
        "its plants in China."
    )
    assert result.stance == "restrict"
    assert result.acting_jurisdiction == "US"


def test_requiring_licences_restricts() -> None:
    result = tag_text(
        "Beijing will require exporters of gallium to apply for licences from August."
    )
    assert moves(result) == {("gallium-germanium", "CN", "restrict")}


def test_attribution_follows_the_actor_not_the_destination() -> None:
    result = tag_text("Washington approved H20 exports to China on Monday.")
    assert moves(result) == {("H20", "US", "ease")}
    passive = tag_text("Exports of the MI308 to China were approved by the Commerce Department.")
    assert {(s.subject, s.jurisdiction, s.agency) for s in passive.signals} == {
        ("MI308", "US", "US:DOC")
    }


def test_a_company_acting_on_its_own_is_no_policy_signal() -> None:
    result = tag_text("Nvidia halted production of the H20 after weak demand, the company said.")
    assert moves(result) == set()


def test_certainty_official_reported_proposed() -> None:
    official = tag_text(
        "China's Ministry of Commerce announced a ban on gallium exports to the U.S."
    )
    reported = tag_text("China has banned H20 purchases by state firms, people familiar said.")
    proposed = tag_text("The Commerce Department proposed a rule to restrict H20 exports to China.")
    assert {s.certainty for s in official.signals} == {"official"}
    assert {s.certainty for s in reported.signals} == {"reported"}
    assert {s.certainty for s in proposed.signals} == {"proposed"}


def test_speculation_stays_below_alert_confidence() -> None:
    result = tag_text("Analysts say Beijing could ban Micron chips if talks fail.")
    assert all(s.confidence < 0.6 for s in result.signals)
    assert result.stance == "none"


def test_evidence_offsets_point_into_the_text() -> None:
    text = "Markets were calm. Chinese customs blocked a shipment of H200 servers at Shenzhen."
    result = tag_text(text)
    assert result.signals
    for signal in result.signals:
        assert text[signal.evidence_start : signal.evidence_end] == signal.evidence


def test_title_evidence_is_located_in_the_text_when_repeated() -> None:
    title = "Seoul lifts export curbs on chip materials"
    result = tag_text(f"{title}\nOfficials said the change applies at once.", title=title)
    signal = next(s for s in result.signals if s.jurisdiction == "KR")
    assert (signal.evidence_start, signal.evidence_end) == (0, len(title))


def test_headline_and_lead_outweigh_background() -> None:
    text = (
        "China approved the first imports of Nvidia's H200 chips for three internet "
        "platforms on Wednesday, people familiar with the decision said.\n"
        "The approval covers several hundred thousand units.\n"
        "Two years ago the United States banned exports of the H100 and A100 to China, "
        "and last year Washington curbed sales of the H20 as well."
    )
    result = tag_text(text, title="China lets big tech firms import H200 chips")
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "CN"


def test_related_articles_block_does_not_drive_the_result() -> None:
    text = (
        "Beijing approved imports of Nvidia's H200 accelerators for several large cloud "
        "providers this week, according to two people briefed on the matter.\n"
        "The chips are expected to arrive before the spring holiday, the people said.\n"
        "Related articles\n"
        "U.S. bans exports of AI chips to China\n"
        "Dutch government blocks ASML shipments\n"
        "Senate panel votes to curb chip sales\n"
    )
    result = tag_text(text)
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "CN"
    assert "NL:GOV" not in {a.id for a in result.tags.agencies}
    assert result.explanation.cut_at is not None


def test_an_earnings_story_mentioning_export_controls_fires_nothing() -> None:
    text = (
        "AMD posted record quarterly revenue on Tuesday as data-centre sales jumped, and its "
        "shares rose 6% after hours. The company said export controls on the MI308 had cost "
        "it about $800 million in the quarter, in line with its earlier guidance. Analysts "
        "raised their price targets."
    )
    result = tag_text(text, title="AMD beats estimates on data-centre demand")
    assert [s for s in result.signals if s.confidence >= 0.6] == []
    assert result.relevance < 0.5
    assert result.stance == "none"


def test_chinese_text_signal() -> None:
    text = "商务部宣布，自即日起对镓、锗相关物项实施出口管制，出口须申请许可。"
    result = tag_text(text, title="商务部对镓锗实施出口管制")
    assert result.stance == "restrict"
    assert result.acting_jurisdiction == "CN"
    assert "CN:MOFCOM" in {a.id for a in result.tags.agencies}


def test_to_json_has_exactly_the_cli_keys() -> None:
    payload = tag_text("Washington approved H20 exports to China.").to_json()
    assert set(payload) == {
        "chips",
        "companies",
        "agencies",
        "countries",
        "signals",
        "stance",
        "acting_jurisdiction",
        "relevance",
    }
    assert payload["chips"] == [{"id": "H20", "name": "Nvidia H20"}]
    assert {"evidence", "evidence_start", "evidence_end", "confidence"} <= set(
        payload["signals"][0]
    )


def test_receiving_a_licence_is_the_government_easing() -> None:
    result = tag_text(
        "AMD said it had received U.S. export licences to sell its MI308 chips in China."
    )
    assert moves(result) == {("MI308", "US", "ease")}


def test_a_probe_into_subsidies_restricts() -> None:
    result = tag_text(
        "The European Commission opened an investigation into subsidies for Chinese "
        "legacy chips on Monday."
    )
    assert result.read_stance[0] == "restrict"
    assert result.read_stance[1] == "EU"


def test_a_question_headline_is_no_move() -> None:
    result = tag_text(
        "Officials have not lifted the ban, the ministry said.",
        title="Will Beijing lift its ban on Micron chips?",
    )
    assert result.stance == "none"


def test_a_capitalised_cue_word_inside_a_sentence_is_a_name() -> None:
    result = tag_text("Business secretary Grant Shapps said the review would take weeks.")
    assert result.signals == []


def test_the_ministry_refers_back_to_the_body_named_before() -> None:
    result = tag_text(
        "Japan's Ministry of Economy, Trade and Industry published new rules on Friday. "
        "The ministry said it would require licences for 23 types of chipmaking tools."
    )
    signal = next(s for s in result.signals if s.direction == "restrict")
    assert (signal.jurisdiction, signal.agency) == ("JP", "JP:METI")


def test_ordering_a_sale_restricts() -> None:
    result = tag_text(
        "The British government ordered the Chinese-owned chipmaker to sell most of its "
        "Welsh wafer plant on national security grounds."
    )
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "GB")


@pytest.mark.parametrize(
    ("title", "text", "stance", "jurisdiction"),
    [
        (
            "US adds 12 Chinese firms to entity list",
            "The U.S. Commerce Department on Thursday added 12 Chinese companies to its entity "
            "list, restricting their access to American technology.",
            "restrict",
            "US",
        ),
        (
            "Netherlands grants ASML licences for DUV shipments",
            "The Dutch government has granted ASML licences to ship some immersion DUV systems "
            "to Chinese customers until the end of the year.",
            "ease",
            "NL",
        ),
        (
            "Trump suspends chip tariffs for 90 days",
            "President Trump suspended the planned tariffs on semiconductor imports for 90 days "
            "to allow talks with Beijing.",
            "ease",
            "US",
        ),
        (
            "Beijing tells state carriers to phase out foreign chips",
            "China has ordered its largest telecom operators to phase out foreign processors "
            "from their networks by 2027, according to people familiar with the matter.",
            "restrict",
            "CN",
        ),
        (
            "Dutch take control of chipmaker",
            "The Dutch government has taken control of Nexperia, invoking an emergency law to "
            "keep its technology from moving to its Chinese parent.",
            "restrict",
            "NL",
        ),
        (
            "China opens antitrust probe into Qualcomm",
            "China's market regulator has opened an investigation into Qualcomm over a merger, "
            "the State Administration for Market Regulation said.",
            "restrict",
            "CN",
        ),
        (
            "美国放宽对华芯片出口限制",
            "美国商务部宣布放宽部分芯片对华出口限制，允许英伟达向中国出售H20芯片。",
            "ease",
            "US",
        ),
        (
            "Analyst: China could ban Nvidia outright",
            "An analyst said China could ban Nvidia chips outright if tensions escalate, though "
            "no such step has been taken.",
            "none",
            None,
        ),
        (
            "Nvidia unveils new platform",
            "Nvidia unveiled its next AI platform at its annual conference, saying the chips "
            "would ship next year. Shares rose 2%.",
            "none",
            None,
        ),
    ],
)
def test_stories_of_our_own(title: str, text: str, stance: str, jurisdiction: str | None) -> None:
    result = tag_text(text, title=title)
    assert (result.read_stance[0], result.read_stance[1]) == (stance, jurisdiction)


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("中国海关表示，英伟达H200芯片不被允许进口。", "restrict"),  # not (passively) allowed
        ("中国海关称英伟达H200芯片未获批准进口。", "restrict"),  # not approved
        ("中国海关称英伟达H200芯片不再准许进口。", "restrict"),  # no longer permitted
        ("中国海关表示，英伟达H200芯片获准进口，海关允许进口。", "ease"),
    ],
)
def test_a_chinese_negator_before_a_permission_word_denies_it(text: str, direction: str) -> None:
    result = tag_text(text)
    assert {(s.direction, s.jurisdiction) for s in result.signals} == {(direction, "CN")}
    assert [c.id for c in result.tags.companies] == ["Nvidia"]


def test_a_chinese_permission_not_yet_given_is_no_move() -> None:
    assert tag_text("中国海关称英伟达H200芯片尚未获批准进口。").signals == []


def test_the_company_before_a_chinese_passive_undergoes_the_move() -> None:
    # the cue's reading is what the decider sees: a denied permission read as a move by
    # the customs named before it, not as the company's own decision
    result = tag_text("中国海关表示，英伟达H200芯片不被允许进口。")
    cues = [c for s in result.explanation.sentences for c in s.cues]
    assert [(c.direction, c.outcome) for c in cues] == [("restrict", "signal")]


@pytest.mark.parametrize(
    ("text", "direction", "jurisdiction"),
    [
        # the company after 对 is what the lifted ban was aimed at, not who lifted it
        ("美国商务部发布公告，暂时解除对中兴通讯的芯片出口禁令。", "ease", "US"),
        # topic first: the ban is named before the verb that lifts it
        ("美国商务部表示，对中兴的芯片禁令将于下周解除。", "ease", "US"),
        # 原产于美国: the origin of the goods, not the government acting
        ("中国商务部对原产于美国的模拟芯片发起反倾销调查。", "restrict", "CN"),
        # 中国中兴公司: the country names the company's home, not an actor
        ("美国商务部已与中国中兴公司签署协议，取消对中兴的芯片禁令。", "ease", "US"),
        # a rule is undone by the verb before it, as "suspend the order" is
        ("美国财政部长表示，美国将暂停芯片出口新规定一年。", "ease", "US"),
    ],
)
def test_chinese_moves_are_attributed_to_the_government_making_them(
    text: str, direction: str, jurisdiction: str
) -> None:
    result = tag_text(text)
    assert result.read_stance == (direction, jurisdiction)


def test_a_photo_caption_at_the_top_is_not_the_headline() -> None:
    # the caption recalls an older curb; the headline below it reports the approval
    text = (
        "北京此前下令禁止英伟达H200芯片进口。（路透资料照片）\n"
        "中国批准英伟达H200芯片进口\n"
        "中国商务部周三宣布批准首批英伟达H200芯片进口。"
    )
    result = tag_text(text)
    weights = {s.text: s.weight for s in result.explanation.sentences}
    assert weights["中国批准英伟达H200芯片进口"] > weights["北京此前下令禁止英伟达H200芯片进口。"]
    assert result.read_stance == ("ease", "CN")


@pytest.mark.parametrize(
    "text",
    [
        "美国商务部表示，未来将对中国芯片加征关税。",  # 未来: "the future", not 未 "not"
        "美国商务部不断收紧对华芯片出口管制。",  # 不断: "constantly", not 不 "not"
    ],
)
def test_a_chinese_word_holding_a_negator_character_negates_nothing(text: str) -> None:
    assert tag_text(text).read_stance == ("restrict", "US")


def test_a_chinese_licensing_regime_is_an_export_control_by_the_government_imposing_it() -> None:
    text = "马来西亚投资、贸易与工业部宣布，对美国AI芯片的出口实施许可制度，出口前须申报。"
    result = tag_text(text)
    assert result.read_stance == ("restrict", "MY")
    assert {a.id for a in result.tags.agencies} == {"MY:MITI"}


def test_a_chinese_country_pair_is_no_actor_and_a_question_ends_a_clause() -> None:
    # 中美 names both countries at once; after the question the company acts on its own
    result = tag_text("中美角力开打?台积电暂停为中国客户制造先进AI芯片")
    assert result.read_stance == ("none", None)


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        (
            "The Dutch government said ASML will no longer be allowed to ship scanners to China.",
            "restrict",
        ),
        (
            "Washington said Nvidia won't be permitted to sell H20 chips in China.",
            "restrict",
        ),
        (
            "The ministry said Nvidia has yet to be allowed to ship H20 chips to China.",
            "none",
        ),
        ("Washington allowed Nvidia to sell H20 chips in China.", "ease"),
    ],
)
def test_a_denied_permission_restricts_and_a_pending_one_is_no_move(
    sentence: str, stance: str
) -> None:
    assert tag_text(sentence).stance == stance


def carve_outs(result: TagResult) -> list[str]:
    return [
        cue.surface
        for sentence in result.explanation.sentences
        for cue in sentence.cues
        if cue.carve_out and cue.outcome == "signal"
    ]


def test_an_exemption_inside_a_restriction_is_an_easing_move_of_its_own() -> None:
    result = tag_text(
        "The U.S. president said Washington will impose a 100% tariff on imported chips, "
        "although exemptions will be made for companies that build plants in America."
    )
    assert carve_outs(result) == ["exemptions"]
    assert {m.weighted.direction for m in result.moves if not m.background} == {
        "restrict",
        "ease",
    }
    assert result.features["can_mixed"] == 1.0


def test_firms_a_carve_out_spares_are_not_the_ones_acting() -> None:
    result = tag_text(
        "Washington put a 25% tariff on advanced chips. Companies that build chips in the "
        "United States will be exempt from the tariff."
    )
    assert ("semiconductors", "US", "ease") in moves(result, 0.0)
    assert carve_outs(result) == ["tariff"]


def test_unless_scopes_a_restriction_and_spares_no_one() -> None:
    result = tag_text(
        "Officials in Beijing told internet companies not to buy Nvidia's H200 unless the "
        "purchase is essential."
    )
    assert carve_outs(result) == []
    assert result.stance == "restrict"


def test_extending_a_licence_eases() -> None:
    result = tag_text(
        "The U.S. Commerce Department extended Huawei's temporary general licence by 90 days."
    )
    assert ("Huawei", "US", "ease") in moves(result, 0.0)


def _restrictions(text: str) -> list[tuple[str, list[str]]]:
    result = tag_text(text)
    return [
        (c.surface, c.notes)
        for s in result.explanation.sentences
        for c in s.cues
        if c.direction == "restrict" and c.outcome == "signal"
    ]


@pytest.mark.parametrize(
    "text",
    [
        # the pronoun stands before a list of measures that ends in the cue
        "Commerce on Friday dropped a rule that extended entity list and military end-user "
        "restrictions to affiliates of chip firms.",
        # the measure's name is followed by when it was made, then ", that"
        "Commerce on Friday scrapped the provisions issued on 4 May, 2023, that extended "
        "export licence restrictions to affiliates of chip firms.",
    ],
)
def test_a_restriction_inside_what_is_undone_describes_it(text: str) -> None:
    found = _restrictions(text)
    assert found
    for _, notes in found:
        assert any(n.startswith("describes a measure already there") for n in notes)


def test_a_new_rule_that_restricts_is_the_news() -> None:
    text = "Commerce on Friday published a new rule, which extended export licence restrictions."
    found = _restrictions(text)
    assert found
    assert not any(n.startswith("describes") for _, notes in found for n in notes)
