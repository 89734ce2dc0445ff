"""The web app over the demo corpus, through HTTP: every page answers, saved searches
are stored and matched at ingest, /docs and /redoc need no CDN, and the committed
OpenAPI document is the app's."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx
import pytest

from alerts import saved_searches, store
from alerts.alerter import Alerter
from chipwire.settings import Settings, Subscription
from chipwire.web.openapi import DOCUMENT, render
from tests.test_search_samples import APPROVAL, CUSTOMS

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_openapi_document_is_the_apps() -> None:
    committed = (ROOT / DOCUMENT).read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(render()), (
        "docs/openapi.json drifted from the app: run `make openapi` and commit it"
    )


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_the_app_not_a_cdn(site: httpx.Client, path: str) -> None:
    page = site.get(path)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert site.get(asset).status_code == 200, asset


def test_every_page_answers_on_the_demo(site: httpx.Client) -> None:
    for path in ("/", "/?query=H200&stance=ease&sort=newest", "/policy", "/alerts"):
        reply = site.get(path)
        assert reply.status_code == 200, path
        assert "<h1" in reply.text or "Search articles" in reply.text
    assert site.get("/alerts/timeline/H200/CN").status_code == 200
    assert site.get("/alerts/timeline/H999/XX").status_code == 404
    assert site.get("/articles/no-such-id").status_code == 404


def test_a_bad_query_shows_the_parser_message_with_a_400(site: httpx.Client) -> None:
    reply = site.get("/", params={"query": '"H200 AND customs'})
    assert reply.status_code == 400
    assert "quote is not closed" in reply.text
    assert 'value="&#34;H200 AND customs"' in reply.text  # the query stays, escaped


def test_an_article_page_marks_its_evidence_and_links_the_original(site: httpx.Client) -> None:
    hit = site.get("/api/search", params={"query": "H200", "stance": "ease"}).json()["hits"][0]
    page = site.get(f"/articles/{hit['id']}").text
    assert f'href="{html.escape(hit["url"])}"' in page
    assert '<mark id="evidence-0"' in page


def test_an_article_page_lists_the_storys_other_outlets(site: httpx.Client) -> None:
    hits = site.get("/api/search", params={"limit": 100, "facets": False}).json()["hits"]
    by_story: dict[str, list[dict[str, str]]] = {}
    for hit in hits:
        by_story.setdefault(hit["story_id"], []).append(hit)
    first, second = next(group for group in by_story.values() if len(group) > 1)[:2]
    page = site.get(f"/articles/{first['id']}").text
    section = page[page.index("The story's other outlets") :]
    assert f'href="/articles/{second["id"]}"' in section
    assert f'href="/articles/{first["id"]}"' not in section


def test_saved_searches_are_stored_validated_listed_and_deleted(site: httpx.Client) -> None:
    created = site.post("/api/saved-searches", json={"name": "cn-customs", "query": "customs"})
    assert created.status_code == 201
    assert created.json()["query"] == "customs"
    bad = site.post("/api/saved-searches", json={"name": "broken", "query": '"open'})
    assert bad.status_code == 400 and "quote" in bad.json()["detail"]
    assert site.post("/api/saved-searches", json={"name": "a b", "query": "x"}).status_code == 422
    names = [s["name"] for s in site.get("/api/saved-searches").json()["saved_searches"]]
    assert "cn-customs" in names and "broken" not in names
    assert site.delete("/api/saved-searches/cn-customs").status_code == 204
    assert site.get("/api/saved-searches/cn-customs").status_code == 404


def test_a_saved_search_is_matched_at_ingest_and_serves_a_subscription(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        alert_subscriptions=[Subscription(recipient="desk@example.org", saved_search="customs")],
    )
    conn = store.connect(settings.alerts_db)
    saved_searches.put(conn, "customs", "customs")
    alerter = Alerter(conn, settings)
    for article in (CUSTOMS, APPROVAL):
        alerter.ingest(article)
    [saved] = saved_searches.listing(conn)
    assert saved.matched == 1
    assert store.matched(conn, "customs", [CUSTOMS.id])
    assert alerter._query_of(settings.alert_subscriptions[0]) == "customs"
    missing = Subscription(recipient="x@example.org", saved_search="nope")
    assert alerter._query_of(missing) is None
    conn.close()
