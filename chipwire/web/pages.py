"""The analyst's web page: search, an article, the policy state table, a pair's timeline
and the alerts. Server-rendered HTML (jinja2); every page works without JavaScript, and
every search is a GET URL that can be shared. The page reads the same search backend as
the API (`app.state.search_backend`) and the alerter's SQLite file, per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts import store
from alerts.alerter import Alerter
from alerts.mail import evidence_items
from alerts.web import state_json, timeline_data
from chipwire.errors import Retry
from chipwire.settings import Settings
from chipwire.web.view import (
    FILTER_LABELS,
    LIST_FILTERS,
    PAGE_SIZE,
    STANCE_COLOURS,
    STANCES,
    SearchForm,
    delay,
    histogram,
    marked_text,
)
from index.backend import WEEK_FACET, SearchBackend, SearchResponse
from index.event_story import event_story
from index.query import QueryError

_PAGES = Environment(
    loader=PackageLoader("chipwire.web", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html.j2"]),
)
_PAGES.globals.update(
    delay=delay,
    filter_labels=FILTER_LABELS,
    list_filters=LIST_FILTERS,
    stances=STANCES,
    stance_colours=STANCE_COLOURS,
)


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_PAGES.get_template(template).render(**context), status_code=status)


def create_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @contextmanager
    def alerter() -> Iterator[Alerter]:
        a = Alerter(store.connect(settings.alerts_db), settings)
        try:
            yield a
        finally:
            a.conn.close()

    @router.get("/", response_class=HTMLResponse)
    def search_page(request: Request) -> HTMLResponse:
        form = SearchForm.from_params(list(request.query_params.multi_items()))
        try:
            response = _backend(request).search(form.request())
        except QueryError as exc:
            return render("search.html.j2", 400, form=form, error=str(exc), result=None)
        except Retry:
            error = "The search backend is unavailable; try again shortly."
            return render("search.html.j2", 503, form=form, error=error, result=None)
        return render("search.html.j2", form=form, error="", **_results(form, response))

    @router.get("/articles/{article_id}", response_class=HTMLResponse)
    def article_page(request: Request, article_id: str) -> HTMLResponse:
        backend = _backend(request)
        article = backend.get(article_id)
        if article is None:
            return render("missing.html.j2", 404, what="article", name=article_id)
        story = event_story(backend, article)
        return render(
            "article.html.j2", article=article, segments=marked_text(article), story=story
        )

    @router.get("/policy", response_class=HTMLResponse)
    def policy_page() -> HTMLResponse:
        with alerter() as a:
            states = [state_json(s) for s in a.states()]
        return render("policy.html.j2", states=states)

    @router.get("/alerts/timeline/{subject}/{jurisdiction}", response_class=HTMLResponse)
    def timeline_page(subject: str, jurisdiction: str) -> HTMLResponse:
        with alerter() as a:
            data = timeline_data(a, subject, jurisdiction)
        if not data["observations"]:
            return render("missing.html.j2", 404, what="pair", name=f"{jurisdiction} on {subject}")
        return render("timeline.html.j2", **data)

    @router.get("/alerts", response_class=HTMLResponse)
    def alerts_page() -> HTMLResponse:
        with alerter() as a:
            found = [
                {"alert": e, "items": evidence_items(e), "mail": a.mail_status(e.id)}
                for e in reversed(store.alerts(a.conn))
            ]
        return render("alerts.html.j2", alerts=found)

    return router


def _backend(request: Request) -> SearchBackend:
    backend: SearchBackend = request.app.state.search_backend.get()
    return backend


def _results(form: SearchForm, response: SearchResponse) -> dict[str, Any]:
    weeks = response.facets.get(WEEK_FACET, [])
    last_page = max(1, -(-min(response.total, 10_000) // PAGE_SIZE))
    return {
        "result": response,
        "first": (form.page - 1) * PAGE_SIZE + 1,
        "last_page": last_page,
        "histogram": histogram(weeks),
    }
