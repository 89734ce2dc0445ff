"""Embedded search backend: indexing docs/s and query latency, against bare tantivy.

Documents are synthetic: paragraphs re-mixed from the texts trafilatura extracts from the
article-extraction-benchmark pages (extracted once, cached in bench/results/, which git
ignores: third-party text never enters the repository), with invented tags, stances and dates.

Indexing: our TantivyBackend (upsert = delete-then-add by id, tag/facet fields, stored
article) against bare tantivy `add_document` on the same three text fields, both in
batches of --batch (default 1,000, the indexer's `index_commit_docs`) with a commit per batch,
alternating A/B/A/B.
Queries: a fixed mix (terms, AND/NOT, phrases, fields, wildcards, filters) through
`search()` with snippets and facets, against bare `parse_query` + `search` top-20.

    python bench/bench_index.py [--docs 10000] [--runs 2] [--batch 1000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aeb
import common
import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipwire.contract import EnrichedArticle, EntityRef, SourceRef, Tags, article_id
from index.backend import SearchRequest
from index.tantivy_backend import TantivyBackend

CACHE = common.RESULTS / "index-bench-texts.json"
BATCH = 1000  # the indexer's size threshold (index_commit_docs)
CHIPS = ["H200", "H20", "B200", "MI308", "Ascend910"]
COMPANIES = ["nvidia", "amd", "asml", "huawei", "tsmc", "alibaba"]
AGENCIES = ["CN:GAC", "CN:MOFCOM", "US:BIS", "NL:MFA", "JP:METI"]
COUNTRIES = ["CN", "US", "NL", "JP", "KR", "TW"]
STANCES = ["restrict", "ease", "mixed", "none"]
QUERIES = [
    SearchRequest(query="government"),
    SearchRequest(query="market AND price"),
    SearchRequest(query="police AND NOT court"),
    SearchRequest(query='"last year"'),
    SearchRequest(query="title:election OR title:minister"),
    SearchRequest(query="chip:H200 AND company"),
    SearchRequest(query="econom*"),
    SearchRequest(query="report", stance=["restrict"], countries=["CN", "US"]),
    SearchRequest(query="", agencies=["US:BIS"], sort="newest"),
    SearchRequest(
        query="said", since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 6, 1, tzinfo=UTC)
    ),
]
BARE_QUERIES = [
    "government",
    "market AND price",
    "police AND court",
    '"last year"',
    "title:election OR title:minister",
    "company",
    "economy",
    "report",
    "agency",
    "said",
]


def texts() -> list[str]:
    """Article bodies extracted once with trafilatura, cached outside version control."""
    if CACHE.is_file():
        cached: list[str] = json.loads(CACHE.read_text(encoding="utf-8"))
        return cached
    import trafilatura

    folder = aeb.corpus_dir()
    if folder is None:
        raise SystemExit(aeb.missing_message())
    bodies = []
    for html in aeb.load_pages(folder).values():
        body = trafilatura.extract(html, include_comments=False, fast=True)
        if body and len(body) > 400:
            bodies.append(body)
    common.RESULTS.mkdir(exist_ok=True)
    CACHE.write_text(json.dumps(bodies), encoding="utf-8")
    return bodies


def synthetic(bodies: list[str], count: int, seed: int = 7) -> list[EnrichedArticle]:
    rng = random.Random(seed)
    paragraphs = [p for body in bodies for p in body.split("\n") if len(p) > 80]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = []
    for n in range(count):
        text = "\n".join(rng.sample(paragraphs, rng.randint(3, 8)))
        url = f"https://bench.example/a/{n}"
        docs.append(
            EnrichedArticle(
                id=article_id(url),
                story_id=f"s{n // 3}",
                url=url,
                canonical_url=url,
                source=SourceRef(id=f"src{n % 12}", name=f"Source {n % 12}", feed=url),
                title=text.split(".")[0][:120],
                text=text,
                summary=text[:300],
                language="en",
                published_at=start + timedelta(hours=rng.randint(0, 24 * 200)),
                fetched_at=start + timedelta(days=201),
                tags=Tags(
                    chips=_refs(rng, CHIPS, 2),
                    companies=_refs(rng, COMPANIES, 3),
                    agencies=_refs(rng, AGENCIES, 2),
                    countries=_refs(rng, COUNTRIES, 3),
                ),
                stance=rng.choice(STANCES),  # type: ignore[arg-type]
                acting_jurisdiction=rng.choice(COUNTRIES),
                relevance=round(rng.random(), 2),
            )
        )
    return docs


def _refs(rng: random.Random, pool: list[str], most: int) -> list[EntityRef]:
    return [EntityRef(id=i, name=i) for i in rng.sample(pool, rng.randint(0, most))]


def index_ours(docs: list[EnrichedArticle], path: Path, batch: int) -> float:
    backend = TantivyBackend(path)
    started = time.perf_counter()
    for i in range(0, len(docs), batch):
        backend.upsert(docs[i : i + batch])
        backend.commit()
    elapsed = time.perf_counter() - started
    assert backend.count() == len(docs)
    backend.close()
    return len(docs) / elapsed


def bare_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("title", "summary", "text"):
        builder.add_text_field(name, stored=True, tokenizer_name="en_stem")
    return builder.build()


def index_bare(docs: list[EnrichedArticle], path: Path, batch: int) -> float:
    index = tantivy.Index(bare_schema(), path=str(path))
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    started = time.perf_counter()
    for i in range(0, len(docs), batch):
        for doc in docs[i : i + batch]:
            writer.add_document(
                tantivy.Document(title=doc.title, summary=doc.summary, text=doc.text)
            )
        writer.commit()
    elapsed = time.perf_counter() - started
    writer.wait_merging_threads()
    return len(docs) / elapsed


def latencies_ours(path: Path, rounds: int, facets: bool = True) -> list[float]:
    backend = TantivyBackend(path)
    timings = []
    for _ in range(rounds):
        for req in QUERIES:
            started = time.perf_counter()
            backend.search(req.model_copy(update={"facets": facets}))
            timings.append((time.perf_counter() - started) * 1000)
    backend.close()
    return timings


def latencies_bare(path: Path, rounds: int) -> list[float]:
    index = tantivy.Index(bare_schema(), path=str(path))
    searcher = index.searcher()
    timings = []
    for _ in range(rounds):
        for text in BARE_QUERIES:
            started = time.perf_counter()
            query = index.parse_query(text, ["title", "summary", "text"])
            for _, address in searcher.search(query, 20).hits:
                searcher.doc(address)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2, help="A/B indexing rounds")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query mix")
    parser.add_argument("--batch", type=int, default=BATCH, help="documents per commit")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 docs, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.runs, args.rounds = 1000, 1, 3
    docs = synthetic(texts(), args.docs)
    ours, bare = [], []
    work = Path(tempfile.mkdtemp(prefix="chipwire-bench-index-"))
    try:
        for run in range(args.runs):
            for name, fn, rates in (("ours", index_ours, ours), ("bare", index_bare, bare)):
                target = work / f"{name}-{run}"
                shutil.rmtree(target, ignore_errors=True)
                target.mkdir()
                rates.append(fn(docs, target, args.batch))
                print(f"run {run} {name}: {rates[-1]:.0f} docs/s", flush=True)
        q_ours = latencies_ours(work / "ours-0", args.rounds)
        q_plain = latencies_ours(work / "ours-0", args.rounds, facets=False)
        q_bare = latencies_bare(work / "bare-0", args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "docs": args.docs,
        "batch": args.batch,
        "mean_text_chars": round(statistics.mean(len(d.text) for d in docs)),
        "index_docs_per_s": {"ours": common.spread(ours), "bare": common.spread(bare)},
        "index_ratio_ours_over_bare": statistics.median(ours) / statistics.median(bare),
        "query_ms": {
            "ours_with_snippets_and_facets": {"p50": pct(q_ours, 50), "p95": pct(q_ours, 95)},
            "ours_snippets_no_facets": {"p50": pct(q_plain, 50), "p95": pct(q_plain, 95)},
            "bare_top20": {"p50": pct(q_bare, 50), "p95": pct(q_bare, 95)},
        },
        "queries": len(q_ours),
        "peak_rss_mib": common.peak_rss_mib(),
    }
    path = common.write_result("bench_index", result)
    print(json.dumps(result, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
