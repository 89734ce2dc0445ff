"""The article-extraction-benchmark pages (third-party, read from ../shared) and its metric.

The metric re-implements the benchmark's own: per page, counts of word 4-gram shingles
give tp/fp/fn normalised to sum to 1; precision and recall are averaged over pages and F1
is their harmonic mean; the ± is 1.96 standard deviations over bootstrap resamples.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import statistics
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "corpus" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def corpus_dir() -> Path | None:
    """Where the 181 pages live (CHIPWIRE_AEB_DIR overrides), or None when absent."""
    path = Path(os.environ.get("CHIPWIRE_AEB_DIR", DEFAULT_DIR))
    if (path / "ground-truth.json").is_file() and (path / "html").is_dir():
        return path
    return None


def missing_message() -> str:
    return (
        f"SKIPPED: the article-extraction-benchmark corpus is not at {DEFAULT_DIR} "
        "(set CHIPWIRE_AEB_DIR to its folder)"
    )


def load_pages(path: Path) -> dict[str, bytes]:
    """Raw page bytes keyed by the page's hash (the ground truth's key), sorted."""
    files = sorted((path / "html").glob("*.html.gz"))
    return {f.name.removesuffix(".html.gz"): gzip.decompress(f.read_bytes()) for f in files}


def load_truth(path: Path) -> dict[str, str]:
    data = json.loads((path / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: entry.get("articleBody", "") for key, entry in data.items()}


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def page_counts(true: str, pred: str) -> tuple[float, float, float]:
    t, p = _shingles(true), _shingles(pred)
    tp = sum(min(t[k], p[k]) for k in t.keys() | p.keys())
    fp = sum(max(0, p[k] - t[k]) for k in p)
    fn = sum(max(0, t[k] - p[k]) for k in t)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def _metrics(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def score(
    truth: dict[str, str], predicted: dict[str, str], bootstrap: int = 1000
) -> dict[str, float]:
    """Benchmark F1/P/R of `predicted` texts over every key of `truth` (missing = empty)."""
    keys = sorted(truth)
    counts = [page_counts(truth[k], predicted.get(k, "")) for k in keys]
    result = _metrics(counts)
    rng = random.Random(0)
    samples = [
        _metrics([counts[rng.randrange(len(counts))] for _ in counts]) for _ in range(bootstrap)
    ]
    for name in ("f1", "precision", "recall"):
        result[f"{name}_ci"] = 1.96 * statistics.stdev(s[name] for s in samples)
    result["pages"] = len(keys)
    result["missing"] = sum(1 for k in keys if not predicted.get(k))
    return result
