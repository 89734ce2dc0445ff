"""Event stories on real text: how the event rule groups the alert timelines' items.

    python bench/bench_stories.py [--cache ~/.cache/chipwire-realset/timeline] [--scale 20000]
                                  [--quick]

Each item of alerts/timelines/*.json (real news: the excerpts are read from the local
cache, never from the repo) becomes a raw article with the crawler's copy clustering,
is tagged by the real tagger and filed in an in-memory event store, in publication order
and again in reverse order (the events must not depend on it). The events found are
scored against the team's reading of which items report one event
(bench/stories/timeline_events.json): purity, inverse purity, pairwise precision/recall,
reference events split over several found events and found events that merge several.
Also the cost of filing one report, against tagging it, in the same run: on the
timelines' store, and on a store of `--scale` reports (the real reports repeated over
time, with new ids: a busier store with many reports per subject and window).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.timeline_file import DEFAULT_CACHE_DIR, Item, item_text, load_timeline  # noqa: E402
from bench.common import table, write_result  # noqa: E402
from chipwire.contract import EnrichedArticle, RawArticle, SourceRef, article_id  # noqa: E402
from enrich import event_store  # noqa: E402
from enrich.event_stories import report_of  # noqa: E402
from enrich.tag import tag_article  # noqa: E402
from ingest import dedupe  # noqa: E402

LABELS = ROOT / "bench" / "stories" / "timeline_events.json"
NEAR_DUPLICATE = 0.7  # the crawler's default threshold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--scale", type=int, default=20_000, help="reports in the big store")
    parser.add_argument("--quick", action="store_true", help="the demo timeline only")
    args = parser.parse_args()
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["timelines"]
    names = ["demo-h200"] if args.quick else sorted(labels)
    results: dict[str, Any] = {}
    tag_us: list[float] = []
    file_us: list[float] = []
    everything: list[EnrichedArticle] = []
    for name in names:
        timeline = load_timeline(ROOT / "alerts" / "timelines" / f"{name}.json")
        articles, item_of = _articles(timeline.items, args.cache.expanduser(), tag_us)
        forward, spent = _events(articles)
        file_us += spent
        everything += articles
        backward, _ = _events(list(reversed(articles)))
        found = {item_of[a]: e for a, e in forward.items()}
        result = score(labels[name]["events"], found)
        result["order_independent"] = forward == backward
        result["ambiguous"] = _ambiguous(labels[name].get("ambiguous", {}), found, labels[name])
        result["missing_text"] = len(timeline.items) - len(articles)
        results[name] = result
    print(_summary(results))
    scale = 500 if args.quick else args.scale
    big_us = _busy_store(everything, scale)
    cost = {
        "tag_us_median": round(statistics.median(tag_us)),
        "event_file_us_median": round(statistics.median(file_us)),
        "ratio": round(statistics.median(file_us) / statistics.median(tag_us), 3),
        "articles": len(file_us),
        "busy_store_reports": scale,
        "busy_store_file_us": {k: round(v) for k, v in _spread(big_us).items()},
        "busy_store_ratio": round(statistics.median(big_us) / statistics.median(tag_us), 3),
    }
    print(
        f"\nfiling a report: median {cost['event_file_us_median']} µs; tagging it: "
        f"{cost['tag_us_median']} µs (ratio {cost['ratio']}, {cost['articles']} articles); "
        f"in a store of {scale} reports: median {cost['busy_store_file_us']['median']} µs, "
        f"p95 {cost['busy_store_file_us']['p95']} µs (ratio {cost['busy_store_ratio']})"
    )
    path = write_result("stories", {"timelines": results, "cost": cost})
    print(f"written {path.relative_to(ROOT)}")
    return 0 if all(r["order_independent"] for r in results.values()) else 1


def _articles(
    items: list[Item], cache: Path, tag_us: list[float]
) -> tuple[list[EnrichedArticle], dict[str, str]]:
    copies = dedupe.NearDuplicates(NEAR_DUPLICATE)
    articles, item_of = [], {}
    for item in sorted(items, key=lambda i: (i.published_at, i.id)):
        text = item_text(item, cache)
        if text is None:
            continue
        aid = article_id(item.url)
        signature = dedupe.minhash(text)
        copy_id = copies.story_of(signature) or aid
        copies.add(aid, copy_id, signature)
        outlet = re.sub(r"[^a-z0-9]+", "-", item.outlet.lower()).strip("-") or "outlet"
        raw = RawArticle(
            id=aid,
            story_id=copy_id,
            url=item.url,
            canonical_url=item.url,
            source=SourceRef(id=outlet, name=item.outlet, feed=item.url, official=item.official),
            title=item.title or "",
            text=text,
            published_at=item.published_at,
            fetched_at=item.published_at,
        )
        started = time.perf_counter()
        articles.append(tag_article(raw))
        tag_us.append((time.perf_counter() - started) * 1e6)
        item_of[aid] = item.id
    return articles, item_of


def _events(articles: list[EnrichedArticle]) -> tuple[dict[str, str], list[float]]:
    conn = event_store.connect(Path(":memory:"))
    store = event_store.EventStore(conn)
    spent = []
    for article in articles:
        started = time.perf_counter()
        store.assign(report_of(article))
        spent.append((time.perf_counter() - started) * 1e6)
    events = store.events()
    conn.close()
    return events, spent


def _busy_store(articles: list[EnrichedArticle], size: int) -> list[float]:
    """Seconds to file each of the last 500 of `size` reports: the real reports repeated,
    each round shifted by two days (so windows overlap) under new ids."""
    conn = event_store.connect(Path(":memory:"))
    store = event_store.EventStore(conn)
    reports = [report_of(a) for a in sorted(articles, key=lambda a: a.published_at or a.fetched_at)]
    spent = []
    for n in range(size):
        base = reports[n % len(reports)]
        shift = timedelta(days=2 * (n // len(reports)))
        report = dataclasses.replace(
            base,
            article_id=f"{base.article_id}-{n}",
            copy_id=f"{base.copy_id}-{n // len(reports)}",
            published=base.published + shift,
        )
        started = time.perf_counter()
        store.assign(report, lambda _: "{}")
        if n >= size - 500:
            spent.append((time.perf_counter() - started) * 1e6)
    conn.close()
    return spent


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))]}


def score(reference: dict[str, list[str]], found: dict[str, str]) -> dict[str, Any]:
    """Clustering scores over the items both sides know (ambiguous items are left out)."""
    truth = {item: event for event, items in reference.items() for item in items if item in found}
    items = sorted(truth)
    clusters: dict[str, list[str]] = {}
    for item in items:
        clusters.setdefault(found[item], []).append(item)
    purity = sum(Counter(truth[i] for i in c).most_common(1)[0][1] for c in clusters.values())
    by_event: dict[str, list[str]] = {}
    for item in items:
        by_event.setdefault(truth[item], []).append(item)
    inverse = sum(Counter(found[i] for i in e).most_common(1)[0][1] for e in by_event.values())
    same_found = {p for p in combinations(items, 2) if found[p[0]] == found[p[1]]}
    same_truth = {p for p in combinations(items, 2) if truth[p[0]] == truth[p[1]]}
    both = len(same_found & same_truth)
    return {
        "items": len(items),
        "reference_events": len(by_event),
        "found_events": len(clusters),
        "purity": round(purity / len(items), 3) if items else 1.0,
        "inverse_purity": round(inverse / len(items), 3) if items else 1.0,
        "pair_precision": round(both / len(same_found), 3) if same_found else 1.0,
        "pair_recall": round(both / len(same_truth), 3) if same_truth else 1.0,
        "split": sorted(e for e, its in by_event.items() if len({found[i] for i in its}) > 1),
        "merged": sorted(
            "+".join(sorted({truth[i] for i in c}))
            for c in clusters.values()
            if len({truth[i] for i in c}) > 1
        ),
    }


def _ambiguous(
    ambiguous: dict[str, list[str]], found: dict[str, str], labels: dict[str, Any]
) -> dict[str, list[str]]:
    """Which reference events each round-up item landed with."""
    where = {}
    for item, _ in ambiguous.items():
        if item in found:
            mates = {i for i, e in found.items() if e == found[item] and i != item}
            where[item] = sorted(
                {ev for ev, its in labels["events"].items() for i in its if i in mates}
            )
    return where


def _summary(results: dict[str, Any]) -> str:
    rows = [
        [
            name,
            r["items"],
            r["reference_events"],
            r["found_events"],
            r["purity"],
            r["inverse_purity"],
            r["pair_precision"],
            r["pair_recall"],
            len(r["split"]),
            len(r["merged"]),
            "yes" if r["order_independent"] else "NO",
        ]
        for name, r in results.items()
    ]
    header = ["timeline", "items", "events (ref)", "events (found)", "purity", "inv. purity"]
    header += ["pair P", "pair R", "split", "merged", "order-free"]
    lines = [table(header, rows)]
    for name, r in results.items():
        for key in ("split", "merged"):
            if r[key]:
                lines.append(f"{name} {key}: {', '.join(r[key])}")
        for item, events in r["ambiguous"].items():
            lines.append(f"{name} round-up {item} joined: {', '.join(events) or 'nothing'}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
