"""The search HTTP API: /api/search, /api/articles/{id}, /healthz, /metrics, /docs, /redoc.

`create_app(backend_factory)` opens the backend on first use and closes it at shutdown, so
one factory serves both `chipwire run` (shared with the indexer) and a standalone web process.
With an `api_token`, every path but /healthz needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from chipwire.contract import EnrichedArticle, Stance
from chipwire.errors import Retry
from chipwire.health import Health
from index.backend import MAX_LIMIT, SearchBackend, SearchRequest, SearchResponse
from index.event_story import EventStory, event_story
from index.query import QueryError

SEARCHES = Counter("chipwire_searches_total", "Search API requests by outcome", ["status"])
SEARCH_SECONDS = Histogram("chipwire_search_seconds", "Search latency", ["backend"])

BackendFactory = Callable[[], SearchBackend]


class _LazyBackend:
    def __init__(self, factory: BackendFactory) -> None:
        self._factory = factory
        self._backend: SearchBackend | None = None
        self._lock = threading.Lock()

    def get(self) -> SearchBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._factory()
            return self._backend

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None


OPEN_PATHS = frozenset({"/healthz"})  # probes reach it without the token


def create_app(
    backend_factory: BackendFactory, health: Health | None = None, api_token: str = ""
) -> FastAPI:
    """`health`, when given, reports the stages running in this process: /healthz then
    answers 503 when one of them is dead, stuck or failing."""
    holder = _LazyBackend(backend_factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        holder.close()

    # /docs and /redoc load Swagger UI and ReDoc from files shipped in a wheel, not a CDN
    app = FastAPIOffline(title="chipwire search", version="1", lifespan=lifespan)
    app.state.search_backend = holder  # the web page searches through the same backend

    if api_token:
        expected = f"Bearer {api_token}".encode()

        @app.middleware("http")
        async def bearer_token(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            given = request.headers.get("authorization", "").encode()
            if request.url.path in OPEN_PATHS or hmac.compare_digest(given, expected):
                return await call_next(request)
            return JSONResponse(
                {"detail": "a bearer token is required"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.exception_handler(QueryError)
    async def bad_query(_: Request, exc: QueryError) -> JSONResponse:
        SEARCHES.labels("bad-query").inc()
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Retry)
    async def unavailable(_: Request, exc: Retry) -> JSONResponse:
        SEARCHES.labels("unavailable").inc()
        return JSONResponse(
            {"detail": "the search backend is unavailable; try again shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.get("/api/search", response_model=SearchResponse)
    def search(
        query: Annotated[str, Query(max_length=1000, description="Lucene syntax")] = "",
        chips: Annotated[list[str] | None, Query()] = None,
        companies: Annotated[list[str] | None, Query()] = None,
        agencies: Annotated[list[str] | None, Query()] = None,
        countries: Annotated[list[str] | None, Query()] = None,
        stance: Annotated[list[Stance] | None, Query()] = None,
        jurisdiction: Annotated[list[str] | None, Query()] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_relevance: Annotated[float, Query(ge=0, le=1)] = 0.0,
        limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
        offset: Annotated[int, Query(ge=0)] = 0,
        sort: Literal["relevance", "newest"] = "relevance",
        facets: bool = True,
    ) -> Response:
        req = SearchRequest(
            query=query,
            chips=chips or [],
            companies=companies or [],
            agencies=agencies or [],
            countries=countries or [],
            stance=stance or [],
            jurisdiction=jurisdiction or [],
            since=since,
            until=until,
            min_relevance=min_relevance,
            limit=limit,
            offset=offset,
            sort=sort,
            facets=facets,
        )
        backend = holder.get()
        started = time.perf_counter()
        response = backend.search(req)
        SEARCH_SECONDS.labels(backend.name).observe(time.perf_counter() - started)
        SEARCHES.labels("ok").inc()
        # serialised once here: returning the model would have FastAPI validate it again
        return Response(response.to_json(), media_type="application/json")

    @app.get("/api/articles/{article_id}", response_model=EnrichedArticle)
    def article(article_id: str) -> EnrichedArticle:
        found = holder.get().get(article_id)
        if found is None:
            raise HTTPException(status_code=404, detail="no article with this id")
        return found

    @app.get("/api/articles/{article_id}/story", response_model=EventStory)
    def story(article_id: str) -> EventStory:
        """The article's event story: its first reporter and every outlet's report, in any
        language, with each one's delay behind the first and from publication to fetch."""
        backend = holder.get()
        found = backend.get(article_id)
        if found is None:
            raise HTTPException(status_code=404, detail="no article with this id")
        return event_story(backend, found)

    @app.get("/healthz", response_model=None)
    def healthz() -> dict[str, object] | JSONResponse:
        backend = holder.get()
        body: dict[str, object] = {
            "status": "ok",
            "backend": backend.name,
            "documents": backend.count(),
        }
        if health is None:
            return body
        healthy, stages = health()
        body["stages"] = stages
        if healthy:
            return body
        body["status"] = "unhealthy"
        return JSONResponse(body, status_code=503)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
