"""Talk about a move (weighed, sought by lawmakers, commented on, looked back at) against a
move told as the story's own news: the features enrich.talk gives the decider, on
sentences of our own in the languages the word classes cover."""

from __future__ import annotations

import pytest

from enrich.match import matcher
from enrich.tag import tag_text
from enrich.talk import TALK_CLASSES, sentence_talk


def talk_features(title: str, text: str) -> dict[str, float]:
    features = tag_text(text, title).features
    return {k: v for k, v in features.items() if k.startswith("talk_") or "_free_" in k}


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
    ],
)
def test_each_language_marks_its_talk_class(sentence: str, expected: str) -> None:
    assert expected in sentence_talk(matcher().find(sentence))


def test_a_plain_move_holds_no_talk() -> None:
    found = sentence_talk(matcher().find("Japan imposed export licences on 14 chip tools in May"))
    assert found == frozenset()


def test_a_move_told_as_news_stands_free_of_talk() -> None:
    features = talk_features(
        "U.S. adds chip toolmaker Qingshan to the entity list",
        "The Commerce Department on Monday added the Chinese toolmaker Qingshan to the entity "
        "list, barring sales of U.S. equipment to it without a licence.",
    )
    assert features["restrict_free_up_front"] > 0
    assert features["talk_share"] == 0
    assert all(features[f"talk_{name}_lead"] == 0 for name in TALK_CLASSES)


def test_a_move_only_lawmakers_ask_for_stands_in_talk() -> None:
    features = talk_features(
        "Senators press Commerce to blacklist chip toolmaker Qingshan",
        "A bipartisan group of senators on Monday wrote to the Commerce Department asking it "
        "to add the Chinese toolmaker Qingshan to the entity list.",
    )
    assert features["talk_legislators_lead"] == 1
    assert features["restrict_free_up_front"] == 0


def test_a_weighed_move_counts_as_considered_not_free() -> None:
    features = talk_features(
        "Tokyo weighs export licences for chip cleaning tools",
        "Japan's trade ministry is weighing a licence requirement on wafer-cleaning tools "
        "shipped to China, two officials said.",
    )
    assert features["talk_considered_lead"] == 1
    assert features["restrict_free_up_front"] == 0


def test_may_the_month_is_no_talk_but_may_the_verb_is() -> None:
    assert sentence_talk(matcher().find("Seoul lifted the curbs in May")) == frozenset()
    assert "considered" in sentence_talk(matcher().find("Seoul may lift the curbs soon"))
