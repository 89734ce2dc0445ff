"""The alerts part of the web API: the state table (confirmed and pending), the alerts
found, and one pair's timeline as JSON and as the page alert emails link to
(`<public_url>/alerts/timeline/<subject>/<government>`). Mounted by the composition root
next to the search API; each request opens the alerter's SQLite file and closes it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts import store
from alerts.alerter import Alerter
from alerts.corroborate import PairState
from chipwire.settings import Settings

_PAGES = Environment(
    loader=PackageLoader("alerts", "templates"),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html.j2"]),
)


def state_json(s: PairState) -> dict[str, Any]:
    return {
        "subject": s.subject,
        "jurisdiction": s.jurisdiction,
        "confirmed": s.confirmed,
        "since": s.since,
        "pending": s.pending,
        "pending_since": s.pending_since,
        "pending_publishers": s.pending_publishers,
        "contrary_reports": len(s.contrary),
        "reports": s.reports,
    }


def create_router(settings: Settings, timeline_html: bool = True) -> APIRouter:
    """`timeline_html=False` leaves the timeline page to the composition root's web page."""
    router = APIRouter()

    def alerter() -> Alerter:
        return Alerter(store.connect(settings.alerts_db), settings)

    @router.get("/api/alerts/state")
    def states() -> dict[str, Any]:
        a = alerter()
        try:
            return {"states": [state_json(s) for s in a.states()]}
        finally:
            a.conn.close()

    @router.get("/api/alerts")
    def alerts() -> dict[str, Any]:
        a = alerter()
        try:
            found = [
                {**e.model_dump(mode="json"), "mail": a.mail_status(e.id)}
                for e in store.alerts(a.conn)
            ]
            return {"alerts": found}
        finally:
            a.conn.close()

    @router.get("/api/alerts/timeline/{subject}/{jurisdiction}")
    def timeline_json(subject: str, jurisdiction: str) -> dict[str, Any]:
        return timeline_data(alerter(), subject, jurisdiction)

    if timeline_html:

        @router.get("/alerts/timeline/{subject}/{jurisdiction}", response_class=HTMLResponse)
        def timeline_page(subject: str, jurisdiction: str) -> str:
            data = timeline_data(alerter(), subject, jurisdiction)
            return _PAGES.get_template("timeline.html.j2").render(**data)

    return router


def timeline_data(a: Alerter, subject: str, jurisdiction: str) -> dict[str, Any]:
    """One pair's observations in date order, each marked when it confirmed a change
    (closes the alerter's connection)."""
    try:
        observations = store.timeline(a.conn, subject, jurisdiction)
        pair = a.state(subject, jurisdiction)
    finally:
        a.conn.close()
    confirming = {(c.confirmed_at, c.current): c for c in pair.changes}
    rows = []
    for o in observations:
        change = confirming.get((o.observed_at, o.direction))
        rows.append({**o.__dict__, "confirms": _label(change) if change else ""})
    return {
        "subject": subject,
        "jurisdiction": jurisdiction,
        "state": state_json(pair),
        "observations": rows,
    }


def _label(change: Any) -> str:
    return f"{change.previous} → {change.current}" if change.is_shift else "first state"
