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

from enrich.attribution import candidate_features
from enrich.decider import (
    CLASSES,
    MODEL_FILE,
    Move,
    StanceModel,
    allowed,
    load_model,
    stance_features,
)
from enrich.eval import EVALSETS, load_labelled
from enrich.fit import TRAINING_FILE, event_folds, fit, grouped_cv, load_rows
from enrich.framing import Frame
from enrich.stance import StanceDecision, Weighted
from enrich.tag import tag_text
from enrich.talk import talk_features
from enrich.wording import lead_of, load_wording, tokens, wording_features

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
    talk = talk_features([move], [frozenset()], frozenset())
    assert set(committed().features) <= set(features) | set(wording) | set(talk)


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


def test_the_stances_the_reading_leaves_open_travel_with_the_features() -> None:
    ban = Move(Weighted("restrict", "US", 2.0, True, True, True), "official", False, "tariff")
    features = stance_features([ban], Frame(), StanceDecision("restrict", "US"), 0.9, True)
    assert allowed(features) == ["restrict", "none"]
    approval = Move(Weighted("ease", "CN", 1.5, True, True, True), "official", False, "")
    both = stance_features([ban, approval], Frame(), StanceDecision("mixed", "US"), 0.9, True)
    assert allowed(both) == list(CLASSES)


@given(st.lists(st.sampled_from("abcdefgh"), min_size=5, max_size=40))
def test_event_folds_never_put_one_event_on_both_sides(groups: list[str]) -> None:
    folds = min(3, len(set(groups)))
    if folds < 2:
        return
    held = []
    for train, test in event_folds(groups, folds):
        assert not {groups[i] for i in train} & {groups[i] for i in test}
        held += test
    assert sorted(held) == list(range(len(groups)))


def test_the_grouped_cross_validation_figure_reproduces() -> None:
    """The figure `chipwire eval --fit` prints, on a few team-written texts standing in
    for the real set (its excerpts are not in the repo): every real row scored once, by
    models that never read its group, and the same figure on a second run."""
    dev = load_labelled(EVALSETS / "devset.jsonl")
    by_class = [[i for i in dev if i["labels"].get("stance", "none") == c][:9] for c in CLASSES]
    rows = []
    for n, item in enumerate(i for four in zip(*by_class, strict=True) for i in four):
        result = tag_text(item["text"], item.get("title", ""))
        rows.append(
            {
                "id": item["id"],
                "origin": "real" if n < 28 else "synthetic",  # 7 of each stance real
                "group": f"event-{n % 7}",
                "stance": item["labels"].get("stance", "none"),
                "jurisdiction": item["labels"].get("acting_jurisdiction"),
                "features": result.features,
                "candidates": candidate_features(
                    item["labels"].get("stance", "none"),
                    result.moves,
                    result.read_stance[1],
                    result.acting_jurisdiction,
                ),
                "lead": lead_of(item.get("title", ""), item["text"]),
            }
        )
    first = grouped_cv(rows, folds=3)
    assert first["items"] == 28 and first["groups"] == 7
    assert sum(first["confusion"].values()) == 28
    assert 0.0 <= first["stance"] <= 1.0
    # the acting government, scored on the same held-out articles
    assert first["jurisdiction"] is not None and 0.0 <= first["jurisdiction"] <= 1.0
    assert grouped_cv(rows, folds=3) == first


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Trump says chips will face 100% tariff, but firms building in America will be exempt",
            "President Trump said on Wednesday the United States would impose a tariff of about "
            "100 percent on imported semiconductors, while companies building factories in the "
            "country will be exempt from it.",
        ),
        (
            "U.S. sets 25% tariff on advanced AI chips, exempts data centres",
            "The White House on Wednesday imposed a 25 percent tariff on certain advanced "
            "computing chips. Chips imported for U.S. data centres, research and start-ups are "
            "exempt from the duty.",
        ),
        pytest.param(
            "Commerce caps AI chip exports to most countries, exempts close allies",
            "The Commerce Department on Monday issued a rule capping exports of advanced AI chips "
            "to about 120 countries and barring them for China, while 18 close allies are exempt "
            "from the caps.",
            marks=pytest.mark.xfail(
                strict=True,
                reason="known miss since the 3 December night refit: the fitted decider reads "
                "this carve-out story (cap, ban and allies' exemption in one sentence) as ease; "
                "the reading says mixed (docs/TAXONOMY.md, current figures)",
            ),
        ),
    ],
)
def test_a_restriction_that_spares_some_firms_or_uses_is_still_a_restriction(
    title: str, text: str
) -> None:
    """A measure's own carve-outs are its scope, not a second move (enrich/realset/README.md):
    the fitted decider reads the tariff with its exemption as restrict, not mixed."""
    result = tag_text(text, title)
    assert (result.stance, result.acting_jurisdiction) == ("restrict", "US")


def test_an_exemption_with_no_restriction_beside_it_is_the_grant_not_a_carve_out() -> None:
    """A carve-out spares someone from a measure read in the story; an exemption read alone
    is the move itself (plain easing), so the carve-out features stay at zero."""
    exempt = Move(
        Weighted("ease", "CN", 1.7, True, False, True), "official", False, "", carve_out=True
    )
    alone = stance_features([exempt], Frame(), StanceDecision("ease", "CN"), 0.9, True)
    assert alone["carve_out_up_front"] == alone["carve_out_news"] == 0.0
    assert alone["ease_up_front"] > 0.0
    tariff = Move(Weighted("restrict", "CN", 2.0, True, True, True), "official", False, "tariff")
    paired = stance_features([tariff, exempt], Frame(), StanceDecision("restrict", "CN"), 0.9, True)
    assert paired["carve_out_up_front"] > 0.0 and paired["carve_out_paired"] > 0.0


def test_the_kind_of_body_that_acts_is_a_feature() -> None:
    report = Move(
        Weighted("restrict", "US", 2.0, True, False, True), "reported", False, "", "US:CRS"
    )
    curb = Move(Weighted("restrict", "US", 2.0, True, False, True), "official", False, "", "US:BIS")
    features = stance_features([report, curb], Frame(), StanceDecision("restrict", "US"), 0.9, True)
    assert features["body_research"] == pytest.approx(0.5)
    assert features["body_court"] == 0.0
    alone = stance_features([curb], Frame(), StanceDecision("restrict", "US"), 0.9, True)
    assert alone["body_research"] == 0.0


def test_a_reaction_up_front_tells_the_direction_it_reacts_to() -> None:
    readings = [
        ("reaction", True, "ease"),
        ("reaction", False, "restrict"),
        ("signal", True, "ease"),
    ]
    features = stance_features([], Frame(), StanceDecision("none", None), 0.9, True, readings)
    assert features["reaction_ease_up_front"] > 0.0
    assert features["reaction_restrict_up_front"] == 0.0


def test_both_directions_in_the_headline_and_no_news_move_are_features() -> None:
    ban = Move(Weighted("restrict", "JP", 3.0, True, True, True), "official", False, "")
    grant = Move(Weighted("ease", "JP", 3.0, True, True, True), "official", False, "")
    both = stance_features([ban, grant], Frame(), StanceDecision("mixed", "JP"), 0.9, True)
    assert both["both_headline"] == 1.0 and both["no_news_move"] == 0.0
    recalled = Move(Weighted("restrict", "JP", 1.0, False, False, True), "official", True, "")
    only_background = stance_features([recalled], Frame(), StanceDecision("none", None), 0.9, True)
    assert only_background["no_news_move"] == 1.0 and only_background["both_headline"] == 0.0
