"""The alerter stage on the embedded log with a real SMTP server (aiosmtpd): one email per
confirmed shift, multipart, retried when SMTP is down, never twice across replays and
restarts; subscriptions, realert suppression and digests. Time is an explicit clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from alerts import mail, store
from alerts.stage import AlertSink
from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.cli import app
from chipwire.settings import Settings, Subscription
from tests.alertkit import Clock, article, publish_all, run_alerter
from tests.smtp import Inbox, free_port

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SHIFT = [
    article(1, "restrict", 1, "a.example.com"),
    article(2, "restrict", 2, "b.example.org"),
    article(3, "ease", 15, "c.example.net"),
    article(4, "ease", 16, "d.example.info"),
]


def smtp_settings(tmp_path: Path, port: int, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, **overrides)


def test_one_confirmed_shift_one_multipart_email_and_nothing_on_replay_or_restart(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = smtp_settings(
        tmp_path, port, alert_recipients=["desk@example.org"], public_url="https://cw.example/"
    )
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    first = run_alerter(bus, settings)
    assert [(a.previous, a.current) for a in first.alerts] == [("restrict", "ease")]
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert "CN on H200: restrict → ease" in str(message["Subject"])
    assert message["To"] == "desk@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["Date"]).endswith("+0000")
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "https://c.example.net/news/3" in body and "https://d.example.info/news/4" in body
        assert "Sentence 3: the authorities moved to ease H200." in body
        assert "https://cw.example/alerts/timeline/H200/CN" in body
        assert "2026-01-12" in body  # the restrict state was confirmed by the second report
    assert "c.example.net" in text and "<blockquote>" in html
    # a replay of the whole topic (a new consumer group) and a restart mail nothing again
    assert run_alerter(bus, settings, group="replay").alerts == []
    assert run_alerter(bus, settings).alerts == []
    assert len(inbox.messages) == 1
    assert bus.end_offsets(ALERTS_TOPIC) == 1


def test_a_lone_report_and_a_flapping_outlet_mail_nothing(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    flapping = [
        *SHIFT[:2],
        article(3, "ease", 10, "c.example.net"),
        article(5, "restrict", 11, "c.example.net"),
        article(6, "ease", 12, "c.example.net"),
    ]
    publish_all(bus, flapping)
    assert run_alerter(bus, smtp_settings(tmp_path, port)).alerts == []
    assert inbox.messages == []


def test_without_smtp_the_email_is_written_to_the_outbox(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="")
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    run_alerter(bus, settings)
    files = mail.outbox_files(settings.outbox_dir)
    assert len(files) == 1
    parsed = message_from_bytes(files[0].read_bytes(), policy=email_policy.default)
    assert "restrict → ease" in parsed["Subject"]


def test_smtp_down_keeps_the_email_pending_and_it_is_retried(tmp_path: Path) -> None:
    port = free_port()
    settings = smtp_settings(tmp_path, port, alert_retry_s=30)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    clock = Clock()
    sink = run_alerter(bus, settings, clock)
    assert len(sink.alerts) == 1  # the shift is found ...
    assert sink.mail_status(sink.alerts[0].id).startswith("not sent")  # ... but not mailed
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        conn = store.connect(settings.alerts_db)
        retry = AlertSink(bus, conn, settings, clock)
        retry.on_idle()  # before alert_retry_s: not yet
        assert inbox.messages == []
        clock.now += timedelta(seconds=31)
        retry.on_idle()  # the runner calls this when the topic is quiet
        conn.close()
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    run_alerter(bus, settings, Clock(NOW + timedelta(hours=1)))
    assert len(inbox.messages) == 1


def test_subject_header_injection_is_neutralised(tmp_path: Path) -> None:
    conn = store.connect(tmp_path / "a.sqlite")
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    event = run_alerter(bus, Settings(data_dir=tmp_path)).alerts[0]
    hostile = event.model_copy(update={"subject": "H200 =?UTF-8?Q?=0A?=Bcc: evil@x.org\r\nX: y"})
    rendered = mail.render(hostile, ["a@example.org"], Settings(data_dir=tmp_path)).as_string()
    header_names = [
        line.split(":", 1)[0]
        for line in rendered.split("\n\n", 1)[0].splitlines()
        if line and not line[0].isspace()
    ]
    assert "Bcc" not in header_names and "X" not in header_names
    assert message_from_bytes(rendered.encode(), policy=email_policy.default)["Bcc"] is None
    conn.close()


def test_an_earlier_report_arriving_after_the_alert_does_not_mail_again(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = smtp_settings(tmp_path, port)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    run_alerter(bus, settings)
    assert len(inbox.messages) == 1
    # the outlet that had the news first is polled last: its story now opens the run
    publish_all(bus, [article(7, "ease", 14.5, "e.example.co.uk")])
    assert run_alerter(bus, settings).alerts == []
    assert len(inbox.messages) == 1


def test_a_real_reversal_weeks_later_is_mailed(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    back = [article(8, "restrict", 40, "a.example.com"), article(9, "restrict", 41, "e.example")]
    publish_all(bus, [*SHIFT, *back])
    run_alerter(bus, smtp_settings(tmp_path, port))
    assert [str(m["Subject"]).rsplit(": ", 1)[1] for m in inbox.messages] == [
        "restrict → ease",
        "ease → restrict",
    ]


def test_subscriptions_filter_by_pair_query_and_suppress_realerts(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    subs = [
        Subscription(recipient="h200@example.org", subjects=["H200"], jurisdictions=["CN"]),
        Subscription(recipient="us@example.org", jurisdictions=["US"]),
        Subscription(recipient="customs@example.org", query="customs AND approval"),
        Subscription(recipient="strict@example.org", min_confidence=0.95),
    ]
    settings = smtp_settings(tmp_path, port, alert_subscriptions=subs, alert_realert_hours=30 * 24)
    text = "Customs approval came on Tuesday for the chips."
    reports = [*SHIFT[:3], article(4, "ease", 16, "d.example.info", text=text)]
    # back and forth within the realert window: later shifts are suppressed per recipient
    flap = [
        article(10, "restrict", 30, "x.example", official=True),
        article(11, "ease", 45, "y.example", official=True),
    ]
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, [*reports, *flap])
    sink = run_alerter(bus, settings)
    assert len(sink.alerts) == 3
    to = sorted(str(m["To"]) for m in inbox.messages)
    assert to == ["customs@example.org", "h200@example.org"]
    conn = store.connect(settings.alerts_db)
    statuses = {(d.recipient, d.status) for d in store.deliveries(conn)}
    conn.close()
    assert ("h200@example.org", "suppressed") in statuses


def test_a_daily_digest_waits_for_its_hour(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    subs = [Subscription(recipient="daily@example.org", delivery="daily")]
    settings = smtp_settings(tmp_path, port, alert_subscriptions=subs, alert_digest_hour_utc=7)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    clock = Clock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    run_alerter(bus, settings, clock)
    assert inbox.messages == []
    clock.now = datetime(2026, 3, 2, 7, 0, 1, tzinfo=UTC)
    conn = store.connect(settings.alerts_db)
    AlertSink(bus, conn, settings, clock).on_idle()
    conn.close()
    assert len(inbox.messages) == 1
    assert "daily digest: 1 policy shift" in str(inbox.messages[0]["Subject"])


def test_alerts_cli_lists_shows_and_previews(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CHIPWIRE_DATA_DIR", str(tmp_path))
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, [*SHIFT, article(12, "ease", 3, "lone.example", subject="H20")])
    run_alerter(bus, Settings(data_dir=tmp_path))
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["alerts", "list", "--json"]).stdout)
    assert [a["mail"] for a in listed["alerts"]] == ["written"]
    assert [(p["subject"], p["pending"]) for p in listed["pending"]] == [("H20", "ease")]
    states = json.loads(
        runner.invoke(app, ["alerts", "state", "--subject", "H200", "--json"]).stdout
    )
    assert [(s["confirmed"], s["pending"]) for s in states["states"]] == [("ease", None)]
    line = json.loads(runner.invoke(app, ["alerts", "timeline", "H200", "CN", "--json"]).stdout)
    assert [c["current"] for c in line["changes"]] == ["restrict", "ease"]
    alert_id = listed["alerts"][0]["id"]
    shown = runner.invoke(app, ["alerts", "show", alert_id[:10]])
    assert shown.exit_code == 0 and "https://d.example.info/news/4" in shown.stdout
    preview = runner.invoke(app, ["alerts", "preview", alert_id])
    assert preview.exit_code == 0 and "Subject: [chipwire] CN on H200" in preview.stdout
    assert runner.invoke(app, ["alerts", "show", "nope"]).exit_code == 1


def test_the_web_api_serves_states_alerts_and_the_pair_timeline(tmp_path: Path) -> None:
    import socket
    import threading

    import httpx
    import uvicorn
    from fastapi import FastAPI

    from alerts.web import create_router

    settings = Settings(data_dir=tmp_path)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, [*SHIFT, article(12, "ease", 3, "lone.example", subject="H20")])
    run_alerter(bus, settings)
    web = FastAPI()
    web.include_router(create_router(settings))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # listening before the server starts: early requests just queue
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        _check_web(httpx.Client(base_url=base, timeout=10))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _check_web(client: Any) -> None:
    with client:
        states = client.get("/api/alerts/state").json()["states"]
        assert {(s["subject"], s["confirmed"], s["pending"]) for s in states} == {
            ("H200", "ease", None),
            ("H20", None, "ease"),
        }
        (alert,) = client.get("/api/alerts").json()["alerts"]
        assert alert["mail"] == "written"
        page = client.get("/alerts/timeline/H200/CN")
        assert page.status_code == 200
        assert "restrict → ease" in page.text and "https://d.example.info/news/4" in page.text
        rows = client.get("/api/alerts/timeline/H200/CN").json()["observations"]
        assert [r["article_id"] for r in rows] == ["a1", "a2", "a3", "a4"]


def test_a_batch_of_articles_is_recorded_in_one_transaction(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    publish_all(bus, SHIFT)
    conn = store.connect(tmp_path / "alerts.sqlite")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    sink = AlertSink(bus, conn, Settings(data_dir=tmp_path), Clock())
    consumer = bus.consumer("chipwire-alert", [ENRICHED_TOPIC])
    for message in consumer.poll(max_records=len(SHIFT), timeout_s=0):
        sink.handle(message)
    assert not any(s.startswith("INSERT") for s in statements)  # nothing before the flush
    sink.flush()
    recorded = statements[: statements.index("COMMIT") + 1]
    assert sum(s == "COMMIT" for s in recorded) == 1
    assert sum(s.startswith("INSERT OR REPLACE INTO alert_observations") for s in recorded) == 4
    assert [(a.previous, a.current) for a in sink.alerts] == [("restrict", "ease")]
    (observed,) = conn.execute("SELECT COUNT(*) FROM alert_observations").fetchone()
    assert observed == len(SHIFT)
    conn.close()
    bus.close()
