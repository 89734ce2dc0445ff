"""`chipwire sources list`: official sources are marked, disabled ones listed too."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chipwire.cli import app
from chipwire.settings import SHIPPED_SOURCES

SOURCES = """\
sources:
  - id: mofcom-announcements
    name: MOFCOM announcements
    kind: html_list
    feed: https://www.mofcom.gov.example/announcements/
    official: true
    agency: CN:MOFCOM
    language: zh
    poll_interval_s: 3600
    html_list: {item: "ul.list li", date: "span"}
  - id: wire
    name: Sample wire
    feed: https://news.example.org/rss
  - id: fr
    name: Federal Register
    kind: federal_register
    feed: https://www.federalregister.gov/api/v1/documents.json
    official: true
    enabled: false
"""


def run(tmp_path: Path, *args: str, sources: str = SOURCES) -> tuple[int, str, str]:
    path = tmp_path / "sources.yaml"
    path.write_text(sources, encoding="utf-8")
    env = {
        "CHIPWIRE_SOURCES_FILE": str(path),
        "CHIPWIRE_CONFIG": str(tmp_path / "absent.toml"),
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(app, ["sources", "list", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_list_marks_official_sources_with_their_agency(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path)
    assert code == 0
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert (
        "official" in rows["mofcom-announcements"] and "CN:MOFCOM" in rows["mofcom-announcements"]
    )
    assert "html_list" in rows["mofcom-announcements"] and "60m" in rows["mofcom-announcements"]
    assert "official" not in rows["wire"]
    assert "federal_register" in rows["fr"] and "no" in rows["fr"].split("│")[7]
    assert "3 source(s), 2 official, 1 disabled" in out


def test_list_official_only_as_json(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "--official", "--json")
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["id"] for o in objects] == ["mofcom-announcements", "fr"]
    assert objects[0]["agency"] == "CN:MOFCOM" and objects[0]["official"] is True


def test_a_broken_sources_file_is_one_clear_error(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, sources="sources:\n  - {id: a, name: A, feed: 'ftp://x'}\n")
    assert code == 2 and "feed must be an http(s) URL" in err


def test_the_shipped_sources_list_official_feeds_for_each_government(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "--official", sources=SHIPPED_SOURCES.read_text("utf-8"))
    assert code == 0
    for agency in ("US:BIS", "US:USTR", "CN:MOFCOM", "CN:GAC", "CN:MIIT", "JP:METI", "NL:GOV"):
        assert agency in out
    for agency in ("EU:EC", "TW:MOEA", "KR:MOTIE"):
        assert agency in out
