"""The search HTTP API served by a real uvicorn on 127.0.0.1, over the embedded index."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwire.contract import EntityRef, Tags
from index.api import create_app
from index.backend import SearchBackend, SearchHit, SearchResponse, Snippet
from index.elastic import ElasticBackend, make_client
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL, APPROVAL, CUSTOMS, DUTCH


def serve(backend_factory: object, health: object = None) -> Iterator[httpx.Client]:
    yield from serve_app(create_app(backend_factory, health))  # type: ignore[arg-type]


def serve_app(app: FastAPI) -> Iterator[httpx.Client]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else 40 ms delayed ACKs
    sock.listen(64)  # listening before the server starts: early requests just queue
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def loaded_index(tmp_path: Path) -> Path:
    backend = TantivyBackend(tmp_path / "index")
    backend.upsert(list(ALL))
    backend.commit()
    backend.close()
    return tmp_path / "index"


@pytest.fixture
def api(loaded_index: Path) -> Iterator[httpx.Client]:
    yield from serve(lambda: TantivyBackend(loaded_index))


def test_search_with_query_filters_and_facets(api: httpx.Client) -> None:
    reply = api.get("/api/search", params={"query": "H200", "stance": ["ease", "restrict"]})
    assert reply.status_code == 200
    body = reply.json()
    assert body["total"] == 2
    assert {h["id"] for h in body["hits"]} == {CUSTOMS.id, APPROVAL.id}
    assert "<b>H200</b>" in body["hits"][0]["snippet"]["html"]
    assert {b["key"]: b["count"] for b in body["facets"]["stance"]} == {"restrict": 1, "ease": 1}


def test_search_paging_sorting_and_dates(api: httpx.Client) -> None:
    params = {"sort": "newest", "limit": 1, "offset": 1, "since": "2026-01-15T00:00:00Z"}
    body = api.get("/api/search", params=params).json()
    assert body["total"] == 5
    assert [h["id"] for h in body["hits"]] == [DUTCH.id]


def test_bad_query_is_a_400_with_the_analyst_message(api: httpx.Client) -> None:
    reply = api.get("/api/search", params={"query": '"H200 AND customs'})
    assert reply.status_code == 400
    assert "quote is not closed" in reply.json()["detail"]
    assert api.get("/api/search", params={"limit": 10_000}).status_code == 422
    deep = api.get("/api/search", params={"offset": 9_995, "limit": 10})
    assert deep.status_code == 400 and "past 10000" in deep.json()["detail"]


def test_article_by_id(api: httpx.Client) -> None:
    reply = api.get(f"/api/articles/{CUSTOMS.id}")
    assert reply.status_code == 200
    assert reply.json()["title"] == CUSTOMS.title
    assert api.get("/api/articles/nope").status_code == 404


def test_health_and_metrics(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {
        "status": "ok",
        "backend": "tantivy",
        "documents": len(ALL),
    }
    api.get("/api/search", params={"query": "customs"})
    metrics = api.get("/metrics")
    assert metrics.status_code == 200
    assert 'chipwire_searches_total{status="ok"}' in metrics.text
    assert "chipwire_search_seconds_bucket" in metrics.text


def test_backend_down_is_a_503_without_internals() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def unreachable() -> SearchBackend:
        return ElasticBackend(make_client(f"http://elastic:s3cret@127.0.0.1:{port}"), "x")

    for client in serve(unreachable):
        reply = client.get("/api/search", params={"query": "H200"})
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "5"
        assert "s3cret" not in reply.text and "127.0.0.1" not in reply.text


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = tmp_path_factory.mktemp("api") / "index"
    backend = TantivyBackend(path)
    backend.upsert(list(ALL))
    backend.commit()
    backend.close()
    yield from serve(lambda: TantivyBackend(path))


@given(st.text(max_size=120))
@settings(max_examples=300)
def test_no_query_text_makes_the_server_fail(shared_api: httpx.Client, text: str) -> None:
    reply = shared_api.get("/api/search", params={"query": text, "limit": 3, "facets": False})
    assert reply.status_code in (200, 400), reply.text
    if reply.status_code == 400:
        assert "Traceback" not in reply.text and reply.json()["detail"]


texts = st.text(max_size=40)
moments = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
hits = st.builds(
    SearchHit,
    id=texts,
    story_id=texts,
    event_id=st.none() | texts,
    title=texts,
    url=texts,
    source=texts,
    published_at=moments,
    fetched_at=moments,
    language=st.none() | texts,
    stance=st.sampled_from(["restrict", "ease", "mixed", "none"]),
    acting_jurisdiction=st.none() | texts,
    relevance=numbers,
    score=numbers,
    snippet=st.builds(Snippet, html=texts, text=texts),
    tags=st.builds(
        Tags,
        chips=st.lists(st.builds(EntityRef, id=texts, name=texts), max_size=2),
        topics=st.lists(texts, max_size=2),
    ),
)
buckets = st.lists(
    st.fixed_dictionaries({"key": texts, "count": st.integers(0, 2**53)}), max_size=5
)


@given(
    st.builds(
        SearchResponse,
        total=st.integers(0, 2**53),
        hits=st.lists(hits, max_size=3),
        facets=st.dictionaries(texts, buckets, max_size=3),
        query=texts,
    )
)
@settings(max_examples=150)
def test_the_fast_json_is_the_documented_json_byte_for_byte(response: SearchResponse) -> None:
    """The API writes responses with orjson: exactly the bytes of the response model."""
    assert response.to_json() == response.model_dump_json().encode()
