"""A wire dateline ("BEIJING (Reuters) -") names the government an article reports on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from enrich.context import dateline_country
from enrich.lexicon import load_lexicon
from enrich.tag import tag_text

CAPITALS = sorted(load_lexicon().dateline_capitals.items())


@given(
    st.sampled_from(CAPITALS),
    st.sampled_from(["", ", Dec 2", ", Oct. 12", ", July 31"]),
    st.sampled_from(["", " (Reuters)", " (Xinhua)", " (dpa-AFX)"]),
    st.sampled_from(["-", "—", "–", "--"]),
    st.text(max_size=40),
)
def test_a_dateline_in_any_wire_form_names_its_capitals_country(
    capital: tuple[str, str], date: str, agency: str, dash: str, rest: str
) -> None:
    name, country = capital
    assert dateline_country(f"{name}{date}{agency} {dash} {rest}", load_lexicon()) == country


@given(st.text(max_size=300))
def test_any_text_gives_a_known_country_or_none(text: str) -> None:
    assert dateline_country(text, load_lexicon()) in {None, *dict(CAPITALS).values()}


def test_a_place_that_is_no_capital_or_a_company_is_no_dateline() -> None:
    assert dateline_country("NEW YORK (Reuters) - Shares rose.", load_lexicon()) is None
    assert dateline_country("AMD - the chipmaker said.", load_lexicon()) is None


def test_the_dateline_decides_which_commerce_ministry_acts() -> None:
    sentence = (
        "The commerce ministry said on Monday it would restrict exports of gallium for chips."
    )
    beijing = tag_text(f"BEIJING (Reuters) - {sentence}")
    assert [a.id for a in beijing.tags.agencies] == ["CN:MOFCOM"]
    assert (beijing.stance, beijing.acting_jurisdiction) == ("restrict", "CN")
