"""`chipwire search` over a real embedded index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chipwire.cli import app
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL, APPROVAL, CUSTOMS


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    backend = TantivyBackend(tmp_path / "data" / "index")
    backend.upsert(list(ALL))
    backend.commit()
    backend.close()
    return {
        "CHIPWIRE_DATA_DIR": str(tmp_path / "data"),
        "CHIPWIRE_CONFIG": str(tmp_path / "absent.toml"),
        "COLUMNS": "200",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["search", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_table_shows_hits_highlights_and_facets(env: dict[str, str]) -> None:
    code, out, _ = run(env, "H200", "--stance", "restrict")
    assert code == 0, out
    assert "Customs officers" in out and "Beijing" not in out
    assert "1 results, 1 shown" in out
    assert "chips: H200 (1)" in out


def test_json_output_is_the_search_response(env: dict[str, str]) -> None:
    code, out, _ = run(env, "chip:H200", "--json", "--newest", "--since", "2026-01-01")
    assert code == 0
    body = json.loads(out)
    assert [h["id"] for h in body["hits"]] == [APPROVAL.id, CUSTOMS.id]
    assert body["query"] == "chips:h200"


def test_filters_by_tags_and_dates(env: dict[str, str]) -> None:
    code, out, _ = run(
        env, "", "--agency", "CN:GAC", "--agency", "CN:MOFCOM", "--until", "2026-01-20", "--json"
    )
    assert code == 0
    assert [h["id"] for h in json.loads(out)["hits"]] == [CUSTOMS.id]


def test_bad_query_is_one_clear_line_and_exit_2(env: dict[str, str]) -> None:
    code, out, err = run(env, "(H200 OR customs")
    assert code == 2
    assert err.strip().splitlines() == ["error: bad query: a '(' is not closed"]
    assert out == ""


def test_bad_option_is_exit_2(env: dict[str, str]) -> None:
    code, _, err = run(env, "H200", "--stance", "angry")
    assert code == 2 and "stance" in err
    code, _, err = run(env, "H200", "--since", "last tuesday")
    assert code == 2 and "cannot read the date" in err
