"""`chipwire index`: alone it still runs the index stage; `setup`, `stats` and `reindex`
manage the configured backend's index (here the embedded one, for real)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipwire.bus import ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.cli import app
from chipwire.events import publish
from index.tantivy_backend import TantivyBackend
from tests.test_e2e_process import wait_for
from tests.test_search_samples import ALL


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        "CHIPWIRE_CONFIG": str(tmp_path / "absent.toml"),
        "CHIPWIRE_HTTP_PORT": "0",
        "COLUMNS": "200",
    }


def chipwire(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


def enriched(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    bus = EmbeddedBus(data_dir / "log.sqlite")
    for article in ALL:
        publish(bus, ENRICHED_TOPIC, article, "enrich")
    bus.close()


def test_setup_then_stats_on_an_empty_index(env: dict[str, str]) -> None:
    code, out = chipwire(env, "index", "setup")
    assert code == 0, out
    assert "tantivy index at" in out and "is ready" in out
    code, out = chipwire(env, "index", "stats", "--json")
    assert code == 0, out
    stats = json.loads(out)
    assert stats["backend"] == "tantivy" and stats["documents"] == 0
    assert stats["names"] == [str(Path(env["CHIPWIRE_DATA_DIR"]) / "index")]


def test_stats_reports_documents_size_and_last_commit(env: dict[str, str]) -> None:
    backend = TantivyBackend(Path(env["CHIPWIRE_DATA_DIR"]) / "index")
    backend.upsert(list(ALL))
    backend.commit()
    backend.upsert([ALL[0]])  # an update: a deleted document until segments merge
    backend.commit()
    backend.close()
    code, out = chipwire(env, "index", "stats", "--json")
    assert code == 0, out
    stats = json.loads(out)
    assert stats["documents"] == len(ALL)
    assert stats["size_bytes"] > 10_000
    assert stats["last_commit"].startswith("20")
    assert stats["details"]["segments"] >= 1
    code, out = chipwire(env, "index", "stats")
    assert code == 0
    assert f"documents            {len(ALL)}" in out and "last commit" in out


def test_reindex_rebuilds_from_the_enriched_topic(env: dict[str, str]) -> None:
    data_dir = Path(env["CHIPWIRE_DATA_DIR"])
    enriched(data_dir)
    for command in (["index", "reindex"], ["reindex"]):  # the first spelling still works
        code, out = chipwire(env, *command)
        assert code == 0, out
        assert f"the index holds {len(ALL)} articles" in out
    assert len(list(data_dir.glob("index.old-*"))) >= 1


@pytest.mark.timeout(90)
def test_index_alone_still_runs_the_index_stage(tmp_path: Path, env: dict[str, str]) -> None:
    enriched(Path(env["CHIPWIRE_DATA_DIR"]))
    stage = subprocess.Popen(
        [sys.executable, "-m", "chipwire", "index"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reader = TantivyBackend(Path(env["CHIPWIRE_DATA_DIR"]) / "index")
        wait_for(lambda: reader.count() == len(ALL), 60, "the stage to index every article")
        reader.close()
        stage.send_signal(signal.SIGTERM)
        _, err = stage.communicate(timeout=30)
        assert stage.returncode == 0, err
        assert "stages=index" in err
    finally:
        if stage.poll() is None:
            stage.kill()
            stage.wait(30)
