"""The real-text labelled set: the labels in the repo are well-formed and follow the rules
of enrich/realset/README.md (no article text, a fixed split, ids from URLs), and
`chipwire eval --real` scores a cache of excerpts."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from chipwire.cli import app
from enrich.eval import score_labelled
from enrich.realset import FRESH_FILES, LABELS_DIR, labelled_items, load_realset, split_of
from tests.conftest import SHARED

STANCES = {"restrict", "ease", "mixed", "none"}
ITEMS = list(labelled_items())


def test_the_set_has_the_size_and_mix_the_issue_asks_for() -> None:
    stances = [item["labels"]["stance"] for item in ITEMS]
    assert len(ITEMS) >= 300
    assert stances.count("ease") >= 60
    assert stances.count("none") >= 80
    assert sum(1 for item in ITEMS if item.get("lang") == "zh") >= 40


@pytest.mark.parametrize("item", ITEMS, ids=[item["id"] for item in ITEMS])
def test_an_item_carries_labels_and_no_article_text(item: dict[str, object]) -> None:
    labels = item["labels"]
    assert isinstance(labels, dict)
    url = str(item["url"])
    assert item["id"] == "rs-" + hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest()[:12]
    assert "text" not in item and "title" not in item
    assert len(str(item.get("paraphrase", "")).split()) <= 25 or item.get("lang") == "zh"
    assert labels["stance"] in STANCES
    assert isinstance(labels["relevant"], bool)
    assert (labels["acting_jurisdiction"] is None) == (labels["stance"] == "none")
    for field in ("chips", "companies", "agencies", "countries", "signals"):
        assert isinstance(labels.get(field, []), list)


def test_ids_are_unique() -> None:
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids))


@pytest.mark.skipif(
    not (SHARED / "tools" / "excluded_urls.py").exists(), reason="no URL exclusion list here"
)
def test_no_url_the_founders_reserve_is_used() -> None:
    urls = [str(item["url"]) for item in ITEMS]
    checked = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "excluded_urls.py"), *urls],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    excluded = [line for line in checked.stdout.splitlines() if not line.startswith("ok ")]
    assert not excluded


@given(st.text(min_size=1, max_size=40))
def test_the_split_is_a_pure_function_of_the_id(item_id: str) -> None:
    assert split_of(item_id) == split_of(item_id) in ("fit", "test")


def test_the_split_is_about_seventy_thirty() -> None:
    fit_share = sum(split_of(f"rs-{n:012x}") == "fit" for n in range(2000)) / 2000
    assert 0.66 < fit_share < 0.74


def write_set(labels: Path, cache: Path) -> None:
    """Two items of our own writing, in the real set's shape."""
    labels.mkdir()
    cache.mkdir()
    texts = {
        "rs-test00000001": (
            "Beijing approves first imports of Nvidia H200 chips\n"
            "The commerce ministry said on Monday it approved the first imports of the "
            "accelerators for three internet companies.",
            {
                "chips": ["H200"],
                "companies": ["Nvidia"],
                "agencies": ["CN:MOFCOM"],
                "countries": ["CN"],
                "stance": "ease",
                "acting_jurisdiction": "CN",
                "relevant": True,
                "signals": [],
            },
        ),
        "rs-test00000002": (
            "A chipmaker's quarterly revenue rose 12% on data-centre demand, it said.",
            {
                "chips": [],
                "companies": [],
                "agencies": [],
                "countries": [],
                "stance": "none",
                "acting_jurisdiction": None,
                "relevant": False,
                "signals": [],
            },
        ),
    }
    lines = []
    for item_id, (text, labels_of) in texts.items():
        (cache / f"{item_id}.txt").write_text(text, encoding="utf-8")
        lines.append(json.dumps({"id": item_id, "url": "", "lang": "en", "labels": labels_of}))
    (labels / "set.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_items_join_their_cached_excerpt_and_missing_ones_are_reported(tmp_path: Path) -> None:
    write_set(tmp_path / "labels", tmp_path / "cache")
    (tmp_path / "cache" / "rs-test00000002.txt").unlink()
    items, missing = load_realset(tmp_path / "cache", split="all", labels_dir=tmp_path / "labels")
    assert [i["id"] for i in items] == ["rs-test00000001"]
    assert missing == ["rs-test00000002"]
    report = score_labelled(items, real=True).to_json()
    assert report["stance_accuracy"] == 1.0
    assert report["stance_per_class"]["ease"]["recall"] == 1.0


def test_eval_real_scores_a_cache_from_the_command_line(tmp_path: Path) -> None:
    write_set(tmp_path / "labels", tmp_path / "cache")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--real",
            str(tmp_path / "cache"),
            "--labels",
            str(tmp_path / "labels"),
            "--split",
            "all",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["real-all"]
    assert report["items"] == 2
    assert report["offtopic_rejection"] == 1.0


def test_eval_real_shows_no_recall_for_a_class_the_set_does_not_label(tmp_path: Path) -> None:
    write_set(tmp_path / "labels", tmp_path / "cache")  # one ease item, one off-topic item
    result = CliRunner().invoke(
        app,
        [
            *("eval", "--real", str(tmp_path / "cache")),
            *("--labels", str(tmp_path / "labels"), "--split", "all"),
        ],
    )
    assert result.exit_code == 0, result.output
    shown = {
        line.split()[0]: line.split(None, 1)[1]
        for line in result.stdout.splitlines()
        if "_recall" in line
    }
    assert shown["mixed_recall"].startswith("-  (no mixed items labelled)")
    assert shown["ease_recall"] == "1.000"


def test_eval_real_json_stays_parseable_when_excerpts_are_missing(tmp_path: Path) -> None:
    write_set(tmp_path / "labels", tmp_path / "cache")
    (tmp_path / "cache" / "rs-test00000002.txt").unlink()
    result = CliRunner().invoke(
        app,
        [
            *("eval", "--real", str(tmp_path / "cache")),
            *("--labels", str(tmp_path / "labels"), "--split", "all", "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["real-all"]["items"] == 1
    assert "1 labelled items have no cached excerpt" in result.stderr


def test_eval_real_without_a_cache_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--real", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no cached excerpts" in result.output


def test_the_labels_directory_ships_its_readme() -> None:
    assert (LABELS_DIR / "README.md").is_file()


def test_a_page_in_both_real_sets_is_read_the_same_way_in_each() -> None:
    """The alert timelines and the real-text set label some of the same pages: a page's
    moves in a timeline are among its signals in the set, and a page the set calls no move
    has none in a timeline (one convention for both, DECISIONS.md)."""
    by_url = {item["url"]: item["labels"] for item in ITEMS}
    timelines = Path(__file__).resolve().parents[1] / "alerts" / "timelines"
    shared = 0
    for path in sorted(timelines.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["items"]:
            labels = by_url.get(entry.get("url"))
            if labels is None:
                continue
            shared += 1
            moves = {(m["subject"], m["jurisdiction"], m["direction"]) for m in entry["moves"]}
            signals = {(s["subject"], s["jurisdiction"], s["direction"]) for s in labels["signals"]}
            assert moves <= signals, (path.name, entry["id"], moves, signals)
            assert bool(moves) == (labels["stance"] != "none"), (path.name, entry["id"])
    assert shared >= 10


def test_fresh_event_files_are_never_fitted_and_scored_on_their_own(tmp_path: Path) -> None:
    labels, cache = tmp_path / "labels", tmp_path / "cache"
    write_set(labels, cache)
    fresh_name = sorted(FRESH_FILES)[0]
    (labels / "set.jsonl").rename(labels / fresh_name)
    ids = {"rs-test00000001", "rs-test00000002"}
    fresh, _ = load_realset(cache, split="fresh", labels_dir=labels)
    assert {i["id"] for i in fresh} == ids
    for split in ("fit", "test"):
        assert load_realset(cache, split=split, labels_dir=labels) == ([], [])
    assert {i["id"] for i in load_realset(cache, split="all", labels_dir=labels)[0]} == ids


@pytest.mark.parametrize("government", ["JP:GOV", "KR:GOV", "US:WH"])
def test_a_whole_government_is_not_scored_against_agencies_on_real_text(
    government: str,
) -> None:
    text = "The Japanese government said on Tuesday it will tighten export rules on chip tools."
    labels_of = {"agencies": [government], "stance": "restrict", "acting_jurisdiction": "JP"}
    item = {"id": "rs-test00000003", "text": text, "labels": labels_of}
    real = score_labelled([item], real=True).fields["agencies"]
    synthetic = score_labelled([item]).fields["agencies"]
    assert (real.tp, real.fp, real.fn) == (0, 0, 0)
    assert synthetic.tp + synthetic.fp + synthetic.fn > 0
