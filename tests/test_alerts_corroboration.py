"""Corroboration, hysteresis and what counts as an observation: the alerter's reading of a
pair's reports, on the pure state machine and the real observation filter."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.observe import observations_of
from alerts.publishers import is_government, publisher_key, registered_domain
from chipwire.settings import Settings
from tests.alertkit import article, changes, memory_alerter, transitions

RESTRICTED = [
    article(1, "restrict", 1, "a.example.com"),
    article(2, "restrict", 2, "b.example.org"),
]


def test_registered_domains_and_government_hosts() -> None:
    assert registered_domain("https://www.bbc.co.uk/news/1") == "bbc.co.uk"
    assert registered_domain("https://amp.scmp.com/x") == registered_domain("https://www.scmp.com")
    assert publisher_key("http://127.0.0.1:8080/a", "demo-wire") == "source:demo-wire"
    s = Settings()
    for url in (
        "https://www.mofcom.gov.cn/a",
        "https://www.bis.doc.gov/x",
        "https://www.meti.go.jp/x",
        "https://www.government.nl/x",
        "https://policy.trade.ec.europa.eu/x",
    ):
        assert is_government(url, s.alert_official_domains, s.alert_official_sites), url
    for url in ("https://www.reuters.com/x", "https://govt.com/x", "https://gov.example.com/x"):
        assert not is_government(url, s.alert_official_domains, s.alert_official_sites), url


def test_first_confirmed_state_is_not_a_shift() -> None:
    found = changes(RESTRICTED)
    assert [(c.previous, c.current, c.is_shift) for c in found] == [(None, "restrict", False)]


def test_one_outlet_is_pending_two_independent_outlets_confirm() -> None:
    lone = [*RESTRICTED, article(3, "ease", 15, "c.example.net")]
    assert transitions(lone) == [(None, "restrict")]
    confirmed = [*lone, article(4, "ease", 16, "d.example.info")]
    found = changes(confirmed)
    assert [(c.previous, c.current) for c in found] == [(None, "restrict"), ("restrict", "ease")]
    shift = found[-1]
    assert [o.article_id for o in shift.evidence] == ["a3", "a4"]
    assert shift.opened_at < shift.confirmed_at


def test_one_publisher_twice_or_a_syndicated_copy_does_not_corroborate() -> None:
    same_site = [
        *RESTRICTED,
        article(3, "ease", 15, "www.c.example.net"),
        article(4, "ease", 16, "amp.c.example.net"),  # same registered domain
    ]
    assert transitions(same_site) == [(None, "restrict")]
    syndicated = [
        *RESTRICTED,
        article(3, "ease", 15, "c.example.net", story="s-approval"),
        article(4, "ease", 16, "d.example.info", story="s-approval"),  # the same story
    ]
    assert transitions(syndicated) == [(None, "restrict")]


def test_one_official_source_confirms_alone() -> None:
    marked = [*RESTRICTED, article(3, "ease", 15, "c.example.net", official=True)]
    assert transitions(marked)[-1] == ("restrict", "ease")
    by_domain = [*RESTRICTED, article(3, "ease", 15, "www.mofcom.gov.cn")]
    assert transitions(by_domain)[-1] == ("restrict", "ease")


def test_corroboration_must_come_within_the_window() -> None:
    apart = [*RESTRICTED, article(3, "ease", 15, "c.example"), article(4, "ease", 23, "d.example")]
    assert transitions(apart) == [(None, "restrict")]
    assert transitions(apart, alert_window_days=10)[-1] == ("restrict", "ease")


def test_a_lone_contrary_report_is_visible_and_moves_nothing(tmp_path: Path) -> None:
    alerter = memory_alerter(Settings(data_dir=tmp_path))
    for a in [*RESTRICTED, article(3, "ease", 5, "c.example.net")]:
        alerter.ingest(a)
    state = alerter.state("H200", "CN")
    assert (state.confirmed, state.pending, state.pending_publishers) == ("restrict", "ease", 1)
    assert [o.article_id for o in state.contrary] == ["a3"]
    assert alerter.evaluate({("H200", "CN")}, article(3, "ease", 5).fetched_at) == []


def test_mixed_evidence_in_one_window_confirms_nothing() -> None:
    mixed = [
        *RESTRICTED,
        article(3, "ease", 20, "c.example"),
        article(4, "restrict", 21, "d.example"),
        article(5, "restrict", 21.5, "f.example"),
        article(6, "ease", 22, "e.example"),  # two outlets each way inside one window
    ]
    assert transitions(mixed) == [(None, "restrict")]
    # once the contrary reports leave the window, new corroboration moves the state
    later = [*mixed, article(7, "ease", 29.5, "g.example"), article(8, "ease", 30, "h.example")]
    assert transitions(later) == [(None, "restrict"), ("restrict", "ease")]


def test_only_current_confident_relevant_news_counts() -> None:
    s = Settings()
    assert observations_of(article(1, "ease", 1, confidence=0.3), s) == []
    assert observations_of(article(1, "ease", 1, relevance=0.2), s) == []
    proposed = observations_of(article(1, "ease", 1, certainty="proposed"), s)
    assert [o.certainty for o in proposed] == ["proposed"]  # kept for subscriptions that ask
    proposals = [*RESTRICTED]
    proposals += [article(n, "ease", 15, f"p{n}.example", certainty="proposed") for n in (3, 4)]
    assert transitions(proposals) == [(None, "restrict")]


def test_another_government_named_in_passing_needs_a_clear_majority() -> None:
    lead = article(1, "restrict", 1, jurisdiction="US")
    passing = article(2, "ease", 2, confidence=0.7)  # CN ease, only in passing
    both = lead.model_copy(update={"signals": lead.signals + passing.signals})
    found = observations_of(both, Settings())
    assert [(o.subject, o.jurisdiction, o.direction) for o in found] == [("H200", "US", "restrict")]


def test_generic_subjects_keep_a_state_but_raise_no_alert(tmp_path: Path) -> None:
    alerter = memory_alerter(Settings(data_dir=tmp_path))
    reports = [
        article(1, "restrict", 1, "a.example", subject="ai-chips"),
        article(2, "restrict", 2, "b.example", subject="ai-chips"),
        article(3, "ease", 15, "c.example", subject="ai-chips"),
        article(4, "ease", 16, "d.example", subject="ai-chips"),
    ]
    for a in reports:
        alerter.ingest(a)
    assert alerter.state("ai-chips", "CN").confirmed == "ease"
    assert alerter.evaluate({("ai-chips", "CN")}, reports[-1].fetched_at) == []


# -- properties ---------------------------------------------------------------------------

STORY = st.tuples(
    st.sampled_from(["restrict", "ease"]),
    st.integers(min_value=0, max_value=60),  # day
    st.sampled_from(["a.example", "b.example", "c.example", "d.example"]),
    st.booleans(),  # official
)


def _articles(stories: list[tuple[str, int, str, bool]]) -> list:  # type: ignore[type-arg]
    return [
        article(n, d, day, pub, official=off and n % 5 == 0)
        for n, (d, day, pub, off) in enumerate(stories)
    ]


def _shifts(articles: list) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
    return [(c.id, c.previous, c.current, c.confirmed_at) for c in changes(articles)]


@settings(max_examples=150)
@given(st.lists(STORY, max_size=14), st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_confirmed_shifts(stories, rnd) -> None:  # type: ignore[no-untyped-def]
    articles = _articles(stories)
    shuffled = list(articles)
    rnd.shuffle(shuffled)
    assert _shifts(shuffled) == _shifts(articles)


@settings(max_examples=150)
@given(
    st.lists(STORY, min_size=1, max_size=12),
    st.integers(min_value=0, max_value=11),
    st.sampled_from(["redelivery", "syndicated"]),
    st.integers(min_value=0, max_value=5),
)
def test_a_duplicate_article_never_opens_a_shift(stories, which, kind, later) -> None:  # type: ignore[no-untyped-def]
    articles = _articles(stories)
    original = articles[which % len(articles)]
    if kind == "redelivery":
        duplicate = original
    else:  # another outlet's copy of the same story, published later
        assert original.published_at is not None
        duplicate = original.model_copy(
            update={
                "id": original.id + "-copy",
                "url": "https://copy.example/" + original.id,
                "source": original.source.model_copy(update={"id": "copy", "official": True}),
                "published_at": original.published_at.replace(hour=1 + later),
            }
        )
    before = {(p, c) for p, c in transitions(articles)}
    after = transitions([*articles, duplicate])
    assert len(after) == len(transitions(articles))
    assert {(p, c) for p, c in after} == before
