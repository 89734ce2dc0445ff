"""Canonical URLs and article ids: one spelling, one id, whatever the feed decorates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.provisional import urls

from chipwire.contract import article_id
from ingest.canonical import canonical_url, is_http_url


def test_tracking_parameters_fragment_case_and_default_port_go() -> None:
    assert (
        canonical_url("HTTPS://News.Example.com:443/a/./b/../c?utm_source=rss&fbclid=1&id=7#top")
        == "https://news.example.com/a/c?id=7"
    )


def test_same_article_same_id_across_spellings() -> None:
    ids = {
        article_id(canonical_url(u))
        for u in (
            "https://news.example/story?utm_medium=feed",
            "https://NEWS.example/story#comments",
            "https://news.example:443/story",
        )
    }
    assert len(ids) == 1


def test_meaningful_query_parameters_are_kept_and_sorted() -> None:
    assert canonical_url("https://x.example/a?b=2&a=1") == "https://x.example/a?a=1&b=2"


@given(urls())
def test_canonicalization_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(urls())
def test_ids_are_stable_hex(url: str) -> None:
    aid = article_id(canonical_url(url))
    assert len(aid) == 32 and int(aid, 16) >= 0
    assert aid == article_id(canonical_url(url))


@given(st.text(max_size=50))
def test_only_http_urls_are_fetchable(text: str) -> None:
    if is_http_url(text):
        assert text.split(":", 1)[0] in ("http", "https")
