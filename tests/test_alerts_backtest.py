"""The backtest: the synthetic timeline (the demo corpus, our own writing) through the real
tagger and alerter; and the demo's report when SMTP refuses the email."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from alerts.backtest import run_backtest
from alerts.timeline_file import load_timeline
from chipwire.cli import app
from chipwire.settings import Settings
from tests.smtp import free_port

TIMELINES = Path(__file__).resolve().parents[1] / "alerts" / "timelines"


def test_synthetic_timeline_precision_and_recall_are_one(tmp_path: Path) -> None:
    timeline = load_timeline(TIMELINES / "demo-h200.json")
    report = run_backtest(timeline, Settings(data_dir=tmp_path), tmp_path / "no-cache")
    assert report.missing == [] and report.replayed == len(timeline.items)
    assert (report.precision, report.recall) == (1.0, 1.0)
    assert report.false_alerts() == {} and report.violations == []
    (alert,) = [s.alert for s in report.alerts]
    assert (alert.subject, alert.jurisdiction, alert.previous, alert.current) == (
        "H200",
        "CN",
        "restrict",
        "ease",
    )


def test_a_missing_cached_text_is_reported_and_skipped(tmp_path: Path) -> None:
    data = json.loads((TIMELINES / "demo-h200.json").read_text(encoding="utf-8"))
    data["items"][0].pop("text")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(
        app, ["alerts", "backtest", str(path), "--cache-dir", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)["timelines"]
    assert report["missing_text"] == [data["items"][0]["id"]]
    assert report["replayed"] == len(data["items"]) - 1


def test_demo_reports_a_shift_whose_mail_was_not_sent(tmp_path: Path, monkeypatch: Any) -> None:
    from chipwire.demo.run import run_demo

    monkeypatch.setenv("CHIPWIRE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHIPWIRE_SMTP_PORT", str(free_port()))  # nothing listens there
    result = run_demo(tmp_path, quiet=True)
    (alert,) = result["alerts"]
    assert (alert["subject"], alert["jurisdiction"]) == ("H200", "CN")
    assert alert["mail"].startswith("not sent")
