"""Every metric docs/OPERATIONS.md lists is on /metrics of a real `chipwire run` after a
small loopback crawl, with fetches counted and freshness observed per source; `serve`
exports the size of the index it serves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.loopback import LoopbackServer
from tests.smtp import free_port
from tests.test_e2e_process import ARTICLES, page, wait_for
from tests.test_shutdown import feed

ROOT = Path(__file__).resolve().parents[1]
SLUGS = ["customs-halt", "phone-launch"]


def documented_metrics() -> set[str]:
    text = (ROOT / "docs" / "OPERATIONS.md").read_text()
    section = text.split("## Metrics and health", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(chipwire_[a-z_]+)`", section))


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    for slug in SLUGS:
        server.add(f"/news/{slug}.html", page(*ARTICLES[slug]), Content_Type="text/html")
    feed(server, "/feed.xml", SLUGS)
    yield server
    server.close()


def scrape(port: int) -> str:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except httpx.HTTPError:
        return ""
    return answer.text if answer.status_code == 200 else ""


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.timeout(180)
def test_metrics_after_a_loopback_run_and_from_serve(
    tmp_path: Path, site: LoopbackServer, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - {{id: wire, name: Wire, feed: '{site.url('/feed.xml')}'}}\n"
    )
    (tmp_path / "chipwire.toml").write_text(
        f'data_dir = "{tmp_path / "data"}"\nsources_file = "{tmp_path / "sources.yaml"}"\n'
        "poll_interval_s = 60\nallow_private_addresses = true\nhost_min_interval_s = 0\n"
        f"extract_workers = 0\nhttp_port = {port}\nrespect_robots = true\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    env["CHIPWIRE_CONFIG"] = str(tmp_path / "chipwire.toml")
    log = tmp_path / "run.log"

    def start(command: str) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chipwire", command], env=env, stdout=out, stderr=out
            )
        request.addfinalizer(lambda: proc.poll() is None and (proc.kill(), proc.wait(30)))
        return proc

    run = start("run")

    def through(stage: str) -> bool:
        return (
            sample(scrape(port), f"chipwire_publish_to_{stage}_seconds_count", source="wire") == 2
        )

    # the index and alert stages consume independently: wait for both
    wait_for(
        lambda: through("alert") and through("indexed"),
        90,
        "both articles through the alert and index stages",
    )
    text = scrape(port)
    for name in sorted(documented_metrics()):
        assert f"# TYPE {name.removesuffix('_total')}" in text, f"{name} is not exported"
    assert sample(text, "chipwire_fetches_total", kind="feed", status="ok") == 1
    assert sample(text, "chipwire_fetches_total", kind="page", status="ok") == 2
    assert sample(text, "chipwire_fetches_total", kind="robots", status="http-404") >= 1
    assert sample(text, "chipwire_publish_to_indexed_seconds_count", source="wire") == 2
    # published in January 2026: more than a day old, less than a month… or older still
    day = sample(text, "chipwire_publish_to_indexed_seconds_bucket", source="wire", le="86400.0")
    assert day == 0
    assert sample(text, "chipwire_search_index_documents", backend="tantivy") == 2
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=30) == 0

    serve = start("serve")
    wait_for(lambda: scrape(port) != "", 30, "serve to answer")
    text = scrape(port)
    assert sample(text, "chipwire_search_index_documents", backend="tantivy") == 2
    assert "# TYPE chipwire_searches" in text and "# TYPE chipwire_search_seconds" in text
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    assert "Traceback" not in log.read_text()
