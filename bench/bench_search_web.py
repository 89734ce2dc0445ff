"""Search latency through the web page's API at scale, against a bare tantivy query with
the same snippets and facets, in the same run.

Builds an embedded index of N synthetic articles (paragraphs re-mixed from chipwire's own
demo corpus, with invented tags, stances and dates over two years), starts `chipwire
serve` on it (a separate process, loopback), and for a fixed mix of searches times, in
rotation:

- bare:  tantivy alone — `searcher.search` top 20 with the count, a snippet generated for
         each hit, and the same terms + date-histogram aggregations (facets and weekly
         stance counts) the backend asks for; the tantivy query object is the one our
         query builder makes, so both sides search for exactly the same thing;
- api:   GET /api/search over HTTP (parse, search, snippets, facets, JSON);
- page:  GET / (the same search rendered as the analyst's HTML page);
- base:  with `--baseline-code DIR`, GET /api/search on a second server running another
         checkout's code (e.g. `git archive` of main unpacked in DIR), for a before/after
         in the same rotation.

    python bench/bench_search_web.py [--docs 100000] [--rounds 20] [--baseline-code DIR]
        [--quick]

Results: bench/results/search-web-<UTC>.json; the summary goes to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import common
import httpx
import tantivy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chipwire.contract import EnrichedArticle, EntityRef, SourceRef, Tags, article_id  # noqa: E402
from chipwire.demo.corpus import DEMO_ARTICLES  # noqa: E402
from index import query as q  # noqa: E402
from index.backend import SNIPPET_CHARS, SearchRequest  # noqa: E402
from index.tantivy_backend import FACET_AGGREGATIONS, TantivyBackend  # noqa: E402

CHIPS = ["H200", "H20", "B200", "MI308", "Ascend910"]
COMPANIES = ["nvidia", "amd", "asml", "huawei", "tsmc", "alibaba"]
AGENCIES = ["CN:GAC", "CN:MOFCOM", "US:BIS", "NL:MFA", "JP:METI"]
COUNTRIES = ["CN", "US", "NL", "JP", "KR", "TW"]
STANCES = ["restrict", "ease", "mixed", "none"]
OUTLETS = [f"Outlet {i}" for i in range(40)]
START = datetime(2024, 11, 4, tzinfo=UTC)  # two years, ending before today

# (API/page parameters, the same search as a SearchRequest)
SEARCHES: list[dict[str, Any]] = [
    {"query": "H200"},
    {"query": "H200 AND customs"},
    {"query": '"import approvals"'},
    {"query": "licen* AND NOT Huawei"},
    {"query": "customs", "stance": "restrict"},
    {"query": "", "chips": "H200", "sort": "newest"},
    {"query": "chip:H200 AND stance:ease", "since": "2026-01-01"},
    {"query": "export OR import", "countries": "CN"},
]


def synthetic(n: int, start: int = 0) -> list[EnrichedArticle]:
    """Articles number start .. start + n - 1 (the same numbers give the same articles)."""
    rng = random.Random(start)
    paragraphs = [p for a in DEMO_ARTICLES for p in a.paragraphs]
    titles = [a.title for a in DEMO_ARTICLES]
    found = []
    for i in range(start, start + n):
        chosen = rng.sample(paragraphs, 5)
        url = f"https://news.example/{i}"
        found.append(
            EnrichedArticle(
                id=article_id(url),
                story_id=f"story-{i // 3}",
                url=url,
                canonical_url=url,
                source=SourceRef(id=f"s{i % 40}", name=rng.choice(OUTLETS), feed=url),
                title=f"{rng.choice(titles)} ({i})",
                text="\n\n".join(chosen),
                summary=chosen[0][:200],
                published_at=START + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                fetched_at=START,
                tags=Tags(
                    chips=[EntityRef(id=c, name=c) for c in rng.sample(CHIPS, 2)],
                    companies=[EntityRef(id=c, name=c) for c in rng.sample(COMPANIES, 2)],
                    agencies=[EntityRef(id=a, name=a) for a in rng.sample(AGENCIES, 1)],
                    countries=[EntityRef(id=c, name=c) for c in rng.sample(COUNTRIES, 2)],
                ),
                stance=rng.choice(STANCES),  # type: ignore[arg-type]
                acting_jurisdiction=rng.choice(COUNTRIES),
                relevance=rng.random(),
            )
        )
    return found


def build_index(path: Path, n: int) -> float:
    started = time.perf_counter()
    backend = TantivyBackend(path, writer_heap=256_000_000, writer_threads=2)
    for first in range(0, n, 5000):
        backend.upsert(synthetic(min(5000, n - first), start=first))
        backend.commit()
    backend.close()
    return time.perf_counter() - started


def request_of(params: dict[str, Any]) -> SearchRequest:
    values: dict[str, Any] = {k: v for k, v in params.items() if k not in ("since",)}
    for key in ("chips", "countries", "stance"):
        if key in values:
            values[key] = [values[key]]
    if "since" in params:
        values["since"] = datetime.fromisoformat(params["since"]).replace(tzinfo=UTC)
    return SearchRequest(**values)


class Bare:
    """tantivy alone, doing what a search with snippets and facets needs."""

    def __init__(self, path: Path) -> None:
        self.backend = TantivyBackend(path)  # only for its schema, analyzer and query builder
        self.index = self.backend._index
        self.schema = self.backend._schema
        self.aggs = FACET_AGGREGATIONS  # the very aggregations the backend asks for

    def search(self, req: SearchRequest) -> int:
        query = self.backend._queries.build(req, q.parse_query(req.query))
        searcher = self.index.searcher()
        order: dict[str, Any] = {}
        if req.sort == "newest":
            order = {"order_by_field": "date", "order": tantivy.Order.Desc}
        result = searcher.search(query, limit=20, count=True, **order)
        snippets = tantivy.SnippetGenerator.create(searcher, query, self.schema, "text")
        snippets.set_max_num_chars(SNIPPET_CHARS)
        for _, address in result.hits:
            doc = searcher.doc(address)
            snippets.snippet_from_doc(doc).to_html()
            doc.to_dict()
        searcher.aggregate(query, self.aggs)
        return int(result.count or 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: Path, port: int, code: Path | None = None) -> subprocess.Popen[bytes]:
    """`chipwire serve` from this checkout, or from `code` (ahead of the installed one)."""
    env = {
        **os.environ,
        "CHIPWIRE_DATA_DIR": str(data_dir),
        "CHIPWIRE_HTTP_PORT": str(port),
        "CHIPWIRE_SEARCH": "tantivy",
        "CHIPWIRE_LOG_LEVEL": "WARNING",
    }
    if code is not None:
        env["PYTHONPATH"] = str(code.resolve())
    command = [sys.executable, "-m", "chipwire", "serve"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chipwire serve did not answer within 60 s")


def cpu_ms(pid: int) -> float:
    """CPU time of all of a process's threads so far (Linux schedstat, nanoseconds): the
    server's own work per request, which foreign load on the cores inflates far less than
    the wall clock."""
    tasks = Path(f"/proc/{pid}/task")
    total = 0
    for task in tasks.iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):  # a thread that just ended
            continue
    return total / 1e6


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep the data dir here (reused if present)")
    parser.add_argument(
        "--baseline-code", type=Path, help="another checkout whose API is timed as 'base'"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 documents, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.rounds = 2_000, 2
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="chipwire-bench-web-"))
    index_dir = data_dir / "index"
    build_s = None
    if not index_dir.exists():
        build_s = build_index(index_dir, args.docs)
        print(f"indexed {args.docs} documents in {build_s:.0f} s", flush=True)
    bare = Bare(index_dir)
    docs = int(bare.index.searcher().num_docs)
    port = free_port()
    proc = serve(data_dir, port)
    base_port = free_port()
    base_proc = serve(data_dir, base_port, args.baseline_code) if args.baseline_code else None
    times: dict[str, list[float]] = {"bare": [], "api": [], "page": []}
    if base_proc is not None:
        times["base"] = []
    server_cpu: dict[str, list[float]] = {"bare": [], "api": [], "base": []}
    totals = {}
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client,
            httpx.Client(base_url=f"http://127.0.0.1:{base_port}", timeout=30) as base,
        ):
            for warm in SEARCHES:  # first touch of each query's postings and fast fields
                bare.search(request_of(warm))
                client.get("/api/search", params=warm)
                client.get("/", params=warm)
                if base_proc is not None:
                    base.get("/api/search", params=warm)
            for round_no in range(args.rounds):
                for params in SEARCHES:
                    req = request_of(params)
                    started, cpu_before = time.perf_counter(), time.thread_time()
                    total = bare.search(req)
                    times["bare"].append((time.perf_counter() - started) * 1000)
                    server_cpu["bare"].append((time.thread_time() - cpu_before) * 1000)
                    # with a baseline, it and this checkout take turns going first
                    servers = [("api", client, proc)]
                    if base_proc is not None:
                        servers.append(("base", base, base_proc))
                    replies = {}
                    for name, server, process in servers[:: -1 if round_no % 2 else 1]:
                        cpu_before = cpu_ms(process.pid)
                        started = time.perf_counter()
                        replies[name] = server.get("/api/search", params=params)
                        times[name].append((time.perf_counter() - started) * 1000)
                        server_cpu[name].append(cpu_ms(process.pid) - cpu_before)
                    reply = replies["api"]
                    assert reply.status_code == 200 and reply.json()["total"] == total, params
                    if "base" in replies:
                        assert replies["base"].json() == reply.json(), params  # same answer
                    totals[params["query"] or str(params)] = total
                    started = time.perf_counter()
                    page = client.get("/", params=params)
                    times["page"].append((time.perf_counter() - started) * 1000)
                    assert page.status_code == 200, params
    finally:
        for server in (proc, base_proc):
            if server is not None:
                server.terminate()
                server.wait(timeout=15)
    summary = {k: percentiles(v) for k, v in times.items()}
    ratio = summary["api"]["p95"] / summary["bare"]["p95"]
    result = {
        "docs": docs,
        "rounds": args.rounds,
        "searches": SEARCHES,
        "totals": totals,
        "index_build_s": build_s,
        "latency_ms": summary,
        "api_over_bare_p95": round(ratio, 2),
        "api_over_bare_p50": round(summary["api"]["p50"] / summary["bare"]["p50"], 2),
        "cpu_ms_per_search": {  # bare: the bench's thread; api, base: the server process
            name: round(statistics.mean(v), 2) for name, v in server_cpu.items() if v
        },
    }
    if base_proc is not None:
        result["baseline_code"] = str(args.baseline_code)
        for stat in ("p50", "p95"):
            result[f"base_over_bare_{stat}"] = round(
                summary["base"][stat] / summary["bare"][stat], 2
            )
    path = common.write_result("search-web", result)
    print(
        f"{docs} docs: "
        + ", ".join(f"{k} p50 {v['p50']} ms p95 {v['p95']} ms" for k, v in summary.items())
    )
    print(f"CPU ms per search (mean): {result['cpu_ms_per_search']}")
    print(f"api / bare p95 = {ratio:.2f}, p50 = {result['api_over_bare_p50']:.2f}  ({path})")
    if base_proc is not None:
        p95, p50 = result["base_over_bare_p95"], result["base_over_bare_p50"]
        print(f"base / bare p95 = {p95:.2f}, p50 = {p50:.2f}")
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
