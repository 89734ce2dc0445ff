"""Bare trafilatura over the benchmark pages in one process: pages/s and quality.

Three settings: the one a news pipeline needs (`bare_extraction(with_metadata=True,
include_comments=False, fast=True)`), the same for the text alone (what chipwire asks
for when the feed item gives title and date), and `extract()` with its defaults. Each runs one
cold pass, then `--runs` warm passes alternating with the other (A/B/A/B); the rate is
the median warm pass. Quality is the benchmark's 4-gram shingle F1 against the ground
truth of the 181 unmodified pages.

    python bench/bench_extract_baseline.py [--copies 1] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import aeb
import common
import trafilatura
from corpus_server import BenchPage, build_real_pages


def extract_fast_metadata(html: bytes) -> str:
    """The pipeline's setting: metadata on, comments off, no fallback extractors."""
    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, fast=True
    )
    return (document.text if document is not None else None) or ""


def extract_fast_text(html: bytes) -> str:
    """The text alone: what the pipeline asks for when the feed gives title and date."""
    document = trafilatura.bare_extraction(html, include_comments=False, fast=True)
    return (document.text if document is not None else None) or ""


def extract_defaults(html: bytes) -> str:
    return trafilatura.extract(html) or ""


VARIANTS: dict[str, Callable[[bytes], str]] = {
    "bare_extraction(with_metadata, no comments, fast)": extract_fast_metadata,
    "bare_extraction(no metadata, no comments, fast)": extract_fast_text,
    "extract() defaults": extract_defaults,
}


def one_pass(
    extract: Callable[[bytes], str], pages: Sequence[BenchPage]
) -> tuple[float, dict[str, str]]:
    """Seconds for one pass over every page, and the texts of the scored pages."""
    texts: dict[str, str] = {}
    started = time.perf_counter()
    for page in pages:
        text = extract(page.body)
        if page.scored:
            texts[page.source_key] = text
    return time.perf_counter() - started, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1, help="181-page copies (1: the originals)")
    parser.add_argument("--runs", type=int, default=3, help="warm passes per setting")
    parser.add_argument("--quick", action="store_true", help="one warm pass, no cold pass")
    args = parser.parse_args()
    corpus = aeb.corpus_dir()
    if corpus is None:
        print(aeb.missing_message())
        return
    runs = 1 if args.quick else args.runs
    pages = build_real_pages(args.copies)
    html_mb = sum(len(p.body) for p in pages) / 1e6
    truth = aeb.load_truth(corpus)

    cold: dict[str, float] = {}
    if not args.quick:
        for name, extract in VARIANTS.items():
            cold[name] = len(pages) / one_pass(extract, pages)[0]
    warm: dict[str, list[float]] = {name: [] for name in VARIANTS}
    texts: dict[str, dict[str, str]] = {}
    for _ in range(runs):
        for name, extract in VARIANTS.items():
            seconds, texts[name] = one_pass(extract, pages)
            warm[name].append(len(pages) / seconds)

    results = {}
    for name in VARIANTS:
        rate = common.spread(warm[name])
        results[name] = {
            "pages_per_s": rate,
            "cold_pages_per_s": cold.get(name),
            "ms_per_page": 1000 / rate["median"],
            "html_mb_per_s": html_mb * rate["median"] / len(pages),
            "quality": aeb.score(truth, texts[name]),
        }
    path = common.write_result(
        "extract_baseline",
        {"pages": len(pages), "html_mb": html_mb, "runs": runs, "variants": results},
    )
    note = " (quick: its one pass includes warm-up)" if args.quick else ""
    print(f"Bare trafilatura, one process, {len(pages)} pages ({html_mb:.1f} MB of HTML){note}\n")
    rows = []
    for name, r in results.items():
        q, rate = r["quality"], r["pages_per_s"]
        rows.append(
            [
                f"`{name}`",
                f"{rate['median']:.1f} ({rate['min']:.1f}–{rate['max']:.1f})",
                "–" if r["cold_pages_per_s"] is None else f"{r['cold_pages_per_s']:.1f}",
                f"{r['ms_per_page']:.1f}",
                f"{q['f1']:.3f} ± {q['f1_ci']:.3f}",
                f"{q['precision']:.2f} / {q['recall']:.2f}",
            ]
        )
    header = [
        "setting",
        "pages/s warm, median (range)",
        "cold pass",
        "ms/page",
        "F1 (181 pages)",
        "P / R",
    ]
    print(common.table(header, rows))
    print(f"\nresult: {path}")


if __name__ == "__main__":
    main()
