"""The page's pure parts: a search's URL round trip, facet toggles, the weekly
histogram, and an article's text with its evidence marked."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from chipwire.contract import EnrichedArticle, Signal
from chipwire.web.view import SearchForm, histogram, marked_text
from index.backend import FacetBucket
from index.query import QueryError
from tests.test_search_samples import CUSTOMS


def form_of(url: str) -> SearchForm:
    return SearchForm.from_params(parse_qsl(urlsplit(url).query))


def test_a_search_url_round_trips_with_every_filter() -> None:
    url = (
        "/?query=H200+AND+customs&chips=H200&chips=H20&companies=nvidia&agencies=CN%3AGAC"
        "&countries=CN&jurisdiction=CN&stance=restrict&since=2026-01-01&until=2026-02-01"
        "&sort=newest&page=2"
    )
    form = form_of(url)
    assert form.url(page=2) == url
    req = form.request()
    assert (req.query, req.chips, req.agencies, req.stance) == (
        "H200 AND customs",
        ["H200", "H20"],
        ["CN:GAC"],
        ["restrict"],
    )
    assert req.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert (req.sort, req.offset, req.limit) == ("newest", 20, 20)


def test_empty_fields_are_ignored_and_a_new_search_starts_on_page_one() -> None:
    form = form_of("/?query=&chips=&chips=H200&companies=&page=3")
    assert form.filters == {"chips": ["H200"]}
    assert form.url() == "/?chips=H200"


def test_a_facet_link_adds_its_value_and_a_chosen_one_removes_it() -> None:
    form = form_of("/?query=H200&stance=ease&page=4")
    assert form.toggle_url("chips", "H200") == "/?query=H200&chips=H200&stance=ease"
    assert form.toggle_url("stance", "ease") == "/?query=H200"


def test_the_json_link_is_the_same_search_on_the_api() -> None:
    form = form_of("/?query=H200&since=2026-01-01&page=2")
    params = dict(parse_qsl(urlsplit(form.api_url()).query))
    assert params == {
        "query": "H200",
        "since": "2026-01-01T00:00:00Z",
        "limit": "20",
        "offset": "20",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [("/?since=yesterday", "not a date"), ("/?stance=calm", "unknown stance")],
)
def test_a_bad_filter_is_a_message_for_the_analyst(url: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        form_of(url).request()


def test_the_histogram_stacks_stances_per_week_and_shows_quiet_weeks() -> None:
    buckets = [
        FacetBucket(key="2026-01-12/restrict", count=2),
        FacetBucket(key="2026-01-12/ease", count=1),
        FacetBucket(key="2026-01-26/ease", count=3),
    ]
    chart = histogram(buckets)
    assert chart is not None
    assert (chart.first, chart.last) == ("2026-01-12", "2026-01-26")
    assert [b.label for b in chart.bars] == [
        "week of 2026-01-12: 2 restrict",
        "week of 2026-01-12: 1 ease",
        "week of 2026-01-26: 3 ease",
    ]
    assert chart.bars[2].x == pytest.approx(2 * chart.width / 3)  # the quiet week is a gap
    assert chart.bars[2].height == pytest.approx(chart.height - 14)  # the tallest week
    assert histogram([]) is None


def with_evidence(*sentences: str, filler: str = "Markets were calm. ") -> EnrichedArticle:
    """CUSTOMS with a text holding each sentence, and one signal per sentence."""
    text, signals = "", list[Signal]()
    for sentence in sentences:
        text += filler
        signals.append(
            Signal(
                subject="H200",
                jurisdiction="CN",
                action="import_restriction",
                direction="restrict",
                evidence=sentence,
                evidence_start=len(text),
                evidence_end=len(text) + len(sentence),
                confidence=0.9,
            )
        )
        text += sentence + " "
    return CUSTOMS.model_copy(update={"text": text + "The end.", "signals": signals})


def test_each_evidence_sentence_is_marked_once_in_the_text() -> None:
    first, second = "Customs said H200 may not enter.", "Firms were told not to buy."
    article = with_evidence(first, second)
    segments = marked_text(article)
    assert "".join(s.text for s in segments) == article.text
    assert [(s.text, s.signal) for s in segments if s.signal is not None] == [
        (first, 0),
        (second, 1),
    ]


def test_evidence_with_stale_offsets_is_found_by_its_words() -> None:
    article = with_evidence("Customs said H200 may not enter.")
    stale = article.signals[0].model_copy(update={"evidence_start": 0, "evidence_end": 3})
    moved = article.model_copy(update={"signals": [stale, stale]})  # the same sentence twice
    assert [s.text for s in marked_text(moved) if s.signal is not None] == [stale.evidence]
