"""What an installed chipwire needs ships in its wheel: `chipwire eval` scores the synthetic
sets from package data, run from a directory that is not a checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVALSET_FILES = ("devset.jsonl", "holdout.jsonl", "GUIDELINES.md", "baseline.json")


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # build from a copy: setuptools leaves build/ and *.egg-info next to the sources
    source = tmp_path_factory.mktemp("source") / "chipwire"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*cache", "tests", "bench"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("chipwire-*.whl")
    unpacked = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    return unpacked


def test_the_wheel_ships_the_eval_sets(wheel_dir: Path) -> None:
    for name in EVALSET_FILES:
        assert (wheel_dir / "enrich" / "evalsets" / name).is_file(), name


@pytest.mark.timeout(180)
def test_eval_runs_from_the_installed_package(wheel_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHIPWIRE_")}
    env |= {"PYTHONPATH": str(wheel_dir), "CHIPWIRE_CONFIG": str(tmp_path / "none.toml")}
    where = subprocess.run(
        [sys.executable, "-c", "import enrich.eval as e; print(e.EVALSETS)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(wheel_dir / "enrich" / "evalsets")
    done = subprocess.run(
        [sys.executable, "-m", "chipwire", "eval", "--set", "all", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert scores["dev"]["items"] > 0 and scores["holdout"]["items"] > 0
