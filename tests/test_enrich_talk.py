"""Talk about a move (weighed, sought by lawmakers, commented on, looked back at) against a
move told as the story's own news: the features enrich.talk gives the decider, on
sentences of our own in the languages the word classes cover."""

from __future__ import annotations

import pytest

from enrich.match import matcher
from enrich.tag import TagResult, tag_text
from enrich.talk import sentence_talk


def talk_features(result: TagResult) -> dict[str, float]:
    return {k: v for k, v in result.features.items() if k.startswith("talk_")}


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Washington weighs new limits on memory chip sales", "considered"),
        ("Seoul is studying a licence rule for lithography tools", "considered"),
        ("商务部拟对部分芯片设备实施出口许可", "considered"),
        ("산업부, 반도체 장비 수출 허가제 검토", "considered"),
        ("経産省が半導体装置の輸出規制を検討", "considered"),
        ("Berlin erwägt Auflagen für Chipfabriken", "considered"),
        ("Paris envisage de limiter les ventes de puces", "considered"),
        ("Madrid estudia restringir la venta de chips", "considered"),
        ("Two senators introduced a bill to curb chip tool sales", "legislators"),
        ("多名美国议员提出法案 限制芯片设备出口", "legislators"),
        ("野党議員が半導体の輸出規制を提案", "legislators"),
        ("야당 의원, 반도체 수출 규제 법안 발의", "legislators"),
        ("Abgeordnete verlangen strengere Regeln für Chipexporte", "legislators"),
        ("Beijing condemns the new chip tool curbs", "commentary"),
        ("The industry group urges Tokyo to drop the licence plan", "commentary"),
        ("外交部谴责美方芯片出口管制", "commentary"),
        ("정부, 반도체 규제 철회 촉구", "commentary"),
        ("中国政府が半導体規制に抗議", "commentary"),
        ("Die Branche fordert Ausnahmen von den Chipzöllen", "commentary"),
        ("Since 2022 the rules have tightened three times, a think tank says", "retrospective"),
        ("一份智库报告回顾芯片管制", "retrospective"),
        ("Tokyo is drafting a planned rule on wafer tool sales", "considered"),
        ("北京正在制定芯片进口规范", "considered"),
        ("台北已著手設計新的晶片出口許可制度", "considered"),
        ("青山国的芯片新规——评出口管制的得失", "commentary"),
        ("商务部新闻发言人就芯片出口管制答记者问", "commentary"),
        ("An explainer on three years of chip export rules", "retrospective"),
    ],
)
def test_each_language_marks_its_talk_class(sentence: str, expected: str) -> None:
    assert expected in sentence_talk(matcher().find(sentence))


def test_a_plain_move_holds_no_talk() -> None:
    found = sentence_talk(matcher().find("Japan imposed export licences on 14 chip tools in May"))
    assert found == frozenset()


def test_a_move_told_as_news_stands_free_of_talk() -> None:
    result = tag_text(
        "The Commerce Department on Monday added the Chinese toolmaker Qingshan to the entity "
        "list, barring sales of U.S. equipment to it without a licence.",
        "U.S. adds chip toolmaker Qingshan to the entity list",
    )
    assert talk_features(result) == {"talk_lead": 0.0, "talk_share": 0.0}
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "US")


def test_a_move_only_lawmakers_ask_for_stands_in_talk() -> None:
    result = tag_text(
        "A bipartisan group of senators on Monday wrote to the Commerce Department asking it "
        "to add the Chinese toolmaker Qingshan to the entity list.",
        "Senators press Commerce to blacklist chip toolmaker Qingshan",
    )
    assert talk_features(result) == {"talk_lead": 1.0, "talk_share": 1.0}
    assert result.stance == "none"


def test_a_weighed_move_is_talk_and_the_same_move_imposed_is_news() -> None:
    weighed = tag_text(
        "Japan's trade ministry is weighing a licence requirement on wafer-cleaning tools "
        "shipped to China, two officials said.",
        "Tokyo weighs export licences for chip cleaning tools",
    )
    imposed = tag_text(
        "Japan's trade ministry on Friday imposed a licence requirement on wafer-cleaning "
        "tools shipped to China.",
        "Tokyo imposes export licences for chip cleaning tools",
    )
    assert talk_features(weighed)["talk_lead"] == 1
    assert talk_features(imposed)["talk_lead"] == 0
    assert (weighed.stance, imposed.stance) == ("none", "restrict")


def test_only_the_weighed_talk_features_are_read() -> None:
    result = tag_text("Beijing condemns the new chip tool curbs", "")
    assert set(talk_features(result)) == {"talk_lead", "talk_share"}
    assert not any("_free_" in name for name in result.features)


def test_may_the_month_is_no_talk_but_may_the_verb_is() -> None:
    assert sentence_talk(matcher().find("Seoul lifted the curbs in May")) == frozenset()
    assert "considered" in sentence_talk(matcher().find("Seoul may lift the curbs soon"))


def test_a_chinese_agreement_is_no_japanese_consultation() -> None:
    assert sentence_talk(matcher().find("中美达成贸易协议，美方取消芯片关税")) == frozenset()
    assert "considered" in sentence_talk(matcher().find("日本政府は輸出規制の協議を始めた"))
