"""`chipwire demo`: the sample corpus through the whole pipeline, on loopback, in seconds.

The demo never touches a service's state: its own data dir (so its own embedded log,
tantivy index and alert ledger), and on Kafka its own topic prefix and consumer groups
(`chipwire-demo-<random>.`). Alert emails follow the user's settings (`smtp_host`).
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from alerts import store as alert_store
from alerts.alerter import Alerter
from chipwire.demo import sources_yaml
from chipwire.demo.server import serve_demo
from chipwire.runner import run_once
from chipwire.settings import Settings
from index import open_backend
from index.backend import SearchRequest

DEMO_QUERY = "H200"


def run_demo(data_dir: Path, quiet: bool = False) -> dict[str, Any]:
    console = Console(stderr=True, quiet=quiet)
    data_dir.mkdir(parents=True, exist_ok=True)
    with serve_demo() as server:
        sources_file = data_dir / "sources.yaml"
        sources_file.write_text(sources_yaml(server.base_url), encoding="utf-8")
        settings = demo_settings(data_dir, sources_file)
        console.print(f"[bold]chipwire demo[/]: sample feeds at {server.base_url}")
        if settings.kafka_topic_prefix:
            console.print(f"Kafka topics and groups prefixed {settings.kafka_topic_prefix}")
        report = run_once(settings)
    alerts = [
        {**a.model_dump(mode="json"), "mail": report.mail.get(a.id, "")} for a in report.alerts
    ]
    result = _summary(settings, report.accepted, alerts)
    _show(console, result)
    return result


def demo_settings(data_dir: Path, sources_file: Path) -> Settings:
    """The user's settings (bus, broker address), isolated from any running service."""
    settings = Settings(
        data_dir=data_dir,
        sources_file=sources_file,
        allow_private_addresses=True,  # the demo's "internet" is a loopback server
        host_min_interval_s=0,
        extract_workers=0,
        search="tantivy",  # in the demo's data dir, never a live Elasticsearch index
    )
    if settings.bus == "kafka":
        prefix = f"{settings.kafka_topic_prefix}chipwire-demo-{uuid.uuid4().hex[:8]}."
        settings = settings.model_copy(update={"kafka_topic_prefix": prefix})
    return settings


def _summary(settings: Settings, accepted: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    backend = open_backend(settings)
    try:
        found = backend.search(SearchRequest(query=DEMO_QUERY, limit=10, sort="newest"))
        indexed = backend.count()
    finally:
        backend.close()
    with sqlite3.connect(settings.state_db) as conn:
        (stories,) = conn.execute("SELECT COUNT(DISTINCT story_id) FROM fingerprints").fetchone()
    alert_conn = alert_store.connect(settings.alerts_db)
    try:
        states = Alerter(alert_conn, settings).states()
    finally:
        alert_conn.close()
    return {
        "articles": {"ingested": accepted, "indexed": indexed, "stories": stories},
        "search": {
            "query": DEMO_QUERY,
            "total": found.total,
            "hits": [
                {
                    "title": h.title,
                    "source": h.source,
                    "stance": h.stance,
                    "published_at": h.published_at,
                    "snippet": h.snippet.text,
                }
                for h in found.hits
            ],
        },
        "policy_state": [
            {
                "subject": s.subject,
                "jurisdiction": s.jurisdiction,
                "direction": s.confirmed,
                "since": s.since,
                "pending": s.pending,
                "pending_since": s.pending_since,
                "reports": s.reports,
            }
            for s in states
        ],
        "alerts": alerts,
    }


def _show(console: Console, result: dict[str, Any]) -> None:
    counts = result["articles"]
    console.print(
        f"ingested [bold]{counts['ingested']}[/] articles, indexed {counts['indexed']}, "
        f"in {counts['stories']} stories (near-copies join their original's story)"
    )
    hits = Table(title=f"search: {result['search']['query']!r} ({result['search']['total']} hits)")
    for column in ("date", "title", "source", "stance"):
        hits.add_column(column)
    for hit in result["search"]["hits"]:
        hits.add_row(str(hit["published_at"])[:10], hit["title"], hit["source"], hit["stance"])
    console.print(hits)
    states = Table(title="policy state")
    for column in ("subject", "jurisdiction", "confirmed", "since", "pending", "reports"):
        states.add_column(column)
    for row in result["policy_state"]:
        pending = (
            f"{row['pending']} since {str(row['pending_since'])[:10]}" if row["pending"] else ""
        )
        states.add_row(
            row["subject"],
            row["jurisdiction"],
            row["direction"] or "(unconfirmed)",
            str(row["since"] or "")[:10],
            pending,
            str(row["reports"]),
        )
    console.print(states)
    for alert in result["alerts"]:
        mailed = alert["mail"]
        if mailed.startswith("not sent"):
            note = f"[yellow]shift detected, mail not sent[/] ({mailed[len('not sent: ') :]})"
        else:
            note = f"mail: {mailed}"
        console.print(
            f"[bold red]ALERT[/] {alert['jurisdiction']} on {alert['subject']}: "
            f"{alert['previous']} → {alert['current']} — {alert['title']}; {note}"
        )
    if not result["alerts"]:
        console.print("no policy shift detected")
