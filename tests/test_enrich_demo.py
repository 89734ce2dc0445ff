"""The demo scenario, in our own sentences: each story yields the move a reader takes
from it, and unrelated tech stories yield none."""

from __future__ import annotations

import pytest

from enrich.tag import tag_text

POLICY_STORIES = [
    (
        "Beijing customs halts Nvidia H200 at the border",
        "China's customs administration has told clearing agents that Nvidia's H200 "
        "processors are not permitted into the country, two people with knowledge of the "
        "instruction said on Wednesday. Shipments already in transit are being held.",
        ("H200", "CN", "restrict", "import_restriction"),
    ),
    (
        "Chinese tech groups told to hold off on H200 orders",
        "Officials in Beijing have instructed several large internet companies not to buy "
        "Nvidia's H200 unless the purchase is essential, according to three sources. The "
        "guidance was delivered at meetings this week.",
        ("H200", "CN", "restrict", "purchase_guidance"),
    ),
    (
        "Washington approves H200 sales to China in exchange for a 25% cut",
        "The U.S. Commerce Department approved exports of Nvidia's H200 to approved "
        "customers in China on Tuesday, with the government collecting 25% of the revenue. "
        "The rule replaces a blanket licence requirement that had stood since 2023.",
        ("H200", "US", "ease", "export_approval"),
    ),
    (
        "China signs off on first H200 imports for big internet firms",
        "Chinese authorities have approved the first imports of Nvidia's H200 chips, with "
        "the initial batch going to three of the country's largest internet platforms, "
        "people familiar with the decision said.",
        ("H200", "CN", "ease", "import_approval"),
    ),
]

UNRELATED_STORIES = [
    (
        "Chipmaker unveils faster laptop processor at trade show",
        "Intel unveiled a new laptop processor on Monday, promising longer battery life and "
        "better gaming performance. The chips will be available in notebooks from Dell and "
        "Lenovo next quarter, the company said at its keynote.",
    ),
    (
        "Nvidia shares climb after record data-centre revenue",
        "Nvidia reported quarterly revenue above analysts' estimates on Wednesday, driven by "
        "demand for its Blackwell systems, and its shares rose 4% in extended trading. The "
        "company said export controls had little effect on the quarter's results.",
    ),
]


@pytest.mark.parametrize(("title", "text", "expected"), POLICY_STORIES)
def test_policy_story_yields_its_move(title: str, text: str, expected: tuple[str, ...]) -> None:
    result = tag_text(text, title=title)
    subject, jurisdiction, direction, action = expected
    moves = {(s.subject, s.jurisdiction, s.direction, s.action) for s in result.signals}
    assert (subject, jurisdiction, direction, action) in moves
    # the reading's conclusion: the fitted decider is measured on real news, not on our
    # own prose (docs/TAXONOMY.md); the demo's alert is checked end to end
    assert result.read_stance == (direction, jurisdiction)
    assert result.relevance >= 0.5


@pytest.mark.parametrize(("title", "text"), UNRELATED_STORIES)
def test_unrelated_story_yields_no_confident_signal(title: str, text: str) -> None:
    result = tag_text(text, title=title)
    assert [s for s in result.signals if s.confidence >= 0.6] == []
    assert result.relevance < 0.5
    assert result.stance == "none"
