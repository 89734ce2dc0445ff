"""Tagging throughput next to trafilatura extraction on the same pages, in one run.

The 181 benchmark pages are extracted once with the pipeline's trafilatura setting;
their texts are replicated with variations (paragraphs rotated, one policy sentence of
our own inserted at a varying place, the title changed) to `--copies` x 181 texts. Then
`--runs` rounds alternate: one extraction pass over the 181 pages, one tagging pass over
every text. Times are CPU seconds of this one process (other work on the machine does
not count against either side). Reported: median seconds per page extracted and per
text tagged, their ratio (the issue asks tagging < 10 % of extraction), texts/s per core
(one process = one core) and milliseconds per KB of text.

    python bench/bench_tagging.py [--copies 12] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import aeb
import common
import trafilatura

from enrich.tag import tag_text

# Our own sentences, inserted so that every copy carries some policy language.
POLICY_LINES = [
    "Officials in Beijing told customs agents that Nvidia's H200 is not permitted for now.",
    "The U.S. Commerce Department approved licences for H20 shipments to China on Monday.",
    "The Dutch government expanded licence requirements for ASML's immersion DUV tools.",
    "China's Ministry of Commerce opened an anti-dumping probe into U.S. analog chips.",
    "Analysts said Washington could ease curbs on the MI308 if talks go well.",
    "The company did not say whether the ban would affect its HBM3E orders.",
]


def extract(html: bytes) -> tuple[str, str]:
    """The pipeline's setting: metadata on, comments off, no fallback extractors."""
    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, fast=True
    )
    if document is None:
        return "", ""
    return document.title or "", document.text or ""


def variations(title: str, text: str, copies: int) -> list[tuple[str, str]]:
    paragraphs = [p for p in text.split("\n") if p.strip()] or [text]
    texts = []
    for copy in range(copies):
        shift = copy % len(paragraphs)
        rotated = paragraphs[shift:] + paragraphs[:shift]
        rotated.insert(copy % (len(rotated) + 1), POLICY_LINES[copy % len(POLICY_LINES)])
        texts.append((f"{title} ({copy})" if copy else title, "\n".join(rotated)))
    return texts


def extraction_pass(pages: Sequence[bytes]) -> float:
    started = time.process_time()
    for html in pages:
        extract(html)
    return time.process_time() - started


def tagging_pass(texts: Sequence[tuple[str, str]]) -> float:
    started = time.process_time()
    for title, text in texts:
        tag_text(text, title)
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=12, help="texts per extracted page")
    parser.add_argument("--runs", type=int, default=3, help="alternating rounds")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 copies, 1 round")
    args = parser.parse_args()
    copies, runs = (2, 1) if args.quick else (args.copies, args.runs)
    path = aeb.corpus_dir()
    if path is None:
        print(f"SKIPPED: {aeb.missing_message()}")
        return 0
    pages = list(aeb.load_pages(path).values())
    extracted = [extract(html) for html in pages]  # cold pass, also warms trafilatura
    texts = [v for title, text in extracted for v in variations(title, text, copies)]
    tag_text(texts[0][1], texts[0][0])  # builds the automaton once, outside the timing
    extract_s: list[float] = []
    tag_s: list[float] = []
    for _ in range(runs):
        extract_s.append(extraction_pass(pages) / len(pages))
        tag_s.append(tagging_pass(texts) / len(texts))
    per_page, per_text = statistics.median(extract_s), statistics.median(tag_s)
    kilobytes = sum(len(text.encode("utf-8")) for _, text in texts) / 1024 / len(texts)
    result = {
        "pages": len(pages),
        "texts": len(texts),
        "runs": runs,
        "mean_text_kb": round(kilobytes, 2),
        "extract_ms_per_page": common.spread([s * 1000 for s in extract_s]),
        "tag_ms_per_text": common.spread([s * 1000 for s in tag_s]),
        "tag_texts_per_s_per_core": round(1 / per_text, 1),
        "extract_pages_per_s_per_core": round(1 / per_page, 1),
        "tag_ms_per_kb": round(per_text * 1000 / kilobytes, 4),
        "tagging_cost_vs_extraction": round(per_text / per_page, 4),
    }
    saved = common.write_result("tagging", result)
    print(
        common.table(
            [
                "texts",
                "tag ms/text",
                "tag texts/s/core",
                "tag ms/KB",
                "extract ms/page",
                "tagging / extraction",
            ],
            [
                [
                    len(texts),
                    f"{per_text * 1000:.2f}",
                    result["tag_texts_per_s_per_core"],
                    result["tag_ms_per_kb"],
                    f"{per_page * 1000:.2f}",
                    f"{per_text / per_page:.1%}",
                ]
            ],
        )
    )
    print(f"saved {saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
