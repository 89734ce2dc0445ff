"""`chipwire alerts list|show|state|timeline|preview|backtest`: what the alerter knows,
what it sent, and how it does on a timeline of real or sample news."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chipwire.contract import AlertEvent
from chipwire.settings import Settings

console = Console()
alerts_app = typer.Typer(help="Policy-shift alerts: list, inspect, preview, backtest.")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:
        console.print(f"[red]bad configuration:[/red] {exc}")
        raise typer.Exit(2) from exc


@contextmanager
def _alerter(settings: Settings) -> Iterator[Any]:
    from alerts import store
    from alerts.alerter import Alerter

    conn = store.connect(settings.alerts_db)
    try:
        yield Alerter(conn, settings)
    finally:
        conn.close()


def _emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def _day(value: object) -> str:
    return str(value or "")[:16].replace("T", " ")


@alerts_app.command("list")
def list_alerts(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Every shift found (with its email status) and every pair with a pending direction."""
    from alerts import store

    settings = _settings()
    with _alerter(settings) as alerter:
        shifts = [
            {**a.model_dump(mode="json"), "mail": alerter.mail_status(a.id)}
            for a in store.alerts(alerter.conn)
        ]
        pending = [_state_json(s) for s in alerter.states() if s.pending]
    if as_json:
        _emit({"alerts": shifts, "pending": pending})
        return
    table = Table(title=f"alerts ({len(shifts)})")
    for column in ("id", "confirmed", "pair", "shift", "reports", "mail"):
        table.add_column(column)
    for a in shifts:
        table.add_row(
            a["id"][:12],
            _day(a["confirmed_at"]),
            f"{a['jurisdiction']} on {a['subject']}",
            f"{a['previous']} → {a['current']}",
            str(len(a["article_ids"])),
            a["mail"],
        )
    console.print(table)
    table = Table(title=f"pending, not confirmed ({len(pending)})")
    for column in ("pair", "confirmed", "pending", "since", "publishers"):
        table.add_column(column)
    for p in pending:
        table.add_row(
            f"{p['jurisdiction']} on {p['subject']}",
            p["confirmed"] or "(none)",
            p["pending"],
            _day(p["pending_since"]),
            str(p["pending_publishers"]),
        )
    console.print(table)


@alerts_app.command("show")
def show(alert_id: Annotated[str, typer.Argument(help="Alert id (a prefix will do)")]) -> None:
    """One shift: state before and after with dates, every corroborating report with its
    evidence and link, and who was mailed."""
    from alerts import mail, store

    settings = _settings()
    with _alerter(settings) as alerter:
        alert = _found(alerter.conn, alert_id)
        deliveries = store.deliveries(alerter.conn, alert_id=alert.id)
    console.print(f"[bold]{mail.headline(alert)}[/]  (alert {alert.id})")
    console.print(f"before: {alert.previous}, confirmed {_day(alert.previous_since)}")
    console.print(
        f"after:  {alert.current}, first reported {_day(alert.opened_at)}, "
        f"confirmed {_day(alert.confirmed_at)}"
    )
    console.print(f"corroborating reports ({len(alert.article_ids)}):")
    for i, sentence in enumerate(alert.evidence):
        outlet = alert.outlets[i] if i < len(alert.outlets) else ""
        url = alert.urls[i] if i < len(alert.urls) else alert.url
        console.print(f"  • “{sentence}”\n    {outlet} — {url}", highlight=False)
    link = mail.timeline_url(alert, settings.public_url)
    if link:
        console.print(f"timeline: {link}")
    for d in deliveries:
        error = f" ({d.last_error})" if d.last_error else ""
        console.print(f"mail to {d.recipient}: {d.status}{error}, attempts {d.attempts}")


def _state_json(s: Any) -> dict[str, Any]:
    from alerts.web import state_json

    return state_json(s)


@alerts_app.command("state")
def state(
    subject: Annotated[str | None, typer.Option(help="Only this subject, e.g. H200")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="Only this government, e.g. CN")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """The state table: per (subject, government), the confirmed direction and any pending one."""
    settings = _settings()
    with _alerter(settings) as alerter:
        rows = [
            _state_json(s)
            for s in alerter.states()
            if (subject is None or s.subject == subject)
            and (jurisdiction is None or s.jurisdiction == jurisdiction)
        ]
    if as_json:
        _emit({"states": rows})
        return
    table = Table(title="policy state")
    for column in ("subject", "gov", "confirmed", "since", "pending", "reports", "generic"):
        table.add_column(column)
    for r in rows:
        pending = f"{r['pending']} since {_day(r['pending_since'])}" if r["pending"] else ""
        table.add_row(
            r["subject"],
            r["jurisdiction"],
            r["confirmed"] or "(unconfirmed)",
            _day(r["since"]),
            pending,
            str(r["reports"]),
            "yes" if r["subject"] in settings.alert_generic_subjects else "",
        )
    console.print(table)


@alerts_app.command("timeline")
def timeline(
    subject: Annotated[str, typer.Argument(help="Subject id, e.g. H200")],
    jurisdiction: Annotated[str, typer.Argument(help="Government, e.g. CN")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Every observation of one pair in publication order, and the states it confirmed."""
    from alerts import store

    settings = _settings()
    with _alerter(settings) as alerter:
        observations = store.timeline(alerter.conn, subject, jurisdiction)
        pair = alerter.state(subject, jurisdiction)
    confirmed_by = {c.confirmed_at: c for c in pair.changes}
    if as_json:
        _emit(
            {
                "subject": subject,
                "jurisdiction": jurisdiction,
                "state": _state_json(pair),
                "observations": [o.__dict__ for o in observations],
                "changes": [
                    {
                        "id": c.id,
                        "previous": c.previous,
                        "current": c.current,
                        "opened_at": c.opened_at,
                        "confirmed_at": c.confirmed_at,
                        "shift": c.is_shift,
                    }
                    for c in pair.changes
                ],
            }
        )
        return
    table = Table(title=f"{jurisdiction} on {subject}")
    for column in ("published", "direction", "certainty", "conf", "outlet", "title", "confirms"):
        table.add_column(column)
    for o in observations:
        change = confirmed_by.get(o.observed_at)
        confirms = ""
        if change is not None and o.direction == change.current:
            confirms = f"{change.previous} → {change.current}" if change.is_shift else "first state"
        table.add_row(
            _day(o.observed_at),
            o.direction,
            o.certainty + (" (official)" if o.official else ""),
            f"{o.confidence:.2f}",
            o.outlet,
            o.title,
            confirms,
        )
    console.print(table)


@alerts_app.command("preview")
def preview(
    alert_id: Annotated[str, typer.Argument(help="Alert id (a prefix will do)")],
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part too")] = False,
) -> None:
    """The email of one alert as it would be sent (headers and plain-text part)."""
    from alerts import mail

    settings = _settings()
    with _alerter(settings) as alerter:
        alert = _found(alerter.conn, alert_id)
    message = mail.render(alert, [s.recipient for s in settings.subscriptions()], settings)
    for name in ("Subject", "From", "To", "Date"):
        sys.stdout.write(f"{name}: {message[name]}\n")
    sys.stdout.write("\n")
    for part in message.iter_parts():
        if part.get_content_type() == "text/plain" or html:
            sys.stdout.write(str(part.get_content()) + "\n")


@alerts_app.command("backtest")
def backtest(
    files: Annotated[list[Path], typer.Argument(help="Timeline JSON file(s)")],
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Cached item texts (<id>.txt); default ~/.cache/chipwire-realset/timeline"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object for scripts")] = False,
) -> None:
    """Replay timeline file(s) through the real tagger and alerter with an in-memory clock;
    report precision, recall, false alerts per pair and confirmation latency."""
    from alerts.backtest import run_backtest
    from alerts.timeline_file import DEFAULT_CACHE_DIR, load_timeline

    settings = _settings()
    reports = []
    for path in files:
        try:
            timeline_data = load_timeline(path)
        except (OSError, ValueError) as exc:
            console.print(f"[red]{path}: {exc}[/red]")
            raise typer.Exit(2) from exc
        report = run_backtest(timeline_data, settings, cache_dir or DEFAULT_CACHE_DIR)
        reports.append({"file": str(path), **report.to_json()})
    if as_json:
        _emit({"timelines": reports})
        return
    for r in reports:
        _print_backtest(r)


def _print_backtest(r: dict[str, Any]) -> None:
    console.print(
        f"[bold]{r['name']}[/] ({r['file']}): {r['replayed']}/{r['items']} items replayed, "
        f"{len(r['alerts'])} alerts, {r['expected_shifts']} expected shifts"
    )
    if r["missing_text"]:
        console.print(f"  [yellow]no text for {len(r['missing_text'])} items (skipped)[/]")
    console.print(f"  precision {r['precision']:.3f}  recall {r['recall']:.3f}")
    for a in r["alerts"]:
        mark = "[green]expected[/]" if a["expected"] else "[red]false[/]"
        console.print(
            f"  {mark} {a['jurisdiction']} on {a['subject']}: {a['previous']} → {a['current']}"
            f" confirmed {a['confirmed_at'][:16]} after {a['latency_hours']} h"
            f" ({a['reports']} reports: {', '.join(a['outlets'])})"
        )
    if r["false_alerts_per_pair"]:
        console.print(f"  false alerts per pair: {r['false_alerts_per_pair']}")
    if r["must_not_shift_violations"]:
        console.print(f"  [red]must not shift, but did: {r['must_not_shift_violations']}[/]")


def _found(conn: sqlite3.Connection, alert_id: str) -> AlertEvent:
    """The alert with this id (or id prefix); exit 1 with one line when there is none."""
    from alerts import store

    alert = store.alert(conn, alert_id)
    if alert is None:
        console.print(f"[red]no alert {escape(alert_id)}[/red]")
        raise typer.Exit(1)
    return alert
