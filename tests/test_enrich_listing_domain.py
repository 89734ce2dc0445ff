"""An export-list move is a chip move only when the text names chips, chip tools or
chipmakers: "entity list" alone supports other chip evidence but is none itself.
Sentences are invented."""

from __future__ import annotations

from enrich.domain import about_chips
from enrich.match import fold, matcher
from enrich.tag import tag_text

RELEVANT = 0.5

NO_CHIPS = (
    "Washington added nine makers of drones, surveillance cameras and textile machinery "
    "to the Entity List on Tuesday, citing their links to the military. Firms owned 50% or "
    "more by listed parties now face the same licence requirements, the Commerce "
    "Department said in its final rule."
)
CHIPMAKERS = (
    "Washington added nine chipmakers, among them two memory makers and a foundry, to the "
    "Entity List on Tuesday, citing their links to the military. Firms owned 50% or more "
    "by listed parties now face the same licence requirements, the Commerce Department said."
)


def evidence(text: str) -> tuple[bool, float]:
    return about_chips(matcher().find(text), fold(text))


def test_a_listing_of_firms_that_make_no_chips_is_no_chip_move() -> None:
    assert evidence(NO_CHIPS) == (False, 0.0)
    assert tag_text(NO_CHIPS).relevance < RELEVANT


def test_a_listing_of_chipmakers_is_one() -> None:
    assert evidence(CHIPMAKERS)[0]
    assert tag_text(CHIPMAKERS).relevance >= RELEVANT
