"""The web process's one app: the search API (index/api.py), the alerts API
(alerts/web.py), saved searches, the analyst's page and its static files, and /docs and
/redoc served offline. `chipwire serve` and `chipwire run` both build it here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from alerts.web import create_router as alerts_router
from chipwire.health import Health
from chipwire.settings import Settings
from chipwire.web import pages, saved
from index import open_backend
from index.api import create_app

STATIC = Path(__file__).resolve().parent / "static"


def create_web_app(settings: Settings, health: Health | None = None) -> FastAPI:
    app = create_app(lambda: open_backend(settings), health, api_token=settings.api_token)
    app.include_router(alerts_router(settings, timeline_html=False))  # /api/alerts…
    app.include_router(saved.create_router(settings))  # /api/saved-searches
    app.include_router(pages.create_router(settings))  # /, /articles/…, /policy, /alerts…
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
