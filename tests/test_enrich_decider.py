"""The fitted stance decider: reproducible from the committed rows, the same decisions from
the weights file as from a fresh fit, and the rules' answer when no weights can be read.

The real-text excerpts are not in the repo (third-party text), so CI refits from the
committed feature rows (enrich/model/training.jsonl), which hold numbers and labels only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich.decider import (
    CLASSES,
    MODEL_FILE,
    Move,
    StanceModel,
    load_model,
    stance_features,
)
from enrich.fit import TRAINING_FILE, fit, load_rows
from enrich.framing import Frame
from enrich.stance import StanceDecision, Weighted
from enrich.tag import tag_text
from enrich.wording import load_wording, tokens, wording_features

pytest.importorskip("sklearn", reason="scikit-learn is a test extra (pip install -e '.[test]')")


def committed() -> StanceModel:
    model = load_model(MODEL_FILE)
    assert model is not None, f"{MODEL_FILE} is missing or unreadable"
    return model


def decisions(model: StanceModel, rows: list[dict[str, object]]) -> list[str]:
    out = []
    for row in rows:
        probabilities = model.probabilities(row["features"])  # type: ignore[arg-type]
        out.append(max(probabilities, key=lambda c: probabilities[c]))
    return out


def test_the_weights_file_is_what_fit_gives_on_the_committed_rows() -> None:
    rows = load_rows(TRAINING_FILE)
    refitted = fit(rows)
    model = committed()
    assert refitted.features == model.features
    assert decisions(refitted, rows) == decisions(model, rows)
    for mine, theirs in zip(refitted.coef, model.coef, strict=True):
        assert mine == pytest.approx(theirs, abs=1e-3)


def test_fitting_is_deterministic() -> None:
    rows = load_rows(TRAINING_FILE)
    assert fit(rows) == fit(rows)


def test_a_model_round_trips_through_json(tmp_path: Path) -> None:
    model = committed()
    path = tmp_path / "stance.json"
    path.write_text(json.dumps({"model": model.to_json()}), encoding="utf-8")
    assert load_model(path) == model


def test_an_unreadable_weights_file_means_no_model(tmp_path: Path) -> None:
    broken = tmp_path / "stance.json"
    broken.write_text("{not json", encoding="utf-8")
    assert load_model(broken) is None
    assert load_model(tmp_path / "absent.json") is None


def test_probabilities_cover_every_class() -> None:
    rows = load_rows(TRAINING_FILE)
    probabilities = committed().probabilities(rows[0]["features"])
    assert set(probabilities) == set(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0)


def test_features_are_named_and_come_from_the_reading() -> None:
    move = Move(Weighted("ease", "CN", 2.0, True, True, True), "official", False, "import_approval")
    rules = StanceDecision("ease", "CN")
    features = stance_features([move], Frame(), rules, 0.9, True)
    assert features["ease_headline"] == 1.0
    assert features["restrict_up_front"] == 0.0
    assert features["rules_ease"] == 1.0
    assert features["ease_official"] == 1.0
    wording = wording_features("Beijing approves chip imports", "The ministry approved them.")
    assert set(committed().features) <= set(features) | set(wording)


def test_the_wording_model_reads_a_lead_in_either_language() -> None:
    model = load_wording()
    assert model is not None
    for lead in ("Lawmakers urge Commerce to weigh new curbs", "海关总署暂停进口", ""):
        probabilities = model.probabilities(lead)
        assert set(probabilities) == set(CLASSES)
        assert sum(probabilities.values()) == pytest.approx(1.0)


@given(st.text(max_size=300))
def test_wording_tokens_never_fail_and_stay_lower_case(text: str) -> None:
    for token in tokens(text):
        assert token == token.lower() and token.strip() == token and token


def test_money_for_chipmakers_is_not_an_easing_of_trade() -> None:
    grant = Move(Weighted("ease", "US", 3.0, True, True, True), "official", False, "subsidy")
    features = stance_features([grant], Frame(), StanceDecision("ease", "US"), 0.9, True)
    assert features["ease_up_front"] == 0.0
    assert features["support_up_front"] > 0.0


def test_tag_text_exposes_the_features_the_decider_used() -> None:
    result = tag_text(
        "The commerce ministry said on Monday it approved the first imports of the "
        "accelerators for three internet companies.",
        "Beijing approves first imports of Nvidia H200 chips",
    )
    assert result.features["ease_headline"] == 1.0
    assert result.stance == "ease"
    assert result.acting_jurisdiction == "CN"
