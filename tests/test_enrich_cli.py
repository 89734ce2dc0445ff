"""`chipwire tag` and `chipwire eval` as an analyst runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipwire.cli import app
from tests.conftest import SHARED

STORY = (
    "China's customs administration told agents this week that Nvidia's H200 is not "
    "permitted to enter the country, according to people briefed on the instruction.\n"
    "The U.S. had approved exports of the chip earlier this month."
)


def test_tag_json_prints_one_object_with_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    outcome = CliRunner().invoke(
        app, ["tag", str(path), "--json", "--title", "H200 held at border"]
    )
    assert outcome.exit_code == 0, outcome.output
    payload = json.loads(outcome.output)
    assert set(payload) == {
        "chips",
        "companies",
        "agencies",
        "countries",
        "signals",
        "stance",
        "acting_jurisdiction",
        "relevance",
    }
    assert payload["chips"] == [{"id": "H200", "name": "Nvidia H200"}]
    assert {"id": "CN:GAC", "name": "General Administration of Customs (China)"} in payload[
        "agencies"
    ]
    assert (payload["stance"], payload["acting_jurisdiction"]) == ("restrict", "CN")
    top = payload["signals"][0]
    assert (top["subject"], top["jurisdiction"], top["direction"]) == ("H200", "CN", "restrict")
    assert STORY[top["evidence_start"] : top["evidence_end"]] == top["evidence"]


def test_tag_reads_stdin_and_explains_its_decisions() -> None:
    outcome = CliRunner().invoke(app, ["tag", "-", "--explain"], input=STORY)
    assert outcome.exit_code == 0, outcome.output
    assert "'not permitted'" in outcome.output  # the cue, with its offsets below
    assert "[90:103]" in outcome.output.replace("\n", "") or "not permitted" in outcome.output
    assert "stance" in outcome.output and "outweighs" in outcome.output
    assert "restrict CN" in outcome.output


@pytest.mark.skipif(not (SHARED / "seeds" / "labels.json").exists(), reason="seeds not found")
def test_eval_seeds_json() -> None:
    outcome = CliRunner().invoke(app, ["eval", "--set", "seeds", "--json"])
    assert outcome.exit_code == 0, outcome.output
    seeds = json.loads(outcome.output)["seeds"]
    assert seeds["all_labels_found"] is True
    assert seeds["primary_right"] == seeds["seeds"] == 5


def test_eval_refuses_an_unknown_set() -> None:
    outcome = CliRunner().invoke(app, ["eval", "--set", "everything"])
    assert outcome.exit_code != 0


def _on_a_terminal(args: list[str]) -> str:
    """Run chipwire with stdout on a pseudo-terminal; everything it wrote there."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHIPWIRE_", "NO_COLOR"))}
    env |= {"TERM": "xterm-256color", "COLUMNS": "120"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwire", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.timeout(180)
def test_eval_shows_progress_on_a_terminal_only() -> None:
    shown = _on_a_terminal(["eval", "--set", "dev"])
    assert "scoring the dev set" in shown
    as_json = _on_a_terminal(["eval", "--set", "dev", "--json"])
    assert "scoring" not in as_json
    assert json.loads(as_json.replace("\r\n", "\n"))["dev"]["items"] > 0
    piped = CliRunner().invoke(app, ["eval", "--set", "dev"])
    assert piped.exit_code == 0 and "scoring" not in piped.output
