"""What adaptive polling and the sources commands cost.

    python bench/bench_sources.py [--quick]

1. Per successful poll: `parse_feed` of a 50-item RSS feed (A, what a poll costs today)
   against the same plus `cadence.after_success` (B: merge item dates, choose the
   interval), alternating A/B, --runs rounds of --reps each; medians and the ratio B/A.
2. `chipwire sources import` of a 1,000-outline OPML into a 1,000-source file (read_opml,
   validate, write), against loading that file as a crawl tick does (`load_all_sources`),
   alternating; medians and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, table, write_result
from chipwire.settings import Settings
from ingest import cadence, state
from ingest.feeds import parse_feed
from ingest.opml import read_opml, write_opml
from ingest.sources import Source, load_all_sources
from ingest.sources_file import SourcesFile


def rss(items: int) -> bytes:
    now = datetime.now(UTC)
    body = "".join(
        f"<item><title>Item {i}</title><link>https://wire.example.com/{i}</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=17 * i), usegmt=True)}</pubDate>"
        "<description>A short summary of the item.</description></item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><ttl>10</ttl>'
        f"{body}</channel></rss>"
    ).encode()


def timed(fn: Callable[[], object], reps: int) -> float:
    started = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - started) / reps


def alternate(a: Callable[[], object], b: Callable[[], object], runs: int, reps: int) -> tuple:
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(timed(a, reps))
        times_b.append(timed(b, reps))
    return statistics.median(times_a), statistics.median(times_b)


def poll_cost(runs: int, reps: int) -> dict[str, float]:
    body = rss(50)
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    bounds = cadence.bounds_of(Source(id="w", name="W", feed="https://w.example/"), settings)
    previous = state.FeedState("w")
    parsed = parse_feed(body, "https://wire.example.com/rss")
    previous = state.FeedState(
        "w",
        cadence=cadence.remember(previous.cadence, [i.published_at for i in parsed.items], 0, 0),
    )

    def parse_only() -> object:
        return parse_feed(body, "https://wire.example.com/rss")

    def parse_and_choose() -> object:
        feed = parse_feed(body, "https://wire.example.com/rss")
        dates = [i.published_at for i in feed.items]
        hints = cadence.feed_hints(feed.ttl_s, feed.update_period_s)
        return cadence.after_success(previous, dates, 1, hints, (), bounds, time.time())

    dates = [i.published_at for i in parsed.items]

    def choose_only() -> object:
        return cadence.after_success(previous, dates, 1, (), (), bounds, time.time())

    a, b = alternate(parse_only, parse_and_choose, runs, reps)
    alone = statistics.median(timed(choose_only, reps * 10) for _ in range(runs))
    return {
        "parse_ms": a * 1e3,
        "parse_and_cadence_ms": b * 1e3,
        "ratio": b / a,
        "cadence_alone_ms": alone * 1e3,
        "cadence_share_of_parse": alone / a,
    }


def import_cost(runs: int, feeds: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp())
    present = [
        Source(id=f"have-{i}", name=f"Have {i}", feed=f"https://have{i}.example.com/rss")
        for i in range(feeds)
    ]
    opml = write_opml(
        [
            Source(id=f"new-{i}", name=f"New {i}", feed=f"https://new{i}.example.org/f")
            for i in range(feeds)
        ]
    )
    base = "sources:\n" + "".join(
        f"  - id: {s.id}\n    name: {s.name}\n    feed: {s.feed}\n" for s in present
    )
    path = workdir / "sources.yaml"
    settings = Settings(data_dir=workdir, sources_file=path)

    def load() -> object:
        return load_all_sources(path)

    def import_all() -> object:
        path.write_text(base, encoding="utf-8")
        edited = SourcesFile.open(settings)
        imported = read_opml(opml, edited.sources())
        edited.add(*imported.added)
        edited.save()
        return imported

    path.write_text(base, encoding="utf-8")
    a, b = alternate(load, import_all, runs, 1)
    return {"load_s": a, "import_s": b, "ratio": b / a}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    poll = poll_cost(runs, 20 if args.quick else 200)
    imports = import_cost(runs, 100 if args.quick else 1000)
    print(
        table(
            ["measure", "A (median)", "B (median)", "B / A"],
            [
                [
                    "one poll of a 50-item feed: parse (A) vs parse + cadence (B)",
                    f"{poll['parse_ms']:.2f} ms",
                    f"{poll['parse_and_cadence_ms']:.2f} ms",
                    f"{poll['ratio']:.3f}",
                ],
                [
                    "the cadence step alone (B − parse), measured on its own",
                    "",
                    f"{poll['cadence_alone_ms']:.3f} ms",
                    f"{poll['cadence_share_of_parse']:.4f} of A",
                ],
                [
                    "1,000-source file: load (A) vs import 1,000 OPML outlines (B)",
                    f"{imports['load_s']:.2f} s",
                    f"{imports['import_s']:.2f} s",
                    f"{imports['ratio']:.1f}",
                ],
            ],
        )
    )
    print(write_result("sources", {"poll": poll, "import": imports, "machine": machine()}))


if __name__ == "__main__":
    main()
