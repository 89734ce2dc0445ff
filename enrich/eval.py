"""Score the tagger against labelled texts (GUIDELINES.md) and the five seed articles.

Entity fields and signals are scored as sets per text, summed over texts (micro P/R/F1).
A signal counts when its confidence reaches SIGNAL_CONFIDENCE, as (subject,
jurisdiction, direction). Acting-jurisdiction accuracy is over texts whose gold stance is
not "none". Relevance is predicted true at RELEVANCE_THRESHOLD.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrich.tag import TagResult, tag_text

REPO = Path(__file__).resolve().parents[1]
# the synthetic labelled sets ship in the package, so `chipwire eval` works when installed
EVALSETS = Path(__file__).resolve().parent / "evalsets"
SEEDS = REPO.parent / "shared" / "seeds"
SIGNAL_CONFIDENCE = 0.5
RELEVANCE_THRESHOLD = 0.5
ENTITY_FIELDS = ("chips", "companies", "agencies", "countries")
STANCES = ("restrict", "ease", "mixed", "none")
# A whole government or "the administration" is not scored on real text either way: which
# of them a reader writes down for "Beijing said" is a matter of taste, not of reading.
# Every `<country>:GOV` id is one, whichever country the labels or the taxonomy add next.
WHOLE_GOVERNMENT_SUFFIX = ":GOV"
ADMINISTRATION = "US:WH"


def is_whole_government(agency_id: str) -> bool:
    return agency_id == ADMINISTRATION or agency_id.endswith(WHOLE_GOVERNMENT_SUFFIX)


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[Any], predicted: set[Any]) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    def scores(self) -> dict[str, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


@dataclass
class Report:
    items: int = 0
    fields: dict[str, Tally] = field(
        default_factory=lambda: {name: Tally() for name in (*ENTITY_FIELDS, "signals")}
    )
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    jurisdiction: list[bool] = field(default_factory=list)
    relevance: Counter[tuple[bool, bool]] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        gold_counts = Counter(gold for gold, _ in self.confusion.elements())
        correct = sum(n for (gold, pred), n in self.confusion.items() if gold == pred)
        tp = self.relevance[(True, True)]
        fp = self.relevance[(False, True)]
        fn = self.relevance[(True, False)]
        tn = self.relevance[(False, False)]
        return {
            "items": self.items,
            **{name: tally.scores() for name, tally in self.fields.items()},
            "stance_accuracy": _ratio(correct, self.items),
            "stance_confusion": {
                gold: {pred: self.confusion[(gold, pred)] for pred in STANCES} for gold in STANCES
            },
            "ease_recall": _ratio(self.confusion[("ease", "ease")], gold_counts["ease"]),
            "mixed_recall": _ratio(self.confusion[("mixed", "mixed")], gold_counts["mixed"]),
            "stance_per_class": {
                stance: {
                    "precision": _ratio(
                        self.confusion[(stance, stance)],
                        sum(self.confusion[(g, stance)] for g in STANCES),
                    ),
                    "recall": _ratio(self.confusion[(stance, stance)], gold_counts[stance]),
                    "support": gold_counts[stance],
                }
                for stance in STANCES
            },
            "acting_jurisdiction_accuracy": _ratio(sum(self.jurisdiction), len(self.jurisdiction)),
            "relevance_precision": _ratio(tp, tp + fp),
            "relevance_recall": _ratio(tp, tp + fn),
            "offtopic_rejection": _ratio(tn, tn + fp),
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """Labelled texts; a half-written last line (the file may still be growing) is skipped."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "text" in item and "labels" in item:
            items.append(item)
    return items


def predicted_signals(result: TagResult) -> set[tuple[str, str, str]]:
    return {
        (s.subject, s.jurisdiction, s.direction)
        for s in result.signals
        if s.confidence >= SIGNAL_CONFIDENCE
    }


def score_labelled(
    items: Iterable[dict[str, Any]], keep_errors: bool = False, *, real: bool = False
) -> Report:
    """`real`: score agencies without the whole-government ids (is_whole_government)."""
    report = Report()
    for item in items:
        labels = item["labels"]
        result = tag_text(item["text"], item.get("title", ""))
        report.items += 1
        predicted = _entity_sets(result)
        ignored = _whole_governments(labels, predicted) if real else frozenset()
        predicted["agencies"] -= ignored
        for name in ENTITY_FIELDS:
            gold = set(labels.get(name, [])) - (ignored if name == "agencies" else set())
            report.fields[name].add(gold, predicted[name])
        gold_signals = {
            (s["subject"], s["jurisdiction"], s["direction"]) for s in labels.get("signals", [])
        }
        report.fields["signals"].add(gold_signals, predicted_signals(result))
        gold_stance = labels.get("stance", "none")
        report.confusion[(gold_stance, result.stance)] += 1
        if gold_stance != "none":
            report.jurisdiction.append(
                result.acting_jurisdiction == labels.get("acting_jurisdiction")
            )
        gold_relevant = bool(labels.get("relevant", False))
        report.relevance[(gold_relevant, result.relevance >= RELEVANCE_THRESHOLD)] += 1
        if keep_errors:
            report.errors.extend(_errors(item, result, predicted, gold_signals, ignored))
    return report


def _whole_governments(labels: dict[str, Any], predicted: dict[str, set[str]]) -> frozenset[str]:
    named = set(labels.get("agencies", [])) | predicted["agencies"]
    return frozenset(agency for agency in named if is_whole_government(agency))


def _entity_sets(result: TagResult) -> dict[str, set[str]]:
    return {name: {e.id for e in getattr(result.tags, name)} for name in ENTITY_FIELDS}


def _errors(
    item: dict[str, Any],
    result: TagResult,
    predicted: dict[str, set[str]],
    gold_signals: set[tuple[str, str, str]],
    ignored: frozenset[str],
) -> list[dict[str, Any]]:
    labels = item["labels"]
    found: dict[str, Any] = {}
    for name in ENTITY_FIELDS:
        gold = set(labels.get(name, [])) - (ignored if name == "agencies" else set())
        if gold != predicted[name]:
            found[name] = {
                "missed": sorted(gold - predicted[name]),
                "extra": sorted(predicted[name] - gold),
            }
    signals = predicted_signals(result)
    if signals != gold_signals:
        found["signals"] = {
            "missed": sorted(gold_signals - signals),
            "extra": sorted(signals - gold_signals),
        }
    if labels.get("stance", "none") != result.stance:
        found["stance"] = {"gold": labels.get("stance"), "predicted": result.stance}
    if (
        labels.get("stance", "none") != "none"
        and labels.get("acting_jurisdiction") != result.acting_jurisdiction
    ):
        found["acting_jurisdiction"] = {
            "gold": labels.get("acting_jurisdiction"),
            "predicted": result.acting_jurisdiction,
        }
    if bool(labels.get("relevant")) != (result.relevance >= RELEVANCE_THRESHOLD):
        found["relevance"] = {"gold": labels.get("relevant"), "predicted": result.relevance}
    return [{"id": item.get("id"), **found}] if found else []


def score_seeds(seeds_dir: Path = SEEDS) -> dict[str, Any]:
    """Every seed label found (a floor) and each seed's primary stance and government."""
    labels = json.loads((seeds_dir / "labels.json").read_text(encoding="utf-8"))
    per_seed: dict[str, Any] = {}
    for name, gold in labels.items():
        if name.startswith("_"):
            continue
        result = tag_text((seeds_dir / name).read_text(encoding="utf-8"))
        predicted = _entity_sets(result)
        missing = {
            field_name: sorted(set(gold.get(field_name, [])) - predicted[field_name])
            for field_name in ENTITY_FIELDS
        }
        wanted = {(s["subject"], s["jurisdiction"], s["direction"]) for s in gold["signals"]}
        missing["signals"] = sorted(wanted - predicted_signals(result))
        primary = gold["primary"]
        per_seed[name] = {
            "missing": {k: v for k, v in missing.items() if v},
            "stance": result.stance,
            "acting_jurisdiction": result.acting_jurisdiction,
            "primary_right": result.stance == primary["direction"]
            and result.acting_jurisdiction == primary["jurisdiction"],
        }
    return {
        "seeds": len(per_seed),
        "all_labels_found": all(not s["missing"] for s in per_seed.values()),
        "primary_right": sum(s["primary_right"] for s in per_seed.values()),
        "per_seed": per_seed,
    }
