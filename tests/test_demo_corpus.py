"""The offline demo: the sample corpus and the loopback server that serves it."""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlsplit

import feedparser
import httpx
import lxml.html
import pytest
import trafilatura
import yaml
from protego import Protego

from chipwire.demo import DEMO_ARTICLES, DEMO_OUTLETS, DemoArticle, DemoServer, serve_demo
from chipwire.demo import sources_yaml as make_sources_yaml

TIMEOUT = httpx.Timeout(5.0)
CHROME_XPATH = (
    "//nav | //footer | //header[not(ancestor::article)] | //aside | //ol[@class='breadcrumbs']"
    " | //*[@id='menu' or @id='footer' or @id='top-bar']"
    " | //*[contains(@class, 'nav') or contains(@class, 'related') or contains(@class, 'more-')"
    " or contains(@class, 'newsletter') or contains(@class, 'subscribe')"
    " or contains(@class, 'signup')"
    " or contains(@class, 'share') or contains(@class, 'social') or contains(@class, 'footer')]"
)


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with serve_demo() as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT) as c:
        yield c


@pytest.fixture(scope="module")
def pages(server: DemoServer, client: httpx.Client) -> dict[str, bytes]:
    return {a.key: client.get(a.url(server.base_url)).content for a in DEMO_ARTICLES}


@pytest.fixture(scope="module")
def extracted(pages: dict[str, bytes]) -> dict[str, str]:
    texts = {key: trafilatura.extract(html) for key, html in pages.items()}
    assert all(texts.values()), "trafilatura extracted nothing from some page"
    return {key: str(text) for key, text in texts.items()}


def by_key(key: str) -> DemoArticle:
    return next(a for a in DEMO_ARTICLES if a.key == key)


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def chrome_snippets(html: bytes) -> set[str]:
    """Text of the page furniture: menus, breadcrumbs, share, related, newsletter, footer."""
    tree = lxml.html.fromstring(html)
    snippets = set()
    for element in tree.xpath(CHROME_XPATH):
        for piece in element.itertext():
            snippet = " ".join(piece.split())
            if len(snippet) >= 12:
                snippets.add(snippet)
    return snippets


def related_headlines(html: bytes) -> list[str]:
    """Headlines in the page's 'Related articles' block, found by its heading."""
    tree = lxml.html.fromstring(html)
    heading = tree.xpath("//*[normalize-space(text())='Related articles']")[0]
    block = heading.getparent()
    return [" ".join(link.text_content().split()) for link in block.iter("a")]


# --- the corpus itself --------------------------------------------------------------


def test_corpus_tells_restrict_then_ease_in_date_order() -> None:
    dates = [a.date for a in DEMO_ARTICLES]
    assert dates == sorted(dates)
    china = [a.direction for a in DEMO_ARTICLES if a.jurisdiction == "CN" and a.relevant]
    assert china[0] == "restrict" and china[-1] == "ease"
    first_ease = china.index("ease")
    assert set(china[:first_ease]) == {"restrict"} and set(china[first_ease:]) == {"ease"}


def test_corpus_covers_the_brief() -> None:
    def count(direction: str | None, jurisdiction: str | None, action: str | None = None) -> int:
        return sum(
            a.direction == direction
            and a.jurisdiction == jurisdiction
            and (action is None or a.action == action)
            for a in DEMO_ARTICLES
        )

    assert count("restrict", "CN", "import_restriction") == 2
    assert count("restrict", "CN", "purchase_guidance") == 1
    assert count("ease", "US", "export_approval") == 1
    assert count("ease", "CN", "import_approval") == 4  # three outlets and a syndicated copy
    unrelated = [a for a in DEMO_ARTICLES if not a.relevant]
    assert 4 <= len(unrelated) <= 5
    assert all(a.direction is None and a.jurisdiction is None for a in unrelated)
    assert all(a.direction is not None for a in DEMO_ARTICLES if a.relevant)
    assert len({a.outlet for a in DEMO_ARTICLES}) == len(DEMO_OUTLETS) >= 4


def test_every_article_is_a_real_length_news_story() -> None:
    for a in DEMO_ARTICLES:
        words = len(a.text.split())
        assert 150 <= words <= 450, (a.key, words)
        assert a.authors and a.title and len(a.body) >= 3


def test_exactly_one_syndicated_copy_of_an_existing_story() -> None:
    copies = [a for a in DEMO_ARTICLES if a.near_copy_of]
    assert len(copies) == 1
    original = by_key(str(copies[0].near_copy_of))
    assert original.outlet != copies[0].outlet
    assert (original.direction, original.jurisdiction) == (
        copies[0].direction,
        copies[0].jurisdiction,
    )


# --- feeds ---------------------------------------------------------------------------


def test_every_feed_parses_cleanly_and_links_to_its_pages(
    server: DemoServer, client: httpx.Client
) -> None:
    for outlet in DEMO_OUTLETS:
        response = client.get(server.feed_url(outlet.id))
        assert response.status_code == 200
        feed = feedparser.parse(response.content)
        assert feed.bozo == 0, (outlet.id, feed.get("bozo_exception"))
        assert feed.version.startswith("atom" if outlet.feed_format == "atom" else "rss")
        mine = sorted((a for a in DEMO_ARTICLES if a.outlet == outlet.id), key=lambda a: a.date)
        assert [urlsplit(e.link).path for e in feed.entries] == [a.path for a in reversed(mine)]
        for entry, article in zip(feed.entries, reversed(mine), strict=True):
            assert entry.title == article.title
            published = entry.get("published_parsed") or entry.get("updated_parsed")
            assert datetime(*published[:6]).date() == article.date.date()


def test_some_feeds_add_tracking_parameters_to_links(
    server: DemoServer, client: httpx.Client
) -> None:
    queries = []
    for outlet in DEMO_OUTLETS:
        feed = feedparser.parse(client.get(server.feed_url(outlet.id)).content)
        queries += [urlsplit(e.link).query for e in feed.entries]
    assert any("utm_source=rss" in q for q in queries)
    assert any(q == "" for q in queries)
    tracked = next(
        e.link
        for o in DEMO_OUTLETS
        for e in feedparser.parse(client.get(server.feed_url(o.id)).content).entries
        if "utm_" in e.link
    )
    assert client.get(tracked).status_code == 200


def test_sources_yaml_lists_every_feed(server: DemoServer, client: httpx.Client) -> None:
    sources = yaml.safe_load(make_sources_yaml(server.base_url))["sources"]
    assert [s["id"] for s in sources] == [o.id for o in DEMO_OUTLETS]
    for source in sources:
        assert "(sample)" in source["name"]
        assert client.get(source["feed"]).status_code == 200


# --- pages ---------------------------------------------------------------------------


def test_trafilatura_extracts_the_body_without_the_chrome(
    pages: dict[str, bytes], extracted: dict[str, str]
) -> None:
    for key, text in extracted.items():
        article = by_key(key)
        assert article.lead in text and article.body[-1] in text, key
        chrome = chrome_snippets(pages[key])
        assert len(chrome) >= 8, key
        for snippet in chrome - {s for s in chrome if s in article.text}:
            assert snippet not in text, (key, snippet)
        for headline in related_headlines(pages[key]):
            assert headline not in text, (key, headline)


def test_a_related_block_carries_headlines_of_the_opposite_stance(
    pages: dict[str, bytes], extracted: dict[str, str]
) -> None:
    titles = {a.title: a for a in DEMO_ARTICLES}
    opposite_pairs = [
        (key, headline)
        for key, html in pages.items()
        for headline in related_headlines(html)
        if headline in titles
        and by_key(key).direction is not None
        and titles[headline].direction not in (None, by_key(key).direction)
    ]
    assert opposite_pairs
    for key, headline in opposite_pairs:
        assert headline not in extracted[key]


def test_every_page_is_marked_sample_data_and_carries_metadata(pages: dict[str, bytes]) -> None:
    for key, html in pages.items():
        article = by_key(key)
        tree = lxml.html.fromstring(html)
        assert "SAMPLE DATA" in tree.text_content()
        assert tree.xpath("string(//meta[@property='og:title']/@content)") == article.title
        published = tree.xpath("string(//meta[@property='article:published_time']/@content)")
        assert datetime.fromisoformat(published) == article.date
        assert tree.xpath("string(//meta[@name='author']/@content)") == ", ".join(article.authors)
        assert tree.xpath("//nav|//*[contains(@class,'nav') or @id='menu']"), key


def test_syndicated_copy_points_its_canonical_link_at_the_original(
    server: DemoServer, pages: dict[str, bytes]
) -> None:
    canonicals = {
        key: lxml.html.fromstring(html).xpath("string(//link[@rel='canonical']/@href)")
        for key, html in pages.items()
    }
    copy = next(a for a in DEMO_ARTICLES if a.near_copy_of)
    assert canonicals[copy.key] == by_key(str(copy.near_copy_of)).url(server.base_url)
    assert any(c == by_key(k).url(server.base_url) for k, c in canonicals.items())
    assert any(c == "" for c in canonicals.values())


def test_near_copy_is_similar_to_its_original_and_other_pairs_are_not(
    extracted: dict[str, str],
) -> None:
    copy = next(a for a in DEMO_ARTICLES if a.near_copy_of)
    pair = {copy.key, str(copy.near_copy_of)}
    assert extracted[copy.key] != extracted[str(copy.near_copy_of)]
    for x, y in itertools.combinations(extracted, 2):
        similarity = jaccard(extracted[x], extracted[y])
        if {x, y} == pair:
            assert similarity > 0.7
        else:
            assert similarity < 0.2, (x, y, similarity)


# --- HTTP behaviour ------------------------------------------------------------------


def test_conditional_get_answers_304_until_the_feed_changes(client: httpx.Client) -> None:
    with serve_demo() as fresh:
        url = fresh.feed_url("demo-wire")
        first = client.get(url)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        by_etag = client.get(url, headers={"If-None-Match": etag})
        by_date = client.get(url, headers={"If-Modified-Since": modified})
        assert (by_etag.status_code, by_etag.content) == (304, b"")
        assert by_date.status_code == 304
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200

        fresh.publish_until(DEMO_ARTICLES[3].date)
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_publish_until_replays_the_timeline(client: httpx.Client) -> None:
    with serve_demo() as fresh:
        cutoff = next(
            a.date for a in DEMO_ARTICLES if a.direction == "ease" and a.jurisdiction == "CN"
        )
        fresh.publish_until(cutoff.replace(hour=0, minute=0))
        visible = [
            e
            for o in DEMO_OUTLETS
            for e in feedparser.parse(client.get(fresh.feed_url(o.id)).content).entries
        ]
        assert visible and len(visible) < len(DEMO_ARTICLES)
        later = next(a for a in DEMO_ARTICLES if a.date > cutoff)
        assert client.get(later.url(fresh.base_url)).status_code == 404
        fresh.publish_until(None)
        assert client.get(later.url(fresh.base_url)).status_code == 200


def test_pages_are_gzipped_on_request_and_carry_validators(
    server: DemoServer, client: httpx.Client
) -> None:
    article = DEMO_ARTICLES[0]
    gzip_only = {"Accept-Encoding": "gzip"}
    with client.stream("GET", article.url(server.base_url), headers=gzip_only) as raw:
        assert raw.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(b"".join(raw.iter_raw()))
    assert article.title.encode() in body
    plain = client.get(article.url(server.base_url), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and article.title in plain.text
    again = client.get(
        article.url(server.base_url), headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304


def test_robots_txt_allows_the_article_pages(server: DemoServer, client: httpx.Client) -> None:
    response = client.get(f"{server.base_url}/robots.txt")
    assert response.status_code == 200
    robots = Protego.parse(response.text)
    assert all(robots.can_fetch(a.url(server.base_url), "chipwire") for a in DEMO_ARTICLES)
    assert client.get(f"{server.base_url}/no-such-page").status_code == 404
