"""Operating chipwire: the API asks for a bearer token when one is configured (/healthz
stays open); log_format = "json" makes every line JSON, uvicorn's too; APScheduler's
per-tick INFO lines stay quiet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from index.tantivy_backend import TantivyBackend
from tests.loopback import LoopbackServer
from tests.smtp import free_port
from tests.test_e2e_process import wait_for


def test_the_api_needs_the_bearer_token_but_healthz_stays_open(tmp_path: Path) -> None:
    from index.api import create_app
    from tests.test_search_api import serve_app

    app = create_app(lambda: TantivyBackend(tmp_path / "index"), api_token="s3cret")
    for client in serve_app(app):
        assert client.get("/healthz").status_code == 200
        for path in ("/api/search", "/metrics", "/docs", "/api/articles/x"):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
            wrong = client.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401, path
        ok = client.get("/api/search", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["total"] == 0


def chipwire_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    env["CHIPWIRE_CONFIG"] = str(tmp_path / "none.toml")
    env["CHIPWIRE_DATA_DIR"] = str(tmp_path / "data")
    env.update({f"CHIPWIRE_{k.upper()}": v for k, v in settings.items()})
    return env


def json_lines(text: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.timeout(60)
def test_serve_logs_json_uvicorn_included(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwire", "serve"],
        env=chipwire_env(tmp_path, log_format="json", http_port=str(port)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _healthy(port), 30, "the API to answer")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    entries = json_lines(err)  # every line parses
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["logger"].startswith("uvicorn") for e in entries), err


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.timeout(90)
def test_run_logs_json_and_apscheduler_stays_quiet(tmp_path: Path) -> None:
    site = LoopbackServer()
    site.add("/feed.xml", '<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>')
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - {{id: wire, name: Wire, feed: '{site.url('/feed.xml')}'}}\n"
    )
    env = chipwire_env(
        tmp_path,
        log_format="json",
        http_port="0",
        poll_interval_s="1",
        sources_file=str(tmp_path / "sources.yaml"),
        allow_private_addresses="true",
        extract_workers="0",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwire", "run"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: site.hits.get("/feed.xml", 0) >= 3, 60, "three polls of the feed")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        site.close()
    assert proc.returncode == 0, err
    entries = json_lines(err)
    assert any(e["message"].startswith("chipwire running") for e in entries)
    assert not [e for e in entries if e["logger"].startswith("apscheduler")]
