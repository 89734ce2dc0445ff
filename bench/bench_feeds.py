"""Hostile 5 MB feeds: chipwire's feed path against bare feedparser, same bodies.

    python bench/bench_feeds.py [--quick]

Each body is parsed by `ingest.feeds.parse_feed` and by `feedparser.parse` (bare, on a
BytesIO), alternating, best of --runs; bare feedparser is cut off at --bare-limit seconds
per body (measured in a child process and killed when over).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from bench.common import machine, table, write_result
from chipwire.errors import Discard
from ingest.feeds import parse_feed

N = 5_000_000
HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
ITEM = b"<item><title>x</title><link>https://e.example/1</link></item>"


def bodies(size: int) -> dict[str, bytes]:
    return {
        "repeated DOCTYPE": b"<!DOCTYPE " * (size // 10),
        "DOCTYPE + [[[": b"<!DOCTYPE x [" + b"[" * size,
        "dummy DOCTYPE + entity bomb": b'<!DOCTYPE a>\n<!DOCTYPE r [\n<!ENTITY a "'
        + b"x" * 100_000
        + b'">\n]>\n<rss version="2.0"><channel><item><title>'
        + b"&a;" * ((size - 100_000) // 3)
        + b"</title><link>https://e.example/1</link></item></channel></rss>",
        "nested open tags": HEAD + b"<item>" * (size // 6),
        "angle brackets": HEAD + b"<" * size,
        "ampersands": HEAD + b"<item><title>" + b"&" * size,
        "valid, 89k items": HEAD + ITEM * (size // len(ITEM)) + b"</channel></rss>",
        "unclosed titles": b"<rss><channel>"
        + b"<item><title>x<link>https://e.example/1</link></item>" * (size // 50),
        "lone surrogate refs": HEAD
        + b"<item><title>"
        + b"&#xD800;" * (size // 8)
        + b"</title><link>https://e.example/1</link></item></channel></rss>",
    }


def ours(body: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        outcome = f"{len(parse_feed(body, 'https://e.example/feed').items)} items"
    except Discard as exc:
        outcome = f"refused ({exc.reason})"
    return time.perf_counter() - started, outcome


def _bare(body: bytes) -> None:
    import feedparser

    with contextlib.suppress(Exception):
        feedparser.parse(io.BytesIO(body))


def bare(body: bytes, limit_s: float) -> str:
    child = multiprocessing.get_context("fork").Process(target=_bare, args=(body,))
    started = time.perf_counter()
    child.start()
    child.join(limit_s)
    if child.is_alive():
        child.kill()
        child.join()
        return f"> {limit_s:.0f} s (killed)"
    return f"{time.perf_counter() - started:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bare-limit", type=float, default=60.0)
    args = parser.parse_args()
    size = 500_000 if args.quick else N
    rows = []
    for name, body in bodies(size).items():
        timings, outcome = [], ""
        for _ in range(1 if args.quick else args.runs):
            seconds, outcome = ours(body)
            timings.append(seconds)
        rows.append(
            [
                name,
                f"{len(body) / 1e6:.1f} MB",
                f"{min(timings):.2f} s",
                outcome,
                bare(body, 5.0 if args.quick else args.bare_limit),
            ]
        )
    header = ["body", "size", "chipwire (best)", "chipwire outcome", "bare feedparser"]
    print(table(header, rows))
    write_result("feeds", {"machine": machine(), "header": header, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
